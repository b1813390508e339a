"""The documentation stays true to the code: every environment variable the
code reads is in docs/deployment.md (and every one documented there is still
read), every beat job and every API path is documented, every relative link
in README.md and docs/ resolves to a file and heading, and the README stays
short."""

import ast
import functools
import os
import re
import sys
from pathlib import Path

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
DEPLOYMENT = DOCS / "deployment.md"
API = DOCS / "api.md"
MARKDOWN = [README, *sorted(DOCS.glob("*.md"))]
# Not the project's code: tools, installed packages, generated files.
SKIP_DIRS = {".git", ".venv", ".tools", "node_modules", "staticfiles", "migrations", "__pycache__"}
README_LIMIT = 9 * 1024

# --- environment variables ---------------------------------------------------------------------

# Calls that read one variable named by their first argument: the settings
# helpers (env_str, env_bool, env_int, env_list and any env_* added later),
# os.getenv, and os.environ.get / setdefault / pop.
ENV_HELPER = re.compile(r"^env_[a-z]+$")
ENVIRON_METHODS = {"get", "setdefault", "pop"}


def _is_environ(node) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


class EnvReads(ast.NodeVisitor):
    """Names of the environment variables a module reads. A read whose name
    is not a string literal is recorded in ``dynamic`` (so that no read can
    hide from the check), except inside a helper that passes on its own
    parameter (``env_bool(name)`` calling ``os.environ.get(name)``)."""

    def __init__(self, path: str):
        self.path = path
        self.names: dict[str, str] = {}
        self.dynamic: list[str] = []
        self._params: list[set[str]] = []

    def visit_FunctionDef(self, node):
        args = node.args
        self._params.append({a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]})
        self.generic_visit(node)
        self._params.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _read(self, arg, node) -> None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            self.names.setdefault(arg.value, f"{self.path}:{node.lineno}")
        elif not (isinstance(arg, ast.Name) and self._params and arg.id in self._params[-1]):
            self.dynamic.append(f"{self.path}:{node.lineno}")

    def visit_Call(self, node):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        environ_method = (
            isinstance(func, ast.Attribute)
            and func.attr in ENVIRON_METHODS
            and _is_environ(func.value)
        )
        if node.args and (ENV_HELPER.match(name) or name == "getenv" or environ_method):
            self._read(node.args[0], node)
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if isinstance(node.ctx, ast.Load) and _is_environ(node.value):  # os.environ["X"]
            self._read(node.slice, node)
        self.generic_visit(node)

    def visit_Compare(self, node):
        if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops) and any(
            _is_environ(c) for c in node.comparators
        ):  # "X" in os.environ
            self._read(node.left, node)
        self.generic_visit(node)


def python_files(*, tests: bool):
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not d.startswith(".")
            and (tests or here / d != ROOT / "tests")
        )
        yield from (here / name for name in sorted(files) if name.endswith(".py"))


@functools.cache
def env_reads(*, tests: bool = False) -> tuple[dict[str, str], list[str]]:
    """{variable: first file:line reading it}, and reads with no literal name."""
    names, dynamic = {}, []
    for path in python_files(tests=tests):
        visitor = EnvReads(str(path.relative_to(ROOT)))
        visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for name, where in visitor.names.items():
            names.setdefault(name, where)
        dynamic += visitor.dynamic
    return names, dynamic


def sections(text: str) -> dict[str, str]:
    """The text under each ``## `` heading (its ``###`` subsections included)."""
    out, current = {}, ""
    for line in strip_code(text).splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
        out[current] = out.get(current, "") + line + "\n"
    return out


def documented_variables() -> set[str]:
    """Variables named in the first column of the tables under the
    deployment page's "Environment variables" heading."""
    text = sections(DEPLOYMENT.read_text(encoding="utf-8")).get("Environment variables", "")
    names = set()
    for line in text.splitlines():
        if line.startswith("|"):
            first_cell = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_the_code_is_scanned_for_environment_reads():
    """The scanner itself finds reads of every kind, or the checks below
    would pass on nothing."""
    source = (
        "import os\n"
        "A = env_str('HELPER_READ', '')\n"
        "B = os.environ.get('ENVIRON_GET')\n"
        "C = os.environ['ENVIRON_ITEM']\n"
        "D = os.getenv('GETENV')\n"
        "os.environ.setdefault('SET_DEFAULT', 'x')\n"
        "E = 'IN_ENVIRON' in os.environ\n"
        "os.environ['WRITTEN_ONLY'] = '1'\n"
        "def env_flag(name):\n"
        "    return os.environ.get(name)\n"
        "F = os.environ.get(PREFIX + 'X')\n"
    )
    visitor = EnvReads("example.py")
    visitor.visit(ast.parse(source))

    assert set(visitor.names) == {
        "HELPER_READ",
        "ENVIRON_GET",
        "ENVIRON_ITEM",
        "GETENV",
        "SET_DEFAULT",
        "IN_ENVIRON",
    }
    assert visitor.dynamic == ["example.py:11"]
    names, _ = env_reads()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SITE_URL"} <= set(names)


