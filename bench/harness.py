"""What every figure runs on: the dev server with its SQLite file, the records DB, bounded fan-out, RSS, polling."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil
from sqlalchemy.engine import Engine
from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.converter import ExternalStorage
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.notices import MemoryChannel
from bench.baseline import baseline_worker
from bench.sampler import Sampler
from infra.settings import binary
from infra.temporal import data_converter
from records.engine import make_engine
from records.payloads import payload_storage
from worker import build_worker

T = TypeVar("T")
PR_SET_PDEATHSIG = 1
RETRY_FOR_S = 180.0  # a failing workflow task is retried by the server every 10 s at most
RETRY_PAUSE_S = 1.0
BASELINE_CACHE = 10_000  # raw Temporal at its best: every no-op workflow stays in memory, none is replayed


@dataclass
class Bench:
    """One dev server and one records DB shared by grantflow and the baseline; a task queue per figure."""

    client: Client
    server: psutil.Process
    engine: Engine
    channel: MemoryChannel
    concurrency: int
    profiles: Path | None = None  # where `profiling` writes its reports; None: no profiling
    retried: int = 0  # requests the server turned away while a workflow task was failing, then sent again

    def task_queue(self, figure: str) -> str:
        return f"bench-{figure}-{uuid.uuid4().hex[:8]}"

    def grantflow(self, task_queue: str) -> Worker:
        return build_worker(self.client, task_queue, self.engine, self.channel)

    def baseline(self, task_queue: str) -> Worker:
        return baseline_worker(self.client, task_queue, BASELINE_CACHE)

    async def fan_out(self, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        return await bounded(self.concurrency, jobs)

    @contextmanager
    def profiling(self, window: str) -> Iterator[None]:
        """Sample every thread while the block runs; the report goes to `profiles/profile-<window>.txt`."""
        if self.profiles is None:
            yield
            return
        processes = {"worker and driver (this process)": psutil.Process(), "Temporal dev server": self.server}
        before = {name: sum(p.cpu_times()[:2]) for name, p in processes.items()}
        with Sampler() as sampler:
            yield
        cpu = [f"{name}: {sum(p.cpu_times()[:2]) - before[name]:.1f} CPU s" for name, p in processes.items()]
        self.profiles.mkdir(parents=True, exist_ok=True)
        (self.profiles / f"profile-{window}.txt").write_text(f"{'; '.join(cpu)}\n{sampler.report(window)}")

    async def patiently(self, request: Callable[[], Awaitable[T]]) -> T:
        """Send `request`, again while the server answers that the workflow's task is failing (an overloaded
        worker lets tasks time out) or no answer comes in time (updates carry their own ids, so a request sent again
        is applied once); every such answer is counted in `retried`."""
        loop = asyncio.get_running_loop()
        until = loop.time() + RETRY_FOR_S
        while True:
            try:
                return await request()
            except (RPCError, RPCTimeoutOrCancelledError) as exc:
                failing = isinstance(exc, RPCTimeoutOrCancelledError) or exc.status == RPCStatusCode.FAILED_PRECONDITION
                if not failing or loop.time() > until:
                    raise
                self.retried += 1
                await asyncio.sleep(RETRY_PAUSE_S)


def die_with_parent() -> None:
    """In the server's child process: be sent SIGTERM when this process dies, even by SIGKILL."""
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def embedded(directory: Path, concurrency: int, profiles: Path | None = None) -> AsyncIterator[Bench]:
    """The embedded default, as `grantflow up` runs it: `temporal server start-dev` on a SQLite file in
    `directory`, records on SQLite beside it; the server's own log goes to `directory/temporal.log`."""
    port = free_port()
    with open(directory / "temporal.log", "wb") as log:
        server = subprocess.Popen(
            [binary("temporal"), "server", "start-dev", "--db-filename", str(directory / "temporal.db"),
             "--ip", "127.0.0.1", "--port", str(port), "--headless", "--log-level", "error"],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent if sys.platform == "linux" else None)
    try:
        engine = make_engine(f"sqlite:///{directory / 'records.db'}")
        client = await connect(f"127.0.0.1:{port}", payload_storage(engine))
        try:
            yield Bench(client, psutil.Process(server.pid), engine, MemoryChannel(), concurrency, profiles)
        finally:
            engine.dispose()
    finally:
        server.terminate()
        server.wait(timeout=60)


async def connect(address: str, storage: ExternalStorage | None = None) -> Client:
    """grantflow's client, with the SDK core's own warnings (slow tasks under load) kept out of the output; `storage`
    keeps large payloads in the records database (records.payloads)."""
    quiet = TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR")))
    runtime = Runtime(telemetry=quiet)
    for _ in range(240):
        try:
            return await Client.connect(address, data_converter=data_converter(storage), runtime=runtime)
        except RuntimeError:
            await asyncio.sleep(0.25)
    raise RuntimeError(f"the Temporal dev server did not answer on {address}")


async def bounded(limit: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run every job with at most `limit` in flight; results in the jobs' order."""
    results: list[Any] = [None] * len(jobs)
    queue = iter(enumerate(jobs))

    async def lane() -> None:
        for i, job in queue:
            results[i] = await job()

    await asyncio.gather(*(lane() for _ in range(max(1, min(limit, len(jobs))))))
    return results


async def settle(done: Callable[[], Awaitable[bool]], limit_s: float, poll_s: float = 0.25) -> None:
    """Wait until `done()` holds; a TimeoutError names the limit when it never does."""
    loop = asyncio.get_running_loop()
    until = loop.time() + limit_s
    while not await done():
        if loop.time() > until:
            raise TimeoutError(f"not settled after {limit_s:.0f} s")
        await asyncio.sleep(poll_s)


async def sleep_until(instant: datetime) -> None:
    delay = (instant - utcnow()).total_seconds()
    if delay > 0:
        await asyncio.sleep(delay)


def utcnow() -> datetime:
    return datetime.now(UTC)


def rss_mb() -> float:
    """This process's resident set, after a collection so that garbage does not count (and the C allocator has given
    back what it freed: evicted workflows' memory is free, not held)."""
    gc.collect()
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return float(psutil.Process().memory_info().rss) / 2**20
