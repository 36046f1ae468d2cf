"""What is due: the dated items of a learner's cohorts (the home page's "Due this week" and
"Overdue"), and the secret calendar feeds (iCalendar, RFC 5545) of learners and of trainers
(issue 14).

Dates come from the schedule model of app/cohorts/schedule.py (a cohort's own dates, else the
course's pacing). A learner's dates in a course come from the cohort their work in it belongs to:
the first of their learner memberships with the course (the rule of scope.cohort_of_work).
An item is *finished* for what is due when it is done (a lesson done, a quiz passed, an assignment
approved) or, for an assignment, handed in and waiting for its review.

A feed is a row of CalendarFeed with a token from ``secrets.token_urlsafe(32)`` (256 bits): the
token is the only key of ``GET /calendar/<token>.ics``, which calendar apps fetch without signing
in. Resetting replaces the token, so the old address stops working. A trainer's feed (one per
cohort) works only while its owner may still see the cohort.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, delete, exists, select

from app.assignments.models import Submission
from app.auth.models import User
from app.cohorts.models import LEARNER, CalendarFeed, Cohort, CohortCourse, CohortItemDate, Membership
from app.cohorts.schedule import Pacing, dates_in_cohort
from app.content.models import Course, Item, ItemTranslation
from app.core import audit
from app.core.authz import can
from app.core.links import external_url, site_url
from app.extensions import db
from app.learning.access import ItemDates, today_in
from app.learning.models import Progress

#: How far ahead "Due this week" looks: today and the six days after it.
WEEK = timedelta(days=6)


@dataclass(frozen=True)
class DatedItem:
    """One course item with a date in a cohort, titled in the reader's language (else English)."""

    cohort_id: int
    time_zone: str
    course_slug: str
    course_title: str
    item_id: int
    item_slug: str
    kind: str
    title: str
    title_lang: str
    opens_on: date | None
    due_on: date | None
    finished: bool = False


@dataclass
class Due:
    """The learner's home: what is due from today to six days on, and what is overdue (earliest first)."""

    this_week: list[DatedItem] = field(default_factory=list)
    overdue: list[DatedItem] = field(default_factory=list)
    has_dates: bool = False
    #: The address of the learner's own feed (None until they ask for one).
    feed_address: str | None = None


def _dated_rows(where, lang: str, *, learner_id: int | None):
    """One statement: every live item of the cohorts matched by ``where`` (a join from Membership
    when ``learner_id`` is given, else from Cohort), with the cohort's date row, titles and (for a
    learner) whether it is finished."""
    def title_in(title_lang: str):
        return (select(ItemTranslation.title)
                .where(ItemTranslation.item_id == Item.id, ItemTranslation.lang == title_lang)
                .correlate(Item).scalar_subquery())

    columns = [Cohort.id, Cohort.time_zone, Cohort.starts_on, Course.slug, Course.titles, Item.id, Item.slug,
               Item.kind, Item.pacing, CohortItemDate.item_id, CohortItemDate.opens_on, CohortItemDate.due_on,
               title_in(lang), title_in("en")]
    if learner_id is not None:
        done = exists().where(Progress.user_id == learner_id, Progress.item_id == Item.id).correlate(Item)
        handed_in = exists().where(Submission.user_id == learner_id, Submission.item_id == Item.id,
                                   Submission.submitted_at.is_not(None)).correlate(Item)
        # The learner's feed token rides along (the same value on every row): no statement of its own.
        token = (select(CalendarFeed.token)
                 .where(CalendarFeed.user_id == learner_id, CalendarFeed.cohort_id.is_(None))
                 .order_by(CalendarFeed.id.desc()).limit(1).scalar_subquery())
        columns += [done | handed_in, token]
        query = (select(*columns).select_from(Membership)
                 .join(Cohort, Cohort.id == Membership.cohort_id)
                 .order_by(Membership.created_at, Membership.id, Course.slug, Item.position))
    else:
        query = select(*columns).select_from(Cohort).order_by(Course.slug, Item.position)
    query = (query.join(CohortCourse, CohortCourse.cohort_id == Cohort.id)
             .join(Course, Course.id == CohortCourse.course_id)
             .join(Item, Item.course_id == Course.id)
             .outerjoin(CohortItemDate, and_(CohortItemDate.cohort_id == Cohort.id,
                                             CohortItemDate.item_id == Item.id))
             .where(where, Course.retired_at.is_(None), Item.retired_at.is_(None)))
    return db.session.execute(query).all()


