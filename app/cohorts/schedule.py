"""A cohort's schedule: when each course item opens and when it is due (issue 14).

The model:

- ``Item.pacing`` (``{"opens": weeks, "due": weeks}``) comes from course.yml's ``pacing`` (weeks
  after a cohort's start): the course's default rhythm. Week ``n`` opens on ``starts_on + 7·n`` days; an item due in
  week ``n`` is due at the end of the day ``starts_on + 7·n − 1`` (``due: 1`` = by the end of the
  first week).
- ``CohortItemDate`` (cohort, item) holds the cohort's own dates; a row overrides the course's
  pacing for that item (an empty date in a row means "no date").
- Dates are days in the cohort's time zone (``Cohort.time_zone``, Asia/Tbilisi by default): an
  item opens at the start of its opening day and is due at the end of its due day.
- ``ItemRelease`` opens one item early for one learner (app/learning/access.py reads it).

A learner's schedule in a course comes from the cohort their work in it belongs to
(:func:`app.cohorts.scope.cohort_of_work`); learners in no cohort have no dates.

The trainer's services (the schedule page, its CSV and the ``cohorts schedule`` command) are
below the readers: :func:`set_dates`, :func:`fill_weekly`, :func:`clear`, :func:`schedule_csv`,
:func:`import_csv`, and the early releases :func:`release` / :func:`unrelease`. Each change of
dates bumps ``Cohort.schedule_version`` (a form drawn at an older version is refused with
Conflict, nothing written) and the cohort's facts version (the dashboard's overdue counts), and
writes an audit event. "One module a week" runs the cohort's courses **in parallel**: module
``k`` of every course opens in week ``k`` after the start date (a cohort follows its courses side
by side; a trainer who wants them one after another edits the dates or imports a CSV).
"""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from app.cohorts import facts
from app.cohorts.models import LEARNER, Cohort, CohortCourse, CohortItemDate, ItemRelease, Membership
from app.content import pacing
from app.content.models import Item
from app.core import audit
from app.core.authz import require
from app.core.errors import Conflict, InvalidInput, UploadTooLarge
from app.database import utcnow
from app.extensions import db
from app.learning.access import NO_SCHEDULE, ItemDates, Schedule, today_in


@dataclass(frozen=True)
class Pacing:
    """What the default dates are computed from (an Item's pacing)."""

    id: int
    opens_week: int | None
    due_week: int | None

    @classmethod
    def of(cls, item_id: int, pacing: dict | None) -> Pacing:
        pacing = pacing or {}
        return cls(item_id, pacing.get("opens"), pacing.get("due"))


def paced_dates(item: Pacing, starts_on: date | None) -> ItemDates:
    """The item's dates from the course's pacing and the cohort's start (no start: no dates)."""
    if starts_on is None:
        return ItemDates()
    opens = starts_on + timedelta(days=7 * item.opens_week) if item.opens_week is not None else None
    due = starts_on + timedelta(days=7 * item.due_week - 1) if item.due_week is not None else None
    return ItemDates(opens_on=opens, due_on=due)


def dates_in_cohort(own: ItemDates | None, item: Pacing, starts_on: date | None) -> ItemDates:
    """The item's dates in a cohort: the cohort's own (its CohortItemDate row) when it has them,
    else the course's pacing from the cohort's start."""
    return own if own is not None else paced_dates(item, starts_on)


def effective_dates(items: Iterable[Pacing], starts_on: date | None,
                    rows: dict[int, CohortItemDate]) -> dict[int, ItemDates]:
    """Each item's dates in the cohort: its CohortItemDate row, else the course's pacing. Items
    without either have no entry."""
    found: dict[int, ItemDates] = {}
    for item in items:
        row = rows.get(item.id)
        dates = dates_in_cohort(None if row is None else ItemDates(row.opens_on, row.due_on), item, starts_on)
        if dates.opens_on is not None or dates.due_on is not None:
            found[item.id] = dates
    return found


