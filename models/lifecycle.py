"""The application lifecycle of a call, declared as data: states, and transitions with roles, windows and dues.

This is the one place that says what may happen to an application. The workflow builds its `transitions`
machine from it, validators read roles and windows from it, and `grantflow calls diagram` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from models.call import CallDefinition, StepDef

STEP_KEY = "step:"
TERMINAL = (
    "withdrawn",
    "closed_unsubmitted",
    "lapsed",
    "paper_missing",
    "formal_failed",
    "not_funded",
    "contract_signed",
    "contract_lapsed",
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

    Conditional steps are skipped when their flag is false; the first unconditional step ends the search.
    """
    out: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = []
    skipped: list[str] = []
    for step in chain[start:]:
        if step.when:
            out.append((step_state(step), (f"when_{step.when}",), tuple(skipped)))
            skipped.append(f"when_{step.when}")
            continue
        out.append((step_state(step), (), tuple(skipped)))
        return out
    out.append((final, (), tuple(skipped)))
    return out


def build_lifecycle(call: CallDefinition) -> Lifecycle:
    """The lifecycle `call` declares. Memoised by the definition's content: every application workflow of a call
    (and every replay of one) shares one immutable Lifecycle instead of building its own."""
    return _lifecycle_of(call.model_dump_json())


@lru_cache(maxsize=64)
def _lifecycle_of(definition_json: str) -> Lifecycle:
    return _build(CallDefinition.model_validate_json(definition_json))


