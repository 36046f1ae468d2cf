"""What is due on the learner's home, and the calendar feeds (issue 14): parsed back with icalendar,
in the owner's language, UIDs stable across fetches, reset invalidates, nobody else's data."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import func, select

from app.assignments.models import Submission
from app.auth.models import User
from app.cohorts.models import CalendarFeed, CohortItemDate, Membership
from app.content.models import Item
from app.extensions import db
from app.learning.models import Progress
from tests.cohorts.conftest import make_cohort

TODAY = date(2025, 6, 2)
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def setup(app, factories):
    """A course of 3 items in a cohort that started two weeks ago; item1 overdue, item2 due in
    three days, item3 opens in five days and is due in twelve; an other course in another cohort."""
    course = factories.make_course(items=("lesson", "quiz", "assignment"), languages=("en", "ka"))
    other_course = factories.make_course(items=("lesson",))
    learner = factories.make_user(name="Nino Learner", locale="ka")
    learner2 = factories.make_user(name="Aygün Learner")
    trainer = factories.make_user(name="Tamar Trainer")
    other_trainer = factories.make_user(name="Other Trainer")
    mentor = factories.make_user(name="Giorgi Mentor")
    cohort_id = make_cohort(app, courses=[course], learners=[learner, learner2], trainers=[trainer],
                            mentors=[mentor], starts_on=TODAY - timedelta(days=14))
    other_id = make_cohort(app, name="Dmanisi", courses=[other_course], learners=[learner2],
                           trainers=[other_trainer], starts_on=TODAY)
    with app.app_context():
        items = {item.slug: item.id for item in db.session.scalars(select(Item).where(Item.course_id == course.id))}
        db.session.add_all([
            CohortItemDate(cohort_id=cohort_id, item_id=items["item1"], due_on=TODAY - timedelta(days=1)),
            CohortItemDate(cohort_id=cohort_id, item_id=items["item2"], due_on=TODAY + timedelta(days=3)),
            CohortItemDate(cohort_id=cohort_id, item_id=items["item3"], opens_on=TODAY + timedelta(days=5),
                           due_on=TODAY + timedelta(days=12)),
        ])
        other_item = db.session.scalar(select(Item.id).where(Item.course_id == other_course.id))
        db.session.add(CohortItemDate(cohort_id=other_id, item_id=other_item, due_on=TODAY + timedelta(days=1)))
        db.session.commit()
    return dict(course=course, other_course=other_course, learner=learner, learner2=learner2, trainer=trainer,
                other_trainer=other_trainer, mentor=mentor, cohort_id=cohort_id, other_id=other_id, items=items)


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start:page.index("</section>", start)]


def test_home_lists_due_this_week_and_overdue(app, client, auth, setup):
    auth.login_as(setup["learner2"])  # English, in two cohorts
    page = home(client)
    overdue = section(page, "home-overdue")
    assert "Item 1 en" in overdue and "due Jun 1, 2025" in overdue and "overdue" in overdue
    assert f'href="/courses/{setup["course"].slug}/item1"' in overdue
    due = section(page, "home-due")
    assert "Item 2 en" in due and "due Jun 5, 2025" in due and setup["course"].titles["en"] in due
    assert setup["other_course"].titles["en"] in due and "due Jun 3, 2025" in due  # the other cohort's course
    assert due.index("Jun 3, 2025") < due.index("Jun 5, 2025")  # earliest first
    assert "Item 3 en" not in due  # due in twelve days
    # finished work leaves the lists: a lesson done, an assignment handed in
    with app.app_context():
        db.session.add(Progress(user_id=setup["learner2"].id, item_id=setup["items"]["item1"]))
        db.session.commit()
    page = home(client)
    assert 'id="home-overdue"' not in page


def test_home_is_in_the_learners_language(app, client, auth, setup):
    auth.login_as(setup["learner"])
    page = client.get("/", headers={"Accept-Language": "ka"}).get_data(as_text=True)
    due = section(page, "home-due")
    assert "Item 2 ka" in due and "5 ივნ. 2025" in due


def test_a_learner_without_dates_sees_no_due_lists(app, client, auth, factories):
    auth.login_as(factories.make_user())
    page = home(client)
    assert 'id="home-due"' not in page and "Calendar (.ics)" not in page


def test_handed_in_work_is_not_overdue(app, client, auth, setup):
    with app.app_context():
        db.session.execute(CohortItemDate.__table__.update()
                           .where(CohortItemDate.item_id == setup["items"]["item3"])
                           .values(opens_on=None, due_on=TODAY - timedelta(days=2)))
        db.session.add(Submission(user_id=setup["learner2"].id, item_id=setup["items"]["item3"], state="submitted",
                                  cohort_id=setup["cohort_id"], submitted_at=NOW, draft_body="x"))
        db.session.commit()
    auth.login_as(setup["learner2"])
    overdue = section(home(client), "home-overdue")
    assert "Item 1 en" in overdue and "Item 3 en" not in overdue
    page = client.get(f"/courses/{setup['course'].slug}").get_data(as_text=True)
    assert page.count("overdue-mark") == 1


def feed_of(app, user_id: int, cohort_id: int | None = None) -> str:
    with app.app_context():
        where = CalendarFeed.cohort_id.is_(None) if cohort_id is None else CalendarFeed.cohort_id == cohort_id
        return db.session.scalar(select(CalendarFeed.token).where(CalendarFeed.user_id == user_id, where))


def events_of(client, token: str) -> dict[str, dict]:
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    calendar = Calendar.from_ical(response.data)
    found = {}
    for event in calendar.walk("VEVENT"):
        found[str(event["UID"])] = {"summary": str(event["SUMMARY"]), "start": event.decoded("DTSTART"),
                                    "end": event.decoded("DTEND"), "url": str(event["URL"]),
                                    "stamp": event.get("DTSTAMP")}
    return found


def test_the_learners_feed_has_every_date_in_their_language(app, client, auth, setup):
    auth.login_as(setup["learner"])
    assert "კალენდრის მისამართის მიღება (.ics)" in home(client)  # in Georgian, the learner's language
    assert client.post("/calendar/reset").status_code == 302
    token = feed_of(app, setup["learner"].id)
    assert len(token) >= 43
    page = home(client)
    assert f"http://localhost/calendar/{token}.ics" in page or f"/calendar/{token}.ics" in page
    auth.logout()
    events = events_of(client, token)  # no sign-in
    summaries = sorted(event["summary"] for event in events.values())
    assert len(events) == 4  # item1 due, item2 due, item3 opens and due
    course_ka = setup["course"].titles["ka"]
    assert f"ვადა: Item 2 ka — {course_ka}" in summaries
    assert f"იხსნება: Item 3 ka — {course_ka}" in summaries
    due2 = next(e for e in events.values() if "Item 2" in e["summary"])
    assert due2["start"] == TODAY + timedelta(days=3) and due2["end"] == TODAY + timedelta(days=4)
    assert due2["url"].endswith(f"/courses/{setup['course'].slug}/item2")
    assert all(event["stamp"] is not None for event in events.values())
    # the same UIDs on the next fetch, so calendar apps update rather than duplicate
    assert set(events_of(client, token)) == set(events)
    # nobody else's data: the other cohort's course is not in this learner's feed
    assert not any(setup["other_course"].titles["en"] in s for s in summaries)


def test_resetting_the_address_invalidates_the_old_one(app, client, auth, setup):
    auth.login_as(setup["learner"])
    client.post("/calendar/reset")
    someone_elses = feed_of(app, setup["learner"].id)
    auth.logout()
    auth.login_as(setup["learner2"])
    client.post("/calendar/reset")
    old = feed_of(app, setup["learner2"].id)
    response = client.post("/calendar/reset")
    assert response.status_code == 302
    new = feed_of(app, setup["learner2"].id)
    assert new != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    assert feed_of(app, setup["learner"].id) == someone_elses  # another learner's address is untouched
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarFeed)
                                 .where(CalendarFeed.user_id == setup["learner2"].id)) == 1
    # learner2's feed has both cohorts' courses, in English
    summaries = {e["summary"] for e in events_of(client, new).values()}
    assert f"Due: Item 1 en — {setup['other_course'].titles['en']}" in summaries


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "a" * 80])
def test_unknown_tokens_are_not_found(client, setup, token):
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_a_deactivated_account_has_no_feed(app, client, auth, setup):
    auth.login_as(setup["learner2"])
    client.post("/calendar/reset")
    token = feed_of(app, setup["learner2"].id)
    with app.app_context():
        db.session.get(User, setup["learner2"].id).is_active_account = False
        db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


def test_resetting_needs_sign_in_and_csrf(app, client, auth, setup):
    assert client.post("/calendar/reset").status_code in (302, 401)
    assert feed_of(app, setup["learner"].id) is None


def test_the_trainers_cohort_feed(app, client, auth, setup):
    cohort_id = setup["cohort_id"]
    auth.login_as(setup["trainer"])
    page = client.get(f"/cohorts/{cohort_id}/calendar").get_data(as_text=True)
    assert "Make a calendar address" in page
    assert client.post(f"/cohorts/{cohort_id}/calendar/reset").status_code == 302
    token = feed_of(app, setup["trainer"].id, cohort_id)
    page = client.get(f"/cohorts/{cohort_id}/calendar").get_data(as_text=True)
    assert f"/calendar/{token}.ics" in page and "Reset the address" in page
    events = events_of(client, token)
    assert len(events) == 4
    assert all(f"-cohort-{cohort_id}@" in uid for uid in events)
    # a trainer who no longer trains the cohort: the feed is gone
    with app.app_context():
        db.session.execute(Membership.__table__.delete().where(Membership.user_id == setup["trainer"].id))
        db.session.commit()
    assert client.get(f"/calendar/{token}.ics").status_code == 404


@pytest.mark.parametrize("who", ["learner", "mentor", "other_trainer", "anonymous"])
def test_only_the_cohorts_trainers_and_admins_have_its_feed(app, client, auth, setup, who):
    cohort_id = setup["cohort_id"]
    if who != "anonymous":
        auth.login_as(setup[who])
    page = client.get(f"/cohorts/{cohort_id}/calendar")
    reset = client.post(f"/cohorts/{cohort_id}/calendar/reset")
    expected = (302,) if who == "anonymous" else (404,)
    assert page.status_code in expected and reset.status_code in expected
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CalendarFeed)) == 0


def test_an_admin_may_have_a_cohort_feed(app, client, auth, factories, setup):
    admin = factories.make_admin()
    auth.login_as(admin)
    assert client.post(f"/cohorts/{setup['cohort_id']}/calendar/reset").status_code == 302
    assert len(events_of(client, feed_of(app, admin.id, setup["cohort_id"]))) == 4


def test_two_resets_at_once_leave_exactly_one_address(app, setup):
    """Two tabs press "Reset the address" together: one address remains, and it works (on
    PostgreSQL too: the person's row is locked before the old address is deleted)."""
    from tests.offline.test_sync import signed_in_cookie
    from tests.support.concurrency import client_with_session, race

    for _trial in range(4):
        cookie = signed_in_cookie(app, setup["learner2"])

        def reset():
            return client_with_session(app, cookie).post("/calendar/reset").status_code

        assert race(reset, reset) == [302, 302]
        with app.app_context():
            tokens = db.session.scalars(select(CalendarFeed.token)
                                        .where(CalendarFeed.user_id == setup["learner2"].id)).all()
        assert len(tokens) == 1
        assert app.test_client().get(f"/calendar/{tokens[0]}.ics").status_code == 200
