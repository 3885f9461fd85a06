#!/usr/bin/env bash
# Whole-run deduplication on a corpus of N documents (default 1,000,000):
# wall time, peak RSS, key bytes per document, spilled bytes; once with the
# default memory limit and once with a limit far below the index size, so
# the spill path runs. Figures are printed, never asserted.
#   bench/dedup.sh [N]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
n=${1:-1000000}
corpus=$root/.cache/bench/dedup-$n
needle=$root/build/tools/needle
[ -d "$corpus" ] || "$root/bench/make-dedup-corpus.py" "$n" "$corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-22s %8s %8s %10s %9s %10s %12s %12s\n' limit docs removed wall_s peak_MB keyB/doc spilled_MB mem_over_keys
for limit in 4294967296 16777216; do
  cat >"$work/dedup.toml" <<TOML
[pipeline]
stages = []
[output]
level = 1
[dedup]
enabled = true
memory_limit_bytes = $limit
TOML
  rm -rf "$work/out"
  "$needle" run --quiet -c "$work/dedup.toml" -o "$work/out" "$corpus"
  python3 - "$work/out/run.json" "$limit" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
c, d, t = run["counts"], run["dedup"], run["timing"]
removed = c["reasons"].get("exact_duplicate", 0) + c["reasons"].get("near_duplicate", 0)
index_mb = d["key_bytes_per_document"] * d["documents"] / 1e6
print(f'{int(sys.argv[2]):<22} {c["docs"]:>8} {removed:>8} {t["wall_seconds"]:>10.1f} '
      f'{t["peak_rss_bytes"]/1e6:>9.0f} {d["key_bytes_per_document"]:>10.1f} '
      f'{d["spilled_bytes"]/1e6:>12.1f} {t["peak_rss_bytes"]/1e6/index_mb:>12.2f}')
PY
done
