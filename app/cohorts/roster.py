"""Reading a roster CSV: decoding, the header, and checking each row. Pure: no database.

What Excel, LibreOffice and Google Sheets write all works: UTF-8 with or without a byte order
mark, UTF-16 with one (Excel's "Unicode text"), commas, semicolons or tabs, CRLF or LF. Other
encodings (Windows-1251, Windows-1252 …) are refused with a message that says how to save the
file, because guessing them garbles Georgian, Armenian and Azerbaijani names. Cells are kept as
written, apart from surrounding spaces: "=1+2" stays the text "=1+2" (exports neutralise it).
"""
from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import normalise_email
from app.cohorts.models import LEARNER, MENTOR, TRAINER
from app.config import LANGUAGE_NAMES, LANGUAGES
from app.core.errors import InvalidInput

MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = ("name", "email", "language", "municipality", "organisation", "role")
REQUIRED_COLUMNS = ("name", "email")
LIMITS = {"name": 200, "email": 254, "municipality": 100, "organisation": 200}
COLUMN_LABELS = {"name": _l("name"), "email": _l("e-mail address"), "municipality": _l("municipality"),
                 "organisation": _l("organisation")}
_ALIASES = {"e-mail": "email", "e-mail address": "email", "email address": "email", "mail": "email",
            "full name": "name", "organization": "organisation", "lang": "language", "locale": "language"}
_LANGUAGE_WORDS = {"english": "en", "georgian": "ka", "azerbaijani": "az", "armenian": "hy", "russian": "ru",
                   **{name.casefold(): code for code, name in LANGUAGE_NAMES.items()}}
_ROLE_WORDS = {LEARNER: LEARNER, MENTOR: MENTOR}


class RosterError(InvalidInput):
    """The file as a whole cannot be read; str(error) says why and what to do."""


@dataclass
class RosterRow:
    line: int
    name: str = ""
    email: str = ""
    language: str = ""
    municipality: str = ""
    organisation: str = ""
    role: str = LEARNER
    problems: list[str] = field(default_factory=list)
    # Set by the enrolment service from the database: "new", "existing" (an account exists).
    account: str = ""

    @property
    def is_valid(self) -> bool:
        return not self.problems


@dataclass
class Roster:
    rows: list[RosterRow]
    delimiter: str
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def valid_rows(self) -> list[RosterRow]:
        return [row for row in self.rows if row.is_valid]

    @property
    def invalid_rows(self) -> list[RosterRow]:
        return [row for row in self.rows if not row.is_valid]


