"""Read-only figures around the matrix: mentors' backlog and turnaround, the funnel per course,
the series behind the charts, and one learner's page. A fixed number of queries each."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import selectinload

from app.assignments.models import SUBMITTED, MentorLink, Review, Revision, Submission
from app.auth.models import User
from app.cohorts.facts import cached as cached_facts
from app.cohorts.models import LEARNER, MENTOR, Cohort, CohortCourse, Membership
from app.cohorts.queries import (
    PAGE_SIZE,
    Column,
    Filters,
    LearnerSummary,
    Matrix,
    cells_for,
    columns_of,
    learner_summaries,
    matrix,
    overdue_by_item,
    required_counts,
)
from app.cohorts.risk import median_percent
from app.cohorts.sql import seconds_between
from app.content.models import Course
from app.core.dates import local_date
from app.extensions import db
from app.learning.models import Enrolment, Progress
from app.quizzes.models import FINISHED, QuizAttempt

SCORE_BUCKETS = 10


def _learner_ids(cohort: Cohort):
    return select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == LEARNER)


def _mentor_ids(cohort: Cohort):
    return select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == MENTOR)


# -- mentors ----------------------------------------------------------------------------------

@dataclass
class MentorLoad:
    user_id: int
    name: str
    email: str
    learners: int = 0
    waiting: int = 0
    oldest_waiting_at: datetime | None = None
    median_turnaround_seconds: float | None = None

    @property
    def median_turnaround_hours(self) -> float | None:
        if self.median_turnaround_seconds is None:
            return None
        return round(self.median_turnaround_seconds / 3600, 1)


def mentor_loads(cohort: Cohort, item_ids: list[int]) -> list[MentorLoad]:
    """Each mentor of the cohort: learners here, submitted work waiting, median turnaround
    (a revision's submitted_at to its first review's sent_at). Four queries."""
    loads = {user_id: MentorLoad(user_id=user_id, name=name or email, email=email)
             for user_id, name, email in db.session.execute(
                 select(User.id, User.name, User.email).where(User.id.in_(_mentor_ids(cohort)))
                 .order_by(User.name, User.id))}
    if not loads:
        return []
    active = (MentorLink.cohort_id == cohort.id) & MentorLink.ended_at.is_(None)
    for mentor_id, count in db.session.execute(
            select(MentorLink.mentor_id, func.count(MentorLink.id)).where(active).group_by(MentorLink.mentor_id)):
        if mentor_id in loads:
            loads[mentor_id].learners = count
    if item_ids:
        for mentor_id, waiting, oldest in db.session.execute(
                select(MentorLink.mentor_id, func.count(Submission.id), func.min(Submission.submitted_at))
                .join(Submission, (Submission.user_id == MentorLink.learner_id) & (Submission.cohort_id == cohort.id))
                .where(active, Submission.state == SUBMITTED, Submission.item_id.in_(item_ids))
                .group_by(MentorLink.mentor_id)):
            if mentor_id in loads:
                loads[mentor_id].waiting, loads[mentor_id].oldest_waiting_at = waiting, oldest
        for mentor_id, median in _median_turnarounds(cohort, item_ids):
            if mentor_id in loads:
                loads[mentor_id].median_turnaround_seconds = float(median)
    return list(loads.values())


def cached_mentor_loads(cohort: Cohort, item_ids: list[int]) -> list[MentorLoad]:
    """mentor_loads, kept with the cohort's facts (app/cohorts/facts.py): mentors' links, the
    work waiting and the reviews sent all bump the cohort's facts version. Not changed by
    callers (the template only reads them)."""
    key = ("mentors", cohort.id, cohort.created_at, cohort.facts_version, tuple(item_ids))
    return cached_facts(db.session, key, lambda: mentor_loads(cohort, item_ids))


def _median_turnarounds(cohort: Cohort, item_ids: list[int]):
    # The median in SQL with window functions (SQLite >= 3.25 and PostgreSQL), per mentor.
    durations = (
        select(Review.mentor_id.label("mentor_id"),
               seconds_between(Review.sent_at, Revision.submitted_at).label("seconds"))
        .join(Revision, Revision.id == Review.revision_id)
        .join(Submission, Submission.id == Revision.submission_id)
        .where(Review.mentor_id.in_(_mentor_ids(cohort)), Review.corrects_id.is_(None),
               Submission.cohort_id == cohort.id, Submission.user_id.in_(_learner_ids(cohort)),
               Submission.item_id.in_(item_ids))).subquery()
    ranked = select(
        durations.c.mentor_id, durations.c.seconds,
        func.row_number().over(partition_by=durations.c.mentor_id, order_by=durations.c.seconds).label("rank"),
        func.count().over(partition_by=durations.c.mentor_id).label("n")).subquery()
    middle = or_(ranked.c.rank == (ranked.c.n + 1) // 2, ranked.c.rank == (ranked.c.n + 2) // 2)
    return db.session.execute(select(ranked.c.mentor_id, func.avg(ranked.c.seconds))
                              .where(middle).group_by(ranked.c.mentor_id)).all()


# -- funnel -----------------------------------------------------------------------------------

@dataclass
class FunnelRow:
    course: Course
    enrolled: int
    started: int
    half: int
    completed: int


def funnel(cohort: Cohort, summaries: list[LearnerSummary], columns: list[Column]) -> list[FunnelRow]:
    """Per course: learners enrolled → started → at least half done → completed. One query."""
    enrolled = dict(db.session.execute(
        select(Enrolment.course_id, func.count(Enrolment.id))
        .where(Enrolment.user_id.in_(_learner_ids(cohort)), Enrolment.course_id.in_(cohort.course_ids))
        .group_by(Enrolment.course_id)).all()) if cohort.course_ids else {}
    required = required_counts(columns)
    rows = []
    for course in cohort.courses:
        total = required.get(course.id, 0)
        tallies = [s.courses[course.id] for s in summaries if course.id in s.courses]
        rows.append(FunnelRow(
            course=course, enrolled=enrolled.get(course.id, 0),
            started=sum(1 for t in tallies if t.started),
            half=sum(1 for t in tallies if total and 2 * t.required_done >= total),
            completed=sum(1 for t in tallies if total and t.required_done >= total)))
    return rows


# -- chart series -----------------------------------------------------------------------------

def completion_series(cohort: Cohort, columns: list[Column], learners: int) -> list[tuple[date, float]]:
    """By day: the share (%) of the required items of all learners done so far. One query."""
    required_ids = [c.item_id for c in columns if c.required]
    if not required_ids or not learners:
        return []
    # Days are the programme's days (a completion at 01:00 Tbilisi time is on that day, not the
    # UTC day before), so the moments are counted here rather than grouped by the database.
    moments = db.session.scalars(
        select(Progress.completed_at)
        .where(Progress.user_id.in_(_learner_ids(cohort)), Progress.item_id.in_(required_ids),
               Progress.completed_at.is_not(None))).all()
    per_day = Counter(local_date(moment) for moment in moments)
    possible = learners * len(required_ids)
    series, running = [], 0
    for day in sorted(per_day):
        running += per_day[day]
        series.append((day, round(100 * running / possible, 1)))
    return series


def score_histogram(cohort: Cohort, columns: list[Column]) -> list[int]:
    """How many (learner, quiz) best scores fall in 0–9 %, 10–19 % … 90–100 %. One query."""
    quiz_ids = [c.item_id for c in columns if c.kind == "quiz"]
    counts = [0] * SCORE_BUCKETS
    if not quiz_ids:
        return counts
    best = (select(func.max(QuizAttempt.percent).label("best"))
            .where(QuizAttempt.user_id.in_(_learner_ids(cohort)), QuizAttempt.item_id.in_(quiz_ids),
                   QuizAttempt.state == FINISHED, QuizAttempt.percent.is_not(None))
            .group_by(QuizAttempt.user_id, QuizAttempt.item_id)).subquery()
    bucket = case(*[(best.c.best >= 10 * n, n) for n in range(SCORE_BUCKETS - 1, 0, -1)], else_=0)
    for index, count in db.session.execute(select(bucket, func.count()).group_by(bucket)):
        counts[int(index)] = count
    return counts


# -- one learner ------------------------------------------------------------------------------

@dataclass
class LearnerPage:
    learner: User
    columns: list[Column]
    states: list[str]
    attempts: list[QuizAttempt]
    submissions: list[Submission]
    mentor: User | None
    titles: dict[int, str]


def learner_page(cohort: Cohort, learner: User, columns: list[Column]) -> LearnerPage:
    """A learner's items and states, quiz attempts and submissions in the cohort's courses (the
    submissions that belong to this cohort)."""
    item_ids = [c.item_id for c in columns]
    states = cells_for(cohort, [learner.id], columns)[learner.id]
    attempts = list(db.session.scalars(select(QuizAttempt).where(
        QuizAttempt.user_id == learner.id, QuizAttempt.item_id.in_(item_ids))
        .order_by(QuizAttempt.item_id, QuizAttempt.number))) if item_ids else []
    submissions = list(db.session.scalars(
        select(Submission).where(Submission.user_id == learner.id, Submission.cohort_id == cohort.id,
                                 Submission.item_id.in_(item_ids))
        .options(selectinload(Submission.revisions).selectinload(Revision.reviews))
        .order_by(Submission.item_id))) if item_ids else []
    mentor = db.session.scalar(select(User).join(MentorLink, MentorLink.mentor_id == User.id).where(
        MentorLink.learner_id == learner.id, MentorLink.cohort_id == cohort.id, MentorLink.ended_at.is_(None))
        .order_by(MentorLink.id.desc()).limit(1))
    return LearnerPage(learner=learner, columns=columns, states=states, attempts=attempts,
                       submissions=submissions, mentor=mentor, titles={c.item_id: c.title for c in columns})


# -- the dashboard ------------------------------------------------------------------------------

@dataclass
class Dashboard:
    cohort: Cohort
    columns: list[Column]
    matrix: Matrix
    learners: int
    at_risk: list[LearnerSummary]
    median: float
    mentors: list[MentorLoad]
    funnel: list[FunnelRow]
    municipalities: list[str]
    # The items past their due date that some learners have not done, with how many.
    overdue_items: list[tuple[Column, int]]
    # Whether the cohort has dates at all (the overdue column is shown only then).
    scheduled: bool


def dashboard(cohort: Cohort, filters: Filters, lang: str, now: datetime, page_size: int = PAGE_SIZE) -> Dashboard:
    """Everything the trainer's dashboard shows but the charts (their own pages and images):
    about twenty queries for 10 or 5,000 learners."""
    columns = columns_of(cohort, lang)
    summaries = learner_summaries(cohort, columns, now)
    item_ids = [c.item_id for c in columns]
    at_risk = sorted((s for s in summaries if s.risks), key=lambda s: (-len(s.risks), s.name.casefold()))
    overdue = overdue_by_item(cohort, summaries, columns, now, cohort.time_zone)
    return Dashboard(
        cohort=cohort, columns=columns, matrix=matrix(summaries, columns, filters, cohort, page_size),
        learners=len(summaries), at_risk=at_risk, median=median_percent([s.percent for s in summaries]),
        mentors=cached_mentor_loads(cohort, item_ids), funnel=funnel(cohort, summaries, columns),
        municipalities=sorted({s.municipality for s in summaries if s.municipality}),
        overdue_items=[(c, overdue[c.item_id]) for c in columns if c.item_id in overdue],
        scheduled=any(c.due_on is not None or c.opens_on is not None for c in columns))


def chart_data(cohort: Cohort, kind: str, lang: str) -> list:
    """The numbers behind one chart ("completion" or "scores"), as the dashboard computes them."""
    columns = columns_of(cohort, lang)
    if kind == "completion":
        learners = db.session.scalar(select(func.count()).select_from(_learner_ids(cohort).subquery())) or 0
        return completion_series(cohort, columns, learners)
    return score_histogram(cohort, columns)


def weekly(series: list[tuple[date, float]], weeks: int = 26) -> list[tuple[date, float]]:
    """The last value of each week (at most the last `weeks`): the table beside the chart."""
    last: dict[tuple[int, int], tuple[date, float]] = {}
    for day, value in series:
        last[day.isocalendar()[:2]] = (day, value)
    return list(last.values())[-weeks:]


# -- early releases for one learner -------------------------------------------------------------

@dataclass
class ReleaseRow:
    item_id: int
    course: str
    title: str
    lock: object | None  # learning's Lock: why it is closed (None: released, open)
    opens_on: date | None
    needs: list[str]  # titles of the items to finish first


@dataclass
class Releases:
    locked: list[ReleaseRow]
    released: list[ReleaseRow]


def releases(cohort: Cohort, learner: User, columns: list[Column], lang: str, now: datetime) -> Releases:
    """The learner's locked items in the cohort's courses, and the items released early for
    them here: three queries whatever the number of courses.

    The locks are learning's rules (app.learning.access.locks) over this cohort's dates, its
    releases and the learner's finished items. A learner's schedule in a course comes from the
    cohort their work there belongs to (the first they joined with it, app/cohorts/scope.py);
    for a course where that is another cohort, learning's own outline says what is locked.
    """
    from app.cohorts.schedule import released_items
    from app.learning.access import ItemDates, ItemFacts, Schedule, locks, today_in
    from app.learning.queries import course_outline

    course_ids = cohort.course_ids
    first: dict[int, int] = {}
    for course_id, cohort_id in db.session.execute(
            select(CohortCourse.course_id, Membership.cohort_id)
            .join(Membership, Membership.cohort_id == CohortCourse.cohort_id)
            .where(Membership.user_id == learner.id, Membership.role == LEARNER,
                   CohortCourse.course_id.in_(course_ids))
            .order_by(Membership.created_at, Membership.id)):
        first.setdefault(course_id, cohort_id)
    released = released_items(cohort, learner.id)
    item_ids = [c.item_id for c in columns]
    done_ids = set(db.session.scalars(select(Progress.item_id).where(
        Progress.user_id == learner.id, Progress.item_id.in_(item_ids)))) if item_ids else set()
    schedule = Schedule(cohort_id=cohort.id, time_zone=cohort.time_zone, today=today_in(cohort.time_zone, now),
                        dates={c.item_id: ItemDates(c.opens_on, c.due_on) for c in columns},
                        released=frozenset(released))
    found = Releases([], [])
    for course in cohort.courses:
        shown = [c for c in columns if c.course_id == course.id]
        titles = {c.slug: c.title for c in shown}
        if first.get(course.id, cohort.id) == cohort.id:
            rows = [(c.item_id, c.title) for c in shown]
            locked = locks([ItemFacts(c.item_id, c.slug, c.requires) for c in shown],
                           {c.slug for c in shown if c.item_id in done_ids}, schedule)
        else:  # their schedule in this course comes from another cohort
            outline = course_outline(learner, course, lang)
            rows = [(row.item.id, row.title) for row in outline.rows]
            locked = {row.item.id: row.lock for row in outline.rows if row.lock is not None}
        for item_id, title in rows:
            lock = locked.get(item_id)
            entry = ReleaseRow(item_id, course.title(lang), title, lock, lock.opens_on if lock else None,
                               [titles.get(slug, slug) for slug in lock.missing] if lock else [])
            if item_id in released:
                found.released.append(entry)
            elif lock is not None:
                found.locked.append(entry)
    return found
