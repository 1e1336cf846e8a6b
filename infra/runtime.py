"""The process's Temporal core runtimes, made with grantflow's telemetry and shut down before the interpreter
finalises (a core thread still inside Python at finalisation aborts the process: sdk-python issue #300)."""

from __future__ import annotations

import gc
import sys
import time

from temporalio.runtime import LoggingConfig, PrometheusConfig, Runtime, TelemetryConfig

_runtimes: dict[str, Runtime] = {}
_core_logging: list[LoggingConfig] = [LoggingConfig.default]
_core_metrics: list[PrometheusConfig | None] = [None]


def forward_core_logs(logging: LoggingConfig) -> None:
    """Where the main runtime sends the SDK core's own logs; takes effect for the runtime made next."""
    _core_logging[:] = [logging]
    _runtimes.pop("main", None)


def serve_sdk_metrics(address: tuple[str, int] | None) -> None:
    """Where the main runtime serves the SDK's own metrics (Prometheus, http://HOST:PORT/metrics; None: nowhere); for
    the runtime made next. Only a worker's or the API's process asks for it: every process binding one port would
    clash."""
    _core_metrics[:] = [PrometheusConfig(bind_address=f"{address[0]}:{address[1]}") if address else None]
    _runtimes.pop("main", None)


def runtime() -> Runtime:
    """The runtime of every client, worker and test server grantflow makes."""
    if "main" not in _runtimes:
        _runtimes["main"] = Runtime(telemetry=TelemetryConfig(logging=_core_logging[0], metrics=_core_metrics[0]))
    return _runtimes["main"]


def quiet_runtime() -> Runtime:
    """A runtime that does not print the SDK core's warnings (replays report a failure as a finding)."""
    if "quiet" not in _runtimes:
        _runtimes["quiet"] = Runtime(telemetry=TelemetryConfig(logging=None))
    return _runtimes["quiet"]


def shut_down(within: float = 5.0) -> None:
    """Drop the runtimes now, while the interpreter is whole, each on this thread, where the SDK drops the core with
    the GIL released and joins its threads. A core thread may still be completing the last call (waking the closed
    event loop): until it lets go of that call's future, the future holds the client and the client its runtime, so
    wait (up to `within` seconds) until nothing but this function holds each runtime."""
    give_up = time.monotonic() + within
    for name in list(_runtimes):
        runtime = _runtimes.pop(name)
        while sys.getrefcount(runtime) > 2 and time.monotonic() < give_up:  # 2: `runtime` and the argument
            gc.collect()
            time.sleep(0.01)
        del runtime
        gc.collect()
