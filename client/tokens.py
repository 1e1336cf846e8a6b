"""Access tokens: short-lived JWTs that grantflow signs for local accounts (key under var/), and tokens of an
external OIDC provider verified against its issuer and JWKS; the operator's secret under var/."""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from client.errors import Unauthenticated
from infra.settings import positive

LOCAL_ISSUER = "grantflow"
ALGORITHM = "HS256"


def secret_file(path: Path) -> bytes:
    """The secret kept in `path`, made on first use (owner-only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


@dataclass(frozen=True)
class TokenConfig:
    key: bytes
    ttl: timedelta
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None

    @classmethod
    def from_env(cls, var_dir: Path) -> TokenConfig:
        return cls(key=secret_file(var_dir / "token.key"),
                   ttl=timedelta(minutes=positive("GRANTFLOW_TOKEN_MINUTES", 60)),
                   oidc_issuer=os.environ.get("GRANTFLOW_OIDC_ISSUER") or None,
                   oidc_audience=os.environ.get("GRANTFLOW_OIDC_AUDIENCE") or None,
                   oidc_jwks_url=os.environ.get("GRANTFLOW_OIDC_JWKS_URL") or None)


_JWKS: dict[str, jwt.PyJWKClient] = {}


def issue(config: TokenConfig, subject: str, now: datetime) -> str:
    """A local access token for `subject`, valid `config.ttl` from `now`."""
    return jwt.encode({"iss": LOCAL_ISSUER, "sub": subject, "iat": now, "exp": now + config.ttl}, config.key,
                      algorithm=ALGORITHM)


def verify(config: TokenConfig, token: str) -> tuple[str, str]:
    """(subject, how it was proven: local or oidc) of a valid token, or Unauthenticated saying why not."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        if issuer == LOCAL_ISSUER:
            claims = jwt.decode(token, config.key, algorithms=[ALGORITHM], issuer=LOCAL_ISSUER,
                                options={"require": ["exp", "sub", "iss"]})
            return str(claims["sub"]), "local"
        if config.oidc_issuer is None or config.oidc_jwks_url is None or issuer != config.oidc_issuer:
            raise Unauthenticated(f"tokens of issuer {str(issuer)[:80]!r} are not accepted")
        jwks = _JWKS.setdefault(config.oidc_jwks_url, jwt.PyJWKClient(config.oidc_jwks_url, cache_keys=True))
        key = jwks.get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key, algorithms=["RS256", "ES256", "PS256", "EdDSA"], issuer=config.oidc_issuer,
                            audience=config.oidc_audience, options={"require": ["exp", "sub", "iss"],
                                                                    "verify_aud": config.oidc_audience is not None})
        return str(claims["sub"]), "oidc"
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the access token has expired: sign in again") from None
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthenticated(f"the access token is not valid ({exc})") from None


def is_operator(var_dir: Path, presented: str) -> bool:
    """Whether `presented` is the operator secret of this installation (var/operator.secret)."""
    return hmac.compare_digest(secret_file(var_dir / "operator.secret"), presented.encode())
