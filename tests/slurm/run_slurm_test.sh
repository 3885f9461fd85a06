#!/usr/bin/env bash
# Needle on a real Slurm cluster: a one-node cluster on localhost (munged,
# slurmctld and slurmd, 2 CPUs, no cgroups, no systemd), started in a
# private directory under /tmp and stopped at the end.
#
#  1. A run over data/sample/ submitted with --executor slurm ends
#     byte-identical to a local `needle run` (every file under kept/,
#     tiers/, rejected/, quarantine/, and run.json without its timings and
#     command); submitting it again submits nothing.
#  2. A second submission loses one annotate task to scancel mid-way;
#     `needle status` shows it failed, and submitting again runs only that
#     task and the steps after it, ending identical to the local run.
#
#   tests/slurm/run_slurm_test.sh [NEEDLE_BINARY]
#
# Installs slurm-wlm and munge with apt-get when they are missing (as root).
# Exits 77 (ctest's SKIP_RETURN_CODE) only when they are missing and cannot
# be installed; any other trouble fails the test.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
readonly root
needle=$(realpath "${1:-$root/build/tools/needle}")
readonly needle
readonly skip=77
cd "$root"

say() { echo "slurm test: $*"; }
fail() {
  echo "slurm test: FAILED: $*" >&2
  exit 1
}

# --- packages -------------------------------------------------------------------

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if ((EUID != 0)); then
    say "SKIP: slurm-wlm and munge are not installed and we are not root"
    exit "$skip"
  fi
  say "installing slurm-wlm and munge"
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends slurm-wlm munge; } >/tmp/needle-slurm-apt.log 2>&1; then
    tail -n 5 /tmp/needle-slurm-apt.log
    say "SKIP: apt-get could not install slurm-wlm and munge"
    exit "$skip"
  fi
fi
[[ -f data/sample/brown.jsonl ]] || fail "no data/sample/: run scripts/setup"

# --- a one-node cluster -----------------------------------------------------------

