#!/usr/bin/python3
"""How often Needle's rule stages keep and drop the same documents as
datatrove's filters (issue 4 asks for 99%).

  bench/datatrove_agreement.py --needle-run OUT [--datatrove-src DIR]
                               [--signals] [--show N] [INPUT ...]

OUT is a `needle run` directory made with the rule stages gopher_quality,
gopher_repetition, c4 and fineweb (any subset, in any order) and [output]
write_rejected = true, so that kept/ and rejected/ hold every parsed
document with its `needle` object: `needle.stage` and `needle.reason` on a
rejected one, `needle.signals` with every signal the stages recorded.
bench/datatrove_agreement.toml is such a config; bench/datatrove_agreement.sh
makes the runs and calls this script. Other stages may run too: documents
they reject before the last rule stage are left out. The INPUTs (JSONL
files, or folders of them) are those of the run (default: the paths in
OUT/run.json, relative to the current directory); each document is found
in OUT by its shard and id, and lines needle quarantined are left out.

For each document the script runs datatrove's GopherQualityFilter,
GopherRepetitionFilter, C4QualityFilter and FineWebQualityFilter (their
filter(doc), in the run's stage order, each built with the options of the
run's resolved config, stopping at the first that drops, C4 rewriting the
text as in a datatrove pipeline) and compares, per input file and per
filter, keep/drop with Needle's: a confusion table over the documents that
reached the filter on both sides, the reason pairs of the disagreements,
the first --show disagreements with both sides' signal values, and the
agreement of the final keep/drop of the whole bundle. With --signals it
also compares every signal Needle recorded with datatrove's own quantity
(their_signals, c4_signals). Where datatrove raises ZeroDivisionError the
document counts as dropped by it, reason "ZeroDivisionError". A document a
stage skipped (skip_languages) is still compared, as a keep. Exit status 0
unless something could not be run.

datatrove is imported as installed, else from --datatrove-src (the folder
holding the `datatrove` package, e.g. a checkout's src/). Its filters need
numpy, nltk and regex (Debian: python3-numpy python3-nltk python3-regex);
other third-party modules that only its I/O and logging import (fsspec,
huggingface_hub, humanize, loguru...) get stand-ins when missing (see
STAND_IN_ROOTS). Two settings make the comparison one of the rules, not
of the tokenizer:
- English words: since datatrove 0.4 (December 2024) its "eng" word
  tokenizer is spaCy's blank English model; FineWeb (v1) and Needle use
  NLTK's word_tokenize, datatrove's NLTKTokenizer("english") of before.
  The filters get that tokenizer (their `language` argument accepts a
  WordTokenizer).
- Punkt: NLTK's trained English model (punkt/english.pickle) cannot be
  fetched here, so NLTK's loader is made to return an untrained
  PunktSentenceTokenizer with the abbreviations of filters/punkt.h, the
  setup that tests/filters/nltk_words.py checks filters/words.h against.
"""

import argparse
import collections
import gzip
import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata  # datatrove's dependency check uses it unimported
import io
import json
import math
import os
import re
import subprocess
import sys
import tomllib
import types

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULE_STAGES = ("gopher_quality", "gopher_repetition", "c4", "fineweb")

