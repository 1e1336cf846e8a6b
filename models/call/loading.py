"""Loading a call file: YAML that keeps instants as text, validation, and every problem as one line naming its
file and field."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ValidationError

from models.call.review import ReviewDef
from models.call.schema import ROLES, CallDefinition


class CallFileError(Exception):
    """A call file failed to load; `problems` holds one line per problem: file, field path, reason."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


def _field_path(loc: tuple[int | str, ...], data: object) -> str:
    """Render a pydantic location with list indices replaced by the item's id where it has one."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list) and item < len(node):
            node = node[item]
            ident = node.get("id") if isinstance(node, dict) else None
            parts.append(str(ident) if ident else str(item))
        elif isinstance(node, dict) and item in node:
            node = node[item]
            parts.append(str(item))
        elif not (isinstance(item, str) and (item[:1].isupper() or "[" in item or item in ("function-after",))):
            parts.append(str(item))
    return ".".join(parts) or "(file)"


class _StrictLoader(yaml.SafeLoader):
    """YAML loader that keeps timestamps as strings so pydantic (not YAML) decides about time zones."""


_StrictLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_call(text: str, origin: str = "<text>") -> CallDefinition:
    """Parse and validate a call definition, raising CallFileError with every problem found."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise CallFileError(origin, [f"{origin}: {_yaml_problem(exc)}"]) from None
    if not isinstance(data, dict):
        raise CallFileError(origin, [f"{origin}: (file): expected a mapping of call fields"])
    left = [f"{origin}: {_field_path(loc, data)}: {TODO_LEFT}" for loc in _todo_fields(data)]
    try:
        call = CallDefinition.model_validate(data)
    except ValidationError as exc:
        problems = _explain(exc, data, origin)
        raise CallFileError(origin, problems + [p for p in left if p not in problems]) from None
    if left:  # a TODO in a free-text field is a valid string: still a decision nobody took
        raise CallFileError(origin, left)
    return call if call.review is not None else call.model_copy(update={"review": ReviewDef()})


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML syntax error on one line: where, what, and what the parser was reading."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        what = exc.problem or "syntax error"
        if exc.context and exc.context_mark is not None:
            what += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        return f"line {exc.problem_mark.line + 1}, column {exc.problem_mark.column + 1}: not valid YAML: {what}"
    return "not valid YAML: " + " ".join(str(exc).split())


# What a field written as one of several forms accepts, for a value that fits none of them.
_ALTERNATIVES = {
    "opens": "a datetime with its offset, previous or manual",
    "closes": "a datetime with its offset, {working_days: N}, {days: N} or manual",
}


def _union(loc: tuple[int | str, ...], data: object) -> tuple[tuple[int | str, ...], str, object] | None:
    """For an error inside a union's alternative: the union's location, the alternative's form and the input."""
    node = data
    for i, item in enumerate(loc):
        if item == "datetime" or isinstance(item, str) and (item[:1].isupper() or "[" in item):
            form = "datetime" if item == "datetime" else "literal" if item.startswith("literal[") else "mapping"
            return loc[:i], form, node
        if isinstance(node, list) and isinstance(item, int) and item < len(node):
            node = node[item]
        elif isinstance(node, dict) and item in node:
            node = node[item]
        else:
            return None
    return None


def _intended(value: object, forms: set[str]) -> str | None:
    """The alternative a value was evidently written as (a mapping, or a date), if the union has it."""
    dated = isinstance(value, str) and re.match(r"\d{4}-", value) is not None
    form = "mapping" if isinstance(value, dict) else "datetime" if dated else None
    return form if form in forms else None


def _todo_fields(node: object, loc: tuple[int | str, ...] = ()) -> list[tuple[int | str, ...]]:
    """Where `calls draft` left a TODO that nobody replaced."""
    if isinstance(node, dict):
        return [where for k, v in node.items() for where in _todo_fields(v, (*loc, k))]
    if isinstance(node, list):
        return [where for i, v in enumerate(node) for where in _todo_fields(v, (*loc, i))]
    return [loc] if node == "TODO" else []


