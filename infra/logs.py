"""structlog set-up: JSON in production, key-value in a terminal. Stdlib logs (workflows, transitions, temporalio,
and the Temporal core's own, forwarded) go through the same renderer, their `extra` fields (call id, application id,
workflow and run id) as keys."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import structlog
from temporalio import activity, workflow
from temporalio.runtime import LogForwardingConfig, LoggingConfig, TelemetryFilter

from infra.runtime import forward_core_logs

TEMPORAL_KEYS = {"workflow_id": "workflow_id", "run_id": "run_id", "workflow_type": "workflow_type",
                 "activity_type": "activity_type", "attempt": "attempt"}


def flatten_temporal(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Lift the workflow or activity details Temporal's loggers attach (`temporal_workflow`/`temporal_activity`)."""
    for key in ("temporal_workflow", "temporal_activity"):
        details = event.pop(key, None)
        if isinstance(details, dict):
            for name, value in details.items():
                if name in TEMPORAL_KEYS:
                    event.setdefault(TEMPORAL_KEYS[name], value)
    return event


def unreachable_retry(record: logging.LogRecord) -> bool:
    """A core warning that a call (a poll, most often: several a second) was retried because the server could not be
    reached. `infra.reachability` says once that the server is away instead; a call that finally fails still says so."""
    core = getattr(record, "temporal_log", None)
    return core is not None and core.target.endswith("retry") and "Unavailable" in str(core.fields)


def configure(log_format: str = "console", level: int = logging.INFO) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, flatten_temporal, renderer],
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("transitions").setLevel(logging.WARNING)
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    core_logger = logging.getLogger("temporalio.core")
    core_logger.filters[:] = [lambda record: not unreachable_retry(record)]
    forward_core_logs(LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                                    forwarding=LogForwardingConfig(logger=core_logger)))
