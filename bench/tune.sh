#!/usr/bin/env bash
# `needle tune` against a full `needle run` (issue 6 asks for under 5%):
# runs the sample config with every stage over INPUT (default: the bundled
# sample shards), then re-tiers the run with a stricter amateur threshold,
# first printing only the funnel, then rewriting tiers/ (--write), then a
# 9-point sweep. Wall seconds are printed, never asserted.
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

seconds() {  # runs "$@" quietly, prints its wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

sed 's/amateur: quality_score >= 0.5/amateur: quality_score >= 0.8/' \
  configs/sample.toml >"$work/new.toml"
run=$(seconds "$needle" run -q -c configs/sample.toml -o "$work/out" "${inputs[@]}")
tune=$(seconds "$needle" tune --run "$work/out" -c "$work/new.toml")
write=$(seconds "$needle" tune --run "$work/out" -c "$work/new.toml" --write)
sweep=$(seconds "$needle" tune --run "$work/out" -c "$work/new.toml" \
  --sweep amateur.quality_score=0.1:0.9:0.1)
bytes=$(du -sb "$work/out/signals" | cut -f1)
docs=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["docs"])' "$work/out/run.json")
printf '%-22s %8.3f s\n' "needle run" "$run"
for row in "tune:$tune" "tune --write:$write" "tune --sweep (9):$sweep"; do
  printf '%-22s %8.3f s  %5.1f%% of the run\n' "${row%%:*}" "${row#*:}" \
    "$(echo "100 * ${row#*:} / $run" | bc -l)"
done
printf 'stored signals: %s bytes for %s documents (%.1f B/doc)\n' "$bytes" \
  "$docs" "$(echo "$bytes / $docs" | bc -l)"
