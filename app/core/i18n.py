"""The current request's interface language, for every layer that renders or looks up text."""
from __future__ import annotations

from flask_babel import get_locale


def current_lang() -> str:
    """The interface language of the current request ("en" outside a request)."""
    return str(get_locale() or "en")
