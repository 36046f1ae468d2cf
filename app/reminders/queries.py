"""The facts the reminder rules read, gathered per cohort with a fixed number of queries (whatever
the number of learners), and what a reminder's e-mail and notice name (titles, people).

A learner's dates in a course come from the cohort their work in it belongs to (the first cohort
they joined as a learner among those with the course: app/cohorts/scope.py), so a learner in two
cohorts with the same course is reminded once, by the dates of that cohort.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.assignments.models import APPROVED, SUBMITTED, MentorLink, Review, Revision, Submission
from app.auth.models import REMINDERS_DAILY, User
from app.cohorts.models import LEARNER, TRAINER, Cohort, CohortCourse, CohortItemDate, ItemRelease, Membership
from app.cohorts.schedule import Pacing, effective_dates
from app.cohorts.scope import link_reaches_submission
from app.content.models import Course, Item, ItemTranslation
from app.extensions import db
from app.learning.access import ItemFacts, Lock, Schedule, locks, today_in
from app.learning.models import Progress
from app.reminders.models import Reminder
from app.reminders.rules import OVERDUE_WINDOW, CohortFacts, Task, WaitingRevision


@dataclass
class CohortWatch:
    """What the rules read of one cohort, and the names its reminders use."""

    cohort: CohortFacts
    name: str
    tasks: list[Task] = field(default_factory=list)
    revisions: list[WaitingRevision] = field(default_factory=list)
    # submission id -> (learner id, item id), for the review reminders' texts
    submissions: dict[int, tuple[int, int]] = field(default_factory=dict)


def cohorts_to_watch(now: datetime) -> list[Cohort]:
    """Cohorts that may have something to remind of: not over for longer than OVERDUE_WINDOW."""
    cutoff = (now - OVERDUE_WINDOW).date()
    return list(db.session.scalars(
        select(Cohort).where((Cohort.ends_on.is_(None)) | (Cohort.ends_on >= cutoff)).order_by(Cohort.id)))


def watch(cohort: Cohort, now: datetime) -> CohortWatch:
    """The cohort's facts at ``now``: nine queries."""
    course_ids = cohort.course_ids  # loaded with the cohort's courses (one query)
    learner_ids = select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == LEARNER)
    learners = set(db.session.scalars(learner_ids.join(User, User.id == Membership.user_id)
                                      .where(User.is_active_account.is_(True))))
    trainers = tuple(db.session.scalars(
        select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == TRAINER)))
    found = CohortWatch(CohortFacts(cohort_id=cohort.id, time_zone=cohort.time_zone, trainer_ids=trainers,
                                    learner_count=len(learners), starts_on=cohort.starts_on, ends_on=cohort.ends_on),
                        name=cohort.name)
    if not course_ids or not learners:
        return found
    found.tasks = _tasks(cohort, course_ids, learner_ids, learners, now)
    found.revisions, found.submissions = _waiting_revisions(cohort)
    return found


def _tasks(cohort: Cohort, course_ids: list[int], learner_ids, learners: set[int], now: datetime) -> list[Task]:
    items = db.session.execute(
        select(Item.id, Item.course_id, Item.slug, Item.requires, Item.pacing)
        .where(Item.course_id.in_(course_ids), Item.retired_at.is_(None))
        .order_by(Item.course_id, Item.position, Item.id)).all()
    rows = {row.item_id: row for row in db.session.scalars(
        select(CohortItemDate).where(CohortItemDate.cohort_id == cohort.id))}
    dates = effective_dates([Pacing.of(item.id, item.pacing) for item in items], cohort.starts_on, rows)
    due_items = [item for item in items if item.id in dates and dates[item.id].due_on is not None]
    if not due_items:
        return []
    # Where each learner's work in each course belongs: the first cohort joined with the course.
    first: dict[tuple[int, int], int] = {}
    for user_id, course_id, cohort_id in db.session.execute(
            select(Membership.user_id, CohortCourse.course_id, Membership.cohort_id)
            .join(CohortCourse, CohortCourse.cohort_id == Membership.cohort_id)
            .where(Membership.user_id.in_(learner_ids), Membership.role == LEARNER,
                   CohortCourse.course_id.in_(course_ids))
            .order_by(Membership.created_at, Membership.id)):
        first.setdefault((user_id, course_id), cohort_id)
    item_ids = [item.id for item in items]
    done: dict[int, set[int]] = defaultdict(set)
    for user_id, item_id in db.session.execute(
            select(Progress.user_id, Progress.item_id)
            .where(Progress.user_id.in_(learner_ids), Progress.item_id.in_(item_ids))):
        done[user_id].add(item_id)
    handed_in = {(user_id, item_id) for user_id, item_id in db.session.execute(
        select(Submission.user_id, Submission.item_id)
        .where(Submission.user_id.in_(learner_ids), Submission.item_id.in_(item_ids),
               Submission.state.in_((SUBMITTED, APPROVED))))}
    released: dict[int, set[int]] = defaultdict(set)
    for user_id, item_id in db.session.execute(
            select(ItemRelease.user_id, ItemRelease.item_id).where(ItemRelease.cohort_id == cohort.id)):
        released[user_id].add(item_id)
    today = today_in(cohort.time_zone, now)
    by_course: dict[int, list] = defaultdict(list)
    for item in items:
        by_course[item.course_id].append(item)
    slugs = {item.id: item.slug for item in items}
    tasks = []
    for user_id in sorted(learners):
        schedule = Schedule(cohort_id=cohort.id, time_zone=cohort.time_zone, today=today, dates=dates,
                            released=frozenset(released[user_id]))
        done_slugs = {slugs[item_id] for item_id in done[user_id]}
        locked: dict[int, Lock] = {}
        for course_id, course_items in by_course.items():
            if first.get((user_id, course_id)) == cohort.id:
                facts = [ItemFacts(item.id, item.slug, tuple(item.requires or ())) for item in course_items]
                locked.update(locks(facts, done_slugs, schedule))
        for item in due_items:
            due_on = dates[item.id].due_on
            if due_on is None or first.get((user_id, item.course_id)) != cohort.id:
                continue
            tasks.append(Task(user_id=user_id, item_id=item.id, due_on=due_on,
                              time_zone=cohort.time_zone,
                              finished=item.id in done[user_id], handed_in=(user_id, item.id) in handed_in,
                              is_open=item.id not in locked))
    return tasks


