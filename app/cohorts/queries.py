"""Read-only queries for the trainer's dashboard, the learner page, the exports, and the lists
the cohort pages offer (cohorts, courses, trainers, mentors).

Every function makes a fixed number of SQL statements whatever the number of learners:
per-learner facts come from GROUP BY queries over the whole cohort, and the matrix cells
from three queries over the learners of one page. Nothing here writes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import aliased

from app.assignments.models import APPROVED, CHANGES_REQUESTED, DRAFT, SUBMITTED, MentorLink, Submission
from app.auth.models import User
from app.cohorts.facts import cached as cached_facts
from app.cohorts.models import DEFAULT_TIME_ZONE, LEARNER, MENTOR, TRAINER, Cohort, CohortItemDate, Membership
from app.cohorts.risk import Risk, RiskRules, median_percent, risks_of
from app.content.models import ASSIGNMENT, LESSON, QUIZ, Course, Item, ItemTranslation
from app.database import UTCDateTime
from app.extensions import db
from app.learning.access import ItemDates, today_in
from app.learning.models import Progress
from app.quizzes.models import FINISHED, IN_PROGRESS, QuizAttempt

# Cell states, in the order the legend shows them. NOT_STARTED is an empty cell.
DONE, PASSED, FAILED, STARTED = "done", "passed", "failed", "in_progress"
NOT_STARTED = "not_started"
CELL_STATES = (DONE, PASSED, FAILED, STARTED, SUBMITTED, CHANGES_REQUESTED, APPROVED)
FILTER_STATES = CELL_STATES + (NOT_STARTED,)
PAGE_SIZE = 50


@dataclass
class Column:
    item_id: int
    course_id: int
    kind: str
    required: bool
    title: str
    label: str  # "2.3": third item of the second course
    # The item's dates in the cohort (its own, else the course's pacing; app/cohorts/schedule.py).
    opens_on: date | None = None
    due_on: date | None = None
    slug: str = ""
    requires: tuple[str, ...] = ()


@dataclass(slots=True)
class CourseTally:
    """One learner's standing in one course."""

    required_done: int = 0
    lessons_done: int = 0
    quizzes_passed: int = 0
    quizzes_failed: int = 0
    quizzes_open: int = 0
    submissions: dict[str, int] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        return bool(self.required_done or self.lessons_done or self.quizzes_passed or self.quizzes_failed
                    or self.quizzes_open or self.submissions)

    def has(self, state: str) -> bool:
        return {DONE: self.lessons_done > 0, PASSED: self.quizzes_passed > 0, FAILED: self.quizzes_failed > 0,
                STARTED: self.quizzes_open > 0 or self.submissions.get(DRAFT, 0) > 0,
                NOT_STARTED: not self.started}.get(state, self.submissions.get(state, 0) > 0)


_NO_TALLY = CourseTally()


