"""A learner hands in an assignment with a PDF on her phone; her mentor asks for changes, then
approves the revised version.

Aygün (learner2, Azerbaijani interface) and her mentor Giorgi (mentor1, English) each use their
own browser context, as on two devices. The assignment is format-tour's `try-it-out` (rubric:
structure 0/2/4, participation 0/2/4; 4 points needed to approve; PDF allowed).
"""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale, gettext

from tests.e2e.conftest import sign_in

ITEM = "/courses/format-tour/try-it-out"
PDF = (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages "
       b"/Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
FIRST = ("## Participation in Marneuli\n\nThe Sakrebulo holds a **public hearing** before the budget.\n\n"
         "- petitions\n- the Council of Civil Advisors\n")
SECOND = FIRST + ("\n| Who | How | Language |\n|---|---|---|\n| Older people | home visits | Azerbaijani |\n\n"
                  "!!! tip\n    Ask in the language people speak at home.\n")
FEEDBACK = "Good start. Add a table and say **in which language** people take part."
APPROVAL = "Clear and complete: the table answers my question."


def t(app, lang: str, message: str, **values) -> str:
    """The interface text as the app shows it in lang (the catalogues are still being translated)."""
    with app.test_request_context(), force_locale(lang):
        return gettext(message, **values)


def fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def phone(browser, base_url):
    return browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url, locale="en-GB")


@pytest.fixture
def two_phones(browser, base_url):
    learner, mentor = phone(browser, base_url), phone(browser, base_url)
    yield learner.new_page(), mentor.new_page()
    learner.close()
    mentor.close()


def button(page, app, lang, text):
    found = page.get_by_role("button", name=t(app, lang, text), exact=True)
    assert found.get_attribute("type") == "submit"
    return found


def total_points(review) -> tuple[int, int]:
    """The "Total: x of y points" line under the scores, in whichever word order the language has."""
    numbers = sorted(int(n) for n in re.findall(r"\d+", review.locator("ul.scores + p").inner_text()))
    assert len(numbers) == 2
    return numbers[0], numbers[1]


def status_of(page) -> str:
    return page.locator("p.state strong").inner_text()


def submit_for_review(page, app, lang, body: str, *, attachment=None) -> None:
    """Write the answer, preview it, then submit through the confirmation page."""
    page.locator("textarea[name=body]").fill(body)
    if attachment is not None:
        page.locator("input[type=file][name=files]").set_input_files(attachment)
    button(page, app, lang, "Preview").click()
    preview = page.locator("section.preview")
    assert preview.locator("h2").inner_text() == "Participation in Marneuli"  # Markdown rendered
    assert preview.locator("strong").first.inner_text() == "public hearing"
    assert page.locator("textarea[name=body]").input_value() == body  # the text is kept
    fits(page)

    button(page, app, lang, "Submit for review…").click()
    assert page.locator("h1").inner_text() == t(app, lang, "Submit your work?")
    assert page.locator("section.card .content h2").inner_text() == "Participation in Marneuli"
    if attachment is not None:
        assert page.locator("ul.files").inner_text() == attachment.name
    fits(page)
    button(page, app, lang, "Yes, submit").click()
    page.wait_for_url(f"**{ITEM}")
    assert page.get_by_role("status").inner_text() == t(
        app, lang, "Your work is submitted. Your mentor will be told.")
    assert status_of(page) == t(app, lang, "Submitted, waiting for review")
    assert page.locator("textarea[name=body]").count() == 0  # frozen until the mentor answers
    fits(page)


def open_review(page, learner_name: str) -> None:
    page.goto("/review")
    page.get_by_role("link", name=learner_name, exact=True).click()
    page.wait_for_url(re.compile(r"/review/\d+$"))
    assert learner_name in page.locator("main").inner_text()


LEVELS = {0: "Missing", 2: "Partial", 4: "Strong"}


def review(page, *, scores: dict, feedback: str, decision: str) -> None:
    for criterion, points in scores.items():
        # One radio per rubric level, named after the criterion, labelled "<points> · <level>".
        level = page.locator(f"fieldset.criterion:has(input[name='score-{criterion}'])").get_by_role(
            "radio", name=f"{points} · {LEVELS[points]}")
        assert level.get_attribute("name") == f"score-{criterion}"
        level.check()
    page.locator("textarea[name=feedback]").fill(feedback)
    found = page.get_by_role("button", name=decision, exact=True)
    assert found.get_attribute("name") == "decision"
    found.click()
    page.wait_for_url("**/review")
    assert page.get_by_role("status").inner_text() == "Your review is sent."
    assert page.get_by_text("Nothing is waiting. Well done!").is_visible()


