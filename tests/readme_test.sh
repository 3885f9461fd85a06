#!/usr/bin/env bash
# The README's quick-start command, run as written: its last two lines must
# be the ones the README shows (simdjson's readme-examples idea).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
expected=$(awk '/The last lines it prints:/ {grab=1; next}
                grab && /^```$/ {if (inside) exit; inside=1; next}
                inside {print}' README.md)
[ -n "$expected" ] || { echo "README has no expected output block"; exit 1; }
rm -rf out/sample
lines=$(printf '%s\n' "$expected" | wc -l)
actual=$(scripts/run-sample 2>/dev/null | tail -n "$lines")
if [ "$actual" != "$expected" ]; then
  echo "README says:"; echo "$expected"; echo "scripts/run-sample printed:"; echo "$actual"
  exit 1
fi
echo "README quick start: output matches"