tmp=$(mktemp -d /tmp/needle-slurm.XXXXXX)
readonly tmp
chmod 755 "$tmp"
pids=()
stop_cluster() {
  local status=$?
  squeue --noheader --me --format=%i 2>/dev/null | xargs -r scancel 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if ((status != 0 && status != skip)); then
    for log in "$tmp"/log/*.log; do
      echo "--- $log"
      tail -n 15 "$log"
    done
    echo "slurm test: everything is kept in $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap stop_cluster EXIT

mkdir -p "$tmp"/{munge,state,spool,log}
chmod 700 "$tmp/munge"
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --foreground --socket="$tmp/munge/socket" \
  --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/pid" \
  --seed-file="$tmp/munge/seed" --log-file="$tmp/log/munged.log" \
  >>"$tmp/log/munged.log" 2>&1 &
pids+=($!)

# Ports of our own, so that nothing else listening gets in the way.
port=$((20000 + RANDOM % 20000))
export SLURM_CONF=$tmp/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=needle
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
# No cgroups (no systemd here): processes are tracked by parentage.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=localhost CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
for _ in $(seq 50); do [[ -S $tmp/munge/socket ]] && break; sleep 0.1; done
slurmctld -D -i >>"$tmp/log/slurmctld.log" 2>&1 &
pids+=($!)
slurmd -D -N localhost >>"$tmp/log/slurmd.log" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  [[ $(sinfo --noheader --format=%T 2>/dev/null) == idle ]] && break
  sleep 0.5
done
[[ $(sinfo --noheader --format=%T 2>/dev/null) == idle ]] ||
  fail "the node did not come up: $(sinfo 2>&1 | tail -n 2)"
say "cluster up: slurmctld on port $port, node localhost with 2 CPUs"

# --- helpers ----------------------------------------------------------------------

# The run's config: the sample's, with tiers (and so dedup's and the tiers'
# steps) and zstd level 19, slow enough that an annotate task lasts seconds
# and can be cancelled mid-way.
config=$tmp/run.toml
sed -e '/^level *=/d' -e 's/^\[output\]$/[output]\nlevel = 19/' \
  configs/sample.toml >"$config"
grep -q '^\[tiers\]' "$config" || printf '\n[tiers]\nenabled = true\n' >>"$config"
resolved=$("$needle" config show "$config")
# The value of KEY in [SECTION] of the resolved config.
value() {
  awk -v section="[$1]" -v key="$2" '$0 == section { inside = 1; next }
    /^\[/ { inside = 0 } inside && $1 == key && $2 == "=" { print $3; exit }' \
    <<<"$resolved"
}
[[ $(value output level) == 19 && $(value dedup enabled) == true &&
  $(value tiers enabled) == true ]] ||
  fail "$config needs [output] level = 19, [dedup] and [tiers] enabled"

# Every output file, and run.json without what differs between any two runs
# (timings, the command line; with --no-resumed also the resumed flags).
compare() {
  python3 - "$@" <<'EOF'
import filecmp, json, os, sys
expected, actual = sys.argv[1], sys.argv[2]
ignored = {"command", "timing", "cpu_seconds"}
if "--no-resumed" in sys.argv:
    ignored.add("resumed")
def files(root):
    found = set()
    for top in ("kept", "tiers", "rejected", "quarantine"):
        for folder, _, names in os.walk(os.path.join(root, top)):
            for name in names:
                path = os.path.relpath(os.path.join(folder, name), root)
                if not path.startswith("tiers/done/"):  # markers
                    found.add(path)
    return found
def stripped(value):
    if isinstance(value, dict):
        return {k: stripped(v) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [stripped(v) for v in value]
    return value
a, b = files(expected), files(actual)
differ = sorted(a ^ b) + [p for p in sorted(a & b) if not filecmp.cmp(
    os.path.join(expected, p), os.path.join(actual, p), shallow=False)]
with open(os.path.join(expected, "run.json")) as e, \
     open(os.path.join(actual, "run.json")) as f:
    if stripped(json.load(e)) != stripped(json.load(f)):
        differ.append("run.json")
if differ or not a:
    sys.exit("differ from the local run: %s" % (differ or "no files"))
print("%d files and run.json identical to the local run's" % len(a))
EOF
}

all_done() { grep -Eq '^needle: ([0-9]+) of \1 tasks done' <<<"$1"; }

# Waits until `needle status OUT` counts every task done; fails when a task
# failed or nothing is queued any more.
wait_done() {
  local out=$1 status
  for _ in $(seq 600); do
    status=$("$needle" status "$out")
    all_done "$status" && return 0
    if ! grep -q '^failed:' <<<"$status" &&
      [[ -n $(squeue --noheader --me --format=%i) ]]; then
      sleep 1
      continue
    fi
    status=$("$needle" status "$out") # the last job may have just ended
    all_done "$status" && return 0
    echo "$status"
    fail "the run in $out stopped before it was done"
  done
  echo "$status"
  fail "the run in $out was not done after 10 minutes"
}

submit() {
  "$needle" run --executor slurm --config "$config" -o "$1" \
    --cpus-per-task 1 --mem 500M --time 10:00 --max-retries 1 data/sample
}

started=$SECONDS

# --- 1. the local run, and the same run through Slurm -----------------------------

"$needle" run --quiet --config "$config" -o "$tmp/local" --threads 2 data/sample
say "local run: $((SECONDS - started)) s"

mark=$SECONDS
submit "$tmp/slurm1"
wait_done "$tmp/slurm1"
say "Slurm run: $((SECONDS - mark)) s"
"$needle" status "$tmp/slurm1"
compare "$tmp/local" "$tmp/slurm1"

again=$(submit "$tmp/slurm1")
[[ $again == *"nothing to submit"* ]] || fail "a done run was submitted again: $again"
say "submitting the done run again submits nothing"

# --- 2. one task cancelled mid-way, then the same command again -------------------

mark=$SECONDS
submitted=$(submit "$tmp/slurm2")
echo "$submitted"
annotate_job=$(awk '$2 == "annotate" { print $4 }' <<<"$submitted" | tr -d ,)
[[ -n $annotate_job ]] || fail "no annotate job in: $submitted"

# Task 0 is brown.jsonl, the largest shard: cancel it once it is writing.
task=${annotate_job}_0
for _ in $(seq 300); do
  [[ $(squeue --noheader --jobs="$task" --format=%T 2>/dev/null) == RUNNING &&
    -n $(find "$tmp/slurm2/staged" -name 'brown*.tmp' 2>/dev/null) ]] && break
  sleep 0.1
done
[[ $(squeue --noheader --jobs="$task" --format=%T) == RUNNING ]] ||
  fail "task $task never ran"
scancel "$task"
say "cancelled annotate task $task mid-way"
for _ in $(seq 120); do
  [[ -z $(squeue --noheader --me --format=%i) ]] && break
  sleep 1
done
[[ -z $(squeue --noheader --me --format=%i) ]] || fail "jobs still queued"
[[ ! -e $tmp/slurm2/done/brown.json ]] || fail "task $task finished before the scancel"
status=$("$needle" status "$tmp/slurm2")
echo "$status"
grep -q "^failed: annotate task 0 (brown.jsonl) (job $task): cancelled" <<<"$status" ||
  fail "status does not show the cancelled task"
grep -Eq '^annotate +3 +2 +0 +1 +0$' <<<"$status" ||
  fail "status does not count 2 annotate tasks done, 1 failed"

resubmitted=$(submit "$tmp/slurm2")
echo "$resubmitted"
grep -Eq '^needle: annotate +job [0-9]+, tasks 0: ' <<<"$resubmitted" ||
  fail "the re-submission did not submit only annotate task 0"
wait_done "$tmp/slurm2"
say "cancelled and re-submitted run: $((SECONDS - mark)) s"
compare "$tmp/local" "$tmp/slurm2" --no-resumed
resumed=$(python3 -c 'import json, sys
print(" ".join(str(i["resumed"]).lower() for i in json.load(open(sys.argv[1]))["inputs"]))' \
  "$tmp/slurm2/run.json")
[[ $resumed == "false true true" ]] ||
  fail "run.json resumed flags are '$resumed', expected 'false true true'"
say "passed in $((SECONDS - started)) s"
