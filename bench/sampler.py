"""A sampling profiler over every thread of this process, for one measured window (`bench/run.py --profile`).

grantflow's workflow tasks and activities run on the SDK's thread pools, which a single-thread profiler
(pyinstrument) does not see and py-spy cannot attach to here; this samples `sys._current_frames()` at a fixed
rate, leaves out idle threads, and ranks grantflow's own lines in thread-seconds.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
OWN = ("workflows/", "activities/", "records/", "models/", "infra/", "worker.py")
LIBRARIES = (("workflow_sandbox", "temporalio sandbox"), ("temporalio", "temporalio"), ("pydantic", "pydantic"),
             ("sqlalchemy", "sqlalchemy"), ("sqlmodel", "sqlmodel"), ("sqlite3", "sqlite3"),
             ("transitions", "transitions"), ("asyncio", "asyncio"), ("structlog", "structlog"),
             ("logging", "logging"), ("json", "json"))
IDLE = (("concurrent/futures/thread.py", "_worker"), ("threading.py", "wait"), ("selectors.py", "select"),
        ("queue.py", "get"), ("activities/records.py", "close_window"))  # close_window's leaf is its poll's sleep
Frame = tuple[str, int, str]  # file, line, function
Stack = tuple[Frame, ...]  # root first


class Sampler:
    def __init__(self, rate_hz: float = 50.0) -> None:
        self.interval = 1.0 / rate_hz
        self.stacks: Counter[Stack] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stop.wait(self.interval):
            self.samples += 1
            for ident, frame in sys._current_frames().items():
                if ident != me:
                    stack = walk(frame)
                    if stack and not idle(stack[-1]):
                        self.stacks[stack] += 1

    def report(self, title: str, top: int = 25) -> str:
        """Self time by owner, grantflow's lines by inclusive time, and the heaviest leaf frames."""
        seconds = self.interval
        busy = sum(self.stacks.values()) * seconds
        own: Counter[Frame] = Counter()
        inclusive: Counter[Frame] = Counter()
        owners: Counter[str] = Counter()
        for stack, count in self.stacks.items():
            own[stack[-1]] += count
            owners[owner(stack[-1][0])] += count
            for frame in set(stack):
                inclusive[frame] += count
        wall = self.samples * seconds

        def line(count: int, what: str) -> str:
            return f"{count * seconds:8.1f} s {count * seconds / busy:6.1%}  {what}"

        out = [f"# {title}: {wall:.1f} s sampled at {1 / seconds:.0f} Hz, {busy:.1f} busy thread-seconds "
               f"(threads not waiting for work)", "", "## self time by owner of the leaf frame"]
        out += [line(c, name) for name, c in owners.most_common()]
        out += ["", "## grantflow's lines, inclusive (callees included)"]
        out += [line(c, where(f)) for f, c in inclusive.most_common() if owner(f[0]) == "grantflow"][:top]
        out += ["", "## leaf frames"]
        out += [line(c, where(f)) for f, c in own.most_common(top)]
        return "\n".join(out) + "\n"


def walk(frame: FrameType | None) -> Stack:
    frames: list[Frame] = []
    while frame is not None:
        frames.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    return tuple(reversed(frames))


def idle(leaf: Frame) -> bool:
    return any(leaf[0].endswith(path) and leaf[2] == name for path, name in IDLE)


def owner(filename: str) -> str:
    """grantflow, or the library a frame belongs to."""
    relative = filename.removeprefix(str(ROOT) + "/")
    if ".venv" not in filename and relative != filename and relative.startswith(OWN):
        return "grantflow"
    return next((name for part, name in LIBRARIES if f"/{part}" in filename), "other")


def where(frame: Frame) -> str:
    return f"{frame[0].removeprefix(str(ROOT) + '/')}:{frame[1]} {frame[2]}"