@dataclass(slots=True)
class LearnerSummary:
    user_id: int
    name: str
    email: str
    municipality: str
    organisation: str
    joined_at: datetime
    mentor_id: int | None = None
    mentor_name: str = ""
    courses: dict[int, CourseTally] = field(default_factory=dict)
    last_activity_at: datetime | None = None
    worst_failed_attempts: int = 0
    oldest_changes_requested_at: datetime | None = None
    percent: float = 0.0
    risks: list[Risk] = field(default_factory=list)
    # Items done, by due date (only items with a due date): what the overdue count is worked out from.
    done_by_due: dict[date, int] = field(default_factory=dict)
    # Items past their due date and not done, today (worked out per view: it depends on the day).
    overdue: int = 0

    def tally(self, course_id: int) -> CourseTally:
        return self.courses.setdefault(course_id, CourseTally())

    def percent_in(self, course_ids: list[int], total: int) -> float:
        """Required items done in these courses, of `total` required items there, in %."""
        if not total:
            return 0.0
        done = sum(self.courses[c].required_done for c in course_ids if c in self.courses)
        return round(100 * done / total, 1)

    def has_state(self, state: str, course_ids: list[int]) -> bool:
        # Reads only: the facts are shared by the views of a cohort (facts.py).
        if state == NOT_STARTED:
            return all(self.courses.get(c, _NO_TALLY).has(NOT_STARTED) for c in course_ids)
        return any(self.courses.get(c, _NO_TALLY).has(state) for c in course_ids)

    def with_risks(self, risks: list[Risk], overdue: int = 0) -> LearnerSummary:
        """A copy with these risks and overdue count; the facts (courses included) are shared,
        and never changed."""
        return LearnerSummary(self.user_id, self.name, self.email, self.municipality, self.organisation,
                              self.joined_at, self.mentor_id, self.mentor_name, self.courses,
                              self.last_activity_at, self.worst_failed_attempts,
                              self.oldest_changes_requested_at, self.percent, risks, self.done_by_due, overdue)

    def overdue_on(self, today: date, due_counts: dict[date, int]) -> int:
        """How many items were due before `today` and are not done (due_counts: items by due date)."""
        return sum(count - self.done_by_due.get(day, 0) for day, count in due_counts.items() if day < today)

    def saw(self, moment: datetime | None) -> None:
        if moment is not None and (self.last_activity_at is None or moment > self.last_activity_at):
            self.last_activity_at = moment


# -- lists for the cohort pages ------------------------------------------------------------

def cohort_list(trainer_id: int | None = None) -> list[Cohort]:
    """Every cohort, or those this user trains; the latest start first."""
    query = select(Cohort).order_by(Cohort.starts_on.desc(), Cohort.name)
    if trainer_id is not None:
        query = query.join(Membership, Membership.cohort_id == Cohort.id).where(
            Membership.user_id == trainer_id, Membership.role == TRAINER)
    return list(db.session.scalars(query))


def courses_to_choose() -> list[Course]:
    """The courses a cohort may take (not retired), by slug."""
    return list(db.session.scalars(select(Course).where(Course.retired_at.is_(None)).order_by(Course.slug)))


def courses_by_id(ids: list[int] | None) -> list[Course]:
    return list(db.session.scalars(select(Course).where(Course.id.in_(ids)))) if ids else []


def trainers_of(cohort: Cohort) -> list[tuple[Membership, User]]:
    """The cohort's trainers with their memberships, by name."""
    return [(membership, user) for membership, user in db.session.execute(
        select(Membership, User).join(User, User.id == Membership.user_id).where(
            Membership.cohort_id == cohort.id, Membership.role == TRAINER).order_by(User.name))]


def mentors_of(cohort: Cohort) -> list[tuple[int, str, str]]:
    """The cohort's mentors as (id, name, e-mail), by name."""
    return [(user_id, name, email) for user_id, name, email in db.session.execute(
        select(User.id, User.name, User.email).join(Membership, Membership.user_id == User.id).where(
            Membership.cohort_id == cohort.id, Membership.role == MENTOR).order_by(User.name, User.id))]


def mentor_memberships(cohort: Cohort) -> dict[int, Membership]:
    """The mentors' memberships of the cohort, by user id."""
    return {m.user_id: m for m in db.session.scalars(select(Membership).where(
        Membership.cohort_id == cohort.id, Membership.role == MENTOR))}


def learners_without_mentor(cohort: Cohort) -> int:
    """How many of the cohort's learners have no mentor link in it."""
    linked = select(MentorLink.learner_id).where(MentorLink.cohort_id == cohort.id, MentorLink.ended_at.is_(None))
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.cohort_id == cohort.id, Membership.role == LEARNER, Membership.user_id.not_in(linked))) or 0


# -- columns -------------------------------------------------------------------------------

