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
