"""Offline use in Chromium: keep a course, read and work without a connection, send it all once.

Each test makes its own learner and its own small course in the live database (lessons, a
quiz, an assignment), so what it counts is its own. The connection is cut with Playwright's
offline emulation (context.set_offline), which covers the service worker too.
"""
from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import func, select

from app.assignments.models import Submission
from app.auth import services as auth_services
from app.content.models import Course, Item, ItemTranslation
from app.learning.models import Progress
from app.content.render import render_markdown
from app.extensions import db
from app.offline.models import IdempotencyKey
from app.quizzes.authoring import parse_quiz_markdown, render_quiz
from app.quizzes.models import QuizAttempt
from tests.e2e.conftest import sign_in
from tests.quizzes.test_attempt_routes import QUIZ_MD
from tests.support.factories import ASSIGNMENT_DATA

PASSWORD = "offline-test-password-1"
_numbers = itertools.count(1)


def make_learner(app, locale: str = "ka") -> tuple[int, str]:
    email = f"offline{next(_numbers)}-{locale}@example.org"
    with app.app_context():
        user = auth_services.create_user(email, name="Nino Offline", password=PASSWORD, locale=locale)
        db.session.commit()
        return user.id, email


def make_course(app) -> str:
    """A course of two lessons, a quiz and an assignment, in English and Georgian."""
    slug = f"offline-course-{next(_numbers)}"
    quiz, problems = parse_quiz_markdown(QUIZ_MD, {"kind": "quiz", "title": "Check", "minutes": 5, "pass_mark": 100},
                                         path="q.en.md", first_line=1)
    assert problems == []
    quiz_data = {"meta": {"kind": "quiz", "title": "Check"}, "quiz": render_quiz(quiz, render_markdown).to_dict()}
    with app.app_context():
        course = Course(slug=slug, source_hash="v1", titles={"en": "Offline course", "ka": "ოფლაინ კურსი"},
                        summaries={"en": "<p>For the village</p>"}, languages=["en", "ka"], estimated_hours=1,
                        is_open=True, completion={})
        db.session.add(course)
        db.session.flush()
        kinds = [("first", "lesson", {}), ("second", "lesson", {}), ("check", "quiz", quiz_data),
                 ("essay", "assignment", ASSIGNMENT_DATA)]
        for position, (item_slug, kind, data) in enumerate(kinds):
            item = Item(course_id=course.id, slug=item_slug, kind=kind, position=position, required=True, minutes=5)
            db.session.add(item)
            db.session.flush()
            for lang in ("en", "ka"):
                title = {"en": f"Lesson {item_slug}", "ka": f"გაკვეთილი {item_slug}"}[lang]
                db.session.add(ItemTranslation(item_id=item.id, lang=lang, title=title,
                                               html=f"<p>Text of {item_slug} ({lang}), version 1.</p>",
                                               objectives=[], data=data, source_hash=f"{slug}-{item_slug}-{lang}"))
        db.session.commit()
    return slug


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def context(browser, base_url):
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url, locale="en-GB")
    yield context
    context.close()


