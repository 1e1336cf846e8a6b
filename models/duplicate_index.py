"""Duplicate detection against a whole corpus: an index of character bigrams (TF-IDF, numpy postings) finds the
candidates, then title, abstract, PI, unit and budget are weighed per pair, with the reasons shown."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz

from models.duplicates import THRESHOLD, PriorWork, normalise

CANDIDATES = 50  # candidates per check taken from the index, before the pairs are weighed
MAX_DF = 0.05  # grams in more than this share of the corpus carry no evidence ("研究", "技术") and are not indexed
FIELDS = {"title": 0.3, "abstract": 0.5, "wording": 0.2}  # with both abstracts; without, the title decides
SAME_ABSTRACT = 0.95
WEIGHTS = {"same_pi": 0.10, "same_unit": 0.05, "same_budget": 0.05}
REASONS = {"same_pi": "same PI", "same_unit": "same unit", "same_budget": "same budget"}


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: a sort and a mask (numpy 2.4's `unique` hashes, 50 times slower on keys)."""
    ordered = np.sort(values)
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def grams(text: str) -> np.ndarray:
    """The distinct character bigrams of the normalised text, as integer keys (two code points)."""
    key = normalise(text)
    if len(key) < 2:
        return np.empty(0, dtype=np.uint64)
    points = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    return distinct((points[:-1] << np.uint64(21)) | points[1:])


