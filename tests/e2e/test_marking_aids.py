"""Marking aids in a real browser at 360 px: a comment from the bank goes into the feedback at
the cursor (and, without JavaScript, at the end, keeping the levels chosen); attachments are
shown in the page; the queue's filters fit a phone. Accounts of their own, so the other
browser tests' queues are left alone."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.auth.models import User
from app.cohorts.demo import create_demo_cohort
from app.extensions import db
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import sign_in

LEARNER, MENTOR = "aids.learner@example.org", "aids.mentor@example.org"
PDF = b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"


def png(width: int, height: int) -> bytes:
    """A real grey picture, so that the browser decodes it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def work(live_app):
    from app.assignments import services
    from app.assignments.models import MentorLink, Submission
    from app.auth.services import create_user
    from app.cohorts.models import Membership
    from app.content.models import Course, Item
    from app.learning.queries import translation_for

    with live_app.test_request_context(), live_app.app_context():
        cohort = create_demo_cohort()
        learner = User.by_email(LEARNER)
        if learner is None:
            learner = create_user(LEARNER, name="Nana Aids", password="seedling-demo-2025")
            mentor = create_user(MENTOR, name="Mamuka Aids", password="seedling-demo-2025")
            db.session.flush()
            db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id, cohort_id=cohort.id))
            db.session.add_all([Membership(cohort_id=cohort.id, user_id=learner.id, role="learner"),
                                Membership(cohort_id=cohort.id, user_id=mentor.id, role="mentor")])
        submission = db.session.scalar(select(Submission).where(Submission.user_id == learner.id))
        if submission is None:
            course = db.session.scalar(select(Course).where(Course.slug == "format-tour"))
            item = db.session.scalar(select(Item).where(Item.course_id == course.id, Item.slug == "try-it-out"))
            submission = services.save_draft(learner, item, "My answer, with a picture and a PDF.", None)
            options = services.options_for(translation_for(item, "en"))
            options.types = list({*options.types, "png", "pdf"})
            options.max_count = max(options.max_count, 2)
            options.max_mb = max(options.max_mb, 1)
            for name, data in (("wide picture.png", png(1600, 300)), ("plan.pdf", PDF)):
                services.attach_file(learner, submission, FileStorage(io.BytesIO(data), filename=name), options)
            services.submit(learner, submission, "aids-form-token-" + "x" * 12)
        db.session.commit()
        return submission.id


def test_insert_a_comment_at_the_cursor(page, work):
    sign_in(page, MENTOR)
    page.goto(f"/review/{work}")
    page.fill("#new-comment", "Name the duty-bearers.")
    page.get_by_role("button", name="Save comment").click()
    assert page.locator(".comment-text").first.inner_text() == "Name the duty-bearers."
    feedback = page.locator("#feedback")
    feedback.fill("Good start. Next time, please.")
    feedback.evaluate("area => area.setSelectionRange(12, 12)")  # after "Good start. "
    url = page.url
    page.get_by_role("button", name="Insert into feedback").first.click()
    assert feedback.input_value() == "Good start. Name the duty-bearers.Next time, please."
    assert page.url == url and "added at the end" not in page.locator("main").inner_text()  # no round trip
    assert page.evaluate("document.activeElement.id") == "feedback"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert serious_violations(page) == []


def test_insert_without_javascript_keeps_the_review(browser, base_url, work):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url, locale="en-GB",
                                  java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, MENTOR)
        page.goto(f"/review/{work}")
        if page.locator(".comment-text").count() == 0:
            page.fill("#new-comment", "Name the duty-bearers.")
            page.get_by_role("button", name="Save comment").click()
        page.locator("fieldset.criterion").first.locator("label.level").last.click()
        chosen = page.locator("fieldset.criterion").first.locator("input:checked").get_attribute("id")
        page.fill("#feedback", "Typed before.")
        page.get_by_role("button", name="Insert into feedback").first.click()
        assert page.locator("#feedback").input_value() == "Typed before.\n\nName the duty-bearers."
        assert page.locator(f"#{chosen}").is_checked()
        assert "The comment is added at the end of your feedback." in page.locator(".flash").inner_text()
    finally:
        context.close()


def test_attachments_are_shown_in_the_page(page, work):
    sign_in(page, MENTOR)
    page.goto(f"/review/{work}")
    picture = page.locator(".attachment-view img")
    picture.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert picture.evaluate("img => img.naturalWidth") == 1600
    assert picture.bounding_box()["width"] <= 360  # max-width: 100%
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    frame = page.locator(".attachment-view iframe")
    response = page.request.get(frame.get_attribute("src"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    download = page.request.get(f"/assignments/{work}/files.zip")
    assert download.status == 200 and download.body()[:2] == b"PK"


def test_queue_filters_on_a_phone(page, work):
    sign_in(page, MENTOR)
    page.goto("/review")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.select_option("#state", "waiting")
    page.get_by_role("button", name="Show", exact=True).click()
    assert "state=waiting" in page.url
    assert page.get_by_role("link", name="Nana Aids").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert serious_violations(page) == []
