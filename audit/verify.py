"""`audit verify`: invariants over a call's histories, the records DB against them, its hash chain, the manifest."""

from __future__ import annotations

from collections.abc import Iterable

from activities.notices import FAILED_KIND
from audit.export import MANIFEST, sha256_of
from audit.findings import Finding, Result
from audit.life import ApplicationLife, CallLife, Notice, PhaseChange, Proven, life
from audit.records import Records, differences
from audit.signatures import signature_rules
from audit.source import Bundle
from audit.stage_life import stage_notices
from models.identity import Target, refusal
from models.instants import local
from models.messages import application_workflow_id, call_workflow_id
from records.chain import GENESIS, row_hash


def _proved(rule: str, workflow_id: str, proof: Proven | PhaseChange | Notice | None, message: str) -> Finding:
    """A finding at the event (and run) that proves the fact it is about; without one, about the workflow."""
    return Finding(rule, workflow_id, proof.event_id if proof else None, message, proof.run_id if proof else None)


def application_rules(app: ApplicationLife) -> Iterable[Finding]:
    """Deadlines (extensions honoured), windows, dues, roles and actors of every accepted change."""
    w = app.workflow_id
    for p in app.transitions:
        t = p.record
        what = f"#{t.seq} {t.trigger} by {t.role} {t.actor_id}"
        if t.trigger == "extend_deadline":
            if t.role != "manager":
                yield _proved("role", w, p, f"{what}: only a manager may extend a deadline")
            continue
        if p.spec is None:
            yield _proved("lifecycle", w, p, f"{what}: {t.source} -> {t.dest} is not a declared transition")
            continue
        if t.role not in p.spec.roles:
            allowed = ", ".join(p.spec.roles)
            yield _proved("role", w, p, f"{what}: role {t.role} may not {t.trigger} in {t.source} (allowed: {allowed})")
        owner = app.inp.people.get(t.role)
        if p.identity is not None:
            people = app.inp.people
            target = Target(call=app.inp.call.id, programme=app.inp.call.programme, unit=people.get("unit_admin", ""),
                            application=app.inp.application_id, applicant=people.get("applicant", ""))
            why = refusal(p.identity, t.actor_id, t.role, target)
            if why:
                yield _proved("actor", w, p, f"{what}: {why}")
        elif t.role != "system" and owner is not None and owner != t.actor_id:
            yield _proved("actor", w, p, f"{what}: {owner} is the {t.role} of this application")
        if t.role != "system":
            yield from _deadline(app, p, what)
        elif t.deadline is not None and t.at < t.deadline:
            yield _proved("due", w, p, f"{what} at {local(app.call.zone, t.at)}, before it was due ({local(app.call.zone, t.deadline)})")


def _deadline(app: ApplicationLife, p: Proven, what: str) -> Iterable[Finding]:
    t, w = p.record, app.workflow_id
    if p.governing is not None and t.at >= p.governing:
        extended = [str(x.record.data.get("window")) for x in app.transitions
                    if x.record.trigger == "extend_deadline" and x.record.seq < t.seq]
        honoured = f" (extensions: {', '.join(extended)})" if extended else ""
        yield _proved("deadline", w, p, f"{what} accepted at {local(app.call.zone, t.at)}, at or after its deadline "
                                        f"{local(app.call.zone, p.governing)}{honoured}")
    if p.opens is not None and t.at < p.opens:
        yield _proved("window", w, p, f"{what} accepted at {local(app.call.zone, t.at)}, before its window opened "
                                      f"({local(app.call.zone, p.opens)})")
    if p.spec is not None and p.spec.window and t.deadline != p.governing:
        yield _proved("deadline.recorded", w, p, f"{what}: the workflow recorded the deadline "
                                                 f"{local(app.call.zone, t.deadline)}, the history establishes "
                                                 f"{local(app.call.zone, p.governing)}")


