"""The workflow modules are passed through the sandbox (imported once per process, `worker.PASSTHROUGH`), so none of
them may hold state at module or class level: what one workflow run changed there, the next run would see."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from worker import PASSTHROUGH, WORKFLOWS

ROOT = Path(__file__).resolve().parent.parent
IMMUTABLE_CALLS = {"timedelta", "frozenset", "compile", "TypeVar", "TypeAdapter"}  # compile: re.compile


def immutable(node: ast.expr | None) -> bool:
    """A value no run can change: a constant, a name, a tuple of such, or a call known to build an immutable value."""
    if node is None or isinstance(node, ast.Constant | ast.Name | ast.Attribute):
        return True
    if isinstance(node, ast.Tuple):
        return all(immutable(e) for e in node.elts)
    if isinstance(node, ast.BinOp | ast.UnaryOp):
        return all(immutable(e) for e in ast.iter_child_nodes(node) if isinstance(e, ast.expr))
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        return name in IMMUTABLE_CALLS and all(immutable(a) for a in node.args)
    return False


def shared_state(source: str) -> list[str]:
    """Each module- or class-level assignment of a value a run could change, as `line: target`."""
    found: list[str] = []

    def body(statements: list[ast.stmt]) -> None:
        for s in statements:
            if isinstance(s, ast.Assign | ast.AnnAssign) and not immutable(s.value):
                targets = s.targets if isinstance(s, ast.Assign) else [s.target]
                found.append(f"{s.lineno}: {', '.join(ast.unparse(t) for t in targets)}")
            elif isinstance(s, ast.ClassDef):
                body(s.body)
            elif isinstance(s, ast.With | ast.If | ast.Try):
                body(s.body)

    body(ast.parse(source).body)
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "workflows").glob("*.py")), ids=lambda p: p.name)
def test_no_workflow_module_holds_state_at_module_or_class_level(path: Path) -> None:
    assert shared_state(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_state_a_run_could_change() -> None:
    source = (
        "from datetime import timedelta\n"
        "TIMEOUT = timedelta(seconds=30)\n"
        "PATCH = 'x'\n"
        "SEEN = {}\n"
        "class W:\n"
        "    limit: int = 3\n"
        "    queue: list[str] = []\n"
        "    cache = dict()\n"
    )
    assert shared_state(source) == ["4: SEEN", "7: queue", "8: cache"]


def test_the_workflow_modules_are_the_ones_passed_through() -> None:
    assert "workflows" in PASSTHROUGH
    assert {w.__module__.split(".")[0] for w in WORKFLOWS} == {"workflows"}
