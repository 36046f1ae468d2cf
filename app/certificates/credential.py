"""The certificate as an Open Badges 3.0 OpenBadgeCredential, secured as a VC-JWT.

Format (see docs/certificates.md): Open Badges 3.0's JSON Web Token proof for VC 2.0,
which is the "secured" form of W3C VC-JOSE-COSE: the JWT payload *is* the credential,
with the registered claims ``iss`` (issuer id), ``jti`` (credential id), ``nbf`` and
``iat`` (validFrom) and ``exp`` (validUntil, when set) beside it, so generic JWT
libraries check the dates too. No ``vc`` wrapper claim: that was the VC 1.1 convention.
Header: ``alg`` EdDSA, ``kid`` the RFC 7638 thumbprint of the key, ``typ`` ``vc+jwt``.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from app.certificates.jws import TokenError, compact_json, sign_compact, verify_compact
from app.certificates.status import StatusListError, is_revoked, status_entry
from app.certificates.timestamps import format_instant, numeric_date, parse_instant

if TYPE_CHECKING:  # imported where used: a web worker that signs nothing never loads cryptography
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
JWT_TYPE = "vc+jwt"

HRBA_FRAMEWORK = "EU human-rights-based approach toolbox (2021)"
HRBA_FRAMEWORK_URL = "https://capacity4dev.europa.eu/library/human-rights-based-approach-hrba-toolbox_en"

#: The five working principles of the EU rights-based approach, by id, with their 2021 names.
PRINCIPLES: dict[str, str] = {
    "all-rights": "Applying all human rights for all",
    "participation": "Meaningful and inclusive participation and access to decision-making",
    "non-discrimination": "Non-discrimination and equality",
    "accountability": "Accountability and rule of law for all",
    "transparency": "Transparency and access to information supported by disaggregated data",
}

CheckStatus = Literal["valid", "invalid", "revoked", "status_unknown"]
#: Given a credential's ``credentialStatus``: True if revoked, False if not, None if unknown.
StatusLookup = Callable[[Mapping[str, Any]], "bool | None"]


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome of checking a VC-JWT.

    ``status`` is "valid", "invalid" (``reason`` says why), "revoked", or
    "status_unknown" (signature and dates hold but revocation could not be checked).
    ``credential`` is the payload once the signature verified, else None.
    """

    status: CheckStatus
    reason: str = ""
    credential: dict[str, Any] | None = None

    @property
    def is_valid(self) -> bool:
        """True only when signature, dates and status all hold."""
        return self.status == "valid"


def identity_hash(email: str, salt: str) -> str:
    """Return the Open Badges IdentityHash ``sha256$<hex>`` of an e-mail address and salt.

    The address is trimmed and lower-cased first, so a verifier who knows it in any
    capitalisation can recompute the hash.
    """
    normalised = email.strip().lower()
    return "sha256$" + hashlib.sha256((normalised + salt).encode("utf-8")).hexdigest()


def alignment(principle: str) -> dict[str, Any]:
    """Return the OB 3.0 Alignment of an achievement to one working principle.

    Raises ``ValueError`` for an id not in :data:`PRINCIPLES`.
    """
    if principle not in PRINCIPLES:
        raise ValueError(f"unknown working principle {principle!r}; known: {', '.join(PRINCIPLES)}")
    return {
        "type": ["Alignment"],
        "targetName": PRINCIPLES[principle],
        "targetUrl": HRBA_FRAMEWORK_URL,
        "targetCode": principle,
        "targetFramework": HRBA_FRAMEWORK,
    }


def issuer_profile(*, id: str, name: str, url: str, email: str | None = None) -> dict[str, Any]:
    """Return the issuer's OB 3.0 Profile document, to serve at its ``id`` URL."""
    profile: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": id,
        "type": ["Profile"],
        "name": name,
        "url": url,
    }
    if email:
        profile["email"] = email
    return profile


def build_credential(
    *,
    code: str,
    verify_url: str,
    issuer: Mapping[str, str],
    learner_name: str,
    email: str,
    salt: str,
    course: Mapping[str, str],
    principles: Sequence[str],
    issued_at: datetime,
    status_list_url: str,
    status_index: int,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """Return the unsigned OpenBadgeCredential for one issued certificate.

    ``issuer`` has ``id`` (the URL of its profile), ``name`` and ``url``; ``course`` has
    ``slug``, ``title``, ``description``, ``criteria`` (a narrative) and ``url``.
    ``verify_url`` (the public verification page, without fragment) is the credential's
    id. The subject is identified by the salted hash of ``email`` (use a fresh random
    salt per credential) and by ``learner_name`` in clear. ``principles`` are ids from
    :data:`PRINCIPLES`; each becomes an alignment. ``issued_at`` must be timezone-aware.
    Raises ``ValueError`` for an unknown principle, a naive time or a bad status index.
    """
    achievement: dict[str, Any] = {
        "id": course["url"],
        "type": ["Achievement"],
        "achievementType": "Course",
        "humanCode": course["slug"],
        "name": course["title"],
        "description": course["description"],
        "criteria": {"narrative": course["criteria"]},
    }
    alignments = [alignment(principle) for principle in dict.fromkeys(principles)]
    if alignments:
        achievement["alignment"] = alignments
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": verify_url,
        "type": list(CREDENTIAL_TYPES),
        "issuer": {
            "id": issuer["id"],
            "type": ["Profile"],
            "name": issuer["name"],
            "url": issuer["url"],
        },
        "name": course["title"],
        "validFrom": format_instant(issued_at),
        "awardedDate": format_instant(issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": identity_hash(email, salt),
                    "salt": salt,
                },
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": learner_name,
                },
            ],
            "achievement": achievement,
        },
        "credentialStatus": status_entry(list_url=status_list_url, index=status_index),
    }
    if valid_until is not None:
        credential["validUntil"] = format_instant(valid_until)
    return credential


