"""Writes a draft as a call file: block YAML in the format's field order, each value preceded by the sentence it
came from, each undecided value written as `TODO` with the reason and the candidate readings beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

TODO = "TODO"


@dataclass
class Value:
    """A value of the draft, the sentence it came from, and why a person must decide it (then `value` is a
    candidate, written in the comment, and the field holds TODO)."""

    value: Any
    source: str = ""
    todo: str | None = None
    candidates: list[str] = field(default_factory=list)


Tree = dict[str, "Tree | Value | list[Tree]"]


def _scalar(v: Any) -> str:
    text = yaml.safe_dump(v, allow_unicode=True, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _quote(sentence: str) -> str:
    return " ".join(sentence.split())[:300]


def emit(tree: Tree, indent: int = 0) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, node in tree.items():
        if isinstance(node, Value):
            if node.source:
                lines.append(f"{pad}# 原文: {_quote(node.source)}")
            if node.todo is not None:
                options = f"; candidates: {', '.join(node.candidates)}" if node.candidates else ""
                lines.append(f"{pad}{key}: {TODO}  # {node.todo}{options}")
            else:
                lines.append(f"{pad}{key}: {_scalar(node.value)}")
        elif isinstance(node, list):
            lines.append(f"{pad}{key}:" + (" []" if not node else ""))
            for item in node:
                body = emit(item, indent + 4)
                first = next(i for i, line in enumerate(body) if not line.lstrip().startswith("#"))
                body[first] = f"{pad}  - " + body[first].lstrip()
                lines += body
        else:
            lines.append(f"{pad}{key}:")
            lines += emit(node, indent + 2)
    return lines


def todos(tree: Tree | list[Tree], path: str = "") -> list[str]:
    """The dotted path of every TODO in the tree (list items by their id where they have one)."""
    out: list[str] = []
    items = tree.items() if isinstance(tree, dict) else []
    for key, node in items:
        where = f"{path}.{key}" if path else key
        if isinstance(node, Value):
            out += [where] if node.todo is not None else []
        elif isinstance(node, list):
            for i, item in enumerate(node):
                ident = item.get("id")
                out += todos(item, f"{where}.{ident.value if isinstance(ident, Value) else i}")
        else:
            out += todos(node, where)
    return out
