"""URL converters. `<int:…>` in every route is an id converter: a number an id column can
hold, or 404.

Werkzeug's own `int` takes any run of digits. Past 2**63 - 1, SQLite's driver raised
OverflowError; past 2**31 - 1, PostgreSQL refused the parameter cast to INTEGER (both a 500);
and Python refuses to convert more than 4,300 digits at all.
"""
from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

#: The largest id a row can have: every id column is INTEGER, 32 bits on PostgreSQL.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Digits for a row id, 0 to MAX_ID. Anything larger is not found.

    It raises NotFound rather than ValidationError: with ValidationError Werkzeug goes on to
    the route's other methods and answers 405 Method Not Allowed to a POST whose GET twin
    matched the digits.
    """

    def to_python(self, value: str) -> int:
        digits = value.lstrip("0") or "0"
        if len(digits) > len(str(MAX_ID)) or int(digits) > MAX_ID:
            raise NotFound()
        return super().to_python(value)
