"""The test oracle for rendered HTML (docs/security.md OUT-2).

The HTML is parsed the way a browser parses it (html5lib, character references decoded once);
it is unsafe when it contains a dangerous element, an event-handler or ``srcdoc`` attribute, a
``style`` that can load or run something, or a URL attribute whose scheme is not http, https or
mailto. The oracle is deliberately independent of the sanitiser's code.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from xml.etree.ElementTree import Element

import html5lib

UNSAFE_ELEMENTS = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "link", "meta",
    "style", "form", "input", "button", "textarea", "select", "svg", "math", "template",
    "noscript",
})
URL_ATTRIBUTES = frozenset({
    "href", "src", "action", "formaction", "poster", "background", "data", "srcset", "cite",
    "longdesc", "ping", "dynsrc", "lowsrc", "codebase", "classid", "archive", "usemap", "profile",
    "manifest", "icon", "datasrc", "imagesrcset",
})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_DANGEROUS_CSS = ("url(", "expression", "behavior", "binding", "@import", "javascript:")
_CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\s]+")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)")


def _local(name: str) -> str:
    """Drop an html5lib namespace prefix such as ``{http://www.w3.org/2000/svg}``."""
    return name.rsplit("}", 1)[-1].lower()


def _unescape_css(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            code = int(match.group(1), 16)
            return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
        return match.group(2)

    return _CSS_ESCAPE.sub(replace, _CSS_COMMENT.sub("", value))


def url_is_unsafe(value: str) -> bool:
    """True if ``value`` (already entity-decoded) starts with a scheme other than http(s)/mailto."""
    match = _SCHEME.match(_CONTROL_AND_SPACE.sub("", value).lower())
    return bool(match) and match.group(1) not in SAFE_SCHEMES


def _urls(name: str, value: str) -> list[str]:
    if name in {"srcset", "imagesrcset"}:
        return [candidate.strip().split(" ")[0] for candidate in value.split(",")]
    if name in {"archive", "ping"}:
        return value.split()
    return [value]


def _elements(root: Element) -> Iterator[Element]:
    yield from root.iter()


def _element_reasons(element: Element) -> Iterator[str]:
    tag = element.tag if isinstance(element.tag, str) else ""
    name = _local(tag)
    if name in UNSAFE_ELEMENTS:
        yield f"element <{name}>"
    for raw_attribute, value in element.attrib.items():
        attribute = _local(raw_attribute)
        if attribute.startswith("on"):
            yield f"event handler {attribute} on <{name}>"
        if attribute == "srcdoc":
            yield f"srcdoc on <{name}>"
        if attribute == "style":
            css = _CONTROL_AND_SPACE.sub("", _unescape_css(value)).lower()
            for needle in _DANGEROUS_CSS:
                if needle in css:
                    yield f"style with {needle} on <{name}>"
        if attribute in URL_ATTRIBUTES or raw_attribute.endswith("}href"):
            for url in _urls(attribute, value):
                if url_is_unsafe(url):
                    yield f"{attribute}={url!r} on <{name}>"


def unsafe_reasons(html: str) -> list[str]:
    """Return every reason the HTML is unsafe (empty list when it is safe).

    The fragment is parsed both as the content of a ``<div>`` (how it is inserted into a page)
    and as a whole document (so that ``<head>``-only elements are seen too).
    """
    reasons: list[str] = []
    fragment = html5lib.parseFragment(html, container="div", treebuilder="etree", namespaceHTMLElements=False)
    document = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    for root in (fragment, document):
        for element in _elements(root):
            reasons.extend(_element_reasons(element))
    return sorted(set(reasons))


def is_safe(html: str) -> bool:
    """True when :func:`unsafe_reasons` finds nothing."""
    return not unsafe_reasons(html)
