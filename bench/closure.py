"""The bulk closure alone: the `close_window` activity on a prepared SQLite records DB of N open applications (the
deadline bench's mix), timed from the data; beside it raw sqlite3 writing the same rows, and another checkout.

    .venv/bin/python bench/closure.py --applications 1000 3000 --before /work/main --runs 2 --json [--smtp]

Each run closes a fresh copy of one prepared DB in a fresh interpreter whose imports come from the checkout measured
(`--before DIR`: main), the checkouts taking turns. The activity runs without a Temporal client: its last stage, the
signals that tell the workflows to catch up, is not part of these figures (it fails at once and is ignored). With
`--smtp` the notices go through the postman to an SMTP server in this process, which counts their Message-IDs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the project's modules are imported late: a child process imports those of its own checkout
    from sqlalchemy.engine import Engine

    from activities.records import CloseInput

ROOT = Path(__file__).resolve().parent.parent
STEPS = {"unit_review": "application", "organiser_review": "application"}  # bench/call.py's chain, due at the close


def prepare(engine: Engine, n: int) -> tuple[str, datetime]:
    """N applications through the record path (registered; a quarter submitted, a quarter also approved once) and
    their call, its application window closing now: the call id and the close."""
    from activities.notices import MemoryChannel
    from activities.records import PublishInput, RecordActivities, RecordInput, RegisterInput
    from bench.call import bench_call, chain_steps, people
    from bench.deadline import changes
    from models.lifecycle import build_lifecycle
    from models.messages import TransitionRecord
    from records.registry_tables import PersonRow

    now = datetime.now(UTC).replace(microsecond=0)
    prepared = bench_call("bench-closure", now - timedelta(days=1), now)
    call = prepared.definition
    lifecycle = build_lifecycle(call)
    records = RecordActivities(engine, MemoryChannel())
    records.publish_call(PublishInput(call.id, call.title, call.version(), call.model_dump_json(), prepared.timetable))
    for i in range(n):
        app_id = f"{call.id}.{i:05d}"
        records.register_application(RegisterInput(
            call.id, app_id, f"application-{app_id}", call.categories[0].id, f"bench project {i}", f"applicant-{i}",
            None, call.version(), prepared.timetable.seq, people=people(i), created=now - timedelta(hours=1)))
        state = lifecycle.initial
        for seq, (trigger, role) in enumerate(chain_steps()[:changes(i)]):
            spec = next(t for t in lifecycle.transitions if t.source == state and t.trigger == trigger)
            t = TransitionRecord(seq=seq, trigger=trigger, source=state, dest=spec.dest, actor_id=f"{role}-{i}",
                                 role=role, reason="", at=now - timedelta(minutes=30))
            records.record_transition(RecordInput(call.id, app_id, spec.dest, t))
            state = spec.dest
    with engine.begin() as c:  # everyone notified has an e-mail address, for the postman
        c.execute(PersonRow.__table__.insert(), [  # type: ignore[attr-defined]
            {"id": who, "id_type": "other", "name": who, "birth_date": date(1980, 1, 1), "email": f"{who}@example.cn"}
            for i in range(n) for who in people(i).values()])
    return call.id, now


def close_input(engine: Engine, call_id: str, instant: datetime) -> CloseInput:
    """What the call workflow asks of `close_window` at the close of the bench call's application window."""
    from activities.records import CloseInput
    from models.call import CallDefinition
    from models.closure import settling_states
    from models.lifecycle import build_lifecycle
    from records import statements as sql

    with engine.connect() as c:
        call = CallDefinition.model_validate_json(c.execute(sql.CALL_DEFINITION, {"b_id": call_id}).scalar_one())
    return CloseInput(call_id, "application", instant, settling_states(build_lifecycle(call), "application", STEPS),
                      max_wait_s=5, windows=["application", *(f"step:{s}" for s in STEPS)])


def prepare_db(path: Path, n: int) -> str:
    from records.engine import make_engine

    engine = make_engine(f"sqlite:///{path}")
    call_id, instant = prepare(engine, n)
    engine.dispose()
    return f"{call_id}|{instant.isoformat()}"


