"""Traces: Temporal's OpenTelemetry tracing interceptor on every client grantflow connects (and so on its workers),
exporting to the console or an OTLP/HTTP collector as GRANTFLOW_OTEL_EXPORTER says; off by default."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.settings import Telemetry

if TYPE_CHECKING:  # the SDK is imported when tracing is on: a process that does not trace never loads it
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from temporalio.contrib.opentelemetry import TracingInterceptor

_provider: dict[str, TracerProvider | None] = {}


def processor(traces: str) -> SpanProcessor | None:
    """The span processor for a GRANTFLOW_OTEL_EXPORTER value: None for `none`; spans on stdout for `console`; batches
    to an OTLP/HTTP collector for `otlp` (its OTEL_EXPORTER_OTLP_* variables) or a URL (`http://collector:4318`)."""
    if traces == "none":
        return None
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    if traces == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if traces == "otlp":
        return BatchSpanProcessor(OTLPSpanExporter())
    endpoint = traces if traces.rstrip("/").endswith("/v1/traces") else f"{traces.rstrip('/')}/v1/traces"
    return BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint))


def install(provider: TracerProvider | None) -> None:
    """Trace every client connected from now on with `provider` (None: no tracing), whatever the environment says."""
    _provider["current"] = provider


def provider() -> TracerProvider | None:
    """The process's tracer provider: made from GRANTFLOW_OTEL_EXPORTER on first use, unless one was installed."""
    if "current" not in _provider:
        chosen = processor(Telemetry.from_env().traces)
        made = None
        if chosen is not None:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider

            made = TracerProvider(resource=Resource.create({"service.name": "grantflow"}))
            made.add_span_processor(chosen)
        _provider["current"] = made
    return _provider["current"]


def interceptors() -> list[TracingInterceptor]:
    """The client interceptors: Temporal's tracing interceptor when tracing is on (a worker built on the client
    takes it too: workflow, update, signal and activity spans), none otherwise."""
    current = provider()
    if current is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(current.get_tracer("grantflow"))]


def flush() -> None:
    """Export the spans still batched (a process that leaves with os._exit would lose them)."""
    current = _provider.get("current")
    if current is not None:
        current.force_flush(5_000)
