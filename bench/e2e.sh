#!/usr/bin/env bash
# End-to-end throughput of `needle run`: wall time, MiB/s and docs/s of
# decompressed input, peak RSS, at each thread count, for a config with no
# stages and for the default one. Figures are printed, never asserted.
#
#   bench/e2e.sh [CORPUS_DIR]  CORPUS_DIR as is, read into output codecs none
#                              and zstd; without it a synthetic corpus of
#                              NEEDLE_BENCH_MB MiB, read as plain, gzip and
#                              zstd JSONL (built once under .cache/bench/)
#   bench/e2e.sh --rss-big     memory check: a 5120 MiB corpus, no stages,
#                              2 threads; peak RSS should not grow with input
#
# Environment (each has a default; --rss-big changes the defaults):
#   NEEDLE_BENCH_MB       synthetic corpus size, MiB (1024)
#   NEEDLE_BENCH_THREADS  thread counts; speedup is against the first ("1 2")
#   NEEDLE_BENCH_CONFIGS  configs: no-stage and/or default ("no-stage default")
#   NEEDLE_BENCH_IO       input>output codecs, each output codec at its
#                         default level or as codec:level ("jsonl>none
#                         jsonl>zstd gz>zstd zst>zstd"; e.g. "jsonl>zstd:3")
#   NEEDLE_BENCH_REPEAT   runs of each; the fastest is shown (1)
#   NEEDLE                the binary (build/tools/needle; scripts/build makes it)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
needle=${NEEDLE:-$root/build/tools/needle}
[[ -x $needle ]] || { echo "e2e: no $needle; run scripts/build" >&2; exit 1; }

corpus_arg=
if [[ ${1:-} == --rss-big ]]; then
  : "${NEEDLE_BENCH_MB:=5120}" "${NEEDLE_BENCH_THREADS:=2}"
  : "${NEEDLE_BENCH_CONFIGS:=no-stage}" "${NEEDLE_BENCH_IO:=jsonl>zstd}"
