"""The paper copy's code (the QR text on the printed form: receipt number and content hash of the submitted
version) and its reconciliation with the versions an application's history holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from models.instants import local
from models.messages import TransitionRecord

PREFIX = "grantflow-paper/1"
_RECEIPT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]{0,79})/([1-9][0-9]{0,5})$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_CODE = 300


class BadCode(ValueError):
    """Text that is not a paper code of grantflow (malformed, or another system's)."""


@dataclass(frozen=True)
class PaperCode:
    receipt: str  # APPLICATION/N, N the version (the count of submissions that froze it)
    content_sha256: str

    @property
    def application_id(self) -> str:
        return self.receipt.rsplit("/", 1)[0]

    @property
    def version(self) -> int:
        return int(self.receipt.rsplit("/", 1)[1])

    def text(self) -> str:
        """What the QR code carries."""
        return f"{PREFIX};receipt={self.receipt};sha256={self.content_sha256}"


def parse_code(text: str) -> PaperCode:
    """The paper code in `text` (as a scanner types it: surrounding blanks ignored), or BadCode saying why not."""
    text = text.strip()
    shown = repr(text[:60]) + ("..." if len(text) > 60 else "")
    if len(text) > MAX_CODE:
        raise BadCode(f"not a grantflow paper code: {len(text)} characters, at most {MAX_CODE} ({shown})")
    head, _, rest = text.partition(";")
    if not head.startswith("grantflow-paper/"):
        raise BadCode(f"not a grantflow paper code (it does not start with {PREFIX}): {shown}")
    if head != PREFIX:
        raise BadCode(f"a paper code of format {head!r}, which this grantflow does not read (it reads {PREFIX})")
    fields = dict(part.partition("=")[::2] for part in rest.split(";") if part)
    receipt, sha = fields.get("receipt", ""), fields.get("sha256", "")
    if not _RECEIPT.fullmatch(receipt):
        raise BadCode(f"malformed paper code: receipt {receipt[:90]!r} is not APPLICATION/N ({shown})")
    if not _SHA256.fullmatch(sha):
        raise BadCode(f"malformed paper code: sha256 {sha[:70]!r} is not 64 lowercase hex digits ({shown})")
    return PaperCode(receipt, sha)


@dataclass(frozen=True)
class Submission:
    """One submitted version: the receipt and content hash the submission froze, and when."""

    code: PaperCode
    at: datetime
    zone: ZoneInfo  # the call's, in which the instant is shown

    @property
    def shown(self) -> str:
        return local(self.zone, self.at)


def submissions(transitions: list[TransitionRecord], zone: ZoneInfo) -> list[Submission]:
    """Every version the history froze, oldest first (submit and resubmit carry receipt and hash)."""
    return [Submission(PaperCode(t.data["receipt"], t.data.get("content_sha256", "")), t.at, zone)
            for t in sorted(transitions, key=lambda t: t.seq)
            if t.trigger in ("submit", "resubmit") and "receipt" in t.data]


@dataclass(frozen=True)
class Reconciliation:
    matches: bool
    line: str
    online_version: int | None = None
    paper_version: int | None = None


def reconcile(application_id: str, code: PaperCode, versions: list[Submission]) -> Reconciliation:
    """Whether the paper copy carrying `code` is the online (latest submitted) version of `application_id`; if not,
    one line saying how it differs."""
    if code.application_id != application_id:
        return Reconciliation(False, f"a foreign code: it is of application {code.application_id} (receipt "
                                     f"{code.receipt}), not of {application_id}", None, code.version)
    if not versions:
        return Reconciliation(False, f"application {application_id} has no submitted version: nothing online to "
                                     f"compare the paper copy with", None, code.version)
    online = versions[-1]
    n = online.code.version
    if code == online.code:
        return Reconciliation(True, f"matches the online version: version {n} (receipt {code.receipt}, submitted "
                                    f"{online.shown}), content sha256 {code.content_sha256[:12]}", n, n)
    head = f"differs from version {n}, the online version (receipt {online.code.receipt}, submitted {online.shown})"
    by_receipt = next((v for v in versions if v.code.receipt == code.receipt), None)
    by_content = next((v for v in reversed(versions) if v.code.content_sha256 == code.content_sha256), None)
    if by_receipt is None:
        why = f"receipt {code.receipt} was never issued (versions 1-{n})"
    elif by_receipt.code == code:
        same = "; its content is the same" if code.content_sha256 == online.code.content_sha256 else ""
        why = f"the paper copy is version {code.version} (submitted {by_receipt.shown}){same}"
    elif by_content is not None:
        why = (f"the paper copy carries receipt {code.receipt} but the content of version {by_content.code.version}"
               f" (sha256 {code.content_sha256[:12]})")
    else:
        why = (f"its content sha256 {code.content_sha256[:12]} is of no submitted version (receipt {code.receipt} "
               f"froze {by_receipt.code.content_sha256[:12]})")
    return Reconciliation(False, f"{head}: {why}", n, code.version)
