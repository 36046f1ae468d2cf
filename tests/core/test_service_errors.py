"""Typed service errors: one table of HTTP statuses, an error page for those no view catches,
one commit helper for views, and links that services build from the routes."""
from __future__ import annotations

import pytest
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.assignments.files import FileTooLarge, UploadRejected
from app.assignments.services import DraftConflict, InvalidReview, ReviewConflict
from app.auth.models import User
from app.auth.services import (
    AccountError,
    DuplicateEmail,
    InvalidEmail,
    InvalidToken,
    OwnAccess,
    WeakPassword,
    WrongPassword,
)
from app.certificates.services import CertificateError, RevocationError
from app.cohorts.schedule import ScheduleError, ScheduleTooLarge
from app.cohorts.roster import RosterError
from app.cohorts.services import CohortError
from app.core.authz import AccessDenied
from app.core.errors import (
    STATUS,
    Conflict,
    EmptySubmission,
    InvalidInput,
    NotAllowed,
    NotFound,
    ServiceError,
    UploadTooLarge,
    status_of,
)
from app.core.links import external_url, url_path
from app.core.views import commit_or_conflict
from app.extensions import db
from app.learning.access import ItemLocked
from app.learning.services import NotALesson
from app.quizzes.services import AnswerTooLong, NoAttemptsLeft, StaleForm, TimeUp

# Every ServiceError class of the app, with the status a view (or the error page) answers.
STATUSES = [
    (ServiceError, 400),
    (InvalidInput, 400),
    (EmptySubmission, 400),
    (UploadTooLarge, 413),
    (NotAllowed, 403),
    (NotFound, 404),
    (Conflict, 409),
    # feature errors
    (AccessDenied, 403),
    (DraftConflict, 409),
    (ReviewConflict, 409),
    (InvalidReview, 400),
    (UploadRejected, 400),
    (FileTooLarge, 413),
    (AccountError, 400),
    (WeakPassword, 400),
    (WrongPassword, 400),
    (InvalidToken, 400),
    (DuplicateEmail, 400),
    (InvalidEmail, 400),
    (OwnAccess, 400),
    (CohortError, 400),
    (RosterError, 400),
    (RevocationError, 400),
    (CertificateError, 400),
    (NoAttemptsLeft, 409),
    (StaleForm, 409),
    (TimeUp, 409),
    (AnswerTooLong, 400),
    (NotALesson, 400),
    (ItemLocked, 403),
    (ScheduleError, 400),
    (ScheduleTooLarge, 413),
]


@pytest.mark.parametrize(("kind", "status"), STATUSES, ids=[kind.__name__ for kind, _status in STATUSES])
def test_each_service_error_maps_to_its_status(kind, status):
    assert status_of(kind("a message")) == status


def test_a_hidden_refusal_is_404():
    assert status_of(AccessDenied("submission.view", hide=True)) == 404
    assert status_of(AccessDenied("submission.view")) == 403


def test_every_service_error_of_the_app_is_in_the_table(app):
    """A new subclass needs a row above (and a look at STATUS): no class falls through unseen."""
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    known = {kind for kind, _status in STATUSES}
    found = {cls for cls in subclasses(ServiceError) if cls.__module__.startswith("app.")}
    assert found - known == set()
    assert set(STATUS) <= known


def test_the_message_is_translated_when_shown(app):
    error = InvalidInput(_l("Choose a mentor."))
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        from flask_babel import refresh
        refresh()
        assert str(error) == error.message != "Choose a mentor."
    assert ServiceError().message == ""


# -- the error page for a refusal no view caught -------------------------------------------------

def _app_with_refusals(make_app):
    built = make_app()

    def refuse(kind: str):
        db.session.add(User(email="kept-not@example.org", name="Not kept"))
        db.session.flush()
        raise {"input": InvalidInput(_l("Choose a mentor.")), "conflict": Conflict(_l("Saved.")),
               "large": UploadTooLarge(_l("Saved."))}[kind]

    built.add_url_rule("/test-refusal/<kind>", view_func=refuse, methods=["POST"])
    built.config["WTF_CSRF_ENABLED"] = False
    return built