def _build(call: CallDefinition) -> Lifecycle:
    states: list[StateSpec] = [StateSpec("draft", "draft"), StateSpec("returned", "returned for revision")]
    ts: list[TransitionSpec] = []
    app = next(p for p in call.phases if p.kind == "application")
    formal = next(p for p in call.phases if p.kind == "formal_review")
    paper = next((p for p in call.phases if p.kind == "paper"), None)
    reviews = [p for p in call.phases if p.kind == "expert_review"]
    publicity = next(p for p in call.phases if p.kind == "publicity")
    contract = next(p for p in call.phases if p.kind == "contract")
    in_window = Window(phase=app.id)
    step_roles = {step_state(s): s.role for s in call.chain}

    def told(dest: str) -> tuple[str, ...]:
        """Who hears of a move into `dest`: the applicant, and whoever must act there next."""
        return tuple(dict.fromkeys(("applicant", step_roles[dest]))) if dest in step_roles else ("applicant",)

    for src in ("draft", "returned"):
        ts.append(TransitionSpec("edit", src, src, ("applicant",), in_window, internal=True))
        trigger = "submit" if src == "draft" else "resubmit"
        for dest, cond, unless in _chain_targets(call.chain, 0, "accepted"):
            ts.append(
                TransitionSpec(
                    trigger, src, dest, ("applicant",), in_window, conditions=cond, unless=unless,
                    notify=told(dest), remind=True,
                )
            )
        ts.append(TransitionSpec("withdraw", src, "withdrawn", ("applicant",), needs_reason=True, notify=("applicant",)))
        ts.append(
            TransitionSpec("close", src, "closed_unsubmitted", ("system",), due=Due(phase=app.id), notify=("applicant",))
        )

    for i, step in enumerate(call.chain):
        state = step_state(step)
        states.append(StateSpec(state, f"awaiting {step.name}"))
        escalates = step.overdue == "escalate"
        window = None if escalates else Window(step=step.id)
        service = Window(step=step.id) if escalates and step.deadline else None
        for dest, cond, unless in _chain_targets(call.chain, i + 1, "accepted"):
            ts.append(
                TransitionSpec(
                    "approve", state, dest, (step.role,), window, conditions=cond, unless=unless,
                    notify=told(dest), remind=True, service=service,
                )
            )
        if step.can_return:
            ts.append(
                TransitionSpec("return", state, "returned", (step.role,), window, notify=("applicant",), needs_reason=True)
            )
        ts.append(TransitionSpec("withdraw", state, "withdrawn", ("applicant",), needs_reason=True, notify=(step.role,)))
        lapse_due = Due(step=step.id) if step.deadline and not escalates else Due(phase=formal.id, edge="opens")
        ts.append(TransitionSpec("lapse", state, "lapsed", ("system",), due=lapse_due, notify=("applicant", step.role)))

    states += [StateSpec("withdrawn", "withdrawn", True), StateSpec("closed_unsubmitted", "closed unsubmitted", True)]
    states += [StateSpec("lapsed", "lapsed at a step deadline", True), StateSpec("accepted", "accepted")]
    formal_source = "accepted"
    if paper is not None:
        states += [StateSpec("paper_received", "paper received"), StateSpec("paper_missing", "paper missing", True)]
        ts.append(
            TransitionSpec("receive_paper", "accepted", "paper_received", ("agency", "manager"), Window(phase=paper.id),
                           notify=("applicant",), remind=True)
        )
        ts.append(
            TransitionSpec("mark_paper_missing", "accepted", "paper_missing", ("system",), due=Due(phase=paper.id),
                           notify=("applicant",))
        )
        formal_source = "paper_received"

    states += [StateSpec("formal_passed", "formal review passed"), StateSpec("formal_failed", "formal review failed", True)]
    opens_formal = Due(phase=formal.id, edge="opens")
    ts.append(TransitionSpec("pass_formal", formal_source, "formal_passed", ("system",), due=opens_formal,
                             conditions=("formal_ok",)))
    ts.append(TransitionSpec("fail_formal", formal_source, "formal_failed", ("system",), due=opens_formal,
                             unless=("formal_ok",), notify=("applicant",)))
    formal_window = Window(phase=formal.id)
    ts.append(TransitionSpec("reinstate", "formal_failed", "formal_passed", ("manager",), formal_window,
                             needs_reason=True, notify=("applicant",)))
    ts.append(TransitionSpec("disqualify", "formal_passed", "formal_failed", ("manager",), formal_window,
                             needs_reason=True, notify=("applicant",)))

    if call.review is not None:
        from models.lifecycle_stages import staged

        more_states, more = staged(call, reviews, publicity, contract)
        return Lifecycle(call_id=call.id, states=tuple(states + more_states), transitions=tuple(ts + more),
                         steps=tuple(s.id for s in call.chain))
    review_states = [f"in_{p.id}" for p in reviews]
    states += [StateSpec(s, f"in {p.name}") for s, p in zip(review_states, reviews)]
    ts.append(TransitionSpec("start_review", "formal_passed", review_states[0], ("system",),
                             due=Due(phase=reviews[0].id, edge="opens")))
    for k, (state, phase) in enumerate(zip(review_states, reviews)):
        dest = review_states[k + 1] if k + 1 < len(reviews) else "scored"
        assert phase.role is not None
        ts.append(TransitionSpec("score", state, dest, (phase.role,), Window(phase=phase.id), remind=True))
        ts.append(TransitionSpec("reject", state, "not_funded", (phase.role, "manager"), Window(phase=phase.id),
                                 needs_reason=True, notify=("applicant",)))
    states += [StateSpec("scored", "scored"), StateSpec("shortlisted", "shortlisted")]
    ts.append(TransitionSpec("shortlist", "scored", "shortlisted", ("manager",), needs_reason=True))
    ts.append(TransitionSpec("reject", "scored", "not_funded", ("manager",), needs_reason=True, notify=("applicant",)))
    opens_publicity = Due(phase=publicity.id, edge="opens")
    for src in ["formal_passed", *review_states, "scored"]:
        ts.append(TransitionSpec("not_fund", src, "not_funded", ("system",), due=opens_publicity, notify=("applicant",)))

    states += [
        StateSpec("publicised", "publicised"),
        StateSpec("objection_raised", "objection raised"),
        StateSpec("not_funded", "not funded", True),
        StateSpec("approved", "approved"),
        StateSpec("contract_signed", "contract signed", True),
        StateSpec("contract_lapsed", "contract lapsed", True),
    ]
    ts.append(TransitionSpec("publicise", "shortlisted", "publicised", ("system",), due=opens_publicity,
                             notify=("applicant", "unit_admin")))
    ts.append(TransitionSpec("object", "publicised", "objection_raised", ("public",), Window(phase=publicity.id),
                             needs_reason=True, notify=("manager", "applicant")))
    ts.append(TransitionSpec("dismiss_objection", "objection_raised", "publicised", ("manager",), needs_reason=True,
                             notify=("applicant",)))
    ts.append(TransitionSpec("uphold_objection", "objection_raised", "not_funded", ("manager",), needs_reason=True,
                             notify=("applicant",)))
    ts.append(TransitionSpec("approve", "publicised", "approved", ("system",), due=Due(phase=publicity.id),
                             notify=("applicant", "unit_admin")))
    ts.append(TransitionSpec("sign_contract", "approved", "contract_signed", ("applicant",), Window(phase=contract.id),
                             notify=("applicant", "manager"), remind=True))
    ts.append(TransitionSpec("lapse_contract", "approved", "contract_lapsed", ("system",), due=Due(phase=contract.id),
                             notify=("applicant", "manager")))
    return Lifecycle(call_id=call.id, states=tuple(states), transitions=tuple(ts), steps=tuple(s.id for s in call.chain))


def mermaid(lifecycle: Lifecycle) -> str:
    """The lifecycle as a Mermaid stateDiagram-v2, drawn by transitions from the same declaration."""
    from transitions.extensions import GraphMachine

    config = lifecycle.machine_config()
    machine = GraphMachine(graph_engine="mermaid", show_conditions=True, title=lifecycle.call_id,
                           **config)  # type: ignore[arg-type]
    return str(machine.get_graph().draw(None))
