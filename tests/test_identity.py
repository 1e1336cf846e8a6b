"""Identities: the role x action x scope matrix, accounts (argon2, disable at once), local tokens and tokens of an
OIDC provider verified against a JWKS served by a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.engine import Engine

from client.accounts import add, check_password, grants_of, identity_of, reset, set_disabled
from client.errors import Invalid, Unauthenticated
from client.tokens import TokenConfig, is_operator, issue, verify
from models.identity import Grant, Identity, Target, parse_scope, read_refusal, refusal

OWN = Target(call="c1", programme="p1", unit="u1", application="a1", applicant="pi-1")
OTHER_APP = Target(call="c1", programme="p1", unit="u1", application="a2", applicant="pi-2")
OTHER_UNIT = Target(call="c1", programme="p1", unit="u2", application="a3", applicant="pi-3")
OTHER_CALL = Target(call="c2", programme="p2", unit="u1", application="a4", applicant="pi-4")
TARGETS = {"own": OWN, "other application": OTHER_APP, "other unit": OTHER_UNIT, "other call": OTHER_CALL}
PEOPLE = {
    "applicant": Identity("pi-1", [Grant("applicant", "self")]),
    "unit_admin": Identity("ua-1", [Grant("unit_admin", "unit:u1")]),
    "cto": Identity("cto-1", [Grant("cto", "unit:u1")]),
    "recommender": Identity("org-1", [Grant("recommender", "call:c1,unit:u1")]),
    "agency": Identity("ag-1", [Grant("agency", "call:c1")]),
    "manager": Identity("pm-1", [Grant("manager", "call:c1")]),
    "expert": Identity("ex-1", [Grant("expert", "application:a1")]),
    "committee": Identity("cm-1", [Grant("committee", "call:c1")]),
    "auditor": Identity("au-1", [Grant("auditor", "*")]),
    "public": Identity("citizen-1", [Grant("public", "*")]),
}
# Who may act on what, per role: the cells that are allowed (every other cell of the matrix is refused).
ALLOWED = {
    "applicant": {"own"},
    "unit_admin": {"own", "other application", "other call"},  # every application of its unit, in any call
    "cto": {"own", "other application", "other call"},
    "recommender": {"own", "other application"},  # its units in this call only
    "agency": {"own", "other application", "other unit"},
    "manager": {"own", "other application", "other unit"},
    "expert": {"own"},  # the applications assigned to it
    "committee": {"own", "other application", "other unit"},
    "auditor": {"own", "other application", "other unit", "other call"},
    "public": {"own", "other application", "other unit", "other call"},
}


@pytest.mark.parametrize("role", sorted(PEOPLE))
@pytest.mark.parametrize("where", sorted(TARGETS))
def test_every_cell_of_the_role_scope_matrix(role: str, where: str) -> None:
    identity = PEOPLE[role]
    why = refusal(identity, identity.subject, role, TARGETS[where])
    if where in ALLOWED[role]:
        assert why is None, why
    else:
        assert why is not None and identity.subject in why
    # the role's own grant never lets it act in another role
    for other in sorted(set(PEOPLE) - {role}):
        assert refusal(identity, identity.subject, other, TARGETS[where]) is not None


def test_a_request_acting_for_someone_else_or_without_identity_is_refused() -> None:
    manager = PEOPLE["manager"]
    assert refusal(None, "pm-1", "manager", OWN) == "the request carries no identity"
    assert "acts as pm-2, but its identity is pm-1" in str(refusal(manager, "pm-2", "manager", OWN))
    over_all = Identity("pi-9", [Grant("applicant", "*")])
    assert "not the applicant" in str(refusal(over_all, "pi-9", "applicant", OWN))


def test_reading_follows_the_same_scopes_and_the_public_reads_nothing() -> None:
    assert read_refusal(PEOPLE["applicant"], OWN) is None
    assert read_refusal(PEOPLE["applicant"], OTHER_APP) is not None
    assert read_refusal(PEOPLE["auditor"], OTHER_CALL) is None
    assert read_refusal(PEOPLE["public"], OWN) is not None


def test_scopes_are_checked_against_each_roles_shapes() -> None:
    assert parse_scope("manager", "programme:p1") == Grant("manager", "programme:p1")
    for role, scope in [("applicant", "*"), ("manager", "*"), ("unit_admin", "call:c1"), ("wizard", "*"),
                        ("recommender", "unit:u1"), ("expert", "application")]:
        with pytest.raises(ValueError):
            parse_scope(role, scope)
    assert grants_of(["applicant"]) == [Grant("applicant", "self")]
    with pytest.raises(Invalid, match="grant 'manager@\\*'"):
        grants_of(["manager@*"])


def test_accounts_hash_passwords_and_a_disabled_account_loses_access_at_once(db: Engine, tmp_path: Path) -> None:
    add(db, "pm-1", "correct horse battery", [Grant("manager", "call:c1")])
    check_password(db, "pm-1", "correct horse battery")
    with pytest.raises(Unauthenticated, match="wrong account or password"):
        check_password(db, "pm-1", "wrong password!")
    with pytest.raises(Unauthenticated, match="wrong account or password"):
        check_password(db, "nobody", "correct horse battery")
    config = TokenConfig(b"k" * 32, timedelta(minutes=5))
    token = issue(config, "pm-1", datetime.now(UTC))
    assert identity_of(db, *verify(config, token)).grants == [Grant("manager", "call:c1")]
    set_disabled(db, "pm-1", True)
    with pytest.raises(Unauthenticated, match="disabled"):
        identity_of(db, *verify(config, token))
    set_disabled(db, "pm-1", False)
    reset(db, "pm-1", "another long secret")
    check_password(db, "pm-1", "another long secret")
    with pytest.raises(Invalid, match="at least 10"):
        reset(db, "pm-1", "short")


def test_local_tokens_expire_and_cannot_be_forged() -> None:
    config = TokenConfig(b"k" * 32, timedelta(minutes=5))
    old = issue(config, "pm-1", datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(Unauthenticated, match="expired"):
        verify(config, old)
    forged = issue(TokenConfig(b"x" * 32, timedelta(minutes=5)), "pm-1", datetime.now(UTC))
    with pytest.raises(Unauthenticated, match="not valid"):
        verify(config, forged)


@pytest.fixture
def jwks() -> Iterator[tuple[str, rsa.RSAPrivateKey]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [public | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json", key
    server.shutdown()


def test_oidc_tokens_are_verified_against_the_issuers_jwks(jwks: tuple[str, rsa.RSAPrivateKey]) -> None:
    url, key = jwks
    config = TokenConfig(b"k" * 32, timedelta(minutes=5), "https://idp.example", "grantflow", url)
    now = datetime.now(UTC)
    claims = {"iss": "https://idp.example", "sub": "pm-7", "aud": "grantflow", "exp": now + timedelta(minutes=5)}
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert verify(config, good) == ("pm-7", "oidc")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for bad, why in [(jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "k1"}), "not valid"),
                     (jwt.encode(claims | {"aud": "else"}, key, algorithm="RS256", headers={"kid": "k1"}), "not valid"),
                     (jwt.encode(claims | {"iss": "https://evil"}, key, algorithm="RS256", headers={"kid": "k1"}),
                      "not accepted"),
                     (jwt.encode(claims | {"exp": now - timedelta(seconds=1)}, key, algorithm="RS256",
                                 headers={"kid": "k1"}), "expired")]:
        with pytest.raises(Unauthenticated, match=why):
            verify(config, bad)


def test_the_operator_is_proven_by_the_secret_under_var(tmp_path: Path) -> None:
    secret = (tmp_path / "operator.secret")
    assert not is_operator(tmp_path, "guess")
    assert is_operator(tmp_path, secret.read_text().strip())
    assert secret.stat().st_mode & 0o077 == 0
