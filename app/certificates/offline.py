"""The offline token in the certificate's QR code: checkable without reaching the server.

The QR code holds ``<verify_url>#t=<token>``. A phone that just opens the link gets the
online verification page (browsers never send the fragment, so the token does not reach
the server or its logs). A verifier app that has the issuer's published JWKS can check
the token on the spot, with no network.

The token is a JWS Compact Serialization, EdDSA over Ed25519, kept as short as the
standard allows so the QR code stays easy to scan:

- header ``{"alg":"EdDSA","kid":<RFC 7638 thumbprint>}`` (no ``typ``, which saves bytes
  and also marks it apart from the ``vc+jwt`` credential, which must carry one);
- payload, compact UTF-8 JSON: ``iss`` issuer id, ``jti`` the certificate code,
  ``iat`` the issue date (00:00 UTC of that day), ``name`` the learner's name as
  printed, ``crs`` the course slug or a short title. Nothing else: no e-mail, no grades.

It cannot say whether the certificate was revoked after printing; the online page and
the credential's status list can. See docs/certificates.md.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from app.certificates.codes import is_valid_code, normalise_code
from app.certificates.jws import TokenError, compact_json, sign_compact, verify_compact

if TYPE_CHECKING:  # imported where used: a web worker that signs nothing never loads cryptography
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

CLAIMS = ("iss", "jti", "iat", "name", "crs")
FRAGMENT_KEY = "t"


@dataclass(frozen=True)
class OfflineCheck:
    """The outcome of checking an offline token: ``valid``, else ``reason``; the claims if signed."""

    valid: bool
    reason: str = ""
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def issued_on(self) -> date | None:
        """The issue date the token states, when it verified."""
        if not self.valid:
            return None
        return datetime.fromtimestamp(self.claims["iat"], tz=UTC).date()


def make_offline_token(
    *,
    code: str,
    learner_name: str,
    course: str,
    issued_on: date,
    issuer_id: str,
    key: Ed25519PrivateKey,
) -> str:
    """Return the signed offline token for one certificate.

    ``course`` is the course slug or a short title (it costs QR space, so keep it short);
    ``code`` is stored in canonical form. Raises ``ValueError`` for an invalid code.
    """
    if not is_valid_code(code):
        raise ValueError("not a valid certificate code")
    claims = {
        "iss": issuer_id,
        "jti": normalise_code(code),
        "iat": int(datetime.combine(issued_on, time(), tzinfo=UTC).timestamp()),
        "name": learner_name,
        "crs": course,
    }
    return sign_compact(compact_json(claims), key, typ=None)


def qr_content(verify_url: str, token: str) -> str:
    """Return what the QR code encodes: the verification URL with the token as its fragment."""
    return f"{verify_url.split('#', 1)[0]}#{FRAGMENT_KEY}={token}"


def token_from_qr(content: str) -> str | None:
    """Return the offline token in scanned QR ``content``, or None if it carries none."""
    values = parse_qs(urlsplit(content).fragment).get(FRAGMENT_KEY)
    return values[0] if values else None


def _invalid(reason: str, claims: dict[str, Any] | None = None) -> OfflineCheck:
    return OfflineCheck(valid=False, reason=reason, claims=claims or {})


def _claims_problem(claims: Any, now: datetime | None) -> str:
    if not isinstance(claims, dict) or set(claims) != set(CLAIMS):
        return "not an offline certificate token"
    if not all(isinstance(claims[name], str) for name in ("iss", "jti", "name", "crs")):
        return "malformed claims"
    if not isinstance(claims["iat"], int) or isinstance(claims["iat"], bool):
        return "malformed issue date"
    if not is_valid_code(claims["jti"]):
        return "malformed certificate code"
    if now is not None and claims["iat"] > now.timestamp():
        return "issued in the future"
    return ""


def verify_offline_token(
    token: str, jwks: Mapping[str, Any], *, now: datetime | None = None
) -> OfflineCheck:
    """Check an offline token's signature against ``jwks`` and the shape of its claims.

    With ``now``, a token claiming a later issue date fails. Never raises for a bad
    token. A valid result says the issuer signed these facts, not that the certificate
    is still unrevoked.
    """
    try:
        header, payload = verify_compact(token, jwks)
    except TokenError as error:
        return _invalid(str(error))
    if "typ" in header:
        return _invalid("not an offline certificate token")
    try:
        claims = json.loads(payload)
    except ValueError:
        return _invalid("payload is not JSON")
    problem = _claims_problem(claims, now)
    if problem:
        return _invalid(problem, claims if isinstance(claims, dict) else None)
    return OfflineCheck(valid=True, claims=claims)


def verify_qr(content: str, jwks: Mapping[str, Any], *, now: datetime | None = None) -> OfflineCheck:
    """Check scanned QR ``content``: its token, and that the URL names the same code.

    The last path segment of the URL must be the token's code (in any accepted
    spelling), so a genuine token cannot be pasted behind someone else's link.
    """
    token = token_from_qr(content)
    if token is None:
        return _invalid("the QR code carries no offline token")
    check = verify_offline_token(token, jwks, now=now)
    if not check.valid:
        return check
    path_code = unquote(urlsplit(content).path.rstrip("/").rsplit("/", 1)[-1])
    if normalise_code(path_code) != check.claims["jti"]:
        return _invalid("the link and the token name different certificates", check.claims)
    return check