def _waiting_revisions(cohort: Cohort) -> tuple[list[WaitingRevision], dict[int, tuple[int, int]]]:
    """The cohort's submissions waiting for a review, their latest revision and the mentors
    whose links reach them (one query)."""
    later = aliased(Revision)
    rows = db.session.execute(
        select(Revision.id, Revision.submission_id, Revision.submitted_at, Submission.user_id, Submission.item_id,
               MentorLink.mentor_id)
        .join(Submission, Submission.id == Revision.submission_id)
        .join(Item, Item.id == Submission.item_id)
        .outerjoin(MentorLink, link_reaches_submission())
        .where(Submission.cohort_id == cohort.id, Submission.state == SUBMITTED,
               ~select(later.id).where(later.submission_id == Revision.submission_id,
                                       later.number > Revision.number).exists(),
               ~select(Review.id).where(Review.revision_id == Revision.id).exists())
        .order_by(Revision.id)).all()
    mentors: dict[int, set[int]] = defaultdict(set)
    facts: dict[int, tuple[int, int, datetime]] = {}
    submissions: dict[int, tuple[int, int]] = {}
    for revision_id, submission_id, submitted_at, learner_id, item_id, mentor_id in rows:
        facts[revision_id] = (revision_id, submission_id, submitted_at)
        submissions[submission_id] = (learner_id, item_id)
        if mentor_id is not None:
            mentors[revision_id].add(mentor_id)
    return ([WaitingRevision(revision_id=rid, submission_id=sid, submitted_at=at, target_days=cohort.review_target_days,
                             mentor_ids=tuple(sorted(mentors[rid]))) for rid, sid, at in facts.values()], submissions)


def recorded_keys(keys: Iterable[str]) -> set[str]:
    """Which of these reminders were recorded already (one query)."""
    keys = list(keys)
    return set(db.session.scalars(select(Reminder.key).where(Reminder.key.in_(keys)))) if keys else set()


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    locale: str
    reminders: str


def people(user_ids: Iterable[int]) -> dict[int, Person]:
    """The recipients (and the learners reminders name), with their e-mail preference: one query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return {row.id: Person(row.id, row.email, row.name or row.email, row.locale or "en", row.reminders or "immediate")
            for row in db.session.execute(
                select(User.id, User.email, User.name, User.locale, User.reminders)
                .where(User.id.in_(ids), User.is_active_account.is_(True)))}


@dataclass
class Titles:
    """Items' and courses' titles in each language (English, then the slug, when missing)."""

    items: dict[int, tuple[int, str, dict[str, str]]] = field(default_factory=dict)  # id -> (course, slug, titles)
    courses: dict[int, tuple[str, dict[str, str]]] = field(default_factory=dict)  # id -> (slug, titles)

    def item(self, item_id: int, lang: str) -> str:
        _course, slug, titles = self.items[item_id]
        return titles.get(lang) or titles.get("en") or slug

    def course_of(self, item_id: int, lang: str) -> str:
        slug, titles = self.courses[self.items[item_id][0]]
        return titles.get(lang) or titles.get("en") or slug


def titles(item_ids: Iterable[int]) -> Titles:
    """Two queries: the items with their courses, and their titles in every language."""
    ids = sorted(set(item_ids))
    found = Titles()
    if not ids:
        return found
    for item_id, item_slug, course_id, course_slug, course_titles in db.session.execute(
            select(Item.id, Item.slug, Course.id, Course.slug, Course.titles)
            .join(Course, Course.id == Item.course_id).where(Item.id.in_(ids))):
        found.items[item_id] = (course_id, item_slug, {})
        found.courses[course_id] = (course_slug, dict(course_titles or {}))
    for item_id, lang, title in db.session.execute(
            select(ItemTranslation.item_id, ItemTranslation.lang, ItemTranslation.title)
            .where(ItemTranslation.item_id.in_(ids))):
        found.items[item_id][2][lang] = title
    return found


def unmailed_daily(boundary: datetime, user_ids: Iterable[int] | None = None) -> dict[int, list[Reminder]]:
    """The reminders of people who chose the daily digest, recorded before ``boundary`` (and
    during the week before it) and not mailed yet, by person: one query."""
    query = (select(Reminder).join(User, User.id == Reminder.user_id)
             .where(Reminder.mailed_at.is_(None), Reminder.created_at < boundary,
                    Reminder.created_at >= boundary - timedelta(days=7),
                    User.reminders == REMINDERS_DAILY, User.is_active_account.is_(True))
             .order_by(Reminder.user_id, Reminder.id))
    if user_ids is not None:
        query = query.where(Reminder.user_id.in_(list(user_ids)))
    found: dict[int, list[Reminder]] = defaultdict(list)
    for reminder in db.session.scalars(query):
        found[reminder.user_id].append(reminder)
    return found

