"""grantflow's own counters for Prometheus, counted where the events happen (never in workflow code: a replay would
count again), served at the HTTP API's /metrics and on a worker's GRANTFLOW_METRICS_ADDRESS."""

from __future__ import annotations

from wsgiref.simple_server import WSGIServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest, start_http_server

DEADLINE_CLOSURES = Counter(
    "grantflow_deadline_closures", "Applications closed by a deadline, once each, when the records commit the closure "
    "(path: bulk = the window's bulk closure, workflow = an application's own timer)", ["path"])
LATE_CHANGES_REFUSED = Counter(
    "grantflow_late_changes_refused", "Changes refused because their window or deadline had passed (service layer)")
REFUSALS = Counter(
    "grantflow_refusals", "Refused attempts recorded by the service layer, by reason", ["reason"])
NOTICES_SENT = Counter(
    "grantflow_notices_sent", "Notices a channel accepted (memory/log inline; smtp/sms by the postman)", ["channel"])
NOTICES_FAILED = Counter(
    "grantflow_notices_failed", "Notices that will not reach their recipient (rejected: a permanent refusal; "
    "gave_up: retries exhausted; undeliverable: the registry has no address)", ["channel", "outcome"])


def exposition() -> tuple[bytes, str]:
    """The process's metrics in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def serve(address: tuple[str, int]) -> WSGIServer:
    """Serve the counters at http://HOST:PORT/metrics from a thread; `shutdown()` the server to stop it."""
    server, _ = start_http_server(address[1], address[0])
    return server
