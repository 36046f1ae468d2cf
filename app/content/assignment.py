"""Assignment options and rubrics from an item's front matter (docs/authoring.md, "Assignments")."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from app.content import checks
from app.content.yamldoc import YamlDoc

ASSIGNMENT_KEYS = ("suggested_words", "files", "pass_points", "rubric")
FILE_TYPES = ("pdf", "docx", "odt", "xlsx", "ods", "pptx", "jpg", "jpeg", "png", "txt")
FILES_DEFAULTS: dict[str, Any] = {"types": [], "max_count": 3, "max_mb": 10}

#: The five working principles: value -> (2021 name, 2014 name).
PRINCIPLES: dict[str, tuple[str, str]] = {
    "all-rights": ("Applying all human rights for all",
                   "Applying all rights (legality, universality and indivisibility)"),
    "participation": ("Meaningful and inclusive participation and access to decision-making",
                      "Participation and access to the decision-making process"),
    "non-discrimination": ("Non-discrimination and equality", "Non-discrimination and equal access"),
    "accountability": ("Accountability and rule of law for all", "Accountability and access to the rule of law"),
    "transparency": ("Transparency and access to information supported by disaggregated data",
                     "Transparency and access to information"),
}
_PRINCIPLE_BY_NAME = {name.casefold(): value for value, names in PRINCIPLES.items() for name in names}


@dataclass(frozen=True)
class Level:
    """One level of a rubric criterion."""

    points: float
    title: str
    description: str


@dataclass(frozen=True)
class Criterion:
    """One rubric criterion with its levels, points ascending."""

    id: str
    title: str
    principle: str | None
    levels: tuple[Level, ...]
    #: The points of the lowest level at which a submission may be approved (a gate): below it,
    #: no total approves. None: any level may be approved if the total reaches pass_points.
    required_level: float | None = None

    @property
    def max_points(self) -> float:
        """The points of the highest level."""
        return self.levels[-1].points

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "title": self.title, "principle": self.principle,
                                "levels": [dataclasses.asdict(level) for level in self.levels]}
        if self.required_level is not None:  # stored only when set: older rubrics keep their data
            data["required_level"] = self.required_level
        return data


@dataclass(frozen=True)
class Rubric:
    """A validated rubric."""

    criteria: tuple[Criterion, ...]

    @property
    def max_points(self) -> float:
        """The total of every criterion's highest level."""
        return sum(criterion.max_points for criterion in self.criteria)

    def to_dict(self) -> dict[str, Any]:
        return {"criteria": [criterion.to_dict() for criterion in self.criteria]}


def rubric_structure(rubric: Rubric) -> tuple[Any, ...]:
    """What a translation must share with its base: criterion ids, their levels' points and the
    level each requires."""
    return tuple((c.id, tuple(level.points for level in c.levels), c.required_level) for c in rubric.criteria)


def read_assignment(doc: YamlDoc, meta: dict[str, Any]) -> tuple[dict[str, Any], Rubric | None]:
    """Check the assignment keys of ``meta``; report problems into ``doc``.

    Returns the options (``suggested_words``, ``files`` with defaults filled in,
    ``pass_points``) and the rubric, or None when the rubric is missing or unusable.
    Never raises.
    """
    options: dict[str, Any] = {"suggested_words": checks.positive_whole(doc, meta, "suggested_words"),
                               "files": _files(doc, meta), "pass_points": None}
    rubric = _rubric(doc, meta)
    if "pass_points" in meta:
        points = meta["pass_points"]
        if not checks.is_number(points) or points < 0:
            doc.report("pass_points must be a number of at least 0", "pass_points")
        elif rubric is not None and points > rubric.max_points:
            doc.report(f"pass_points ({points:g}) is more than the rubric's maximum ({rubric.max_points:g})",
                       "pass_points")
        else:
            options["pass_points"] = points
    return options, rubric


def _files(doc: YamlDoc, meta: dict[str, Any]) -> dict[str, Any]:
    files = dict(FILES_DEFAULTS)
    if "files" not in meta:
        return files
    value = meta["files"]
    if not isinstance(value, dict):
        doc.report("files must be a mapping with types, max_count and max_mb", "files")
        return files
    checks.check_keys(doc, value, at=("files",), allowed=tuple(FILES_DEFAULTS), required=(), what="key in files")
    types = value.get("types", [])
    if not isinstance(types, list):
        doc.report("files.types must be a list of file types, e.g. [pdf, docx]", "files", "types")
    else:
        for index, kind in enumerate(types):
            if kind not in FILE_TYPES:
                doc.report(f"file type {kind!r} is not allowed (allowed: {' '.join(FILE_TYPES)})",
                           "files", "types", index)
        files["types"] = [kind for kind in types if kind in FILE_TYPES]
    if "max_count" in value:
        if checks.is_whole(value["max_count"]) and value["max_count"] >= 0:
            files["max_count"] = int(value["max_count"])
        else:
            doc.report("files.max_count must be a whole number of at least 0", "files", "max_count")
    if "max_mb" in value:
        if checks.is_number(value["max_mb"]) and value["max_mb"] > 0:
            files["max_mb"] = value["max_mb"]
        else:
            doc.report("files.max_mb must be a number greater than 0", "files", "max_mb")
    return files


