"""Who the command line acts as: the account signed in with `grantflow login` (its token in the user's config
directory), or the operator (`--operator`, proven by var/operator.secret); and the service layer it goes through."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_config_dir

from client.errors import Unauthenticated
from commands.common import records_db, settings
from commands.state import STATE

if TYPE_CHECKING:  # the service layer (workflows, the Temporal client) loads when a command opens a session
    from client.service import Service
    from models.identity import Identity


def token_file() -> Path:
    return Path(os.environ.get("GRANTFLOW_CONFIG_DIR") or user_config_dir("grantflow")) / "token.json"


def save_token(account: str, token: str) -> Path:
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps({"account": account, "token": token}), encoding="utf-8")
    return path


def forget_token() -> bool:
    path = token_file()
    if path.exists():
        path.unlink()
        return True
    return False


def local_service() -> Service:
    """The service; it connects to Temporal only when an operation needs it."""
    from client.service import Service
    from client.tokens import TokenConfig

    s = settings()
    return Service(None, records_db(s.database_url), s.task_queue, TokenConfig.from_env(s.var_dir), s.var_dir,
                   (s.temporal_address, s.namespace), s.temporal_access)


@asynccontextmanager
async def session() -> AsyncIterator[tuple[Service, Identity]]:
    """The service (connecting to Temporal when first needed) and the identity this command acts as."""
    service = local_service()
    yield service, who(service)


def who(service: Service) -> Identity:
    from client.tokens import secret_file

    if STATE["operator"]:
        return service.operator(secret_file(service.var_dir / "operator.secret").decode())
    path = token_file()
    if not path.exists():
        raise Unauthenticated("not signed in: run `grantflow login ACCOUNT` (or --operator on the worker's machine)")
    return service.identify(json.loads(path.read_text(encoding="utf-8"))["token"])
