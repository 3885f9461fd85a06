#!/usr/bin/python3
"""The reference for tests/filters/words_test.cc: NLTK's own tokenizers on
the texts of JSON-lines files, in the pipeline that needle::words emulates.

  nltk_words.py ABBREVIATIONS FILE...
  nltk_words.py --classes

ABBREVIATIONS is a comma-separated list of Punkt abbreviation types (the
stand-in for the trained english.pickle, which cannot be fetched here).
Each FILE is .jsonl or .jsonl.gz; every line whose "text" is a string gives
one output line:

  token \\x1f token \\x1f ... \\x1e begin:end,begin:end,...

the word tokens (datatrove's split_into_words: Punkt sentences, then
NLTKWordTokenizer on each, stripped, empty ones dropped), then the
sentences as UTF-8 byte offsets (Punkt's span_tokenize, stripped, empty ones
dropped). Tokens never hold whitespace, so the separators are unambiguous.

With --classes it prints, for every code point this Python's Unicode tables
assign (not Cn, not surrogates), its hex value and the bits 1 isspace(),
2 re's \\w, 4 re's \\d, 8 isupper(), 16 islower(): the character classes
that filters/python_chars.h reproduces.
"""

import gzip
import itertools
import json
import re
import sys
import unicodedata

from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer


def print_classes():
    word, digit = re.compile(r"\w"), re.compile(r"\d")
    lines = []
    for c in range(0x110000):
        ch = chr(c)
        if unicodedata.category(ch) in ("Cn", "Cs"):
            continue
        bits = (ch.isspace() | bool(word.match(ch)) << 1 | bool(digit.match(ch)) << 2
                | ch.isupper() << 3 | ch.islower() << 4)
        lines.append(f"{c:X} {bits}\n")
    sys.stdout.write("".join(lines))


def main():
    if sys.argv[1:] == ["--classes"]:
        print_classes()
        return
    params = PunktParameters()
    params.abbrev_types = set(a for a in sys.argv[1].split(",") if a)
    sentences = PunktSentenceTokenizer(params)
    words = NLTKWordTokenizer()
    out = sys.stdout.buffer
    for path in sys.argv[2:]:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                text = json.loads(line).get("text")
                if not isinstance(text, str):
                    continue
                spans = list(sentences.span_tokenize(text))
                tokens = [t.strip() for b, e in spans for t in words.tokenize(text[b:e])]
                tokens = [t for t in tokens if t]
                if text.isascii():
                    byte_at = range(len(text) + 1)
                else:
                    byte_at = list(itertools.accumulate(
                        (len(c.encode("utf-8")) for c in text), initial=0))
                offsets = []
                for b, e in spans:
                    piece = text[b:e]
                    stripped = piece.strip()
                    if not stripped:
                        continue
                    b += len(piece) - len(piece.lstrip())
                    offsets.append(f"{byte_at[b]}:{byte_at[b + len(stripped)]}")
                record = "\x1f".join(tokens) + "\x1e" + ",".join(offsets) + "\n"
                out.write(record.encode("utf-8"))


if __name__ == "__main__":
    main()
