"""Uploading, previewing, publishing, rolling back and downloading a course.

A zip is checked by the course-zip reader (app/content/course_zip.py) and by the same loader
as `courses check`; publishing runs the same transactional sync as `courses sync`. Functions
here add and flush; the route commits once. Authorisation is checked here: admins may do
anything, a course's authors (CourseAuthor) may upload, publish and download that course.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.authoring.changes import ChangeSummary, summarise_changes
from app.authoring.models import CourseAuthor, CourseUpload
from app.content import sync as sync_module
from app.content.course_zip import CourseZipError, extract_course_zip, pack_course_folder
from app.content.folders import course_folder
from app.content.loader import load_course
from app.content.models import Course, Item, ItemTranslation
from app.content.problems import Problem
from app.content.spec import CourseSpec
from app.core import audit
from app.core.authz import AccessDenied, is_signed_in, policy, require
from app.database import utcnow
from app.extensions import db
from app.quizzes.gift_export import quiz_to_gift
from app.quizzes.spec import Quiz


class InvalidUpload(Exception):
    """The zip is a course folder with problems (``problems``); nothing was stored."""

    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Preview:
    """An accepted upload and what publishing it would change."""

    upload: CourseUpload
    changes: ChangeSummary
    warnings: list[Problem] = field(default_factory=list)


@policy("course.author")
def _is_author(user, course: Course | None) -> bool:
    if course is None:
        return False  # a new course: admins only (they pass every policy)
    return db.session.execute(select(func.count()).select_from(CourseAuthor).where(
        CourseAuthor.course_id == course.id, CourseAuthor.user_id == user.id)).scalar_one() > 0


@policy("course.grant_author")
def _only_admins(user, course: Course | None) -> bool:
    return False


def authored_courses(user) -> list[Course]:
    """The courses the user may author: every course for an admin, else those granted."""
    if not is_signed_in(user):
        return []
    query = select(Course).order_by(Course.slug)
    if not user.is_admin:
        query = query.join(CourseAuthor, CourseAuthor.course_id == Course.id).where(CourseAuthor.user_id == user.id)
    return list(db.session.scalars(query))


def check_zip(data: bytes, *, slug: str | None) -> tuple[CourseSpec, list[Problem]]:
    """Validate a course zip as `courses check` would. Returns the spec and its warnings.

    Raises CourseZipError (the archive is refused as a whole) or InvalidUpload (problems).
    """
    with tempfile.TemporaryDirectory(prefix="nergi-upload-") as workdir:
        folder = extract_course_zip(data, Path(workdir), expected_slug=slug)
        spec, problems = load_course(folder)
        if spec is None:
            raise InvalidUpload(problems)
        return spec, list(spec.warnings)


def upload_course(user, data: bytes, *, filename: str, course: Course | None) -> Preview:
    """Check an uploaded zip and keep it as a draft upload of ``course`` (None: a new course,
    admins only). Returns the preview; raises AccessDenied, CourseZipError or InvalidUpload,
    in which case nothing is stored."""
    require(user, "course.author", course)
    spec, warnings = check_zip(data, slug=course.slug if course is not None else None)
    if course is None:
        existing = db.session.scalar(select(Course).where(Course.slug == spec.slug))
        if existing is not None:
            require(user, "course.author", existing)
    upload = CourseUpload(course_slug=spec.slug, sha256=hashlib.sha256(data).hexdigest(),
                          source_hash=spec.source_hash, size=len(data), data=data,
                          filename=filename[:200], uploaded_by_id=user.id, uploaded_at=utcnow())
    db.session.add(upload)
    db.session.flush()
    audit.record("course_upload", actor=user, target=f"course:{spec.slug}", upload=upload.id)
    return Preview(upload, summarise_changes(spec), warnings)


def preview_upload(user, upload: CourseUpload) -> Preview:
    """What publishing a stored upload would change now. Raises AccessDenied."""
    require(user, "course.author", course_of(upload), hide=True)
    spec, warnings = check_zip(upload.data, slug=upload.course_slug)
    return Preview(upload, summarise_changes(spec), warnings)


def publish_upload(user, upload: CourseUpload) -> sync_module.SyncReport:
    """Publish a stored upload with the same sync as `courses sync`; the course then shows
    this upload's files. Raises AccessDenied, or InvalidUpload when the files no longer
    load (the validator changed since), in which case nothing changes."""
    require(user, "course.author", course_of(upload), hide=True)
    # Two publishes of one course at once: the second waits here and then syncs over the first.
    db.session.execute(select(Course.id).where(Course.slug == upload.course_slug).with_for_update())
    folder = published_folder(upload)
    spec, problems = load_course(folder)
    if spec is None:
        raise InvalidUpload(problems)
    report = sync_module.sync_courses([spec], [], retire_missing=False)
    course = db.session.execute(select(Course).where(Course.slug == spec.slug)).scalar_one()  # synced just above
    course.upload_id = upload.id
    upload.published_at, upload.published_by_id = utcnow(), user.id
    db.session.flush()
    audit.record("course_publish", actor=user, target=f"course:{spec.slug}", upload=upload.id)
    return report


def restore_upload(user, earlier: CourseUpload) -> CourseUpload:
    """Rolling back: a new draft upload with the files of an earlier one, to preview and
    publish like any other (so the history only grows). Raises AccessDenied."""
    require(user, "course.author", course_of(earlier), hide=True)
    copy = CourseUpload(course_slug=earlier.course_slug, sha256=earlier.sha256, source_hash=earlier.source_hash,
                        size=earlier.size, data=earlier.data, filename=f"#{earlier.id} {earlier.filename}"[:200],
                        uploaded_by_id=user.id, uploaded_at=utcnow())
    db.session.add(copy)
    db.session.flush()
    return copy


def course_zip(user, course: Course) -> bytes:
    """The course's current published files as a zip of ``<slug>/…``. Raises AccessDenied,
    or FileNotFoundError when the course has no files here (a retired folder course)."""
    require(user, "course.author", course, hide=True)
    folder = course_folder(course)
    if not (folder / "course.yml").is_file():
        raise FileNotFoundError(course.slug)
    return pack_course_folder(folder)


def quiz_translations(course: Course) -> list[tuple[str, list[str]]]:
    """The course's live quizzes as ``(item slug, [languages])``, in course order."""
    rows = db.session.execute(select(Item.slug, ItemTranslation.lang).join(ItemTranslation)
                              .where(Item.course_id == course.id, Item.kind == "quiz", Item.retired_at.is_(None))
                              .order_by(Item.position, ItemTranslation.lang)).all()
    quizzes: dict[str, list[str]] = {}
    for slug, lang in rows:
        quizzes.setdefault(slug, []).append(lang)
    return list(quizzes.items())


