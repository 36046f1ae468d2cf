"""Read-only queries for the user admin page: a searchable page of accounts with their roles."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from app.auth.models import User
from app.extensions import db

PAGE_SIZE = 50


@dataclass
class UserRow:
    user: User
    is_mentor: bool = False
    cohorts: list[tuple[str, str]] = field(default_factory=list)  # (cohort name, role)


@dataclass
class UserPage:
    rows: list[UserRow]
    total: int
    page: int
    pages: int


def user_page(q: str = "", *, page: int = 1, page_size: int = PAGE_SIZE) -> UserPage:
    """Accounts matching ``q`` in name or e-mail, by name, one page of them, with their cohort
    memberships and whether they mentor anyone. Four queries."""
    from app.assignments.models import MentorLink
    from app.cohorts.models import Cohort, Membership

    query = select(User)
    if q:
        like = f"%{q.casefold()}%"
        query = query.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    users = db.session.scalars(query.order_by(User.name, User.email).limit(page_size)
                               .offset((page - 1) * page_size)).all()
    ids = [user.id for user in users]
    cohorts: dict[int, list[tuple[str, str]]] = defaultdict(list)
    mentors: set[int] = set()
    if ids:
        for user_id, name, role in db.session.execute(
                select(Membership.user_id, Cohort.name, Membership.role)
                .join(Cohort, Cohort.id == Membership.cohort_id)
                .where(Membership.user_id.in_(ids)).order_by(Cohort.name)):
            cohorts[user_id].append((name, role))
        mentors = set(db.session.scalars(select(MentorLink.mentor_id).where(
            MentorLink.mentor_id.in_(ids), MentorLink.ended_at.is_(None)).distinct()))
    rows = [UserRow(user=user, is_mentor=user.id in mentors, cohorts=cohorts[user.id]) for user in users]
    return UserPage(rows=rows, total=total, page=page, pages=pages)
