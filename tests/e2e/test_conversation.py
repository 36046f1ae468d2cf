"""Issue 14 at 360 px: a learner whose work came back with "changes requested" sees her mentor's
feedback at the top of the assignment's page and replies under it; the mentor reads the reply on
his review page and answers; she reads the answer. Each on a phone of their own.

The two people are made for this test (English interface, a mentor link outside any cohort);
the work and the review are written through the services, the conversation in the browser.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.assignments import services
from app.assignments.models import MentorLink
from app.auth.services import create_user
from app.content.models import Course, Item, ItemTranslation
from app.extensions import db
from tests.e2e.conftest import sign_in

ITEM = "/courses/format-tour/try-it-out"
PASSWORD = "seedling-demo-2025"
FEEDBACK = "A good start. Say **who** takes part in the hearings."
QUESTION = "Does *who* mean the village council, or the people who come?"
ANSWER = "Both: name the council members **and** the groups that come."


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


@pytest.fixture(scope="module")
def sent_back(live_app) -> int:
    """Mariam's work on try-it-out, reviewed by Davit with "changes requested": its id."""
    with live_app.test_request_context():
        learner = create_user("mariam.conversation@example.org", name="Mariam Kapanadze", password=PASSWORD)
        mentor = create_user("davit.conversation@example.org", name="Davit Mentor", password=PASSWORD)
        db.session.flush()
        db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id))
        item = db.session.scalar(select(Item).join(Course).where(Course.slug == "format-tour",
                                                                 Item.slug == "try-it-out"))
        submission = services.save_draft(learner, item, "## My lesson\n\nHearings in Marneuli.", None)
        revision = services.submit(learner, submission, "e2e-conversation-" + "x" * 16)
        db.session.commit()  # as the submit's request would; the review reads the work afresh
        db.session.refresh(submission)
        translation = db.session.scalar(select(ItemTranslation).where(ItemTranslation.item_id == item.id,
                                                                      ItemTranslation.lang == "en"))
        services.send_review(mentor, submission, revision_id=revision.id,
                             expected_version=submission.version, scores={"structure": 2, "participation": 0},
                             feedback=FEEDBACK, decision="request_changes",
                             options=services.options_for(translation))
        db.session.commit()
        return submission.id


def phone(browser, base_url):
    return browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url, locale="en-GB")


def test_learner_replies_to_feedback_and_mentor_answers(browser, base_url, sent_back):
    learner_phone, mentor_phone = phone(browser, base_url), phone(browser, base_url)
    try:
        learner, mentor = learner_phone.new_page(), mentor_phone.new_page()
        sign_in(learner, "mariam.conversation@example.org")
        learner.goto(ITEM)
        # The feedback is at the top, above the work form: decision, score, text, who and when.
        feedback = learner.locator("#feedback")
        assert feedback.locator("h2").inner_text() == "Your mentor's feedback"
        assert feedback.bounding_box()["y"] < learner.locator("#your-answer").bounding_box()["y"]
        text = feedback.inner_text()
        assert "Changes requested" in text and "Total: 2 of 8 points" in text and "Davit Mentor" in text
        assert feedback.locator("strong", has_text="who").count() == 1  # Markdown rendered
        fits(learner)

        # She follows the link to the conversation and asks her question.
        feedback.get_by_role("link", name="Reply or ask a question").click()
        assert learner.url.endswith("#thread")
        learner.get_by_label("Your message (Markdown)").fill(QUESTION)
        learner.get_by_role("button", name="Send message", exact=True).click()
        learner.wait_for_url(re.compile(r"/try-it-out(#thread)?$"))
        assert learner.get_by_role("status").inner_text() == "Your message is sent."
        thread = learner.locator("#thread")
        assert thread.locator("li.message em", has_text="who").count() == 1
        assert "Mariam Kapanadze" in thread.inner_text() and "1 message" in feedback.inner_text()
        fits(learner)

        # Davit is told (a notice naming the course and the assignment), reads it and answers.
        sign_in(mentor, "davit.conversation@example.org")
        mentor.goto("/notices")
        notice = mentor.get_by_role("link", name=re.compile("Mariam Kapanadze wrote about"))
        assert "Try it out: write a one-page lesson" in notice.inner_text()
        notice.click()
        mentor.wait_for_url(re.compile(rf"/review/{sent_back}(#thread)?$"))
        thread = mentor.locator("#thread")
        assert "Does who mean the village council" in thread.inner_text()
        mentor.get_by_label("Your message (Markdown)").fill(ANSWER)
        mentor.get_by_role("button", name="Send message", exact=True).click()
        mentor.wait_for_url(re.compile(rf"/review/{sent_back}(#thread)?$"))
        assert mentor.get_by_role("status").inner_text() == "Your message is sent."
        assert mentor.locator("#thread li.message").count() == 2
        fits(mentor)

        # Mariam reads the answer, under her question.
        learner.goto(ITEM)
        messages = learner.locator("#thread li.message")
        assert messages.count() == 2
        assert "Davit Mentor" in messages.nth(1).inner_text()
        assert messages.nth(1).locator("strong", has_text="and").count() == 1
        assert "2 messages" in learner.locator("#feedback").inner_text()
        fits(learner)
    finally:
        learner_phone.close()
        mentor_phone.close()
