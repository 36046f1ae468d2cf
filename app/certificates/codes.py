"""Certificate codes: unguessable, short enough to type, forgiving when typed back.

A code is 15 random symbols of Crockford's base-32 alphabet (75 bits from ``secrets``)
followed by one check symbol, printed as ``XXXX-XXXX-XXXX-XXXX``.

Why 16 and not 12 symbols: docs/security.md CERT-1 asks for at least 60 random bits; 11 data
symbols of base 32 carry only 55. The shortest compliant code (12 + 1 = 13 symbols) does
not group evenly, and four groups of four is the pattern people already know from gift
cards and licence keys.

The check symbol is a Damm-style check over GF(32): the state runs ``s = a*s + d`` over
the symbols, with ``a`` the field's generator, and a valid code ends in state 0. Because
``a`` is neither 0 nor 1, every single substitution and every transposition of two
adjacent symbols changes the final state, so both are always caught (a plain weighted
sum modulo 32 cannot catch every transposition, because 32 is not prime).
"""
from __future__ import annotations

import secrets
import unicodedata

#: Crockford's base 32: digits and letters without I, L, O, U.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
DATA_LENGTH = 15
CODE_LENGTH = DATA_LENGTH + 1
GROUP_SIZE = 4
#: Random bits carried by a code (the check symbol adds none).
RANDOM_BITS = DATA_LENGTH * 5

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}

# Letters people read as digits (Crockford's rule), and Cyrillic letters that look the
# same as the Latin ones printed on the certificate: a learner typing the code on a
# Russian, Armenian or Georgian keyboard layout often gets these instead.
_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "I": "1",
        "L": "1",
        "А": "A",
        "В": "B",
        "Е": "E",
        "З": "3",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "0",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
    }
)
_SEPARATORS = str.maketrans("", "", "-‐‑‒–—― _.")

# GF(2^5) with the primitive polynomial x^5 + x^2 + 1.
_FIELD_POLYNOMIAL = 0b100101


def _times_generator(value: int) -> int:
    """Multiply a GF(32) element by the generator x."""
    value <<= 1
    if value & 0b100000:
        value ^= _FIELD_POLYNOMIAL
    return value


def _check_state(symbols: str) -> int:
    state = 0
    for symbol in symbols:
        state = _times_generator(state) ^ _VALUE[symbol]
    return state


def check_symbol(data: str) -> str:
    """Return the check symbol for ``data`` (already normalised, alphabet symbols only).

    Raises ``KeyError`` if ``data`` holds a symbol outside the alphabet.
    """
    return ALPHABET[_times_generator(_check_state(data))]


def new_code() -> str:
    """Return a fresh code in canonical form: 16 upper-case symbols, no separators."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    return data + check_symbol(data)


def normalise_code(text: str) -> str:
    """Return ``text`` the way codes are stored and compared.

    Case-insensitive; drops spaces, hyphens and dashes; maps O to 0 and I/L to 1, and
    Cyrillic look-alike letters to their Latin twins. The result is not necessarily
    valid: check it with :func:`is_valid_code`.
    """
    folded = unicodedata.normalize("NFKC", text).upper()
    folded = "".join(folded.split())  # every kind of white space
    return folded.translate(_SEPARATORS).translate(_LOOKALIKES)


def is_valid_code(text: str) -> bool:
    """Tell whether ``text`` (in any accepted spelling) is a well-formed code.

    True only when it has 16 alphabet symbols once normalised and its check symbol
    matches. A valid code may still be unknown: this only spares the database a look-up
    for typos.
    """
    code = normalise_code(text)
    if len(code) != CODE_LENGTH or any(symbol not in _VALUE for symbol in code):
        return False
    return _check_state(code) == 0


def format_code(code: str) -> str:
    """Return a code grouped for display, e.g. ``7K3M-Q9XA-2BCD-EF4G``."""
    canonical = normalise_code(code)
    return "-".join(
        canonical[start : start + GROUP_SIZE] for start in range(0, len(canonical), GROUP_SIZE)
    )
