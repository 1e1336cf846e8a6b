"""The sample population for a call of any province, not only the two seed provinces (Shanxi, Guangxi)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from models.call import load_call
from simulation.population import sample_population
from tests.conftest import CALLS


# CN-BJ and CN-GD: the province's own units share ids with the fixed units outside the seed provinces (bj-univ-1).
@pytest.mark.parametrize("province", ["CN-SC", "CN-BJ", "CN-GD", "CN-YN", "CN", "CN-SX"])
def test_a_call_of_any_province_gets_applicants_of_that_province(province: str) -> None:
    call = load_call(CALLS / "004-gx-key-rd-heavy-metal.yaml").model_copy(update={"province": province})
    population = sample_population(call, 60, 3, date(2025, 6, 1))  # raised StopIteration outside CN-SX, CN-GX
    units = {u.id: u for u in population.registry.units}
    assert not [uid for uid, n in Counter(u.id for u in population.registry.units).items() if n > 1]
    assert all(f.unit_id in units for f in population.forms)
    eligible = [f for f in population.forms if population.registry.profiles[f.pi_id] == "eligible"]
    assert eligible and {units[f.unit_id].province for f in eligible} == {province}


def test_the_seed_provinces_draw_the_same_population_as_before() -> None:
    """Adding other provinces' units leaves a seed-province call's draw alone (ids, units and people in order)."""
    call = load_call(CALLS / "000-sx-2025-basic-research-geology.yaml")
    population = sample_population(call, 20, 5, date(2025, 3, 20))
    assert [u.id for u in population.registry.units][:3] == ["sx-univ-1", "sx-univ-2", "sx-univ-3"]
    assert [u.id for u in population.registry.units][-4:] == ["bj-univ-1", "bj-inst-1", "sh-ent-1", "gd-univ-1"]


@pytest.mark.parametrize("path", sorted(CALLS.glob("*.yaml")), ids=lambda p: p.name[:3])
def test_every_call_file_gets_a_population(path: Path) -> None:
    call = load_call(path)
    population = sample_population(call, 40, 3, call.issued or date(2025, 6, 1))
    units = {u.id for u in population.registry.units}
    assert len(population.forms) == 40 and all(f.unit_id in units for f in population.forms)
