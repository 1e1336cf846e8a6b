"""Settings read from the environment: the worker's cache size and what a malformed value says."""

from __future__ import annotations

import pytest

from infra.settings import WORKFLOW_CACHE, Settings


def test_workflow_cache_defaults_to_a_large_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRANTFLOW_WORKFLOW_CACHE", raising=False)
    assert Settings.from_env().workflow_cache == WORKFLOW_CACHE == 10_000


def test_workflow_cache_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTFLOW_WORKFLOW_CACHE", "2500")
    assert Settings.from_env().workflow_cache == 2500


@pytest.mark.parametrize("raw", ["0", "-5", "lots", "1e4", ""])
def test_a_malformed_cache_size_names_the_variable_and_its_value(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("GRANTFLOW_WORKFLOW_CACHE", raw)
    with pytest.raises(ValueError, match=f"GRANTFLOW_WORKFLOW_CACHE must be a positive whole number, not {raw!r}"):
        Settings.from_env()
