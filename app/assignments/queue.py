"""The mentor's review queue: filters, counts per filter value, and pages.

Everything comes from a fixed number of queries whatever the number of submissions: one
GROUP BY over the work the mentor's links reach (course, cohort, assignment, state and who took it, with
the name search applied) gives every count; three small look-ups name the courses, cohorts and
assignments found; one query reads the page's rows. Filter values that are not numbers, or
name nothing in the mentor's reach, are ignored.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from math import ceil
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import aliased

from app.assignments.models import CHANGES_REQUESTED, SUBMITTED, MentorLink, Submission
from app.auth.models import User
from app.cohorts.models import DEFAULT_REVIEW_TARGET_DAYS, Cohort
from app.cohorts.scope import link_reaches_submission
from app.content.models import Course, Item, ItemTranslation
from app.core.converters import MAX_ID
from app.database import utcnow
from app.extensions import db

PER_PAGE = 25
#: State filter values. "" (to review: everything handed in), nobody has taken it yet, taken by
#: this mentor, sent back to the learner.
STATES = ("", "waiting", "mine", "changes")
MAX_SEARCH = 100


@dataclass(frozen=True)
class QueueFilters:
    course: int | None = None
    cohort: int | None = None
    item: int | None = None
    state: str = ""
    q: str = ""
    page: int = 1

    def args(self, **changes: Any) -> dict[str, Any]:
        """The filters as query-string arguments (for links), without the empty ones."""
        values = {"course": self.course, "cohort": self.cohort, "item": self.item, "state": self.state,
                  "q": self.q, "page": self.page, **changes}
        return {key: value for key, value in values.items()
                if value not in (None, "") and not (key == "page" and value == 1)}


def _id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < int(value) <= MAX_ID else None


def parse_filters(args) -> QueueFilters:
    """The filters from a query string; values that do not parse are dropped (never an error)."""
    state = args.get("state", "")
    page = _id(args.get("page")) or 1
    return QueueFilters(course=_id(args.get("course")), cohort=_id(args.get("cohort")), item=_id(args.get("item")),
                        state=state if state in STATES else "", q=(args.get("q") or "").strip()[:MAX_SEARCH],
                        page=page)


def waiting_days(waiting_since: datetime, now: datetime) -> int:
    """Whole days waited (0 for the first 24 hours)."""
    return max(0, (now - waiting_since) // timedelta(days=1))


def is_past_target(waiting_since: datetime, target_days: int | None, now: datetime) -> bool:
    """True when work handed in at `waiting_since` has waited longer than the turnaround target
    (`Cohort.review_target_days`; work outside any cohort: the default, 3 days)."""
    target = DEFAULT_REVIEW_TARGET_DAYS if target_days is None else target_days
    return now - waiting_since > timedelta(days=target)


@dataclass
class QueueRow:
    submission: Submission
    learner: User
    course: Course
    title: str
    cohort_name: str | None
    claimed_by: User | None
    waiting_since: datetime
    #: The cohort's turnaround target in days (the default for work outside any cohort).
    target_days: int = DEFAULT_REVIEW_TARGET_DAYS
    now: datetime = field(default_factory=utcnow)

    @property
    def waiting_hours(self) -> int:
        return int((self.now - self.waiting_since).total_seconds() // 3600)

    @property
    def waiting_days(self) -> int:
        return waiting_days(self.waiting_since, self.now)

    @property
    def past_target(self) -> bool:
        """Handed-in work waiting for a mentor longer than the target (work sent back waits for
        the learner, not the mentor: never past target)."""
        return self.submission.state == SUBMITTED and is_past_target(self.waiting_since, self.target_days, self.now)


@dataclass
class QueuePage:
    filters: QueueFilters
    rows: list[QueueRow]
    total: int
    pages: int
    courses: list[tuple[int, str, int]] = field(default_factory=list)  # (id, title, count)
    cohorts: list[tuple[int, str, int]] = field(default_factory=list)
    items: list[tuple[int, str, int]] = field(default_factory=list)
    states: dict[str, int] = field(default_factory=dict)


def _bucket(mentor_id: int):
    """SQL: which state filter (besides "to review") a submission falls in."""
    return case((Submission.state == CHANGES_REQUESTED, literal("changes")),
                (Submission.claimed_by_id.is_(None), literal("waiting")),
                (Submission.claimed_by_id == mentor_id, literal("mine")), else_=literal("taken"))


def _reached(query, mentor, q: str):
    """The query over the work this mentor's current links reach (joined as the review queue
    always was, app/cohorts/scope.py), handed in or sent back, matching the name search."""
    query = (query.select_from(Submission).join(User, User.id == Submission.user_id)
             .join(Item, Item.id == Submission.item_id)
             .join(MentorLink, (MentorLink.mentor_id == mentor.id) & link_reaches_submission())
             .where(Submission.state.in_((SUBMITTED, CHANGES_REQUESTED))))
    return query.where(User.name.icontains(q, autoescape=True)) if q else query


def _matches(group: tuple, filters: QueueFilters, skip: str = "") -> bool:
    course, cohort, item, bucket = group
    return ((skip == "course" or filters.course is None or course == filters.course)
            and (skip == "cohort" or filters.cohort is None or cohort == filters.cohort)
            and (skip == "item" or filters.item is None or item == filters.item)
            and (skip == "state" or _in_state(bucket, filters.state)))


def _in_state(bucket: str, state: str) -> bool:
    return bucket != "changes" if state == "" else bucket == state


def queue_page(mentor, lang: str, filters: QueueFilters) -> QueuePage:
    """One page of the mentor's queue, oldest first, with the counts each filter value would give
    (the other filters applied). Five queries."""
    groups: Counter = Counter()
    for course, cohort, item, state, claimer, n in db.session.execute(
            _reached(select(Item.course_id, Submission.cohort_id, Submission.item_id, Submission.state,
                            Submission.claimed_by_id, func.count()), mentor, filters.q)
            .group_by(Item.course_id, Submission.cohort_id, Submission.item_id, Submission.state,
                      Submission.claimed_by_id)):
        bucket = ("changes" if state == CHANGES_REQUESTED else "waiting" if claimer is None
                  else "mine" if claimer == mentor.id else "taken")
        groups[(course, cohort, item, bucket)] += n
    # A filter naming nothing in reach is dropped.
    known = {name: {group[index] for group in groups} for index, name in enumerate(("course", "cohort", "item"))}
    filters = replace(filters,
                      course=filters.course if filters.course in known["course"] else None,
                      cohort=filters.cohort if filters.cohort in known["cohort"] else None,
                      item=filters.item if filters.item in known["item"] else None)
    facet: dict[str, Counter] = {name: Counter() for name in ("course", "cohort", "item", "state")}
    for group, n in groups.items():
        for index, name in enumerate(("course", "cohort", "item")):
            if _matches(group, filters, skip=name):
                facet[name][group[index]] += n
        if _matches(group, filters, skip="state"):
            for state in STATES:
                facet["state"][state] += n if _in_state(group[3], state) else 0
    total = sum(n for group, n in groups.items() if _matches(group, filters))
    pages = max(1, ceil(total / PER_PAGE))
    filters = replace(filters, page=min(filters.page, pages))
    return QueuePage(filters=filters, rows=_rows(mentor, lang, filters) if total else [], total=total, pages=pages,
                     states={state: facet["state"][state] for state in STATES},
                     **_names(lang, known, facet))


def _names(lang: str, known: dict[str, set], facet: dict[str, Counter]) -> dict[str, list]:
    """The filter choices with their names and counts, sorted by name (three queries at most)."""
    courses = {course.id: course.title(lang) for course in db.session.scalars(
        select(Course).where(Course.id.in_(known["course"])))} if known["course"] else {}
    cohorts = dict(db.session.execute(select(Cohort.id, Cohort.name).where(
        Cohort.id.in_(known["cohort"] - {None}))).all()) if known["cohort"] - {None} else {}
    titles: dict[int, str] = {}
    if known["item"]:
        for item_id, item_lang, title in db.session.execute(select(
                ItemTranslation.item_id, ItemTranslation.lang, ItemTranslation.title).where(
                ItemTranslation.item_id.in_(known["item"]), ItemTranslation.lang.in_((lang, "en")))):
            if item_lang == lang or item_id not in titles:
                titles[item_id] = title
    choices = {"courses": (courses, "course"), "cohorts": (cohorts, "cohort"), "items": (titles, "item")}
    return {key: sorted(((ident, name, facet[kind][ident]) for ident, name in names.items()),
                        key=lambda choice: choice[1].casefold())
            for key, (names, kind) in choices.items()}


def _rows(mentor, lang: str, filters: QueueFilters) -> list[QueueRow]:
    claimer = aliased(User)
    translation = aliased(ItemTranslation)
    english = aliased(ItemTranslation)
    query = (_reached(select(Submission, User, Course, translation.title, english.title, claimer, Cohort.name,
                             Cohort.review_target_days), mentor, filters.q)
             .join(Course, Course.id == Item.course_id)
             .outerjoin(Cohort, Cohort.id == Submission.cohort_id)
             .outerjoin(translation, (translation.item_id == Item.id) & (translation.lang == lang))
             .outerjoin(english, (english.item_id == Item.id) & (english.lang == "en"))
             .outerjoin(claimer, claimer.id == Submission.claimed_by_id))
    if filters.course is not None:
        query = query.where(Item.course_id == filters.course)
    if filters.cohort is not None:
        query = query.where(Submission.cohort_id == filters.cohort)
    if filters.item is not None:
        query = query.where(Submission.item_id == filters.item)
    bucket = _bucket(mentor.id)
    query = query.where(bucket != "changes") if filters.state == "" else query.where(bucket == filters.state)
    # Handed-in work waits since it was handed in; work sent back, since it was sent back.
    waiting_since = case((Submission.state == CHANGES_REQUESTED, Submission.updated_at),
                         else_=func.coalesce(Submission.submitted_at, Submission.updated_at))
    rows = db.session.execute(query.order_by(waiting_since, Submission.id)
                              .limit(PER_PAGE).offset((filters.page - 1) * PER_PAGE)).all()
    now = utcnow()
    return [QueueRow(submission=s, learner=u, course=c, title=t or e or "", cohort_name=cohort, claimed_by=cl,
                     waiting_since=(s.updated_at if s.state == CHANGES_REQUESTED else s.submitted_at) or s.updated_at,
                     target_days=DEFAULT_REVIEW_TARGET_DAYS if target is None else target, now=now)
            for s, u, c, t, e, cl, cohort, target in rows]