def call_rules(call: CallLife) -> Iterable[Finding]:
    for c in call.changes:
        e = c.event
        if e.role not in ("system", "manager"):
            yield _proved("role", call.workflow_id, c,
                          f"{e.phase} {e.kind} by role {e.role} (allowed: system, manager)")


def notice_rules(lives: Iterable[ApplicationLife | CallLife]) -> Iterable[Finding]:
    seen: dict[str, tuple[str, int]] = {}
    for one in lives:
        for n in one.notices:
            if n.key not in seen:
                seen[n.key] = (one.workflow_id, n.event_id)
                continue
            first = seen[n.key]
            again = ("twice in the same record" if first == (one.workflow_id, n.event_id)
                     else f"again (first by {first[0]} at event {first[1]})")
            yield _proved("notice.duplicate", one.workflow_id, n, f"notice {n.key} sent {again}")


def db_rules(records: Records, call: CallLife | None, apps: list[ApplicationLife]) -> Iterable[Finding]:
    """The records DB against the histories: transitions, application states, notices, call events."""
    for app in apps:
        w, rows = app.workflow_id, records.transitions_of(app.application_id)
        for p in app.transitions:
            row = rows.pop(p.record.seq, None)
            if row is None:
                yield _proved("db.transition.missing", w, p,
                              f"#{p.record.seq} {p.record.trigger} has no transitions row")
            elif diff := differences(p.record, row):
                yield _proved("db.transition.differs", w, p,
                              f"transitions row {row.id} (#{row.seq}): " + "; ".join(diff))
        for row in rows.values():
            yield Finding("db.transition.extra", w, None,
                          f"transitions row {row.id} (#{row.seq} {row.trigger}) is in no history")
        stored = records.application(app.application_id)
        if stored is None:
            yield Finding("db.application.missing", w, None, f"application {app.application_id} has no row")
        elif stored.state != app.state:
            last = app.transitions[-1] if app.transitions else None
            yield _proved("db.state", w, last, f"the DB says {stored.state}, the history {app.state}")
    known = {a.application_id for a in apps}
    for a in records.applications:
        if a.id not in known:
            yield Finding("db.application.extra", a.workflow_id, None, f"application {a.id} has no history")
    for r in records.transitions:
        if r.application_id not in known:
            yield Finding("db.transition.extra", application_workflow_id(r.application_id), None,
                          f"transitions row {r.id} (#{r.seq} {r.trigger}) is in no history")
    yield from _notices(records, [*([call] if call else []), *apps])
    if call is not None:
        yield from _call_events(records, call)


def _notices(records: Records, lives: list[ApplicationLife | CallLife]) -> Iterable[Finding]:
    stored = {n.key: n for n in records.notices}
    for one in lives:
        for n in one.notices:
            row = stored.get(n.key)
            if row is None:
                yield _proved("db.notice.missing", one.workflow_id, n, f"notice {n.key} has no outbox row")
            elif n.delivered and row.delivered_at is None:
                yield _proved("db.notice.undelivered", one.workflow_id, n,
                              f"notice {n.key} was delivered by the history, not by the DB")
    proven = {n.key for life in lives for n in life.notices}
    for row in stored.values():
        if row.key not in proven and row.kind != FAILED_KIND:  # the postman's word to the manager is in no history
            owner = application_workflow_id(row.application_id) if row.application_id else call_workflow_id(row.call_id)
            yield Finding("db.notice.extra", owner, None, f"notice {row.key} is in no history")


def _call_events(records: Records, call: CallLife) -> Iterable[Finding]:
    stored = {e.seq: e for e in records.call_events}
    for c in call.changes:
        e, row = c.event, stored.pop(c.event.seq, None)
        if row is None:
            yield _proved("db.call_event.missing", call.workflow_id, c, f"call event #{e.seq} has no row")
        elif (row.kind, row.phase, row.at, row.actor_id, row.role, row.reason, row.previous, row.new) != (
                e.kind, e.phase, e.at, e.actor_id, e.role, e.reason, e.previous, e.new):
            yield _proved("db.call_event.differs", call.workflow_id, c,
                          f"call_events row {row.id} (#{row.seq}) differs")
    for row in stored.values():
        yield Finding("db.call_event.extra", call.workflow_id, None, f"call_events row {row.id} is in no history")


