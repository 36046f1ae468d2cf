"""Conditional GET for lessons (issue 18): the same page again is 304 with no body; anything the
page shows changing gives 200 and a new ETag; one person's ETag never fetches another's page."""
from __future__ import annotations

import pytest

from app.content.models import Course, ItemTranslation
from app.extensions import db


@pytest.fixture
def lesson(client, auth, factories):
    course = factories.make_course(items=("lesson", "lesson"))
    learner = factories.make_user()
    auth.login_as(learner)
    assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
    client.get(f"/courses/{course.slug}")  # the enrol message is shown (and gone)
    return course, learner, f"/courses/{course.slug}/item1"


def get(client, path, etag=None):
    return client.get(path, headers={"If-None-Match": etag} if etag else {})


def test_the_same_page_again_is_304_with_no_body(client, lesson):
    _course, _learner, path = lesson
    first = get(client, path)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    second = get(client, path, etag)
    assert second.status_code == 304
    assert second.data == b""
    assert second.headers["ETag"] == etag
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert get(client, path, '"something-else"').status_code == 200


def test_the_gzipped_page_has_the_same_etag(client, lesson):
    _course, _learner, path = lesson
    plain = get(client, path)
    zipped = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers.get("Content-Encoding") == "gzip"
    assert zipped.headers["ETag"] == plain.headers["ETag"]
    again = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304


def test_marking_the_lesson_done_changes_the_page(client, lesson):
    _course, _learner, path = lesson
    before = get(client, path)
    assert "Mark as done" in before.get_data(as_text=True)
    assert client.post(f"{path}/done").status_code == 302
    after = get(client, path, before.headers["ETag"])
    assert after.status_code == 200
    assert "Mark as done" not in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_another_language_changes_the_page(client, lesson):
    _course, _learner, path = lesson
    before = get(client, path)
    assert client.post("/language", data={"lang": "ka", "next": path}).status_code == 302
    after = get(client, path, before.headers["ETag"])
    assert after.status_code == 200
    assert '<html lang="ka">' in after.get_data(as_text=True)
    assert after.headers["ETag"] != before.headers["ETag"]


def test_a_new_course_version_changes_the_page(app, client, lesson):
    course, _learner, path = lesson
    before = get(client, path)
    with app.app_context():  # as a sync does: new HTML, new hashes
        translation = db.session.query(ItemTranslation).filter_by(item_id=course.items[0].id, lang="en").one()
        translation.html, translation.source_hash = "<p>Rewritten</p>", "new-hash"
        db.session.get(Course, course.id).source_hash = "new-course-hash"
        db.session.commit()
    after = get(client, path, before.headers["ETag"])
    assert after.status_code == 200
    assert "Rewritten" in after.get_data(as_text=True)


def test_another_persons_etag_gets_their_own_page(app, client, auth, factories, lesson):
    course, _learner, path = lesson
    first = get(client, path)
    other = factories.make_user(name="Other Learner")
    auth.logout()
    auth.login_as(other)
    assert client.post(f"/courses/{course.slug}/enrol").status_code == 302
    client.get(f"/courses/{course.slug}")
    theirs = get(client, path, first.headers["ETag"])
    assert theirs.status_code == 200
    assert theirs.headers["ETag"] != first.headers["ETag"]


def test_signed_out_the_etag_gets_the_sign_in_page(client, auth, lesson):
    _course, _learner, path = lesson
    etag = get(client, path).headers["ETag"]
    auth.logout()
    assert get(client, path, etag).status_code == 302


def test_no_etag_while_a_message_waits(client, lesson):
    _course, _learner, path = lesson
    etag = get(client, path).headers["ETag"]
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Saved.")]
    shown = get(client, path, etag)
    assert shown.status_code == 200
    assert "ETag" not in shown.headers
    assert "Saved." in shown.get_data(as_text=True)
    assert get(client, path, etag).status_code == 304  # the message was shown once; the page is as before
