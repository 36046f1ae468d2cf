"""The package layers of docs/architecture.md, enforced on the source (issue 17).

Every import in app/ is read from the source — module level and inside functions alike — and
checked against the layers: a package may import its own modules, the foundation and the packages
in layers below it, never one above it or beside it. Model modules (``app/<package>/models.py``)
are the data layer: they may import each other (relationships cross packages) and the foundation,
nothing else; every package may import them. No module imports another package's blueprint
(``routes``/``manage``) module: only create_app registers blueprints.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

#: Bottom to top. The foundation (layer 0) may be imported by everything.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"config", "extensions", "database", "core"}),
    frozenset({"notify"}),
    frozenset({"auth"}),
    frozenset({"content"}),
    frozenset({"learning"}),
    frozenset({"cohorts"}),
    frozenset({"quizzes", "assignments"}),
    frozenset({"certificates", "reminders"}),
    frozenset({"authoring", "offline"}),
    frozenset({"__init__", "demo", "models"}),  # create_app, the demo command, the models index
)
LAYER_OF = {package: index for index, layer in enumerate(LAYERS) for package in layer}
BLUEPRINT_MODULES = ("routes", "manage")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "app.learning.routes"
    targets: tuple[str, ...]  # what the statement may import, e.g. ("app.content", "app.content.models")
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, is_package: bool) -> list[Import]:
    """Every import statement of ``app.…`` modules in the source, wherever the statement is."""
    found: list[Import] = []
    base = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [Import(module, (alias.name,), node.lineno) for alias in node.names
                      if alias.name.split(".")[0] == "app"]
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = base.split(".")[: len(base.split(".")) - (node.level - 1)]
                target = ".".join([*anchor, *([target] if target else [])])
            if target.split(".")[0] != "app":
                continue
            # `from app.x import y` imports the module app.x.y when there is one, else a name of app.x.
            found.append(Import(module, (target, *(f"{target}.{alias.name}" for alias in node.names)), node.lineno))
    return found


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_model_module(module: str) -> bool:
    return module == "app.models" or module.endswith(".models")


def existing_modules(root: Path) -> set[str]:
    return {module_name(path, root) for path in root.rglob("*.py")}


def violations(root: Path) -> list[str]:
    modules = existing_modules(root)
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        where = path.relative_to(root.parent).as_posix()
        for imp in imports_of(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
            submodules = [target for target in imp.targets[1:] if target in modules]
            for target in submodules or [imp.targets[0]]:
                problem = _check(module, target)
                if problem:
                    problems.append(f"{where}:{imp.line}: {problem}")
    return sorted(set(problems))


def _check(module: str, target: str) -> str | None:
    if module == "app":  # create_app, the composition root, puts the layers together
        return None
    source_package, target_package = package_of(module), package_of(target)
    for package in (source_package, target_package):
        if package not in LAYER_OF:
            return f"app.{package} is in no layer: add it to LAYERS"
    if source_package == target_package or target == "app":
        return None
    if target.rpartition(".")[2] in BLUEPRINT_MODULES:
        return f"imports another package's blueprint module {target}"
    if is_model_module(module):
        if is_model_module(target) or LAYER_OF[target_package] == 0:
            return None
        return f"a model module imports {target} (models may import models and the foundation only)"
    if is_model_module(target) or LAYER_OF[target_package] == 0:
        return None
    if LAYER_OF[target_package] < LAYER_OF[source_package]:
        return None
    relation = "beside" if LAYER_OF[target_package] == LAYER_OF[source_package] else "above"
    return f"{source_package} imports {target}, a layer {relation} it"


def test_the_code_obeys_the_layers():
    assert violations(APP) == []


def test_every_package_is_in_a_layer():
    packages = {path.name for path in APP.iterdir() if path.is_dir() and (path / "__init__.py").exists()}
    modules = {path.stem for path in APP.glob("*.py")}
    assert packages | modules <= set(LAYER_OF), sorted((packages | modules) - set(LAYER_OF))


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in [p for p in (root / "app").rglob("*") if p.is_dir()]:
        (folder / "__init__.py").touch()
    (root / "app" / "__init__.py").touch()
    return root / "app"


def test_the_check_finds_upward_sideways_hidden_and_blueprint_imports(tmp_path):
    app = write(tmp_path, {
        "content/loader.py": "def f():\n    from app.quizzes import authoring\n",  # upward, inside a function
        "quizzes/authoring.py": "from app.assignments import services\n",  # beside
        "assignments/services.py": "from app.learning.routes import x\n",  # a blueprint module
        "learning/routes.py": "x = 1\n",
        "content/models.py": "from app.cohorts import services\n",  # a model importing a service
        "certificates/models.py": "from app.quizzes.models import Q\n",  # fine: the data layer
        "quizzes/models.py": "Q = 1\n",
        "cohorts/services.py": "from ..auth import models\nfrom app.core import authz\n",  # fine
        "cohorts/__init__.py": "",
        "auth/models.py": "", "core/authz.py": "",
    })
    assert violations(app) == [
        "app/assignments/services.py:1: imports another package's blueprint module app.learning.routes",
        "app/content/loader.py:2: content imports app.quizzes.authoring, a layer above it",
        "app/content/models.py:1: a model module imports app.cohorts.services (models may import models and the "
        "foundation only)",
        "app/quizzes/authoring.py:1: quizzes imports app.assignments.services, a layer beside it",
    ]
