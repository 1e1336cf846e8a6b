"""Attachment rules (required when, date, term cover, type, size, count) and uploads stored by content hash."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from models.call import AttachmentDef
from models.facts import Facts
from models.forms import Attachment, Claims, TeamMember
from models.rules import check_attachment
from records.engine import make_engine
from records.files import UploadRefused, as_attachment, store
from records.registry_tables import FileBlobRow, StoredFileRow
from tests.builders import AT, facts, form, person

PDF = "application/pdf"


def spec(**fields: Any) -> AttachmentDef:
    return AttachmentDef.model_validate({"kind": "doc", "name": "a document", **fields})


def upload(kind: str = "doc", **fields: Any) -> Attachment:
    data = {"kind": kind, "filename": f"{kind}.pdf", "media_type": PDF, "size": 1000, "sha256": "0" * 64, **fields}
    return Attachment.model_validate(data)


def outcome(a: AttachmentDef, f: Facts) -> str:
    return check_attachment(a, f).outcome


@pytest.mark.parametrize(("dated", "expected"), [
    (date(2024, 7, 1), "fail"), (date(2024, 7, 2), "pass"), (None, "fail")])
def test_employment_proof_dated_after_2024_07_01(dated: date | None, expected: str) -> None:
    f = facts(form(attachments=[upload(document_date=dated)]))
    assert outcome(spec(date_after="2024-07-01"), f) == expected


def test_a_required_attachment_is_missing() -> None:
    found = check_attachment(spec(), facts())
    assert found.outcome == "fail" and "missing doc" in found.reason
    assert outcome(spec(required=False), facts()) == "pass"


@pytest.mark.parametrize(("retirement", "expected"), [(date(2027, 3, 4), "fail"), (date(2027, 3, 5), "pass")])
def test_retirement_letter_only_when_the_pi_retires_during_the_term(retirement: date, expected: str) -> None:
    f = facts(form(ends_on=date(2027, 3, 4)), pi=person(retirement_date=retirement))
    assert outcome(spec(condition="retires_during_term"), f) == expected


def test_retirement_age_60_when_the_registry_has_no_date() -> None:
    f = facts(form(ends_on=date(2027, 3, 4)), pi=person(birth_date=date(1967, 3, 4), retirement_date=None))
    assert outcome(spec(condition="retires_during_term"), f) == "fail"
    f = facts(form(ends_on=date(2027, 3, 4)), pi=person(birth_date=date(1967, 3, 5), retirement_date=None))
    assert outcome(spec(condition="retires_during_term"), f) == "pass"


@pytest.mark.parametrize(("condition", "applies", "spares"), [
    ("ethics_needed", {"claims": Claims(ethics_needed=True)}, {}),
    ("international", {"claims": Claims(international=True)}, {}),
    ("members_outside_units", {"team": [TeamMember(person_id="m", unit_id="far")]},
     {"team": [TeamMember(person_id="m", unit_id="u1")]}),
])
def test_conditional_attachments(condition: str, applies: dict[str, Any], spares: dict[str, Any]) -> None:
    assert outcome(spec(condition=condition), facts(form(**applies))) == "fail"
    assert outcome(spec(condition=condition), facts(form(**spares))) == "pass"


def test_supervisor_letter_for_in_service_graduate_students() -> None:
    a = spec(condition="in_service_graduate")
    assert outcome(a, facts(pi=person(student_status="in_service_graduate"))) == "fail"
    assert outcome(a, facts(pi=person(student_status="none"))) == "pass"


def test_a_flagged_attachment_is_required_only_with_its_flag() -> None:
    assert outcome(spec(when="enterprise_led"), facts(form(flags={"enterprise_led": True}))) == "fail"
    assert outcome(spec(when="enterprise_led"), facts(form(flags={"enterprise_led": False}))) == "pass"


@pytest.mark.parametrize(("media", "size", "expected"), [
    (PDF, 20 * 1024 * 1024, "pass"),
    (PDF, 20 * 1024 * 1024 + 1, "fail"),
    ("application/msword", 1000, "fail"),
])
def test_feasibility_report_pdf_at_most_20_mb(media: str, size: int, expected: str) -> None:
    a = spec(media_types=[PDF], max_bytes=20 * 1024 * 1024)
    assert outcome(a, facts(form(attachments=[upload(media_type=media, size=size)]))) == expected


@pytest.mark.parametrize(("count", "expected"), [(5, "pass"), (6, "fail")])
def test_at_most_5_representative_papers(count: int, expected: str) -> None:
    papers = [upload(filename=f"paper-{i}.pdf") for i in range(count)]
    assert outcome(spec(required=False, max_count=5), facts(form(attachments=papers))) == expected


@pytest.mark.parametrize(("valid_until", "expected"), [(date(2027, 3, 4), "pass"), (date(2027, 3, 3), "fail"),
                                                       (None, "pass")])
def test_employment_contract_covers_the_term(valid_until: date | None, expected: str) -> None:
    f = facts(form(ends_on=date(2027, 3, 4), attachments=[upload(valid_until=valid_until)]))
    assert outcome(spec(covers_term=True), f) == expected


def test_attachment_verdicts_carry_the_evidence() -> None:
    found = check_attachment(spec(), facts(form(attachments=[upload(document_date=date(2024, 8, 1))])))
    assert found.outcome == "pass"
    assert "2024-08-01" in found.evidence["doc.pdf"]


# ---- uploads ----------------------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.7\n" + b"x" * 100


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'files.db'}")
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_an_upload_is_stored_once_by_content_hash(session: Session) -> None:
    a = spec(media_types=[PDF], max_bytes=20 * 1024 * 1024)
    first = store(session, PDF_BYTES, "report.pdf", PDF, "pi-1", AT, a, "app-1", date(2024, 8, 1))
    second = store(session, PDF_BYTES, "report-copy.pdf", PDF, "pi-1", AT, a, "app-2")
    assert first.sha256 == second.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert len(session.exec(select(FileBlobRow)).all()) == 1
    assert [r.filename for r in session.exec(select(StoredFileRow)).all()] == ["report.pdf", "report-copy.pdf"]
    assert as_attachment(first) == Attachment(kind="doc", filename="report.pdf", media_type=PDF, size=len(PDF_BYTES),
                                              sha256=first.sha256, document_date=date(2024, 8, 1))


@pytest.mark.parametrize(("content", "media", "limit", "reason"), [
    (b"PK\x03\x04 a docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", None,
     "accepted: application/pdf"),
    (b"GIF89a not a pdf", PDF, None, "the content is not a PDF"),
    (PDF_BYTES, PDF, len(PDF_BYTES) - 1, f"{len(PDF_BYTES)} bytes, at most {len(PDF_BYTES) - 1}"),
])
def test_a_wrong_upload_is_refused_with_the_reason(session: Session, content: bytes, media: str, limit: int | None,
                                                   reason: str) -> None:
    with pytest.raises(UploadRefused, match=reason):
        store(session, content, "f", media, "pi-1", AT, spec(media_types=[PDF], max_bytes=limit))
    assert session.exec(select(StoredFileRow)).all() == []


def test_an_upload_instant_must_be_aware(session: Session) -> None:
    with pytest.raises(ValueError, match="naive"):
        store(session, PDF_BYTES, "f.pdf", PDF, "pi-1", datetime(2025, 3, 20, 10, 0))
