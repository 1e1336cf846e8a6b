"""Which rule sentences of a notice a call file neither checks (rules, attachments) nor lists as unchecked, by a
documented heuristic over the notice's text."""

from __future__ import annotations

import re
from collections.abc import Iterable

# A rule sentence states an obligation, a ban or a limit: it holds one of these words ...
MARKERS = re.compile(r"须|应|不得|不超过|以上|以下|限|仅|只能|必须|不予受理")
# ... once words that merely contain 应 or 限 are masked (应用 "application", 相应 "corresponding", 期限 "term" ...).
NOT_MARKERS = re.compile(r"应用|相应|响应|对应|供应|适应|反应|效应|应急|应对|感应|应变|应力|期限|时限|年限|局限|无限|极限|有限|以下简称")
# A line that starts a new item (一、 （二） 3. ①), so a line break before it ends a sentence.
ENUMERATOR = re.compile(r"^\s*(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+、|\d+[.．、]|[①-⑳])")
TERMINAL = "。；;！？!?：:"
CLAUSE = re.compile(r"[，,：:]")


WRAPPED = 20  # a line this long that ends mid-sentence was hard-wrapped (a heading is shorter)


def _paragraphs(text: str) -> list[str]:
    """The notice's lines with hard-wrapped lines joined again (a break mid-sentence, even a blank line in the
    text as extracted, is not a sentence end)."""
    out: list[str] = []
    for line in (x.strip() for x in text.splitlines()):
        if not line:
            continue
        last = out[-1] if out else ""
        if len(last) >= WRAPPED and not last.endswith(tuple(TERMINAL)) and not ENUMERATOR.match(line):
            out[-1] += line
        else:
            out.append(line)
    return out


def normalise(sentence: str) -> str:
    """Whitespace, a leading enumerator and trailing punctuation removed."""
    return re.sub(r"\s+", "", ENUMERATOR.sub("", sentence)).strip(TERMINAL + "，,")


def sentences(text: str) -> list[str]:
    """The notice split into sentences (at 。；！？ and at paragraph ends), normalised."""
    out = [normalise(s) for p in _paragraphs(text) for s in re.split(r"(?<=[。；;！？!?])", p)]
    return [s for s in out if s]


def is_rule_sentence(sentence: str) -> bool:
    return MARKERS.search(NOT_MARKERS.sub("", sentence)) is not None


def rule_sentences(text: str) -> list[str]:
    """Every sentence of the notice that states a rule by the heuristic (false positives included)."""
    return [s for s in sentences(text) if is_rule_sentence(s)]


def covered(sentence: str, quotes: Iterable[str]) -> bool:
    """A sentence is accounted for when a quote contains it, or when every clause of it that states a rule does
    (a call file may quote the one clause of a long sentence that a rule implements, each clause by its own rule)."""
    texts = [re.sub(r"\s+", "", q) for q in quotes]
    if any(sentence in t for t in texts):
        return True
    clauses = [c for c in CLAUSE.split(sentence) if c and is_rule_sentence(c)]
    return bool(clauses) and all(any(c in t for t in texts) for c in clauses)


def uncovered(text: str, quotes: Iterable[str]) -> list[str]:
    """The notice's rule sentences that no quote accounts for, in notice order, each once."""
    quoted = list(quotes)
    return list(dict.fromkeys(s for s in rule_sentences(text) if not covered(s, quoted)))