def decode_roster(data: bytes) -> str:
    """The file's text. Raises RosterError for an empty, binary, too large or non-UTF-8 file."""
    if len(data) > MAX_BYTES:
        raise RosterError(_("The file is larger than %(mb)d MB. Split it into smaller files.",
                            mb=MAX_BYTES // (1024 * 1024)))
    if data.startswith(b"PK\x03\x04"):
        raise RosterError(_("This is a spreadsheet workbook, not a CSV file. In Excel choose “Save as” "
                            "and “CSV UTF-8 (Comma delimited)”, then upload that file."))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise RosterError(_("The file could not be read as text.")) from None
    else:
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            line = data[:error.start].count(b"\n") + 1
            raise RosterError(_(
                "The file is not in UTF-8 (the first character that is not is on line %(line)d). "
                "Names in Georgian, Armenian or Azerbaijani would be garbled. In Excel choose “Save as” "
                "and “CSV UTF-8 (Comma delimited)”; in LibreOffice choose the character set “Unicode (UTF-8)”.",
                line=line)) from None
    if "\x00" in text:
        raise RosterError(_("The file could not be read as text."))
    if not text.strip():
        raise RosterError(_("The file is empty."))
    return text


def _delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column_name(raw: str) -> str:
    name = " ".join(raw.replace("\ufeff", "").replace("_", " ").split()).casefold()
    return _ALIASES.get(name, name)


def _read_header(cells: list[str]) -> tuple[dict[str, int], list[str]]:
    names = [_column_name(cell) for cell in cells]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(names):
        if name in COLUMNS:
            if name in positions:
                raise RosterError(_("The column “%(name)s” appears twice in the first line.", name=name))
            positions[name] = index
        elif name:
            ignored.append(cells[index].strip())
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        raise RosterError(_("The first line must name the columns. Missing: %(missing)s. "
                            "Expected: %(expected)s.", missing=", ".join(missing), expected=", ".join(COLUMNS)))
    return positions, ignored


def parse_roster(data: bytes, *, default_language: str = "en") -> Roster:
    """Decode and check a roster file; see parse_roster_text. Raises RosterError."""
    return parse_roster_text(decode_roster(data), default_language=default_language)


def parse_roster_text(text: str, *, default_language: str = "en") -> Roster:
    """Check every row of a roster: each comes back valid or with its problems.

    Raises RosterError when the file as a whole is unusable (no header, a required column
    missing, more than MAX_ROWS rows).
    """
    text = text.removeprefix("\ufeff")
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise RosterError(_("Line %(line)d cannot be read: %(error)s", line=reader.line_num, error=str(error))) \
            from None
    if not records:
        raise RosterError(_("The file is empty."))
    positions, ignored = _read_header(records[0][1])
    body = records[1:]
    if len(body) > MAX_ROWS:
        raise RosterError(_("The file has %(count)s rows; at most %(limit)s can be enrolled at once. "
                            "Split it into smaller files.", count=f"{len(body):,}", limit=f"{MAX_ROWS:,}"))
    if not body:
        raise RosterError(_("The file has a header line but no people."))
    width = len(records[0][1])
    rows = [_check_row(line, cells, positions, width, default_language) for line, cells in body]
    _mark_duplicates(rows)
    return Roster(rows=rows, delimiter=delimiter, ignored_columns=ignored)


def _check_row(line: int, cells: list[str], positions: dict[str, int], width: int,
               default_language: str) -> RosterRow:
    row = RosterRow(line=line)
    if len(cells) < width:
        row.problems.append(_("This row has %(found)d columns; the first line has %(expected)d.",
                              found=len(cells), expected=width))
    elif len(cells) > width and any(cell.strip() for cell in cells[width:]):
        row.problems.append(_("This row has %(found)d columns; the first line has %(expected)d.",
                              found=len(cells), expected=width))
    values = {name: (cells[index].strip() if index < len(cells) else "") for name, index in positions.items()}
    row.name = values.get("name", "")
    row.municipality = values.get("municipality", "")
    row.organisation = values.get("organisation", "")
    _check_name(row)
    _check_email(row, values.get("email", ""))
    _check_language(row, values.get("language", ""), default_language)
    _check_role(row, values.get("role", ""))
    for name, limit in LIMITS.items():
        if len(getattr(row, name)) > limit:
            row.problems.append(_("The %(column)s is longer than %(n)d characters.",
                                  column=COLUMN_LABELS[name], n=limit))
    return row


def _check_name(row: RosterRow) -> None:
    if not row.name:
        row.problems.append(_("The name is missing."))
    for value in (row.name, row.municipality, row.organisation):
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            row.problems.append(_("A cell contains control characters."))
            break


def _check_email(row: RosterRow, raw: str) -> None:
    row.email = normalise_email(raw)
    if not raw:
        row.problems.append(_("The e-mail address is missing."))
        return
    try:
        validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        row.problems.append(_("“%(value)s” is not a valid e-mail address.", value=raw))


def _check_language(row: RosterRow, raw: str, default_language: str) -> None:
    if not raw:
        row.language = default_language if default_language in LANGUAGES else "en"
        return
    code = raw.casefold() if raw.casefold() in LANGUAGES else _LANGUAGE_WORDS.get(raw.casefold())
    if code is None:
        row.language = raw
        row.problems.append(_("Unknown language “%(value)s”; use one of %(codes)s.",
                              value=raw, codes=", ".join(LANGUAGES)))
    else:
        row.language = code


def _check_role(row: RosterRow, raw: str) -> None:
    word = raw.casefold()
    if not word:
        row.role = LEARNER
    elif word in _ROLE_WORDS:
        row.role = _ROLE_WORDS[word]
    elif word == TRAINER:
        row.role = raw
        row.problems.append(_("Trainers are appointed by an administrator; use learner or mentor."))
    else:
        row.role = raw
        row.problems.append(_("Unknown role “%(value)s”; use learner or mentor.", value=raw))


def _mark_duplicates(rows: list[RosterRow]) -> None:
    first_line: dict[str, int] = {}
    for row in rows:
        if not row.email:
            continue
        key = row.email.casefold()
        if key in first_line:
            row.problems.append(_("The same e-mail address as line %(line)d (capitals do not matter).",
                                  line=first_line[key]))
        else:
            first_line[key] = row.line
