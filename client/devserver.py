"""The Temporal dev server (SQLite file, Web UI) as a stack component: its own process group, so a terminal's
Ctrl-C reaches the stack first and the server stops last; it dies with the stack even if the stack is killed."""

from __future__ import annotations

import asyncio
import ctypes
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil

from client.supervisor import Component, StackError
from infra.settings import binary

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the thread that started it (the event loop's) ends, however it ends."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class DevServer(Component):
    name = "Temporal dev server"

    def __init__(self, var_dir: Path, port: int, ui_port: int, stop_within: float = 10.0) -> None:
        self.var_dir, self.port, self.ui_port, self.stop_within = var_dir, port, ui_port, stop_within
        self.log = var_dir / "temporal.log"
        self.process: asyncio.subprocess.Process | None = None

    def ports(self) -> Sequence[int]:
        return (self.port, self.ui_port)

    async def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as sink:
            self.process = await asyncio.create_subprocess_exec(
                binary("temporal"), "server", "start-dev", "--db-filename", str(self.var_dir / "temporal.db"),
                "--ip", "127.0.0.1", "--port", str(self.port), "--ui-port", str(self.ui_port), "--log-level", "warn",
                stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                process_group=0, preexec_fn=die_with_parent)
        while not self.listening():
            if self.process.returncode is not None:
                raise StackError(self.failure())
            await asyncio.sleep(0.1)

    def listening(self) -> bool:
        """The server process itself listens on its port (not merely: something answers there)."""
        assert self.process is not None
        try:
            sockets = psutil.Process(self.process.pid).net_connections("tcp")
        except psutil.NoSuchProcess:
            return False
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port for c in sockets)

    def failure(self) -> str:
        """The server's own reason for exiting, from its log: the line that names the error, else its last line."""
        lines = [line.strip() for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines()
                 if line.strip()]
        reason = next((line for line in reversed(lines) if "error" in line.lower()), lines[-1] if lines else "")
        code = self.process.returncode if self.process else None
        return f"the Temporal dev server exited (code {code}): {reason[:300] or 'no output'} (log: {self.log})"

    async def ended(self) -> None:
        assert self.process is not None
        await self.process.wait()
        raise StackError(self.failure())

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), self.stop_within)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