def columns_of(cohort: Cohort, lang: str) -> list[Column]:
    """The cohort's live items in course order, titled in lang (else English), with their dates
    in the cohort: two queries."""
    from app.cohorts.schedule import Pacing, dates_in_cohort

    course_ids = cohort.course_ids
    if not course_ids:
        return []
    order = {course_id: index for index, course_id in enumerate(course_ids)}
    rows = sorted(db.session.execute(
        select(Item, CohortItemDate.item_id, CohortItemDate.opens_on, CohortItemDate.due_on)
        .outerjoin(CohortItemDate, and_(CohortItemDate.item_id == Item.id, CohortItemDate.cohort_id == cohort.id))
        .where(Item.course_id.in_(course_ids), Item.retired_at.is_(None))).all(),
        key=lambda row: (order[row[0].course_id], row[0].position, row[0].id))
    titles = item_titles([row[0].id for row in rows], lang)
    columns, counters = [], dict.fromkeys(course_ids, 0)
    for item, own, opens_on, due_on in rows:
        counters[item.course_id] += 1
        dates = dates_in_cohort(None if own is None else ItemDates(opens_on, due_on),
                                Pacing.of(item.id, item.pacing), cohort.starts_on)
        opens_on, due_on = dates.opens_on, dates.due_on
        columns.append(Column(item_id=item.id, course_id=item.course_id, kind=item.kind, required=item.required,
                              title=titles.get(item.id) or item.slug,
                              label=f"{order[item.course_id] + 1}.{counters[item.course_id]}",
                              opens_on=opens_on, due_on=due_on, slug=item.slug,
                              requires=tuple(item.requires or ())))
    return columns


def item_titles(item_ids: list[int], lang: str) -> dict[int, str]:
    """The items' titles in lang, else in English (items without either are left out): one query."""
    if not item_ids:
        return {}
    titles = {(item_id, tr_lang): title for item_id, tr_lang, title in db.session.execute(
        select(ItemTranslation.item_id, ItemTranslation.lang, ItemTranslation.title).where(
            ItemTranslation.item_id.in_(item_ids), ItemTranslation.lang.in_({lang, "en"})))}
    found = {item_id: titles.get((item_id, lang)) or titles.get((item_id, "en")) for item_id in item_ids}
    return {item_id: title for item_id, title in found.items() if title}


def required_counts(columns: list[Column]) -> dict[int, int]:
    """How many required items each course has."""
    counts: dict[int, int] = {}
    for column in columns:
        if column.required:
            counts[column.course_id] = counts.get(column.course_id, 0) + 1
    return counts


def _learner_ids(cohort: Cohort):
    return select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == LEARNER)


# -- per-learner facts for the whole cohort -------------------------------------------------

def learner_summaries(cohort: Cohort, columns: list[Column], now: datetime) -> list[LearnerSummary]:
    """Every learner of the cohort with their standing per course, last activity and risks,
    in name order.

    The facts come from the cohort's cache (app/cohorts/facts.py), else from four queries whatever
    the number of learners (members, progress, quizzes, submissions); the risks, which depend on
    `now` and the cohort's rules, are worked out here on each call, on copies of the cached facts.
    """
    key = ("summaries", cohort.id, cohort.created_at, cohort.facts_version, tuple(cohort.course_ids),
           tuple((c.item_id, c.course_id, c.kind, c.required, c.due_on) for c in columns))
    facts, median = cached_facts(db.session, key, lambda: _learner_facts(cohort, columns))
    rules = RiskRules.of(cohort)
    due_counts = due_counts_of(columns)
    today = today_in(cohort.time_zone or DEFAULT_TIME_ZONE, now)
    summaries = []
    for summary in facts:
        # A summary has the attributes the rules read (LearnerFacts'); most learners have no
        # risk and are shown as cached (their risks: the empty list, never changed).
        overdue = summary.overdue_on(today, due_counts) if due_counts else 0
        risks = risks_of(summary, median=median, now=now, rules=rules, overdue=overdue)
        summaries.append(summary.with_risks(risks, overdue) if risks or overdue else summary)
    return summaries


def due_counts_of(columns: list[Column]) -> dict[date, int]:
    """How many of these items are due on each day."""
    counts: dict[date, int] = {}
    for column in columns:
        if column.due_on is not None:
            counts[column.due_on] = counts.get(column.due_on, 0) + 1
    return counts


