#!/usr/bin/env bash
# `needle tune` against a full `needle run` (issue 6 asks for under 5%):
# runs the sample config with every stage over INPUT (default: the bundled
# sample shards), then re-tiers the run with a stricter amateur threshold,
# first printing only the funnel, then rewriting tiers/ (--write), then a
# 9-point sweep. Wall and CPU seconds are printed, never asserted.
#
#   bench/tune.sh [INPUT...]
#   NEEDLE   the binary (build/tools/needle; scripts/build makes it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
needle=${NEEDLE:-$root/build/tools/needle}
[[ -x $needle ]] || { echo "tune: no $needle; run scripts/build" >&2; exit 1; }
cd "$root"
inputs=("$@")
[[ ${#inputs[@]} -gt 0 ]] || inputs=(data/sample)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs "$@" quietly; prints its wall and CPU (user + system) seconds. CPU
# seconds stay meaningful on a shared machine, where wall time waits for
# cores that other jobs hold.
measure() {
  local TIMEFORMAT='%R %U %S' times
  if ! times=$( { time "$@" >/dev/null 2>"$work/stderr"; } 2>&1); then
    cat "$work/stderr" >&2
    return 1
  fi
  echo "$times" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}

sed 's/amateur: quality_score >= 0.5/amateur: quality_score >= 0.8/' \
  configs/sample.toml >"$work/new.toml"
read -r run run_cpu < <(measure "$needle" run -q -c configs/sample.toml \
  -o "$work/out" "${inputs[@]}")
read -r tune tune_cpu < <(measure "$needle" tune --run "$work/out" \
  -c "$work/new.toml")
read -r write write_cpu < <(measure "$needle" tune --run "$work/out" \
  -c "$work/new.toml" --write)
read -r sweep sweep_cpu < <(measure "$needle" tune --run "$work/out" \
  -c "$work/new.toml" --sweep amateur.quality_score=0.1:0.9:0.1)
bytes=$(du -sb "$work/out/signals" | cut -f1)
docs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["docs"])' "$work/out/run.json")
printf '%-22s %8s %7s %8s %7s\n' "" "wall" "share" "cpu" "share"
printf '%-22s %7.3fs %7s %7.3fs\n' "needle run" "$run" "" "$run_cpu"
for row in "tune:$tune:$tune_cpu" "tune --write:$write:$write_cpu" \
  "tune --sweep (9):$sweep:$sweep_cpu"; do
  IFS=: read -r name wall cpu <<<"$row"
  printf '%-22s %7.3fs %6.1f%% %7.3fs %6.1f%%\n' "$name" "$wall" \
    "$(echo "100 * $wall / $run" | bc -l)" "$cpu" \
    "$(echo "100 * $cpu / $run_cpu" | bc -l)"
done
printf 'stored signals: %s bytes for %s documents (%.1f B/doc)\n' "$bytes" \
  "$docs" "$(echo "$bytes / $docs" | bc -l)"
