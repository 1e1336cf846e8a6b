"""The worker the fault harness kills, in a process of its own; its notices go to a sink file, one line per delivery
(as a mail sink logs Message-IDs): `python bench/fault_worker.py ADDRESS DATABASE_URL TASK_QUEUE SINK`."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import connect  # noqa: E402
from records.engine import make_engine  # noqa: E402
from records.payloads import payload_storage  # noqa: E402
from records.tables import NoticeRow  # noqa: E402
from worker import build_worker  # noqa: E402


class SinkChannel:
    """Appends each delivered notice's key to a file, as a mail sink would log each Message-ID it receives."""

    name = "sink"

    def __init__(self, path: Path) -> None:
        self.lock = threading.Lock()
        self.file = path.open("a", encoding="utf-8")

    def deliver(self, notice: NoticeRow) -> None:
        with self.lock:
            self.file.write(notice.key + "\n")
            self.file.flush()


async def main(address: str, database_url: str, task_queue: str, sink: str) -> None:
    engine = make_engine(database_url)
    client = await connect(address, payload_storage(engine))
    await build_worker(client, task_queue, engine, SinkChannel(Path(sink))).run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
