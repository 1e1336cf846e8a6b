"""What the postman hands a notice to: a transport (SMTP, SMS) that accepts it or refuses it, temporarily or for good."""

from __future__ import annotations

from typing import Protocol

from records.outbox import Claimed


class Refused(Exception):
    """The channel did not take the notice: `permanent` (SMTP 5xx) marks it failed, otherwise it is retried."""

    def __init__(self, code: int | None, reply: str, permanent: bool) -> None:
        super().__init__(f"{code or ''} {reply}".strip())
        self.code, self.reply, self.permanent = code, reply, permanent


class Transport(Protocol):
    name: str  # recorded on the notice and its attempts
    field: str  # the registry address it needs: email | mobile

    async def send(self, notice: Claimed) -> tuple[int | None, str]:
        """Hand the notice over; the server's code and reply once it accepted, or raise Refused."""
        ...

    async def close(self) -> None:
        """Let go of what the transport keeps open between notices (the postman stops)."""
        ...
