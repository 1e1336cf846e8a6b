"""What people may type: identifiers, titles, reasons, instants, data pairs; each checked once at the interface
with its limits, and text escaped before it reaches a terminal."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$"
MAX_TITLE = 300
MAX_REASON = 2000
MAX_NAME = 120
MAX_VALUE = 500
MAX_ITEMS = 50
_ID = re.compile(ID_PATTERN)


class BadInput(ValueError):
    """Input refused at the interface; the message names the field and what was wrong."""


def unprintable(text: str) -> str | None:
    """The first character a terminal or page would act on instead of showing (controls, bidi overrides,
    format characters), as U+XXXX, or None."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return f"U+{ord(ch):04X}"
    return None


def identifier(value: str, what: str = "id") -> str:
    if not _ID.fullmatch(value):
        raise BadInput(f"{what} {shown(value[:40])!r} must be 1-80 letters, digits, '.', '_' or '-', starting with a "
                       f"letter or digit")
    return value


def text(value: str, what: str, limit: int, required: bool = False) -> str:
    """`value` stripped; refused when empty (if required), longer than `limit` or holding unprintable characters."""
    value = value.strip()
    if required and not value:
        raise BadInput(f"{what} is empty")
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value)} characters long; at most {limit}")
    bad = unprintable(value)
    if bad:
        raise BadInput(f"{what} holds a control or formatting character ({bad})")
    return value


def title(value: str) -> str:
    return text(value, "title", MAX_TITLE, required=True)


def reason(value: str) -> str:
    return text(value, "reason", MAX_REASON)


def instant(value: str, what: str = "time") -> datetime:
    """An ISO 8601 instant with its offset; a bare date, a word like `tomorrow` or a naive time is refused."""
    example = "e.g. 2025-04-10T17:00:00+08:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{what} {shown(value[:40])!r} is not an ISO 8601 date and time, {example}") from None
    if len(value.strip()) <= 10:
        raise BadInput(f"{what} {value!r} is a date without a time and offset, {example}")
    if parsed.tzinfo is None:
        raise BadInput(f"{what} {value!r} is a naive datetime: give the offset, {example}")
    return parsed


LATER = re.compile(r"\+([1-9][0-9]{0,3})([dh])")


def later_by(value: str) -> timedelta | None:
    """`+7d` or `+12h`: an extension counted from the current close; None for anything else."""
    found = LATER.fullmatch(value.strip())
    if found is None:
        return None
    amount = int(found.group(1))
    return timedelta(days=amount) if found.group(2) == "d" else timedelta(hours=amount)


def pairs(items: list[str], what: str = "data") -> dict[str, str]:
    """KEY=VALUE items as a dict; each key an identifier, each value printable text."""
    if len(items) > MAX_ITEMS:
        raise BadInput(f"{what}: at most {MAX_ITEMS} items")
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise BadInput(f"{what} {shown(item[:40])!r} is not KEY=VALUE")
        out[identifier(key, f"{what} key")] = text(value, f"{what} {key}", MAX_VALUE)
    return out


def shown(value: str) -> str:
    """`value` safe to print: every unprintable character written as its escape (\\x1b, \\u202e)."""
    return "".join(ch.encode("unicode_escape").decode("ascii") if unprintable(ch) else ch for ch in value)


def _checked(check: object) -> AfterValidator:
    return AfterValidator(check)  # type: ignore[arg-type]


Identifier = Annotated[str, StringConstraints(max_length=80), _checked(identifier)]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE + 100), _checked(title)]
Reason = Annotated[str, StringConstraints(max_length=MAX_REASON + 100), _checked(reason)]
RequiredReason = Annotated[str, StringConstraints(max_length=MAX_REASON + 100),
                           _checked(lambda v: text(v, "reason", MAX_REASON, required=True))]
Value = Annotated[str, StringConstraints(max_length=MAX_VALUE), _checked(lambda v: text(v, "value", MAX_VALUE))]
