"""Every course in courses/ can be completed end to end, through the pages, by a learner and a
mentor: lessons marked done, every quiz passed, every assignment submitted and approved, and
a certificate issued at the end. It runs once per course and language (issue 13): the learner's
interface is in that language, and every page of the course shows the course and each item in
it (their titles from the <lang> files), and each quiz is taken in it."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml
from markupsafe import escape
from sqlalchemy import select

from app.assignments.models import Revision, Submission
from app.certificates.models import Certificate
from app.content.files import COURSE_FILE, scan_course
from app.content.loader import load_course
from app.content.models import Course, Item, ItemTranslation
from app.content.spec import LANGUAGES, CourseSpec
from app.content.sync import sync_courses
from app.extensions import db
from app.quizzes import grading
from app.quizzes.spec import Quiz
from app.quizzes.models import QuizAttempt
from app.quizzes.types import Matching

COURSES_DIR = Path(__file__).resolve().parents[2] / "courses"
COURSES = sorted(p.name for p in COURSES_DIR.iterdir() if (p / COURSE_FILE).is_file())


def translated_languages(slug: str) -> list[str]:
    """The languages in which every item of the course has a file and course.yml a title."""
    folder = scan_course(COURSES_DIR / slug, slug)
    course = yaml.safe_load((COURSES_DIR / slug / COURSE_FILE).read_text(encoding="utf-8"))
    by_item: dict[str, set[str]] = {}
    for item in folder.items:
        by_item.setdefault(item.slug, set()).add(item.lang)
    return [lang for lang in LANGUAGES
            if lang in (course.get("title") or {}) and all(lang in langs for langs in by_item.values())]


def cases():
    """Every real course in all five languages; an example course (the format tour) in the
    languages it has. A real course missing a language fails."""
    for slug in COURSES:
        translated = translated_languages(slug)
        example = bool(yaml.safe_load((COURSES_DIR / slug / COURSE_FILE).read_text(encoding="utf-8")).get("example"))
        for lang in translated if example else LANGUAGES:
            yield pytest.param(slug, lang, id=f"{slug}-{lang}")


@cache
def course_spec(slug: str) -> CourseSpec:
    """The course as loaded from its folder, once per test session."""
    spec, problems = load_course(COURSES_DIR / slug)
    assert spec is not None, problems
    return spec


def assert_shown_in(html: str, lang: str, title: str, what: str) -> None:
    """The page is in the learner's language and its heading is the title in that language."""
    assert f'<html lang="{lang}">' in html, f"{what}: the interface is not in {lang}"
    assert f"<h1>{escape(title)}</h1>" in html, f"{what}: the page does not show its {lang} title {title!r}"


def right_answers(quiz: Quiz, seed: int) -> dict[str, object]:
    """The form values that answer every question fully right, for this attempt's layout."""
    layout = grading.attempt_layout(quiz, seed)
    form: dict[str, object] = {}
    for question in quiz.questions:
        name = f"q.{question.id}"
        token = {option_id: f"o{n}" for n, option_id in enumerate(layout.option_orders.get(question.id, []), 1)}
        if question.type in ("single", "true-false"):
            best = max(question.options, key=lambda o: o.weight)
            form[name] = [token[best.id]]
        elif question.type == "multiple":
            form[name] = [token[o.id] for o in question.options if o.weight > 0]
        elif question.type == "short":
            best = max((o for o in question.options if not o.is_catch_all), key=lambda o: o.weight)
            form[name] = [best.text_md]
        elif question.type == "numerical":
            best = max((o for o in question.options if not o.is_catch_all), key=lambda o: o.weight)
            form[name] = [repr((best.low + best.high) / 2)]
        elif question.type == "matching":
            tokens = {choice_id: f"c{n}" for n, choice_id in enumerate(layout.choice_orders[question.id], 1)}
            for prompt in Matching.prompts(question):
                form[f"{name}.{prompt.id}"] = [tokens[Matching.correct_choice(question, prompt)]]
    return form


