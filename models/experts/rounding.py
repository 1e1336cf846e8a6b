"""From a fractional assignment to a drawn one, keeping every pair's marginal probability: each halving pairs up the
arcs at every vertex at random, and on each resulting path or cycle keeps every other arc, starting by a coin flip."""

from __future__ import annotations

from typing import TYPE_CHECKING

from models.experts.flow import Ints

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def _pairing(vertex: Ints, order: Ints) -> Ints:
    """partner[e]: the arc paired with arc e at its endpoint in `vertex`, consecutive in `order` (-1: odd one out)."""
    import numpy as np

    v = vertex[order]
    partner = np.full(len(vertex), -1, dtype=np.int64)
    starts = np.concatenate([[True], v[1:] != v[:-1]])
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(v)), 0))
    first = ((np.arange(len(v)) - group_start) % 2 == 0) & np.concatenate([v[1:] == v[:-1], [False]])
    i = np.flatnonzero(first)
    partner[order[i]] = order[i + 1]
    partner[order[i + 1]] = order[i]
    return partner


def halve(app: Ints, expert: Ints, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """Keep half of the arcs (app[e], expert[e]): every application keeps exactly half of its arcs (its degree is
    even), every expert floor or ceiling of half, and each arc is kept with probability exactly 1/2."""
    import numpy as np

    size = len(app)
    at_app = _pairing(app, np.lexsort((rng.random(size), app)))
    at_expert = _pairing(expert, np.lexsort((rng.random(size), expert)))
    if (at_app < 0).any():
        raise ValueError("an application has an odd number of fractional units")
    coin = rng.integers(0, 2, size=size)
    pa, pe = at_app.tolist(), at_expert.tolist()
    label = [-1] * size
    # Paths start at an arc unpaired at its expert; what remains after them are even cycles.
    starts = [int(e) for e in np.flatnonzero(at_expert < 0)] + list(range(size))
    for start in starts:
        if label[start] >= 0:
            continue
        bit, current, via_app = int(coin[start]), start, True
        while current >= 0 and label[current] < 0:
            label[current] = bit
            bit ^= 1
            current = pa[current] if via_app else pe[current]
            via_app = not via_app
    kept: npt.NDArray[np.bool_] = np.asarray(label, dtype=np.int64) == 1
    return kept


def draw(app: Ints, expert: Ints, halvings: int, rng: np.random.Generator) -> npt.NDArray[np.bool_]:
    """Halve `halvings` times: arcs carrying 1/2**halvings of a slot become whole slots, marginals unchanged."""
    import numpy as np

    chosen = np.ones(len(app), dtype=bool)
    for _ in range(halvings):
        live = np.flatnonzero(chosen)
        kept = halve(app[live], expert[live], rng)
        chosen[live[~kept]] = False
    return chosen
