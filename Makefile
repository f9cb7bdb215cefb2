# Clarion: `make run` starts everything on embedded defaults; `make test` runs all tests.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The Python that creates .venv: PYTHON=... (a command on PATH, or a path), or else
# the first of these that is Python 3.11 or newer (a plain `python3` may be older).
PYTHON_CANDIDATES := python3.13 python3.12 python3.11 python3

# Shell code: sets $python and $version to the first of $(PYTHON) or the candidates
# that runs and is 3.11 or newer (a pyenv shim for a missing version fails to run),
# or stops with a message. `--version` prints "Python 3.12.4".
FIND_PYTHON = set -f; python=; \
	for candidate in $(or $(PYTHON),$(PYTHON_CANDIDATES)); do \
	  out=$$("$$candidate" --version 2>&1) || continue; \
	  set -- $$out; \
	  case "$$1 $$2" in "Python 3.1"[1-9]*|"Python 3."[2-9][0-9]*|"Python "[4-9].*) \
	    python=$$candidate; version=$$2; break;; \
	  esac; \
	done; \
	if [ -z "$$python" ]; then \
	  echo "Clarion needs Python 3.11 or newer, and none of these is: $(or $(PYTHON),$(PYTHON_CANDIDATES))." >&2; \
	  echo "Install one (3.11, 3.12 or 3.13), or name it: make $(or $(MAKECMDGOALS),run) PYTHON=/path/to/python3.12" >&2; \
	  exit 1; \
	fi

.PHONY: run test screenshots lint typecheck check install clean which-python messages bench bench-trigger bench-report bench-audience

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  $(FIND_PYTHON); \
	  echo "Creating $(VENV) with $$python (Python $$version)"; \
	  "$$python" -m venv $(VENV) || exit 1; \
	fi
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Translations: each locale/*/LC_MESSAGES/django.po compiled to its .mo (GNU gettext's
# msgfmt when installed, else Babel in Python: core/management/commands/compile_translations.py).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

%.mo: %.po $(STAMP)
	$(BIN)/python manage.py compile_translations

install: $(STAMP) $(MO_FILES)

# Updates locale/*/LC_MESSAGES/django.po from the sources, keeping every translation: no
# line numbers, so only new or changed strings show in a diff. Needs GNU gettext.
messages: $(STAMP)
	$(BIN)/python manage.py update_translations

# Prints the Python that would create .venv (it exists already: `$(BIN)/python --version`).
which-python:
	@$(FIND_PYTHON); echo "$$python (Python $$version)"

run: $(STAMP) $(MO_FILES)
	$(BIN)/python manage.py run_clarion

# The browser tests use a system Chromium or Chrome when there is one, else Playwright's
# own Chromium, downloaded once (tests/browser/chromium.py).
test: $(STAMP) $(MO_FILES)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The pictures in docs/screenshots/ (each main page, each language, at 1366 and 390 px,
# and the walk-through of docs/guide.md and docs/guide.zh-Hant.md), taken by the
# browser tests marked `screenshots` (tests/browser/test_pages.py and
# tests/browser/test_admin_walkthrough_languages.py).
screenshots: $(STAMP) $(MO_FILES)
	CLARION_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -m screenshots tests/browser $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy .

check: lint typecheck
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
# Missing or fuzzy translations outside locale/untranslated-allowed.txt, or a
# catalogue `make messages` would change.
	$(BIN)/python manage.py translations_check

# Issue 9's figures, every scenario in turn, and one table (docs/performance.md): about
# 40 minutes. Needs PostgreSQL, Redis and wrk. Options: make bench BENCH_ONLY=trigger,import
# BENCH_ARGS="--quick" (a smoke run) or "--runs 5" or "--with-report" (adds the
# 10-million-message report: 25 minutes, 8 GiB).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py $(if $(BENCH_ONLY),--only $(BENCH_ONLY)) $(BENCH_ARGS)

# The trigger API's figures (docs/performance.md). Needs PostgreSQL, Redis and wrk; creates,
# then drops, the database clarion_bench_trigger. Options: make bench-trigger BENCH_ARGS="--quick".
bench-trigger: $(STAMP)
	$(BIN)/python benchmarks/bench_trigger.py $(BENCH_ARGS)

# The report's figures (docs/performance.md, "Reports"): 10 million messages, about 10 GB
# and half an hour. Needs PostgreSQL; creates, then drops, the database clarion_bench_report.
# Smaller first: make bench-report BENCH_ARGS="--messages 200000".
bench-report: $(STAMP)
	$(BIN)/python benchmarks/bench_report.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var

# Audience sends and worker memory against bare loops and django-post-office (issue 9):
# BENCH_ARGS="--quick" or "--only push,memory". Needs PostgreSQL and Redis.
bench-audience: $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/bench_audience.py $(BENCH_ARGS)