def overdue_by_item(cohort: Cohort, summaries: list[LearnerSummary], columns: list[Column], now: datetime,
                    time_zone: str) -> dict[int, int]:
    """For each item past its due date that some learners have not done (nor handed in, for work
    waiting for its review), how many (item_done_counts)."""
    today = today_in(time_zone or DEFAULT_TIME_ZONE, now)
    past = [c for c in columns if c.due_on is not None and c.due_on < today]
    if not past or not summaries:
        return {}
    done, handed_in = _dated_item_counts(cohort, columns)
    found = {c.item_id: len(summaries) - done.get(c.item_id, 0) - handed_in.get(c.item_id, 0) for c in past}
    return {item_id: count for item_id, count in found.items() if count > 0}


def item_done_counts(cohort: Cohort, columns: list[Column]) -> dict[int, int]:
    """How many of the cohort's learners have done each item that has a due date: one query,
    kept with the cohort's facts (progress and members bump their version)."""
    return _dated_item_counts(cohort, columns)[0]


def _dated_item_counts(cohort: Cohort, columns: list[Column]) -> tuple[dict[int, int], dict[int, int]]:
    """Per item with a due date: how many learners finished it, and how many handed it in and
    wait for its review (one statement, cached with the cohort's facts)."""
    dated = [c.item_id for c in columns if c.due_on is not None]
    key = ("dated_item_counts", cohort.id, cohort.created_at, cohort.facts_version, tuple(dated))

    def compute() -> tuple[dict[int, int], dict[int, int]]:
        if not dated:
            return {}, {}
        learners = _learner_ids(cohort)
        done = (select(Progress.item_id.label("item_id"), literal(0).label("waiting"),
                       func.count(Progress.id).label("n"))
                .where(Progress.user_id.in_(learners), Progress.item_id.in_(dated))
                .group_by(Progress.item_id))
        waiting = (select(Submission.item_id.label("item_id"), literal(1).label("waiting"),
                          func.count(Submission.id).label("n"))
                   .where(Submission.cohort_id == cohort.id, Submission.state == SUBMITTED,
                          Submission.user_id.in_(learners), Submission.item_id.in_(dated))
                   .group_by(Submission.item_id))
        found: tuple[dict[int, int], dict[int, int]] = ({}, {})
        for item_id, is_waiting, count in db.session.execute(union_all(done, waiting)).all():
            found[int(is_waiting)][item_id] = count
        return found

    return cached_facts(db.session, key, compute)


def _learner_facts(cohort: Cohort, columns: list[Column]) -> tuple[tuple[LearnerSummary, ...], float]:
    """The facts of every learner (without risks), in name order, and the median completion."""
    summaries = _members(cohort)
    item_ids = [column.item_id for column in columns]
    if item_ids:
        _add_progress(summaries, cohort, item_ids, columns)
        _add_quizzes(summaries, cohort, item_ids)
        _add_submissions(summaries, cohort, item_ids, columns)
    course_ids = list(cohort.course_ids)
    total = sum(required_counts(columns).values())
    for summary in summaries.values():
        summary.percent = summary.percent_in(course_ids, total)
    median = median_percent([s.percent for s in summaries.values()])
    return tuple(sorted(summaries.values(), key=lambda s: (s.name.casefold(), s.email))), median


