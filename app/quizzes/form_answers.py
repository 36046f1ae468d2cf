"""An attempt page's form, read back into answers: shared by the quiz pages and offline sync."""
from __future__ import annotations

from app.quizzes.types import Matching

CHOICE_TYPES = ("single", "multiple", "true-false")


def option_tokens(layout, question_id: str) -> dict[str, str]:
    """Per-attempt names of a question's options (o1, o2, … in the order shown): the page never
    carries the authored option ids, whose order could hint at the right answer."""
    return {f"o{n}": option_id for n, option_id in enumerate(layout.option_orders.get(question_id, []), 1)}


def answers_from_form(quiz, layout, form) -> dict:
    """The form's values per question as option ids: a list, or for matching a dict prompt -> [token].

    Only what the page can send is kept: the question's own prompts and tokens, and one typed
    value per question (its length is the service's rule).
    """
    answers: dict = {}
    for question in quiz.questions:
        if question.type == "matching":
            prefix = f"q.{question.id}."
            prompts = {prompt.id for prompt in Matching.prompts(question)}
            tokens = {f"c{n}" for n in range(1, len(Matching.choices(question)) + 1)}
            answers[question.id] = {prompt: [form[prefix + prompt]] for prompt in prompts
                                    if form.get(prefix + prompt) in tokens}
        elif question.type in CHOICE_TYPES:
            option_ids = option_tokens(layout, question.id)
            answers[question.id] = [option_ids[v] for v in form.getlist(f"q.{question.id}") if v in option_ids]
        elif question.type != "description":
            answers[question.id] = [value for value in form.getlist(f"q.{question.id}") if value.strip()][:1]
    return answers
