"""The printable certificate: one A4 landscape page, rendered with fpdf2.

Fonts come from a Python package, not the system: matplotlib's wheel ships DejaVu Sans,
which covers Latin (with Azerbaijani's ə), Georgian, Armenian and Cyrillic. The folder
is found through the import system without running matplotlib's ``__init__`` (which would
import numpy and set up a config folder) — the fonts are plain files in the wheel.

The QR code is drawn as vector squares rather than embedded as a PNG: it stays sharp at
any printer resolution and the PDF needs no image decoder.

Output is deterministic: the same arguments give the same bytes (the creation date is
the issue date and fpdf2's file id is a hash of the content), so callers can cache the
PDF under :func:`cache_key`.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, cast

from babel.dates import format_date

if TYPE_CHECKING:
    from fpdf import FPDF

# fpdf2 and qrcode (about 40 MB with their dependencies) are imported when a PDF is first
# drawn, not when the app starts: most workers never draw one (issue 18).

#: Bump when the layout changes, so cached PDFs are rendered again.
LAYOUT_VERSION = 1
LOCALES = ("en", "ka", "az", "hy", "ru")
#: Keys the caller must translate and pass in ``labels``.
LABEL_KEYS = ("heading", "presented_to", "completed", "date", "code", "verify")

PAGE_WIDTH, PAGE_HEIGHT = 297.0, 210.0  # A4 landscape, mm
MARGIN = 12.0
QR_SIZE = 46.0  # mm, quiet zone included: 0.5 mm modules at version 16
QR_X = PAGE_WIDTH - MARGIN - 8.0 - QR_SIZE
QR_Y = PAGE_HEIGHT - MARGIN - 8.0 - QR_SIZE
QR_QUIET_MODULES = 4

_GREEN = (38, 98, 60)
_INK = (33, 37, 41)
_MUTED = (95, 102, 110)
_FONT = "DejaVuSans"
_MONO = "DejaVuSansMono"


class FontsMissingError(RuntimeError):
    """matplotlib (which ships the DejaVu fonts) is not installed."""


class UnsupportedCharactersError(ValueError):
    """The text holds characters the certificate font cannot draw.

    A certificate with blank boxes where a name should be is worse than none, so the
    renderer refuses; ``characters`` lists what was missing.
    """

    def __init__(self, characters: list[str]) -> None:
        self.characters = characters
        listed = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in characters)
        super().__init__(f"the certificate font has no glyph for {listed}")


@cache
def font_directory() -> Path:
    """Return the folder of matplotlib's bundled TrueType fonts (DejaVu Sans and Mono).

    Raises :class:`FontsMissingError` when matplotlib is not installed.
    """
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontsMissingError("install matplotlib: its wheel ships the DejaVu fonts")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    if not (folder / "DejaVuSans.ttf").is_file():
        raise FontsMissingError(f"DejaVu fonts not found in {folder}")
    return folder


@dataclass(frozen=True)
class CertificateText:
    """Everything a certificate PDF shows, in its language: what renders it and what names its
    cached file (:func:`cache_key`) take the same one value."""

    learner_name: str
    course_title: str
    issued_on: date
    locale: str
    programme: str
    signatory_name: str
    signatory_title: str
    code: str
    verify_url: str
    labels: dict[str, str] = field(hash=False)


def format_issue_date(issued_on: date, locale: str) -> str:
    """Return the date the way the certificate's language writes it (CLDR long format)."""
    return format_date(issued_on, format="long", locale=locale)