def corpus_grams(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(document, bigram key) once for every distinct bigram of every text, computed over the whole corpus at once:
    the texts joined, bigrams that straddle two texts (or the title and abstract, at the newline) dropped."""
    keys = ["\x00".join(normalise(part) for part in t.split("\n")) for t in texts]
    joined = "\x01".join(keys)
    if len(joined) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    doc_of = np.cumsum(points == 1)  # the text each code point belongs to: separators counted before it
    pair = (points[:-1] << np.uint64(21)) | points[1:]
    inside = (points[:-1] > 1) & (points[1:] > 1)
    doc = doc_of[:-1][inside].astype(np.uint64)
    both = distinct((doc << np.uint64(42)) | pair[inside])
    return (both >> np.uint64(42)).astype(np.int64), both & np.uint64((1 << 42) - 1)


@dataclass(frozen=True)
class Match:
    """A prior or concurrent work suspected to duplicate the checked one: its score and why."""

    work: PriorWork
    score: float
    reasons: tuple[str, ...]

    def describe(self) -> str:
        where = f"{self.work.call_id or 'registry'}, {self.work.year}"
        return f"{self.work.ref} ({where}) {self.score:.2f}: {'; '.join(self.reasons)}"


def weigh(query: PriorWork, work: PriorWork, cosine: float) -> tuple[float, tuple[str, ...]]:
    """A pair's score: the strongest textual evidence (title, abstract, bigram cosine of both), raised by a shared
    PI, unit or budget; and the reasons, strongest first."""
    title = fuzz.ratio(query.title_key, work.title_key) / 100 if query.title_key and work.title_key else 0.0
    abstract = (fuzz.ratio(query.abstract_key, work.abstract_key) / 100
                if query.abstract_key and work.abstract_key else 0.0)
    evidence = sorted([(title, f"title {title:.0%}"), (abstract, f"abstract {abstract:.0%}"),
                       (cosine, f"wording {cosine:.0%}")], reverse=True)
    reasons = [e[1] for e in evidence if e[0] >= 0.5]
    if query.abstract_key and work.abstract_key:  # the abstract weighs most: a title alone is often shared
        weighted = FIELDS["title"] * title + FIELDS["abstract"] * abstract + FIELDS["wording"] * cosine
        score = max(weighted, SAME_ABSTRACT * abstract)  # one abstract under a new title is a duplicate by itself
    else:
        score = max(title, cosine)
    same_pi = query.pi_id == work.pi_id
    for name, same in (("same_pi", same_pi),  # the unit counts only for another PI: a PI's own unit adds nothing
                       ("same_unit", not same_pi and query.unit_id is not None and query.unit_id == work.unit_id),
                       ("same_budget", query.budget_cny is not None and query.budget_cny == work.budget_cny)):
        if same:
            score += WEIGHTS[name]
            reasons.append(REASONS[name] + (f" {work.budget_cny}" if name == "same_budget" else ""))
    return score, tuple(reasons)


class DuplicateIndex:
    """Built once per corpus (all calls, all years); `check` compares one application with every work in it."""

    def __init__(self, corpus: Sequence[PriorWork]) -> None:
        self.corpus = list(corpus)
        n = len(self.corpus)
        docs, keys = corpus_grams([f"{w.title}\n{w.abstract}" for w in self.corpus])
        self.vocab, gram = np.unique(keys, return_inverse=True)
        df = np.bincount(gram, minlength=len(self.vocab))
        self.idf = np.log((n + 1) / (df + 1)) + 1.0
        self.idf[df > max(2, MAX_DF * n)] = 0.0
        norm = np.sqrt(np.bincount(docs, weights=self.idf[gram] ** 2, minlength=n))
        weight = self.idf[gram] / np.where(norm[docs] > 0, norm[docs], 1.0)
        order = np.argsort(gram, kind="stable")
        self.post_docs, self.post_weight = docs[order], weight[order].astype(np.float32)
        self.offsets = np.concatenate([[0], np.cumsum(df)])
        self.by_pi: dict[str, list[int]] = {}
        for i, w in enumerate(self.corpus):
            self.by_pi.setdefault(w.pi_id, []).append(i)

    def cosines(self, query: PriorWork) -> np.ndarray:
        """The bigram TF-IDF cosine of the query with every work (0 where no indexed gram is shared)."""
        n = len(self.corpus)
        if not len(self.vocab):
            return np.zeros(n)
        keys = distinct(np.concatenate([grams(query.title), grams(query.abstract)]))
        at = np.searchsorted(self.vocab, keys)
        known = at[(at < len(self.vocab)) & (self.vocab[np.minimum(at, len(self.vocab) - 1)] == keys)]
        known = known[self.idf[known] > 0]
        if not len(known):
            return np.zeros(n)
        q = self.idf[known] / math.sqrt(float(np.sum(self.idf[known] ** 2)))
        starts, lengths = self.offsets[known], self.offsets[known + 1] - self.offsets[known]
        # the postings of every query gram, gathered at once: position k of gram j is starts[j] + k
        at = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(int(lengths.sum()))
        weights = self.post_weight[at] * np.repeat(q, lengths)
        return np.bincount(self.post_docs[at], weights=weights, minlength=n)

    def check(self, query: PriorWork, threshold: float = THRESHOLD, candidates: int = CANDIDATES) -> list[Match]:
        """Works scoring at least `threshold` against the query (itself left out), best first."""
        cos = self.cosines(query)
        top = np.argpartition(-cos, min(candidates, len(cos) - 1))[:candidates] if len(cos) else np.empty(0, int)
        picked = {int(i) for i in top if cos[i] > 0} | set(self.by_pi.get(query.pi_id, []))
        out: list[Match] = []
        for i in picked:
            work = self.corpus[i]
            if work.ref == query.ref:
                continue
            score, reasons = weigh(query, work, float(cos[i]))
            if score >= threshold:
                out.append(Match(work, round(score, 4), reasons))
        return sorted(out, key=lambda m: (-m.score, m.work.ref))


_CACHE: dict[int, tuple[Sequence[PriorWork], DuplicateIndex]] = {}
_LOCK = threading.Lock()


def index_for(corpus: Sequence[PriorWork]) -> DuplicateIndex:
    """The index of this corpus object, built once: a formal-review burst reads one corpus for many checks."""
    with _LOCK:
        hit = _CACHE.get(id(corpus))
        if hit is not None and hit[0] is corpus:
            return hit[1]
        index = DuplicateIndex(corpus)
        _CACHE.clear()
        _CACHE[id(corpus)] = (corpus, index)
        return index