def _rubric(doc: YamlDoc, meta: dict[str, Any]) -> Rubric | None:
    if "rubric" not in meta:
        doc.report("missing required front-matter key 'rubric' (an assignment needs at least one criterion)")
        return None
    value = meta["rubric"]
    if not isinstance(value, list) or not value:
        doc.report("rubric must be a list of criteria, at least one", "rubric")
        return None
    before = len(doc.problems)
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        criterion = _criterion(doc, entry, index)
        if criterion is None:
            continue
        if criterion.id in seen:
            doc.report(f"criterion id {criterion.id!r} is used twice", "rubric", index, "id")
        seen.add(criterion.id)
        criteria.append(criterion)
    return Rubric(tuple(criteria)) if len(doc.problems) == before else None


def _criterion(doc: YamlDoc, entry: Any, index: int) -> Criterion | None:
    at = ("rubric", index)
    if not isinstance(entry, dict):
        doc.report("each rubric criterion must be a mapping with id, title and levels", *at)
        return None
    checks.check_keys(doc, entry, at=at, allowed=("id", "title", "principle", "levels", "required_level"),
                      required=("id", "title", "levels"), what="key in rubric criterion")
    criterion_id = entry.get("id")
    if "id" in entry and (not isinstance(criterion_id, str) or not checks.SLUG_RE.match(criterion_id)):
        doc.report(f"criterion id {criterion_id!r} must be {checks.SLUG_RULE}", *at, "id")
    title = checks.text(doc, entry, "title", at=at)
    principle = _principle(doc, entry, at)
    levels = _levels(doc, entry, at)
    if not isinstance(criterion_id, str) or title is None or levels is None:
        return None
    required = _required_level(doc, entry, at, levels)
    return Criterion(criterion_id, title, principle, levels, required)


def _required_level(doc: YamlDoc, entry: dict[str, Any], at: tuple[Any, ...],
                    levels: tuple[Level, ...]) -> float | None:
    """``required_level``: the points of one of the criterion's levels above the lowest."""
    if "required_level" not in entry or entry["required_level"] is None:
        return None
    value = entry["required_level"]
    allowed = [level.points for level in levels[1:]]
    if not checks.is_number(value) or float(value) not in allowed:
        doc.report(f"required_level must be the points of one of the criterion's levels above the lowest "
                   f"({', '.join(f'{p:g}' for p in allowed)})", *at, "required_level")
        return None
    return float(value)


def _principle(doc: YamlDoc, entry: dict[str, Any], at: tuple[Any, ...]) -> str | None:
    if "principle" not in entry:
        return None
    value = entry["principle"]
    if isinstance(value, str) and value in PRINCIPLES:
        return value
    if isinstance(value, str) and value.strip().casefold() in _PRINCIPLE_BY_NAME:
        return _PRINCIPLE_BY_NAME[value.strip().casefold()]
    doc.report(f"principle {value!r} is not one of {', '.join(PRINCIPLES)}", *at, "principle")
    return None


def _levels(doc: YamlDoc, entry: dict[str, Any], at: tuple[Any, ...]) -> tuple[Level, ...] | None:
    if "levels" not in entry:
        return None
    value = entry["levels"]
    if not isinstance(value, list) or len(value) < 2:
        doc.report("a criterion needs at least two levels", *at, "levels")
        return None
    levels: list[Level] = []
    for index, raw in enumerate(value):
        where = (*at, "levels", index)
        if not isinstance(raw, dict):
            doc.report("each level must be a mapping with points, title and description", *where)
            return None
        checks.check_keys(doc, raw, at=where, allowed=("points", "title", "description"),
                          required=("points", "title"), what="key in rubric level")
        points = raw.get("points")
        if "points" in raw and (not checks.is_number(points) or points < 0):
            doc.report("level points must be a number of at least 0", *where, "points")
            return None
        title = checks.text(doc, raw, "title", at=where)
        description = raw.get("description", "")
        if not isinstance(description, str):
            doc.report("level description must be a text", *where, "description")
            return None
        if points is None or title is None:
            return None
        if levels and points <= levels[-1].points:
            doc.report(f"level points must be distinct and ascending ({points:g} after {levels[-1].points:g})",
                       *where, "points")
            return None
        levels.append(Level(float(points), title, description.strip()))
    return tuple(levels)
