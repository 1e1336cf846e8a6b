"""A refused request: the one error the workflows' update validators and handlers raise, with the reason."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


class Refused(ApplicationError):
    """A request the workflow refuses; `message` is the one line the user reads. Never retried."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="Refused", non_retryable=True)


def refuse(why: str | None) -> None:
    """Raise the refusal `why`, if there is one."""
    if why:
        raise Refused(why)
