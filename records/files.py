"""Uploads: content stored once by SHA-256, each upload's metadata beside it; a wrong type or size is refused."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlmodel import Session

from models.call import AttachmentDef
from models.forms import Attachment
from models.rules import upload_problem
from records.registry_tables import FileBlobRow, StoredFileRow

PDF = "application/pdf"


class UploadRefused(Exception):
    """An upload the attachment kind does not accept; the message says why."""


def check_upload(a: AttachmentDef, filename: str, media_type: str, content: bytes) -> str | None:
    """Why this upload is refused for attachment kind `a`, or None: declared type, size, and PDF content."""
    problem = upload_problem(a, filename, media_type, len(content))
    if problem is None and media_type == PDF and not content.startswith(b"%PDF-"):
        return f"{filename}: declared {PDF}, but the content is not a PDF"
    return problem


def store(session: Session, content: bytes, filename: str, media_type: str, uploaded_by: str, at: datetime,
          attachment: AttachmentDef | None = None, application_id: str | None = None,
          document_date: date | None = None, valid_until: date | None = None) -> StoredFileRow:
    """Keep the upload (content once per hash), or raise UploadRefused with the reason."""
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: the upload instant needs an offset")
    if attachment is not None and (problem := check_upload(attachment, filename, media_type, content)):
        raise UploadRefused(problem)
    digest = hashlib.sha256(content).hexdigest()
    if session.get(FileBlobRow, digest) is None:
        session.add(FileBlobRow(sha256=digest, size=len(content), content=content))
    row = StoredFileRow(sha256=digest, application_id=application_id, kind=attachment.kind if attachment else None,
                        filename=filename, media_type=media_type, size=len(content), document_date=document_date,
                        valid_until=valid_until, uploaded_by=uploaded_by, uploaded_at=at)
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def as_attachment(row: StoredFileRow) -> Attachment:
    """The form's view of a stored upload."""
    if row.kind is None:
        raise ValueError(f"stored file {row.id} ({row.filename}) has no attachment kind")
    return Attachment(kind=row.kind, filename=row.filename, media_type=row.media_type, size=row.size,
                      sha256=row.sha256, document_date=row.document_date, valid_until=row.valid_until)
