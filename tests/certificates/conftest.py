"""Fixtures for the certificate tests: a signing key, its JWKS, and independent checks with joserfc.

The app signs and verifies with PyJWT; these tests check its tokens with joserfc, a
separate JOSE implementation, so one library's bug cannot hide behind the same bug.
"""
from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.certificates.keys import jwks, load_or_create_signing_key


@pytest.fixture
def issuer() -> dict[str, str]:
    """The issuer as configuration would describe it."""
    return {
        "id": "https://nergi.example.org/issuer",
        "name": "CENN — Young Professionals Programme",
        "url": "https://nergi.example.org",
    }


@pytest.fixture
def signing_key(tmp_path: Path) -> Ed25519PrivateKey:
    """A fresh issuer key, created the way the app creates it."""
    return load_or_create_signing_key(tmp_path / "instance" / "certificate-signing-key.pem")


@pytest.fixture
def published_jwks(signing_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The JWKS the app would serve for ``signing_key``."""
    return jwks(signing_key)


@pytest.fixture
def other_key_jwks() -> dict[str, Any]:
    """A JWKS of some other key, which must not verify our tokens."""
    return jwks(Ed25519PrivateKey.generate())

def joserfc_verify(token: str, published: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify ``token`` with joserfc against the JWKS; return (header, payload). Raises JoseError."""
    key_set = KeySet.import_key_set(published)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        # joserfc flags "EdDSA" as superseded by RFC 9864's "Ed25519"; the issue asks for EdDSA.
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        signed = jws.deserialize_compact(token, key_set, algorithms=["EdDSA"])
    assert signed.payload is not None
    return signed.headers(), json.loads(signed.payload)


def joserfc_rejects(token: str, published: dict[str, Any]) -> bool:
    """True when joserfc refuses ``token`` (bad signature, unknown key, garbage)."""
    try:
        joserfc_verify(token, published)
    except (JoseError, ValueError):
        return True
    return False


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def flip_byte(token: str, *, segment: int, position: int) -> str:
    """Return ``token`` with one bit flipped in byte ``position`` of decoded ``segment`` (0-2)."""
    parts = token.split(".")
    raw = bytearray(_b64decode(parts[segment]))
    raw[position % len(raw)] ^= 0x01
    parts[segment] = _b64encode(bytes(raw))
    return ".".join(parts)


@pytest.fixture
def independent_verify() -> Callable[[str, dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]:
    """joserfc's verification: (token, jwks) -> (header, payload), raising on failure."""
    return joserfc_verify


@pytest.fixture
def independent_rejects() -> Callable[[str, dict[str, Any]], bool]:
    """True when joserfc refuses the token."""
    return joserfc_rejects


@pytest.fixture
def flip() -> Callable[..., str]:
    """Flip one bit of one byte of a decoded JWS segment: flip(token, segment=1, position=5)."""
    return flip_byte
