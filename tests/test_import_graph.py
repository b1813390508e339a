"""The apps' imports run one way (DESIGN):

    pmhub (settings, accounts, activity) <- products <- metrics <- backlog <- roadmaps
                                                                          <- feedback
    discussions (on top: may use all of them; only archive and ops import it)
    every app <- archive (which archives discussions, specs and questions too)
    every app, archive included <- ops (reads the pending work of each)

Every ``import`` in every module of every app (migrations and imports inside
functions included) is read with ``ast``; an app may import only the apps
below it, and of another app never its views, forms, API or URLs. The
project's URL configuration (pmhub/urls.py) is the one place that wires every
app together."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# The six apps below the ones on top (the apps discussions/ may use).
CORE = {"pmhub", "products", "metrics", "backlog", "roadmaps", "feedback"}
# app -> the apps it may import (itself aside)
ALLOWED = {
    "pmhub": set(),
    "ops": CORE | {"discussions", "questions", "specs", "archive"},
    "products": {"pmhub"},
    "metrics": {"pmhub", "products"},
    "backlog": {"pmhub", "products", "metrics"},
    "roadmaps": {"pmhub", "products", "metrics", "backlog"},
    "feedback": {"pmhub", "products", "metrics", "backlog"},
    "specs": {"pmhub", "products", "metrics", "backlog"},
    "questions": CORE,
    "discussions": CORE,
    "archive": CORE | {"discussions", "specs", "questions"},
}
WIRING = {"pmhub/urls.py"}
INTERFACES = {"views", "forms", "api", "urls"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # ``from app import views`` names a module too.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _interface(parts: list[str]) -> bool:
    """An app's views, forms, API or URLs (pmhub/ is the project package: its
    ``pmhub.api`` bases are meant for every app, its accounts app is not)."""
    if parts[0] == "pmhub":
        parts = parts[1:] if parts[1:2] == ["accounts"] else []
    return any(p in INTERFACES or p.endswith("_views") for p in parts[1:2])


def violations(app: str) -> list[str]:
    wrong = []
    for path in sorted((ROOT / app).rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where in WIRING:
            continue
        for line, module in imports_of(path):
            parts = module.split(".")
            target = parts[0]
            if target not in ALLOWED or target == app:
                continue
            if target not in ALLOWED[app]:
                wrong.append(f"{where}:{line} imports {module} ({app} may not use {target})")
            elif _interface(parts):
                wrong.append(f"{where}:{line} imports {module} (another app's interface)")
    return wrong


@pytest.mark.parametrize("app", sorted(ALLOWED))
def test_app_imports_run_one_way(app):
    assert (ROOT / app).is_dir()
    assert violations(app) == []


def test_the_check_sees_a_wrong_import(tmp_path, monkeypatch):
    """The checker itself: an upward import and an interface import are caught."""
    (tmp_path / "products").mkdir()
    (tmp_path / "products" / "bad.py").write_text(
        "def f():\n    from backlog.models import Item\n    from metrics import views\n"
    )
    (tmp_path / "backlog").mkdir()
    (tmp_path / "backlog" / "ok.py").write_text("from metrics import forms\nimport metrics.reads\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert violations("products") == [
        "products/bad.py:2 imports backlog.models (products may not use backlog)",
        "products/bad.py:2 imports backlog.models.Item (products may not use backlog)",
        "products/bad.py:3 imports metrics (products may not use metrics)",
        "products/bad.py:3 imports metrics.views (products may not use metrics)",
    ]
    assert violations("backlog") == [
        "backlog/ok.py:1 imports metrics.forms (another app's interface)",
    ]
