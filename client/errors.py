"""What the service layer refuses, as one kind of exception per answer: the CLI prints one line, the HTTP API
answers the status with an RFC 9457 problem document."""

from __future__ import annotations


class Problem(Exception):
    """A request that cannot be carried out; `args[0]` says why in one line."""

    status = 400
    title = "Bad request"

    @property
    def detail(self) -> str:
        return str(self.args[0]) if self.args else self.title


class Unauthenticated(Problem):
    status, title = 401, "Not signed in"


class Forbidden(Problem):
    status, title = 403, "Not allowed"


class NotFound(Problem):
    status, title = 404, "Not found"


class Conflict(Problem):
    status, title = 409, "Refused"


class Invalid(Problem):
    status, title = 422, "Invalid input"


class TooLarge(Problem):
    status, title = 413, "Too large"


class Unsupported(Problem):
    status, title = 415, "Unsupported media type"
