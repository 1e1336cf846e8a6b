"""Notice texts: one Chinese Jinja2 template per kind (templates/<kind>.txt.j2, its first line the subject), with the
call's own names and every instant in the call's timezone as people write it (2025年4月7日17:00)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

ENV = Environment(loader=PackageLoader("activities.notices", "templates"), undefined=StrictUndefined, auto_reload=False,
                  autoescape=False, trim_blocks=True, lstrip_blocks=True)
DEFAULT_ZONE = "Asia/Shanghai"
EXTENDED = re.compile(r"^deadline (?P<window>\S+) extended to (?P<new>\S+)$")  # the workflow's dest_label


@dataclass(frozen=True)
class CallNames:
    """What a notice says about its call: title, issuer, phase and step names, timezone."""

    id: str
    title: str
    issuer: str = ""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))
    phases: dict[str, str] = field(default_factory=dict)
    steps: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, call_id: str, definition_json: str | None) -> CallNames:
        """From the call's stored definition; a call not (yet) stored is named by its id."""
        if definition_json is None:
            return cls(call_id, call_id)
        d = json.loads(definition_json)
        return cls(call_id, d.get("title") or call_id, d.get("issuer", ""), ZoneInfo(d.get("timezone") or DEFAULT_ZONE),
                   {p["id"]: p["name"] for p in d.get("phases", [])}, {s["id"]: s["name"] for s in d.get("chain", [])})

    def when(self, instant: str | datetime | None) -> str:
        """An instant as people write it in the call's timezone: 2025年4月7日17:00 (未定 when there is none)."""
        if not instant or instant == "not set":
            return "未定"
        t = (instant if isinstance(instant, datetime) else datetime.fromisoformat(instant)).astimezone(self.zone)
        return f"{t.year}年{t.month}月{t.day}日{t:%H:%M}"

    def window(self, key: str) -> str:
        """A window key (a phase id, or `step:<id>`) by its name in the call."""
        step = key.removeprefix("step:")
        return self.steps.get(step, step) if key.startswith("step:") else self.phases.get(key, key)


def render(kind: str, data: dict[str, str], call: CallNames, application_id: str | None,
           recipient: str) -> tuple[str, str]:
    """Subject and body of a notice of `kind` to `recipient` (role:id); a kind without a template is an error."""
    values = dict(data)
    if (m := EXTENDED.match(values.get("dest_label", ""))) is not None:
        values |= {"window": m["window"], "new": m["new"]}
    text = ENV.get_template(f"{kind}.txt.j2").render(
        d=values, call=call, app=application_id or "", to=recipient.partition(":")[0], when=call.when,
        window=call.window)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


class Texts:
    """Texts of many notices of one kind and call that differ by application only (a bulk closure's): each data and
    role rendered once with a stand-in for the application id, put in per notice. The first notice of each is also
    rendered whole and compared; where they differ (a template that does more with the id than print it), every
    notice of that data and role is rendered whole."""

    STAND_IN = "\x00application\x00"

    def __init__(self, kind: str, call: CallNames) -> None:
        self.kind, self.call = kind, call
        self._general: dict[tuple[tuple[tuple[str, str], ...], str], tuple[str, str] | None] = {}

    def render(self, data: dict[str, str], application_id: str, recipient: str) -> tuple[str, str]:
        key = (tuple(sorted(data.items())), recipient.partition(":")[0])
        if key not in self._general:
            whole = render(self.kind, data, self.call, application_id, recipient)
            general = render(self.kind, data, self.call, self.STAND_IN, recipient)
            self._general[key] = general if self._put(general, application_id) == whole else None
            return whole
        known = self._general[key]
        if known is None:
            return render(self.kind, data, self.call, application_id, recipient)
        return self._put(known, application_id)

    def _put(self, general: tuple[str, str], application_id: str) -> tuple[str, str]:
        subject, body = general
        return subject.replace(self.STAND_IN, application_id), body.replace(self.STAND_IN, application_id)
