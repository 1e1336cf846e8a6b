"""Attachments uploaded to an application by its applicant: kind, media type and size checked before and while
the bytes arrive, never after they are all in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

from sqlmodel import Session

from client.errors import Invalid, TooLarge, Unsupported
from client.service.core import Core, checked
from models.identity import Identity
from models.inputs import identifier, text
from records.files import UploadRefused, store
from records.registry_tables import StoredFileRow

MAX_UPLOAD = 20 * 1024 * 1024  # whatever a call allows, no upload is larger


class Uploads(Core):
    async def upload(self, identity: Identity, application_id: str, kind: str, filename: str, media_type: str,
                     chunks: AsyncIterator[bytes], declared: int | None = None) -> StoredFileRow:
        st, target = await self.application(application_id)
        self.require(identity, "applicant", "upload to", target)
        checked(identifier, kind, "attachment kind")
        name: str = checked(text, filename, "filename", 200, True)
        if "/" in name or "\\" in name:
            raise Invalid(f"filename {name!r} holds a path separator")
        attachment = next((a for a in self.definition(st.call_id).attachments if a.kind == kind), None)
        if attachment is None:
            raise Invalid(f"unknown attachment kind {kind!r} for call {st.call_id}")
        if attachment.media_types and media_type not in attachment.media_types:
            raise Unsupported(f"{name}: type {media_type}, accepted for {kind}: {', '.join(attachment.media_types)}")
        limit = min(attachment.max_bytes or MAX_UPLOAD, MAX_UPLOAD)
        if declared is not None and declared > limit:
            raise TooLarge(f"{name}: {declared} bytes, at most {limit} for {kind}")
        content = bytearray()
        async for chunk in chunks:
            content += chunk
            if len(content) > limit:
                raise TooLarge(f"{name}: more than {limit} bytes, the most for {kind}")
        with Session(self.engine) as s:
            try:
                return store(s, bytes(content), name, media_type, identity.subject, datetime.now(UTC), attachment,
                             application_id)
            except UploadRefused as exc:
                raise Invalid(str(exc)) from None
