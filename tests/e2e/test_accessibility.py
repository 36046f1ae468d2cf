"""axe-core on every page type of the browser suite, for every role, at 360 and 1280 px: no
serious or critical violation. Keyboard-only runs: sign-in, a quiz, a review."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.assignments.models import Submission
from app.auth.models import User
from app.certificates.models import Certificate
from app.cohorts.demo import create_demo_cohort
from app.extensions import db
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import sign_in

WIDTHS = (360, 1280)


LEARNER, MENTOR = "axe.learner@example.org", "axe.mentor@example.org"


@pytest.fixture(scope="module")
def world(live_app):
    """Ids the pages need: the demo cohort, a learner with a certificate and submitted work, and
    her mentor. They are accounts of their own, so the other browser tests' demo learners and
    mentors (their attempts, their queues) are left as those tests expect them."""
    from app.assignments import services as assignment_services
    from app.assignments.models import MentorLink
    from app.auth.services import create_user
    from app.certificates.services import issue_certificate
    from app.cohorts.models import Membership
    from app.content.models import Course, Item

    with live_app.app_context():
        cohort = create_demo_cohort()
        learner, mentor = User.by_email(LEARNER), User.by_email(MENTOR)
        if learner is None:
            learner = create_user(LEARNER, name="Անի Սարգսյան", password="seedling-demo-2025", locale="hy")
            mentor = create_user(MENTOR, name="Davit Kapanadze", password="seedling-demo-2025")
            db.session.flush()
            # Mentors review only inside a shared cohort: both are members, the link names it.
            db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id, cohort_id=cohort.id))
            db.session.add(Membership(cohort_id=cohort.id, user_id=learner.id, role="learner"))
            db.session.add(Membership(cohort_id=cohort.id, user_id=mentor.id, role="mentor"))
        course = db.session.scalar(select(Course).where(Course.slug == "format-tour"))
        certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == learner.id))
        if certificate is None:
            certificate = issue_certificate(learner, course)
        submission = db.session.scalar(select(Submission).where(Submission.user_id == learner.id))
        if submission is None:
            item = db.session.scalar(select(Item).where(Item.course_id == course.id, Item.slug == "try-it-out"))
            submission = assignment_services.save_draft(learner, item, "An answer for the checks.", None)
            assignment_services.submit(learner, submission, "axe-form-token-" + "x" * 12)
        db.session.commit()
        return {"cohort": cohort.id, "learner": learner.id, "code": certificate.code,
                "submission": submission.id}


def pages_for(role: str, world: dict) -> list[str]:
    cohort = world["cohort"]
    return {
        "anonymous": ["/login", "/forgot", "/verify", f"/verify/{world['code']}"],
        "learner": ["/", "/courses", "/courses/format-tour", "/courses/format-tour/welcome",
                    "/courses/format-tour/check-yourself", "/courses/format-tour/try-it-out",
                    "/certificates", f"/certificates/{world['code']}", "/notices", "/profile"],
        "mentor": ["/", "/review", f"/review/{world['submission']}", "/notices"],
        "trainer": ["/", "/cohorts", f"/cohorts/{cohort}", f"/cohorts/{cohort}/learners/{world['learner']}",
                    f"/cohorts/{cohort}/charts/completion", f"/cohorts/{cohort}/enrol",
                    f"/cohorts/{cohort}/mentors", f"/cohorts/{cohort}/settings", f"/cohorts/{cohort}/schedule",
                    "/courses/format-tour/check-yourself/report"],
        "admin": ["/", "/admin/users", "/admin/mentoring", "/admin/cohorts"],
    }[role]


ACCOUNTS = {"learner": LEARNER, "mentor": MENTOR,
            "trainer": "trainer@example.org", "admin": "admin@example.org"}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("role", ["anonymous", "learner", "mentor", "trainer", "admin"])
def test_no_serious_axe_violations(browser, base_url, world, role, width):
    context = browser.new_context(viewport={"width": width, "height": 800}, base_url=base_url, locale="en-GB")
    try:
        page = context.new_page()
        if role != "anonymous":
            sign_in(page, ACCOUNTS[role])
            page.wait_for_load_state()
        found = []
        for path in pages_for(role, world):
            response = page.goto(path)
            assert response.status < 400, (path, response.status)
            found += serious_violations(page)
        assert found == [], "\n".join(found)
    finally:
        context.close()


def test_axe_finds_a_planted_violation(page, base_url):
    """The check itself works: a button without a name fails it."""
    page.goto("/login")
    page.evaluate("""() => { const b = document.createElement('button');
                             document.querySelector('main').appendChild(b); }""")
    assert any("button-name" in line for line in serious_violations(page))


def press_until_focused(page, selector: str, limit: int = 80) -> None:
    """Tab through the page until the element is focused (fails when it never is)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with the keyboard on {page.url}")


def test_keyboard_only_sign_in_quiz_and_review(browser, base_url, world):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url, locale="en-GB")
    try:
        page = context.new_page()
        page.goto("/login")
        press_until_focused(page, "input[name=email]")
        page.keyboard.type(LEARNER)
        press_until_focused(page, "input[name=password]")
        page.keyboard.type("seedling-demo-2025")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/$"))

        page.goto("/courses/format-tour/check-yourself")
        start = "main form button.primary"
        press_until_focused(page, start)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/attempts/\d+$"))
        press_until_focused(page, "main input[type=radio], main input[type=checkbox], main input[type=text]")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked || document.activeElement.type === 'text'")
        context.clear_cookies()

        page.goto("/login")
        press_until_focused(page, "input[name=email]")
        page.keyboard.type(MENTOR)
        press_until_focused(page, "input[name=password]")
        page.keyboard.type("seedling-demo-2025")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/$"))
        page.goto(f"/review/{world['submission']}")
        press_until_focused(page, "input[type=radio][name^=score-]")
        page.keyboard.press("Space")
        assert page.evaluate("document.activeElement.checked")
        # Arrow keys move within one criterion's levels; the total follows.
        page.keyboard.press("ArrowDown")
        assert page.locator("output[name=total]").inner_text() != "0"
        press_until_focused(page, "textarea[name=feedback]")
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"  # focus shows
    finally:
        context.close()
