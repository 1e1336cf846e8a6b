"""The application lifecycle of a call, declared as data: states, and transitions with roles, windows and dues.

This is the one place that says what may happen to an application. The workflow builds its `transitions`
machine from it, validators read roles and windows from it, and `grantflow calls diagram` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from models.call import CallDefinition, PhaseDef, StepDef
from models.call.levels import step_condition

STEP_KEY = "step:"
STAGED_PAPER_PATCH = "staged-paper"  # a paper phase after publicity is built into the staged review's lifecycle
TERMINAL = (
    "withdrawn",
    "closed_unsubmitted",
    "lapsed",
    "paper_missing",
    "formal_failed",
    "not_funded",
    "contract_signed",
    "contract_lapsed",
    "forwarded",
)


@dataclass(frozen=True)
class Window:
    """What must be open for an actor's transition: a phase window, or a step's deadline."""

    phase: str | None = None
    step: str | None = None

    @property
    def key(self) -> str:
        """How extensions, statuses and notices name the window: the phase id, or `step:<id>`."""
        return self.phase or f"{STEP_KEY}{self.step}"

    @classmethod
    def of(cls, key: str) -> Window:
        """The window a key names (the inverse of `key`)."""
        return cls(step=key.removeprefix(STEP_KEY)) if key.startswith(STEP_KEY) else cls(phase=key)


@dataclass(frozen=True)
class Due:
    """When a system transition fires: a phase boundary, or a step's deadline."""

    phase: str | None = None
    edge: str = "closes"
    step: str | None = None


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    source: str
    dest: str
    roles: tuple[str, ...]
    window: Window | None = None
    due: Due | None = None
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    needs_reason: bool = False
    remind: bool = False
    internal: bool = False
    service: Window | None = None  # a service deadline: reminded, then overdue and escalated, never a cutoff
    anonymous: bool = False  # the actor is recorded but never named in the applicant's notices (an objector)


@dataclass(frozen=True)
class StateSpec:
    name: str
    label: str
    terminal: bool = False


@dataclass(frozen=True)
class Lifecycle:
    call_id: str
    states: tuple[StateSpec, ...]
    transitions: tuple[TransitionSpec, ...]
    initial: str = "draft"
    steps: tuple[str, ...] = field(default=())

    def state_names(self) -> list[str]:
        return [s.name for s in self.states]

    def is_terminal(self, state: str) -> bool:
        return state in TERMINAL

    def outgoing(self, state: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.source == state]

    def candidates(self, state: str, trigger: str) -> list[TransitionSpec]:
        return [t for t in self.transitions if t.source == state and t.trigger == trigger]

    def triggers(self) -> list[str]:
        return sorted({t.trigger for t in self.transitions})

    def machine_config(self) -> dict[str, object]:
        """Keyword arguments for a `transitions.Machine` over this lifecycle."""
        return {
            "states": self.state_names(),
            "transitions": [
                {
                    "trigger": t.trigger,
                    "source": t.source,
                    "dest": None if t.internal else t.dest,
                    "conditions": list(t.conditions),
                    "unless": list(t.unless),
                }
                for t in self.transitions
            ],
            "initial": self.initial,
            "auto_transitions": False,
            "ignore_invalid_triggers": False,
        }


def step_state(step: StepDef | str) -> str:
    """The state of an application waiting for a step of the approval chain."""
    return f"awaiting_{step if isinstance(step, str) else step.id}"


def state_step(state: str) -> str | None:
    """The chain step an application waits for in `state`, or None outside the chain."""
    return state.removeprefix("awaiting_") if state.startswith("awaiting_") else None


