"""The suite's guard against a test that waits for ever: it fails alone, after the configured limit, naming where
each of its tasks waited, and the tests after it still run."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import ROOT
from tests.hang_guard import Hung, within

STUCK = '''
import asyncio

async def stuck_on_a_reply_that_never_comes() -> None:
    await asyncio.Event().wait()

async def test_waits_for_ever() -> None:
    helper = asyncio.create_task(stuck_on_a_reply_that_never_comes())
    await helper

async def test_after_it() -> None:
    await asyncio.sleep(0)
'''


def test_a_test_that_waits_for_ever_fails_alone_saying_where_it_waited(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasync_test_limit = 1\n")
    pytester.makepyfile(test_stuck=STUCK)
    result = pytester.runpytest_subprocess("-p", "tests.hang_guard", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*the test did not finish within 1.0 s; where its tasks waited:*",
                                 "*in stuck_on_a_reply_that_never_comes*",
                                 "*FAILED test_stuck.py::test_waits_for_ever*"])


async def test_a_set_up_that_waits_for_ever_raises_hung_with_where_it_waited() -> None:
    async def stuck_in_set_up() -> int:
        await asyncio.Event().wait()
        return 1

    async def quick() -> int:
        return 2

    with pytest.raises(Hung, match="in stuck_in_set_up"):
        await within(0.2, stuck_in_set_up)
    assert await within(5, quick) == 2