def _issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def jwt_claims(credential: Mapping[str, Any]) -> dict[str, Any]:
    """Return the JWT registered claims that mirror ``credential``'s own properties."""
    claims: dict[str, Any] = {"iss": _issuer_id(credential)}
    if "id" in credential:
        claims["jti"] = credential["id"]
    subject = credential.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        claims["sub"] = subject["id"]
    valid_from = numeric_date(parse_instant(credential["validFrom"]))
    claims["nbf"] = valid_from
    claims["iat"] = valid_from
    if "validUntil" in credential:
        claims["exp"] = numeric_date(parse_instant(credential["validUntil"]))
    return claims


def sign_credential(credential: Mapping[str, Any], key: Ed25519PrivateKey) -> str:
    """Return ``credential`` secured as a compact VC-JWT signed with ``key`` (EdDSA).

    Raises ``KeyError`` or ``ValueError`` when the credential lacks a valid ``validFrom``.
    """
    payload = {**credential, **jwt_claims(credential)}
    return sign_compact(compact_json(payload), key, typ=JWT_TYPE)


def _invalid(reason: str, credential: dict[str, Any] | None = None) -> CredentialCheck:
    return CredentialCheck(status="invalid", reason=reason, credential=credential)


def _check_claims(payload: dict[str, Any], now: datetime) -> str:
    """Return why ``payload`` is not a currently valid credential, or "" if it is."""
    context = payload.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        return "not a VC 2.0 credential"
    types = payload.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        return "not a verifiable credential"
    try:
        expected = jwt_claims(payload)
        valid_from = parse_instant(payload["validFrom"])
        valid_until = parse_instant(payload["validUntil"]) if "validUntil" in payload else None
    except (KeyError, TypeError, ValueError):
        return "missing or malformed dates"
    if expected["iss"] is None:
        return "no issuer"
    for claim, value in expected.items():
        if payload.get(claim) != value:
            return f"claim {claim} does not match the credential"
    if now < valid_from:
        return "not yet valid"
    if valid_until is not None and now >= valid_until:
        return "expired"
    return ""


def verify_credential_jwt(
    token: str,
    jwks: Mapping[str, Any],
    *,
    now: datetime,
    status_lookup: StatusLookup | None,
) -> CredentialCheck:
    """Check a VC-JWT: signature against ``jwks``, type, claims, dates at ``now``, and status.

    ``status_lookup`` answers for the credential's ``credentialStatus`` (see
    :func:`status_list_lookup`); pass None to skip that step, which makes a credential
    carrying a status "status_unknown". Never raises for a bad token: the reason is
    in the result.
    """
    try:
        header, payload_bytes = verify_compact(token, jwks)
    except TokenError as error:
        return _invalid(str(error))
    if header.get("typ") != JWT_TYPE:
        return _invalid(f"token type is not {JWT_TYPE}")
    try:
        payload = json.loads(payload_bytes)
    except ValueError:
        return _invalid("payload is not JSON")
    if not isinstance(payload, dict):
        return _invalid("payload is not a JSON object")
    problem = _check_claims(payload, now)
    if problem:
        return _invalid(problem, payload)

    entry = payload.get("credentialStatus")
    if entry is None:
        return CredentialCheck(status="valid", credential=payload)
    if not isinstance(entry, Mapping) or status_lookup is None:
        return CredentialCheck(status="status_unknown", reason="status not checked", credential=payload)
    try:
        revoked = status_lookup(entry)
    except StatusListError as error:
        return CredentialCheck(status="status_unknown", reason=str(error), credential=payload)
    if revoked is None:
        return CredentialCheck(status="status_unknown", reason="status unavailable", credential=payload)
    if revoked:
        return CredentialCheck(status="revoked", reason="revoked by the issuer", credential=payload)
    return CredentialCheck(status="valid", credential=payload)


def status_list_lookup(
    fetch: Callable[[str], str | None],
    jwks: Mapping[str, Any],
    *,
    now: datetime,
) -> StatusLookup:
    """Return a status lookup that checks a Bitstring Status List fetched by ``fetch``.

    ``fetch(url)`` returns the status list VC-JWT published at ``url``, or None when it
    cannot be had (the credential is then "status_unknown"). The list must verify with
    the same ``jwks`` as the credential; a list that does not verify counts as unknown
    status, never as "not revoked".
    """

    def lookup(entry: Mapping[str, Any]) -> bool | None:
        list_url = entry.get("statusListCredential")
        if not isinstance(list_url, str):
            raise StatusListError("credentialStatus names no status list")
        token = fetch(list_url)
        if token is None:
            return None
        check = verify_credential_jwt(token, jwks, now=now, status_lookup=None)
        if check.credential is None or check.status != "valid":
            raise StatusListError(f"status list does not verify: {check.reason}")
        return is_revoked(entry, check.credential)

    return lookup
