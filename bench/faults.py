"""Faults: the deadline of a few hundred applications while the worker, and separately the dev server, are SIGKILLed
and restarted during intake, the closure and delivery; each round proves nothing late, lost, repeated or unaudited."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, func, select  # noqa: E402
from temporalio.client import Client, RPCTimeoutOrCancelledError, WorkflowUpdateFailedError  # noqa: E402
from temporalio.service import RPCError  # noqa: E402

from audit.replay import replay_all  # noqa: E402
from audit.source import from_server  # noqa: E402
from audit.verify import verify  # noqa: E402
from bench.call import bench_call, chain_steps  # noqa: E402
from bench.deadline import LATE_EVERY, changes  # noqa: E402
from bench.harness import connect, die_with_parent, free_port, sleep_until, utcnow  # noqa: E402
from bench.intake import application  # noqa: E402
from client.calls import Refusal, act_on, start_application, start_call  # noqa: E402
from infra.settings import binary  # noqa: E402
from models.messages import ActRequest  # noqa: E402
from records.engine import make_engine  # noqa: E402
from records.payloads import payload_storage  # noqa: E402
from records.tables import ApplicationRow, NoticeRow, TransitionRow  # noqa: E402
from workflows.application import ApplicationWorkflow  # noqa: E402

T = TypeVar("T")
SETTLE_LIMIT_S = 600.0


@dataclass
class Stack:
    """A dev server on a SQLite file and a worker process, each killed and restarted on demand."""

    directory: Path
    port: int
    queue: str
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    kills: Counter[str] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=Counter)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def database(self) -> str:
        return f"sqlite:///{self.directory / 'records.db'}"

    def start_server(self) -> None:
        log = (self.directory / "temporal.log").open("ab")
        self.server = subprocess.Popen(
            [binary("temporal"), "server", "start-dev", "--db-filename", str(self.directory / "temporal.db"),
             "--ip", "127.0.0.1", "--port", str(self.port), "--headless", "--log-level", "error"],
            stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent)

    def start_worker(self) -> None:
        log = (self.directory / "worker.log").open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "fault_worker.py"), self.address, self.database, self.queue,
             str(self.directory / "sink.txt")], stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            preexec_fn=die_with_parent)

    async def kill(self, what: str) -> None:
        """SIGKILL the worker or the server, then start it again on the same files."""
        process = self.worker if what == "worker" else self.server
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.kills[what] += 1
        await asyncio.sleep(0.5)
        (self.start_worker if what == "worker" else self.start_server)()
        self.restarts[what] += 1

    def revive(self) -> None:
        """A worker that gave up while the server was down is started again."""
        if self.worker is not None and self.worker.poll() is not None:
            self.start_worker()
            self.restarts["worker-exited"] += 1

    def stop(self) -> None:
        for p in (self.worker, self.server):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=60)


async def persist(request: Callable[[], Awaitable[T]], limit_s: float = 300.0) -> T:
    """Send `request` until the server answers (it may be down or restarting)."""
    until = time.monotonic() + limit_s
    while True:
        try:
            return await request()
        except (RPCError, RPCTimeoutOrCancelledError, RuntimeError):
            if time.monotonic() > until:
                raise
            await asyncio.sleep(0.5)


async def intake(client: Client, prepared: Any, queue: str, i: int) -> None:
    """Start application `i` and take it through its changes; ids make every retry idempotent."""
    app_id = f"{prepared.definition.id}.{i:05d}"
    with contextlib.suppress(Exception):  # started by an earlier attempt whose answer was lost
        await persist(lambda: start_application(client, application(prepared, app_id, i), queue))
    handle = client.get_workflow_handle(f"application-{app_id}")
    for k, (trigger, role) in enumerate(chain_steps()[:changes(i)]):
        request = ActRequest(trigger, f"{role}-{i}", role)
        try:
            await persist(lambda r=request, u=f"{k}-{trigger}": handle.execute_update(ApplicationWorkflow.act, r, id=u))
        except WorkflowUpdateFailedError:  # refused: the round's instant came first
            return


async def late(client: Client, call_id: str, i: int) -> str:
    trigger, role = chain_steps()[changes(i)]
    try:
        await act_on(client, f"{call_id}.{i:05d}", ActRequest(trigger, f"{role}-{i}", role))
        return "accepted"
    except Refusal:
        return "refused"
    except (RPCError, RPCTimeoutOrCancelledError):
        return "failed"


async def kills(stack: Stack, rng: random.Random, start: float, instant: datetime, k: int) -> None:
    """k kills of each: spread over intake, then the closure (the first seconds after the instant), then delivery
    and the catch-up of the workflows."""
    loop = asyncio.get_running_loop()
    ahead = (instant - utcnow()).total_seconds()
    plan: list[tuple[float, str]] = []
    for what in ("worker", "server"):
        for j in range(k):
            part = j % 3
            at = (rng.uniform(0.1, 0.9) * ahead if part == 0 else
                  ahead + rng.uniform(0.0, 1.5) if part == 1 else ahead + rng.uniform(1.5, 8.0))
            plan.append((at, what))
    for at, what in sorted(plan):
        await asyncio.sleep(max(0.0, start + at - loop.time()))
        await stack.kill(what)
        await asyncio.sleep(2.0)  # a server needs a moment before the next kill means anything


async def settled(client: Client, engine: Engine, call_id: str, instant: datetime, n: int, queue: str) -> bool:
    with Session(engine) as s:
        closing = s.exec(select(func.count(func.distinct(TransitionRow.application_id))).where(
            TransitionRow.call_id == call_id, TransitionRow.role == "system",
            TransitionRow.deadline == instant)).one()
        waiting = s.exec(select(func.count()).select_from(NoticeRow).where(
            NoticeRow.call_id == call_id, NoticeRow.delivered_at.is_(None))).one()  # type: ignore[union-attr]
    if closing < n or waiting:
        return False
    running = await client.count_workflows(
        f"TaskQueue = '{queue}' AND WorkflowType = 'ApplicationWorkflow' AND ExecutionStatus = 'Running'")
    return running.count == 0


async def one_round(stack: Stack, client: Client, engine: Engine, n: int, k: int, rng: random.Random,
                    concurrency: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    instant = (utcnow() + timedelta(seconds=25 + 0.25 * n)).replace(microsecond=0)
    prepared = bench_call(f"faults-{instant:%H%M%S}-{rng.randrange(1000):03d}", utcnow() - timedelta(minutes=1),
                          instant)
    call_id = prepared.definition.id
    killing = asyncio.create_task(kills(stack, rng, start, instant, k))
    await persist(lambda: start_call(client, prepared, stack.queue))
    gate = asyncio.Semaphore(concurrency)

    async def lane(i: int) -> None:
        async with gate:
            await intake(client, prepared, stack.queue, i)
    await asyncio.gather(*(lane(i) for i in range(n)))
    await sleep_until(instant)
    outcomes = await asyncio.gather(*(late(client, call_id, i) for i in range(0, n, LATE_EVERY)))
    await killing
    until = loop.time() + SETTLE_LIMIT_S
    while not await persist(lambda: settled(client, engine, call_id, instant, n, stack.queue)):
        stack.revive()
        if loop.time() > until:
            raise TimeoutError(f"round of call {call_id} not settled after {SETTLE_LIMIT_S:.0f} s")
        await asyncio.sleep(1.0)
    return await proofs(stack, client, engine, call_id, instant, n, outcomes)


async def proofs(stack: Stack, client: Client, engine: Engine, call_id: str, instant: datetime, n: int,
                 outcomes: list[str]) -> dict[str, Any]:
    with Session(engine) as s:
        late_rows = set(s.exec(select(TransitionRow.application_id).where(
            TransitionRow.call_id == call_id, TransitionRow.role != "system", TransitionRow.at >= instant)).all())
        closes = Counter(s.exec(select(TransitionRow.application_id).where(
            TransitionRow.call_id == call_id, TransitionRow.role == "system",
            TransitionRow.deadline == instant)).all())
        expected = set(s.exec(select(NoticeRow.key).where(NoticeRow.call_id == call_id)).all())
        open_left = s.exec(select(func.count()).select_from(ApplicationRow).where(
            ApplicationRow.call_id == call_id,
            ApplicationRow.state.not_in(("closed_unsubmitted", "lapsed")))).one()  # type: ignore[attr-defined]
    sent = Counter(k for k in (stack.directory / "sink.txt").read_text().split() if k in expected)
    bundle = await persist(lambda: from_server(client, engine, call_id))
    replayed = await replay_all(bundle.executions)
    verified = verify(bundle)
    return {
        "applications": n, "late_attempts": len(outcomes), "late_refused": outcomes.count("refused"),
        "late_changes_accepted": len(late_rows) + outcomes.count("accepted"),
        "closed_once": sum(1 for c in closes.values() if c == 1), "closed_twice": sum(1 for c in closes.values() if c > 1),
        "open_left": open_left, "notices_expected": len(expected), "notices_delivered": len(sent),
        "notices_lost": len(expected - set(sent)), "notices_duplicated": sum(c - 1 for c in sent.values()),
        "replay_findings": len(replayed.findings), "verify_findings": len(verified.findings),
        "findings": [f.message for f in [*replayed.findings, *verified.findings]][:5],
    }


async def run(rounds: int, n: int, k: int, seed: int, concurrency: int) -> dict[str, Any]:
    rng = random.Random(seed)
    totals: Counter[str] = Counter()
    details: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="grantflow-faults-") as tmp:
        stack = Stack(Path(tmp), free_port(), f"faults-{seed}")
        stack.start_server()
        stack.start_worker()
        try:
            engine = make_engine(stack.database)
            client = await connect(stack.address, payload_storage(engine))
            for _ in range(rounds):
                r = await one_round(stack, client, engine, n, k, rng, concurrency)
                details.append(r)
                totals.update({key: v for key, v in r.items() if isinstance(v, int)})
                print(json.dumps({"round": len(details)} | r, ensure_ascii=False), file=sys.stderr, flush=True)
            engine.dispose()
        finally:
            stack.stop()
        return {"rounds": rounds, "kills": sum(stack.kills.values()), "worker_kills": stack.kills["worker"],
                "server_kills": stack.kills["server"], "restarts": sum(stack.restarts.values()),
                "worker_exits_restarted": stack.restarts["worker-exited"], **totals,
                "findings": [f for r in details for f in r["findings"]][:10]}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--applications", type=int, default=200)
    p.add_argument("--kills", type=int, default=4, help="kills of the worker, and of the server, per round")
    p.add_argument("--seed", type=int, default=24)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    out = asyncio.run(run(args.rounds, args.applications, args.kills, args.seed, args.concurrency))
    (ROOT / "var").mkdir(exist_ok=True)
    with (ROOT / "var" / "faults-runs.jsonl").open("a", encoding="utf-8") as runs:
        runs.write(json.dumps({"argv": sys.argv[1:]} | out, ensure_ascii=False) + "\n")
    print(json.dumps(out, ensure_ascii=False) if args.json else "\n".join(f"{k:28} {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