def hand_in_and_approve(app, student, reviewer, learner_id: int, base: str, form_token: str) -> None:
    """The learner saves and submits work on the assignment at `base`; the mentor approves it
    with the highest level of every criterion."""
    student.post(base + "/work", data={"body": "My plan for Marneuli.", "action": "save"})
    with app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.user_id == learner_id)
                                       .order_by(Submission.id.desc()))
    student.post(f"/assignments/{submission.id}/submit", data={"form_token": form_token})
    with app.app_context():
        submission = db.session.get(Submission, submission.id)
        revision_id = db.session.scalar(select(Revision.id).where(Revision.submission_id == submission.id))
        rubric = db.session.scalar(select(ItemTranslation.data).where(
            ItemTranslation.item_id == submission.item_id, ItemTranslation.lang == "en"))["rubric"]["criteria"]
    scores = {f"score-{c['id']}": str(max(level["points"] for level in c["levels"])) for c in rubric}
    response = reviewer.post(f"/review/{submission.id}", data={
        "revision_id": revision_id, "version": submission.version, "decision": "approve",
        "feedback": "Well done.", **scores})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.mark.parametrize(("slug", "lang"), list(cases()))
def test_course_can_be_completed(slug, lang, make_app, factories, tmp_path):
    spec = course_spec(slug)
    app = make_app()
    with app.app_context():  # the folder as `courses sync` writes it, without parsing it again
        sync_courses([spec], [], retire_missing=False)
        db.session.commit()
    learner = factories.make_user(name="Learner", locale=lang)
    mentor = factories.make_user(name="Mentor")
    factories.link_mentor(mentor, learner)
    student, reviewer = app.test_client(), app.test_client()
    student.post("/login", data={"email": learner.email, "password": "correct horse battery"})
    reviewer.post("/login", data={"email": mentor.email, "password": "correct horse battery"})
    assert lang in spec.titles, f"course.yml has no {lang} title"
    assert_shown_in(student.get(f"/courses/{slug}").get_data(as_text=True), lang, spec.titles[lang], slug)
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        items = db.session.scalars(select(Item).where(Item.course_id == course.id, Item.retired_at.is_(None))
                                   .order_by(Item.position)).all()
        kinds = [(item.slug, item.kind) for item in items]
    assert [item_slug for item_slug, _kind in kinds] == [item.slug for item in spec.items]
    for item_spec, (item_slug, kind) in zip(spec.items, kinds):
        base = f"/courses/{slug}/{item_slug}"
        translation = item_spec.translations.get(lang)
        assert translation is not None, f"{item_slug} has no {lang} file"
        page = student.get(base)
        assert page.status_code == 200, (item_slug, page.status_code)
        assert_shown_in(page.get_data(as_text=True), lang, translation.title, f"{slug}/{item_slug}")
        if kind == "lesson":
            assert student.post(base + "/done").status_code == 302
        elif kind == "quiz":
            location = student.post(base + "/attempts").headers["Location"]
            with app.app_context():
                attempt = db.session.get(QuizAttempt, int(location.split("/")[2]))
                assert attempt.lang == lang, (item_slug, attempt.lang)
                stored = db.session.scalar(select(ItemTranslation).where(
                    ItemTranslation.item_id == attempt.item_id, ItemTranslation.lang == attempt.lang))
                form = right_answers(Quiz.from_dict(stored.data["quiz"]), attempt.seed)
            form.update({"action": "submit", "sequence": "0"})
            student.post(location, data=form)
            with app.app_context():
                attempt = db.session.get(QuizAttempt, attempt.id)
                assert attempt.passed, (item_slug, attempt.percent, attempt.results)
        else:
            hand_in_and_approve(app, student, reviewer, learner.id, base, f"tok-{item_slug}-" + "x" * 10)
    with app.app_context():
        assert db.session.scalar(select(Certificate).where(Certificate.user_id == learner.id)) is not None
