"""Formal-review activity: read the registry snapshot for one form and evaluate the call's rules on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from models.call import CallDefinition
from models.facts import Facts
from models.forms import ApplicationForm
from models.rules import Verdict, evaluate
from services.registry import snapshot


@dataclass
class EvaluateInput:
    """`submitted_at` in the call's own dates: give a rehearsal's instant back (less the shift) before calling."""

    call: CallDefinition
    form: ApplicationForm
    submitted_at: datetime


class EligibilityActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn
    def evaluate_formal(self, inp: EvaluateInput) -> list[Verdict]:
        """One verdict per rule id of the call (rules, then attachments); reads only, so a retry is harmless."""
        with Session(self.engine) as session:
            registry = snapshot(session, inp.form)
        return evaluate(inp.call, Facts(inp.form, registry, inp.submitted_at, inp.call.zone))
