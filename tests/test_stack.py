"""The embedded stack under faults, as a service manager and a user meet it: real `grantflow up`/`worker` processes in
their own sessions, real signals, a real dev server taken away and brought back, ports held by real sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from client.devserver import DevServer
from client.supervisor import StackError, in_use
from infra.settings import binary
from tests.conftest import CALLS, ROOT

GRANTFLOW = [sys.executable, "-c", "import sys, cli; sys.argv[0] = 'grantflow'; cli.main()"]
# The crash at exit needed a core thread still inside Python (waking the closed event loop) when the interpreter
# finalised: a window of microseconds, hit by about one command in fifteen on a busy machine. Here it is 0.3 s wide.
WIDE_WAKE = """
import asyncio.selector_events as events, sys, threading, time
wake = events.BaseSelectorEventLoop._write_to_self
def slow_wake(loop):
    wake(loop)
    if threading.current_thread() is not threading.main_thread():
        time.sleep(0.3)
events.BaseSelectorEventLoop._write_to_self = slow_wake
import cli
sys.argv[0] = "grantflow"
cli.main()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "GRANTFLOW_VAR_DIR": str(tmp_path / "var"), "GRANTFLOW_LOG_FORMAT": "console",
            "GRANTFLOW_TASK_QUEUE": f"stack-{tmp_path.name}", "GRANTFLOW_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
            "GRANTFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'records.db'}", **extra}


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:
        return subprocess.Popen([*GRANTFLOW, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes], within: float = 180) -> None:
    give_up = time.monotonic() + within
    while text not in log.read_text(encoding="utf-8", errors="replace"):
        assert process.poll() is None, f"exited {process.returncode} before {text!r}: {log.read_text()[-2000:]}"
        assert time.monotonic() < give_up, f"no {text!r} within {within} s: {log.read_text()[-2000:]}"
        time.sleep(0.2)


def session(sid: int) -> list[psutil.Process]:
    members = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                members.append(p)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


@pytest.fixture
def cleanup() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Whatever a failed test leaves running is killed with its whole session."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        for p in session(process.pid):
            p.kill()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_whole_stack_in_order_and_frees_its_ports(
        sig: signal.Signals, tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]) -> None:
    port, ui_port = free_port(), free_port()
    (tmp_path / "calls").mkdir()
    log = tmp_path / "up.log"
    up = start(["up", "--calls", str(tmp_path / "calls"), "--port", str(port), "--ui-port", str(ui_port)],
               environment(tmp_path), log)
    cleanup.append(up)
    wait_for(log, "Worker running", up)
    assert len(session(up.pid)) == 2  # grantflow and its dev server
    up.send_signal(sig)
    assert up.wait(timeout=60) == 0
    assert session(up.pid) == []
    assert not in_use(port) and not in_use(ui_port)
    text = log.read_text()
    assert f"{sig.name} received" in text
    order = [text.index(f"{name} stopped in") for name in ("worker", "Temporal connection", "Temporal dev server")]
    assert order == sorted(order), text


def test_up_on_a_taken_port_refuses_in_one_line_and_starts_nothing(
        tmp_path: Path, cleanup: list[subprocess.Popen[bytes]]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        log = tmp_path / "up.log"
        up = start(["up", "--calls", str(CALLS), "--port", str(taken), "--ui-port", str(free_port())],
                   environment(tmp_path), log)
        cleanup.append(up)
        assert up.wait(timeout=120) == 1
    lines = log.read_text().splitlines()
    assert lines == [f"error: port already in use: {taken} (Temporal dev server); stop what holds them or choose "
                     f"others (--port, --ui-port)"]
    assert not (tmp_path / "var" / "temporal.log").exists()


async def test_a_dev_server_that_cannot_bind_is_one_line_with_its_own_reason(tmp_path: Path) -> None:
    with socket.socket() as holder:  # taken after the stack looked: the server's own failure must be reported
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        server = DevServer(tmp_path, holder.getsockname()[1], free_port())
        with pytest.raises(StackError, match="address already in use") as refused:
            await server.start()
    assert "\n" not in str(refused.value) and "the Temporal dev server exited (code 1)" in str(refused.value)
    await server.stop()


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A dev server process of the test's own (in memory), which a test may stop and start again on its port."""
    port = free_port()
    servers: list[subprocess.Popen[bytes]] = []

    def launch() -> None:
        servers.append(subprocess.Popen(
            [binary("temporal"), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(port), "--headless",
             "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not in_use(port):
            time.sleep(0.1)
    launch()
    yield port, servers
    for server in servers:
        server.terminate()
        server.wait(timeout=30)


def test_cli_commands_exit_cleanly_while_a_core_thread_is_still_waking_the_loop(
        tmp_path: Path, dev_server: tuple[int, list[subprocess.Popen[bytes]]]) -> None:
    env = environment(tmp_path, GRANTFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{dev_server[0]}")
    commands = [(["status", "nobody"], 1), (["calls", "load", str(next(CALLS.glob("000-*.yaml")))], 0),
                (["status", "nobody"], 1)]
    for args, code in commands:
        done = subprocess.run([sys.executable, "-c", WIDE_WAKE, *args], cwd=ROOT, env=env, capture_output=True,
                              timeout=120)
        assert done.returncode == code, done.stderr.decode()[-3000:]
        assert b"Fatal Python error" not in done.stderr


def test_a_worker_says_once_that_temporal_is_away_and_once_that_it_is_back(
        tmp_path: Path, dev_server: tuple[int, list[subprocess.Popen[bytes]]],
        cleanup: list[subprocess.Popen[bytes]]) -> None:
    port, servers = dev_server
    log = tmp_path / "worker.log"
    worker = start(["worker"], environment(tmp_path, GRANTFLOW_TEMPORAL_ADDRESS=f"127.0.0.1:{port}"), log)
    cleanup.append(worker)
    wait_for(log, "Worker running", worker)
    servers[0].terminate()
    servers[0].wait(timeout=30)
    wait_for(log, "unreachable since", worker)
    time.sleep(5)  # the pollers retry several times a second meanwhile
    servers.append(subprocess.Popen(servers[0].args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for(log, "reachable again", worker)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    text = log.read_text()
    assert text.count(f"Temporal at 127.0.0.1:{port} unreachable since") == 1
    assert text.count(f"Temporal at 127.0.0.1:{port} reachable again") == 1
    assert "retried" not in text, text
