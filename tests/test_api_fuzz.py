"""A schema-driven fuzz run of the HTTP API (schemathesis, bounded): whatever it sends, anonymous or signed in as
a manager and auditor, no answer is a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from client.accounts import add
from client.tokens import issue
from infra.settings import Settings
from models.identity import Grant

EXAMPLES = 10  # per operation (about 20 of them); POST /token 3, as each try verifies an argon2 hash


@pytest.fixture
def token_and_app(env: WorkflowEnvironment, db: Engine, tmp_path: Path) -> tuple[str, Any]:
    target = env.client.service_client.config.target_host
    app = create_app(Settings(target, env.client.namespace, str(db.url), "fuzz", tmp_path, "json"))
    add(db, "fuzzer", None, [Grant("manager", "call:sx-2025-basic-geology"), Grant("auditor", "*")])
    return issue(app.state.service.tokens, "fuzzer", datetime.now(UTC)), app


def test_no_request_gets_a_server_error(token_and_app: tuple[str, Any]) -> None:
    token, app = token_and_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=3 if operation.path == "/token" else EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def fuzz(case: Any) -> None:
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                response = case.call(headers=headers)
                assert response.status_code < 500, (case.method, case.formatted_path, response.text)
                if response.status_code >= 400:
                    assert "problem+json" in str(response.headers.get("content-type")), response.text
        fuzz()
