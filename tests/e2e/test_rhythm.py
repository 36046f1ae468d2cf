"""Issue 14 at 360 px: a learner in a cohort with dates sees on their home what is due this week
and what is overdue, opens an item that is not open yet and is told why (its opening date, or what
to finish first, with links), and the pages fit a phone without scrolling sideways."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth import services as auth_services
from app.cohorts.models import CohortItemDate
from app.content.models import Course, Item
from app.database import utcnow
from app.extensions import db
from tests.cohorts.conftest import make_cohort
from tests.e2e.conftest import sign_in

EMAIL = "rhythm.learner@example.org"
PASSWORD = "seedling-rhythm-2025"
COURSE = "rba-five-principles"


@pytest.fixture(scope="module")
def learner_with_dates(live_app):
    """A learner alone in a cohort of the RBA course that started a week ago: the introduction
    was due yesterday, its quiz is due in two days, and the 'participation' lesson opens in ten."""
    with live_app.app_context():
        user = auth_services.create_user(EMAIL, name="Rhythm Learner", password=PASSWORD)
        db.session.commit()
        course = db.session.scalar(select(Course).where(Course.slug == COURSE))
        items = {item.slug: item.id for item in db.session.scalars(select(Item).where(Item.course_id == course.id))}
        user_id = user.id
    today = utcnow().date()
    cohort_id = make_cohort(live_app, name="Rhythm cohort", courses=[course], learners=[_Ref(user_id)],
                            starts_on=today - timedelta(days=7))
    with live_app.app_context():
        db.session.add_all([
            CohortItemDate(cohort_id=cohort_id, item_id=items["introduction"], opens_on=today - timedelta(days=7),
                           due_on=today - timedelta(days=1)),
            CohortItemDate(cohort_id=cohort_id, item_id=items["introduction-quiz"],
                           opens_on=today - timedelta(days=7), due_on=today + timedelta(days=2)),
            CohortItemDate(cohort_id=cohort_id, item_id=items["participation"], opens_on=today + timedelta(days=10),
                           due_on=today + timedelta(days=16)),
        ])
        db.session.commit()
    return cohort_id


class _Ref:
    def __init__(self, id_: int):
        self.id = id_


def fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, page.url


def test_a_learner_sees_what_is_due_and_why_an_item_is_locked(page, learner_with_dates):
    sign_in(page, EMAIL, PASSWORD)
    page.goto("/")
    overdue = page.locator("section[aria-labelledby=home-overdue]")
    assert overdue.locator(f"a[href$='/{COURSE}/introduction']").count() == 1
    assert "overdue" in overdue.inner_text()
    due = page.locator("section[aria-labelledby=home-due]")
    assert "Due this week" in due.inner_text()
    assert due.locator("a[href$='/introduction-quiz']").count() == 1
    fits_a_phone(page)

    # A lesson whose opening day is still to come: listed in the outline, locked, and says when.
    page.goto(f"/courses/{COURSE}")
    locked = page.locator("li.locked", has=page.locator("a[href$='/participation']"))
    assert "Locked: opens" in locked.inner_text()
    fits_a_phone(page)
    locked.locator("a[href$='/participation']").click()
    assert page.get_by_role("heading", name="Not open yet").is_visible()
    assert "It opens on" in page.locator("section.locked").inner_text()
    fits_a_phone(page)

    # The final assignment needs every lesson and quiz: the page lists them, with links.
    page.goto(f"/courses/{COURSE}/apply-the-principles")
    reason = page.locator("section.locked")
    assert "Finish these first" in reason.inner_text()
    assert reason.locator("ul.needed a").count() == 16
    fits_a_phone(page)
    reason.locator("ul.needed a").first.click()
    page.wait_for_url(f"**/courses/{COURSE}/introduction")
