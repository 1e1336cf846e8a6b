"""A real SMTP server in the test process (aiosmtpd): it keeps what it accepted, and refuses what a test tells it to."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

Verdict = Callable[[EmailMessage, int], str | None]  # (message, how often its Message-ID came before) -> a refusal


@dataclass
class Sink:
    """Accepted messages in order; `refuse` may answer a message with an SMTP error instead; `delay_s` is how long
    each DATA takes; while `hold` is set a DATA waits unanswered, and is then refused without being stored."""

    port: int = 0
    accepted: list[EmailMessage] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    refuse: Verdict | None = None
    delay_s: float = 0.0
    hold: threading.Event = field(default_factory=threading.Event)
    waiting: int = 0
    peers: set[tuple[str, int]] = field(default_factory=set)  # the connections messages came on

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message: EmailMessage = message_from_bytes(envelope.content, policy=policy.default)
        self.peers.add(tuple(session.peer))
        mid = str(message["Message-ID"])
        await asyncio.sleep(self.delay_s)
        if self.hold.is_set():
            self.waiting += 1
            while self.hold.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 held, not stored"
        before = self.seen.get(mid, 0)
        self.seen[mid] = before + 1
        refusal = self.refuse(message, before) if self.refuse else None
        if refusal is not None:
            return refusal
        self.accepted.append(message)
        return "250 2.0.0 OK"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.accepted]

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_sink(refuse: Verdict | None = None, delay_s: float = 0.0, idle_timeout_s: float = 300.0) -> Iterator[Sink]:
    """A sink on a free port; it closes a connection idle for `idle_timeout_s` (aiosmtpd's timeout)."""
    sink = Sink(port=free_port(), refuse=refuse, delay_s=delay_s)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, timeout=idle_timeout_s)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
