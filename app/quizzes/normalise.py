"""How typed answers are compared: text normalisation and number reading.

Short answers are compared after :func:`normalise_answer`, which makes the answer
match "as people type it" in our five languages:

- Unicode NFKC, so decomposed input (macOS and some phones send ``e`` + U+0301, not
  ``é``) equals composed input, and compatibility forms (full-width letters, ligatures
  such as Armenian ``և``) equal their plain letters;
- case-folding, which also covers Armenian capitals and Georgian Mtavruli capitals
  (``ᲡᲐᲙᲠᲔᲑᲣᲚᲝ`` matches ``საკრებულო``);
- Azerbaijani/Turkish I: ``I``, ``ı``, ``İ`` and ``i`` are all the same letter here.
  Learners on a keyboard without Azerbaijani letters type ``i``/``I`` for both, and the
  default case-folding would turn ``İ`` into ``i`` + a combining dot that matches
  nothing.  The cost is that ``ı`` and ``i`` cannot tell two accepted answers apart;
  no quiz answer should hinge on that;
- the look-alike ``ǝ``/``Ǝ`` (U+01DD/U+018E), often typed for the Azerbaijani schwa
  ``ə``/``Ə``, counts as ``ə``; ``ș`` (comma below) counts as ``ş`` (cedilla);
- Cyrillic ``ё`` counts as ``е``: Russian text usually writes ``е`` for ``ё``;
- Armenian ``և`` (and ``եւ``) counts as ``եվ``: in capitals it is written ``ԵՎ``,
  so ``Երևան``, ``Երեւան`` and ``ԵՐԵՎԱՆ`` are one answer;
- typographic apostrophes and dashes count as ``'`` and ``-``; invisible format
  characters (zero-width space, soft hyphen, BOM) are dropped; runs of white space
  become one space and the ends are trimmed.

Accents that are letters of their own stay significant: ``ö`` is not ``o``, ``ş`` is
not ``s``, ``ə`` is not ``e``.
"""
from __future__ import annotations

import math
import re
import unicodedata

# Applied before case-folding: single characters that people type for another.
_LOOKALIKES = str.maketrans(
    {
        "\u01dd": "\u0259",  # ǝ turned e -> ə schwa
        "\u018e": "\u018f",  # Ǝ -> Ə
        "\u0219": "\u015f",  # ș -> ş
        "\u0218": "\u015e",  # Ș -> Ş
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u02b9": "'",
        "`": "'",
        "\u00b4": "'",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
    }
)

# Applied after case-folding.
_FOLDED = str.maketrans({"\u0131": "i", "\u0451": "\u0435"})  # ı -> i, ё -> е
_DOTTED_I = re.compile("i\u0307")  # casefold("İ") == "i" + COMBINING DOT ABOVE
_ARMENIAN_EV = "\u0565\u0582"  # եւ (what NFKC makes of և)
_WHITESPACE = re.compile(r"\s+")


def normalise_answer(text: str) -> str:
    """Return ``text`` in the form in which short answers are compared (see module doc)."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = unicodedata.normalize("NFKC", text).translate(_LOOKALIKES)
    text = unicodedata.normalize("NFKC", text.casefold())
    # Folding can leave a letter next to a combining mark that composes with it
    # ("ё" + U+0308 -> "е" + U+0308 -> "ё"), so fold until nothing changes.
    for _ in range(5):
        folded = _DOTTED_I.sub("i", text.translate(_FOLDED)).replace(_ARMENIAN_EV, "\u0565\u057e")
        folded = unicodedata.normalize("NFKC", folded)
        if folded == text:
            break
        text = folded
    return _WHITESPACE.sub(" ", text).strip()


_AUTHORED_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def parse_authored_number(text: str) -> float | None:
    """Read a number as an author writes it (``2014``, ``-0.5``, ``1e3``); None if not one.

    Authors write a dot for the decimal point; infinities and NaN are refused.
    """
    text = text.strip().replace("\u2212", "-")
    if not _AUTHORED_NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


_LEARNER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_LEARNER_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?")


def parse_learner_number(text: str) -> float | None:
    """Read a number as a learner may type it; None when it is not a number.

    Accepts a decimal comma (``2,5``) as well as a decimal point, spaces, thin spaces
    and apostrophes as thousands separators (``1 000``), and ``1,234.5`` / ``1.234,5``
    where the last of the two marks is the decimal one.  Several commas with no dot are
    thousands separators (``1,000,000``).  A single comma is a decimal comma: ``1,000``
    is one, not a thousand, as in Georgian, Azerbaijani, Armenian and Russian usage.
    Digits of other scripts are read by NFKC/``float``.  Never raises.
    """
    if len(text) > 100:
        return None
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").casefold()
    text = _LEARNER_SPACES.sub("", text)
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1:
        text = text.replace(",", "")
    # Digits of other scripts: float() reads them; the pattern needs ASCII.
    ascii_text = "".join(str(unicodedata.digit(ch, 0)) if ch.isdigit() else ch for ch in text)
    if not _LEARNER_NUMBER.fullmatch(ascii_text):
        return None
    try:
        value = float(ascii_text)
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None
