"""Traces and the SDK's metrics on the real time-skipping server: a client connected by grantflow with tracing on
carries Temporal's tracing interceptor into its worker (spans of the workflow run and of its activities, kept by the
SDK's in-memory exporter), and a runtime made with GRANTFLOW_SDK_METRICS_ADDRESS serves the SDK's Prometheus metrics;
the telemetry settings and what a malformed one says."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from client.calls import prepare, start_call
from infra import tracing
from infra.runtime import serve_sdk_metrics
from infra.settings import Settings, Telemetry
from infra.temporal import connect
from models.call import load_call
from records.tables import CallRow
from tests.conftest import CALLS, Stack
from tests.smtp_sink import free_port
from worker import build_worker


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, into memory, for the clients connected in the test; off again after it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    yield exporter
    tracing.install(None)


async def test_a_traced_client_and_its_worker_leave_spans_and_the_sdk_serves_its_metrics(
        stack: Stack, spans: InMemorySpanExporter) -> None:
    port = free_port()
    serve_sdk_metrics(("127.0.0.1", port))
    try:
        client = await connect(stack.env.client.service_client.config.target_host)
    finally:
        serve_sdk_metrics(None)  # the clients connected after this test get the plain runtime again
    prepared = prepare(load_call(CALLS / "000-sx-2025-basic-research-geology.yaml"),
                       not_before=await stack.env.get_current_time())
    async with build_worker(client, stack.task_queue, stack.engine, stack.channel):
        await start_call(client, prepared, stack.task_queue)
        for _ in range(1200):
            with Session(stack.engine) as s:
                if s.get(CallRow, prepared.definition.id) is not None:
                    break
            await asyncio.sleep(0.05)
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    names = [s.name for s in spans.get_finished_spans()]
    for expected in ("StartWorkflow:CallWorkflow", "RunWorkflow:CallWorkflow", "StartActivity:publish_call",
                     "RunActivity:publish_call"):
        assert expected in names, names
    run = next(s for s in spans.get_finished_spans() if s.name == "RunActivity:publish_call")
    start = next(s for s in spans.get_finished_spans() if s.name == "StartWorkflow:CallWorkflow")
    assert run.context.trace_id == start.context.trace_id  # one trace, from the client through the activity
    families = {f.name: f for f in text_string_to_metric_families(scraped)}
    executed = [s for s in families["temporal_activity_execution_latency"].samples
                if s.labels.get("activity_type") == "publish_call" and s.name.endswith("_count")]
    assert executed and executed[0].value >= 1, sorted(families)
    assert any(s.labels.get("workflow_type") == "CallWorkflow" for s in families["temporal_workflow_task_execution_latency"].samples)


def test_tracing_is_off_by_default_and_each_exporter_is_chosen_by_its_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRANTFLOW_OTEL_EXPORTER", raising=False)
    assert Settings.from_env().telemetry == Telemetry("none", None, None)
    assert tracing.processor("none") is None
    assert isinstance(tracing.processor("console"), SimpleSpanProcessor)
    collector = tracing.processor("http://collector.internal:4318")
    assert isinstance(collector, BatchSpanProcessor)
    assert collector.span_exporter._endpoint == "http://collector.internal:4318/v1/traces"
    collector.shutdown()
    monkeypatch.setenv("GRANTFLOW_OTEL_EXPORTER", "OTLP")
    monkeypatch.setenv("GRANTFLOW_METRICS_ADDRESS", "0.0.0.0:9464")
    monkeypatch.setenv("GRANTFLOW_SDK_METRICS_ADDRESS", "[::1]:9465")
    assert Settings.from_env().telemetry == Telemetry("otlp", ("0.0.0.0", 9464), ("::1", 9465))


@pytest.mark.parametrize(("variable", "raw", "says"), [
    ("GRANTFLOW_OTEL_EXPORTER", "jaeger", "GRANTFLOW_OTEL_EXPORTER must be none, console, otlp or an http(s):// OTLP "
                                          "endpoint, not 'jaeger'"),
    ("GRANTFLOW_METRICS_ADDRESS", "9464", "GRANTFLOW_METRICS_ADDRESS must be HOST:PORT, not '9464'"),
    ("GRANTFLOW_SDK_METRICS_ADDRESS", "host:99999", "GRANTFLOW_SDK_METRICS_ADDRESS must be HOST:PORT, not 'host:99999'"),
])
def test_a_malformed_telemetry_setting_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch, variable: str, raw: str,
                                                             says: str) -> None:
    monkeypatch.setenv(variable, raw)
    with pytest.raises(ValueError) as bad:
        Settings.from_env()
    assert str(bad.value) == says
