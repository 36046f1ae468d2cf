"""Instants as credentials write them: XML Schema dateTime in UTC, to the second."""
from __future__ import annotations

from datetime import UTC, datetime


def format_instant(moment: datetime) -> str:
    """Return ``moment`` as ``YYYY-MM-DDThh:mm:ssZ``. Raises ``ValueError`` if it is naive."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a credential time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> datetime:
    """Parse a credential's dateTime (with ``Z`` or an offset). Raises ``ValueError``."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone")
    return moment


def numeric_date(moment: datetime) -> int:
    """Return ``moment`` as a JWT NumericDate (whole seconds since the epoch)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a credential time must be timezone-aware")
    return int(moment.timestamp())
