"""The issuer's Ed25519 signing key: created on first use, kept private, published as a JWKS.

The private key lives in one PEM file (PKCS #8, unencrypted) under instance/, mode 0600.
It is created atomically: written to a private temporary file beside the target, then
hard-linked into place, which fails if another process got there first; the loser
then reads the winner's key. So concurrent workers on first start agree on one key.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cryptography loads when a key is used (a web worker that signs nothing: less memory)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

SIGNING_ALGORITHM = "EdDSA"


class KeyFileError(Exception):
    """The key file exists but cannot be used (wrong type, or readable by others)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _write_new_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created the key first: use theirs
    finally:
        temporary.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the new name survives a crash right after first use
    finally:
        os.close(folder)


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Return the Ed25519 private key stored at ``path``, creating it on first use.

    A new key file gets mode 0600 and its folder is created (mode 0700) if missing.
    Raises :class:`KeyFileError` when the file is not an Ed25519 private key, or when
    group or others may read it (fix with ``chmod 600``).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_new_key(path)
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise KeyFileError(f"{path} is readable by others (mode {mode:o}); run chmod 600 on it")
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 private key")
    return key


class MissingKeyError(KeyFileError):
    """No key file where one is expected; an operator must create or restore it."""


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """Return the key stored at ``path``; never create one (production)."""
    path = Path(path)
    if not path.exists():
        raise MissingKeyError(
            f"no certificate signing key at {path}: create it once with "
            f"`flask --app wsgi certificates keygen`, or restore the deployment's key from backup"
        )
    return load_or_create_signing_key(path)


def create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Create a new key at ``path`` (mode 0600); refuse if one is there already."""
    path = Path(path)
    if path.exists():
        raise KeyFileError(f"{path} exists already; use `certificates rotate-key` to replace it")
    return load_or_create_signing_key(path)


def retired_keys_folder(path: Path) -> Path:
    """Where the public halves of retired keys are kept: beside the key, ``<name>.retired/``."""
    path = Path(path)
    return path.with_name(path.name + ".retired")


def retired_public_keys(path: Path) -> list[Ed25519PublicKey]:
    """The public keys retired from ``path`` by rotation, oldest first."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    folder = retired_keys_folder(path)
    if not folder.is_dir():
        return []
    found = []
    for item in sorted(folder.glob("*.pub.pem")):
        key = serialization.load_pem_public_key(item.read_bytes())
        if isinstance(key, Ed25519PublicKey):
            found.append(key)
    return found


def rotate_signing_key(path: Path) -> tuple[str, str]:
    """Retire the key at ``path`` (its public half stays published) and put a new one in its
    place. Returns (retired kid, new kid). The old private key is deleted: it signs nothing again.
    """
    from cryptography.hazmat.primitives import serialization

    path = Path(path)
    old = load_signing_key(path)
    folder = retired_keys_folder(path)
    folder.mkdir(mode=0o700, exist_ok=True)
    old_kid = key_thumbprint(old)
    public_pem = old.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    number = len(list(folder.glob("*.pub.pem"))) + 1
    (folder / f"{number:04d}-{old_kid}.pub.pem").write_bytes(public_pem)
    replacement = path.with_name(f".{path.name}.rotating")
    replacement.unlink(missing_ok=True)
    new = load_or_create_signing_key(replacement)
    os.replace(replacement, path)  # atomic: readers see the old key or the new one, never none
    return old_kid, key_thumbprint(new)


def _public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def key_thumbprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Return the RFC 7638 JWK thumbprint (SHA-256, base64url) of the key's public half."""
    from cryptography.hazmat.primitives import serialization

    raw = _public_key(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    # RFC 8037 section 2: the required members of an OKP key, in lexicographic order.
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey) -> dict[str, str]:
    """Return the public JWK of ``key`` (never the private part), its ``kid`` the thumbprint."""
    from cryptography.hazmat.primitives import serialization

    raw = _public_key(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(raw),
        "kid": key_thumbprint(key),
        "alg": SIGNING_ALGORITHM,
        "use": "sig",
    }


def jwks(*keys: Ed25519PrivateKey | Ed25519PublicKey) -> dict[str, Any]:
    """Return the JSON Web Key Set to serve at /.well-known/jwks.json.

    Pass the current key first, then any retired keys whose credentials must still verify.
    """
    return {"keys": [public_jwk(key) for key in keys]}
