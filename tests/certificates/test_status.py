"""The Bitstring Status List: encoding per the W3C spec, and lookups that refuse mismatches."""
from __future__ import annotations

import base64
import gzip
from datetime import datetime, timezone

import pytest

from app.certificates.status import (
    STATUS_LIST_SIZE,
    StatusListError,
    build_status_list_credential,
    decode_status_list,
    encode_status_list,
    is_revoked,
    new_status_index,
    status_entry,
)

LIST_URL = "https://nergi.example.org/credentials/status/1"


def _list(revoked: list[int]) -> dict[str, object]:
    return build_status_list_credential(
        list_url=LIST_URL,
        issuer_id="https://nergi.example.org/issuer",
        revoked=revoked,
        valid_from=datetime(2025, 6, 1, tzinfo=timezone.utc),
    )


def test_encoding_is_gzip_base64url_multibase_with_bit_0_leftmost() -> None:
    encoded = encode_status_list([0, 9], size=16)
    assert encoded.startswith("u") and "=" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bytes([0b1000_0000, 0b0100_0000])
    assert decode_status_list(encoded) == raw
    assert encode_status_list([0, 9], size=16) == encoded  # deterministic


def test_default_list_is_16_kib_for_herd_privacy() -> None:
    assert STATUS_LIST_SIZE == 131_072
    assert len(decode_status_list(encode_status_list([]))) == 16_384
    assert 0 <= new_status_index() < STATUS_LIST_SIZE


def test_only_the_revoked_bits_read_as_revoked() -> None:
    status_list = _list([7, 131_071])
    for index, expected in [(7, True), (6, False), (8, False), (131_071, True), (0, False)]:
        assert is_revoked(status_entry(list_url=LIST_URL, index=index), status_list) is expected


def test_lookups_refuse_an_entry_that_does_not_belong_to_the_list() -> None:
    status_list = _list([])
    elsewhere = status_entry(list_url="https://evil.example/list", index=1)
    with pytest.raises(StatusListError, match="not the one"):
        is_revoked(elsewhere, status_list)
    suspended = {**status_entry(list_url=LIST_URL, index=1), "statusPurpose": "suspension"}
    with pytest.raises(StatusListError, match="purposes"):
        is_revoked(suspended, status_list)
    with pytest.raises(StatusListError, match="not a number"):
        is_revoked({**status_entry(list_url=LIST_URL, index=1), "statusListIndex": "x"}, status_list)
    with pytest.raises(ValueError):
        status_entry(list_url=LIST_URL, index=STATUS_LIST_SIZE)
    with pytest.raises(ValueError):
        encode_status_list([-1])
    with pytest.raises(StatusListError):
        decode_status_list("uNotGzip")