elif [[ $# -gt 0 ]]; then
  corpus_arg=$(cd "$1" && pwd)
  : "${NEEDLE_BENCH_IO:=dir>none dir>zstd}"
fi
mb=${NEEDLE_BENCH_MB:-1024}
read -ra threads <<<"${NEEDLE_BENCH_THREADS:-1 2}"
read -ra configs <<<"${NEEDLE_BENCH_CONFIGS:-no-stage default}"
read -ra ios <<<"${NEEDLE_BENCH_IO:-jsonl>none jsonl>zstd gz>zstd zst>zstd}"
repeat=${NEEDLE_BENCH_REPEAT:-1}

# The synthetic corpus: corpus-<mb>/{jsonl,gz,zst}/, each made once, into a
# .tmp folder renamed when complete. A new generator or sample rebuilds it.
corpus=$root/.cache/bench/corpus-$mb
if [[ -z $corpus_arg ]]; then
  key=$(cat "$root/bench/make-corpus.py" "$root/data/sample/.stamp" | sha256sum)
  if [[ $(cat "$corpus/key" 2>/dev/null) != "$key" ]]; then
    rm -rf "$corpus" && mkdir -p "$corpus" && echo "$key" >"$corpus/key"
  fi
  if [[ ! -d $corpus/jsonl ]]; then
    rm -rf "$corpus/jsonl.tmp"
    python3 "$root/bench/make-corpus.py" "$mb" 128 "$corpus/jsonl.tmp" \
      "$root"/data/sample/*.jsonl*
    mv "$corpus/jsonl.tmp" "$corpus/jsonl"
  fi
  gzip=gzip && command -v pigz >/dev/null && gzip=pigz
  for codec in gz zst; do
    [[ " ${ios[*]} " == *" $codec>"* && ! -d $corpus/$codec ]] || continue
    echo "e2e: compressing the corpus ($codec), once" >&2
    rm -rf "$corpus/$codec.tmp" && mkdir "$corpus/$codec.tmp"
    for f in "$corpus"/jsonl/*.jsonl; do
      dest=$corpus/$codec.tmp/$(basename "$f").$codec
      if [[ $codec == gz ]]; then "$gzip" -6 -c "$f" >"$dest"
      else zstd -3 -T0 -q -c "$f" >"$dest"; fi
    done
    mv "$corpus/$codec.tmp" "$corpus/$codec"
  done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/needle-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
timev=()
/usr/bin/time -v -o /dev/null true 2>/dev/null && timev=(/usr/bin/time -v -o "$work/time")
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# Waits (2 minutes at most) for a second in which the machine is idle: less
# than 0.1 core busy, in 1/100 s ticks. Shared machines are noisy.
settle() {
  local b i
  for ((i = 0; i < 120; i++)); do
    b=$(busy) && sleep 1
    (($(busy) - b < 10)) && return
  done
}

# One run into a fresh OUT; prints: bytes docs wall cpu rss time_rss other,
# where other is the CPU (in cores) that other processes used meanwhile.
measure() {  # DIR THREADS
  rm -rf "$work/out"
  local b0 b1 time_rss=-
  settle
  b0=$(busy)
  "${timev[@]}" "$needle" run --config "$work/config.toml" -o "$work/out" \
    --threads "$2" --quiet "$1"
  b1=$(busy)
  [[ ${#timev[@]} -gt 0 ]] &&
    time_rss=$(awk '/Maximum resident/ { printf "%.0f", $NF / 1024 }' "$work/time")
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c, t = d["counts"], d["timing"]
cpu = t["user_cpu_seconds"] + t["system_cpu_seconds"]
other = max(0, (int(sys.argv[3]) - int(sys.argv[2])) / 100 - cpu) / t["wall_seconds"]
print(c["bytes"], c["docs"], t["wall_seconds"], f"{cpu:.2f}",
      t["peak_rss_bytes"], sys.argv[4], f"{other:.2f}")' \
    "$work/out/run.json" "$b0" "$b1" "$time_rss"
  rm -rf "$work/out"
}

cpu() { grep -m1 "^$1" /proc/cpuinfo | cut -d: -f2 | xargs; }
echo "# needle e2e: $(date -u +%Y-%m-%d), $(nproc) cores, $(cpu 'model name')" \
  "(family $(cpu 'cpu family') model $(cpu 'model')), git" \
  "$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')," \
  "best of $repeat"
echo "# corpus: ${corpus_arg:-$corpus}; binary: $needle"
printf '%-8s %-12s %3s %7s %7s %7s %7s %7s %7s %7s %5s %7s\n' config input thr \
  'in MiB' 'wall s' 'cpu s' 'MiB/s' 'docs/s' 'RSS MiB' 'time -v' other speedup
for config in "${configs[@]}"; do
  for io in "${ios[@]}"; do
    input=${io%%>*} codec=${io#*>}
    dir=${corpus_arg:-$corpus/$input}
    find "$dir" -type f -exec cat {} + >/dev/null  # into the page cache
    {
      [[ $config == no-stage ]] && printf '[pipeline]\nstages = []\n'
      printf '[output]\ncodec = "%s"\n' "${codec%%:*}"
      if [[ $codec == *:* ]]; then printf 'level = %s\n' "${codec#*:}"; fi
    } >"$work/config.toml"
    for t in "${threads[@]}"; do
      best=
      for ((r = 0; r < repeat; r++)); do
        row=$(measure "$dir" "$t")
        [[ -z $best ]] || awk -v a="${row#* * }" -v b="${best#* * }" \
          'BEGIN { exit !(a + 0 < b + 0) }' && best=$row
      done
      read -r bytes docs wall cpu rss time_rss other <<<"$best"
      [[ $t == "${threads[0]}" ]] && base=$wall
      awk -v c="$config" -v io="$io" -v t="$t" -v b="$bytes" -v d="$docs" \
        -v w="$wall" -v cpu="$cpu" -v r="$rss" -v tr="$time_rss" \
        -v o="$other" -v base="$base" 'BEGIN { m = 1048576
        printf "%-8s %-12s %3d %7.0f %7.2f %7.2f %7.1f %7.0f %7.0f %7s %5.2f %6.2fx\n",
          c, io, t, b / m, w, cpu, b / m / w, d / w, r / m, tr, o, base / w }'
    done
  done
done