def chain_rules(records: Records, apps: list[ApplicationLife]) -> Iterable[Finding]:
    """Each row must link to the row before it and hash to its own `hash`, which the history recorded too."""
    proof = {(a.application_id, p.record.seq): (a.workflow_id, p) for a in apps for p in a.transitions}
    prev = GENESIS
    for row in records.transitions:
        w, p = proof.get((row.application_id, row.seq), (application_workflow_id(row.application_id), None))
        name = f"transitions row {row.id} (#{row.seq} {row.trigger})"
        if row.prev_hash != prev:
            yield _proved("chain.link", w, p, f"{name} follows {row.prev_hash[:12]}, but the row before it hashes to "
                                              f"{prev[:12]}: a row was deleted or rewritten")
        if row_hash(row.prev_hash, row.model_dump()) != row.hash:
            yield _proved("chain.hash", w, p, f"{name} no longer hashes to its stored hash: it was edited")
        if p is not None and p.chain_hash is not None and p.chain_hash != row.hash:
            yield _proved("chain.anchor", w, p, f"{name} hash {row.hash[:12]} differs from {p.chain_hash[:12]}, which "
                                                f"the history recorded when the row was written")
        prev = row.hash


def manifest_rules(bundle: Bundle) -> Iterable[Finding]:
    """Every file the manifest lists exists with its SHA-256, and no other file is in the export."""
    if bundle.directory is None or bundle.manifest is None:
        return
    listed = set()
    for f in bundle.manifest["files"]:
        path = bundle.directory / f["path"]
        listed.add(path.resolve())
        owner = f.get("workflow_id", f["path"])
        if not path.exists():
            yield Finding("manifest.missing", owner, None, f"{f['path']} is listed in the manifest but missing")
        elif sha256_of(path) != f["sha256"]:
            yield Finding("manifest.hash", owner, None,
                          f"{f['path']} does not match its SHA-256 in the manifest: it was changed after the export")
    for path in sorted(bundle.directory.rglob("*")):
        if path.is_file() and path.name != MANIFEST and path.resolve() not in listed:
            yield Finding("manifest.extra", str(path.relative_to(bundle.directory)), None,
                          "a file the manifest does not list")
    for path, why in bundle.unreadable:
        yield Finding("history.unreadable", path, None, why)


def lives(bundle: Bundle) -> tuple[CallLife | None, list[ApplicationLife], list[Finding]]:
    """Every execution folded; one whose events do not decode (a damaged file) is a finding instead."""
    call: CallLife | None = None
    apps: list[ApplicationLife] = []
    findings: list[Finding] = []
    staged: list[Notice] = []
    for ex in bundle.executions:
        try:
            if ex.workflow_type == "ReviewStageWorkflow":  # its notices are the call's, proven by its history
                staged += stage_notices(ex.runs)
                continue
            folded = life(ex)
        except (ValueError, KeyError, AssertionError) as exc:
            findings.append(Finding("history.undecodable", ex.workflow_id, None, f"{type(exc).__name__}: {exc}"))
            continue
        if isinstance(folded, CallLife):
            call = folded
        else:
            apps.append(folded)
    if call is not None:
        call.notices += staged
    return call, apps, findings


def verify(bundle: Bundle) -> Result:
    call, apps, findings = lives(bundle)
    findings += [*manifest_rules(bundle), *notice_rules([*([call] if call else []), *apps])]
    for app in apps:
        findings += [*application_rules(app), *signature_rules(app)]
    if call is not None:
        findings += call_rules(call)
    if bundle.records is not None:
        findings += [*db_rules(bundle.records, call, apps), *chain_rules(bundle.records, apps)]
    return Result(len(bundle.executions), bundle.events, findings)