def test_assignment_with_a_pdf_is_revised_and_approved(two_phones, live_app, tmp_path):
    app = live_app
    learner, mentor = two_phones
    lang = "az"
    pdf = tmp_path / "participation-plan.pdf"
    pdf.write_bytes(PDF)

    # Aygün hands in her answer with a PDF.
    sign_in(learner, "learner2@example.org")
    assert learner.locator("html").get_attribute("lang") == lang
    learner.goto(ITEM)
    assert learner.locator("h1").inner_text() == "Try it out: write a one-page lesson"
    assert learner.locator("p.state").count() == 0  # nothing written yet
    fits(learner)
    submit_for_review(learner, app, lang, FIRST, attachment=pdf)
    version_1 = learner.locator("#revision-1")
    assert version_1.locator("h2").inner_text() == "Participation in Marneuli"
    download = version_1.get_by_role("link", name=pdf.name, exact=True)
    stored = learner.context.request.get(download.get_attribute("href"))
    assert stored.ok and stored.body() == PDF

    # Giorgi, her mentor, asks for changes with scores and feedback.
    sign_in(mentor, "mentor1@example.org")
    open_review(mentor, "Aygün Məmmədova")
    assert mentor.locator("#revision-1 h2").inner_text() == "Participation in Marneuli"
    attachment = mentor.locator("#revision-1").get_by_role("link", name=pdf.name, exact=True)
    assert mentor.context.request.get(attachment.get_attribute("href")).body() == PDF
    fits(mentor)
    review(mentor, scores={"structure": 2, "participation": 0}, feedback=FEEDBACK, decision="Ask for changes")

    # Aygün sees the feedback and the scores, revises and submits again.
    learner.goto(ITEM)
    assert status_of(learner) == t(app, lang, "Changes requested")
    feedback = learner.locator("#revision-1 .review")
    assert "Good start. Add a table and say in which language people take part." in feedback.inner_text()
    assert feedback.locator("strong", has_text="in which language").count() == 1  # Markdown rendered
    assert "Giorgi Lomidze" in feedback.inner_text()
    assert total_points(feedback) == (2, 8)
    scores = feedback.locator("ul.scores li").all_inner_texts()
    assert scores == ["Uses the format well: 2", "Meaningful and inclusive participation: 0"]
    assert learner.locator("textarea[name=body]").input_value() == FIRST  # revise from what was sent
    fits(learner)
    submit_for_review(learner, app, lang, SECOND)

    # Giorgi sees version 2 with its changes, and approves it.
    open_review(mentor, "Aygün Məmmədova")
    assert mentor.locator("#revision-2").count() == 1
    mentor.locator("#revision-2 details > summary").click()  # "Changes since version 1"
    changes = mentor.locator("#revision-2 pre.diff .added")
    assert changes.first.is_visible()
    assert any("Older people" in line for line in changes.all_inner_texts())
    assert mentor.locator("#revision-2 pre.diff .removed").count() == 0
    assert mentor.locator("#revision-2 table").count() == 1
    fits(mentor)
    review(mentor, scores={"structure": 4, "participation": 4}, feedback=APPROVAL, decision="Approve")

    # Aygün sees "Approved", and the course counts the assignment done.
    learner.goto(ITEM)
    assert status_of(learner) == t(app, lang, "Approved")
    approval = learner.locator("#revision-2 .review.approve")
    assert APPROVAL in approval.inner_text()
    assert t(app, lang, "Approved") in approval.inner_text()
    assert total_points(approval) == (8, 8)
    assert learner.locator("textarea[name=body]").count() == 0
    assert learner.locator("#revision-1 .review.request_changes").count() == 1  # the history stays
    fits(learner)
    learner.goto("/courses/format-tour")
    row = learner.locator("ol.outline > li.assignment")
    assert "done" in row.get_attribute("class")
    assert t(app, lang, "done") in row.inner_text()
