"""A trainer on a phone (360 px) uploads a roster, checks the preview, confirms, and finds the
new learners in the cohort's progress matrix."""
from __future__ import annotations

import codecs

import pytest

from tests.e2e.conftest import reading_english, sign_in

ROSTER = codecs.BOM_UTF8 + (
    "name;email;language;municipality;organisation;role\r\n"
    "ეკა გელაშვილი;eka.e2e@example.org;ka;Marneuli;CSO Kvemo Kartli;learner\r\n"
    "Գոհար Պետրոսյան;gohar.e2e@example.org;hy;Tsalka;;\r\n"
    "Elvin Əliyev;elvin.e2e@example.org;az;Marneuli;;learner\r\n"
    "Nobody;not-an-address;;;;\r\n"
).encode("utf-8")


@pytest.fixture
def trainer_in_english(live_app):
    with reading_english(live_app, "trainer@example.org"):
        yield


def test_trainer_enrols_by_csv_on_a_phone(page, cohort_id, tmp_path, trainer_in_english):
    sign_in(page, "trainer@example.org")
    page.goto("/cohorts")
    page.click("text=YPP 2025 — Marneuli")
    page.click("nav >> text=Enrol people")
    path = tmp_path / "roster.csv"
    path.write_bytes(ROSTER)
    page.set_input_files("input[name=file]", str(path))
    page.click("button.primary")
    # The preview: three rows ready, one skipped with its reason; nothing is enrolled yet.
    assert "Check the list" in page.locator("h1").inner_text()
    assert "not a valid e-mail address" in page.locator("tr.invalid").inner_text()
    ready = page.locator("table").last.inner_text()
    assert "ეკა გელაშვილი" in ready and "Գոհար Պետրոսյան" in ready and "Elvin Əliyev" in ready
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("text=Enrol 3 people")
    # Back on the dashboard: the new learners are in the matrix, with their names intact.
    assert "3 people invited." in page.locator(".flash").inner_text()
    matrix = page.locator("table.matrix").inner_text()
    for name in ("ეკა გელაშვილი", "Գոհար Պետրոսյան", "Elvin Əliyev", "ნინო ბერიძე"):
        assert name in matrix
    # Only the matrix scrolls sideways; the page itself fits the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.select_option("select[name=municipality]", "Tsalka")
    page.click("form.filters button.primary")
    rows = page.locator("table.matrix tbody tr")
    assert rows.count() == 1 and "Գոհար Պետրոսյան" in rows.first.inner_text()
    page.click("table.matrix >> text=Գոհար Պետրոսյան")
    assert page.locator("h1").inner_text() == "Գոհար Պետրոսյան"
