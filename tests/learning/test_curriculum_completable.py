"""Every course in courses/ can be completed end to end, through the pages, by a learner and a
mentor: lessons marked done, every quiz passed, every assignment submitted and approved, and
a certificate issued at the end."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.assignments.models import Revision, Submission
from app.certificates.models import Certificate
from app.content.models import Course, Item, ItemTranslation
from app.extensions import db
from app.quizzes import grading
from app.quizzes.model import Quiz
from app.quizzes.models import QuizAttempt
from app.quizzes.types import Matching

COURSES = sorted(p.name for p in (Path(__file__).resolve().parents[2] / "courses").iterdir()
                 if (p / "course.yml").is_file())


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


@pytest.mark.parametrize("slug", COURSES)
def test_course_can_be_completed(slug, make_app, factories, tmp_path):
    app = make_app()
    assert app.test_cli_runner().invoke(args=["courses", "sync"]).exit_code == 0
    learner = factories.make_user(name="Learner", locale="ka")
    mentor = factories.make_user(name="Mentor")
    factories.link_mentor(mentor, learner)
    student, reviewer = app.test_client(), app.test_client()
    student.post("/login", data={"email": learner.email, "password": "correct horse battery"})
    reviewer.post("/login", data={"email": mentor.email, "password": "correct horse battery"})
    with app.app_context():
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        items = db.session.scalars(select(Item).where(Item.course_id == course.id, Item.retired_at.is_(None))
                                   .order_by(Item.position)).all()
        kinds = [(item.slug, item.kind) for item in items]
    for item_slug, kind in kinds:
        base = f"/courses/{slug}/{item_slug}"
        if kind == "lesson":
            assert student.post(base + "/done").status_code == 302
        elif kind == "quiz":
            location = student.post(base + "/attempts").headers["Location"]
            with app.app_context():
                attempt = db.session.get(QuizAttempt, int(location.split("/")[2]))
                translation = db.session.scalar(select(ItemTranslation).where(
                    ItemTranslation.item_id == attempt.item_id, ItemTranslation.lang == attempt.lang))
                form = right_answers(Quiz.from_dict(translation.data["quiz"]), attempt.seed)
            form.update({"action": "submit", "sequence": "0"})
            student.post(location, data=form)
            with app.app_context():
                attempt = db.session.get(QuizAttempt, attempt.id)
                assert attempt.passed, (item_slug, attempt.percent, attempt.results)
        else:
            student.post(base + "/work", data={"body": "My plan for Marneuli.", "action": "save"})
            with app.app_context():
                submission = db.session.scalar(select(Submission).where(Submission.user_id == learner.id)
                                               .order_by(Submission.id.desc()))
            student.post(f"/assignments/{submission.id}/submit", data={"form_token": f"tok-{item_slug}-" + "x" * 10})
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
    with app.app_context():
        assert db.session.scalar(select(Certificate).where(Certificate.user_id == learner.id)) is not None
