"""The local SMTP sink of `grantflow up` when no GRANTFLOW_SMTP_URL is set: aiosmtpd on 127.0.0.1, every message
accepted into a Maildir (var/mail/new), where any mail reader, or Python's `mailbox.Maildir`, reads what was sent."""

from __future__ import annotations

import socket
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


class MailSink:
    def __init__(self, directory: Path) -> None:
        for part in ("tmp", "new", "cur"):  # mailbox.Maildir creates them only for a directory it creates itself
            (directory / part).mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.directory = directory
        self.url = f"smtp://127.0.0.1:{self.port}"
        self._controller = Controller(Mailbox(directory), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
