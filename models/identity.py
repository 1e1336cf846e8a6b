"""Who acts: an identity (subject, grants of roles bound to scopes) and what its grants reach; pure data, checked at
the interfaces and again in the workflows' update validators from the snapshot a request carries."""

from __future__ import annotations

from dataclasses import dataclass, field

PEOPLE_ROLES = ("applicant", "cto", "unit_admin", "recommender", "agency", "manager", "expert", "committee",
                "auditor", "public")
SCOPE_KEYS = ("call", "programme", "unit", "application", "applicant")
READ_ROLES = tuple(r for r in PEOPLE_ROLES if r != "public")
UNIT_ROLES = ("unit_admin", "cto")
# The scope shapes each role may be granted ("self": the applicant's own applications; "*": everything).
SCOPE_SHAPES: dict[str, tuple[frozenset[str], ...]] = {
    "applicant": (frozenset({"self"}),),
    "unit_admin": (frozenset({"unit"}),),
    "cto": (frozenset({"unit"}),),
    "recommender": (frozenset({"call", "unit"}),),
    "agency": (frozenset({"*"}), frozenset({"call"})),
    "manager": (frozenset({"call"}), frozenset({"programme"})),
    "expert": (frozenset({"application"}),),
    "committee": (frozenset({"call"}),),
    "auditor": (frozenset({"*"}),),
    "public": (frozenset({"*"}),),
}


@dataclass(frozen=True)
class Target:
    """What an action touches: a call (and its programme), and for an application its id, unit and applicant."""

    call: str = ""
    programme: str = ""
    unit: str = ""
    application: str = ""
    applicant: str = ""

    def get(self, key: str) -> str:
        return str(getattr(self, key))

    def describe(self) -> str:
        parts = [f"{k} {self.get(k)}" for k in ("application", "call", "unit") if self.get(k)]
        return ", ".join(parts) or "this"


@dataclass(frozen=True)
class Grant:
    """A role bound to a scope: `*`, `self`, or `key:value` pairs joined by commas, all of which must match."""

    role: str
    scope: str = "*"

    def constraints(self, subject: str) -> list[tuple[str, str]]:
        if self.scope == "*":
            return []
        if self.scope == "self":
            return [("applicant", subject)]
        return [(k, v) for k, _, v in (part.partition(":") for part in self.scope.split(","))]

    def covers(self, subject: str, target: Target) -> bool:
        return all(target.get(k) == v for k, v in self.constraints(subject))


@dataclass
class Identity:
    """An authenticated subject and a snapshot of its grants; `via` says how it was proven (local, oidc, operator)."""

    subject: str
    grants: list[Grant] = field(default_factory=list)
    via: str = "local"

    def roles(self) -> list[str]:
        return list(dict.fromkeys(g.role for g in self.grants))

    def may(self, role: str, target: Target) -> bool:
        return any(g.role == role and g.covers(self.subject, target) for g in self.grants)

    def may_read(self, target: Target) -> bool:
        return any(self.may(role, target) for role in READ_ROLES)


def parse_scope(role: str, scope: str) -> Grant:
    """The grant of `role` over `scope`, or ValueError naming what is wrong with it."""
    if role not in SCOPE_SHAPES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(PEOPLE_ROLES)})")
    shapes = SCOPE_SHAPES[role]
    if scope in ("*", "self"):
        keys = frozenset({scope})
    else:
        pairs = [part.partition(":") for part in scope.split(",")]
        if any(not k or not sep or not v for k, sep, v in pairs):
            raise ValueError(f"scope {scope!r} is not key:value[,key:value] (keys: {', '.join(SCOPE_KEYS)})")
        keys = frozenset(k for k, _, _ in pairs)
    if keys not in shapes:
        allowed = " or ".join(",".join(sorted(s)) for s in shapes)
        raise ValueError(f"a {role} is granted scope {allowed}, not {scope!r}")
    return Grant(role, scope)


def refusal(identity: Identity | None, actor_id: str, role: str, target: Target) -> str | None:
    """Why `identity` may not act as `actor_id` in `role` on `target`, or None: the check of every interface and of
    every update validator."""
    if identity is None:
        return "the request carries no identity"
    if identity.subject != actor_id:
        return f"the request acts as {actor_id}, but its identity is {identity.subject}"
    if role == "applicant" and target.applicant and target.applicant != identity.subject:
        return f"{identity.subject} is not the applicant of {target.describe()}"
    if not identity.may(role, target):
        held = ", ".join(f"{g.role}@{g.scope}" for g in identity.grants) or "none"
        return f"{identity.subject} has no {role} role for {target.describe()} (grants: {held})"
    return None


def assigned_refusal(identity: Identity | None, actor_id: str, role: str) -> str | None:
    """Why `identity` may not do, in `role`, work a recorded draw assigned to `actor_id` (an expert's review task), or
    None: the assignment is the scope, so the identity must be `actor_id` and hold `role` under any grant."""
    if identity is None:
        return "the request carries no identity"
    if identity.subject != actor_id:
        return f"the request acts as {actor_id}, but its identity is {identity.subject}"
    if role not in identity.roles():
        held = ", ".join(f"{g.role}@{g.scope}" for g in identity.grants) or "none"
        return f"{identity.subject} has no {role} role (grants: {held})"
    return None


def read_refusal(identity: Identity, target: Target) -> str | None:
    """Why `identity` may not read `target`, or None."""
    if identity.may_read(target):
        return None
    return f"{identity.subject} may not see {target.describe()}"


def in_process(actor_id: str, role: str) -> Identity:
    """The identity of a driver that runs beside the workflows (simulation, benchmarks, tests): `role` over
    everything. Never given to a person: people's identities come from accounts (client/accounts.py)."""
    return Identity(actor_id, [Grant(role, "*")], via="in-process")
