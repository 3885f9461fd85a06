#!/usr/bin/env python3
"""Writes a deduplication benchmark corpus: N short documents of real text,
each 8 to 20 eight-word phrases drawn at random from the sample shards
(Brown and UDHR), so that unrelated documents share almost no 5-grams; 10%
are exact copies of an earlier document (new id) and 10% near copies (one
word in 50 replaced). Deterministic for a given N.

  bench/make-dedup-corpus.py N OUT_DIR [--shards K]
"""
import gzip
import json
import os
import random
import sys


def main():
    n = int(sys.argv[1])
    out_dir = sys.argv[2]
    shards = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--shards" else 8
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    texts = []
    with open(os.path.join(root, "data/sample/brown.jsonl"), encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f]
    with gzip.open(os.path.join(root, "data/sample/udhr.jsonl.gz"), "rt", encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for line in f]
    words = [w for t in texts for w in t.split()]
    phrases = [" ".join(words[i:i + 8]) for i in range(0, len(words) - 8, 8)]
    rng = random.Random(1)
    os.makedirs(out_dir, exist_ok=True)
    files = [open(os.path.join(out_dir, f"part-{i:03d}.jsonl"), "w", encoding="utf-8") for i in range(shards)]
    recent = []  # documents a copy may repeat
    for i in range(n):
        kind = rng.random()
        if kind < 0.1 and recent:
            text = rng.choice(recent)
        elif kind < 0.2 and recent:
            doc = rng.choice(recent).split(" ")
            for j in range(0, len(doc), 50):
                doc[j] = "zzyzx"
            text = " ".join(doc)
        else:
            text = " ".join(rng.choice(phrases) for _ in range(rng.randint(8, 20)))
            if len(recent) < 100000:
                recent.append(text)
            else:
                recent[rng.randrange(len(recent))] = text
        files[i % shards].write(json.dumps({"id": f"doc-{i}", "text": text}, ensure_ascii=False) + "\n")
    for f in files:
        f.close()


if __name__ == "__main__":
    main()