def controlled(page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.evaluate("navigator.serviceWorker.ready")
    if not page.evaluate("!!navigator.serviceWorker.controller"):
        page.reload()
        assert page.evaluate("!!navigator.serviceWorker.controller")


def keep_course(page, slug: str) -> None:
    page.goto(f"/courses/{slug}")
    controlled(page)
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(".offline-keep [data-keep]").click()
    page.locator(".offline-keep [data-drop]").wait_for(state="visible")


def test_keep_a_course_work_offline_and_send_everything_once(context, live_app):
    user_id, email = make_learner(live_app, "ka")
    slug = make_course(live_app)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, email, PASSWORD)
    # A quiz attempt started online (the quiz page itself works offline only for reading).
    page.goto(f"/courses/{slug}/check")
    page.locator("form[action$='/attempts'] button").click()
    attempt_url = re.sub(r"^https?://[^/]+", "", page.url)
    keep_course(page, slug)
    status = page.locator(".offline-keep [role=status]").inner_text()
    assert "ამ ტელეფონზეა შენახული" in status and "KB" in status  # "kept on this phone (N KB)"

    context.set_offline(True)
    # A lesson never opened before opens from the phone, marked as an offline copy.
    page.goto(f"/courses/{slug}/second")
    assert "Text of second (ka)" in page.locator("main").inner_text()
    note = page.locator(".offline-note[role=note]")
    assert "ოფლაინ ასლი, შენახულია" in note.inner_text() and note.get_attribute("data-saved")
    # An address that is not stored: the offline page, in Georgian, listing what is stored.
    page.goto("/certificates")
    assert page.locator("h1").inner_text() == "თქვენ ოფლაინ ხართ"
    stored = page.locator(".offline-stored a")
    stored.first.wait_for()
    assert "გაკვეთილი second" in page.locator(".offline-stored").inner_text()

    # Work offline: mark a lesson done, answer the quiz, write a draft.
    page.goto(f"/courses/{slug}/second")
    page.locator("form[action$='/done'] button").click()
    page.locator(".offline-status", has_text="ამ ტელეფონზე მონიშნულია").wait_for()  # "marked as done on this phone"
    page.goto(attempt_url)
    page.locator("input[name='q.council']").fill("Sakrebulo")
    page.locator("button[value=save]").click()
    page.locator(".offline-status", has_text="თქვენი პასუხები ინახება").wait_for()  # "your answers are kept"
    page.goto(f"/courses/{slug}/essay")
    page.locator("textarea[name=body]").fill("Written in the village, without a connection.")
    page.locator("form[action$='/work'] button[value=save]").click()
    page.locator(".offline-status", has_text="თქვენი ტექსტი ინახება").wait_for()  # "your text is kept"
    page.goto("/offline")
    page.wait_for_function("document.querySelectorAll('.offline-queue li').length === 3")

    # Back online, and the connection drops after the server took the first write, before
    # its answer arrives: the retry carries the same key and nothing is doubled.
    dropped = []

    def drop_first_answer(route):
        response = route.fetch()
        if not dropped:
            dropped.append(response.status)
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    context.route("**/offline/sync", drop_first_answer)
    context.set_offline(False)
    for _tick in range(150):  # the page sends as soon as it sees the connection back
        if dropped:
            break
        page.wait_for_timeout(100)
    assert dropped == [200]
    assert count(live_app, Progress, Progress.user_id == user_id) == 1  # the dropped one counted
    page.reload()  # the next page sends the rest, the first again with its key
    page.goto("/offline")
    page.locator(".offline-queue li.small").wait_for(timeout=15000)  # "nothing is waiting"

    with live_app.app_context():
        second = db.session.scalar(select(Item).join(Course).where(Course.slug == slug, Item.slug == "second"))
        assert db.session.scalar(select(func.count(Progress.id)).where(
            Progress.user_id == user_id, Progress.item_id == second.id)) == 1
        assert db.session.scalar(select(func.count(Progress.id)).where(Progress.user_id == user_id)) == 1
        [attempt] = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == user_id)).all()
        assert attempt.answers["council"] == ["Sakrebulo"] and attempt.sequence == 1
        [submission] = db.session.scalars(select(Submission).where(Submission.user_id == user_id)).all()
        assert submission.draft_body == "Written in the village, without a connection."
        assert db.session.scalar(select(func.count(IdempotencyKey.id)).where(IdempotencyKey.user_id == user_id)) == 3
    assert errors == []


