"""Eligibility activity: read the registry snapshot for one form and evaluate the call's rules on it, those of formal
review or those of the recommender's step."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from models.call import CallDefinition
from models.duplicates import PriorWork
from models.facts import Facts
from models.forms import ApplicationForm
from models.rules import FORMAL, Verdict, evaluate
from records.registry import corpus_size, prior_work, snapshot

CORPUS_MAX_AGE_S = 60.0


@dataclass
class EvaluateInput:
    """`submitted_at` in the call's own dates: give a rehearsal's instant back (less the shift) before calling; `at`:
    the rules checked there (formal_review, recommendation)."""

    call: CallDefinition
    form: ApplicationForm
    submitted_at: datetime
    at: str = FORMAL


class EligibilityActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._corpus: tuple[tuple[int, int], float, tuple[PriorWork, ...]] | None = None
        self._corpus_lock = threading.Lock()

    @activity.defn
    def evaluate_formal(self, inp: EvaluateInput) -> list[Verdict]:
        """One verdict per rule id of the call checked `at` (rules, then at formal review attachments); reads only,
        so a retry is harmless."""
        with Session(self.engine) as session:
            registry = snapshot(session, inp.form, self._prior_work(session),
                                inp.submitted_at.astimezone(inp.call.zone).year)
        return evaluate(inp.call, Facts(inp.form, registry, inp.submitted_at, inp.call.zone), inp.at)

    def _prior_work(self, session: Session) -> tuple[PriorWork, ...]:
        """The duplicate check's corpus, read once for the burst of reviews a formal-review phase starts (every
        application of the call at once) instead of once per application: kept while the number of applications
        and projects is unchanged, and at most CORPUS_MAX_AGE_S."""
        with self._corpus_lock:
            size = corpus_size(session)
            if self._corpus is None or self._corpus[0] != size or time.monotonic() - self._corpus[1] > CORPUS_MAX_AGE_S:
                self._corpus = (size, time.monotonic(), prior_work(session))
            return self._corpus[2]
