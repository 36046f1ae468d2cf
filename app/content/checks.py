"""Small value checks shared by the readers of course.yml, front matter and rubrics.

Each check reads one value from a :class:`~app.content.yamldoc.YamlDoc`, reports a problem at
the value's line when it has the wrong type or shape, and returns a usable value (or None).
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection
from typing import Any, TypeGuard

from app.content.spec import BASE_LANGUAGE, LANGUAGES
from app.content.yamldoc import Key, YamlDoc

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_RULE = "lower-case letters, digits and single hyphens, e.g. 'five-principles'"


def is_number(value: Any) -> TypeGuard[int | float]:
    """True for a finite int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_whole(value: Any) -> TypeGuard[int | float]:
    """True for a number with no fractional part (``25`` or ``25.0``)."""
    return is_number(value) and float(value).is_integer()


def check_keys(
    doc: YamlDoc,
    mapping: dict[str, Any],
    *,
    at: Key,
    allowed: Collection[str],
    required: Collection[str],
    what: str,
) -> None:
    """Report keys of ``mapping`` (found at key path ``at``) outside ``allowed``, and missing ones.

    ``what`` names the mapping in messages, e.g. "front-matter key" or "key in completion".
    """
    for key in mapping:
        name = str(key)
        if name not in allowed:
            hint = difflib.get_close_matches(name, list(allowed), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            doc.report(f"unknown {what} {name!r}{suggestion}", *at, name)
    for name in required:
        if name not in mapping:
            doc.report(f"missing required {what} {name!r}", *at)


def text(doc: YamlDoc, mapping: dict[str, Any], key: str, *, at: Key = ()) -> str | None:
    """A non-empty string value, else None (reported when present but wrong)."""
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, str) or not value.strip():
        doc.report(f"{key} must be a non-empty text", *at, key)
        return None
    return value.strip()


def positive_whole(doc: YamlDoc, mapping: dict[str, Any], key: str, *, at: Key = ()) -> int | None:
    """A whole number > 0, else None (reported when present but wrong)."""
    if key not in mapping:
        return None
    value = mapping[key]
    if not is_whole(value) or value <= 0:
        doc.report(f"{key} must be a whole number greater than 0", *at, key)
        return None
    return int(value)


def boolean(doc: YamlDoc, mapping: dict[str, Any], key: str, default: bool, *, at: Key = ()) -> bool:
    """A true/false value, else ``default`` (reported when present but wrong)."""
    if key not in mapping:
        return default
    value = mapping[key]
    if not isinstance(value, bool):
        doc.report(f"{key} must be true or false", *at, key)
        return default
    return value


def text_list(doc: YamlDoc, mapping: dict[str, Any], key: str) -> list[str]:
    """A list of non-empty texts (bad entries are reported and dropped)."""
    if key not in mapping:
        return []
    value = mapping[key]
    if not isinstance(value, list):
        doc.report(f"{key} must be a list", key)
        return []
    result = []
    for index, entry in enumerate(value):
        if isinstance(entry, str) and entry.strip():
            result.append(entry.strip())
        else:
            doc.report(f"each entry of {key} must be a non-empty text", key, index)
    return result


def language_map(doc: YamlDoc, mapping: dict[str, Any], key: str, *, needs_base: bool) -> dict[str, str]:
    """A ``{language: text}`` mapping such as ``title``; checks codes and that English is there."""
    if key not in mapping:
        return {}
    value = mapping[key]
    if not isinstance(value, dict):
        doc.report(f"{key} must map language codes to texts, e.g. '{key}: {{en: ...}}'", key)
        return {}
    result: dict[str, str] = {}
    for lang, entry in value.items():
        if lang not in LANGUAGES:
            doc.report(f"language code {str(lang)!r} in {key} is not one of {', '.join(LANGUAGES)}", key, str(lang))
        elif not isinstance(entry, str) or not entry.strip():
            doc.report(f"{key}.{lang} must be a non-empty text", key, lang)
        else:
            result[lang] = entry.strip()
    if needs_base and BASE_LANGUAGE not in value:
        doc.report(f"{key} needs an English text ({key}: {{en: ...}})", key)
    return result
