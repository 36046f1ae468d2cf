"""Certificate codes: entropy, alphabet, check symbol, forgiving input (docs/security.md CERT-1)."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from app.certificates.codes import (
    ALPHABET,
    CODE_LENGTH,
    RANDOM_BITS,
    check_symbol,
    format_code,
    is_valid_code,
    new_code,
    normalise_code,
)

def _fixed_code(seed: int) -> str:
    """A valid code from a fixed seed: the parametrised tests below must collect the same ids in
    every process (pytest-xdist compares them), so their samples cannot come from new_code()."""
    import random

    data = "".join(random.Random(seed).choice(ALPHABET) for _ in range(CODE_LENGTH - 1))
    return data + check_symbol(data)


SAMPLE = [_fixed_code(seed) for seed in range(25)]


def test_code_carries_at_least_60_random_bits_in_an_unambiguous_alphabet() -> None:
    assert RANDOM_BITS >= 60
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)
    for code in [new_code() for _ in range(25)]:
        assert len(code) == CODE_LENGTH == 16
        assert set(code) <= set(ALPHABET)
        assert is_valid_code(code)


def test_codes_do_not_repeat_and_use_the_whole_alphabet_evenly() -> None:
    codes = [new_code() for _ in range(5000)]
    assert len(set(codes)) == len(codes)
    counts = Counter(symbol for code in codes for symbol in code[:-1])
    expected = 5000 * 15 / 32
    assert set(counts) == set(ALPHABET)
    # Loose bound (about 6 sigma): catches a skewed generator, never a fair one.
    assert all(abs(count - expected) < 0.15 * expected for count in counts.values())


def test_display_form_is_four_groups_of_four() -> None:
    for code in SAMPLE:
        shown = format_code(code)
        assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", shown)
        assert normalise_code(shown) == code


@pytest.mark.parametrize("code", SAMPLE[:8])
def test_every_single_symbol_typo_is_caught(code: str) -> None:
    for position in range(len(code)):
        for symbol in ALPHABET:
            if symbol != code[position]:
                typo = code[:position] + symbol + code[position + 1 :]
                assert not is_valid_code(typo), (code, typo)


@pytest.mark.parametrize("code", SAMPLE[:8])
def test_every_adjacent_transposition_is_caught(code: str) -> None:
    for position in range(len(code) - 1):
        a, b = code[position], code[position + 1]
        if a != b:
            swapped = code[:position] + b + a + code[position + 2 :]
            assert not is_valid_code(swapped), (code, swapped)


def test_transposition_of_every_pair_of_symbols_is_caught() -> None:
    data = "0" * 15
    for a in ALPHABET:
        for b in ALPHABET:
            if a != b:
                body = a + b + data[2:]
                code = body + check_symbol(body)
                assert is_valid_code(code)
                assert not is_valid_code(b + a + code[2:])


def test_input_is_case_and_separator_insensitive() -> None:
    code = SAMPLE[0]
    shown = format_code(code)
    for spelling in (shown.lower(), f"  {shown}  ", shown.replace("-", " "), shown.replace("-", "—")):
        assert normalise_code(spelling) == code
        assert is_valid_code(spelling)


def test_letters_read_as_digits_are_mapped() -> None:
    body = "01" * 7 + "0"
    code = body + check_symbol(body)
    misread = code.replace("0", "O").replace("1", "l", 1).replace("1", "I", 1)
    assert normalise_code(misread) == code
    assert is_valid_code(misread)


def test_cyrillic_look_alikes_typed_on_another_layout_are_mapped() -> None:
    body = "ABCEHKMPTX" + "3ABCE"
    code = body + check_symbol(body)
    cyrillic = code.translate(str.maketrans("ABCEHKMPTX3", "АВСЕНКМРТХЗ")).lower()
    assert cyrillic != code.lower()
    assert normalise_code(cyrillic) == code
    assert is_valid_code(cyrillic)


@pytest.mark.parametrize(
    "text",
    ["", "ABCD", "U" * 16, "0000-0000-0000-000", "0000-0000-0000-00000", "ÄBCD-EFGH-JKMN-PQRS", "12345"],
)
def test_malformed_input_is_not_a_valid_code(text: str) -> None:
    assert not is_valid_code(text)


def test_all_zero_code_is_valid_only_with_its_check_symbol() -> None:
    assert check_symbol("0" * 15) == "0"
    assert is_valid_code("0" * 16)
    assert not is_valid_code("0" * 15 + "1")