def _dated(rows, lang: str) -> list[DatedItem]:
    """The rows with a date, one cohort per course (the first row's: the cohort of the work)."""
    cohort_of_course: dict[str, int] = {}
    found: list[DatedItem] = []
    for row in rows:
        (cohort_id, time_zone, starts_on, course_slug, course_titles, item_id, item_slug, kind, pacing,
         date_row, opens_on, due_on, title, title_en, *learner) = row
        if cohort_of_course.setdefault(course_slug, cohort_id) != cohort_id:
            continue
        dates = dates_in_cohort(None if date_row is None else ItemDates(opens_on, due_on),
                                Pacing.of(item_id, pacing), starts_on)
        if dates.opens_on is None and dates.due_on is None:
            continue
        shown_lang, shown = (lang, title) if title is not None else ("en", title_en)
        found.append(DatedItem(
            cohort_id=cohort_id, time_zone=time_zone or "Asia/Tbilisi", course_slug=course_slug,
            course_title=course_titles.get(lang) or course_titles.get("en") or course_slug,
            item_id=item_id, item_slug=item_slug, kind=kind, title=shown or item_slug, title_lang=shown_lang,
            opens_on=dates.opens_on, due_on=dates.due_on, finished=bool(learner and learner[0])))
    return found


def learner_dated_items(user_id: int, lang: str) -> tuple[list[DatedItem], str | None]:
    """Every dated item of the courses of the learner's cohorts, and the token of the learner's
    own feed (None: no address yet). One statement."""
    rows = _dated_rows(and_(Membership.user_id == user_id, Membership.role == LEARNER), lang,
                       learner_id=user_id)
    return _dated(rows, lang), (rows[0][-1] if rows else None)


def cohort_dated_items(cohort_id: int, lang: str) -> list[DatedItem]:
    """Every dated item of the cohort's courses (one statement)."""
    return _dated(_dated_rows(Cohort.id == cohort_id, lang, learner_id=None), lang)


def due_for(user, lang: str, now: datetime) -> Due:
    """What the learner has due this week and overdue, across all their cohorts' courses (one
    statement, whatever the number of cohorts and courses)."""
    items, token = learner_dated_items(user.id, lang)
    due = Due(has_dates=bool(items))
    for item in items:
        if item.finished or item.due_on is None:
            continue
        today = today_in(item.time_zone, now)
        if item.due_on < today:
            due.overdue.append(item)
        elif item.due_on <= today + WEEK:
            due.this_week.append(item)
    due.overdue.sort(key=lambda item: (item.due_on, item.course_title, item.title))
    due.this_week.sort(key=lambda item: (item.due_on, item.course_title, item.title))
    if items:
        due.feed_address = external_url("calendar.feed", token=token) if token else None
    return due


# ---- the feeds' addresses ------------------------------------------------------------------

def feed_token(user_id: int, cohort_id: int | None) -> str | None:
    """The person's current token for their own feed (cohort_id None) or a cohort's; None if none."""
    cohort = CalendarFeed.cohort_id.is_(None) if cohort_id is None else CalendarFeed.cohort_id == cohort_id
    return db.session.scalar(select(CalendarFeed.token).where(CalendarFeed.user_id == user_id, cohort)
                             .order_by(CalendarFeed.id.desc()).limit(1))


