"""Every interface string is translated in every language (non-negotiable 5): no empty or fuzzy
msgstr, and each translation keeps the placeholders of its msgid."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2] / "app" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.parametrize("lang", ["ka", "az", "hy", "ru"])
def test_every_message_is_translated_with_its_placeholders(lang):
    with (ROOT / lang / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle, locale=lang)
    missing, wrong = [], []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(ids[0])
            continue
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            # a plural form may leave out the number (ru "один день"), nothing else
            if not set(PLACEHOLDER.findall(string)) >= wanted - {"num", "count", "n"}:
                wrong.append((ids[0], string))
    assert missing == [], f"{len(missing)} untranslated in {lang}: {missing[:10]}"
    assert wrong == [], f"placeholders lost in {lang}: {wrong[:10]}"
