"""Reading roster CSV files: a table of what trainers' spreadsheets really produce."""
from __future__ import annotations

import codecs

import pytest

from app.cohorts.roster import MAX_ROWS, RosterError, decode_roster, parse_roster

HEADER = "name,email,language,municipality,organisation,role\n"
NAMES = {
    "ka": "ნინო ბერიძე",
    "hy": "Արմեն Սարգսյան",
    "az": "Aygün Məmmədova",
    "ru": "Анна Иванова",
}


def parse(text: str | bytes, **kwargs):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_roster(data, **kwargs)


def problems(roster) -> dict[int, str]:
    return {row.line: " ".join(row.problems) for row in roster.rows if row.problems}


@pytest.mark.parametrize("data, expected_delimiter", [
    (HEADER + "Nino,nino@example.org,ka,Marneuli,CSO One,learner\n", ","),
    (codecs.BOM_UTF8 + (HEADER + "Nino,nino@example.org,ka,Marneuli,CSO One,learner\n").encode(), ","),
    ((HEADER.replace(",", ";") + "Nino;nino@example.org;ka;Marneuli;CSO One;learner\n").replace("\n", "\r\n"), ";"),
    (codecs.BOM_UTF8 + "name;email;language;municipality;organisation;role\r\nNino;nino@example.org;ka;Marneuli;CSO One;learner\r\n".encode(), ";"),
    ("name\temail\tlanguage\tmunicipality\torganisation\trole\nNino\tnino@example.org\tka\tMarneuli\tCSO One\tlearner\n", "\t"),
    ("name\temail\tlanguage\tmunicipality\torganisation\trole\r\nNino\tnino@example.org\tka\tMarneuli\tCSO One\tlearner\r\n".encode("utf-16"), "\t"),
    ("\n\n" + HEADER + "\nNino,nino@example.org,ka,Marneuli,CSO One,learner\n\n,,,,,\n", ","),
], ids=["utf8", "utf8-bom", "semicolon-crlf", "excel-bom-semicolon-crlf", "tabs", "utf16-excel-unicode-text",
        "blank-lines"])
def test_spreadsheet_flavours_all_read_the_same(data, expected_delimiter):
    roster = parse(data)
    assert roster.delimiter == expected_delimiter
    [row] = roster.rows
    assert (row.name, row.email, row.language, row.municipality, row.organisation, row.role) == (
        "Nino", "nino@example.org", "ka", "Marneuli", "CSO One", "learner")
    assert row.is_valid


@pytest.mark.parametrize("lang, name", NAMES.items())
def test_names_in_every_script_come_back_exactly(lang, name):
    # Also with the combining and precomposed forms left as they were written.
    text = HEADER + f"{name},x@example.org,{lang},,,\n" + "Ə\u0301li,y@example.org,az,,,\n"
    roster = parse(codecs.BOM_UTF8 + text.encode("utf-8"))
    assert [row.name for row in roster.rows] == [name, "Ə\u0301li"]
    assert all(row.is_valid for row in roster.rows)


@pytest.mark.parametrize("line, expected", [
    ("Nino,not-an-address,ka,,,", "not a valid e-mail address"),
    ("Nino,,ka,,,", "e-mail address is missing"),
    (",nino@example.org,ka,,,", "name is missing"),
    ("Nino,nino@example.org,fr,,,", "Unknown language “fr”"),
    ("Nino,nino@example.org,ka,,,boss", "Unknown role “boss”"),
    ("Nino,nino@example.org,ka,,,trainer", "Trainers are appointed by an administrator"),
    ("Nino,nino@example.org", "This row has 2 columns; the first line has 6"),
    ("Nino,nino@example.org,ka,,,learner,extra", "This row has 7 columns"),
    ("Ni\x07no,nino@example.org,ka,,,", "control characters"),
    ("N" * 201 + ",nino@example.org,ka,,,", "longer than 200 characters"),
], ids=["bad-email", "no-email", "no-name", "unknown-language", "unknown-role", "trainer-role", "missing-columns",
        "extra-column", "control-character", "too-long"])
def test_a_bad_row_is_kept_with_its_reason(line, expected):
    roster = parse(HEADER + "Good,good@example.org,en,,,\n" + line + "\n")
    assert roster.rows[0].is_valid
    assert expected in problems(roster)[3]


