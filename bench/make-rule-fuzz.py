#!/usr/bin/python3
"""Random documents built to trip the Gopher, C4 and FineWeb rules at their
edges, for bench/datatrove_agreement.py: not real text, but every odd case
the rules have to agree on, many times over.

  bench/make-rule-fuzz.py SEED COUNT > OUT.jsonl

Each document is 1 to 80 lines of stop words mixed with odd tokens (ellipses,
'#', bullets, '{', "lorem ipsum", "JavaScript", citations in ASCII and
Arabic-Indic digits, policy phrases, the Kelvin sign, dotted I, CJK, 1000-
character words, no-break and ideographic spaces, zero-width space), ending
in a random terminal or non-terminal mark, 15% of them repeating an earlier
line, joined by "\\n", blank lines, "\\r\\n" or the other line breaks of
str.splitlines() (\\r \\v \\f \\x1c-\\x1e \\x85 U+2028 U+2029). The same SEED
gives the same documents.
"""

import json
import random
import sys

WORDS = ("the be to of and that have with a in is it you he was for on are as I at "
         "this his but from they we say her she or an will my one all would there their "
         "what so up out if about who get which go me when make can like time no just him "
         "know take people into year your good some could them see other than then now "
         "look only come its over think also").split()
ODD = ["extraordinarily", "antidisestablishmentarianism", "x" * 12, "123", "3.14", "$5",
       "U.S.", "e.g.", "Mr.", "Dr.", "don't", "can't", "''", '"', "(", ")", "--", "—", "#",
       "##", "#tag", "...", "…", "•", "-", "{", "}", "lorem ipsum", "Lorem Ipsum",
       "JavaScript", "javascript:void(0)", "[12]", "[١٢]", "[edit]", "[citation needed]",
       "[]", "privacy policy", "Terms of Use", "uses cookies", "\u212aelvin", "İstanbul",
       "café", "naïve", "Straße", "日本語", "中文", "ǅ", "ß", "ﬁ", "http://x.com/a?b=c",
       "a@b.com", "«", "»", "„", "“", "”", "‘", "’", "!", "?", ".", ",", ";", ":", "\t",
       "\u00a0", "\u3000", "\u200b", "w" * 1001, "y" * 999, "ok.", "No.", "etc.", "i.e.",
       "St.", "vs.", "A.", "J. Smith", "1990.", "'s", "n't"]
BREAKS = (["\n"] * 30 + ["\n\n"] * 6 +
          ["\n\n\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85",
           "\u2028", "\u2029", "\n \n", "\n\t\n", " \n"])
ENDS = ["", "", ".", ".", ".", "!", "?", '"', "'", "...", "…", "。", "؟", ". ", ".\t", ":",
        ",", "!'", '."', "?)"]
LEADS = ["", "", "", "- ", "• ", "  ", "\t", "* ", "# "]


def make_line(rng):
    tokens = [rng.choice(WORDS) if rng.random() < 0.75 else rng.choice(ODD)
              for _ in range(rng.choice([0, 1, 2, 3, 4, 5, 8, 12, 20, 40]))]
    return rng.choice(LEADS) + " ".join(tokens) + rng.choice(ENDS)


def make_text(rng):
    lines = []
    for _ in range(rng.choice([1, 2, 3, 5, 8, 13, 21, 40, 80])):
        lines.append(rng.choice(lines) if lines and rng.random() < 0.15 else make_line(rng))
    text = "".join(line + rng.choice(BREAKS) for line in lines[:-1]) + lines[-1]
    return (text + rng.choice(["", "", "\n", " ", "\n\n"])) or "x"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make-rule-fuzz.py SEED COUNT > OUT.jsonl")
    rng = random.Random(int(sys.argv[1]))
    for d in range(int(sys.argv[2])):
        record = {"id": f"fuzz-{d}", "text": make_text(rng)}
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
