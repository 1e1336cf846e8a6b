"""docs/deploy/: the Docker Compose file cannot be run here (no images can be pulled), so what can be checked without
it is: it parses, every grantflow service's environment is one grantflow's settings accept and that reaches the
services the file defines, the commands it runs exist, Prometheus scrapes the ports the settings open, and the
numbers it sets are the ones docs/deploy.md derives."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from activities.notices import SmtpServer
from api.serve import address
from cli import app
from infra.settings import Settings

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
GRANTFLOW = {name: s for name, s in SERVICES.items() if s.get("image") == "grantflow:local"}
TEXT = (DEPLOY.parent / "deploy.md").read_text()


def test_every_dependency_and_volume_is_one_the_file_defines() -> None:
    assert set(GRANTFLOW) == {"grantflow-setup", "worker", "api"}
    for name, service in SERVICES.items():
        needs = service.get("depends_on", [])
        assert set(needs) <= set(SERVICES), name
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith(".") or source in COMPOSE["volumes"], (name, volume)
    assert (DEPLOY / SERVICES["prometheus"]["volumes"][0].split(":")[0]).is_file()


@pytest.mark.parametrize("name", sorted(GRANTFLOW))
def test_each_grantflow_service_runs_with_settings_grantflow_accepts(name: str, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    environment: dict[str, str] = GRANTFLOW[name]["environment"]
    for variable in [v for v in os.environ if v.startswith(("GRANTFLOW_", "OTEL_"))]:
        monkeypatch.delenv(variable)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, str(value))
    monkeypatch.setenv("GRANTFLOW_VAR_DIR", str(tmp_path))  # the container's volume
    s = Settings.from_env()
    assert s.temporal_address.split(":")[0] in SERVICES
    assert s.namespace == SERVICES["temporal"]["environment"]["DEFAULT_NAMESPACE"]
    db = urlsplit(s.database_url)
    records = SERVICES["records-db"]["environment"]
    assert (db.scheme, db.hostname, db.username, db.password, db.path) == (
        "postgresql+psycopg", "records-db", records["POSTGRES_USER"], records["POSTGRES_PASSWORD"],
        f"/{records['POSTGRES_DB']}")
    assert s.smtp_url is not None and SmtpServer.from_url(s.smtp_url).host in SERVICES
    assert urlsplit(s.telemetry.traces).hostname in SERVICES
    if name == "worker":
        assert s.telemetry.metrics_address == ("0.0.0.0", 9464) and s.telemetry.sdk_metrics_address == ("0.0.0.0", 9465)
        assert s.workflow_cache == 4000
    if name == "api":
        assert address() == ("0.0.0.0", 8080)


def test_the_commands_it_runs_are_grantflows() -> None:
    setup = " ".join(GRANTFLOW["grantflow-setup"]["command"])
    runs = [c.split()[1:] for c in setup.split("&&")]
    assert runs == [["db", "upgrade"], ["cluster", "search-attributes"]]
    for args in [*runs, GRANTFLOW["worker"]["command"], GRANTFLOW["api"]["command"]]:
        result = CliRunner().invoke(app, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)


def test_prometheus_scrapes_the_ports_the_settings_open() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = set()
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            targets |= {f"{n}:{sd['port']}" for n in sd["names"]}
        for static in job.get("static_configs", []):
            targets |= set(static["targets"])
    worker, api = GRANTFLOW["worker"]["environment"], GRANTFLOW["api"]["environment"]
    expected = {f"worker:{worker['GRANTFLOW_METRICS_ADDRESS'].rsplit(':')[1]}",
                f"worker:{worker['GRANTFLOW_SDK_METRICS_ADDRESS'].rsplit(':')[1]}",
                f"api:{api['GRANTFLOW_HTTP_ADDRESS'].rsplit(':')[1]}",
                f"api:{api['GRANTFLOW_SDK_METRICS_ADDRESS'].rsplit(':')[1]}",
                f"temporal:{SERVICES['temporal']['environment']['PROMETHEUS_ENDPOINT'].rsplit(':')[1]}"}
    assert targets == expected


def test_the_file_sets_the_numbers_the_text_derives() -> None:
    shards = re.search(r"### History shards: (\d+)", TEXT)
    workers = re.search(r"### Workers: (\d+) of (\d+) cores and (\d+) GB, cache ([\d,]+) each", TEXT)
    assert shards and workers
    assert SERVICES["temporal"]["environment"]["NUM_HISTORY_SHARDS"] == shards[1]
    helm = yaml.safe_load(re.search(r"```yaml\n(.*?)```", TEXT, re.S)[1])
    assert helm["server"]["config"]["numHistoryShards"] == int(shards[1])
    assert helm["server"]["config"]["namespaces"]["namespace"][0]["name"] == GRANTFLOW["worker"]["environment"][
        "GRANTFLOW_NAMESPACE"]
    deploy = GRANTFLOW["worker"]["deploy"]
    assert (deploy["replicas"], deploy["resources"]["limits"]["cpus"], deploy["resources"]["limits"]["memory"]) == (
        int(workers[1]), workers[2], f"{workers[3]}g")
    assert GRANTFLOW["worker"]["environment"]["GRANTFLOW_WORKFLOW_CACHE"] == workers[4].replace(",", "")
    assert "UNTESTED HERE" in (DEPLOY / "compose.yaml").read_text() and "untested here" in TEXT