# Needle's reason -> datatrove's reason for the same rule. c4_no_lines_left
# has none: datatrove keeps such a document, with empty text.
SAME_RULE = {
    "gopher_too_few_words": "gopher_short_doc",
    "gopher_too_many_words": "gopher_long_doc",
    "gopher_short_words": "gopher_below_avg_threshold",
    "gopher_long_words": "gopher_above_avg_threshold",
    "gopher_hash_ratio": "gopher_too_many_hashes",
    "gopher_ellipsis_ratio": "gopher_too_many_ellipsis",
    "gopher_bullet_lines": "gopher_too_many_bullets",
    "gopher_ellipsis_lines": "gopher_too_many_end_ellipsis",
    "gopher_few_alpha_words": "gopher_below_alpha_threshold",
    "gopher_few_stop_words": "gopher_enough_stop_words",
    "gopher_dup_para_frac": "dup_para_frac",
    "gopher_dup_para_char_frac": "dup_para_char_frac",
    "gopher_dup_line_frac": "dup_line_frac",
    "gopher_dup_line_char_frac": "dup_line_char_frac",
    **{f"gopher_top_{n}gram": f"top_{n}_gram" for n in (2, 3, 4)},
    **{f"gopher_dup_{n}gram": f"duplicated_{n}_n_grams" for n in range(5, 11)},
    "c4_lorem_ipsum": "lorem_ipsum",
    "c4_curly_bracket": "curly_bracket",
    "c4_too_few_sentences": "too_few_sentences",
    "fineweb_line_punct_ratio": "line_punct_ratio",
    "fineweb_short_line_ratio": "short_line_ratio",
    "fineweb_char_dup_ratio": "char_dup_ratio",
    "fineweb_list_ratio": "list_ratio",
}
SIGNAL_PREFIX = {"gopher_quality": "gopher.", "gopher_repetition": "gopher_rep.",
                 "c4": "c4.", "fineweb": "fineweb."}


def fail(message):
    sys.exit(f"datatrove_agreement: {message}")


# --- datatrove -------------------------------------------------------------

# Third-party modules that datatrove's package imports for its I/O, hub
# access, stats printing and logging, never for a filter's decision. When
# one is missing (pip is not reachable here), a stand-in module takes its
# place: every name imported from it is an empty class, so that datatrove's
# `class DataFolder(DirFileSystem)` still defines, and that raises if
# anything instantiates or calls it; loguru's `logger` instead swallows
# every call, as datatrove configures it at import. numpy, nltk and regex,
# which the four filters do use, are never stood in for.
STAND_IN_ROOTS = ("fsspec", "huggingface_hub", "humanize", "tqdm", "loguru",
                  "multiprocess", "dill", "rich")


class _StandInName(type):
    def __call__(cls, *args, **kwargs):
        raise RuntimeError(f"{cls.__qualname__} is a stand-in "
                           "(bench/datatrove_agreement.py): not installed")

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _stand_in_name(f"{cls.__qualname__}.{name}")


def _stand_in_name(qualname):
    return _StandInName(qualname.rsplit(".", 1)[-1], (), {"__qualname__": qualname})


class _QuietLogger:
    """loguru's logger, minus the logging."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self


class _StandInModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self.__name__ == "loguru" and name == "logger":
            value = _QuietLogger()
        else:
            value = _stand_in_name(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self):
        self.roots = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StandInModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def import_datatrove_filters(source):
    """The four filter classes and NLTKTokenizer, importing datatrove (from
    `source` when given) with stand-ins for missing I/O-only modules."""
    if source:
        if not os.path.isdir(os.path.join(source, "datatrove")):
            fail(f"--datatrove-src {source}: no datatrove/ package in it")
        sys.path.insert(0, os.path.abspath(source))
    finder = _StandInFinder()
    sys.meta_path.append(finder)
    while True:
        try:
            gq = importlib.import_module("datatrove.pipeline.filters.gopher_quality_filter")
            gr = importlib.import_module("datatrove.pipeline.filters.gopher_repetition_filter")
            c4 = importlib.import_module("datatrove.pipeline.filters.c4_filters")
            fw = importlib.import_module("datatrove.pipeline.filters.fineweb_quality_filter")
            tok = importlib.import_module("datatrove.utils.word_tokenizers")
            break
        except ModuleNotFoundError as e:
            root = (e.name or "").split(".")[0]
            if root == "datatrove":
                fail("datatrove is not installed; pass --datatrove-src DIR")
            if root not in STAND_IN_ROOTS or root in finder.roots:
                fail(f"python module {e.name!r} is missing (Debian: apt-get install "
                     f"python3-{root.replace('_', '-')})")
            finder.roots.add(root)
            for name in [m for m in sys.modules if m.split(".")[0] in ("datatrove", root)]:
                del sys.modules[name]
    return {
        "gopher_quality": gq.GopherQualityFilter,
        "gopher_repetition": gr.GopherRepetitionFilter,
        "c4": c4.C4QualityFilter,
        "fineweb": fw.FineWebQualityFilter,
    }, tok.NLTKTokenizer, sorted(finder.roots)


def needle_abbreviations():
    """filters/punkt.h's kAbbreviations, the stand-in for english.pickle."""
    header = open(os.path.join(REPO, "filters", "punkt.h"), encoding="utf-8").read()
    match = re.search(r"kAbbreviations\s*=\s*\{([^}]*)\}", header)
    if not match:
        fail("filters/punkt.h: kAbbreviations not found")
    return re.findall(r'"([^"]*)"', match.group(1))