def learner_schedule(user, course, now: datetime) -> Schedule:
    """The learner's schedule in the course (registered with learning in create_app): two
    queries, one for a learner in no cohort with the course."""
    cohort = db.session.scalar(
        select(Cohort)
        .join(Membership, Membership.cohort_id == Cohort.id)
        .join(CohortCourse, and_(CohortCourse.cohort_id == Cohort.id, CohortCourse.course_id == course.id))
        .where(Membership.user_id == user.id, Membership.role == LEARNER)
        .order_by(Membership.created_at, Membership.id).limit(1))  # the rule of scope.cohort_of_work
    if cohort is None:
        return NO_SCHEDULE
    released = exists().where(ItemRelease.cohort_id == cohort.id, ItemRelease.user_id == user.id,
                              ItemRelease.item_id == Item.id).correlate(Item)
    rows = db.session.execute(
        select(Item.id, Item.pacing, CohortItemDate, released)
        .outerjoin(CohortItemDate, and_(CohortItemDate.item_id == Item.id, CohortItemDate.cohort_id == cohort.id))
        .where(Item.course_id == course.id, Item.retired_at.is_(None))).all()
    dates = effective_dates([Pacing.of(item_id, pacing) for item_id, pacing, _row, _released in rows],
                            cohort.starts_on,
                            {row.item_id: row for _id, _pacing, row, _released in rows if row is not None})
    return Schedule(cohort_id=cohort.id, time_zone=cohort.time_zone, today=today_in(cohort.time_zone, now),
                    dates=dates, released=frozenset(item_id for item_id, _p, _r, rel in rows if rel))


def register() -> None:
    """Hand learning the learners' schedules (create_app)."""
    from app.learning.access import register_schedule_source

    register_schedule_source(learner_schedule)


# ---- the trainer's services ---------------------------------------------------------------------

COLUMNS = ("course", "item", "title", "kind", "opens_on", "due_on")  # the CSV's header, in this order
NEEDED = ("course", "item", "opens_on", "due_on")  # title and kind are there to read, not imported
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5_000
STALE = _l("The schedule was changed (in another tab or by another trainer) after this page was "
           "opened. Nothing was saved: your dates are still in the form. Check them against the "
           "current schedule and save again.")


class Operator:
    """Whoever runs a command on the server (``cohorts schedule``, the demo): may do what an
    admin may; the audit trail names no account (actor None)."""

    id = None
    is_authenticated = True
    is_admin = True
    display_name = "operator (command line)"


