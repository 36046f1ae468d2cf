"""The published status list is valid for a short time only, so a copy a verifier kept stops
saying "not revoked" soon after a revocation (issue 11, finding 8)."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from app.certificates import services
from app.certificates.credential import status_list_lookup, verify_credential_jwt
from app.certificates.models import Certificate
from app.certificates.status import STATUS_LIST_TTL, STATUS_LIST_VALIDITY
from app.certificates.timestamps import parse_instant
from app.extensions import db
from tests.certificates.conftest import _b64decode
from tests.certificates.test_issuing import earned  # noqa: F401  (the fixture)


def payload_of(token: str) -> dict:
    return json.loads(_b64decode(token.split(".")[1]))


def test_the_published_list_says_how_long_it_may_be_kept(earned, make_app):  # noqa: F811
    response = make_app().test_client().get("/certificates/status-list")
    payload = payload_of(response.get_data(as_text=True))
    valid_from, valid_until = parse_instant(payload["validFrom"]), parse_instant(payload["validUntil"])
    assert valid_until - valid_from == STATUS_LIST_VALIDITY == timedelta(minutes=10)
    assert payload["exp"] - payload["nbf"] == 600
    assert payload["credentialSubject"]["ttl"] == 300_000  # milliseconds, per the spec
    assert response.headers["Cache-Control"] == "public, max-age=300"
    assert STATUS_LIST_TTL < STATUS_LIST_VALIDITY


def test_a_kept_list_stops_vouching_for_a_revoked_certificate(earned, make_app, app, runner):  # noqa: F811
    _user, _course, code = earned
    public = make_app().test_client()
    kept = public.get("/certificates/status-list").get_data(as_text=True)
    fetched_at = parse_instant(payload_of(kept)["validFrom"])
    assert runner.invoke(args=["certificates", "revoke", code]).exit_code == 0
    fresh = public.get("/certificates/status-list").get_data(as_text=True)
    with app.app_context():
        token = db.session.scalar(select(Certificate.credential_jwt))
        published = services.public_jwks()

    def status(served: str, minutes_later: float) -> str:
        # Minutes after that copy was published (a list is not valid before its validFrom: the
        # fresh one may be a second or more younger than the kept one on a busy machine).
        now = parse_instant(payload_of(served)["validFrom"]) + timedelta(minutes=minutes_later)
        lookup = status_list_lookup(lambda url: served, published, now=now)
        return verify_credential_jwt(token, published, now=now, status_lookup=lookup).status

    assert parse_instant(payload_of(kept)["validFrom"]) == fetched_at
    assert status(fresh, 0) == "revoked"
    # A verifier that kept the list from before the revocation is told "valid" only while the
    # copy is in date (documented in docs/certificates.md), and "status unknown" after.
    assert status(kept, 4) == "valid"
    assert status(kept, 10) == "status_unknown"
    assert status(kept, 60 * 24) == "status_unknown"