def reset_feed(user, cohort: Cohort | None = None) -> CalendarFeed:
    """Give the person a new secret address for their feed (or the cohort's), replacing the old
    one, which stops working. The caller checks who may have a cohort's feed (trainers, admins).
    The person's row is locked first, so two resets at once leave exactly one address."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    cohort_id = cohort.id if cohort is not None else None
    scope = CalendarFeed.cohort_id.is_(None) if cohort_id is None else CalendarFeed.cohort_id == cohort_id
    db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id, scope))
    feed = CalendarFeed(user_id=user.id, cohort_id=cohort_id, token=secrets.token_urlsafe(32))
    db.session.add(feed)
    db.session.flush()
    audit.record("calendar_feed_reset", actor=user, target=f"Cohort:{cohort_id}" if cohort_id else "own")
    return feed


@dataclass(frozen=True)
class Feed:
    """What a valid token opens: whose feed, and which cohort's (None: the learner's own)."""

    user: User
    cohort: Cohort | None


def open_feed(token: str) -> Feed | None:
    """The feed with this token, or None: unknown or replaced token, a deactivated account, or a
    cohort feed whose owner may no longer see the cohort."""
    if not token or len(token) > 64:
        return None
    row = db.session.execute(select(CalendarFeed, User).join(User, User.id == CalendarFeed.user_id)
                             .where(CalendarFeed.token == token)).first()
    if row is None:
        return None
    feed, user = row
    if not user.is_active:
        return None
    if feed.cohort_id is None:
        return Feed(user=user, cohort=None)
    cohort = db.session.get(Cohort, feed.cohort_id)
    if cohort is None or not can(user, "cohort.view", cohort):
        return None
    return Feed(user=user, cohort=cohort)


# ---- iCalendar -----------------------------------------------------------------------------

def feed_calendar(feed: Feed, now: datetime) -> bytes:
    """The feed as an iCalendar file, in its owner's language: an all-day event for every
    opening day and every due day, each with a UID that stays the same from one fetch to the
    next (so calendar apps update events rather than add them again)."""
    from icalendar import Calendar, Event

    lang = feed.user.locale or "en"
    with force_locale(lang):
        if feed.cohort is None:
            items, _token = learner_dated_items(feed.user.id, lang)
            name = _("Nergi: your courses")
            scope = f"learner-{feed.user.id}"
        else:
            items = cohort_dated_items(feed.cohort.id, lang)
            name = _("Nergi: %(cohort)s", cohort=feed.cohort.name)
            scope = f"cohort-{feed.cohort.id}"
        calendar = Calendar()
        calendar.add("prodid", "-//Nergi//Course calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("x-wr-calname", name)
        domain = site_url().split("://", 1)[-1].split("/", 1)[0] or "nergi"
        for item in items:
            url = external_url("learning.item", slug=item.course_slug, item_slug=item.item_slug)
            for kind, day in (("opens", item.opens_on), ("due", item.due_on)):
                if day is None:
                    continue
                summary = (_("Opens: %(item)s — %(course)s", item=item.title, course=item.course_title)
                           if kind == "opens" else
                           _("Due: %(item)s — %(course)s", item=item.title, course=item.course_title))
                event = Event()
                event.add("uid", f"{kind}-{item.item_id}-{scope}@{domain}")
                event.add("dtstamp", now)
                event.add("dtstart", day)
                event.add("dtend", day + timedelta(days=1))
                event.add("summary", summary)
                event.add("url", url)
                event.add("description", url)
                event.add("transp", "TRANSPARENT")
                calendar.add_component(event)
    return calendar.to_ical()


def learns_in_a_cohort_expression(user_id: int):
    """SQL: is the user a learner in at least one cohort? (a header fact: the home page asks for
    what is due only then, so a learner in no cohort pays no statement for it)"""
    return exists().where(Membership.user_id == user_id, Membership.role == LEARNER)


def register() -> None:
    """Give the learner's home its "Due this week" and "Overdue" lists (create_app)."""
    from app.core.header import register_header_fact
    from app.database import utcnow
    from app.learning.lookup import register_page_part

    register_header_fact("learns_in_a_cohort", learns_in_a_cohort_expression)
    register_page_part("home", "due", lambda user, lang, facts: (
        due_for(user, lang, utcnow()) if facts.get("learns_in_a_cohort") else None))