def cache_key(text: CertificateText) -> str:
    """Return a hex digest naming the PDF these arguments render to.

    Made of the text, plus the layout and fpdf2 versions, so a new layout or library never
    serves a stale cached file.
    """
    material = {
        "layout": LAYOUT_VERSION,
        "fpdf": importlib.metadata.version("fpdf2"),
        "learner_name": text.learner_name,
        "course_title": text.course_title,
        "issued_on": text.issued_on.isoformat(),
        "locale": text.locale,
        "programme": text.programme,
        "signatory_name": text.signatory_name,
        "signatory_title": text.signatory_title,
        "code": text.code,
        "verify_url": text.verify_url,
        "labels": {key: text.labels.get(key, "") for key in LABEL_KEYS},
    }
    canonical = json.dumps(material, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _new_document(issued_on: date, locale: str) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    fonts = font_directory()
    pdf.add_font(_FONT, "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font(_FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.add_font(_MONO, "B", str(fonts / "DejaVuSansMono-Bold.ttf"))
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_creation_date(datetime.combine(issued_on, time(), tzinfo=UTC))
    pdf.set_lang(locale)
    pdf.set_creator("Nergi")
    pdf.add_page()
    return pdf


def _fit_lines(
    pdf: FPDF,
    text: str,
    *,
    style: str,
    width: float,
    largest: float,
    smallest: float,
    max_lines: int,
) -> tuple[float, list[str]]:
    """Find the largest font size (step 0.5 pt) at which ``text`` fits in ``max_lines``."""
    size = largest
    while True:
        pdf.set_font(_FONT, style, size)
        lines = cast(list[str], pdf.multi_cell(width, size * 0.45, text, dry_run=True, output="LINES"))
        if len(lines) <= max_lines or size <= smallest:
            return size, lines
        size -= 0.5


def _centred_block(
    pdf: FPDF,
    text: str,
    *,
    top: float,
    style: str,
    largest: float,
    smallest: float = 10.0,
    max_lines: int = 1,
    colour: tuple[int, int, int] = _INK,
    width: float = PAGE_WIDTH - 2 * (MARGIN + 20.0),
) -> float:
    """Write ``text`` centred, shrunk to fit; return the y below it."""
    size, lines = _fit_lines(
        pdf, text, style=style, width=width, largest=largest, smallest=smallest, max_lines=max_lines
    )
    pdf.set_text_color(*colour)
    line_height = size * 0.45
    pdf.set_xy((PAGE_WIDTH - width) / 2, top)
    pdf.multi_cell(width, line_height, text, align="C")
    return top + line_height * len(lines)


def _draw_frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*_GREEN)
    pdf.set_line_width(1.2)
    pdf.rect(MARGIN, MARGIN, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - 2 * MARGIN)
    pdf.set_line_width(0.3)
    inset = MARGIN + 3.0
    pdf.rect(inset, inset, PAGE_WIDTH - 2 * inset, PAGE_HEIGHT - 2 * inset)


def _draw_qr(pdf: FPDF, content: str, *, x: float, y: float, size: float) -> None:
    """Draw ``content`` as a QR code (error correction M) of ``size`` mm, quiet zone included."""
    import qrcode
    import qrcode.constants

    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QR_QUIET_MODULES)
    qr.add_data(content)
    qr.make(fit=True)
    matrix: list[list[bool]] = qr.get_matrix()
    module = size / len(matrix)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            run_start = column
            while column < len(row) and row[column]:
                column += 1
            # A hair of overlap keeps viewers from drawing seams between the squares.
            pdf.rect(
                x + run_start * module,
                y + row_index * module,
                (column - run_start) * module + 0.01,
                module + 0.01,
                style="F",
            )


def _missing_glyphs(pdf: FPDF) -> list[str]:
    missing: set[int] = set()
    for font in pdf.fonts.values():
        missing.update(getattr(font, "missing_glyphs", ()))
    return [chr(point) for point in sorted(missing)]


