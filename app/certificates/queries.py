"""Read-only queries for the certificate pages."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.certificates.models import Certificate
from app.extensions import db


def certificates_of(user) -> list[Certificate]:
    """The user's certificates, the latest first (revoked ones too: their page says so), each
    with its course (the list names it)."""
    return list(db.session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                                   .options(joinedload(Certificate.course))
                                   .order_by(Certificate.issued_at.desc())))
