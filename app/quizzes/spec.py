"""The quiz model that both authoring syntaxes produce and the database stores.

Every piece of author text is kept twice, side by side: the Markdown source (``*_md``)
and the rendered, sanitised HTML (``*_html``).  The parsers fill only the ``*_md``
fields; :func:`app.quizzes.authoring.render_quiz` fills the ``*_html`` ones.

``to_dict()`` gives plain JSON-serialisable data (str, int, float, bool, None, list,
dict); ``from_dict()`` reads it back.  ``line`` fields record where an item was written
so that checks can report ``path:line``; they are not content and are not stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Version of the dict layout written by :meth:`Quiz.to_dict`.
SCHEMA_VERSION = 1

#: What a missing-word question shows where the answer block was (escaped for Markdown,
#: so it renders as ``_____``).
BLANK_MD = r"\_\_\_\_\_"

GRADING_METHODS = ("highest", "last", "first", "average")
SHOW_ANSWERS = ("never", "after_passing_or_last_attempt", "after_passing", "after_last_attempt", "always")
#: Until the learner passes or has used every attempt, a failed attempt shows which questions
#: were not right but not the right options: a quiz cannot be passed by trying options in turn.
DEFAULT_SHOW_ANSWERS = "after_passing_or_last_attempt"


@dataclass
class QuizSettings:
    """The quiz's front-matter settings; the defaults are those of docs/authoring.md.

    ``attempts`` and ``time_limit`` are ``None`` for "unlimited" and "no limit";
    ``time_limit`` is in minutes.
    """

    pass_mark: float = 70.0
    attempts: int | None = None
    grading: str = "highest"
    shuffle_questions: bool = False
    shuffle_options: bool = False
    time_limit: int | None = None
    show_answers: str = DEFAULT_SHOW_ANSWERS

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON-serialisable data."""
        return {
            "pass_mark": self.pass_mark,
            "attempts": self.attempts,
            "grading": self.grading,
            "shuffle_questions": self.shuffle_questions,
            "shuffle_options": self.shuffle_options,
            "time_limit": self.time_limit,
            "show_answers": self.show_answers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuizSettings:
        """Build settings from :meth:`to_dict` output; missing keys take the defaults.

        Raises ValueError when a value has the wrong type or is not an allowed choice.
        """
        settings = cls(
            pass_mark=float(_get(data, "pass_mark", 70.0, (int, float))),
            attempts=_get(data, "attempts", None, (int, type(None))),
            grading=_get(data, "grading", "highest", str),
            shuffle_questions=_get(data, "shuffle_questions", False, bool),
            shuffle_options=_get(data, "shuffle_options", False, bool),
            time_limit=_get(data, "time_limit", None, (int, type(None))),
            show_answers=_get(data, "show_answers", DEFAULT_SHOW_ANSWERS, str),
        )
        if settings.grading not in GRADING_METHODS:
            raise ValueError(f"unknown grading method {settings.grading!r}")
        if settings.show_answers not in SHOW_ANSWERS:
            raise ValueError(f"unknown show_answers value {settings.show_answers!r}")
        return settings


@dataclass
class Option:
    """One authored line under a question.

    What the fields mean depends on the question type:

    - single / multiple / true-false: ``text_md`` is the option; ``weight`` is the
      fraction of the points it is worth, in [-1, 1].
    - short: ``text_md`` is an accepted answer (compared after normalisation);
      ``is_catch_all`` marks the ``*`` line whose feedback answers anything else.
    - numerical: ``text_md`` is the value as written; an answer ``x`` matches when
      ``low <= x <= high``; ``is_catch_all`` as for short.
    - matching: ``text_md`` is the prompt ("" for a distractor) and ``match_md`` the
      answer it pairs with.

    ``feedback_md`` is shown when the learner chose (or typed) this option.
    """

    id: str
    text_md: str = ""
    text_html: str = ""
    weight: float = 0.0
    feedback_md: str = ""
    feedback_html: str = ""
    match_md: str = ""
    match_html: str = ""
    is_catch_all: bool = False
    low: float | None = None
    high: float | None = None
    line: int = field(default=0, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the option as JSON-serialisable data."""
        return {
            "id": self.id,
            "text_md": self.text_md,
            "text_html": self.text_html,
            "weight": self.weight,
            "feedback_md": self.feedback_md,
            "feedback_html": self.feedback_html,
            "match_md": self.match_md,
            "match_html": self.match_html,
            "is_catch_all": self.is_catch_all,
            "low": self.low,
            "high": self.high,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Option:
        """Build an option from :meth:`to_dict` output.  Raises ValueError on bad data."""
        return cls(
            id=_get(data, "id", None, str),
            text_md=_get(data, "text_md", "", str),
            text_html=_get(data, "text_html", "", str),
            weight=float(_get(data, "weight", 0.0, (int, float))),
            feedback_md=_get(data, "feedback_md", "", str),
            feedback_html=_get(data, "feedback_html", "", str),
            match_md=_get(data, "match_md", "", str),
            match_html=_get(data, "match_html", "", str),
            is_catch_all=_get(data, "is_catch_all", False, bool),
            low=_optional_float(data, "low"),
            high=_optional_float(data, "high"),
        )


@dataclass
class Question:
    """One question: its stable id, type (a key of ``QUESTION_TYPES``), points and text.

    ``feedback_md`` is the general feedback, shown after the attempt.
    """

    id: str
    type: str
    text_md: str
    text_html: str = ""
    points: float = 1.0
    options: list[Option] = field(default_factory=list)
    feedback_md: str = ""
    feedback_html: str = ""
    line: int = field(default=0, compare=False)

    def option(self, option_id: str) -> Option | None:
        """Return the option with this id, or None."""
        for option in self.options:
            if option.id == option_id:
                return option
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the question as JSON-serialisable data."""
        return {
            "id": self.id,
            "type": self.type,
            "text_md": self.text_md,
            "text_html": self.text_html,
            "points": self.points,
            "options": [option.to_dict() for option in self.options],
            "feedback_md": self.feedback_md,
            "feedback_html": self.feedback_html,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Question:
        """Build a question from :meth:`to_dict` output.  Raises ValueError on bad data."""
        options = _get(data, "options", [], list)
        return cls(
            id=_get(data, "id", None, str),
            type=_get(data, "type", None, str),
            text_md=_get(data, "text_md", "", str),
            text_html=_get(data, "text_html", "", str),
            points=float(_get(data, "points", 1.0, (int, float))),
            options=[Option.from_dict(_mapping(item)) for item in options],
            feedback_md=_get(data, "feedback_md", "", str),
            feedback_html=_get(data, "feedback_html", "", str),
        )


@dataclass
class Quiz:
    """A whole quiz: settings, introduction and questions in authored order."""

    settings: QuizSettings = field(default_factory=QuizSettings)
    intro_md: str = ""
    intro_html: str = ""
    questions: list[Question] = field(default_factory=list)

    def question(self, question_id: str) -> Question | None:
        """Return the question with this id, or None."""
        for question in self.questions:
            if question.id == question_id:
                return question
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the quiz as JSON-serialisable data (what the database stores)."""
        return {
            "schema": SCHEMA_VERSION,
            "settings": self.settings.to_dict(),
            "intro_md": self.intro_md,
            "intro_html": self.intro_html,
            "questions": [question.to_dict() for question in self.questions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quiz:
        """Build a quiz from :meth:`to_dict` output.

        Raises ValueError when the data is not a quiz of a known schema version.
        """
        data = _mapping(data)
        schema = data.get("schema", SCHEMA_VERSION)
        if schema != SCHEMA_VERSION:
            raise ValueError(f"unknown quiz schema version {schema!r}")
        questions = _get(data, "questions", [], list)
        return cls(
            settings=QuizSettings.from_dict(_mapping(data.get("settings", {}))),
            intro_md=_get(data, "intro_md", "", str),
            intro_html=_get(data, "intro_html", "", str),
            questions=[Question.from_dict(_mapping(item)) for item in questions],
        )


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping, got {type(value).__name__}")
    return value


def _get(data: dict[str, Any], key: str, default: Any, types: Any) -> Any:
    """Return ``data[key]`` checked against ``types``; ``default`` when absent.

    A default of None for a key whose types exclude None makes the key required.
    """
    if key not in data:
        if default is None and not _accepts_none(types):
            raise ValueError(f"missing key {key!r}")
        return default
    value = data[key]
    # bool is an int subclass; a flag must not pass for a number or the reverse.
    if isinstance(value, bool) and bool not in _as_tuple(types):
        raise ValueError(f"{key!r} must not be true/false")
    if not isinstance(value, types):
        raise ValueError(f"{key!r} has the wrong type ({type(value).__name__})")
    return value


def _optional_float(data: dict[str, Any], key: str) -> float | None:
    value = _get(data, key, None, (int, float, type(None)))
    return None if value is None else float(value)


def _as_tuple(types: Any) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _accepts_none(types: Any) -> bool:
    return type(None) in _as_tuple(types)