def render_certificate_pdf(text: CertificateText) -> bytes:
    """Render the certificate and return the PDF file's bytes.

    ``text.code`` is printed as given (pass it grouped, e.g. ``format_code(code)``);
    ``verify_url`` goes into the QR code whole, and is printed without its fragment
    (the offline token after ``#`` is for machines). ``labels`` holds the translated
    strings named in :data:`LABEL_KEYS`, in the certificate's language.

    Raises ``ValueError`` for an unknown locale or a missing label, and
    :class:`UnsupportedCharactersError` when a text needs a glyph DejaVu Sans lacks.
    """
    if text.locale not in LOCALES:
        raise ValueError(f"unsupported certificate locale {text.locale!r}; expected one of {LOCALES}")
    missing_labels = [key for key in LABEL_KEYS if not text.labels.get(key)]
    if missing_labels:
        raise ValueError(f"missing certificate labels: {', '.join(missing_labels)}")

    pdf = _new_document(text.issued_on, text.locale)
    try:
        _draw_certificate(pdf, **{name: getattr(text, name) for name in TEXT_FIELDS})
        missing = _missing_glyphs(pdf)
        if missing:
            raise UnsupportedCharactersError(missing)
        return bytes(pdf.output())
    finally:
        # fontTools reads the font files lazily and keeps them open until told.
        for font in pdf.fonts.values():
            close = getattr(font, "close", None)
            if close is not None:
                close()


#: The fields of CertificateText, in order (the drawing code takes them by name).
TEXT_FIELDS = tuple(f.name for f in fields(CertificateText))


def _draw_certificate(
    pdf: FPDF,
    *,
    learner_name: str,
    course_title: str,
    issued_on: date,
    locale: str,
    programme: str,
    signatory_name: str,
    signatory_title: str,
    code: str,
    verify_url: str,
    labels: dict[str, str],
) -> None:
    pdf.set_title(f"{labels['heading']}: {learner_name}")
    pdf.set_subject(course_title)
    pdf.set_author(programme)
    _draw_frame(pdf)

    _centred_block(pdf, programme, top=27, style="B", largest=12, colour=_GREEN, max_lines=2)
    _centred_block(pdf, labels["heading"], top=40, style="B", largest=30, smallest=18)
    pdf.set_draw_color(*_GREEN)
    pdf.set_line_width(0.6)
    pdf.line(PAGE_WIDTH / 2 - 20, 57, PAGE_WIDTH / 2 + 20, 57)

    # Each block starts below the one before, so a two-line name pushes the rest down.
    _centred_block(pdf, labels["presented_to"], top=65, style="", largest=13, colour=_MUTED)
    below_name = _centred_block(pdf, learner_name, top=76, style="B", largest=32, smallest=16, max_lines=2)
    below_completed = _centred_block(
        pdf, labels["completed"], top=max(below_name + 6, 99), style="", largest=13, colour=_MUTED
    )
    below_title = _centred_block(
        pdf,
        course_title,
        top=below_completed + 4,
        style="B",
        largest=20,
        smallest=12,
        max_lines=2,
        colour=_GREEN,
    )
    _centred_block(
        pdf,
        f"{labels['date']}: {format_issue_date(issued_on, locale)}",
        top=max(below_title + 6, 130),
        style="",
        largest=12,
    )

    # Signatory, bottom left.
    left, line_y = MARGIN + 25.0, QR_Y + 22.0
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(0.3)
    pdf.line(left, line_y, left + 80, line_y)
    pdf.set_text_color(*_INK)
    pdf.set_font(_FONT, "B", 11)
    pdf.set_xy(left, line_y + 2)
    pdf.multi_cell(80, 5, signatory_name, align="L")
    pdf.set_font(_FONT, "", 9.5)
    pdf.set_text_color(*_MUTED)
    pdf.set_x(left)
    pdf.multi_cell(80, 4.5, signatory_title, align="L")

    # Code and verification, bottom right beside the QR code.
    text_right = QR_X - 4.0
    text_width = 95.0
    pdf.set_xy(text_right - text_width, QR_Y + 8)
    pdf.set_font(_FONT, "", 9)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(text_width, 4.5, labels["code"], align="R")
    pdf.set_x(text_right - text_width)
    pdf.set_font(_MONO, "B", 14)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(text_width, 7, code, align="R")
    pdf.set_x(text_right - text_width)
    pdf.set_font(_FONT, "", 9)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(text_width, 4.5, labels["verify"], align="R")
    pdf.set_x(text_right - text_width)
    pdf.set_font(_FONT, "", 8)
    pdf.multi_cell(text_width, 4, verify_url.split("#", 1)[0], align="R")
    _draw_qr(pdf, verify_url, x=QR_X, y=QR_Y, size=QR_SIZE)
