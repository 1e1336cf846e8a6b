"""Rules in call files: schema errors located at rules.<id>.params.<field>, and the seed calls' rules against
the notices they cite."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from models.call import CallDefinition, CallFileError, load_call, parse_call
from models.rules import (
    KINDS,
    Override,
    apply_overrides,
    evaluate,
    failure_reasons,
    formal_failures,
    needs_person,
    rule_ids,
)
from tests.builders import AT, facts, form
from tests.conftest import CALLS

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
CALL_FILES = sorted(CALLS.glob("*.yaml"))


def with_rules(rules: list[dict[str, object]], **extra: object) -> str:
    data = yaml.safe_load((CALLS / "004-gx-key-rd-heavy-metal.yaml").read_text(encoding="utf-8"))
    data["rules"] = rules
    data.update(extra)
    return yaml.safe_dump(data, allow_unicode=True)


def problems(text: str) -> list[str]:
    with pytest.raises(CallFileError) as info:
        parse_call(text, "x.yaml")
    return info.value.problems


@pytest.mark.parametrize(("rule", "expected"), [
    ({"id": "r", "kind": "no_such", "seed": "s"}, "x.yaml: rules.r.kind: unknown rule kind 'no_such' (kinds: "),
    ({"id": "r", "kind": "born_on_or_after", "params": {"cutoff": "1967-13-01"}, "seed": "s"},
     "x.yaml: rules.r.params.cutoff: Input should be a valid date"),
    ({"id": "r", "kind": "born_on_or_after", "params": {}, "seed": "s"}, "x.yaml: rules.r.params.cutoff: "),
    ({"id": "r", "kind": "max_age", "params": {"max_years": 57, "exceptions": ["pope"]}, "seed": "s"},
     "x.yaml: rules.r.params.exceptions.0: Input should be 'academician', 'listed_talent', 'national_project' or "
     "'foreign_expert'"),
    ({"id": "r", "kind": "max_age", "params": {"max_years": 0}, "seed": "s"},
     "x.yaml: rules.r.params.max_years: Input should be greater than or equal to 1"),
    ({"id": "r", "kind": "max_age", "params": {"max_years": 57, "max_yaers": 1}, "seed": "s"},
     "x.yaml: rules.r.params.max_yaers: "),
    ({"id": "r", "kind": "title_or_degree", "params": {}, "seed": "s"},
     "x.yaml: rules.r.params: give min_title, min_degree or both"),
    ({"id": "r", "kind": "not_civil_servant"}, "x.yaml: rules.r.seed: "),
])
def test_rule_problems_are_located(rule: dict[str, object], expected: str) -> None:
    found = problems(with_rules([rule]))
    assert len(found) == 1 and found[0].startswith(expected), found


def test_rule_ids_categories_and_flags_are_checked() -> None:
    found = problems(with_rules([
        {"id": "a", "kind": "not_civil_servant", "seed": "s", "categories": ["nowhere"]},
        {"id": "a", "kind": "not_civil_servant", "seed": "s", "when": "no_flag"},
    ]))
    assert sorted(found) == [
        "x.yaml: rules.a.categories: unknown category 'nowhere'",
        "x.yaml: rules.a.when: unknown flag 'no_flag' (declare it under flags)",
        "x.yaml: rules: duplicate rule id 'a'",
    ]


def test_attachment_fields_are_checked() -> None:
    data = yaml.safe_load(with_rules([]))
    data["attachments"] = [{"kind": "a", "name": "A", "condition": "whenever", "max_bytes": 0},
                           {"kind": "a", "name": "A again"}]
    found = problems(yaml.safe_dump(data, allow_unicode=True))
    assert any(p.startswith("x.yaml: attachments.0.condition: Input should be 'retires_during_term'") for p in found)
    assert "x.yaml: attachments.0.max_bytes: Input should be greater than or equal to 1" in found
    data["attachments"][0] = {"kind": "a", "name": "A"}
    assert problems(yaml.safe_dump(data, allow_unicode=True)) == ["x.yaml: attachments: kind 'a' listed twice"]


@pytest.fixture(scope="module")
def calls() -> list[CallDefinition]:
    return [load_call(f) for f in CALL_FILES]


def notice(call: CallDefinition) -> str:
    path = SEEDS / Path(call.source).name
    if not path.exists():
        pytest.skip(f"seed notices not found at {SEEDS}")
    return re.sub(r"\s+", "", path.read_text(encoding="utf-8"))


def test_every_rule_cites_its_notice_verbatim(calls: list[CallDefinition]) -> None:
    for call in calls:
        text = notice(call)
        cited = [r.seed for r in call.rules] + [a.seed for a in call.attachments if a.seed]
        missing = [s for s in cited if re.sub(r"\s+", "", s) not in text]
        assert not missing, f"{call.id}: not in {call.source}: {missing}"
        assert len(call.rules) >= 6, call.id


def test_kind_docstrings_quote_the_notices_verbatim(calls: list[CallDefinition]) -> None:
    texts = {Path(c.source).name[:3]: notice(c) for c in calls}
    quoted = 0
    for kind in KINDS.values():
        for number, quotes in re.findall(r"(\d{3})((?:「[^」]+」)+)", kind.doc):
            for sentence in re.findall(r"「([^」]+)」", quotes):
                assert re.sub(r"\s+", "", sentence) in texts[number], f"{kind.name}: {number}「{sentence}」"
                quoted += 1
        assert "「" in kind.doc, f"{kind.name} cites no notice sentence"
    assert quoted >= len(KINDS)


def test_every_rule_kind_is_used_by_a_seed_call_or_the_example(calls: list[CallDefinition]) -> None:
    example = load_call(CALLS / "examples" / "other-notices.yaml")
    used = {r.kind for c in [*calls, example] for r in c.rules}
    assert used == set(KINDS)


def test_field_notes_quotes_are_verbatim() -> None:
    path = SEEDS.parent / "FIELD_NOTES.md"
    if not path.exists():
        pytest.skip(f"field notes not found at {path}")
    text = re.sub(r"\s+", "", path.read_text(encoding="utf-8"))
    quotes = [q for kind in KINDS.values() for q in re.findall(r"FIELD_NOTES「([^」]+)」", kind.doc)]
    assert quotes and all(re.sub(r"\s+", "", q) in text for q in quotes), quotes


@pytest.mark.parametrize("path", CALL_FILES, ids=lambda p: p.name[:3])
def test_evaluate_gives_one_verdict_per_rule_id(path: Path) -> None:
    call = load_call(path)
    verdicts = evaluate(call, facts(form(call_id=call.id, category=call.categories[0].id), at=AT))
    assert [v.rule_id for v in verdicts] == rule_ids(call)
    assert len(set(rule_ids(call))) == len(rule_ids(call))
    by_id = {r.id: r for r in call.rules}
    assert all(v.seed == by_id[v.rule_id].seed for v in verdicts if v.rule_id in by_id)


def test_a_rule_for_other_categories_passes_as_not_applicable(calls: list[CallDefinition]) -> None:
    call = next(c for c in calls if c.id == "sx-2024-cooperation-exchange")
    verdicts = {v.rule_id: v for v in evaluate(call, facts(form(category="aid")))}
    assert verdicts["regional_partner_outside_shanxi"].outcome == "pass"
    assert verdicts["regional_partner_outside_shanxi"].reason.startswith("not applicable: category aid")
    verdicts = {v.rule_id: v for v in evaluate(call, facts(form(category="regional")))}
    assert verdicts["regional_partner_outside_shanxi"].outcome == "fail"


def test_formal_failures_count_every_rule_id(calls: list[CallDefinition]) -> None:
    call = calls[0]
    on_time = evaluate(call, facts(form(call_id=call.id, category="key"), no_pi=True))
    late = evaluate(call, facts(form(call_id=call.id, category="key", starts_on=date(2025, 3, 6),
                                     ends_on=date(2027, 3, 5))))
    counts = formal_failures(call, [on_time, late])
    assert list(counts) == rule_ids(call)
    assert counts["term_fixed"] == 1 and counts["pi_full_time"] == 0 and counts["attachment.id_card"] == 2
    assert "term_fixed: starts 2025-03-06; the notice fixes 2025-03-05" in failure_reasons(late)
    assert not any(r.startswith("term_fixed") for r in failure_reasons(on_time))


def test_needs_person_counts_review_verdicts_per_rule(calls: list[CallDefinition]) -> None:
    call = calls[0]
    unknown_pi = evaluate(call, facts(form(call_id=call.id, category="key"), no_pi=True))
    known = evaluate(call, facts(form(call_id=call.id, category="key")))
    counts = needs_person(call, [unknown_pi, known])
    assert list(counts) == rule_ids(call)
    assert counts["pi_full_time"] == 1 and counts["term_fixed"] == 0


def test_an_override_needs_a_reason_and_keeps_what_it_replaced(calls: list[CallDefinition]) -> None:
    call = calls[0]
    verdicts = evaluate(call, facts(form(call_id=call.id, category="key")))
    with pytest.raises(ValueError, match="needs a reason"):
        Override("pi_full_time", "pass", "pm-1", "  ", AT)
    with pytest.raises(ValueError, match="naive"):
        Override("pi_full_time", "pass", "pm-1", "返聘证明已核实", datetime(2025, 4, 1, 9, 0))
    later = Override("attachment.id_card", "pass", "pm-2", "纸质材料已补交", AT + timedelta(hours=2))
    first = Override("attachment.id_card", "fail", "pm-1", "复印件不清晰", AT + timedelta(hours=1))
    after = {v.rule_id: v for v in apply_overrides(verdicts, [later, first])}
    card = after["attachment.id_card"]
    assert (card.outcome, card.reason) == ("pass", "overridden by pm-2: 纸质材料已补交")
    assert card.evidence["overridden"].startswith("fail: missing id_card")
    assert card.evidence["override"] == f"pm-2 at {(AT + timedelta(hours=2)).isoformat()}: 纸质材料已补交"
    assert after["pi_full_time"] == next(v for v in verdicts if v.rule_id == "pi_full_time")
    with pytest.raises(KeyError, match="no_such_rule"):
        apply_overrides(verdicts, [Override("no_such_rule", "pass", "pm-1", "r", AT)])
