#!/usr/bin/env python3
"""Builds the synthetic benchmark corpus: real text, any size.

Reads the good documents of the sample shards (valid UTF-8, valid JSON, a
non-empty string "text"; the deliberately broken lines of mixed.jsonl.zst are
left out), then writes them round-robin, each with a fresh unique "id", into
plain JSONL shards of about SHARD_MB MiB until TARGET_MB MiB are written.

  make-corpus.py TARGET_MB SHARD_MB OUT_DIR SAMPLE_SHARD...

Deterministic: same sample shards in, byte-identical corpus out.
"""

import gzip
import json
import os
import subprocess
import sys

MIB = 1 << 20


def read_lines(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rb") as f:
            return f.read().splitlines()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dcq", path], check=True,
                              stdout=subprocess.PIPE).stdout.splitlines()
    with open(path, "rb") as f:
        return f.read().splitlines()


def good_documents(paths):
    """Each good document as the bytes that follow '{"id":"...",' on a line."""
    docs = []
    for path in paths:
        for raw in read_lines(path):
            try:
                doc = json.loads(raw.decode("utf-8"))
                if not isinstance(doc, dict):
                    continue
                text = doc.get("text")
                if not isinstance(text, str) or not text:
                    continue
                doc.pop("id", None)
                body = json.dumps(doc, ensure_ascii=False,
                                  separators=(",", ":")).encode("utf-8")
            except (UnicodeError, ValueError):
                continue
            docs.append(body[1:])  # drop the '{': the id goes first
    return docs


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    target = int(sys.argv[1]) * MIB
    shard_bytes = int(sys.argv[2]) * MIB
    out_dir = sys.argv[3]
    docs = good_documents(sorted(sys.argv[4:]))
    if not docs:
        sys.exit("make-corpus: no good documents in the sample shards")
    os.makedirs(out_dir, exist_ok=True)
    written = 0
    n = 0
    shard = 0
    while written < target:
        name = os.path.join(out_dir, f"bench-{shard:04d}.jsonl")
        with open(name, "wb") as out:
            size = 0
            while size < shard_bytes and written + size < target:
                line = b'{"id":"bench-%09d",%s\n' % (n, docs[n % len(docs)])
                out.write(line)
                size += len(line)
                n += 1
        written += size
        shard += 1
    print(f"make-corpus: {n} documents ({len(docs)} distinct texts), "
          f"{written / MIB:.0f} MiB in {shard} shards under {out_dir}")


if __name__ == "__main__":
    main()