def use_untrained_punkt(abbreviations):
    """Makes nltk.load("tokenizers/punkt/english.pickle") return an untrained
    PunktSentenceTokenizer knowing `abbreviations`, as nltk_words.py builds
    it. word_tokenize and datatrove's NLTKTokenizer both load through it."""
    import nltk
    import nltk.data
    import nltk.tokenize
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    params = PunktParameters()
    params.abbrev_types = set(abbreviations)
    untrained = PunktSentenceTokenizer(params)
    original = nltk.data.load

    def load(resource_url, *args, **kwargs):
        if resource_url.rstrip("/").endswith("tokenizers/punkt/english.pickle"):
            return untrained
        return original(resource_url, *args, **kwargs)

    for module in (nltk, nltk.data, nltk.tokenize):
        module.load = load
    return nltk.__version__


def datatrove_kwargs(stage, options):
    """datatrove's constructor arguments that mean what Needle's resolved
    options for `stage` mean."""
    o = options
    if stage == "gopher_quality":
        return dict(
            min_doc_words=o["min_doc_words"], max_doc_words=o["max_doc_words"],
            min_avg_word_length=o["min_avg_word_length"],
            max_avg_word_length=o["max_avg_word_length"],
            max_symbol_word_ratio=o["max_symbol_word_ratio"],
            max_bullet_lines_ratio=o["max_bullet_lines_ratio"],
            max_ellipsis_lines_ratio=o["max_ellipsis_lines_ratio"],
            max_non_alpha_words_ratio=o["min_alpha_words_ratio"],
            min_stop_words=o["min_stop_words"], stop_words=o["stop_words"])
    if stage == "gopher_repetition":
        # Needle switches an n-gram rule off with 0; datatrove by leaving
        # its n out.
        return dict(
            dup_line_frac=o["dup_line_frac"], dup_para_frac=o["dup_para_frac"],
            dup_line_char_frac=o["dup_line_char_frac"],
            dup_para_char_frac=o["dup_para_char_frac"],
            top_n_grams=tuple((n, o[f"top_{n}gram_frac"]) for n in (2, 3, 4)
                              if o[f"top_{n}gram_frac"]),
            dup_n_grams=tuple((n, o[f"dup_{n}gram_frac"]) for n in range(5, 11)
                              if o[f"dup_{n}gram_frac"]))
    if stage == "c4":
        if o.get("bad_words_file"):
            fail("[c4] bad_words_file is set: C4BadWordsFilter is not compared")
        return {k: o[k] for k in (
            "split_paragraph", "remove_citations", "filter_no_terminal_punct",
            "min_num_sentences", "min_words_per_line", "max_word_length",
            "filter_lorem_ipsum", "filter_javascript", "filter_curly_bracket",
            "filter_policy")}
    if stage == "fineweb":
        return dict(
            line_punct_thr=o["line_punct_thr"],
            line_punct_exclude_zero=o["line_punct_exclude_zero"],
            stop_chars=tuple(o["stop_chars"]) or None,
            short_line_thr=o["short_line_thr"],
            short_line_length=o["short_line_length"],
            char_duplicates_ratio=o["char_duplicates_ratio"],
            new_line_ratio=o["new_line_ratio"])
    raise ValueError(stage)