def quiz_as_gift(user, course: Course, item_slug: str, lang: str) -> str:
    """One quiz translation written as GIFT (app/quizzes/gift_export.py). Raises AccessDenied,
    or LookupError when the course has no such live quiz in that language."""
    require(user, "course.author", course, hide=True)
    row = db.session.execute(select(Item, ItemTranslation).join(ItemTranslation).where(
        Item.course_id == course.id, Item.slug == item_slug, Item.kind == "quiz", Item.retired_at.is_(None),
        ItemTranslation.lang == lang)).first()
    if row is None or not (row[1].data or {}).get("quiz"):
        raise LookupError(item_slug)
    item, translation = row
    return quiz_to_gift(Quiz.from_dict(translation.data["quiz"]), title=translation.title, minutes=item.minutes)


def uploads_of(course: Course) -> list[CourseUpload]:
    """The course's uploads, newest first (without their bytes loaded more than needed), with
    who uploaded and published each (the course page shows them)."""
    return list(db.session.scalars(select(CourseUpload).where(CourseUpload.course_slug == course.slug)
                                   .options(joinedload(CourseUpload.uploaded_by),
                                            joinedload(CourseUpload.published_by))
                                   .order_by(CourseUpload.id.desc())))


def authors_of(course: Course) -> list[CourseAuthor]:
    return list(db.session.scalars(select(CourseAuthor).where(CourseAuthor.course_id == course.id)
                                   .options(joinedload(CourseAuthor.user)).order_by(CourseAuthor.granted_at)))


def grant_author(admin, course: Course, user) -> CourseAuthor:
    """Make ``user`` an author of ``course`` (once). Raises AccessDenied unless an admin."""
    require(admin, "course.grant_author", course)
    row = db.session.scalar(select(CourseAuthor).where(CourseAuthor.course_id == course.id,
                                                       CourseAuthor.user_id == user.id))
    if row is None:
        row = CourseAuthor(course_id=course.id, user_id=user.id, granted_by_id=admin.id, granted_at=utcnow())
        db.session.add(row)
        db.session.flush()
        audit.record("course_author_grant", actor=admin, target=f"course:{course.slug}", user=user.id)
    return row


def revoke_author(admin, course: Course, user_id: int) -> None:
    """Remove an author of ``course``. Raises AccessDenied unless an admin."""
    require(admin, "course.grant_author", course)
    row = db.session.scalar(select(CourseAuthor).where(CourseAuthor.course_id == course.id,
                                                       CourseAuthor.user_id == user_id))
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        audit.record("course_author_revoke", actor=admin, target=f"course:{course.slug}", user=user_id)


def course_of(upload: CourseUpload) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == upload.course_slug))


def uploads_root() -> Path:
    return Path(current_app.config["COURSE_UPLOADS_DIR"])


def published_folder(upload: CourseUpload) -> Path:
    """The upload's files on disk (``COURSE_UPLOADS_DIR/<id>/<slug>``), unpacked from the
    stored zip the first time they are needed (after a restore from backup, too)."""
    root = uploads_root() / str(upload.id)
    folder = root / upload.course_slug
    if (folder / "course.yml").is_file():
        return folder
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{upload.id}-", dir=root.parent))
    try:
        extract_course_zip(upload.data, staging, expected_slug=upload.course_slug)
        try:
            staging.rename(root)  # atomic: a reader sees all the files or none
        except OSError:
            if not (folder / "course.yml").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def uploaded_course_folder(course: Course) -> Path | None:
    """The folder of a course published from an upload, or None (registered with
    app.content.folders in create_app, so the learner's media route finds uploaded courses)."""
    if course.upload_id is not None:
        upload = db.session.get(CourseUpload, course.upload_id)
        if upload is not None:
            return published_folder(upload)
    return None


__all__ = ["AccessDenied", "CourseZipError", "InvalidUpload", "Preview", "authored_courses", "authors_of",
           "check_zip", "course_folder", "course_zip", "uploaded_course_folder", "grant_author", "preview_upload",
           "publish_upload", "restore_upload", "revoke_author", "upload_course", "uploads_of"]
