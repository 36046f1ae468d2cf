"""One rule for every date and time a person sees: the programme's time zone.

Times are stored in UTC. Whatever shows a moment to a person (pages, /verify, the certificate
PDF, e-mails, charts, CSV cells and file names) turns it into the programme's time zone first
(`BABEL_DEFAULT_TIMEZONE`, `Asia/Tbilisi` unless configured, `TIMEZONE` in the environment), so
a certificate issued at 03:26 Tbilisi time says the same day everywhere. Formats are ones that
cannot be misread in any language: the month is written as a word (never 12/5/26), and times use
the 24-hour clock.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time
from flask import current_app


def programme_zone() -> ZoneInfo:
    """The programme's time zone (the setting BABEL_DEFAULT_TIMEZONE)."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_moment(moment: datetime) -> datetime:
    """The moment in the programme's time zone (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(programme_zone())


def local_date(moment: datetime | date) -> date:
    """The calendar day of the moment in the programme's time zone (a date is returned as is)."""
    if isinstance(moment, datetime):
        return local_moment(moment).date()
    return moment


def show_date(value: datetime | date | None, fmt: str = "medium", locale: str = "en") -> str:
    """The day, as the locale writes it, in the programme's time zone; "" for None."""
    if value is None:
        return ""
    # "short" would be 12/5/26 in English: the medium form names the month.
    return babel_format_date(local_date(value), "medium" if fmt == "short" else fmt, locale=locale)


def show_datetime(value: datetime | None, fmt: str = "medium", locale: str = "en") -> str:
    """The moment, as the locale writes it (24-hour clock), in the programme's time zone."""
    if value is None:
        return ""
    moment = local_moment(value)
    if fmt in ("short", "medium"):
        day = babel_format_date(moment.date(), "medium", locale=locale)
        pattern = str(Locale.parse(locale).datetime_formats["medium"])
        return pattern.replace("{1}", day).replace("{0}", format_time(moment, "HH:mm", locale=locale))
    return babel_format_datetime(moment, fmt, locale=locale)


def file_stamp(moment: datetime) -> str:
    """The programme-time day of the moment for file names: 2026-12-05."""
    return local_date(moment).isoformat()