class ScheduleError(InvalidInput):
    """Dates that break a rule. ``problems`` maps a form field (``opens-<item id>``,
    ``due-<item id>``) to its message; ``lines`` lists a CSV's bad lines as (line, message)."""

    def __init__(self, message, problems: Mapping[str, str] | None = None,
                 lines: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.problems = dict(problems or {})
        self.lines = list(lines or [])


class ScheduleTooLarge(ScheduleError, UploadTooLarge):
    """The uploaded schedule is over its size limit (413)."""


@dataclass
class ScheduleItem:
    """One live item of a cohort's course, with its dates in the cohort."""

    id: int
    course_id: int
    course_slug: str
    slug: str
    kind: str
    position: int
    opens_on: date | None = None
    due_on: date | None = None
    own: bool = False  # the cohort set these dates (else they come from the course's pacing)
    title: str = ""


@dataclass
class CourseSchedule:
    course_id: int
    slug: str
    title: str
    items: list[ScheduleItem] = field(default_factory=list)


def schedule_items(cohort: Cohort) -> list[ScheduleItem]:
    """The live items of the cohort's courses in course order (courses by slug), each with its
    dates: one query."""
    ids = cohort.course_ids
    if not ids:
        return []
    order = {course_id: n for n, course_id in enumerate(ids)}
    slugs = {course.id: course.slug for course in cohort.courses}
    rows = db.session.execute(
        select(Item.id, Item.course_id, Item.slug, Item.kind, Item.position, Item.pacing, CohortItemDate)
        .outerjoin(CohortItemDate, and_(CohortItemDate.item_id == Item.id, CohortItemDate.cohort_id == cohort.id))
        .where(Item.course_id.in_(ids), Item.retired_at.is_(None))).all()
    found = []
    for item_id, course_id, slug, kind, position, item_pacing, row in rows:
        dates = dates_in_cohort(None if row is None else ItemDates(row.opens_on, row.due_on),
                                Pacing.of(item_id, item_pacing), cohort.starts_on)
        found.append(ScheduleItem(item_id, course_id, slugs[course_id], slug, kind, position or 0,
                                  dates.opens_on, dates.due_on, own=row is not None))
    return sorted(found, key=lambda item: (order[item.course_id], item.position, item.id))


def course_tables(cohort: Cohort, lang: str) -> list[CourseSchedule]:
    """The schedule page's tables: one per course, every item titled in lang (else English).
    Two queries."""
    from app.cohorts.queries import item_titles

    items = schedule_items(cohort)
    titles = item_titles([item.id for item in items], lang)
    tables = {course.id: CourseSchedule(course.id, course.slug, course.title(lang)) for course in cohort.courses}
    for item in items:
        item.title = titles.get(item.id) or item.slug
        tables[item.course_id].items.append(item)
    return list(tables.values())


def parse_day(text: str | None) -> date | None:
    """A day typed as YYYY-MM-DD (what <input type="date"> sends); empty: no date. Raises ValueError."""
    text = (text or "").strip()
    if not text:
        return None
    if len(text) != 10:
        raise ValueError(text)
    return date.fromisoformat(text)


BAD_DAY = _l("Enter a date as YYYY-MM-DD, for example 2025-03-01, or leave it empty.")
DUE_BEFORE = _l("The due date cannot be before the opening date.")


def _check_pair(opens_text: str | None, due_text: str | None) -> tuple[dict[str, str], ItemDates]:
    """The typed pair as dates, or the problems of each side ("opens", "due")."""
    problems: dict[str, str] = {}
    opens = due = None
    try:
        opens = parse_day(opens_text)
    except ValueError:
        problems["opens"] = str(BAD_DAY)
    try:
        due = parse_day(due_text)
    except ValueError:
        problems["due"] = str(BAD_DAY)
    if opens and due and due < opens:
        problems["due"] = str(DUE_BEFORE)
    return problems, ItemDates(opens, due)


def _check_version(cohort: Cohort, version: int | None) -> None:
    if version is not None and version != (cohort.schedule_version or 0):
        raise Conflict(STALE)


def _bump(cohort: Cohort, version: int | None) -> None:
    """A new schedule version, only if it is still `version` (when given): two saves of the same
    form at once, one wins and the other is a Conflict (on PostgreSQL the second UPDATE waits for
    the first transaction and then matches no row). Also a new facts version at commit."""
    table = facts.cast_table(Cohort.__table__)
    statement = update(table).where(table.c.id == cohort.id)
    if version is not None:
        statement = statement.where(table.c.schedule_version == version)
    result = db.session.execute(statement.values(schedule_version=table.c.schedule_version + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(STALE)
    db.session.expire(cohort, ["schedule_version"])
    facts.touch(db.session, cohort.id)


def _write(cohort: Cohort, items: list[ScheduleItem], wanted: dict[int, ItemDates]) -> int:
    """Store the wanted dates of the items whose dates they change; how many changed."""
    by_id = {item.id: item for item in items}
    changed = [item_id for item_id, dates in wanted.items()
               if (by_id[item_id].opens_on, by_id[item_id].due_on) != (dates.opens_on, dates.due_on)]
    if not changed:
        return 0
    rows = {row.item_id: row for row in db.session.scalars(select(CohortItemDate).where(
        CohortItemDate.cohort_id == cohort.id, CohortItemDate.item_id.in_(changed)))}
    now = utcnow()
    for item_id in changed:
        dates = wanted[item_id]
        row = rows.get(item_id)
        if row is None:
            db.session.add(CohortItemDate(cohort_id=cohort.id, item_id=item_id, opens_on=dates.opens_on,
                                          due_on=dates.due_on, updated_at=now))
        else:
            row.opens_on, row.due_on, row.updated_at = dates.opens_on, dates.due_on, now
    return len(changed)


def set_dates(actor, cohort: Cohort, typed: Mapping[int, tuple[str | None, str | None]],
              version: int | None) -> int:
    """Save the dates typed for some items of the cohort (item id → (opening, due) as typed);
    returns how many items' dates changed. Adds and flushes; the caller commits.

    Raises AccessDenied, Conflict (the form was drawn at another schedule version: nothing
    saved) or ScheduleError with the problem of each field.
    """
    require(actor, "cohort.manage", cohort, hide=True)
    _check_version(cohort, version)
    items = schedule_items(cohort)
    known = {item.id for item in items}
    problems: dict[str, str] = {}
    wanted: dict[int, ItemDates] = {}
    for item_id, (opens_text, due_text) in typed.items():
        if item_id not in known:
            raise ScheduleError(_("Dates can only be set for items of this cohort's courses."))
        found, dates = _check_pair(opens_text, due_text)
        problems.update({f"{side}-{item_id}": message for side, message in found.items()})
        wanted[item_id] = dates
    if problems:
        raise ScheduleError(_("Please correct the dates marked below."), problems=problems)
    changed = _write(cohort, items, wanted)
    if changed:
        _bump(cohort, version)
        audit.record("cohort_schedule_set", actor=actor, target=f"Cohort:{cohort.id}", items=changed)
    db.session.flush()
    return changed


def weekly_dates(items: list[ScheduleItem], start: date) -> dict[int, ItemDates]:
    """One module a week from `start`, every course from its first module (courses in parallel)."""
    wanted: dict[int, ItemDates] = {}
    by_course: dict[int, list[ScheduleItem]] = {}
    for item in items:
        by_course.setdefault(item.course_id, []).append(item)
    for course_items in by_course.values():
        weeks = pacing.weekly((item.slug, item.kind) for item in course_items)
        for item in course_items:
            week = weeks[item.slug]
            wanted[item.id] = paced_dates(Pacing(item.id, week["opens"], week["due"]), start)
    return wanted


def fill_weekly(actor, cohort: Cohort, start: date | None = None, version: int | None = None) -> int:
    """One module a week from `start` (default: the cohort's start date) in each of the cohort's
    courses, replacing their dates; returns how many items' dates changed.

    Raises AccessDenied, Conflict or ScheduleError (no start date).
    """
    require(actor, "cohort.manage", cohort, hide=True)
    _check_version(cohort, version)
    start = start or cohort.starts_on
    if start is None:
        raise ScheduleError(_("Give a start date: this cohort has none."))
    items = schedule_items(cohort)
    changed = _write(cohort, items, weekly_dates(items, start))
    _bump(cohort, version)
    audit.record("cohort_schedule_weekly", actor=actor, target=f"Cohort:{cohort.id}",
                 start=start.isoformat(), items=changed)
    db.session.flush()
    return changed


def clear(actor, cohort: Cohort, version: int | None = None) -> int:
    """Remove the cohort's own dates (the courses' default pacing, if any, applies again);
    returns how many items had dates of their own."""
    require(actor, "cohort.manage", cohort, hide=True)
    _check_version(cohort, version)
    removed = db.session.execute(  # type: ignore[attr-defined]
        delete(CohortItemDate).where(CohortItemDate.cohort_id == cohort.id)).rowcount
    _bump(cohort, version)
    audit.record("cohort_schedule_clear", actor=actor, target=f"Cohort:{cohort.id}", items=removed)
    db.session.flush()
    return removed or 0


def schedule_csv(cohort: Cohort, lang: str) -> bytes:
    """The schedule as CSV (COLUMNS; dates as YYYY-MM-DD, empty for none), in the format
    import_csv reads: UTF-8 with a byte order mark, CRLF."""
    from app.cohorts.exports import to_csv

    rows = ([item.course_slug, item.slug, item.title, item.kind,
             item.opens_on.isoformat() if item.opens_on else "", item.due_on.isoformat() if item.due_on else ""]
            for table in course_tables(cohort, lang) for item in table.items)
    return to_csv(list(COLUMNS), rows)


def decode_csv(data: bytes) -> str:
    """The uploaded file's text. Raises ScheduleError for a file too large, or not UTF-8 text."""
    if len(data) > MAX_BYTES:
        raise ScheduleTooLarge(_("The file is larger than %(kb)d KB: a schedule is much smaller. "
                              "Download the schedule as CSV and edit that file.", kb=MAX_BYTES // 1024))
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScheduleError(_("The file is not a CSV file in UTF-8. Download the schedule as CSV, "
                              "edit it and save it as “CSV UTF-8”.")) from None
    if "\x00" in text:
        raise ScheduleError(_("The file is not a CSV file in UTF-8. Download the schedule as CSV, "
                              "edit it and save it as “CSV UTF-8”."))
    return text


def read_csv(cohort: Cohort, text: str, items: list[ScheduleItem]) -> dict[int, ItemDates]:
    """The dates a schedule CSV gives, by item id. Raises ScheduleError listing every bad line."""
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    if not header or any(name not in COLUMNS for name in header) or any(name not in header for name in NEEDED) \
            or len(set(header)) != len(header):
        raise ScheduleError(_("The first line must name the columns: %(columns)s (title and kind may be left "
                              "out). Found: %(found)s.", columns=", ".join(COLUMNS),
                              found=", ".join(header) or "—"))
    index = {name: header.index(name) for name in header}
    by_key = {(item.course_slug, item.slug): item for item in items}
    courses = {item.course_slug for item in items}
    wanted: dict[int, ItemDates] = {}
    lines: list[tuple[int, str]] = []
    count = 0
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ScheduleTooLarge(_("The file has more than %(limit)d rows: a schedule has one row per item.",
                                  limit=MAX_ROWS))
        if len(row) != len(header):
            lines.append((line, _("This line has %(found)d cells; the header names %(expected)d.",
                                  found=len(row), expected=len(header))))
            continue
        course, slug = row[index["course"]].strip(), row[index["item"]].strip()
        item = by_key.get((course, slug))
        if item is None:
            lines.append((line, _("“%(course)s” is not a course of this cohort.", course=course)
                          if course not in courses else
                          _("The course “%(course)s” has no item “%(item)s”.", course=course, item=slug)))
            continue
        if item.id in wanted:
            lines.append((line, _("The item “%(item)s” is already on an earlier line.", item=slug)))
            continue
        found, dates = _check_pair(row[index["opens_on"]], row[index["due_on"]])
        if found:
            lines.append((line, " ".join(found[side] for side in ("opens", "due") if side in found)))
            continue
        wanted[item.id] = dates
    if lines:
        raise ScheduleError(_("Nothing was changed: correct these lines and upload the file again."), lines=lines)
    return wanted


def import_csv(actor, cohort: Cohort, data: bytes | str, version: int | None = None) -> int:
    """Set the dates a schedule CSV gives (items not in the file keep theirs); all or nothing.
    Returns how many items' dates changed.

    Raises AccessDenied, Conflict, or ScheduleError (with every bad line: nothing is changed).
    """
    require(actor, "cohort.manage", cohort, hide=True)
    _check_version(cohort, version)
    text = decode_csv(data) if isinstance(data, bytes) else data
    items = schedule_items(cohort)
    changed = _write(cohort, items, read_csv(cohort, text, items))
    if changed:
        _bump(cohort, version)
    audit.record("cohort_schedule_import", actor=actor, target=f"Cohort:{cohort.id}", items=changed)
    db.session.flush()
    return changed


# ---- early release for one learner --------------------------------------------------------------

def _check_release(actor, cohort: Cohort, learner, item: Item | None) -> Item:
    require(actor, "cohort.manage", cohort, hide=True)
    is_learner = db.session.scalar(select(exists().where(
        Membership.cohort_id == cohort.id, Membership.user_id == learner.id, Membership.role == LEARNER)))
    if not is_learner:
        raise ScheduleError(_("This person is not a learner of this cohort."))
    if item is None or item.retired_at is not None or item.course_id not in cohort.course_ids:
        raise ScheduleError(_("Dates can only be set for items of this cohort's courses."))
    return item


def release(actor, cohort: Cohort, learner, item: Item | None) -> ItemRelease:
    """Open the item now for this learner (its date and its prerequisites no longer hold them
    back). Idempotent: a second click finds the first release (a unique constraint)."""
    item = _check_release(actor, cohort, learner, item)
    query = select(ItemRelease).where(ItemRelease.cohort_id == cohort.id, ItemRelease.item_id == item.id,
                                      ItemRelease.user_id == learner.id)
    existing = db.session.scalar(query)
    if existing is not None:
        return existing
    row = ItemRelease(cohort_id=cohort.id, item_id=item.id, user_id=learner.id, released_by_id=actor.id)
    savepoint = db.session.begin_nested()
    try:
        db.session.add(row)
        savepoint.commit()
    except IntegrityError:  # the same release at the same moment (a double click)
        savepoint.rollback()
        found = db.session.scalar(query)
        assert found is not None
        return found
    audit.record("cohort_item_release", actor=actor, target=f"Cohort:{cohort.id}", user=learner.id, item=item.id)
    return row


def unrelease(actor, cohort: Cohort, learner, item: Item | None) -> bool:
    """Take an early release back: the item's date and prerequisites apply again. True when
    there was one."""
    item = _check_release(actor, cohort, learner, item)
    removed = db.session.execute(delete(ItemRelease).where(  # type: ignore[attr-defined]
        ItemRelease.cohort_id == cohort.id, ItemRelease.item_id == item.id,
        ItemRelease.user_id == learner.id)).rowcount
    if removed:
        audit.record("cohort_item_unrelease", actor=actor, target=f"Cohort:{cohort.id}", user=learner.id,
                     item=item.id)
    return bool(removed)


def released_items(cohort: Cohort, learner_id: int) -> set[int]:
    """The items released early for this learner in this cohort."""
    return set(db.session.scalars(select(ItemRelease.item_id).where(
        ItemRelease.cohort_id == cohort.id, ItemRelease.user_id == learner_id)))