def child(db: Path, prepared: str, smtp: str | None) -> dict[str, Any]:
    """Run `close_window` on `db` with the imports of the working directory's checkout: records closed when the last
    batch's heartbeat came (each follows its commit); notices out at the delivery's last heartbeat (inline channel),
    or, with `smtp` (a sink's URL), when the postman recorded the last acceptance."""
    import asyncio

    from sqlalchemy import func, select
    from temporalio.testing import ActivityEnvironment

    import activities.closure as closure
    from activities.notices import MemoryChannel, Postman, SmtpServer, SmtpTransport
    from records import statements as sql
    from records.engine import make_engine

    call_id, at = prepared.split("|")
    engine = make_engine(f"sqlite:///{db}")
    inp = close_input(engine, call_id, datetime.fromisoformat(at))
    memory = MemoryChannel()
    postman = Postman(engine, [SmtpTransport(SmtpServer.from_url(smtp), "基金管理系统 <noreply@example.cn>")]) if smtp \
        else None
    beats: dict[str, float] = {}  # stage -> when its last heartbeat came: each follows a committed batch or chunk
    env = ActivityEnvironment()
    env.on_heartbeat = lambda *details: beats.__setitem__(str(details[0]), time.perf_counter())

    async def close() -> None:
        try:
            await env.run(closure.ClosureActivities(engine, postman or memory).close_window, inp)
        except RuntimeError:  # the catch-up pass needs a Temporal client: everything measured is done by then
            pass
        if postman is not None:
            await postman.drain()

    async def by_postman() -> None:
        assert postman is not None
        async with postman.running():
            await close()

    started, wall = time.perf_counter(), datetime.now(UTC)
    asyncio.run(by_postman() if postman else close())
    with engine.connect() as c:
        closed = c.execute(select(func.count()).where(sql.TRANSITIONS.c.role == "system")).scalar_one()
        delivered, last = c.execute(select(func.count(), func.max(sql.NOTICES.c.delivered_at)).where(
            sql.NOTICES.c.delivered_at.is_not(None))).one()
    out = beats.get("deliver", beats["close"]) - started if not postman else (last - wall).total_seconds()
    return {"code": closure.__file__, "closed": closed, "notices_delivered": delivered,
            "notices_handed": len(memory.delivered) if not postman else delivered,
            "records_closed_s": beats["close"] - started, "notices_out_s": out}


