#!/usr/bin/env bash
# Needle's rule stages against datatrove's filters (issue 4 asks for 99%
# agreement): runs `needle run` over INPUT five times, once with the four
# rule stages in a row (bench/datatrove_agreement.toml) and once with each
# stage alone, so that every filter judges every document, and compares each
# run with datatrove through bench/datatrove_agreement.py (its header says
# how). Prints the five reports, one after the other; the runs use one
# thread and are deleted afterwards.
#
#   bench/datatrove_agreement.sh [--signals] INPUT...
#   NEEDLE         the binary (build/tools/needle; scripts/build makes it)
#   DATATROVE_SRC  the folder holding datatrove's `datatrove` package, when
#                  it is not installed (a checkout's src/)
#   --signals      also compare every signal value, not only keep/drop
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
needle=${NEEDLE:-$root/build/tools/needle}
[[ -x $needle ]] || { echo "datatrove_agreement: no $needle; run scripts/build" >&2; exit 1; }
flags=()
[[ ${1:-} == --signals ]] && { flags+=(--signals); shift; }
[[ -n ${DATATROVE_SRC:-} ]] && flags+=(--datatrove-src "$DATATROVE_SRC")
(($# > 0)) || { echo "usage: datatrove_agreement.sh [--signals] INPUT..." >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

compare() {  # CONFIG INPUT...: one needle run, then its comparison
  local config=$1
  shift
  echo "### $(grep '^stages' "$config")"
  "$needle" run -q -t 1 -c "$config" -o "$work/out" "$@"
  "$root/bench/datatrove_agreement.py" --needle-run "$work/out" "${flags[@]}" "$@"
  rm -rf "$work/out"
  echo
}

compare "$root/bench/datatrove_agreement.toml" "$@"
for stage in gopher_quality gopher_repetition c4 fineweb; do
  printf '[pipeline]\nstages = ["%s"]\n\n[output]\nwrite_rejected = true\n' "$stage" \
    >"$work/$stage.toml"
  compare "$work/$stage.toml" "$@"
done