class DatatroveChain:
    """datatrove's filters in Needle's stage order, as one pipeline."""

    def __init__(self, classes, tokenizer, stages, config):
        self.stages = stages
        self.remove_lines = config.get("c4", {}).get("remove_lines", True)
        self.filters = {
            s: classes[s](language=tokenizer, **datatrove_kwargs(s, config[s]))
            for s in stages}
        self.tokenizer = tokenizer
        # C4's line counters exist only as datatrove stats: catch them.
        self.c4_counts = collections.Counter()
        self.c4_text = None
        if "c4" in self.filters:
            self.filters["c4"].stat_update = (
                lambda *labels, **kwargs: self.c4_counts.update(labels))

    def run(self, doc_id, text):
        """{stage: (kept, reason)} for the stages the document reached,
        {stage: the text it saw}, and the text after them."""
        from datatrove.data import Document

        doc = Document(text=text, id=doc_id)
        verdicts = {}
        seen = {}
        self.c4_counts.clear()
        for stage in self.stages:
            before = seen[stage] = doc.text
            try:
                result = self.filters[stage].filter(doc)
            except ZeroDivisionError:
                result = (False, "ZeroDivisionError")
            kept, reason = (result, None) if not isinstance(result, tuple) else result
            verdicts[stage] = (bool(kept), reason)
            if stage == "c4":
                self.c4_text = doc.text  # the kept lines, joined
                if not self.remove_lines:
                    doc.text = before
            if not kept:
                break
        return verdicts, seen, doc.text


def their_signals(stage, text, tokenizer, options):
    """datatrove's quantities for `stage`, under Needle's signal names,
    computed with datatrove's own helpers; for the disagreement listing."""
    from datatrove.pipeline.filters import gopher_repetition_filter as gr
    from datatrove.utils.text import PUNCTUATION_SET, split_into_words

    words = split_into_words(text, tokenizer)
    if stage == "gopher_quality":
        n = len(words) or float("nan")
        non_symbol = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
        lines = text.splitlines() or [""]
        return {
            "gopher.word_count": len(non_symbol), "gopher.tokens": len(words),
            "gopher.mean_word_length":
                sum(map(len, non_symbol)) / len(non_symbol) if non_symbol else float("nan"),
            "gopher.hash_ratio": text.count("#") / n,
            "gopher.ellipsis_ratio": (text.count("...") + text.count("…")) / n,
            "gopher.bullet_lines_ratio": sum(
                s.lstrip().startswith(("•", "-")) for s in lines) / len(lines),
            "gopher.ellipsis_lines_ratio": sum(
                s.rstrip().endswith(("...", "…")) for s in lines) / len(lines),
            "gopher.alpha_words_ratio": sum(
                any(c.isalpha() for c in w) for w in words) / n,
            "gopher.stop_words": len(set(options["stop_words"]) & set(words)),
        }
    if stage == "gopher_repetition":
        out = {}
        paragraphs = re.split(r"\n{2,}", text.strip())
        dup, chars = gr.find_duplicates(paragraphs)
        out["gopher_rep.dup_para_frac"] = dup / len(paragraphs)
        out["gopher_rep.dup_para_char_frac"] = chars / len(text)
        lines = re.split("\n+", text)
        dup, chars = gr.find_duplicates(lines)
        out["gopher_rep.dup_line_frac"] = dup / len(lines)
        out["gopher_rep.dup_line_char_frac"] = chars / len(text)
        for n in (2, 3, 4):
            grams = gr.get_n_grams(words, n)
            out[f"gopher_rep.top_{n}gram_frac"] = (
                gr.find_top_duplicate(grams) / len(text) if grams else 0.0)
        for n in range(5, 11):
            out[f"gopher_rep.dup_{n}gram_frac"] = gr.find_all_duplicate(words, n) / len(text)
        return out
    if stage == "fineweb":
        lines = [line for line in text.split("\n") if line.strip()]
        stops = tuple(options["stop_chars"]) or None
        if stops is None:
            from datatrove.utils.text import TERMINAL_PUNCTUATION
            stops = tuple(TERMINAL_PUNCTUATION)
        count = len(lines) or float("nan")
        return {
            "fineweb.lines": len(lines),
            "fineweb.line_punct_ratio": sum(line.endswith(stops) for line in lines) / count,
            "fineweb.short_line_ratio": sum(
                len(line) <= options["short_line_length"] for line in lines) / count,
            "fineweb.char_dup_ratio":
                gr.find_duplicates(lines)[1] / (len(text.replace("\n", "")) or float("nan")),
            "fineweb.list_ratio": text.count("\n") / (len(words) or float("nan")),
        }
    if stage == "c4":
        return {}  # see c4_signals
    raise ValueError(stage)


