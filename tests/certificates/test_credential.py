"""The OpenBadgeCredential and its VC-JWT: shape, independent verification, tampering, dates, status."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwt import JWTClaimsRegistry

from app.certificates.codes import new_code
from app.certificates.credential import (
    OB_CONTEXT,
    CredentialCheck,
    PRINCIPLES,
    VC_CONTEXT,
    build_credential,
    identity_hash,
    issuer_profile,
    sign_credential,
    status_list_lookup,
    verify_credential_jwt,
)
from app.certificates.jws import compact_json
from app.certificates.keys import key_thumbprint
from app.certificates.status import build_status_list_credential

ISSUED_AT = datetime(2025, 6, 1, 9, 30, tzinfo=timezone.utc)
LATER = ISSUED_AT + timedelta(days=400)
STATUS_LIST_URL = "https://nergi.example.org/credentials/status/1"
EMAIL = "Nino.Beridze@Example.org"
SALT = "b1946ac92492d2347c6235b4d2611184"


def _credential(issuer: dict[str, str], **overrides: Any) -> dict[str, Any]:
    code = new_code()
    arguments: dict[str, Any] = {
        "code": code,
        "verify_url": f"https://nergi.example.org/verify/{code}",
        "issuer": issuer,
        "learner_name": "ნინო ბერიძე",
        "email": EMAIL,
        "salt": SALT,
        "course": {
            "slug": "rba-basics",
            "title": "უფლებებზე დაფუძნებული მიდგომა",
            "description": "The human-rights-based approach and its five working principles.",
            "criteria": "Pass the three quizzes and have the final assignment approved by a mentor.",
            "url": "https://nergi.example.org/courses/rba-basics",
        },
        "principles": ["participation", "accountability", "participation"],
        "issued_at": ISSUED_AT,
        "status_list_url": STATUS_LIST_URL,
        "status_index": 4242,
    }
    arguments.update(overrides)
    return build_credential(**arguments)


def _not_revoked(entry: Any) -> bool:
    return False


def _check(
    token: str, published: dict[str, Any], *, now: datetime = LATER, lookup: Any = _not_revoked
) -> CredentialCheck:
    return verify_credential_jwt(token, published, now=now, status_lookup=lookup)


def test_credential_is_an_open_badge_on_vc_2(issuer: dict[str, str]) -> None:
    credential = _credential(issuer)
    assert credential["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"] == issuer["id"]
    assert credential["issuer"]["type"] == ["Profile"]
    assert credential["validFrom"] == "2025-06-01T09:30:00Z"
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"]["narrative"].startswith("Pass the three quizzes")
    assert credential["credentialStatus"] == {
        "id": f"{STATUS_LIST_URL}#4242",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "4242",
        "statusListCredential": STATUS_LIST_URL,
    }


def test_subject_is_a_salted_hash_of_the_email_never_the_address(issuer: dict[str, str]) -> None:
    credential = _credential(issuer)
    (email_identity,) = [
        identity
        for identity in credential["credentialSubject"]["identifier"]
        if identity["identityType"] == "emailAddress"
    ]
    expected = hashlib.sha256(("nino.beridze@example.org" + SALT).encode()).hexdigest()
    assert email_identity == {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": True,
        "identityHash": f"sha256${expected}",
        "salt": SALT,
    }
    assert identity_hash(" NINO.beridze@example.org ", SALT) == email_identity["identityHash"]
    text = json.dumps(credential, ensure_ascii=False).lower()
    assert EMAIL.lower() not in text and "beridze@" not in text


def test_alignments_name_the_2021_working_principles_once_each(issuer: dict[str, str]) -> None:
    alignments = _credential(issuer)["credentialSubject"]["achievement"]["alignment"]
    assert [a["targetCode"] for a in alignments] == ["participation", "accountability"]
    assert alignments[0]["targetName"] == (
        "Meaningful and inclusive participation and access to decision-making"
    )
    assert all(a["type"] == ["Alignment"] and a["targetUrl"].startswith("https://") for a in alignments)
    assert set(PRINCIPLES) == {
        "all-rights",
        "participation",
        "non-discrimination",
        "accountability",
        "transparency",
    }


def test_no_principles_means_no_alignment_and_unknown_ones_are_refused(issuer: dict[str, str]) -> None:
    assert "alignment" not in _credential(issuer, principles=[])["credentialSubject"]["achievement"]
    with pytest.raises(ValueError, match="unknown working principle"):
        _credential(issuer, principles=["panel"])
    with pytest.raises(ValueError, match="timezone"):
        _credential(issuer, issued_at=datetime(2025, 6, 1))


def test_issuer_profile_is_an_ob3_profile(issuer: dict[str, str]) -> None:
    profile = issuer_profile(**issuer)
    assert profile["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert profile["type"] == ["Profile"] and profile["id"] == issuer["id"]


def test_vc_jwt_verifies_with_an_independent_library(
    issuer: dict[str, str],
    signing_key: Ed25519PrivateKey,
    published_jwks: dict[str, Any],
    independent_verify: Callable[..., tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    credential = _credential(issuer)
    token = sign_credential(credential, signing_key)

    header, payload = independent_verify(token, published_jwks)
    assert header == {"alg": "EdDSA", "kid": key_thumbprint(signing_key), "typ": "vc+jwt"}
    assert payload["iss"] == issuer["id"]
    assert payload["jti"] == credential["id"]
    assert payload["nbf"] == payload["iat"] == int(ISSUED_AT.timestamp())
    registered = {"iss", "jti", "nbf", "iat"}
    assert {key: value for key, value in payload.items() if key not in registered} == credential
    JWTClaimsRegistry(iss={"essential": True, "value": issuer["id"]}).validate(payload)

    check = _check(token, published_jwks)
    assert check.is_valid, check.reason
    assert check.credential == payload


@pytest.mark.parametrize("segment", [0, 1, 2])
@pytest.mark.parametrize("position", [0, 17, 40, -1])
def test_flipping_one_byte_anywhere_breaks_the_vc_jwt(
    issuer: dict[str, str],
    signing_key: Ed25519PrivateKey,
    published_jwks: dict[str, Any],
    independent_rejects: Callable[[str, dict[str, Any]], bool],
    flip: Callable[..., str],
    segment: int,
    position: int,
) -> None:
    token = sign_credential(_credential(issuer), signing_key)
    tampered = flip(token, segment=segment, position=position)
    assert tampered != token
    check = _check(tampered, published_jwks)
    assert check.status == "invalid" and check.credential is None
    assert independent_rejects(tampered, published_jwks)


def test_a_changed_claim_re_encoded_does_not_verify(
    issuer: dict[str, str], signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    token = sign_credential(_credential(issuer), signing_key)
    header, payload, signature = token.split(".")
    claims = json.loads(pyjwt.utils.base64url_decode(payload))
    claims["credentialSubject"]["identifier"][1]["identityHash"] = "Someone Else"
    forged = ".".join([header, pyjwt.utils.base64url_encode(compact_json(claims)).decode(), signature])
    assert _check(forged, published_jwks).status == "invalid"


def test_other_keys_and_unsigned_tokens_are_refused(
    issuer: dict[str, str],
    signing_key: Ed25519PrivateKey,
    published_jwks: dict[str, Any],
    other_key_jwks: dict[str, Any],
) -> None:
    credential = _credential(issuer)
    token = sign_credential(credential, signing_key)
    assert _check(token, other_key_jwks).reason == (
        "signed by an unknown key"
    )
    impostor = Ed25519PrivateKey.generate()
    forged = sign_credential(credential, impostor)
    assert _check(forged, published_jwks).status == "invalid"

    unsigned = pyjwt.encode(
        credential,
        None,  # type: ignore[arg-type]
        algorithm="none",
        headers={"kid": key_thumbprint(signing_key)},
    )
    assert _check(unsigned, published_jwks).status == "invalid"
    for garbage in ("", "abc", "a.b.c", "a.b.c.d"):
        assert _check(garbage, published_jwks).status == "invalid"


def test_not_yet_valid_and_expired(
    issuer: dict[str, str], signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    token = sign_credential(_credential(issuer, valid_until=ISSUED_AT + timedelta(days=30)), signing_key)
    early = _check(token, published_jwks, now=ISSUED_AT - timedelta(seconds=1))
    assert (early.status, early.reason) == ("invalid", "not yet valid")
    during = _check(token, published_jwks, now=ISSUED_AT + timedelta(days=29))
    assert during.is_valid
    late = _check(token, published_jwks, now=ISSUED_AT + timedelta(days=30))
    assert (late.status, late.reason) == ("invalid", "expired")
    # A generic JWT library reads the same dates from nbf and exp.
    with pytest.raises(pyjwt.ExpiredSignatureError):
        pyjwt.decode(token, signing_key.public_key(), algorithms=["EdDSA"])


def test_revocation_through_the_signed_status_list(
    issuer: dict[str, str], signing_key: Ed25519PrivateKey, published_jwks: dict[str, Any]
) -> None:
    token = sign_credential(_credential(issuer, status_index=4242), signing_key)

    def published_list(revoked: list[int], key: Ed25519PrivateKey = signing_key) -> str:
        status_list = build_status_list_credential(
            list_url=STATUS_LIST_URL, issuer_id=issuer["id"], revoked=revoked, valid_from=ISSUED_AT
        )
        return sign_credential(status_list, key)

    def check(served: str | None) -> str:
        def fetch(url: str) -> str | None:
            return served if url == STATUS_LIST_URL else None

        lookup = status_list_lookup(fetch, published_jwks, now=LATER)
        return _check(token, published_jwks, lookup=lookup).status

    assert check(published_list([1, 4241, 4243])) == "valid"
    assert check(published_list([4242])) == "revoked"
    assert check(None) == "status_unknown"
    # A list that does not verify never counts as "not revoked".
    assert check(published_list([], key=Ed25519PrivateKey.generate())) == "status_unknown"
    assert _check(token, published_jwks, lookup=None).status == "status_unknown"
