"""The second half of the lifecycle for calls with a `review:` section: review stages whose outcomes a stage
workflow tells each application, the ranked decision with reserves, publicity whose upheld objection promotes the
next reserve, and the contract (任务书) as a stage of its own with a return loop and ordered signatures."""

from __future__ import annotations

from models.call import CallDefinition, PhaseDef
from models.lifecycle import Due, Lifecycle, StateSpec, TransitionSpec, Window, only_categories

SIGNATORIES: tuple[tuple[str, str | None], ...] = (
    ("applicant", None), ("cto", "enterprise_led"), ("unit_admin", None), ("recommender", None),
)  # 任务书 signatures in order: PI, CTO where enterprise-led, unit, recommender


def signing_state(role: str) -> str:
    return f"signing_{role}"


def _signature_targets(start: int) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(state, conditions, unless) after the signature at `start - 1`: a conditional signatory is skipped without
    its flag."""
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    skipped: list[str] = []
    for role, flag in SIGNATORIES[start:]:
        if flag:
            out.append((signing_state(role), (f"when_{flag}",), tuple(skipped)))
            skipped.append(f"when_{flag}")
            continue
        out.append((signing_state(role), (), tuple(skipped)))
        return out
    out.append(("signed_unreceived", (), tuple(skipped)))
    return out


def _late_paper(paper: PhaseDef, states: list[StateSpec], ts: list[TransitionSpec]) -> list[str]:
    """Paper after publicity, only from approved projects (a paper phase for some categories leaves the others
    approved); the states the task book starts from."""
    states += [StateSpec("paper_received", "paper received"), StateSpec("paper_missing", "paper missing", True)]
    only = only_categories(paper)
    ts.append(TransitionSpec("receive_paper", "approved", "paper_received", ("agency", "manager"),
                             Window(phase=paper.id), conditions=only, notify=("applicant",), remind=True))
    ts.append(TransitionSpec("mark_paper_missing", "approved", "paper_missing", ("system",), due=Due(phase=paper.id),
                             conditions=only, notify=("applicant",)))
    return ["paper_received", "approved"] if paper.categories else ["paper_received"]


def forfeits(call: CallDefinition, reviews: list[PhaseDef]) -> list[TransitionSpec]:
    """An application recorded absent at its defence slot is withdrawn (逾期未参加答辩视为弃权), in each defence stage."""
    return [TransitionSpec("forfeit", f"in_{p.id}", "withdrawn", ("system",), notify=("applicant",))
            for p in reviews if call.review and call.review.stage(p.id).defence]


def staged(call: CallDefinition, reviews: list[PhaseDef], publicity: PhaseDef, contract: PhaseDef,
           paper: PhaseDef | None = None) -> tuple[list[StateSpec], list[TransitionSpec]]:
    """States and transitions from formal_passed to the end of the contract (through `paper` after publicity when
    the call has it there)."""
    states: list[StateSpec] = []
    ts: list[TransitionSpec] = []
    review_states = [f"in_{p.id}" for p in reviews]
    states += [StateSpec(s, f"in {p.name}") for s, p in zip(review_states, reviews)]
    ts.append(TransitionSpec("start_review", "formal_passed", review_states[0], ("system",),
                             due=Due(phase=reviews[0].id, edge="opens")))
    for k, state in enumerate(review_states):
        if k + 1 < len(review_states):
            ts.append(TransitionSpec("advance", state, review_states[k + 1], ("system",)))
        else:
            ts.append(TransitionSpec("fund", state, "shortlisted", ("system",), notify=("applicant",)))
            ts.append(TransitionSpec("reserve", state, "reserve", ("system",), notify=("applicant",)))
        ts.append(TransitionSpec("eliminate", state, "not_funded", ("system",), notify=("applicant",)))
    ts += forfeits(call, reviews)
    states += [StateSpec("shortlisted", "funded on the approved ranked list"),
               StateSpec("reserve", "reserve on the ranked list (候补)")]
    opens_publicity = Due(phase=publicity.id, edge="opens")
    for src in ["formal_passed", *review_states]:
        ts.append(TransitionSpec("not_fund", src, "not_funded", ("system",), due=opens_publicity, notify=("applicant",)))
    in_publicity = Window(phase=publicity.id)
    states += [StateSpec("publicised", "publicised"), StateSpec("objection_raised", "objection raised"),
               StateSpec("not_funded", "not funded", True), StateSpec("approved", "approved: task book to draft")]
    ts.append(TransitionSpec("publicise", "shortlisted", "publicised", ("system",), due=opens_publicity,
                             notify=("applicant", "unit_admin")))
    ts.append(TransitionSpec("promote", "reserve", "publicised", ("system",), in_publicity,
                             notify=("applicant", "unit_admin")))
    ts.append(TransitionSpec("not_fund", "reserve", "not_funded", ("system",), due=Due(phase=publicity.id),
                             notify=("applicant",)))
    ts.append(TransitionSpec("object", "publicised", "objection_raised", ("public",), in_publicity,
                             needs_reason=True, notify=("manager", "applicant"), anonymous=True))
    ts.append(TransitionSpec("dismiss_objection", "objection_raised", "publicised", ("manager",), needs_reason=True,
                             notify=("applicant",)))
    ts.append(TransitionSpec("uphold_objection", "objection_raised", "not_funded", ("manager",), needs_reason=True,
                             notify=("applicant", "unit_admin")))
    ts.append(TransitionSpec("approve", "publicised", "approved", ("system",), due=Due(phase=publicity.id),
                             notify=("applicant", "unit_admin")))
    starts = _late_paper(paper, states, ts) if paper is not None else ["approved"]
    in_contract = Window(phase=contract.id)
    signing = [signing_state(role) for role, _ in SIGNATORIES]
    states += [StateSpec("taskbook_review", "task book in division review")]
    states += [StateSpec(signing_state(role), f"task book awaiting the {role}'s signature") for role, _ in SIGNATORIES]
    states += [StateSpec("signed_unreceived", "signed task book awaiting receipt"),
               StateSpec("contract_signed", "contract signed", True),
               StateSpec("contract_lapsed", "contract lapsed", True)]
    for src in starts:
        ts.append(TransitionSpec("submit_taskbook", src, "taskbook_review", ("applicant",), in_contract,
                                 notify=("applicant", "manager"), remind=True))
    back = only_categories(paper) if paper is not None else ()
    ts.append(TransitionSpec("return_taskbook", "taskbook_review", starts[0], ("manager",), in_contract,
                             conditions=back, needs_reason=True, notify=("applicant",)))
    if back:  # the categories with no paper go back to approved
        ts.append(TransitionSpec("return_taskbook", "taskbook_review", "approved", ("manager",), in_contract,
                                 unless=back, needs_reason=True, notify=("applicant",)))
    for dest, cond, unless in _signature_targets(0):
        ts.append(TransitionSpec("accept_taskbook", "taskbook_review", dest, ("manager",), in_contract,
                                 conditions=cond, unless=unless, notify=("applicant",)))
    for i, (role, _) in enumerate(SIGNATORIES):
        for dest, cond, unless in _signature_targets(i + 1):
            ts.append(TransitionSpec("sign", signing[i], dest, (role,), in_contract, conditions=cond, unless=unless,
                                     notify=("applicant",), remind=True))
    ts.append(TransitionSpec("receive_contract", "signed_unreceived", "contract_signed", ("agency", "manager"),
                             in_contract, notify=("applicant", "unit_admin"), remind=True))
    for src in dict.fromkeys(["approved", *starts, "taskbook_review", *signing, "signed_unreceived"]):
        ts.append(TransitionSpec("lapse_contract", src, "contract_lapsed", ("system",), due=Due(phase=contract.id),
                                 notify=("applicant", "manager")))
    return states, ts


def staged_lifecycle(call: CallDefinition, states: list[StateSpec], ts: list[TransitionSpec], reviews: list[PhaseDef],
                     publicity: PhaseDef, contract: PhaseDef, late_paper: PhaseDef | None = None) -> Lifecycle:
    """A call whose review the file declares (`review:`): submission, chain and formal review as `states` and `ts`
    say, then the stages; an application still waiting for a formal decision is not funded."""
    more_states, more = staged(call, reviews, publicity, contract, late_paper)
    more.append(TransitionSpec("not_fund", "formal_pending", "not_funded", ("system",),
                               due=Due(phase=publicity.id, edge="opens"), notify=("applicant",)))
    return Lifecycle(call_id=call.id, states=tuple(states + more_states), transitions=tuple(ts + more),
                     steps=tuple(s.id for s in call.chain))
