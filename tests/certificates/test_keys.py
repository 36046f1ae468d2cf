"""The issuer key: created once with 0600, reused, published without its private part."""
from __future__ import annotations

import base64
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.jwk import OKPKey

from app.certificates.keys import (
    KeyFileError,
    jwks,
    key_thumbprint,
    load_or_create_signing_key,
    public_jwk,
)


def _public_bytes(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "signing-key.pem"
    first = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert content.startswith(b"-----BEGIN PRIVATE KEY-----")

    second = load_or_create_signing_key(path)
    assert _public_bytes(second) == _public_bytes(first)
    assert path.read_bytes() == content
    assert [entry.name for entry in path.parent.iterdir()] == [path.name]  # no temp files left


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "signing-key.pem"
    results: list[bytes] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        results.append(_public_bytes(load_or_create_signing_key(path)))

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert sorted(entry.name for entry in path.parent.iterdir()) == [path.name]


def test_a_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    load_or_create_signing_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_or_create_signing_key(path)


def test_a_key_of_another_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "signing-key.pem"
    pem = generate_private_key(SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="Ed25519"):
        load_or_create_signing_key(path)


def test_thumbprint_matches_the_rfc_8037_example() -> None:
    # RFC 8037 appendix A.2/A.3: public key x and its RFC 7638 thumbprint.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert key_thumbprint(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_jwks_publishes_only_the_public_key_named_by_its_thumbprint(signing_key: object) -> None:
    published = jwks(signing_key)  # type: ignore[arg-type]
    (entry,) = published["keys"]
    assert "d" not in entry
    assert entry == public_jwk(signing_key)  # type: ignore[arg-type]
    assert entry["kty"] == "OKP" and entry["crv"] == "Ed25519" and entry["alg"] == "EdDSA"
    # joserfc computes the same RFC 7638 thumbprint independently.
    assert OKPKey.import_key(entry).thumbprint() == entry["kid"]
