"""Property: call files with random timelines (phases, closes in any form and zone, naive or bad values, categories,
cohorts and recommenders with their own closes, relative closes) load or are refused, never crash; every problem is
one line naming its field."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.calls import prepare
from models.calendar import CalendarNotCovered
from models.call import CallDefinition, CallFileError, parse_call
from tests.conftest import CALLS

BASE: dict[str, Any] = yaml.safe_load((CALLS / "000-sx-2025-basic-research-geology.yaml").read_text(encoding="utf-8"))
ORIGIN = "random.yaml"
FIELDS = set(CallDefinition.model_fields)
START = datetime(2025, 3, 5, 9, 30)
ZONES = [timezone(timedelta(hours=8)), UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45))]
PHASE_IDS = [p["id"] for p in BASE["phases"]]
STEP_IDS = [s["id"] for s in BASE["chain"]]

offsets = st.integers(min_value=-40 * 24, max_value=400 * 24).map(lambda h: START + timedelta(hours=h))
zones = st.sampled_from(ZONES)
naive = offsets.map(lambda t: t.isoformat())
dated = offsets.map(lambda t: t.date().isoformat())
midnight = offsets.map(lambda t: f"{t.date().isoformat()}T24:00")
junk = st.one_of(st.integers(-5, 5), st.text(max_size=12), st.none(), st.lists(st.integers(), max_size=2),
                 st.just("2025-02-30T17:00:00+08:00"), st.just("2025-04-07T17:00:00+25:00"),
                 st.sampled_from(["previous", "manual", "later"]),
                 st.fixed_dictionaries({}, optional={"working_days": st.integers(-1, 30), "days": st.integers(-1, 30)}))
wild = st.one_of(naive, dated, midnight, junk)  # what a mistaken or unusual file writes instead of an instant
relative = st.one_of(
    st.fixed_dictionaries({"after": st.sampled_from(PHASE_IDS), "days": st.integers(0, 10)}),
    st.fixed_dictionaries({"after": st.sampled_from(PHASE_IDS), "working_days": st.integers(1, 10)}),
    st.fixed_dictionaries({"after": st.sampled_from([*PHASE_IDS, "nowhere"])},
                          optional={"days": st.integers(-1, 10), "working_days": st.integers(-1, 10)}))
windows = st.sampled_from([*PHASE_IDS, *PHASE_IDS, *(f"step:{s}" for s in STEP_IDS), "step:nope", "nope"])


def _at(hours: int, zone: timezone) -> str:
    return (START + timedelta(hours=hours)).replace(tzinfo=zone).isoformat()


@st.composite
def timelines(draw: st.DrawFn) -> dict[str, Any]:
    """000's phases on a random increasing timeline in random zones, some forms kept, some dropped, a few values
    replaced by naive, date-only, 24:00 or bad ones; random closes by category, cohort and recommender."""
    data: dict[str, Any] = dict(BASE)
    wrong = st.sampled_from([False] * 23 + [True])  # about one value in 24 is written wrong

    def maybe(value: object) -> object:
        return draw(wild) if draw(wrong) else value

    kept = [p for p in BASE["phases"] if p["kind"] != "paper" or not draw(st.booleans())]
    zone = draw(zones)
    hours = sorted(draw(st.lists(st.integers(1, 400 * 24), min_size=2 * len(kept), max_size=2 * len(kept))))
    phases = []
    for i, p in enumerate(kept):
        phase = dict(p)
        for k, edge in enumerate(("opens", "closes")):
            if isinstance(p.get(edge), str) and p[edge][:1].isdigit() or draw(st.sampled_from([False] * 4 + [True])):
                phase[edge] = _at(hours[2 * i + k], draw(zones) if draw(wrong) else zone)
            phase[edge] = maybe(phase.get(edge, "manual"))
        phases.append(phase)
    data["phases"] = phases
    data["timezone"] = draw(st.sampled_from(["Asia/Shanghai"] * 6 + ["UTC", "Asia/Urumqi", "Mars/Olympus", 8]))
    own_close = st.one_of(st.builds(lambda h: maybe(_at(h, zone)), st.integers(1, 400 * 24)), relative)
    close_map = st.dictionaries(windows, own_close, min_size=1, max_size=2)
    parties = st.lists(st.fixed_dictionaries({"id": st.sampled_from(["hk-mo-tw", "lizhou", "org-1"] * 4 + ["bad id"]),
                                              "name": st.just("n")}), max_size=2, unique_by=lambda p: p["id"])
    data["cohorts"], data["recommenders"] = draw(parties), draw(parties)
    data["categories"] = [{**c, "closes": draw(close_map)} if draw(wrong) else c for c in BASE["categories"]]
    who = st.fixed_dictionaries({"category": st.lists(st.sampled_from(["key", "general", "key", "x"]), max_size=2)}, optional={
                                              "cohort": st.lists(st.sampled_from(["hk-mo-tw", "y"]), max_size=1),
                                              "recommender": st.lists(st.sampled_from(["lizhou", "org-1"]), max_size=1)})
    data["overrides"] = draw(st.lists(st.fixed_dictionaries({"who": who, "closes": close_map}), max_size=1))
    return data


def _names_a_field(line: str) -> bool:
    """`random.yaml: <field>[.<path>]: reason`, or a YAML position, or `(file)` for the file as a whole."""
    rest = line.removeprefix(f"{ORIGIN}: ")
    head = re.split(r"[.:\s]", rest, maxsplit=1)[0]
    return rest != line and (head in FIELDS or head in ("(file)", "line"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(timelines())
def test_a_random_timeline_loads_or_is_refused_one_line_per_problem_naming_its_field(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    try:
        call = parse_call(text, ORIGIN)
    except CallFileError as exc:
        assert exc.problems
        for line in exc.problems:
            assert "\n" not in line and "Traceback" not in line, line
            assert _names_a_field(line), line
        return
    try:
        prepare(call)
    except (CalendarNotCovered, ValueError) as exc:  # `calls validate` reports these as one line each
        assert "\n" not in str(exc), str(exc)
