"""The one Markdown function of the application.

Every piece of Markdown in Nergi (lessons, quiz texts, course summaries, learners' answers,
mentors' feedback) becomes HTML through :func:`render_markdown`: Python-Markdown renders, then
:func:`app.content.sanitize.sanitize_html` cleans the result against an allow-list. Sanitising
comes after rendering because Markdown itself produces unsafe HTML (raw HTML, ``javascript:``
links). Its output is a :class:`markupsafe.Markup`, the only thing templates may trust.
"""
from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import bleach
import markdown
from markupsafe import Markup

from app.content import sanitize
from app.content.render_guard import DEFAULT_LIMITS, RenderLimits, complexity_problem
from app.content.sanitize import sanitize_html

__all__ = ["RenderLimits", "fallback_html", "render_markdown", "rendered_hash", "renderer_version",
           "rendering_fingerprint", "slugify"]

#: Bump when what render_markdown produces for the same text changes (extensions, their
#: settings, the link rules): course sync then renders every course again.
RENDER_VERSION = 1


def renderer_version() -> str:
    """A string that changes whenever stored HTML may no longer be what rendering gives now.

    Course sync puts it into each course's source hash (app/content/loader.py), so that a
    sync with unchanged files can skip rendering safely. The sanitiser's policy version belongs
    here too, and is: a stricter allow-list renders every course again once (issue 11, finding 9).
    """
    return (f"render={RENDER_VERSION};markdown={markdown.__version__};bleach={bleach.__version__};"
            f"policy={rendering_fingerprint()}")

_SEPARATORS = re.compile(r"[\s_-]+")


def slugify(value: str, separator: str = "-") -> str:
    """Make a heading anchor: lower-case letters and digits of any script, joined by ``separator``.

    ``## Rights-holders`` gives ``rights-holders``; ``## უფლებები და ვალდებულებები`` gives
    ``უფლებები-და-ვალდებულებები``. Returns ``"section"`` when nothing usable is left.
    """
    text = unicodedata.normalize("NFKC", value).lower()
    kept = "".join(
        char if unicodedata.category(char)[0] in "LNM" or char in "-_" else " "
        for char in text
        if unicodedata.category(char) not in {"Cf", "Cc"}
    )
    slug = _SEPARATORS.sub(separator, kept.strip()).strip(separator)
    return slug[:80].rstrip(separator) or "section"


_converters = threading.local()


def _block_converter() -> markdown.Markdown:
    # One converter per thread, reset before each use: building one (seven extensions) costs
    # more than most conversions, and a sync converts thousands of texts.
    converter = getattr(_converters, "block", None)
    if converter is None:
        converter = _converters.block = _new_block_converter()
    return converter.reset()


def _new_block_converter() -> markdown.Markdown:
    return markdown.Markdown(
        output_format="html",
        extensions=["tables", "fenced_code", "footnotes", "def_list", "admonition", "toc", "sane_lists"],
        extension_configs={
            "tables": {"use_align_attribute": True},
            "footnotes": {"SEPARATOR": "-"},
            "toc": {"slugify": slugify, "toc_depth": 6},
        },
    )


def _inline_converter() -> markdown.Markdown:
    converter = getattr(_converters, "inline", None)
    if converter is None:
        converter = _converters.inline = markdown.Markdown(output_format="html", extensions=["sane_lists"])
    return converter.reset()