def _members(cohort: Cohort) -> dict[int, LearnerSummary]:
    mentor = aliased(User)
    rows = db.session.execute(
        select(Membership.user_id, Membership.created_at, User.name, User.email, User.municipality,
               User.organisation, MentorLink.mentor_id, mentor.name, mentor.email)
        .join(User, User.id == Membership.user_id)
        .outerjoin(MentorLink, and_(MentorLink.learner_id == Membership.user_id, MentorLink.cohort_id == cohort.id,
                                    MentorLink.ended_at.is_(None)))
        .outerjoin(mentor, mentor.id == MentorLink.mentor_id)
        .where(Membership.cohort_id == cohort.id, Membership.role == LEARNER)
        .order_by(Membership.user_id, MentorLink.id.desc())).all()
    found: dict[int, LearnerSummary] = {}
    for user_id, joined_at, name, email, municipality, organisation, mentor_id, mentor_name, mentor_email in rows:
        if user_id not in found:  # the newest link, should a learner have two
            found[user_id] = LearnerSummary(user_id=user_id, name=name or email, email=email,
                                            municipality=municipality or "", organisation=organisation or "",
                                            joined_at=joined_at, mentor_id=mentor_id,
                                            mentor_name=(mentor_name or mentor_email or "") if mentor_id else "")
    return found


def _add_progress(summaries: dict[int, LearnerSummary], cohort: Cohort, item_ids: list[int],
                  columns: list[Column] | None = None) -> None:
    # With a schedule, also the items done per due date (one more count per distinct due date,
    # in the same statement): the overdue counts come from these.
    by_due: dict[date, list[int]] = {}
    for column in columns or ():
        if column.due_on is not None:
            by_due.setdefault(column.due_on, []).append(column.item_id)
    days = sorted(by_due)
    rows = db.session.execute(
        select(Progress.user_id, Item.course_id,
               func.count(case((Item.required.is_(True), Progress.id))),
               func.count(case((Item.kind == LESSON, Progress.id))),
               func.max(case((Item.kind == LESSON, Progress.completed_at))),
               *[func.count(case((Progress.item_id.in_(by_due[day]), Progress.id))) for day in days])
        .join(Item, Item.id == Progress.item_id)
        .where(Progress.user_id.in_(_learner_ids(cohort)), Progress.item_id.in_(item_ids))
        .group_by(Progress.user_id, Item.course_id)).all()
    for user_id, course_id, required_done, lessons_done, last_lesson_at, *per_day in rows:
        summary = summaries[user_id]
        tally = summary.tally(course_id)
        tally.required_done, tally.lessons_done = required_done, lessons_done
        summary.saw(last_lesson_at)
        for day, count in zip(days, per_day, strict=True):
            if count:
                summary.done_by_due[day] = summary.done_by_due.get(day, 0) + count


def _add_quizzes(summaries: dict[int, LearnerSummary], cohort: Cohort, item_ids: list[int]) -> None:
    finished = QuizAttempt.state == FINISHED
    per_item = (
        select(QuizAttempt.user_id.label("user_id"), Item.course_id.label("course_id"),
               func.sum(case((and_(finished, QuizAttempt.passed.is_(True)), 1), else_=0)).label("passes"),
               func.sum(case((finished, 1), else_=0)).label("finished"),
               func.sum(case((QuizAttempt.state == IN_PROGRESS, 1), else_=0)).label("open"),
               # An attempt finishes after it starts: the latest of either is this.
               func.max(func.coalesce(QuizAttempt.finished_at, QuizAttempt.started_at)).label("last_at"))
        .join(Item, Item.id == QuizAttempt.item_id)
        .where(QuizAttempt.user_id.in_(_learner_ids(cohort)), QuizAttempt.item_id.in_(item_ids))
        .group_by(QuizAttempt.user_id, QuizAttempt.item_id, Item.course_id)).subquery()
    unpassed = per_item.c.passes == 0
    rows = db.session.execute(
        select(per_item.c.user_id, per_item.c.course_id,
               func.sum(case((per_item.c.passes > 0, 1), else_=0)),
               func.sum(case((and_(unpassed, per_item.c.finished > 0), 1), else_=0)),
               func.sum(case((and_(per_item.c.finished == 0, per_item.c.open > 0), 1), else_=0)),
               func.max(case((unpassed, per_item.c.finished), else_=0)),
               type_coerce(func.max(per_item.c.last_at), UTCDateTime))
        .group_by(per_item.c.user_id, per_item.c.course_id)).all()
    for user_id, course_id, passed, failed, open_, worst, last_at in rows:
        summary = summaries[user_id]
        tally = summary.tally(course_id)
        tally.quizzes_passed, tally.quizzes_failed, tally.quizzes_open = passed or 0, failed or 0, open_ or 0
        summary.worst_failed_attempts = max(summary.worst_failed_attempts, worst or 0)
        summary.saw(last_at)


