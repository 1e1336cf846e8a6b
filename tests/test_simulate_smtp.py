"""`simulate` with GRANTFLOW_SMTP_URL: every notice it counts arrives once, in Chinese, at a real SMTP server."""

from __future__ import annotations

import re

import pytest

from models.call import load_call
from simulation.launch import simulate
from tests.conftest import CALLS
from tests.smtp_sink import smtp_sink, text


async def test_a_simulated_call_delivers_as_many_messages_as_it_counts_notices(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with smtp_sink() as sink:
        monkeypatch.setenv("GRANTFLOW_SMTP_URL", sink.url())
        report = await simulate(load_call(CALLS / "004-gx-key-rd-heavy-metal.yaml"), 12, seed=3)
    assert report.violations == []
    assert report.notices == len(sink.accepted) == len(set(sink.ids())) > 12
    assert all(re.search(r"[\u4e00-\u9fff]", text(m)) for m in sink.accepted)
    assert {str(m["From"]) for m in sink.accepted} == {"申报管理系统 <noreply@grantflow.localhost>"}