def _chain_targets(chain: list[StepDef], start: int, final: str) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Where an application goes when it enters the chain at index `start`: (state, conditions, unless) in order.

    Conditional steps (a flag's `when`, or a recommending level) are skipped when their condition is false; the first
    unconditional step ends the search.
    """
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    skipped: list[str] = []
    for step in chain[start:]:
        condition = step_condition(step)
        if condition:
            out.append((step_state(step), (f"when_{condition}",), tuple(skipped)))
            skipped.append(f"when_{condition}")
            continue
        out.append((step_state(step), (), tuple(skipped)))
        return out
    out.append((final, (), tuple(skipped)))
    return out


def build_lifecycle(call: CallDefinition, staged_paper: bool = True) -> Lifecycle:
    """The lifecycle `call` declares, memoised by its JSON (`lifecycle_from_json`, which takes a stored definition
    directly): every application workflow of a call (and every replay of one) shares one immutable Lifecycle.
    `staged_paper=False` is the lifecycle runs from before the patch STAGED_PAPER_PATCH were built with: no paper
    after publicity in a staged review."""
    return lifecycle_from_json(call.model_dump_json(), staged_paper)


@lru_cache(maxsize=64)
def lifecycle_from_json(definition_json: str, staged_paper: bool = True) -> Lifecycle:
    return _build(CallDefinition.model_validate_json(definition_json), staged_paper)


@dataclass
class _Draft:
    """A lifecycle being declared: its states and transitions so far, and the states the next stage starts from
    (`at`: one, or more where a stage is only for some categories and the others wait where they are)."""

    states: list[StateSpec]
    ts: list[TransitionSpec]
    at: list[str] = field(default_factory=lambda: ["accepted"])


def only_categories(phase: PhaseDef) -> tuple[str, ...]:
    """The condition of a stage that only some categories pass (their applications' flag `in_<phase>`)."""
    return (f"when_in_{phase.id}",) if phase.categories else ()


def _build(call: CallDefinition, staged_paper: bool) -> Lifecycle:
    """Submission and the chain, then only the stages the call lists, in its order: each starts from the states the
    ones before left an application in. A call without a contract ends by forwarding its applications."""
    d = _Draft([StateSpec("draft", "draft"), StateSpec("returned", "returned for revision")], [])
    kinds = [p.kind for p in call.phases]
    formal = next((p for p in call.phases if p.kind == "formal_review"), None)
    first_paper = kinds.index("paper") if "paper" in kinds else -1
    late_paper = first_paper >= 0 and "publicity" in kinds[:first_paper]
    paper = call.phases[first_paper] if first_paper >= 0 else None
    reviews = [p for p in call.phases if p.kind == "expert_review"]
    publicity = next((p for p in call.phases if p.kind == "publicity"), None)
    contract = next((p for p in call.phases if p.kind == "contract"), None)
    last = _last_close(call)
    chain_end = Due(phase=formal.id, edge="opens") if formal else Due(phase=last.id)
    _submission_and_chain(call, d, chain_end)
    if paper is not None and not late_paper:
        _paper(d, paper)
    if formal is not None:
        _formal(d, formal.id)
    from models.lifecycle_stages import forfeits, staged_lifecycle  # they build on this module's declarations
    if call.review is not None and formal is not None and reviews and publicity is not None and contract is not None:
        return staged_lifecycle(call, d.states, d.ts, reviews, publicity, contract,
                                paper if late_paper and staged_paper else None)
    selected = bool(publicity or contract)
    unselected = [*d.at, *(["formal_pending"] if formal is not None else [])]  # still undecided when funding is
    if reviews:
        _reviews(d, reviews)
        d.ts += forfeits(call, reviews)
        unselected += [*(f"in_{p.id}" for p in reviews), "scored"]
    if selected:
        d.states += [StateSpec("shortlisted", "shortlisted")]
        for src in d.at:
            d.ts.append(TransitionSpec("shortlist", src, "shortlisted", ("manager",), needs_reason=True))
            d.ts.append(TransitionSpec("reject", src, "not_funded", ("manager",), needs_reason=True,
                                       notify=("applicant",)))
        decided = Due(phase=publicity.id, edge="opens") if publicity else Due(phase=contract.id, edge="opens")  # type: ignore[union-attr]
        for src in unselected:
            d.ts.append(TransitionSpec("not_fund", src, "not_funded", ("system",), due=decided, notify=("applicant",)))
        d.at = ["shortlisted"]
    if publicity is not None:
        _publicity(d, publicity.id)
    elif selected or reviews:
        d.states += [StateSpec("not_funded", "not funded", True)]
    if paper is not None and late_paper:
        _paper(d, paper)
    if contract is not None:
        d.states += [StateSpec("contract_signed", "contract signed", True),
                     StateSpec("contract_lapsed", "contract lapsed", True)]
        for src in d.at:
            d.ts.append(TransitionSpec("sign_contract", src, "contract_signed", ("applicant",),
                                       Window(phase=contract.id), notify=("applicant", "manager"), remind=True))
            d.ts.append(TransitionSpec("lapse_contract", src, "contract_lapsed", ("system",),
                                       due=Due(phase=contract.id), notify=("applicant", "manager")))
    else:
        d.states.append(StateSpec("forwarded", f"forwarded to {call.forwarded_to}", True))
        for src in [f"in_{p.id}" for p in reviews]:  # not heard at its review or defence (逾期未参加视为弃权)
            d.ts.append(TransitionSpec("not_fund", src, "not_funded", ("system",), due=Due(phase=last.id),
                                       notify=("applicant",)))
        for src in d.at:
            d.ts.append(TransitionSpec("forward", src, "forwarded", ("system",), due=Due(phase=last.id),
                                       notify=("applicant",)))
    return Lifecycle(call_id=call.id, states=tuple(d.states), transitions=tuple(d.ts),
                     steps=tuple(s.id for s in call.chain))


def _review_targets(reviews: list[PhaseDef], start: int, final: str | None
                    ) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """Where an application goes into the reviews from index `start`: a review only some categories pass is skipped
    by the others; the first review for all ends the search, else `final` (None: the others stay where they are)."""
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    skipped: list[str] = []
    for p in reviews[start:]:
        out.append((f"in_{p.id}", only_categories(p), tuple(skipped)))
        if not p.categories:
            return out
        skipped += only_categories(p)
    return out + ([(final, (), tuple(skipped))] if final else [])


def _reviews(d: _Draft, reviews: list[PhaseDef]) -> None:
    """Expert review panels, or a defence (答辩) that only some categories pass, in their order, to `scored`."""
    review_states = [f"in_{p.id}" for p in reviews]
    d.states += [StateSpec(s, f"in {p.name}") for s, p in zip(review_states, reviews)]
    for src in d.at:
        for dest, cond, unless in _review_targets(reviews, 0, None):
            d.ts.append(TransitionSpec("start_review", src, dest, ("system",), conditions=cond, unless=unless,
                                       due=Due(phase=reviews[0].id, edge="opens")))
    for k, (state, phase) in enumerate(zip(review_states, reviews)):
        assert phase.role is not None
        for dest, cond, unless in _review_targets(reviews, k + 1, "scored"):
            d.ts.append(TransitionSpec("score", state, dest, (phase.role,), Window(phase=phase.id), conditions=cond,
                                       unless=unless, remind=True))
        d.ts.append(TransitionSpec("reject", state, "not_funded", (phase.role, "manager"), Window(phase=phase.id),
                                   needs_reason=True, notify=("applicant",)))
    d.states += [StateSpec("scored", "scored")]
    d.at = ["scored", *d.at] if all(p.categories for p in reviews) else ["scored"]


def _last_close(call: CallDefinition) -> PhaseDef:
    """The phase whose close ends the call's timeline: the latest dated close where every close is dated (windows
    overlap: a paper window may close inside the recommendation window), else the last phase listed."""
    closes = [p.closes for p in call.phases]
    if all(isinstance(c, datetime) for c in closes):
        return max(call.phases, key=lambda p: (p.closes, call.phases.index(p)))
    return call.phases[-1]


def _submission_and_chain(call: CallDefinition, d: _Draft, chain_end: Due) -> None:
    """Drafts, submission, the approval chain to `accepted`; a step without a deadline of its own lapses at
    `chain_end` (formal review's opening, or the call's last close)."""
    app = next(p for p in call.phases if p.kind == "application")
    in_window = Window(phase=app.id)
    step_roles = {step_state(s): s.role for s in call.chain}

    def told(dest: str) -> tuple[str, ...]:
        """Who hears of a move into `dest`: the applicant, and whoever must act there next."""
        return tuple(dict.fromkeys(("applicant", step_roles[dest]))) if dest in step_roles else ("applicant",)

    ts = d.ts
    for src in ("draft", "returned"):
        ts.append(TransitionSpec("edit", src, src, ("applicant",), in_window, internal=True))
        trigger = "submit" if src == "draft" else "resubmit"
        for dest, cond, unless in _chain_targets(call.chain, 0, "accepted"):
            ts.append(TransitionSpec(trigger, src, dest, ("applicant",), in_window, conditions=cond, unless=unless,
                                     notify=told(dest), remind=True))
        ts.append(TransitionSpec("withdraw", src, "withdrawn", ("applicant",), needs_reason=True, notify=("applicant",)))
        ts.append(
            TransitionSpec("close", src, "closed_unsubmitted", ("system",), due=Due(phase=app.id), notify=("applicant",))
        )
    for i, step in enumerate(call.chain):
        state = step_state(step)
        d.states.append(StateSpec(state, f"awaiting {step.name}"))
        escalates = step.overdue == "escalate"
        window = None if escalates else Window(step=step.id)
        service = Window(step=step.id) if escalates and step.deadline else None
        for dest, cond, unless in _chain_targets(call.chain, i + 1, "accepted"):
            ts.append(TransitionSpec("approve", state, dest, (step.role,), window, conditions=cond, unless=unless,
                                     notify=told(dest), remind=True, service=service))
        if step.can_return:
            ts.append(
                TransitionSpec("return", state, "returned", (step.role,), window, notify=("applicant",), needs_reason=True)
            )
        ts.append(TransitionSpec("withdraw", state, "withdrawn", ("applicant",), needs_reason=True, notify=(step.role,)))
        lapse_due = Due(step=step.id) if step.deadline and not escalates else chain_end
        ts.append(TransitionSpec("lapse", state, "lapsed", ("system",), due=lapse_due, notify=("applicant", step.role)))
    d.states += [StateSpec("withdrawn", "withdrawn", True), StateSpec("closed_unsubmitted", "closed unsubmitted", True)]
    d.states += [StateSpec("lapsed", "lapsed at a step deadline", True), StateSpec("accepted", "accepted")]


def _paper(d: _Draft, phase: PhaseDef) -> None:
    """Paper received in the paper window (after the chain, or after publicity: paper only from funded projects),
    missing at its close; a paper phase for some categories only leaves the others where they are."""
    d.states += [StateSpec("paper_received", "paper received"), StateSpec("paper_missing", "paper missing", True)]
    only = only_categories(phase)
    for src in d.at:
        d.ts.append(TransitionSpec("receive_paper", src, "paper_received", ("agency", "manager"),
                                   Window(phase=phase.id), conditions=only, notify=("applicant",), remind=True))
        d.ts.append(TransitionSpec("mark_paper_missing", src, "paper_missing", ("system",), due=Due(phase=phase.id),
                                   conditions=only, notify=("applicant",)))
    d.at = ["paper_received", *d.at] if phase.categories else ["paper_received"]


def _formal(d: _Draft, phase_id: str) -> None:
    """Formal review at its opening: passed, failed, or waiting for a person's decision on each rule that needs one
    (no rule fails but some say "review"); the manager decides each, reinstates or disqualifies."""
    d.states += [StateSpec("formal_passed", "formal review passed"),
                 StateSpec("formal_failed", "formal review failed", True),
                 StateSpec("formal_pending", "formal review waiting for a person's decision")]
    opens_formal = Due(phase=phase_id, edge="opens")
    for src in d.at:
        d.ts.append(TransitionSpec("pass_formal", src, "formal_passed", ("system",), due=opens_formal,
                                   conditions=("formal_ok",)))
        d.ts.append(TransitionSpec("fail_formal", src, "formal_failed", ("system",), due=opens_formal,
                                   unless=("formal_ok", "formal_pending"), notify=("applicant",)))
        d.ts.append(TransitionSpec("hold_formal", src, "formal_pending", ("system",), due=opens_formal,
                                   conditions=("formal_pending",), unless=("formal_ok",),
                                   notify=("applicant", "manager")))
    formal_window = Window(phase=phase_id)
    d.ts.append(TransitionSpec("decide", "formal_pending", "formal_pending", ("manager",), formal_window,
                               conditions=("formal_pending",), needs_reason=True, internal=True))
    d.ts.append(TransitionSpec("decide", "formal_pending", "formal_passed", ("manager",), formal_window,
                               conditions=("formal_ok",), needs_reason=True, notify=("applicant",)))
    d.ts.append(TransitionSpec("decide", "formal_pending", "formal_failed", ("manager",), formal_window,
                               unless=("formal_ok", "formal_pending"), needs_reason=True, notify=("applicant",)))
    d.ts.append(TransitionSpec("reinstate", "formal_failed", "formal_passed", ("manager",), formal_window,
                               needs_reason=True, notify=("applicant",)))
    d.ts.append(TransitionSpec("disqualify", "formal_passed", "formal_failed", ("manager",), formal_window,
                               needs_reason=True, notify=("applicant",)))
    d.at = ["formal_passed"]


def _publicity(d: _Draft, phase_id: str) -> None:
    d.states += [StateSpec("publicised", "publicised"), StateSpec("objection_raised", "objection raised"),
                 StateSpec("not_funded", "not funded", True)]
    for src in d.at:
        d.ts.append(TransitionSpec("publicise", src, "publicised", ("system",), due=Due(phase=phase_id, edge="opens"),
                                   notify=("applicant", "unit_admin")))
    d.ts.append(TransitionSpec("object", "publicised", "objection_raised", ("public",), Window(phase=phase_id),
                               needs_reason=True, notify=("manager", "applicant")))
    d.ts.append(TransitionSpec("dismiss_objection", "objection_raised", "publicised", ("manager",), needs_reason=True,
                               notify=("applicant",)))
    d.ts.append(TransitionSpec("uphold_objection", "objection_raised", "not_funded", ("manager",), needs_reason=True,
                               notify=("applicant",)))
    d.ts.append(TransitionSpec("approve", "publicised", "approved", ("system",), due=Due(phase=phase_id),
                               notify=("applicant", "unit_admin")))
    d.states += [StateSpec("approved", "approved")]
    d.at = ["approved"]


def mermaid(lifecycle: Lifecycle) -> str:
    """The lifecycle as a Mermaid stateDiagram-v2, drawn by transitions from the same declaration."""
    from transitions.extensions import GraphMachine

    config = lifecycle.machine_config()
    machine = GraphMachine(graph_engine="mermaid", show_conditions=True, title=lifecycle.call_id,
                           **config)  # type: ignore[arg-type]
    return str(machine.get_graph().draw(None))
