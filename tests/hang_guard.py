"""A test that waits for ever fails on its own, saying where each of its tasks waited, so that one stuck test cannot
hold up the tests after it (conftest.py starts the shared test server anew after a failed test)."""

from __future__ import annotations

import asyncio
import functools
import inspect
import io
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import pytest


def where_tasks_wait() -> str:
    """Every other task of the running loop with the stack it is suspended in."""
    out = io.StringIO()
    for task in asyncio.all_tasks() - {asyncio.current_task()}:
        print(f"--- {task.get_name()}: {task.get_coro()!r}", file=out)
        task.print_stack(limit=25, file=out)
    return out.getvalue()


T = TypeVar("T")


class Hung(Exception):
    """A coroutine did not finish within its limit; the message holds where the loop's tasks waited."""


async def within(limit: float, make: Callable[[], Awaitable[T]]) -> T:
    """`make()`'s result, or `Hung` after `limit` seconds with the stacks of the loop's tasks, the coroutine cancelled
    (a test, or a fixture's set-up, which the per-test limit does not cover)."""
    task = asyncio.ensure_future(make())
    done, _ = await asyncio.wait({task}, timeout=limit)
    if done:
        return task.result()
    stacks = where_tasks_wait()
    task.cancel()
    await asyncio.wait({task}, timeout=30)
    raise Hung(stacks)


def bounded(test: Callable[..., Coroutine[Any, Any, Any]], limit: float) -> Callable[..., Coroutine[Any, Any, Any]]:
    """`test`, failed after `limit` seconds with the stacks of the loop's tasks instead of waiting for ever."""

    @functools.wraps(test)
    async def run(**kwargs: Any) -> Any:
        try:
            return await within(limit, lambda: test(**kwargs))
        except Hung as hung:
            pytest.fail(f"the test did not finish within {limit} s; where its tasks waited:\n{hung}", pytrace=False)

    return run


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("async_test_limit", "seconds an async test may run before it fails with its tasks' stacks "
                  "(below pytest-timeout's limit, which stays the last resort for synchronous tests)", default="480")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    limit = float(config.getini("async_test_limit"))
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.obj = bounded(item.obj, limit)
