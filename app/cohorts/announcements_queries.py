"""Reads for the messages pages: what a cohort's trainers sent, and one message with its
recipients. A fixed number of queries each, whatever the number of messages or recipients."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.cohorts.announcements import NOT_DONE, ONE, Audience, CohortError, describe
from app.cohorts.models import Announcement, AnnouncementRecipient, Cohort
from app.content.models import Item, ItemTranslation
from app.extensions import db

LIST_LIMIT = 200


@dataclass
class SentMessage:
    message: Announcement
    description: str
    recipients: int


def _audience(text: str) -> Audience | None:
    try:
        return Audience.parse(text)
    except CohortError:
        return None


def _item_titles(item_ids: set[int], lang: str) -> dict[int, str]:
    """Items' titles in lang, else English, else their slug: two queries (none without ids)."""
    if not item_ids:
        return {}
    slugs = dict(db.session.execute(select(Item.id, Item.slug).where(Item.id.in_(item_ids))).all())
    titles = {(item_id, tr_lang): title for item_id, tr_lang, title in db.session.execute(
        select(ItemTranslation.item_id, ItemTranslation.lang, ItemTranslation.title).where(
            ItemTranslation.item_id.in_(item_ids), ItemTranslation.lang.in_({lang, "en"})))}
    return {item_id: titles.get((item_id, lang)) or titles.get((item_id, "en")) or slug
            for item_id, slug in slugs.items()}


def _user_names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {user_id: name or email for user_id, name, email in db.session.execute(
        select(User.id, User.name, User.email).where(User.id.in_(user_ids)))}


def _describe_all(audiences: list[Audience | None], lang: str) -> list[str]:
    titles = _item_titles({a.target for a in audiences if a and a.kind == NOT_DONE and a.target}, lang)
    names = _user_names({a.target for a in audiences if a and a.kind == ONE and a.target})
    return [describe(a, titles.get(a.target or 0, ""), names.get(a.target or 0, "")) if a else "—"
            for a in audiences]


def sent_messages(cohort: Cohort, lang: str) -> list[SentMessage]:
    """The cohort's messages, newest first (the latest LIST_LIMIT), with their authors, audiences
    in words and numbers of recipients: at most five queries."""
    messages = list(db.session.scalars(
        select(Announcement).where(Announcement.cohort_id == cohort.id)
        .options(joinedload(Announcement.author))
        .order_by(Announcement.created_at.desc(), Announcement.id.desc()).limit(LIST_LIMIT)))
    if not messages:
        return []
    counts = dict(db.session.execute(
        select(AnnouncementRecipient.announcement_id, func.count())
        .where(AnnouncementRecipient.announcement_id.in_([m.id for m in messages]))
        .group_by(AnnouncementRecipient.announcement_id)).all())
    descriptions = _describe_all([_audience(m.audience) for m in messages], lang)
    return [SentMessage(message, description, counts.get(message.id, 0))
            for message, description in zip(messages, descriptions, strict=True)]


@dataclass
class MessagePage:
    message: Announcement
    cohort: Cohort
    description: str
    recipients: list[str]  # names, for the cohort's trainers only; empty for a learner


def message_page(message: Announcement, cohort: Cohort, lang: str, *, with_recipients: bool) -> MessagePage:
    """One message, its cohort and author; with its audience and recipients' names for the
    people who manage the cohort (a learner does not learn who else received it)."""
    if not with_recipients:
        return MessagePage(message, cohort, "", [])
    names = [name or email for name, email in db.session.execute(
        select(User.name, User.email).join(AnnouncementRecipient, AnnouncementRecipient.user_id == User.id)
        .where(AnnouncementRecipient.announcement_id == message.id).order_by(User.name, User.email))]
    return MessagePage(message, cohort, _describe_all([_audience(message.audience)], lang)[0], names)


def load_message(announcement_id: int) -> Announcement | None:
    """The message with its author (the page shows the name), or None."""
    return db.session.get(Announcement, announcement_id, options=[joinedload(Announcement.author)])
