"""The offline token in the QR code: short, signed, independently verifiable, tamper-evident."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.certificates.codes import format_code, new_code
from app.certificates.credential import build_credential, sign_credential, verify_credential_jwt
from app.certificates.keys import key_thumbprint
from app.certificates.offline import (
    make_offline_token,
    qr_content,
    token_from_qr,
    verify_offline_token,
    verify_qr,
)

ISSUER_ID = "https://nergi.example.org/issuer"
ISSUED_ON = date(2025, 6, 1)


def _token(key: Ed25519PrivateKey, code: str, name: str = "Aygün Məmmədova") -> str:
    return make_offline_token(
        code=code, learner_name=name, course="rba-basics", issued_on=ISSUED_ON, issuer_id=ISSUER_ID, key=key
    )


def test_token_holds_exactly_the_documented_claims_and_verifies_independently(
    signing_key: Ed25519PrivateKey,
    published_jwks: dict[str, Any],
    independent_verify: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    code = new_code()
    token = _token(signing_key, format_code(code).lower())

    header, claims = independent_verify(token, published_jwks)
    assert header == {"alg": "EdDSA", "kid": key_thumbprint(signing_key)}
    assert claims == {
        "iss": ISSUER_ID,
        "jti": code,
        "iat": int(datetime(2025, 6, 1, tzinfo=timezone.utc).timestamp()),
        "name": "Aygün Məmmədova",
        "crs": "rba-basics",
    }
    check = verify_offline_token(token, published_jwks)
    assert check.valid and check.claims == claims and check.issued_on == ISSUED_ON


def test_qr_content_stays_within_an_easily_scanned_qr_code(
    signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    code = new_code()
    token = _token(signing_key, code, name="ნინო ბერიძე")
    content = qr_content(f"https://nergi.example.org/verify/{code}", token)
    assert content.startswith(f"https://nergi.example.org/verify/{code}#t=")
    assert token_from_qr(content) == token
    # Version 16 at error correction M holds 450 bytes; a Georgian name still fits.
    assert len(content.encode("utf-8")) <= 450
    assert verify_qr(content, published_jwks).valid


@pytest.mark.parametrize("segment", [0, 1, 2])
@pytest.mark.parametrize("position", [0, 11, 30, -1])
def test_flipping_one_byte_breaks_the_token(
    signing_key: Ed25519PrivateKey,
    published_jwks: dict[str, Any],
    independent_rejects: Callable[[str, dict[str, Any]], bool],
    flip: Callable[..., str],
    segment: int,
    position: int,
) -> None:
    tampered = flip(_token(signing_key, new_code()), segment=segment, position=position)
    check = verify_offline_token(tampered, published_jwks)
    assert not check.valid and not check.claims
    assert independent_rejects(tampered, published_jwks)


def test_a_token_from_another_key_is_refused(
    signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any], other_key_jwks: dict[str, Any]
) -> None:
    token = _token(signing_key, new_code())
    assert verify_offline_token(token, other_key_jwks).reason == "signed by an unknown key"
    assert not verify_offline_token(_token(Ed25519PrivateKey.generate(), new_code()), published_jwks).valid


def test_a_genuine_token_behind_another_certificates_link_is_refused(
    signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    token = _token(signing_key, new_code())
    moved = qr_content(f"https://nergi.example.org/verify/{new_code()}", token)
    assert verify_qr(moved, published_jwks).reason == "the link and the token name different certificates"
    assert not verify_qr("https://nergi.example.org/verify/ABCD", published_jwks).valid


def test_tokens_and_credentials_cannot_stand_in_for_each_other(
    issuer: dict[str, str], signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    code = new_code()
    offline = _token(signing_key, code)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert verify_credential_jwt(offline, published_jwks, now=now, status_lookup=None).status == "invalid"
    credential = build_credential(
        code=code,
        verify_url=f"https://nergi.example.org/verify/{code}",
        issuer=issuer,
        learner_name="Aygün Məmmədova",
        email="aygun@example.org",
        salt="s",
        course={
            "slug": "rba",
            "title": "RBA",
            "description": "d",
            "criteria": "c",
            "url": "https://nergi.example.org/c",
        },
        principles=[],
        issued_at=now,
        status_list_url="https://nergi.example.org/credentials/status/1",
        status_index=1,
    )
    assert not verify_offline_token(sign_credential(credential, signing_key), published_jwks).valid


def test_a_token_dated_in_the_future_is_refused_when_the_time_is_known(
    signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    token = _token(signing_key, new_code())
    after, before = datetime(2025, 6, 2, tzinfo=timezone.utc), datetime(2025, 5, 31, tzinfo=timezone.utc)
    assert verify_offline_token(token, published_jwks, now=after).valid
    assert verify_offline_token(token, published_jwks, now=before).reason == "issued in the future"


def test_an_invalid_code_is_not_signed(signing_key: Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        _token(signing_key, "not-a-code")
