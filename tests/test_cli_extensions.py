"""`deadline extend` with a predicate and `phase advance --until` on the command line: bad input is one line and a
non-zero exit before anything is sent or stored."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from records.accounts import RefusalRow
from tests.test_cli_identity import CALL, env, run  # noqa: F401  (the fixture)

LATER = "2025-04-10T17:00:00+08:00"


@pytest.mark.parametrize("args, fragment", [
    (["deadline", "extend", CALL, "application", LATER, "--reason", "r", "--created-before", "2025-04-07T17:00:00"],
     "--created-before '2025-04-07T17:00:00' is a naive datetime"),
    (["deadline", "extend", CALL, "application", LATER, "--reason", "r", "--category", "key", "--also", "step:x"],
     "--also 'step:x': write WINDOW=INSTANT"),
    (["deadline", "extend", CALL, "application", LATER, "--reason", "r", "--also", "step:x=tomorrow"],
     "--also step:x 'tomorrow' is not an ISO 8601 date"),
    (["deadline", "extend", CALL, "application", LATER, "--reason", "r", "--unit", "u1", "--application", "a1"],
     "--application extends one application"),
    (["--operator", "deadline", "extend", CALL, "application", LATER, "--reason", "r", "--category", "a b"],
     "category 'a b' must be 1-80 letters"),
    (["phase", "advance", CALL, "--reason", "r", "--until", "2025-04-10"], "--until '2025-04-10' is a date without"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(env: dict[str, str], db: Engine,  # noqa: F811
                                                   args: list[str], fragment: str) -> None:
    code, output = run(env, *args)
    assert code == 1 and output.count("\n") == 1 and fragment in output, output
    with Session(db) as s:
        assert s.exec(select(RefusalRow)).all() == []