# datatrove's C4 stat names -> Needle's signals.
C4_STATS = {
    "line-total": "c4.lines", "line-kept": "c4.lines_kept",
    "line-filter-too_long_word": "c4.lines_too_long_word",
    "line-filter-no_terminal_punc": "c4.lines_no_terminal_punct",
    "line-filter-too_few_words": "c4.lines_too_few_words",
    "line-filter-javascript": "c4.lines_javascript",
    "line-filter-policy": "c4.lines_policy",
}


def c4_signals(chain, their_verdict):
    """C4's line counts from datatrove's stats of the document chain.run
    last ran, when it judged every line (it returns at the first "lorem
    ipsum" or "{" line), and the sentences and bytes of the kept text."""
    from datatrove.utils.text import split_into_sentences

    kept, reason = their_verdict
    if reason in ("lorem_ipsum", "curly_bracket"):
        return {}
    out = {name: chain.c4_counts[stat] for stat, name in C4_STATS.items()}
    out["c4.lines_removed"] = out["c4.lines"] - out["c4.lines_kept"]
    if kept:
        out["c4.bytes_kept"] = len(chain.c4_text.encode("utf-8"))
        if chain.filters["c4"].split_paragraph:
            out["c4.sentences"] = sum(len(split_into_sentences(line, chain.tokenizer))
                                      for line in chain.c4_text.split("\n"))
    return out


# --- Needle's side -----------------------------------------------------------


def open_text(path):
    """A text stream of a .jsonl, .jsonl.gz or .jsonl.zst file, decoded as
    UTF-8 with errors left as U+FFFD (such lines are quarantined by needle
    and not found in its output)."""
    if os.path.getsize(path) == 0:  # needle writes a shard with no document as 0 bytes
        return io.StringIO("")
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace")
    if path.endswith((".zst", ".zstd")):
        data = subprocess.run(["zstd", "-dcq", path], check=True,
                              stdout=subprocess.PIPE).stdout
        return io.StringIO(data.decode("utf-8", errors="replace"))
    return open(path, encoding="utf-8", errors="replace")


def output_name(path):
    """The name of the shard's file in OUT/kept/ and OUT/rejected/, less
    the codec's suffix (pipeline/shard.cc's ShardStem, plus ".jsonl")."""
    name = os.path.basename(path)
    name = re.sub(r"\.(gz|zst|zstd)$", "", name)
    return re.sub(r"\.(jsonl|json)$", "", name) + ".jsonl"


def id_key(value):
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def read_needle_side(out_dir, name, id_field):
    """{id: the `needle` object, plus "final_text", the text as written} for
    one shard's kept/ and rejected/ documents; an id seen twice maps to None
    (not compared)."""
    records = {}
    for folder in ("kept", "rejected"):
        for ext in ("", ".zst", ".gz"):  # [output] codec none, zstd, gzip
            path = os.path.join(out_dir, folder, name + ext)
            if not os.path.exists(path):
                continue
            with open_text(path) as lines:
                for line in lines:
                    if not line.strip():
                        continue
                    obj = json.loads(line)
                    key = id_key(obj.get(id_field))
                    entry = dict(obj.get("needle", {}))
                    entry["final_text"] = obj.get("text")
                    records[key] = None if key in records else entry
    return records


