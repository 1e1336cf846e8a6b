"""Settings read from the environment: the worker's cache size, how a secured Temporal cluster is reached (TLS, mTLS,
API key), and what a malformed value says."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from infra.settings import WORKFLOW_CACHE, Settings, TemporalAccess
from infra.temporal import tls_config


def test_workflow_cache_defaults_to_a_small_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRANTFLOW_WORKFLOW_CACHE", raising=False)
    assert Settings.from_env().workflow_cache == WORKFLOW_CACHE == 50


def test_workflow_cache_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRANTFLOW_WORKFLOW_CACHE", "2500")
    assert Settings.from_env().workflow_cache == 2500


@pytest.mark.parametrize("raw", ["0", "-5", "lots", "1e4", ""])
def test_a_malformed_cache_size_names_the_variable_and_its_value(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("GRANTFLOW_WORKFLOW_CACHE", raw)
    with pytest.raises(ValueError, match=f"GRANTFLOW_WORKFLOW_CACHE must be a positive whole number, not {raw!r}"):
        Settings.from_env()


def _files(tmp_path: Path, *names: str) -> list[Path]:
    paths = [tmp_path / name for name in names]
    for p in paths:
        p.write_bytes(f"-----BEGIN {p.stem.upper()}-----\n".encode())
    return paths


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in ACCESS:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


ACCESS = ("GRANTFLOW_TEMPORAL_TLS", "GRANTFLOW_TEMPORAL_TLS_CERT", "GRANTFLOW_TEMPORAL_TLS_KEY", "GRANTFLOW_TEMPORAL_TLS_CA",
          "GRANTFLOW_TEMPORAL_TLS_SERVER_NAME", "GRANTFLOW_TEMPORAL_API_KEY")


def test_a_local_cluster_is_reached_without_tls_or_key(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("GRANTFLOW_TEMPORAL_ADDRESS", "temporal.example:7233")
    clean.setenv("GRANTFLOW_NAMESPACE", "grants")
    s = Settings.from_env()
    assert (s.temporal_address, s.namespace) == ("temporal.example:7233", "grants")
    assert s.temporal_access == TemporalAccess() and tls_config(s.temporal_access) is False


def test_mtls_reads_the_client_certificate_key_and_server_ca(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cert, key, ca = _files(tmp_path, "client.pem", "client.key", "ca.pem")
    for variable, path in zip(ACCESS[1:4], (cert, key, ca)):
        clean.setenv(variable, str(path))
    clean.setenv("GRANTFLOW_TEMPORAL_TLS_SERVER_NAME", "temporal.internal")
    access = Settings.from_env().temporal_access
    assert (access.tls, access.client_cert, access.client_key, access.server_ca) == (True, cert, key, ca)
    tls = tls_config(access)
    assert isinstance(tls, TLSConfig)
    assert (tls.client_cert, tls.client_private_key, tls.server_root_ca_cert, tls.domain) == (
        cert.read_bytes(), key.read_bytes(), ca.read_bytes(), "temporal.internal")


def test_an_api_key_turns_on_tls_with_the_systems_roots_and_stays_out_of_the_repr(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("GRANTFLOW_TEMPORAL_API_KEY", "secret-key-123")
    access = Settings.from_env().temporal_access
    assert access.api_key == "secret-key-123" and tls_config(access) is True
    assert "secret-key-123" not in repr(Settings.from_env())
    clean.setenv("GRANTFLOW_TEMPORAL_TLS", "false")  # a key over a plain connection, e.g. behind a TLS-ending proxy
    assert tls_config(Settings.from_env().temporal_access) is False


def test_a_certificate_without_its_key_is_refused(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (cert,) = _files(tmp_path, "client.pem")
    clean.setenv("GRANTFLOW_TEMPORAL_TLS_CERT", str(cert))
    with pytest.raises(ValueError, match="GRANTFLOW_TEMPORAL_TLS_CERT and GRANTFLOW_TEMPORAL_TLS_KEY go together: "
                                         "the key is missing"):
        Settings.from_env()


def test_a_missing_file_names_the_variable_and_the_path(clean: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean.setenv("GRANTFLOW_TEMPORAL_TLS_CA", str(tmp_path / "nowhere.pem"))
    with pytest.raises(ValueError, match=f"GRANTFLOW_TEMPORAL_TLS_CA={tmp_path / 'nowhere.pem'}: no readable file"):
        Settings.from_env()


def test_a_malformed_tls_switch_names_the_variable(clean: pytest.MonkeyPatch) -> None:
    clean.setenv("GRANTFLOW_TEMPORAL_TLS", "maybe")
    with pytest.raises(ValueError, match="GRANTFLOW_TEMPORAL_TLS must be true or false, not 'maybe'"):
        Settings.from_env()
