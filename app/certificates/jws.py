"""Compact JWS signing and checking with EdDSA (Ed25519), shared by the VC-JWT and the offline token.

PyJWT does the JOSE work; the tests check its output with a different library
(joserfc), so a bug in one is not hidden by the same bug in the other.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from app.certificates.keys import SIGNING_ALGORITHM, key_thumbprint

if TYPE_CHECKING:  # PyJWT and cryptography load when a token is signed or checked (worker memory)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class TokenError(Exception):
    """A token is malformed, signed by an unknown key, or its signature does not verify."""


def compact_json(data: Mapping[str, Any]) -> bytes:
    """Serialise ``data`` as compact UTF-8 JSON (no spaces, no \\u escapes for non-ASCII)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign_compact(payload: bytes, key: Ed25519PrivateKey, *, typ: str | None) -> str:
    """Sign ``payload`` as a JWS Compact Serialization: header alg EdDSA, kid, and typ if given."""
    from jwt.api_jws import PyJWS

    headers: dict[str, Any] = {"kid": key_thumbprint(key), "typ": typ}
    # PyJWT drops a falsy typ instead of writing its default "JWT".
    return PyJWS().encode(payload, key, algorithm=SIGNING_ALGORITHM, headers=headers)


def verify_compact(token: str, jwks: Mapping[str, Any]) -> tuple[dict[str, Any], bytes]:
    """Check ``token``'s signature against the key its ``kid`` names in ``jwks``.

    Returns the protected header and the payload bytes. Only EdDSA is accepted, whatever
    the header says. Raises :class:`TokenError` on any failure.
    """
    import jwt
    from jwt.api_jws import PyJWS

    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise TokenError("unreadable header") from error
    if header.get("alg") != SIGNING_ALGORITHM:
        raise TokenError("algorithm is not EdDSA")
    kid = header.get("kid")
    matching = [entry for entry in jwks.get("keys", []) if entry.get("kid") == kid]
    if len(matching) != 1:
        raise TokenError("signed by an unknown key")
    try:
        public = jwt.PyJWK(dict(matching[0]), algorithm=SIGNING_ALGORITHM)
        decoded = PyJWS().decode_complete(token, public, algorithms=[SIGNING_ALGORITHM])
    except jwt.PyJWTError as error:
        raise TokenError("signature does not verify") from error
    return header, decoded["payload"]