def needle_verdicts(entry, stages, all_stages):
    """{stage: (kept, reason)} for the rule stages the document reached in
    the run, or None when another stage rejected it before the last rule
    stage (so that the rules' own verdict is not known)."""
    reason = entry.get("reason", "ok")
    stage = entry.get("stage")
    if reason == "ok" or stage is None:
        return {s: (True, None) for s in stages}
    if stage not in stages:
        if all_stages.index(stage) < all_stages.index(stages[-1]):
            return None
        return {s: (True, None) for s in stages}
    verdicts = {}
    for s in stages:
        verdicts[s] = (s != stage, None if s != stage else reason)
        if s == stage:
            break
    return verdicts


# --- comparison ---------------------------------------------------------------


class Tally:
    def __init__(self, stages):
        self.stages = stages
        self.documents = 0
        self.not_in_run = 0
        self.ambiguous = 0
        self.before = 0
        self.skipped = collections.Counter()  # needle: skip_languages
        self.confusion = {s: collections.Counter() for s in stages + ["bundle"]}
        self.same_rule = {s: 0 for s in stages}
        self.classes = collections.Counter()  # keep/drop disagreements
        self.other_rule = collections.Counter()  # both drop, another rule
        self.kept_both = 0
        self.kept_text_same = 0
        self.examples = []
        self.signal_docs = collections.Counter()
        self.signal_same = collections.Counter()
        self.signal_diffs = collections.Counter()
        self.signal_examples = []

    def merge(self, other):
        self.documents += other.documents
        self.not_in_run += other.not_in_run
        self.ambiguous += other.ambiguous
        self.before += other.before
        self.skipped.update(other.skipped)
        for s in self.confusion:
            self.confusion[s].update(other.confusion[s])
        for s in self.same_rule:
            self.same_rule[s] += other.same_rule[s]
        self.classes.update(other.classes)
        self.other_rule.update(other.other_rule)
        self.kept_both += other.kept_both
        self.signal_docs.update(other.signal_docs)
        self.signal_same.update(other.signal_same)
        self.signal_diffs.update(other.signal_diffs)
        self.kept_text_same += other.kept_text_same


def label(kept):
    return "keep" if kept else "drop"


def compare_file(path, out_dir, id_field, text_field, chain, config, all_stages,
                 tally, show, compare_signals):
    stages = chain.stages
    needle = read_needle_side(out_dir, output_name(path), id_field)
    with open_text(path) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                tally.not_in_run += 1
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
                tally.not_in_run += 1
                continue
            raw_id = obj.get(id_field)
            key = id_key(raw_id) if id_field in obj else f"{os.path.basename(path)}:{number}"
            if key not in needle:
                tally.not_in_run += 1
                continue
            entry = needle[key]
            if entry is None:
                tally.ambiguous += 1
                continue
            ours = needle_verdicts(entry, stages, all_stages)
            if ours is None:
                tally.before += 1
                continue
            tally.documents += 1
            signals = entry.get("signals", {})
            # A stage that skipped the document (skip_languages) left no
            # signal: its verdict is Needle's keep, but not a measurement.
            theirs, texts, their_text = chain.run(key, obj[text_field])
            for stage in stages:
                if stage not in ours or stage not in theirs:
                    break
                (our_kept, our_reason), (their_kept, their_reason) = ours[stage], theirs[stage]
                measured = any(k.startswith(SIGNAL_PREFIX[stage]) for k in signals)
                values = None
                if measured and (compare_signals or our_kept != their_kept):
                    values = (c4_signals(chain, theirs[stage]) if stage == "c4" else
                              their_signals(stage, texts[stage], chain.tokenizer,
                                            config[stage]))
                if not measured:
                    tally.skipped[stage] += 1
                elif compare_signals and values:
                    compare_values(tally, key, path, stage, signals, values, show)
                tally.confusion[stage][(our_kept, their_kept)] += 1
                if not our_kept and not their_kept:
                    if SAME_RULE.get(our_reason) == their_reason:
                        tally.same_rule[stage] += 1
                    else:
                        tally.other_rule[(stage, our_reason, their_reason)] += 1
                if our_kept != their_kept:
                    tally.classes[(stage, our_reason or "keep", their_reason or "keep")] += 1
                    if len(tally.examples) < show:
                        tally.examples.append(
                            describe(key, path, stage, ours[stage], theirs[stage], signals,
                                     values or {}, texts[stage]))
                if not (our_kept and their_kept):
                    break
            our_final = all(k for k, _ in ours.values())
            their_final = all(k for k, _ in theirs.values())
            tally.confusion["bundle"][(our_final, their_final)] += 1
            if our_final and their_final:
                tally.kept_both += 1
                tally.kept_text_same += entry["final_text"] == their_text


