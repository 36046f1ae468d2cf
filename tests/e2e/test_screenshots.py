"""Screenshots of the main pages at 360 px for docs/screenshots/ (`make screenshots`).

Skipped unless NERGI_SCREENSHOTS names the folder to write to, so the browser suite does not
rewrite the docs on every run.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_accessibility import LEARNER, MENTOR, world  # noqa: F401  (the fixture)

TARGET = os.environ.get("NERGI_SCREENSHOTS")
SHOTS = {
    None: [("sign-in", "/login"), ("verify", "/verify")],
    LEARNER: [("learner-home", "/"), ("lesson", "/courses/format-tour/welcome"),
                             ("quiz", "/courses/format-tour/check-yourself"),
                             ("assignment", "/courses/format-tour/try-it-out"), ("certificates", "/certificates")],
    MENTOR: [("mentor-home", "/"), ("review-queue", "/review"), ("review", "/review/{submission}")],
    "trainer@example.org": [("trainer-home", "/"), ("cohort-dashboard", "/cohorts/{cohort}")],
    "admin@example.org": [("admin-users", "/admin/users")],
}


@pytest.mark.skipif(not TARGET, reason="set NERGI_SCREENSHOTS (make screenshots) to write them")
def test_screenshots(browser, base_url, world):  # noqa: F811
    folder = Path(TARGET)
    folder.mkdir(parents=True, exist_ok=True)
    for account, shots in SHOTS.items():
        context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url,
                                      locale="en-GB", device_scale_factor=1)
        page = context.new_page()
        if account:
            sign_in(page, account)
            page.wait_for_load_state()
        for name, path in shots:
            page.goto(path.format(**world))
            page.screenshot(path=str(folder / f"{name}-360.png"), full_page=True)
            assert (folder / f"{name}-360.png").stat().st_size > 1000
        context.close()
