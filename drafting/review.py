"""The review page of a draft: the notice beside the draft, each extracted span highlighted and linked to the field
it filled (flagged ones marked), unmapped rule sentences marked, so that a person checks a draft by looking at it."""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from drafting.draft import Draft

_ENV = Environment(loader=PackageLoader("drafting", "templates"), autoescape=select_autoescape(["html", "j2"]))


@dataclass(frozen=True)
class Part:
    kind: str  # text | span | unmapped
    text: str
    index: int = 0
    field: str = ""
    flagged: bool = False


def _parts(draft: Draft) -> list[Part]:
    text = draft.notice.text
    unmapped = {sentence for sentence, _ in draft.content.unchecked}
    marks: list[tuple[int, int, Part]] = []
    for i, (start, end, field, flagged) in enumerate(sorted(draft.spans)):
        if not any(s < end and start < e for s, e, _ in marks):
            marks.append((start, end, Part("span", text[start:end], i, field, flagged)))
    for s in draft.notice.sentences:
        if " ".join(s.text.split()) in unmapped and not any(a < s.end and s.start < b for a, b, _ in marks):
            marks.append((s.start, s.end, Part("unmapped", s.text)))
    parts: list[Part] = []
    pos = 0
    for start, end, part in sorted(marks, key=lambda m: m[0]):
        parts.append(Part("text", text[pos:start]))
        parts.append(part)
        pos = end
    parts.append(Part("text", text[pos:]))
    return parts


def render_review(draft: Draft) -> str:
    parts = _parts(draft)
    fields = [p for p in parts if p.kind == "span"]
    return _ENV.get_template("review.html.j2").render(
        title=draft.header.title.value or draft.notice.origin, summary=draft.summary(), parts=parts, fields=fields,
        unchecked=[s for s, _ in draft.content.unchecked], yaml=draft.text())