def same_value(ours, theirs):
    """Needle's signal (rounded to 6 decimals) equals datatrove's quantity;
    where datatrove's is NaN (0/0, mean of nothing) Needle records 0."""
    if isinstance(theirs, float) and math.isnan(theirs):
        return ours == 0
    return abs(ours - theirs) <= 1e-6 * max(1.0, abs(theirs))


def compare_values(tally, key, path, stage, signals, theirs, show):
    tally.signal_docs[stage] += 1
    differing = [name for name, value in theirs.items()
                 if name in signals and not same_value(signals[name], value)]
    tally.signal_diffs.update((stage, name) for name in differing)
    if not differing:
        tally.signal_same[stage] += 1
    elif len(tally.signal_examples) < show:
        tally.signal_examples.append(
            f"  {os.path.basename(path)} id={key} {stage}: " + ", ".join(
                f"{name} needle {signals[name]} datatrove {theirs[name]:.6g}"
                for name in differing))


def describe(key, path, stage, ours, theirs, signals, their, text):
    """One disagreement: both verdicts, the text's start, both sides'
    signal values."""
    prefix = SIGNAL_PREFIX[stage]
    rows = []
    for name in sorted(set(k for k in signals if k.startswith(prefix)) | set(their)):
        a, b = signals.get(name, "-"), their.get(name, "-")
        fmt = lambda v: f"{v:.6g}" if isinstance(v, float) else str(v)
        rows.append(f"      {name:34} {fmt(a):>12} {fmt(b):>12}")
    head = (f"  {os.path.basename(path)} id={key} {stage}: needle {label(ours[0])}"
            f"{' (' + ours[1] + ')' if ours[1] else ''}, datatrove {label(theirs[0])}"
            f"{' (' + theirs[1] + ')' if theirs[1] else ''}; {len(text)} chars")
    snippet = text[:160].replace("\n", "\\n")
    return "\n".join([head, f"      text: {snippet!s}",
                      f"      {'signal':34} {'needle':>12} {'datatrove':>12}"] + rows)


def percent(part, whole):
    return f"{100.0 * part / whole:.2f}%" if whole else "-"