TODO_LEFT = "TODO left for a person by `calls draft` (the comment beside it gives the sentence and the readings)"


def _explain(exc: ValidationError, data: object, origin: str) -> list[str]:
    """One line per problem; of a union's alternatives only the one the value was written as is reported."""
    errors = exc.errors()
    unions = [_union(tuple(err["loc"]), data) for err in errors]
    forms: dict[tuple[int | str, ...], set[str]] = {}
    for u in unions:
        if u is not None:
            forms.setdefault(u[0], set()).add(u[1])
    by_field: dict[str, list[str]] = {}
    for err, union in zip(errors, unions):
        where = _field_path(tuple(err["loc"]), data).removesuffix(".datetime")
        msg = err["msg"].removeprefix("Value error, ")
        if isinstance(err.get("input"), str) and err["input"].startswith("TODO"):
            where = _field_path(union[0], data) if union is not None else where
            by_field.setdefault(where, []).append(TODO_LEFT)
            continue
        intended = None
        if union is not None:
            root, form, value = union
            intended = _intended(value, forms[root])
            if intended is None:
                where = _field_path(root, data)
                accepted = _ALTERNATIVES.get(where.rsplit(".", 1)[-1], "any of the forms this field takes")
                msg = f"{value!r} is not {accepted}"
            elif form != intended:
                continue
        if (err["type"] == "timezone_aware" or err["type"].startswith("datetime")) and (
                union is None or intended == "datetime"):
            msg = instant_problem(err.get("input"), data, msg)
        elif err["type"] == "literal_error" and where.endswith("role"):
            roles = [r for r in ROLES if r not in ("system", "public")] if where.startswith("chain.") else ROLES
            msg = f"unknown role {err.get('input')!r} (roles: {', '.join(roles)})"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (not part of a call file here: check its spelling and indentation)"
        elif err["type"] == "missing":
            msg = "required field missing"
        by_field.setdefault(where, []).extend(msg.split("; "))
    problems: list[str] = []
    for where, msgs in by_field.items():
        # problems of the whole call (cross-field checks) name their own field path
        prefix = f"{origin}: " if where == "(file)" else f"{origin}: {where}: "
        problems += [prefix + m for m in dict.fromkeys(msgs)]
    return problems

def instant_problem(value: object, data: object, reason: str) -> str:
    """What is wrong with an instant as written, and the instant to write instead (in the call's timezone)."""
    zone_name = data.get("timezone", "Asia/Shanghai") if isinstance(data, dict) else "Asia/Shanghai"
    text = str(value).strip()
    day = re.match(r"^(\d{4}-\d{2}-\d{2})(?:[T ](24:00(?::00)?)|$)", text)
    try:
        zone = ZoneInfo(str(zone_name))
        if day:
            d = date.fromisoformat(day.group(1))
            end = datetime.combine(d + timedelta(days=1), time(), zone).isoformat()
            what = "24:00 is not an hour here" if day.group(2) else "a date without an hour"
            return f"{text!r}: {what}: for the end of that day write {end} (00:00 of the next day)"
        naive = datetime.fromisoformat(text)
    except (ValueError, ZoneInfoNotFoundError):
        example = datetime(2025, 4, 7, 17, tzinfo=ZoneInfo("Asia/Shanghai")).isoformat()
        return f"{text!r} is not an instant ({reason.lower()}): write one like {example}"
    if naive.tzinfo is None:
        return f"naive datetime {text!r}: write its offset, {naive.replace(tzinfo=zone).isoformat()}"
    return f"{text!r}: {reason}"
MAX_CALL_FILE = 1_000_000  # bytes; the largest seed call is about 20 KB


def load_call(path: str | Path) -> CallDefinition:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_CALL_FILE:
            raise CallFileError(str(p), [f"{p}: {size} bytes; a call file has at most {MAX_CALL_FILE}"])
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CallFileError(str(p), [f"{p}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise CallFileError(str(p), [f"{p}: not UTF-8 text (byte {exc.start})"]) from None
    return parse_call(text, str(p))
