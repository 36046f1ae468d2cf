"""Factories: make_user(...) and friends. Each commits and returns a detached, loaded object."""
from __future__ import annotations

import itertools

from app.auth import services as auth_services
from app.extensions import db

PASSWORD = "correct horse battery"
_sequence = itertools.count(1)


class Factories:
    def __init__(self, app):
        self.app = app

    def _detach(self, obj):
        db.session.commit()
        db.session.refresh(obj)
        db.session.expunge(obj)
        return obj

    def make_user(self, email: str | None = None, *, name: str | None = None, password: str | None = PASSWORD,
                  locale: str = "en", is_admin: bool = False, active: bool = True, **fields):
        n = next(_sequence)
        with self.app.app_context():
            user = auth_services.create_user(email or f"user{n}@example.org", name=name or f"User {n}",
                                             password=password, locale=locale, is_admin=is_admin, **fields)
            user.is_active_account = active
            return self._detach(user)

    def make_admin(self, **kwargs):
        return self.make_user(is_admin=True, **kwargs)

    # -- courses -----------------------------------------------------------------------
    def make_course(self, slug: str | None = None, *, items=("lesson",), is_open: bool = True,
                    languages=("en",), completion=None):
        """A course with items of the given kinds (slugs item1, item2, …), written straight to the DB."""
        from app.content.models import Course, Item, ItemTranslation

        n = next(_sequence)
        with self.app.app_context():
            course = Course(slug=slug or f"course-{n}", source_hash=f"hash{n}",
                            titles={lang: f"Course {n} ({lang})" for lang in languages},
                            summaries={"en": "<p>Summary</p>"}, languages=list(languages),
                            estimated_hours=2, is_open=is_open, completion=completion or {})
            db.session.add(course)
            db.session.flush()
            for position, kind in enumerate(items):
                item = Item(course_id=course.id, slug=f"item{position + 1}", kind=kind, position=position,
                            required=True, minutes=10)
                db.session.add(item)
                db.session.flush()
                for lang in languages:
                    db.session.add(ItemTranslation(
                        item_id=item.id, lang=lang, title=f"Item {position + 1} {lang}",
                        html=f"<p>Text of item {position + 1} in {lang}</p>", objectives=[],
                        data=ASSIGNMENT_DATA if kind == "assignment" else {"meta": {}},
                        source_hash=f"h{n}-{position}-{lang}"))
            db.session.commit()
            course_id = course.id
        return self.load_course(course_id)

    def load_course(self, course_id: int):
        from sqlalchemy.orm import selectinload

        from app.content.models import Course

        with self.app.app_context():
            course = db.session.get(Course, course_id, options=[selectinload(Course.items)])
            db.session.expunge_all()
            return course

    def link_mentor(self, mentor, learner):
        from app.assignments.models import MentorLink

        with self.app.app_context():
            db.session.add(MentorLink(mentor_id=mentor.id, learner_id=learner.id))
            db.session.commit()


ASSIGNMENT_DATA = {
    "meta": {
        "files": {"types": ["pdf", "docx", "png", "txt"], "max_count": 2, "max_mb": 0.1},
        "pass_points": 3,
        "suggested_words": 300,
    },
    "rubric": [
        {"id": "participation", "title": "Participation", "principle": "participation",
         "levels": [{"points": 0, "title": "Missing", "description": ""},
                    {"points": 2, "title": "Strong", "description": "Clear"}]},
        {"id": "transparency", "title": "Transparency", "principle": "transparency",
         "levels": [{"points": 0, "title": "Missing", "description": ""},
                    {"points": 1, "title": "Partial", "description": ""},
                    {"points": 2, "title": "Strong", "description": ""}]},
    ],
}