def report(name, tally):
    print(f"\n== {name}: {tally.documents} documents compared", end="")
    extras = []
    if tally.not_in_run:
        extras.append(f"{tally.not_in_run} not in the run (quarantined by needle)")
    if tally.before:
        extras.append(f"{tally.before} rejected by another stage before the last rule stage")
    if tally.ambiguous:
        extras.append(f"{tally.ambiguous} with an id seen twice in the shard")
    print(f" ({'; '.join(extras)})" if extras else "")
    print("filter              reached   agree  agree %   keep/keep keep/drop drop/keep "
          "drop/drop same rule")
    for stage in tally.stages + ["bundle"]:
        c = tally.confusion[stage]
        reached = sum(c.values())
        agree = c[(True, True)] + c[(False, False)]
        same = "" if stage == "bundle" else str(tally.same_rule[stage])
        print(f"{stage:19} {reached:8} {agree:7} {percent(agree, reached):>8} "
              f"{c[(True, True)]:10} {c[(True, False)]:9} {c[(False, True)]:9} "
              f"{c[(False, False)]:9} {same:>9}")
    if tally.skipped:
        print("  needle skipped (skip_languages, no signals): " +
              ", ".join(f"{s} {n}" for s, n in tally.skipped.items()))
    print(f"  kept by both, same final text: {tally.kept_text_same}/{tally.kept_both}")
    for stage, docs in tally.signal_docs.items():
        print(f"  {stage}: every signal equal to datatrove's on {tally.signal_same[stage]}"
              f"/{docs} documents")
    for (stage, name), n in tally.signal_diffs.most_common():
        print(f"    {name} differs on {n}")
    if tally.classes:
        print("  disagreements (filter: needle -> datatrove: documents):")
        for (stage, a, b), n in tally.classes.most_common():
            print(f"    {stage}: {a} -> {b}: {n}")
    if tally.other_rule:
        print("  both drop, by another rule (filter: needle, datatrove: documents):")
        for (stage, a, b), n in tally.other_rule.most_common():
            print(f"    {stage}: {a}, {b}: {n}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", metavar="INPUT",
                        help="the run's inputs, JSONL files or folders "
                             "(default: those in OUT/run.json)")
    parser.add_argument("--needle-run", required=True, metavar="OUT")
    parser.add_argument("--datatrove-src", metavar="DIR")
    parser.add_argument("--show", type=int, default=5, metavar="N",
                        help="disagreements to print in full, per file (5)")
    parser.add_argument("--signals", action="store_true",
                        help="also compare every signal with datatrove's quantity "
                             "(C4's line counts: its stats; slower)")
    args = parser.parse_args()

    try:
        with open(os.path.join(args.needle_run, "run.json"), encoding="utf-8") as f:
            run = json.load(f)
    except OSError as e:
        fail(f"{args.needle_run}: not a needle run directory ({e})")
    config = tomllib.loads(run["config"]["resolved"])
    all_stages = config["pipeline"]["stages"]
    stages = [s for s in all_stages if s in RULE_STAGES]
    if not stages:
        fail(f"the run's stages {all_stages} hold none of {', '.join(RULE_STAGES)}")
    if not config["output"]["write_rejected"]:
        fail("the run has [output] write_rejected = false: rejected/ is missing")
    files = []
    for path in args.files or [i["path"] for i in run["inputs"]]:
        if os.path.isdir(path):  # as needle reads a folder: its shards
            files += sorted(os.path.join(path, n) for n in os.listdir(path)
                            if re.search(r"\.jsonl?(\.gz|\.zst|\.zstd)?$", n))
        else:
            files.append(path)

    classes, nltk_tokenizer, stand_ins = import_datatrove_filters(args.datatrove_src)
    abbreviations = needle_abbreviations()
    nltk_version = use_untrained_punkt(abbreviations)
    tokenizer = nltk_tokenizer("english")
    chain = DatatroveChain(classes, tokenizer, stages, config)

    import datatrove

    print(f"datatrove from {os.path.dirname(os.path.dirname(datatrove.__file__))}"
          f" (stand-ins for missing modules: {', '.join(stand_ins) or 'none'})")
    print(f"words: NLTKTokenizer(\"english\"), NLTK {nltk_version} word_tokenize with an "
          f"untrained Punkt + abbreviations {','.join(abbreviations)} (filters/punkt.h), "
          "on both sides: this measures the rules, not the Punkt model")
    print(f"needle run {args.needle_run}: stages {', '.join(all_stages)}; compared: "
          f"{', '.join(stages)}")
    print("columns: needle's verdict / datatrove's; 'reached': documents both sides "
          "ran the filter on; 'same rule': both drop, for the same rule")

    total = Tally(stages)
    for path in files:
        tally = Tally(stages)
        compare_file(path, args.needle_run, config["input"]["id_field"],
                     config["input"]["text_field"], chain, config, all_stages, tally,
                     args.show, args.signals)
        report(os.path.basename(path), tally)
        if tally.examples:
            print(f"  first {len(tally.examples)} disagreements:")
            print("\n".join(tally.examples))
        if tally.signal_examples:
            print(f"  first {len(tally.signal_examples)} documents with differing signals:")
            print("\n".join(tally.signal_examples))
        total.merge(tally)
    if len(files) > 1:
        report("all files", total)


if __name__ == "__main__":
    main()
