"""Attachment checks: required when (flag, condition), media type, size, document date, term cover, count."""

from __future__ import annotations

from collections.abc import Callable

from models.facts import Facts, add_years
from models.forms import Attachment
from models.rules.base import Finding
from models.rules.definitions import AttachmentDef

RETIREMENT_AGE = 60  # used only when the registry has no retirement date for the PI (see retires_during_term)


def retires_during_term(facts: Facts) -> bool:
    """The PI reaches retirement age on or before the term's last day (unknown PI or term: assume so)."""
    pi, end = facts.registry.pi, facts.form.ends_on
    if pi is None or end is None:
        return True
    return (pi.retirement_date or add_years(pi.birth_date, RETIREMENT_AGE)) <= end


def in_service_graduate(facts: Facts) -> bool:
    return facts.registry.pi is not None and facts.registry.pi.student_status == "in_service_graduate"


CONDITIONS: dict[str, Callable[[Facts], bool]] = {
    "retires_during_term": retires_during_term,
    "ethics_needed": lambda f: f.form.claims.ethics_needed,
    "in_service_graduate": in_service_graduate,
    "unit_is_enterprise": lambda f: f.lead_unit is not None and f.lead_unit.kind == "enterprise",
    "international": lambda f: f.form.claims.international,
    "foreign_degree": lambda f: f.form.claims.foreign_degree,
    "cross_field": lambda f: f.form.claims.cross_field,
    "platform": lambda f: f.form.claims.platform,
    "city_matching": lambda f: f.form.claims.city_matching,
    "members_outside_units": lambda f: any(m.unit_id not in f.form.applicant_units for m in f.form.team),
}


def upload_problem(a: AttachmentDef, filename: str, media_type: str, size: int) -> str | None:
    """Why an upload of this kind is refused (wrong type, too large), or None."""
    if a.media_types and media_type not in a.media_types:
        return f"{filename}: type {media_type}, accepted: {', '.join(a.media_types)}"
    if a.max_bytes is not None and size > a.max_bytes:
        return f"{filename}: {size} bytes, at most {a.max_bytes}"
    return None


def file_problems(a: AttachmentDef, x: Attachment, facts: Facts) -> list[str]:
    out = [p for p in [upload_problem(a, x.filename, x.media_type, x.size)] if p]
    if a.date_after is not None and x.document_date is None:
        out.append(f"{x.filename}: undated (must be dated after {a.date_after})")
    elif a.date_after is not None and x.document_date is not None and x.document_date <= a.date_after:
        out.append(f"{x.filename}: dated {x.document_date}, not after {a.date_after}")
    end = facts.form.ends_on
    if a.covers_term and end is not None and x.valid_until is not None and x.valid_until < end:
        out.append(f"{x.filename}: valid until {x.valid_until}, before the term ends {end}")
    return out


def check_attachment(a: AttachmentDef, facts: Facts) -> Finding:
    """One attachment kind of the call against the form's files."""
    files = [x for x in facts.form.attachments if x.kind == a.kind]
    flag = a.when is None or facts.form.flags.get(a.when, False)
    condition = a.condition is None or CONDITIONS[a.condition](facts)
    evidence = {x.filename: f"{x.media_type}, {x.size} bytes, dated {x.document_date}, sha256 {x.sha256[:12]}"
                for x in files}
    problems: list[str] = []
    if a.required and flag and condition and not files:
        problems.append(f"missing {a.kind} ({a.name})")
    if a.max_count is not None and len(files) > a.max_count:
        problems.append(f"{len(files)} files, at most {a.max_count}")
    for x in files:
        problems += file_problems(a, x, facts)
    if problems:
        return Finding("fail", "; ".join(problems), evidence)
    if not files and not flag:
        return Finding("pass", f"not required (flag {a.when} not set)", evidence)
    if not files and not condition:
        return Finding("pass", f"not required (condition {a.condition} does not hold)", evidence)
    if not files:
        return Finding("pass", "optional, none given", evidence)
    return Finding("pass", f"{len(files)} file(s) in order", evidence)
