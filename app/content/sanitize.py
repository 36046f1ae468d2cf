"""The HTML allow-list: what rendered Markdown may contain once it is cleaned.

Everything Markdown produces (and whatever raw HTML an author or learner typed) goes through
:func:`sanitize_html` *after* rendering. Tags, attributes and attribute values are allowed
explicitly; URLs must be relative or use http, https or mailto. bleach's own URL check is
not enough on its own (it takes ``javascript:1`` for a host and port), so a second filter
re-checks every URL with the same rule as the test oracle, and is also where relative links
are handed to a link resolver.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import bleach
from bleach.html5lib_shim import Filter, convert_entities
from bleach.sanitizer import Cleaner

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

BLOCK_TAGS = frozenset({
    "blockquote", "caption", "dd", "div", "dl", "dt", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
INLINE_TAGS = frozenset({
    "a", "abbr", "b", "br", "code", "del", "em", "i", "img", "ins", "kbd", "mark", "s",
    "samp", "small", "strong", "sub", "sup",
})
ALLOWED_TAGS = BLOCK_TAGS | INLINE_TAGS

_CLASS_TOKENS = {
    "a": frozenset({"footnote-ref", "footnote-backref"}),
    "div": frozenset({"admonition", "note", "tip", "warning", "footnote"}),
    "p": frozenset({"admonition-title"}),
}
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_ID_RE = re.compile(r"^[\w-]{1,100}$")
_LANGUAGE_CLASS_RE = re.compile(r"^language-[A-Za-z0-9_+#.-]{1,32}$")
_SCHEME_RE = re.compile(r"^([a-z][a-z0-9+.-]*):")
_URL_NOISE_RE = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")

#: Raise by one when the cleaning changes in a way neither the lists above nor this file's
#: code show (a setting outside it, say). Any change of the fingerprint below makes the next
#: `courses sync` render every course again.
POLICY_VERSION = 1


@lru_cache(maxsize=1)
def _own_code_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def policy_fingerprint() -> str:
    """A hash of everything that decides what cleaned HTML looks like: POLICY_VERSION, the
    allowed tags, protocols, classes and attribute shapes, this module's code (where the
    attribute rules and the URL filter live) and bleach's version.

    Course HTML is rendered at sync time and stored; the sync decides that a course is
    unchanged by a hash that includes this one, so a stricter allow-list reaches old lessons.
    """
    parts = [
        f"version {POLICY_VERSION}",
        "tags " + " ".join(sorted(ALLOWED_TAGS)),
        "inline " + " ".join(sorted(INLINE_TAGS)),
        "protocols " + " ".join(sorted(ALLOWED_PROTOCOLS)),
        "classes " + " ".join(f"{tag}:{','.join(sorted(tokens))}" for tag, tokens in sorted(_CLASS_TOKENS.items())),
        f"patterns {_ID_RE.pattern} {_LANGUAGE_CLASS_RE.pattern} {_SCHEME_RE.pattern} {_URL_NOISE_RE.pattern}",
        f"code {_own_code_hash()}",
        f"bleach {bleach.__version__}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    """Decide one attribute: the allow-list of (tag, attribute, value shape)."""
    if name == "title":
        return tag in {"a", "abbr", "img"}
    if name == "href":
        return tag == "a"
    if name in {"src", "alt"}:
        return tag == "img"
    if name == "id":
        return (tag in _HEADINGS or tag in {"sup", "li"}) and bool(_ID_RE.match(value))
    if name == "class":
        if tag == "code":
            return bool(_LANGUAGE_CLASS_RE.match(value))
        tokens = value.split()
        return bool(tokens) and set(tokens) <= _CLASS_TOKENS.get(tag, frozenset())
    if name == "align":
        return tag in {"th", "td"} and value in {"left", "center", "right"}
    if name == "start":
        return tag == "ol" and value.isdigit() and len(value) < 10
    return False


def url_scheme(url: str) -> str | None:
    """Return the lower-cased scheme of ``url`` as a browser would see it, or None if relative.

    Control characters and white space are removed first, because browsers ignore them.
    """
    match = _SCHEME_RE.match(_URL_NOISE_RE.sub("", url).lower())
    return match.group(1) if match else None


def is_local_url(url: str) -> bool:
    """True for a URL that a link resolver should see: no scheme, not only an ``#anchor``."""
    stripped = url.strip()
    return bool(stripped) and not stripped.startswith("#") and url_scheme(stripped) is None


LinkResolver = Callable[[str], "str | None"]


def _url_is_allowed(url: str) -> bool:
    scheme = url_scheme(url)
    return scheme is None or scheme in ALLOWED_PROTOCOLS


class _UrlFilter(Filter):
    """Re-check URLs after bleach, resolve local ones, unwrap links whose target is broken."""

    def __init__(self, source: Any, resolver: LinkResolver | None = None) -> None:
        super().__init__(source)
        self.resolver = resolver

    def __iter__(self) -> Iterator[dict[str, Any]]:
        dropped_anchor_stack: list[bool] = []
        for token in super().__iter__():
            kind, name = token.get("type"), token.get("name")
            if name == "a" and kind == "StartTag":
                keep = self._fix_url(token, "href")
                dropped_anchor_stack.append(not keep)
                if keep:
                    yield token
                continue
            if name == "a" and kind == "EndTag":
                if not (dropped_anchor_stack and dropped_anchor_stack.pop()):
                    yield token
                continue
            if name == "img" and kind in {"StartTag", "EmptyTag"}:
                if self._fix_url(token, "src"):
                    yield token
                else:
                    alt = token["data"].get((None, "alt"), "")
                    if alt:
                        yield {"type": "Characters", "data": alt}
                continue
            yield token

    def _fix_url(self, token: dict[str, Any], attribute: str) -> bool:
        """Rewrite ``attribute`` in place; False when the element must be unwrapped."""
        data = token.get("data") or {}
        key = (None, attribute)
        raw = data.get(key)
        if raw is None:  # bleach dropped a disallowed URL, or there never was one
            return False
        # bleach hands attribute values over with character references still encoded.
        url = convert_entities(raw)
        if not _url_is_allowed(url):
            return False
        if self.resolver is not None and is_local_url(url):
            resolved = self.resolver(url)
            if resolved is None or not _url_is_allowed(resolved):
                return False
            data[key] = resolved
        return True


def _make_cleaner(tags: frozenset[str], resolver: LinkResolver | None) -> Cleaner:
    return Cleaner(
        tags=tags,
        attributes=_allow_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(_UrlFilter, resolver=resolver)],
    )


_BLOCK_CLEANER = _make_cleaner(ALLOWED_TAGS, None)
_INLINE_CLEANER = _make_cleaner(INLINE_TAGS - {"img"}, None)


def sanitize_html(html: str, *, inline: bool = False, link_resolver: LinkResolver | None = None) -> str:
    """Clean ``html`` against the allow-list and return the cleaned HTML string.

    ``inline`` keeps only inline tags (the text of others stays). ``link_resolver`` is called
    with each local URL (no scheme, not a bare ``#anchor``) and returns its replacement, or None
    for a broken target, in which case the link or image is replaced by its text or alt text.
    Never raises for any input string.
    """
    if link_resolver is None:
        cleaner = _INLINE_CLEANER if inline else _BLOCK_CLEANER
    else:
        cleaner = _make_cleaner(INLINE_TAGS - {"img"} if inline else ALLOWED_TAGS, link_resolver)
    return str(cleaner.clean(html))
