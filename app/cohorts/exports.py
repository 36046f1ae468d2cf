"""CSV exports of a cohort: progress, quiz grades, rubric scores, certificates.

UTF-8 with a byte order mark (Excel then reads Georgian, Armenian and Azerbaijani correctly)
and CRLF line ends. A text cell that starts with = + - @, a tab or a carriage return is
prefixed with an apostrophe, so that a spreadsheet shows it as text instead of running it as
a formula (OWASP "CSV injection"). Each export makes a fixed number of queries.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Row, case, func, select
from sqlalchemy.orm import aliased

from app.assignments.models import APPROVE, REQUEST_CHANGES, SUBMITTED, Review, Revision, Submission
from app.auth.models import User
from app.certificates.models import Certificate
from app.cohorts.labels import kind_labels, risk_text, state_labels
from app.cohorts.models import LEARNER, Cohort, Membership
from app.cohorts.queries import Column, cells_for, learner_summaries
from app.content.models import Course, ItemTranslation
from app.core.dates import local_moment, programme_zone
from app.extensions import db
from app.learning.access import today_in
from app.learning.models import Progress
from app.quizzes.models import FINISHED, QuizAttempt

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
KINDS = ("progress", "quizzes", "rubric", "certificates", "schedule")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet should see it: text that could start a formula gets a '."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_moment(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """The rows as CSV bytes: BOM, CRLF, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _learner_ids(cohort: Cohort):
    return select(Membership.user_id).where(Membership.cohort_id == cohort.id, Membership.role == LEARNER)


def progress_csv(cohort: Cohort, columns: list[Column], now: datetime) -> bytes:
    """One row per learner: who, mentor, completion, last activity, risks, and each item's state."""
    summaries = learner_summaries(cohort, columns, now)
    cells = cells_for(cohort, [s.user_id for s in summaries], columns, all_learners=True)
    header = [_("Name"), _("E-mail address"), _("Municipality"), _("Organisation"), _("Mentor"),
              _("Completion (%)"), _("Last activity (%(zone)s)", zone=programme_zone().key), _("At risk")]
    header += [f"{c.label} {c.title}" for c in columns]
    labels = state_labels()
    rows = ([s.name, s.email, s.municipality, s.organisation, s.mentor_name, s.percent, s.last_activity_at,
             "; ".join(risk_text(r) for r in s.risks)] + [labels[state] for state in cells[s.user_id]]
            for s in summaries)
    return to_csv(header, rows)


def quizzes_csv(cohort: Cohort, columns: list[Column]) -> bytes:
    """One row per learner and quiz tried: attempts, best score, passed."""
    titles = {c.item_id: (c.label, c.title) for c in columns if c.kind == "quiz"}
    rows: Sequence[Row[*tuple[Any, ...]]] = []
    if titles:
        finished = QuizAttempt.state == FINISHED
        rows = db.session.execute(
            select(User.name, User.email, QuizAttempt.item_id, func.count(QuizAttempt.id),
                   func.max(QuizAttempt.percent),
                   func.max(case((QuizAttempt.passed.is_(True), 1), else_=0)), func.max(QuizAttempt.finished_at))
            .join(User, User.id == QuizAttempt.user_id)
            .where(QuizAttempt.user_id.in_(_learner_ids(cohort)), QuizAttempt.item_id.in_(list(titles)), finished)
            .group_by(User.name, User.email, QuizAttempt.item_id).order_by(User.name, User.email)).all()
    header = [_("Name"), _("E-mail address"), _("Item"), _("Quiz"), _("Finished attempts"), _("Best score (%)"),
              _("Passed"), _("Last finished (%(zone)s)", zone=programme_zone().key)]
    return to_csv(header, ([name, email, titles[item_id][0], titles[item_id][1], count, best,
                            _("yes") if passed else _("no"), last]
                           for name, email, item_id, count, best, passed, last in rows))


def _criteria(columns: list[Column], lang: str) -> list[tuple[str, str]]:
    """(criterion id, title) over the cohort's assignments, in order of first appearance."""
    ids = [c.item_id for c in columns if c.kind == "assignment"]
    if not ids:
        return []
    translations = {}
    for translation in db.session.scalars(select(ItemTranslation).where(
            ItemTranslation.item_id.in_(ids), ItemTranslation.lang.in_({lang, "en"}))):
        if translation.lang == lang or translation.item_id not in translations:
            translations[translation.item_id] = translation
    found: dict[str, str] = {}
    for item_id in ids:
        data = translations[item_id].data if item_id in translations else {}
        rubric = (data or {}).get("rubric") or ((data or {}).get("meta") or {}).get("rubric") or []
        if isinstance(rubric, dict):
            rubric = rubric.get("criteria", [])
        for criterion in rubric:
            found.setdefault(str(criterion.get("id")), str(criterion.get("title") or criterion.get("id")))
    return list(found.items())


