#!/usr/bin/env bash
# The data-budget report of the sample-like fixture (tests/data/report/),
# drawn by headless Chromium through scripts/screenshot-report: the PNG must
# exist and show the charts (pixels of the supply line's blue and of the
# shortfall's red), not a blank page. Skipped (77) without chromium.
#   tests/report_screenshot_test.sh path/to/needle
set -euo pipefail
needle=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ ! -x /usr/lib/chromium/chromium ]] && ! command -v chromium >/dev/null; then
  echo "chromium is not installed (scripts/setup installs it): skipped"
  exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cp "$root/tests/data/report/run.json" "$out/run.json"
"$needle" budget --run "$out" --config "$root/tests/data/report/plan.toml" >/dev/null
"$root/scripts/screenshot-report" "$out/report.html" "$out/report.png" >/dev/null

python3 - "$out/report.png" <<'PY'
import struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, color, _, _, interlace = header
assert depth == 8 and color in (2, 6) and interlace == 0, header
channels = 3 if color == 2 else 4
stride = width * channels
raw = zlib.decompress(idat)
# Byte-wise sums of whole rows at once: the low 7 bits of each byte add
# without carrying into the next, and the top bit is the XOR of the tops.
low = int.from_bytes(b"\x7f" * stride, "big")
top = int.from_bytes(b"\x80" * stride, "big")
def add_rows(a, b):
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    return bytearray((((x & low) + (y & low)) ^ ((x ^ y) & top)).to_bytes(stride, "big"))

rows, previous, at = [], bytearray(stride), 0
for _ in range(height):  # undo the PNG row filters
    kind, row = raw[at], bytearray(raw[at + 1:at + 1 + stride])
    at += 1 + stride
    if kind == 2:
        row = add_rows(row, previous)
    elif kind in (1, 3, 4):
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            else:
                corner = previous[i - channels] if i >= channels else 0
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
    rows.append(bytes(row) if channels == 3 else bytes(b for i, b in enumerate(row) if i % 4 != 3))
    previous = row

inked = sum(width * 3 - row.count(255) for row in rows) / (width * height * 3)
colors = {"supply blue": bytes.fromhex("2e86c1"), "shortfall red": bytes.fromhex("c0392b")}
found = {name: sum(row.count(rgb) for row in rows) for name, rgb in colors.items()}
print(f"{width}x{height}: {inked:.1%} of the bytes inked, pixels {found}")
assert inked > 0.01, "the page is blank"
for name, count in found.items():
    assert count >= 20, f"no {name} pixels: a chart did not draw"
PY