@pytest.mark.parametrize("cell, language, role", [
    ("", "hy", "learner"),  # empty: the cohort's language and the learner role
    ("KA", "ka", "learner"),
    ("Georgian", "ka", "learner"),
    ("ქართული", "ka", "learner"),
    ("Русский", "ru", "learner"),
])
def test_languages_by_code_or_name(cell, language, role):
    [row] = parse(HEADER + f"Nino,nino@example.org,{cell},,,\n", default_language="hy").rows
    assert (row.language, row.role, row.is_valid) == (language, role, True)


def test_duplicate_emails_differing_only_in_case_are_caught():
    roster = parse(HEADER + "A,nino@example.org,,,,\nB,Nino@Example.ORG,,,,\nC, NINO@example.org ,,,,mentor\n")
    assert roster.rows[0].is_valid
    assert problems(roster) == {3: "The same e-mail address as line 2 (capitals do not matter).",
                                4: "The same e-mail address as line 2 (capitals do not matter)."}
    assert {row.email for row in roster.rows} == {"nino@example.org"}


def test_formula_looking_cells_are_kept_as_text():
    roster = parse(HEADER + '"=HYPERLINK(""http://evil.example"",""x"")",a@example.org,,+995 555,-org,\n'
                   "@SUM(A1),b@example.org,,=1+2,,\n")
    first, second = roster.rows
    assert first.name == '=HYPERLINK("http://evil.example","x")'
    assert (first.municipality, first.organisation) == ("+995 555", "-org")
    assert (second.name, second.municipality) == ("@SUM(A1)", "=1+2")
    assert first.is_valid and second.is_valid


def test_header_columns_in_any_order_with_aliases_and_unknown_ones():
    roster = parse("E-mail;Full name;Phone;Organization\nnino@example.org;Nino;555;CSO\n")
    [row] = roster.rows
    assert (row.name, row.email, row.organisation, row.language, row.role) == ("Nino", "nino@example.org", "CSO",
                                                                                "en", "learner")
    assert roster.ignored_columns == ["Phone"]


def test_quoted_cells_may_hold_separators_and_line_breaks():
    roster = parse(HEADER + '"Beridze, Nino",nino@example.org,ka,"Marneuli\nvillage",,\nB,b@example.org,,,,\n')
    assert roster.rows[0].name == "Beridze, Nino"
    assert roster.rows[0].municipality == "Marneuli\nvillage"
    assert roster.rows[1].line == 4  # line numbers count the physical lines


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty."),
    (b"\r\n\r\n", "The file is empty."),
    ("name,email\n".encode(), "header line but no people"),
    ("name,language\nNino,ka\n".encode(), "Missing: email."),
    ("name,email,name\nA,a@example.org,B\n".encode(), "appears twice"),
    ("name;email\r\nNino;nino@example.org\r\nАнна;anna@example.org\r\n".encode("cp1251"), "not in UTF-8"),
    ("name,email\nJosé,jose@example.org\n".encode("latin-1"), "on line 2"),
    (b"PK\x03\x04" + b"\x00" * 100, "spreadsheet workbook"),
    (b"name,email\n\x00\x01\x02,x@example.org\n", "could not be read as text"),
], ids=["empty", "only-newlines", "no-rows", "missing-column", "twice", "cp1251", "latin1", "xlsx", "binary"])
def test_unusable_files_are_refused_with_a_clear_message(data, message):
    with pytest.raises(RosterError) as error:
        parse(data)
    assert message in str(error.value)


def test_the_row_limit():
    rows = "".join(f"P{n},p{n}@example.org,,,,\n" for n in range(MAX_ROWS))
    assert len(parse(HEADER + rows).rows) == MAX_ROWS
    with pytest.raises(RosterError) as error:
        parse(HEADER + rows + "One too many,extra@example.org,,,,\n")
    assert "10,001 rows; at most 10,000" in str(error.value)


def test_too_large_a_file_is_refused_before_reading():
    with pytest.raises(RosterError, match="larger than 5 MB"):
        decode_roster(b"x" * (5 * 1024 * 1024 + 1))
