"""The bench call: one application window on wall-clock instants and a two-step chain due at its close.

Drafts close (`closed_unsubmitted`) and applications still in the chain lapse at the same deadline, so every
open application of the call is settled by that one instant.
"""

from __future__ import annotations

from datetime import datetime

from client.calls import Prepared, prepare
from models.call import CallDefinition

CHAIN = (("unit_review", "unit_admin"), ("organiser_review", "recommender"))
PEOPLE_ROLES = ("applicant", *(role for _, role in CHAIN))


def bench_call(call_id: str, opens: datetime, closes: datetime) -> Prepared:
    """A call whose application window is [opens, closes); later phases open by hand and never do here."""
    years = sorted({opens.year, closes.year})
    definition = CallDefinition.model_validate({
        "id": call_id,
        "title": "grantflow 基准测试项目",
        "issuer": "grantflow bench",
        "source": "bench/call.py",
        "programme": "bench",
        "categories": [{"id": "general", "name": "面上项目"}],
        "phases": [
            {"id": "application", "kind": "application", "name": "网上填报受理期", "opens": opens, "closes": closes},
            {"id": "formal_review", "kind": "formal_review", "name": "形式审查", "opens": "manual"},
            {"id": "expert_review", "kind": "expert_review", "name": "专家评审", "role": "expert",
             "opens": "manual"},
            {"id": "publicity", "kind": "publicity", "name": "拟立项公示", "opens": "manual",
             "closes": {"days": 7}},
            {"id": "contract", "kind": "contract", "name": "签订任务书", "opens": "manual"},
        ],
        "chain": [{"id": step, "name": step, "role": role, "deadline": {"phase": "application"}}
                  for step, role in CHAIN],
        "attachments": [{"kind": "integrity_pledge", "name": "承诺书"}],
        "reminders": [],
        # No instant of this call counts working days: weekends-only years keep it loadable in any year.
        "calendar": [{"year": y, "source": "bench: weekends only", "holidays": []} for y in years],
    })
    return prepare(definition)


def people(i: int) -> dict[str, str]:
    return {role: f"{role}-{i}" for role in PEOPLE_ROLES}


def chain_steps() -> list[tuple[str, str]]:
    """(trigger, role) of every change that takes a draft through the whole chain: submit, then each approval."""
    return [("submit", "applicant"), *(("approve", role) for _, role in CHAIN)]
