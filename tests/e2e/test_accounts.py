"""A learner on a phone signs in, switches to Georgian and back, and signs out."""
from __future__ import annotations

from tests.e2e.conftest import sign_in


def test_learner_signs_in_switches_language_and_signs_out(page):
    sign_in(page, "learner4@example.org")  # Анна prefers Russian
    assert page.locator("html").get_attribute("lang") == "ru"
    page.click("details.langs summary")  # the language menu works without JavaScript
    page.click("button[lang=ka]")
    assert page.locator("html").get_attribute("lang") == "ka"
    heading = page.locator("h1").inner_text()
    assert "Welcome" not in heading and any("\u10d0" <= ch <= "\u10ff" for ch in heading)
    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("details.langs summary")
    page.click("button[lang=en]")
    assert "Welcome, Анна Иванова" in page.locator("h1").inner_text()
    page.click("header .account button")
    assert page.url.endswith("/login")
    page.goto("/")
    assert "/login" in page.url


def test_wrong_password_keeps_the_email(page):
    page.goto("/login")
    page.fill("input[name=email]", "learner1@example.org")
    page.fill("input[name=password]", "not the password")
    page.click("button.primary")
    assert page.input_value("input[name=email]") == "learner1@example.org"
    assert "not correct" in page.locator(".error").inner_text()