@pytest.mark.parametrize(("kind", "status", "message"), [
    ("input", 400, "Choose a mentor."), ("conflict", 409, "Saved."), ("large", 413, "Saved.")])
def test_a_refusal_no_view_caught_is_an_error_page_with_its_status(make_app, kind, status, message):
    built = _app_with_refusals(make_app)
    response = built.test_client().post(f"/test-refusal/{kind}")
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    with built.app_context():  # nothing of the request's work was kept
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "kept-not@example.org")) == 0


def test_a_json_client_gets_json(make_app):
    built = _app_with_refusals(make_app)
    response = built.test_client().post("/test-refusal/conflict", headers={"Accept": "application/json"})
    assert response.status_code == 409 and set(response.get_json()) == {"error"}


# -- commit_or_conflict -------------------------------------------------------------------------

def _count(email: str) -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.email == email))


@pytest.mark.parametrize("failure", [StaleDataError("changed"), IntegrityError("insert", {}, Exception("unique")),
                                     StaleForm(), KeyError("also")])
def test_a_concurrent_change_rolls_back_and_is_a_conflict(app, failure):
    with app.test_request_context():
        with pytest.raises(Conflict) as raised, commit_or_conflict(KeyError):
            db.session.add(User(email="first@example.org"))
            db.session.flush()
            raise failure
        assert raised.value is failure or raised.value.__cause__ is failure
        assert _count("first@example.org") == 0


def test_other_errors_pass_through_uncommitted_and_success_commits(app):
    with app.test_request_context():
        with pytest.raises(InvalidInput), commit_or_conflict():
            db.session.add(User(email="second@example.org"))
            db.session.flush()
            raise InvalidInput("no")
        db.session.rollback()
        assert _count("second@example.org") == 0
        with commit_or_conflict():
            db.session.add(User(email="third@example.org"))
        db.session.remove()
        assert _count("third@example.org") == 1


# -- links --------------------------------------------------------------------------------------

def test_links_come_from_base_url_even_outside_a_request(app):
    app.config["BASE_URL"] = "https://nergi.example/programme/"
    with app.app_context():  # as in the worker: no request
        assert url_path("assignments.review", submission_id=7) == "/review/7"
        assert external_url("assignments.review", submission_id=7) == "https://nergi.example/programme/review/7"
        assert external_url("auth.accept_invitation", token="a-b_c") == \
            "https://nergi.example/programme/invitation/a-b_c"
    with app.test_request_context("/", headers={"Host": "evil.example"}):  # never the Host header
        assert external_url("assignments.queue") == "https://nergi.example/programme/review"


def test_each_link_a_service_builds_is_the_one_it_wrote_by_hand_before(app):
    """The e-mails' and credentials' links did not change when services began to build them
    from the routes (signed credentials carry the issuer, status list, course and verify URLs)."""
    from app.certificates import codes
    code = codes.format_code(codes.new_code())
    token = "Zx-9_ab"
    app.config["BASE_URL"] = "http://nergi.test/"
    with app.app_context():
        for endpoint, values, by_hand in [
                ("assignments.review", {"submission_id": 12}, "/review/12"),
                ("assignments.show_submission", {"submission_id": 12}, "/assignments/12"),
                ("assignments.queue", {}, "/review"),
                ("auth.reset_password", {"token": token}, f"/reset/{token}"),
                ("auth.accept_invitation", {"token": token}, f"/invitation/{token}"),
                ("learning.home", {}, "/"),
                ("cohorts.index", {}, "/cohorts"),
                ("learning.course", {"slug": "climate-basics"}, "/courses/climate-basics"),
                ("certificates.verify", {"code": code}, f"/verify/{code}"),
                ("certificates.show", {"code": code}, f"/certificates/{code}"),
                ("certificates.issuer", {}, "/issuer"),
                ("certificates.status_list", {}, "/certificates/status-list")]:
            assert url_path(endpoint, **values) == by_hand
            assert external_url(endpoint, **values) == "http://nergi.test" + by_hand