def _add_submissions(summaries: dict[int, LearnerSummary], cohort: Cohort, item_ids: list[int],
                     columns: list[Column] | None = None) -> None:
    # The learner's last action on a submission: editing the draft, or submitting (which comes
    # after creating it). A mentor's review also touches updated_at, so that counts only for drafts.
    learner_at = case((Submission.state == DRAFT, Submission.updated_at),
                      else_=func.coalesce(Submission.submitted_at, Submission.created_at))
    # Work handed in and waiting for its review is not overdue (as on the learner's pages and in
    # the reminders): with a schedule, the handed-in items per due date, in the same statement.
    by_due: dict[date, list[int]] = {}
    for column in columns or ():
        if column.due_on is not None:
            by_due.setdefault(column.due_on, []).append(column.item_id)
    days = sorted(by_due)
    rows = db.session.execute(
        select(Submission.user_id, Item.course_id, Submission.state, func.count(Submission.id),
               type_coerce(func.max(learner_at), UTCDateTime),
               func.min(case((Submission.state == CHANGES_REQUESTED, Submission.updated_at))),
               *[func.count(case((Submission.item_id.in_(by_due[day]), Submission.id))) for day in days])
        .join(Item, Item.id == Submission.item_id)
        .where(Submission.cohort_id == cohort.id, Submission.user_id.in_(_learner_ids(cohort)),
               Submission.item_id.in_(item_ids))
        .group_by(Submission.user_id, Item.course_id, Submission.state)).all()
    for user_id, course_id, state, count, last_at, changes_requested_at, *per_day in rows:
        summary = summaries[user_id]
        summary.tally(course_id).submissions[state] = count
        summary.saw(last_at)
        if state == SUBMITTED:
            for day, handed_in in zip(days, per_day, strict=True):
                if handed_in:
                    summary.done_by_due[day] = summary.done_by_due.get(day, 0) + handed_in
        if changes_requested_at is not None and (summary.oldest_changes_requested_at is None
                                                 or changes_requested_at < summary.oldest_changes_requested_at):
            summary.oldest_changes_requested_at = changes_requested_at


# -- the matrix -------------------------------------------------------------------------------

def cell_state(kind: str, *, done: bool, quiz: tuple[int, int, int] | None, submission: str | None) -> str:
    """What one cell shows. quiz = (passed attempts, finished attempts, open attempts)."""
    if kind == QUIZ:
        passes, finished, open_ = quiz or (0, 0, 0)
        if passes or done:
            return PASSED
        return FAILED if finished else STARTED if open_ else NOT_STARTED
    if kind == ASSIGNMENT:
        if submission == APPROVED or done:
            return APPROVED
        if submission in (SUBMITTED, CHANGES_REQUESTED):
            return submission
        return STARTED if submission == DRAFT else NOT_STARTED
    return DONE if done else NOT_STARTED