def test_every_environment_variable_the_code_reads_is_in_deployment_md():
    names, dynamic = env_reads()
    assert not dynamic, f"environment reads without a literal name (cannot be checked): {dynamic}"
    documented = documented_variables()

    missing = {name: where for name, where in names.items() if name not in documented}

    assert not missing, (
        "read from the environment but not in a table under 'Environment variables' in "
        f"docs/deployment.md (add a row: variable, default, meaning): {missing}"
    )


def test_every_variable_in_deployment_md_is_still_read():
    names, _ = env_reads(tests=True)
    tooling = "\n".join(
        (ROOT / name).read_text(encoding="utf-8")
        for name in ("Makefile", ".ci/run", "docker-compose.yml", "Dockerfile")
    )

    stale = {
        name
        for name in documented_variables()
        if name not in names and not re.search(rf"\b{name}\b", tooling)
    }

    assert not stale, f"documented in docs/deployment.md but read nowhere any more: {stale}"


def test_every_beat_job_is_in_deployment_md():
    text = DEPLOYMENT.read_text(encoding="utf-8")

    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert f"`{name}`" in text and f"`{entry['task']}`" in text, (
            f"beat entry {name} ({entry['task']}) is missing from docs/deployment.md"
        )


# --- the API -------------------------------------------------------------------------------------


def test_every_api_path_is_in_api_md():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    text = API.read_text(encoding="utf-8")

    # A path counts only as itself: /api/v1/items/ is not documented by
    # /api/v1/items/{id}/move/.
    missing = [
        path for path in schema["paths"] if not re.search(re.escape(path) + r"(?![\w{}/-])", text)
    ]

    assert schema["paths"] and not missing, f"API paths missing from docs/api.md: {missing}"


# --- links ---------------------------------------------------------------------------------------

FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def strip_code(text: str) -> str:
    """The text without fenced code blocks (kept as blank lines)."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text of code spans and links,
    lower-cased, punctuation dropped (``-`` and ``_`` stay), spaces to ``-``."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(strip_code(path.read_text(encoding="utf-8"))):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def links(path: Path) -> list[str]:
    text = CODE_SPAN.sub("", strip_code(path.read_text(encoding="utf-8")))
    return LINK.findall(text) + REFERENCE.findall(text)


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in links(path):
        if SCHEME.match(target):
            continue  # http:, https:, mailto:: not checked offline
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.is_relative_to(ROOT) or not dest.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            broken.append(f"{target}: no heading with the anchor #{anchor}")
    return broken


def test_the_link_checker_finds_broken_links(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "other.md").write_text("# Other page\n\n## Next `step`: go!\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n"
        "[ok](other.md) [ok](other.md#next-step-go) [ok](#page) [web](https://example.com)\n"
        "[missing](nope.md) [bad anchor](other.md#nothing) [outside](../x.md)\n"
        "`[in code](nope.md)`\n\n```\n[in a block](nope.md)\n```\n"
    )

    assert broken_links(page) == [
        "nope.md: no such file in the repository",
        "other.md#nothing: no heading with the anchor #nothing",
        "../x.md: no such file in the repository",
    ]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files_and_headings(path):
    assert not broken_links(path)


def test_docs_folder_has_the_pages_the_readme_promises():
    names = {p.name for p in DOCS.glob("*.md")}

    assert {
        "architecture.md",
        "api.md",
        "deployment.md",
        "scoring.md",
        "roadmaps.md",
        "feedback.md",
        "metrics.md",
    } <= names
    readme = README.read_text(encoding="utf-8")
    for name in names:
        assert f"(docs/{name}" in readme, f"README.md does not link to docs/{name}"


# --- the README ----------------------------------------------------------------------------------


def test_readme_stays_short():
    size = len(README.read_bytes())

    assert size < README_LIMIT, (
        f"README.md is {size} bytes (limit {README_LIMIT}): move detail into docs/"
    )
