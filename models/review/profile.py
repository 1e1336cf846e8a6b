"""An application as expert review sees it (units, people, recommender, exclusions, money, discipline codes) and
the sample pool of experts a simulation draws from when the registry holds none."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.call import CallDefinition
from models.experts import Collaboration, Expert, Proposal, sample
from models.forms import ApplicationForm

SUBFIELDS = 3  # level-3 codes per category in the derived discipline codes


@dataclass(frozen=True)
class ReviewProfile:
    application_id: str
    category: str
    disciplines: tuple[str, ...]
    lead_unit: str
    pi_id: str
    partner_units: tuple[str, ...] = ()
    team: tuple[str, ...] = ()
    recommender_id: str | None = None
    excluded_experts: tuple[str, ...] = ()
    requested_cny: int = 0
    enterprise_led: bool = False

    def proposal(self) -> Proposal:
        return Proposal(self.application_id, self.disciplines, self.lead_unit, self.pi_id,
                        frozenset(self.partner_units), self.recommender_id, frozenset(self.team),
                        frozenset(self.excluded_experts))


def profile_json(p: ReviewProfile) -> str:
    return json.dumps(dataclasses.asdict(p), ensure_ascii=False)


def profile_from_json(text: str) -> ReviewProfile:
    d: dict[str, Any] = json.loads(text)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
    return ReviewProfile(**fields)


def category_codes(call: CallDefinition, category: str) -> list[str]:
    """The discipline codes of a category ("K" + category position + subfield): a call's categories are its
    disciplines; the registry's national codes take their place when experts and forms carry them."""
    index = [c.id for c in call.categories].index(category) + 1
    return [f"K{index:02d}{sub:02d}" for sub in range(1, SUBFIELDS + 1)]


def profile_of(call: CallDefinition, application_id: str, category: str, people: dict[str, str],
               form: ApplicationForm | None, flags: dict[str, bool]) -> ReviewProfile:
    codes = category_codes(call, category)
    digest = int(hashlib.sha256(application_id.encode()).hexdigest()[:8], 16)
    disciplines = (codes[digest % len(codes)],)
    if form is None:
        return ReviewProfile(application_id, category, disciplines, people.get("unit_admin", ""),
                             people.get("applicant", ""), recommender_id=people.get("recommender"),
                             enterprise_led=flags.get("enterprise_led", False))
    return ReviewProfile(application_id, category, disciplines, form.unit_id, form.pi_id,
                         tuple(p.unit_id for p in form.partners), tuple(m.person_id for m in form.team),
                         form.recommender_id, tuple(form.excluded_experts), form.requested_cny, form.enterprise_led)


def sample_pool(call: CallDefinition, labels: Sequence[str], profiles: Sequence[ReviewProfile], seed: int,
                period: tuple[datetime, datetime], per_stage: int) -> list[Expert]:
    """`per_stage` experts for each pool label over the call's codes and the applicants' units; some co-authored
    with applicants, so that conflicts occur as they would."""
    codes = [code for c in call.categories for code in category_codes(call, c.id)]
    units = sorted({p.lead_unit for p in profiles} | {f"ext-{i}" for i in range(40)})
    people = sorted({p.pi_id for p in profiles} | {t for p in profiles for t in p.team})
    rng = random.Random(seed)
    pool: list[Expert] = []
    for n, label in enumerate(labels):
        drawn = sample(codes, units, experts=per_stage, applications=0, seed=seed + n, period=period, stage=label,
                       max_load=20)
        for e in drawn.experts:
            extra = tuple(Collaboration(rng.choice(people), period[0].year - 1)
                          for _ in range(1 if people and rng.random() < 0.1 else 0))
            pool.append(dataclasses.replace(e, id=f"{label}-{e.id}", stages=frozenset({label}),
                                            collaborations=e.collaborations + extra))
    return pool