def _points(value: Any) -> Any:
    """4.0 → 4: rubric points may be decimals, but are mostly whole."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _decision(code: str) -> str:
    return {APPROVE: _("approved"), REQUEST_CHANGES: _("changes requested")}.get(code, code)


def rubric_csv(cohort: Cohort, columns: list[Column], lang: str) -> bytes:
    """One row per learner and assignment reviewed: the latest review's decision, total and the
    points per rubric criterion (one column per criterion)."""
    titles = {c.item_id: (c.label, c.title) for c in columns if c.kind == "assignment"}
    criteria = _criteria(columns, lang)
    labels = state_labels()
    rows: Sequence[Row[*tuple[Any, ...]]] = []
    if titles:
        latest = (select(func.max(Review.id)).join(Revision, Revision.id == Review.revision_id)
                  .join(Submission, Submission.id == Revision.submission_id)
                  .where(Submission.cohort_id == cohort.id, Submission.user_id.in_(_learner_ids(cohort)),
                         Submission.item_id.in_(list(titles)))
                  .group_by(Submission.id))
        mentor = aliased(User)
        rows = db.session.execute(
            select(User.name, User.email, Submission.item_id, Submission.state, Revision.number, Review.sent_at,
                   mentor.name, Review.decision, Review.total, Review.scores)
            .join(Revision, Revision.id == Review.revision_id)
            .join(Submission, Submission.id == Revision.submission_id)
            .join(User, User.id == Submission.user_id)
            .outerjoin(mentor, mentor.id == Review.mentor_id)
            .where(Review.id.in_(latest)).order_by(User.name, User.email, Submission.item_id)).all()
    header = [_("Name"), _("E-mail address"), _("Item"), _("Assignment"), _("State"), _("Revision"),
              _("Reviewed (%(zone)s)", zone=programme_zone().key), _("Mentor"), _("Decision"), _("Total")]
    header += [title for _id, title in criteria]
    return to_csv(header, (
        [name, email, titles[item_id][0], titles[item_id][1], labels.get(state, state), number, sent_at,
         mentor_name or "", _decision(decision), _points(total)]
        + [_points((scores or {}).get(cid, "")) for cid, _title in criteria]
        for name, email, item_id, state, number, sent_at, mentor_name, decision, total, scores in rows))


def certificates_csv(cohort: Cohort, lang: str) -> bytes:
    """The certificates of the cohort's learners in the cohort's courses, revoked ones too."""
    rows = db.session.execute(
        select(User.name, User.email, Course, Certificate.code, Certificate.issued_at, Certificate.revoked_at,
               Certificate.revoked_reason)
        .join(User, User.id == Certificate.user_id).join(Course, Course.id == Certificate.course_id)
        .where(Certificate.user_id.in_(_learner_ids(cohort)), Certificate.course_id.in_(cohort.course_ids))
        .order_by(User.name, User.email, Course.slug, Certificate.issued_at)).all() if cohort.course_ids else []
    header = [_("Name"), _("E-mail address"), _("Course"), _("Certificate code"),
              _("Issued (%(zone)s)", zone=programme_zone().key), _("Revoked (%(zone)s)", zone=programme_zone().key),
              _("Reason for revoking")]
    return to_csv(header, ([name, email, course.title(lang), code, issued, revoked, reason]
                           for name, email, course, code, issued, revoked, reason in rows))


def schedule_csv(cohort: Cohort, columns: list[Column], lang: str, now: datetime) -> bytes:
    """One row per item: its course, dates, and how many learners have done it, have handed it in
    and wait for its review, and have it overdue (past its due day in the cohort's time zone,
    neither done nor handed in). Three queries."""
    learners = db.session.scalar(select(func.count()).select_from(_learner_ids(cohort).subquery())) or 0
    item_ids = [c.item_id for c in columns]
    done = dict(db.session.execute(
        select(Progress.item_id, func.count(Progress.id))
        .where(Progress.user_id.in_(_learner_ids(cohort)), Progress.item_id.in_(item_ids))
        .group_by(Progress.item_id)).all()) if item_ids else {}
    waiting = dict(db.session.execute(
        select(Submission.item_id, func.count(Submission.id))
        .where(Submission.cohort_id == cohort.id, Submission.state == SUBMITTED,
               Submission.user_id.in_(_learner_ids(cohort)), Submission.item_id.in_(item_ids))
        .group_by(Submission.item_id)).all()) if item_ids else {}
    today = today_in(cohort.time_zone, now)
    courses = {course.id: course.title(lang) for course in cohort.courses}
    header = [_("Course"), _("Item"), _("Title"), _("Kind"), _("Opens on"),
              _("Due on (end of the day, %(zone)s)", zone=cohort.time_zone), _("Learners"), _("Learners done"),
              _("Handed in, waiting for review"), _("Learners overdue")]
    rows = []
    for c in columns:
        finished, handed_in = done.get(c.item_id, 0), waiting.get(c.item_id, 0)
        late = learners - finished - handed_in if c.due_on is not None and c.due_on < today else 0
        rows.append([courses.get(c.course_id, ""), c.label, c.title, _kind(c.kind),
                     c.opens_on.isoformat() if c.opens_on else "", c.due_on.isoformat() if c.due_on else "",
                     learners, finished, handed_in, max(0, late)])
    return to_csv(header, rows)


def _kind(kind: str) -> str:
    return kind_labels().get(kind, kind)


def build(kind: str, cohort: Cohort, columns: list[Column], lang: str, now: datetime) -> bytes:
    """The export of this kind (one of KINDS)."""
    if kind == "progress":
        return progress_csv(cohort, columns, now)
    if kind == "quizzes":
        return quizzes_csv(cohort, columns)
    if kind == "rubric":
        return rubric_csv(cohort, columns, lang)
    if kind == "certificates":
        return certificates_csv(cohort, lang)
    if kind == "schedule":
        return schedule_csv(cohort, columns, lang, now)
    raise KeyError(kind)
