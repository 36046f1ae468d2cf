"""A trainer on a phone (360 px) writes to a cohort's learners from the dashboard: the compose page
lists who will receive it before anything is sent; a learner finds the notice and reads it."""
from __future__ import annotations

import pytest

from tests.e2e.axe import serious_violations
from tests.e2e.conftest import reading_english, sign_in


@pytest.fixture
def in_english(live_app):
    with reading_english(live_app, "trainer@example.org", "learner1@example.org"):
        yield


def test_trainer_writes_to_the_cohort_and_a_learner_reads_it(page, cohort_id, in_english, tmp_path):
    sign_in(page, "trainer@example.org")
    page.goto(f"/cohorts/{cohort_id}")
    page.locator("#write").screenshot(path=str(tmp_path / "dashboard.png"))
    page.click("text=Write to the whole cohort")
    assert "Write to learners" in page.locator("h1").inner_text()
    status = page.locator("[role=status]").first.inner_text()
    assert "learners will receive this message" in status
    assert "Nino" in page.locator("ul.recipients").inner_text() or page.locator("ul.recipients li").count() >= 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "compose.png"), full_page=True)
    assert serious_violations(page) == []
    page.fill("input[name=subject]", "Module 3 opens on Monday")
    page.fill("textarea[name=body]", "Please read **module 3** before the meeting.")
    page.click("button.primary")
    assert "Module 3 opens on Monday" in page.locator("h1").inner_text()
    assert "module 3" in page.locator("strong").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "sent.png"), full_page=True)
    page.goto(f"/cohorts/{cohort_id}/messages")
    assert "Module 3 opens on Monday" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "list.png"), full_page=True)
    assert serious_violations(page) == []
    page.context.clear_cookies()
    sign_in(page, "learner1@example.org")
    page.goto("/notices")
    page.click("text=Module 3 opens on Monday")
    assert "Module 3 opens on Monday" in page.locator("h1").inner_text()
    assert "Recipients" not in page.content()
    page.screenshot(path=str(tmp_path / "learner.png"), full_page=True)
    assert serious_violations(page) == []
