# PMHub — the two commands: `make run` and `make test`.
# Needs Python 3.12+ (pinned in .python-version) and Node.js with npm; the rest is installed here.

SHELL := /bin/bash
PORT ?= 8000
export PORT
UV_VERSION := 0.13.8
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test lint fmt bench fuzz check-python clean serve-prod

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "PMHub needs Python 3.12+ (found " + sys.version.split()[0] + "). With pyenv: pyenv install 3.12")'

$(UV): | check-python
	@echo "==> installing uv $(UV_VERSION) into $(TOOLS)/"
	@$(PYTHON) -m venv $(TOOLS)
	@$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Re-sync only when the lock file or pyproject changed: a second `make run` installs nothing.
# `make run` installs only what serving needs (no test or lint tools: compiling them was most
# of a cold start); `make test`, `lint` and `bench` add the dev group. --inexact keeps a
# dev install when `make run` comes after `make test`.
$(VENV)/.synced-run: uv.lock pyproject.toml | $(UV)
	@echo "==> installing what serving needs from uv.lock"
	@$(UV) sync --frozen --no-dev --inexact --compile-bytecode --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	@echo "==> installing dependencies (with the test and lint tools) from uv.lock"
	@$(UV) sync --frozen --python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@ $(VENV)/.synced-run

# Front-end libraries (SortableJS, ...) come from npm; Django serves them from node_modules.
node_modules/.installed: package.json package-lock.json
	@echo "==> installing front-end packages from package-lock.json"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: $(VENV)/.synced-run node_modules/.installed
	@DEBUG=true $(PY) manage.py migrate --no-input -v0
	@DEBUG=true $(PY) manage.py seed_demo
	@echo ""
	@echo "  PMHub is running on http://127.0.0.1:$(PORT)/"
	@echo "  Demo login: user demo, password demo   (editor: alex / alex, viewer: viewer / viewer)"
	@echo "  API docs:   http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	@DEBUG=true exec $(PY) manage.py runserver --skip-checks 127.0.0.1:$(PORT)

test: $(VENV)/.synced node_modules/.installed
	@$(PY) -m pytest $(PYTEST_ARGS)

# schemathesis over every API operation with every check, valid and invalid
# requests, a fixed seed: FUZZ_EXAMPLES per operation (the normal suite runs
# 10 for reads and 8 for writes). See docs/api.md#schema-and-fuzzing.
FUZZ_EXAMPLES ?= 25
fuzz: $(VENV)/.synced node_modules/.installed
	@FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/test_schema.py -k conform -q -p no:randomly $(PYTEST_ARGS)

# Seeds 100 000 items in PostgreSQL (database pmhub_bench; BENCH_DATABASE_URL to change it)
# and prints ratios against raw-SQL baselines; writes bench/results.json. See bench/README.md.
bench: $(VENV)/.synced
	@$(PY) -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.synced
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@DEBUG=true $(PY) manage.py makemigrations --check --dry-run

fmt: $(VENV)/.synced
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) staticfiles
