"""Revocation through a W3C Bitstring Status List (VC Bitstring Status List v1.0).

Each credential points at one bit of a published list: ``statusListIndex`` in the
credential at ``statusListCredential``. The bit is 1 when the certificate is revoked.
The list is itself a credential, signed like the others, so a verifier trusts it for
the same reason it trusts the certificate.

Why a bitstring and not "GET /status/<code>": a verifier fetching a list of 131,072
bits learns nothing about which certificate it is checking (the spec's herd privacy),
and the issuer learns nothing about who checks whom. Indexes are drawn at random for
the same reason; store each certificate's index in a unique column and draw again on
a collision.
"""
from __future__ import annotations

import base64
import binascii
import gzip
import secrets
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from app.certificates.timestamps import format_instant

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUS_PURPOSE = "revocation"
#: 16 KiB of bits: the minimum the spec recommends for herd privacy.
STATUS_LIST_SIZE = 131_072
#: How long a verifier (or an HTTP cache) may keep the list before fetching it again: the
#: spec's ``ttl`` and the response's ``Cache-Control: max-age``.
STATUS_LIST_TTL = timedelta(minutes=5)
#: How long a published list is valid (``validUntil``). A kept copy stops being "valid" this
#: long after it was signed, so a revocation reaches every verifier within this time; twice
#: the TTL, so a copy served from a cache near the end of its TTL still verifies.
STATUS_LIST_VALIDITY = 2 * STATUS_LIST_TTL


class StatusListError(ValueError):
    """A status entry or status list is malformed, or they do not belong together."""


def new_status_index(size: int = STATUS_LIST_SIZE) -> int:
    """Return a random index into a status list of ``size`` bits."""
    return secrets.randbelow(size)


def status_entry(*, list_url: str, index: int, size: int = STATUS_LIST_SIZE) -> dict[str, str]:
    """Return the ``credentialStatus`` object for the bit ``index`` of the list at ``list_url``.

    Raises ``ValueError`` when ``index`` is outside the list.
    """
    if not 0 <= index < size:
        raise ValueError(f"status index {index} is outside a list of {size} bits")
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def encode_status_list(revoked: Iterable[int], *, size: int = STATUS_LIST_SIZE) -> str:
    """Return the ``encodedList`` with the bits of ``revoked`` set.

    Bit 0 is the left-most bit of the first byte; the bytes are GZIP-compressed and
    written as multibase base64url without padding (a ``u`` prefix), per the spec.
    Raises ``ValueError`` for an index outside the list or a size not a multiple of 8.
    """
    if size <= 0 or size % 8:
        raise ValueError("the list size must be a positive multiple of 8")
    bits = bytearray(size // 8)
    for index in revoked:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside a list of {size} bits")
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)  # mtime=0: same list, same bytes
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    """Return the raw bitstring of an ``encodedList``. Raises :class:`StatusListError`."""
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList is not multibase base64url")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return gzip.decompress(packed)
    except (binascii.Error, OSError, EOFError, zlib.error) as error:
        raise StatusListError("encodedList does not decode") from error


def build_status_list_credential(
    *,
    list_url: str,
    issuer_id: str,
    revoked: Iterable[int],
    valid_from: datetime,
    valid_until: datetime | None = None,
    ttl: timedelta | None = None,
    size: int = STATUS_LIST_SIZE,
) -> dict[str, Any]:
    """Return the BitstringStatusListCredential to sign and serve at ``list_url``.

    Publish it with ``valid_until`` (valid_from + STATUS_LIST_VALIDITY) and ``ttl``: without
    an end, a copy kept by a verifier would go on saying "not revoked" after a revocation.
    """
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": format_instant(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_status_list(revoked, size=size),
        },
    }
    if valid_until is not None:
        credential["validUntil"] = format_instant(valid_until)
    if ttl is not None:  # milliseconds, per the spec
        credential["credentialSubject"]["ttl"] = int(ttl.total_seconds() * 1000)
    return credential


def is_revoked(entry: Mapping[str, Any], status_list: Mapping[str, Any]) -> bool:
    """Tell whether ``entry`` (a credential's ``credentialStatus``) is revoked in ``status_list``.

    ``status_list`` is the list credential, already verified by the caller (for
    instance with ``verify_credential_jwt``). Raises :class:`StatusListError` when the
    entry does not point at this list, purposes differ, or the index is out of range.
    """
    if entry.get("type") != "BitstringStatusListEntry":
        raise StatusListError("credentialStatus is not a BitstringStatusListEntry")
    if entry.get("statusListCredential") != status_list.get("id"):
        raise StatusListError("the status list is not the one the credential names")
    subject = status_list.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise StatusListError("not a BitstringStatusList credential")
    if entry.get("statusPurpose") != subject.get("statusPurpose"):
        raise StatusListError("status purposes differ")
    try:
        index = int(str(entry.get("statusListIndex")), 10)
    except ValueError as error:
        raise StatusListError("statusListIndex is not a number") from error
    bits = decode_status_list(subject.get("encodedList", ""))
    if not 0 <= index < len(bits) * 8:
        raise StatusListError("statusListIndex is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