def cells_for(cohort: Cohort, user_ids: list[int], columns: list[Column], *, all_learners: bool = False
              ) -> dict[int, list[str]]:
    """The state of every cell for these learners of the cohort (one page): three queries.
    Submissions count when they belong to this cohort.

    With `all_learners`, the learners are selected by a subquery instead of a list of ids (exports).
    """
    item_ids = [column.item_id for column in columns]
    if not user_ids or not item_ids:
        return {user_id: [] for user_id in user_ids}
    among = _learner_ids(cohort) if all_learners else user_ids
    done = {(u, i) for u, i in db.session.execute(select(Progress.user_id, Progress.item_id).where(
        Progress.user_id.in_(among), Progress.item_id.in_(item_ids)))}
    finished = QuizAttempt.state == FINISHED
    quizzes = {(u, i): (p or 0, f or 0, o or 0) for u, i, p, f, o in db.session.execute(
        select(QuizAttempt.user_id, QuizAttempt.item_id,
               func.sum(case((and_(finished, QuizAttempt.passed.is_(True)), 1), else_=0)),
               func.sum(case((finished, 1), else_=0)),
               func.sum(case((QuizAttempt.state == IN_PROGRESS, 1), else_=0)))
        .where(QuizAttempt.user_id.in_(among), QuizAttempt.item_id.in_(item_ids))
        .group_by(QuizAttempt.user_id, QuizAttempt.item_id))}
    submissions = {(u, i): s for u, i, s in db.session.execute(
        select(Submission.user_id, Submission.item_id, Submission.state).where(
            Submission.cohort_id == cohort.id, Submission.user_id.in_(among), Submission.item_id.in_(item_ids)))}
    return {user_id: [cell_state(c.kind, done=(user_id, c.item_id) in done,
                                 quiz=quizzes.get((user_id, c.item_id)),
                                 submission=submissions.get((user_id, c.item_id))) for c in columns]
            for user_id in user_ids}


@dataclass
class Filters:
    course_id: int | None = None
    municipality: str = ""
    mentor_id: int | None = None  # 0: learners without a mentor
    state: str = ""
    at_risk: bool = False
    search: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass
class MatrixRow:
    learner: LearnerSummary
    percent: float
    cells: list[str]


@dataclass
class Matrix:
    columns: list[Column]
    rows: list[MatrixRow]
    matched: int
    page: int
    pages: int


def select_learners(summaries: list[LearnerSummary], filters: Filters, course_ids: list[int],
                    required: dict[int, int]) -> list[tuple[LearnerSummary, float]]:
    """Filter and sort the learners (in memory: their facts are already loaded), each with
    their completion in these courses. The summaries come in name order."""
    needle = filters.search.casefold().strip()
    total = sum(required.get(course_id, 0) for course_id in course_ids)
    every_course = set(course_ids) == set(required)
    chosen = []
    for s in summaries:
        if filters.municipality and s.municipality != filters.municipality:
            continue
        if filters.mentor_id is not None and (s.mentor_id or 0) != filters.mentor_id:
            continue
        if filters.state and not s.has_state(filters.state, course_ids):
            continue
        if filters.at_risk and not s.risks:
            continue
        if needle and needle not in s.name.casefold() and needle not in s.email:
            continue
        chosen.append((s, s.percent if every_course else s.percent_in(course_ids, total)))
    by_name = lambda pair: (pair[0].name.casefold(), pair[0].email)  # noqa: E731
    keys = {"completion": lambda pair: pair[1],
            "activity": lambda pair: pair[0].last_activity_at or pair[0].joined_at,
            "risk": lambda pair: len(pair[0].risks), "name": by_name}
    # The summaries come in name order (learner_summaries), and sorting is stable, also in
    # reverse: ties stay in name order whichever way the sort goes.
    if filters.sort != "name" or filters.descending:
        chosen.sort(key=keys.get(filters.sort, by_name), reverse=filters.descending)
    return chosen


def matrix(summaries: list[LearnerSummary], columns: list[Column], filters: Filters, cohort: Cohort,
           page_size: int = PAGE_SIZE) -> Matrix:
    """One page of the progress matrix for the filters: three queries for the cells."""
    course_ids = [filters.course_id] if filters.course_id in cohort.course_ids else list(cohort.course_ids)
    shown = [column for column in columns if column.course_id in course_ids]
    chosen = select_learners(summaries, filters, course_ids, required_counts(columns))
    pages = max(1, math.ceil(len(chosen) / page_size))
    page = min(max(1, filters.page), pages)
    visible = chosen[(page - 1) * page_size: page * page_size]
    cells = cells_for(cohort, [s.user_id for s, _ in visible], shown)
    return Matrix(columns=shown, rows=[MatrixRow(s, percent, cells[s.user_id]) for s, percent in visible],
                  matched=len(chosen), page=page, pages=pages)
