"""The application state machine laid out for an SVG drawing, from the one declaration (models/lifecycle.py): a
column per distance from the initial state (wrapped into bands), a box per state with its live count, an arrow per
pair of states."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from models.lifecycle import Lifecycle

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 170, 46, 64, 22, 24
COLUMNS = 6  # columns per band: a long lifecycle continues in the band below


def fitted(label: str, room: int = WIDTH - 44) -> str:
    """`label` cut with an ellipsis to about `room` pixels at 12 px (a wide character counts twice)."""
    used = 0
    for i, ch in enumerate(label):
        used += 12 if ord(ch) > 0x2E80 else 7
        if used > room:
            return label[:i] + "…"
    return label


@dataclass(frozen=True)
class Box:
    state: str
    label: str
    x: int
    y: int
    count: int
    terminal: bool
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class Arrow:
    source: str
    dest: str
    path: str  # SVG path data
    triggers: str  # what moves an application along it, with the roles that may


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]


def ranks(lifecycle: Lifecycle) -> dict[str, int]:
    """Each state's distance from the initial one over the declared transitions (unreachable ones last)."""
    out = {lifecycle.initial: 0}
    queue = deque([lifecycle.initial])
    while queue:
        state = queue.popleft()
        for t in lifecycle.outgoing(state):
            if not t.internal and t.dest not in out:
                out[t.dest] = out[state] + 1
                queue.append(t.dest)
    last = max(out.values(), default=0) + 1
    return {s: out.get(s, last) for s in lifecycle.state_names()}


def _path(a: Box, b: Box, band: dict[str, int]) -> str:
    if band[a.state] == band[b.state] and a.x < b.x:  # forward: right edge to left edge
        x1, y1, x2, y2 = a.x + a.width, a.y + a.height // 2, b.x, b.y + b.height // 2
        mid = (x1 + x2) // 2
        return f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"
    if band[a.state] < band[b.state]:  # on to the next band: bottom edge to top edge
        x1, y1, x2, y2 = a.x + a.width // 2, a.y + a.height, b.x + b.width // 2, b.y
        return f"M{x1},{y1} C{x1},{y1 + 60} {x2},{y2 - 60} {x2},{y2}"
    # back or within a column: over the top, bowed upwards
    x1, y1, x2, y2 = a.x + a.width // 2, a.y, b.x + b.width // 2, b.y
    bow = min(y1, y2) - 18 - abs(x1 - x2) // 8
    return f"M{x1},{y1} C{x1},{bow} {x2},{bow} {x2 + 6},{y2}"


def layout(lifecycle: Lifecycle, counts: dict[str, int]) -> Diagram:
    rank = ranks(lifecycle)
    band = {s: r // COLUMNS for s, r in rank.items()}
    rows: dict[int, int] = {}
    for s in lifecycle.state_names():
        rows[rank[s]] = rows.get(rank[s], -1) + 1
    band_height = (max(rows.values()) + 1) * (HEIGHT + GAP_Y) + MARGIN * 3
    placed: dict[int, int] = {}
    boxes: dict[str, Box] = {}
    for spec in lifecycle.states:
        r = rank[spec.name]
        row = placed[r] = placed.get(r, -1) + 1
        boxes[spec.name] = Box(spec.name, spec.label, MARGIN + r % COLUMNS * (WIDTH + GAP_X),
                               MARGIN * 2 + band[spec.name] * band_height + row * (HEIGHT + GAP_Y),
                               counts.get(spec.name, 0), lifecycle.is_terminal(spec.name))
    pairs: dict[tuple[str, str], list[str]] = {}
    for t in lifecycle.transitions:
        if not t.internal and t.source != t.dest:
            pairs.setdefault((t.source, t.dest), []).append(f"{t.trigger} ({', '.join(t.roles)})")
    arrows = [Arrow(s, d, _path(boxes[s], boxes[d], band), "; ".join(dict.fromkeys(names)))
              for (s, d), names in pairs.items()]
    width = MARGIN * 2 + min(max(rank.values()) + 1, COLUMNS) * (WIDTH + GAP_X)
    height = (max(band.values()) + 1) * band_height
    return Diagram(width, height, list(boxes.values()), arrows)
