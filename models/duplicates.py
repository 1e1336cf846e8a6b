"""Duplicate detection across calls and years: near-identical titles or abstracts (rapidfuzz); for the same PI or
unit, similar titles."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

Field = Literal["title", "abstract"]
THRESHOLD = 0.85  # the score from which a pair is a suspected duplicate (chosen on tests/data/duplicates.json)


@dataclass(frozen=True)
class Thresholds:
    """Similarity (0-100, rapidfuzz ratio on normalised text) from which a pair is flagged."""

    title: float = 90.0
    abstract: float = 85.0
    related: float = 80.0  # titles of the same PI or the same unit (abstracts share boilerplate, so not them)


@dataclass(frozen=True)
class DuplicateHit:
    ref: str
    call_id: str | None
    year: int | None
    field: Field
    score: float
    same_pi: bool
    same_unit: bool

    def describe(self) -> str:
        who = " same PI" if self.same_pi else " same unit" if self.same_unit else ""
        return f"{self.ref} ({self.call_id or 'registry'}, {self.year}) {self.field} {self.score:.0f}%{who}"


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """NFKC, lower case, letters and digits only: punctuation, spaces and full-width forms do not count. Cached, so
    that the corpus read again every minute of a formal-review burst finds its texts already normalised."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if unicodedata.category(c)[0] in "LN")


@dataclass(frozen=True)
class PriorWork:
    """A title and abstract to compare with: another application or a registry project."""

    ref: str
    call_id: str | None
    year: int | None
    pi_id: str
    unit_id: str | None
    title: str
    abstract: str = ""
    budget_cny: int | None = None

    @cached_property
    def title_key(self) -> str:
        """The title as the duplicate check compares it, normalised once per corpus read, not per evaluation."""
        return normalise(self.title)

    @cached_property
    def abstract_key(self) -> str:
        """The abstract as the duplicate check compares it."""
        return normalise(self.abstract)


def find_duplicates(title: str, abstract: str, pi_id: str, unit_id: str | None, corpus: Sequence[PriorWork],
                    thresholds: Thresholds = Thresholds()) -> list[DuplicateHit]:
    """Every prior work whose title or abstract is similar enough, best first (one hit per work and field)."""
    from rapidfuzz import fuzz, process  # loaded by the check, not by every module that names a PriorWork

    hits: list[DuplicateHit] = []
    fields: tuple[tuple[Field, str, float, float], ...] = (
        ("title", title, thresholds.title, min(thresholds.title, thresholds.related)),
        ("abstract", abstract, thresholds.abstract, thresholds.abstract))
    for field, text, limit, related in fields:
        query = normalise(text)
        if not query:
            continue
        choices = [w.title_key for w in corpus] if field == "title" else [w.abstract_key for w in corpus]
        for _, score, i in process.extract(query, choices, scorer=fuzz.ratio, processor=None, score_cutoff=related,
                                           limit=None):
            work = corpus[i]
            if not choices[i]:
                continue
            same_pi, same_unit = work.pi_id == pi_id, unit_id is not None and work.unit_id == unit_id
            if score >= limit or same_pi or same_unit:
                hits.append(DuplicateHit(work.ref, work.call_id, work.year, field, score, same_pi, same_unit))
    return sorted(hits, key=lambda h: -h.score)
