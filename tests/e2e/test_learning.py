"""A Georgian learner reads a lesson on a phone, marks it done, and sees her progress.

The "Mark as done" button is a plain form POST, so the same walk is done once more with
JavaScript switched off in the browser. Each walk uses its own course, so "1 of N" holds
whatever else ran before.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from flask_babel import force_locale, gettext

from tests.e2e.conftest import sign_in

COURSES = Path(__file__).resolve().parents[2] / "courses"


def front_matter(path: Path) -> dict:
    """The YAML front matter of a course item file."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), path
    return yaml.safe_load(text.split("\n---\n", 1)[0][4:])


def item_file(course: str, slug: str, lang: str) -> Path:
    (found,) = COURSES.glob(f"{course}/[0-9][0-9]-{slug}.{lang}.md")
    return found


def required_items(course: str) -> int:
    """How many items of the course count towards progress (from the course files)."""
    items = yaml.safe_load((COURSES / course / "course.yml").read_text(encoding="utf-8"))["items"]
    count = 0
    for slug in items:
        (base,) = [p for p in COURSES.glob(f"{course}/[0-9][0-9]-{slug}.en.*") if p.suffix in (".md", ".gift")]
        if base.suffix == ".gift":
            count += 1  # a GIFT quiz has no `required:` line: required by default
        else:
            count += bool(front_matter(base).get("required", True))
    return count


def t(app, lang: str, message: str, **values) -> str:
    """The interface text as the app shows it in lang (the catalogues are still being translated)."""
    with app.test_request_context(), force_locale(lang):
        return gettext(message, **values)


def georgian_letters(text: str) -> int:
    return sum("\u10a0" <= ch <= "\u10ff" or "\u1c90" <= ch <= "\u1cbf" for ch in text)


def walk_through_a_lesson(page, app, *, course: str, lesson: str, next_item: str) -> None:
    lesson_title = front_matter(item_file(course, lesson, "ka"))["title"]
    next_title = front_matter(item_file(course, next_item, "ka"))["title"]
    total = required_items(course)

    sign_in(page, "learner1@example.org")
    assert page.locator("html").get_attribute("lang") == "ka"
    # Not started yet: nothing is ticked on the course page.
    page.goto(f"/courses/{course}")
    assert page.locator("ol.outline > li.done").count() == 0
    page.goto(f"/courses/{course}/{lesson}")

    # The lesson in Georgian, not the English fallback.
    assert page.locator("html").get_attribute("lang") == "ka"
    assert page.locator("h1").inner_text() == lesson_title
    article = page.locator("article")
    assert article.get_attribute("lang") is None  # only a fallback marks a different language
    assert page.get_by_role("note").count() == 0
    text = article.inner_text()
    assert georgian_letters(text) > 0.6 * sum(ch.isalpha() for ch in text)
    # (Whether the lesson itself fits the screen is test_lesson_fits_a_phone_screen's business.)

    done_form = page.locator(f"form[action='/courses/{course}/{lesson}/done']")
    assert done_form.get_attribute("method") == "post"
    button = done_form.get_by_role("button", name=t(app, "ka", "Mark as done"), exact=True)
    assert button.get_attribute("type") == "submit"
    with page.expect_request(lambda request: request.url.endswith("/done")) as sent:
        button.click()
    # A plain form POST (a page load), not a script's request.
    assert (sent.value.method, sent.value.resource_type) == ("POST", "document")

    # The next item opens, in Georgian.
    page.wait_for_url(f"**/courses/{course}/{next_item}")
    assert page.locator("h1").inner_text() == next_title
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The course page counts it: 1 of N, the lesson ticked, the others not.
    page.goto(f"/courses/{course}")
    assert page.get_by_text(t(app, "ka", "%(done)d of %(total)d done", done=1, total=total),
                            exact=True).is_visible()
    bar = page.locator("progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("1", str(total))
    done_rows = page.locator("ol.outline > li.done")
    assert done_rows.count() == 1
    assert done_rows.locator("a").get_attribute("href") == f"/courses/{course}/{lesson}"
    assert t(app, "ka", "done") in done_rows.inner_text()
    assert page.locator("ol.outline > li").count() == len(
        yaml.safe_load((COURSES / course / "course.yml").read_text(encoding="utf-8"))["items"])
    # "Continue where you left off" leads to the next item.
    continue_link = page.get_by_role("link", name=t(app, "ka", "Continue where you left off"))
    assert continue_link.get_attribute("href") == f"/courses/{course}/{next_item}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # Back on the lesson: it says it is done and offers no second button.
    page.goto(f"/courses/{course}/{lesson}")
    assert page.get_by_text(t(app, "ka", "You marked this lesson as done."), exact=True).is_visible()
    assert page.locator(f"form[action='/courses/{course}/{lesson}/done']").count() == 0


def test_georgian_learner_marks_a_lesson_done_on_a_phone(page, live_app):
    walk_through_a_lesson(page, live_app, course="rba-five-principles", lesson="introduction",
                          next_item="introduction-quiz")


@pytest.fixture
def page_without_javascript(browser, base_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url,
                                  locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def test_marking_a_lesson_done_works_without_javascript(page_without_javascript, live_app):
    page = page_without_javascript
    # Page scripts really are off in this context.
    page.set_content("<p id=p>off</p><script>document.getElementById('p').textContent = 'on'</script>")
    assert page.locator("#p").inner_text() == "off"
    walk_through_a_lesson(page, live_app, course="format-tour", lesson="welcome",
                          next_item="links-and-media")


def widest_element(page) -> str:
    """The outermost elements that push the page wider than the screen (for the message);
    content inside a scrolling box (a wide table) does not count."""
    return page.evaluate("""() => {
        const sticksOut = e => e.getBoundingClientRect().right > innerWidth + 1;
        const clipped = e => { for (let p = e.parentElement; p; p = p.parentElement) {
            if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; }
            return false; };
        return Array.from(document.querySelectorAll('body *'))
            .filter(e => sticksOut(e) && !clipped(e) && !(e.parentElement && sticksOut(e.parentElement)))
            .slice(0, 3)
            .map(e => `<${e.tagName.toLowerCase()}> ${Math.round(e.getBoundingClientRect().right)} px: `
                      + e.textContent.slice(0, 80)).join('; ');
    }""")


@pytest.mark.parametrize("course, lesson", [
    pytest.param("format-tour", "welcome", id="format-tour-welcome"),
    pytest.param("rba-five-principles", "introduction", id="rba-introduction"),
])
def test_lesson_fits_a_phone_screen(page, live_app, course, lesson):
    sign_in(page, "learner1@example.org")
    page.goto(f"/courses/{course}/{lesson}")
    assert page.locator("h1").inner_text() == front_matter(item_file(course, lesson, "ka"))["title"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{width} px wide; sticking out: {widest_element(page)}"