def test_a_conflict_found_when_sending_is_told_and_the_text_kept(context, live_app, base_url):
    user_id, email = make_learner(live_app, "ka")
    slug = make_course(live_app)
    page = context.new_page()
    sign_in(page, email, PASSWORD)
    page.goto(f"/courses/{slug}/essay")
    controlled(page)
    page.goto(f"/courses/{slug}/essay")  # now stored as visited, with draft version 0
    context.set_offline(True)
    page.goto(f"/courses/{slug}/essay")
    page.locator("textarea[name=body]").fill("My offline essay")
    page.locator("form[action$='/work'] button[value=save]").click()
    page.locator(".offline-status").wait_for()
    # Meanwhile the draft is saved from another device (a browser of its own, online).
    other = context.browser.new_context(base_url=base_url)
    other_page = other.new_page()
    sign_in(other_page, email, PASSWORD)
    other_page.goto(f"/courses/{slug}/essay")
    other_page.locator("textarea[name=body]").fill("Saved from the laptop")
    other_page.locator("form[action$='/work'] button[value=save]").click()
    other_page.wait_for_url(f"**/courses/{slug}/essay")
    other.close()

    context.set_offline(False)
    page.goto("/offline")
    problem = page.locator(".offline-problems .card")
    problem.wait_for(timeout=15000)
    assert "სხვა ჩანართში ან მოწყობილობაზე შეიცვალა" in problem.inner_text()  # in Georgian
    assert problem.locator("textarea").input_value() == "My offline essay"
    assert page.locator(".offline-status[role=alert]").count() == 1
    with live_app.app_context():
        assert db.session.scalar(select(Submission.draft_body).where(Submission.user_id == user_id)) == \
            "Saved from the laptop"


def test_sign_out_clears_the_phone_and_the_next_user_sees_nothing(context, live_app):
    _first_id, first = make_learner(live_app, "en")
    _second_id, second = make_learner(live_app, "en")
    slug = make_course(live_app)
    page = context.new_page()
    sign_in(page, first, PASSWORD)
    keep_course(page, slug)
    assert any(name.startswith("nergi-k-") for name in page.evaluate("caches.keys()"))
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url("**/login")
    assert page.evaluate("caches.keys()") == []

    sign_in(page, second, PASSWORD)
    page.goto("/courses")
    page.goto("/")
    controlled(page)
    page.goto("/")
    context.set_offline(True)
    page.goto(f"/courses/{slug}/first")  # the first user kept it; this one never opened it
    assert page.locator("h1").inner_text() == "You are offline"
    page.locator(".offline-stored li").first.wait_for()
    assert "Lesson first" not in page.locator(".offline-stored").inner_text()
    context.set_offline(False)


def test_a_course_changed_on_the_server_is_refreshed_on_the_phone(context, live_app):
    _user_id, email = make_learner(live_app, "en")
    slug = make_course(live_app)
    page = context.new_page()
    sign_in(page, email, PASSWORD)
    keep_course(page, slug)
    with live_app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        course.source_hash = "v2"
        item = db.session.scalar(select(Item).where(Item.course_id == course.id, Item.slug == "second"))
        translation = db.session.scalar(select(ItemTranslation).where(ItemTranslation.item_id == item.id,
                                                                      ItemTranslation.lang == "en"))
        translation.html = "<p>Text of second (en), version 2.</p>"
        db.session.commit()
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if "/second" in request.url else None)
    page.goto(f"/courses/{slug}")  # online: the page's hash differs from the kept one
    page.locator(".offline-keep progress").wait_for(state="visible", timeout=10000)
    page.locator(".offline-keep progress").wait_for(state="hidden", timeout=15000)
    context.set_offline(True)
    page.goto(f"/courses/{slug}/second")
    assert "version 2" in page.locator("main").inner_text()
    context.set_offline(False)
    # Visiting again with no change downloads nothing more.
    page.goto(f"/courses/{slug}")
    page.locator(".offline-keep [data-drop]").wait_for(state="visible")
    page.wait_for_timeout(500)
    assert page.locator(".offline-keep progress").is_hidden()
    assert not [url for url in fetched if url.endswith("/second")][2:]  # once by the refresh, once offline


def test_the_site_works_unchanged_with_service_workers_blocked(browser, base_url, live_app):
    user_id, email = make_learner(live_app, "en")
    slug = make_course(live_app)
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=base_url,
                                  service_workers="block")
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        sign_in(page, email, PASSWORD)
        page.goto(f"/courses/{slug}")
        page.wait_for_timeout(500)
        assert page.locator(".offline-keep").is_hidden()  # nothing offered that cannot work
        page.goto(f"/courses/{slug}/first")
        page.locator("form[action$='/done'] button").click()
        page.wait_for_url(f"**/courses/{slug}/second")
        assert page.evaluate("!navigator.serviceWorker || !navigator.serviceWorker.controller")
        assert count(live_app, Progress, Progress.user_id == user_id) == 1
        assert errors == []
    finally:
        context.close()