class Sink:
    """An SMTP server in this process (aiosmtpd) that counts the Message-IDs it accepted."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            self.port = int(free.getsockname()[1])
        self.ids: Counter[str] = Counter()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        found = re.search(rb"^Message-ID: *(\S+)", envelope.content, re.MULTILINE | re.IGNORECASE)
        self.ids[found.group(1).decode() if found else ""] += 1
        return "250 OK"

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def raw_baseline(db: Path, n: int) -> float:
    """Seconds for bare sqlite3 to write what the closure writes: N transition rows with a sha256 each, N
    application updates and 1.5 N notices in 500-row transactions, then the notices marked delivered, 200 a commit."""
    import hashlib

    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, app TEXT, seq INT, body TEXT, prev TEXT, hash TEXT,"
                " UNIQUE (app, seq))")
    con.execute("CREATE TABLE a (id TEXT PRIMARY KEY, state TEXT, last_seq INT)")
    con.execute("CREATE TABLE o (key TEXT PRIMARY KEY, body TEXT, delivered_at TEXT)")
    con.executemany("INSERT INTO a VALUES (?, 'draft', 0)", [(f"a{i:05d}",) for i in range(n)])
    started = time.perf_counter()
    prev = "0" * 64
    for lo in range(0, n, 500):
        ids = [f"a{i:05d}" for i in range(lo, min(n, lo + 500))]
        rows = []
        for app in ids:
            body = json.dumps({"app": app, "seq": 1, "dest": "closed_unsubmitted"}, sort_keys=True)
            prev = hashlib.sha256((prev + body).encode()).hexdigest()
            rows.append((app, 1, body, prev, prev))
        con.execute("BEGIN")
        con.executemany("INSERT INTO t (app, seq, body, prev, hash) VALUES (?, ?, ?, ?, ?)", rows)
        con.executemany("UPDATE a SET state = 'closed', last_seq = 1 WHERE id = ?", [(a,) for a in ids])
        con.executemany("INSERT INTO o VALUES (?, ?, NULL)",
                        [(f"{a}:{k}", "通知" * 40) for j, a in enumerate(ids) for k in range(1 + (lo + j) % 2)])
        con.execute("COMMIT")
    keys = [k for (k,) in con.execute("SELECT key FROM o ORDER BY key")]
    for lo in range(0, len(keys), 200):
        con.execute("BEGIN")
        con.executemany("UPDATE o SET delivered_at = ? WHERE key = ? AND delivered_at IS NULL",
                        [(datetime.now(UTC).isoformat(), k) for k in keys[lo:lo + 200]])
        con.execute("COMMIT")
    con.close()
    return time.perf_counter() - started


def run(tree: Path, prepared_db: Path, prepared: str, work: Path, sink: Sink | None) -> dict[str, Any]:
    db = work / f"run-{time.monotonic_ns()}.db"
    shutil.copy(prepared_db, db)
    before = sum(sink.ids.values()) if sink else 0
    smtp = ["--smtp-url", sink.url()] if sink else []
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(db), prepared, *smtp], cwd=tree,
                         env={**os.environ, "PYTHONPATH": str(tree)}, check=True, capture_output=True, text=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    if sink is not None:  # every notice's Message-ID arrived once in this run
        result["notices_handed"] = sum(sink.ids.values()) - before
        if max(sink.ids.values()) > 1:
            raise RuntimeError(f"a Message-ID arrived twice: {sink.ids.most_common(1)}")
        sink.ids.clear()
    return result


def measure(sizes: list[int], runs: int, trees: dict[str, Path], sink: Sink | None) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs, "channel": "smtp" if sink else "memory"}
    with tempfile.TemporaryDirectory(prefix="grantflow-closure-") as tmp:
        work = Path(tmp)
        for n in sizes:
            prepared_db = work / f"prepared-{n}.db"
            prepared = prepare_db(prepared_db, n)
            samples: dict[str, list[float]] = {}
            for _ in range(runs):
                for tree, root in trees.items():
                    r = run(root, prepared_db, prepared, work, sink)
                    if r["closed"] != n or r["notices_delivered"] != r["notices_handed"]:
                        raise RuntimeError(f"{tree} at {n}: {r}")
                    for k in ("records_closed_s", "notices_out_s"):
                        samples.setdefault(f"{tree}_{k}", []).append(r[k])
                    out[f"{tree}_code"], out[f"notices_{n}"] = r["code"], r["notices_delivered"]
                samples.setdefault("baseline_raw_sqlite_s", []).append(raw_baseline(work / f"raw-{time.time_ns()}.db", n))
            out[str(n)] = {k: round(statistics.median(v), 3) for k, v in samples.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--applications", type=int, nargs="+", default=[1000])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--before", type=Path, help="another checkout (e.g. main) measured in the same run")
    parser.add_argument("--smtp", action="store_true", help="notices by the postman to an SMTP server in this process")
    parser.add_argument("--smtp-url", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, metavar=("DB", "PREPARED"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        sys.path.remove(str(Path(__file__).resolve().parent))  # the checkout's packages, not bench/'s modules
        print(json.dumps(child(Path(args.child[0]), args.child[1], args.smtp_url)))
        return
    sys.path.insert(0, str(ROOT))
    trees = {"after": ROOT, **({"before": args.before.resolve()} if args.before else {})}
    sink = Sink() if args.smtp else None
    if sink is not None:
        sink.controller.start()
    try:
        figures = measure(args.applications, args.runs, trees, sink)
    finally:
        if sink is not None:
            sink.controller.stop()
    print(json.dumps(figures, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
