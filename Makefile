# Developer and CI entry points. Only python3 (>= 3.11), make and git are needed beforehand:
# `make venv` builds .venv from the hash-pinned requirements-dev.txt.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
PROJECT_STAMP := $(VENV)/.project-installed

ACTION_FILES := $(wildcard action.yml portable/action.yml)
SETTINGS_SAMPLE := docs/examples/capwrapper.yml
WORKFLOW_FILES := $(filter-out $(SETTINGS_SAMPLE),$(wildcard .github/workflows/*.yml docs/examples/*.yml))
SHELL_SCRIPTS := $(wildcard .ci/run .ci/*.sh scripts/*.sh)

.PHONY: help venv demo test lint pytest audit bench lock clean

help:
	@echo "make demo    run the demo against the built-in API simulator"
	@echo "make test    lint, type-check and run the test suite"
	@echo "make venv    create .venv from requirements-dev.txt (only when the lock changed)"
	@echo "make lint    ruff, mypy, check-jsonschema, zizmor, actionlint, shellcheck, hadolint, pip-audit"
	@echo "make pytest  the test suite alone"
	@echo "make bench   run the benchmarks"
	@echo "make lock    regenerate requirements.txt and requirements-dev.txt (UPGRADE=1 to bump)"
	@echo "make clean   remove .venv and caches"

venv: $(PROJECT_STAMP)

# The dependency layer: rebuilt from scratch whenever the lock file changes.
$(DEPS_STAMP): requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "python3 >= 3.11 is needed, found " + sys.version.split()[0])'
	@echo "venv: creating $(VENV) with $$($(PYTHON) --version)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	touch $@

# The project itself, editable, without touching the locked dependencies.
$(PROJECT_STAMP): $(DEPS_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

demo: venv
	$(BIN)/python scripts/demo.py

test: venv
	$(MAKE) lint
	$(MAKE) pytest

# The suite mostly waits (the action as a subprocess, loopback servers), so it runs in parallel
# workers (pytest-xdist); tests sharing a module fixture or a file stay on one (xdist_group).
# PYTEST_WORKERS=0 runs it in one process, e.g. to debug with -s or --pdb. Bytecode is written
# (git-ignored __pycache__, `make clean` removes it) even where PYTHONDONTWRITEBYTECODE is set:
# else every worker, and every Python the tests start from the checkout, compiles the package
# and pytest rewrites every test module again (~6 s of CPU per worker).
PYTEST_WORKERS ?= 4
pytest: venv
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions $(ACTION_FILES)
ifneq ($(wildcard .github/dependabot.yml),)
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
endif
ifneq ($(strip $(WORKFLOW_FILES)),)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOW_FILES)
	$(BIN)/zizmor --offline --no-progress --quiet $(WORKFLOW_FILES) $(ACTION_FILES)
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck $(WORKFLOW_FILES)
endif
	$(BIN)/shellcheck $(SHELL_SCRIPTS)
ifneq ($(wildcard Dockerfile),)
	$(BIN)/hadolint Dockerfile
endif
	$(MAKE) audit

# Known-vulnerability check of both locks against PyPI's advisory data. When that service cannot
# be reached, a "skipped:" line says so and the run goes on. A finding fails, and so does a
# package the service could not check (--strict).
audit: venv
	@if reason=$$($(BIN)/python scripts/pypi_reachable.py 2>&1); then \
	  echo "pip-audit: requirements.txt requirements-dev.txt"; \
	  $(BIN)/pip-audit --strict --progress-spinner off --disable-pip --vulnerability-service pypi \
	    -r requirements.txt -r requirements-dev.txt; \
	else \
	  echo "skipped: pip-audit, the PyPI advisory service is not reachable ($$reason)"; \
	fi

bench: venv
	$(BIN)/python -m bench

lock:
	bash scripts/lock.sh

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