def fallback_html(text: str, *, inline: bool = False) -> str:
    """Show ``text`` literally: escaped, in paragraphs split at blank lines. Never raises."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    if inline:
        return " ".join(escaped.split())
    paragraphs = [part.strip("\n") for part in re.split(r"\n[ \t]*\n", escaped)]
    return "\n".join(f"<p>{part}</p>" for part in paragraphs if part.strip())


#: Words Python-Markdown writes in English whatever the text's language: the default titles of
#: note/tip/warning boxes and the footnote back-link's tooltip. Course files are rendered once,
#: at sync, in their own language, so these are fixed tables rather than gettext lookups.
BOX_TITLES = {
    "ka": {"note": "შენიშვნა", "tip": "რჩევა", "warning": "გაფრთხილება"},
    "az": {"note": "Qeyd", "tip": "Məsləhət", "warning": "Diqqət"},
    "hy": {"note": "Նշում", "tip": "Խորհուրդ", "warning": "Զգուշացում"},
    "ru": {"note": "Примечание", "tip": "Совет", "warning": "Внимание"},
}
BACKLINK_TITLES = {
    "ka": "დაბრუნება ტექსტში, სქოლიო {n}",
    "az": "Mətndə {n} saylı qeydə qayıt",
    "hy": "Վերադառնալ տեքստում {n}-րդ ծանոթագրությանը",
    "ru": "Вернуться к сноске {n} в тексте",
}
_DEFAULT_BOX_TITLE = re.compile(r'(<div class="admonition (note|tip|warning)">\s*<p class="admonition-title">)'
                                r'(Note|Tip|Warning)(</p>)')
_BACKLINK_TITLE = re.compile(r'title="Jump back to footnote (\d+) in the text"')


def _localise(html: str, lang: str | None) -> str:
    """Put the language's words for what Python-Markdown wrote in English (an untitled box's
    title, the footnote back-link's tooltip). An author's own box title is left as written."""
    boxes, backlink = BOX_TITLES.get(lang or ""), BACKLINK_TITLES.get(lang or "")
    if boxes is None or backlink is None:
        return html

    def box(match: re.Match[str]) -> str:
        if match.group(3).lower() != match.group(2):
            return match.group(0)
        return f"{match.group(1)}{boxes[match.group(2)]}{match.group(4)}"

    html = _DEFAULT_BOX_TITLE.sub(box, html)
    return _BACKLINK_TITLE.sub(lambda m: 'title="' + backlink.format(n=m.group(1)) + '"', html)


def render_markdown(
    text: str,
    *,
    link_resolver: Callable[[str], str | None] | None = None,
    inline: bool = False,
    limits: RenderLimits = DEFAULT_LIMITS,
    lang: str | None = None,
) -> Markup:
    """Render Markdown ``text`` to sanitised HTML.

    ``link_resolver`` is called with every local URL (no scheme and not a bare ``#anchor``) of a
    link or image, and returns the URL to use instead, or None when the target is broken: the
    link is then replaced by its text and the image by its alt text. To learn which URLs were
    broken, let the resolver record them. ``inline=True`` renders one paragraph without the
    ``<p>`` wrapper (block elements are reduced to their text). A text beyond ``limits`` (see
    :func:`app.content.render_guard.complexity_problem`) is shown escaped instead of rendered,
    so that no input can make a render slow. ``lang`` names the text's language, for the few
    words the Markdown extensions write themselves (:func:`_localise`). Never raises for any
    string input.
    """
    if complexity_problem(text, limits) is not None:
        return Markup(fallback_html(text, inline=inline))
    converter = _inline_converter() if inline else _block_converter()
    html = _localise(converter.convert(text), lang)
    cleaned = sanitize_html(html, inline=inline, link_resolver=link_resolver)
    return Markup(cleaned.strip() if inline else cleaned)


@lru_cache(maxsize=1)
def _own_code_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def rendering_fingerprint() -> str:
    """A hash of how Markdown becomes stored HTML: the sanitiser's policy
    (:func:`app.content.sanitize.policy_fingerprint`), this module's code (the Markdown
    extensions and their settings) and Python-Markdown's version."""
    parts = f"{sanitize.policy_fingerprint()}\n{_own_code_hash()}\nmarkdown {markdown.__version__}"
    return hashlib.sha256(parts.encode()).hexdigest()


def rendered_hash(source_hash: str) -> str:
    """The hash that tells whether HTML stored from a source is current: it changes with the
    source and with the rendering policy (so a stricter allow-list reaches stored lessons)."""
    return hashlib.sha256(f"{source_hash}\0{rendering_fingerprint()}".encode()).hexdigest()
