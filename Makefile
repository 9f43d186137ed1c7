# hipcoach: everything a fresh machine needs goes through these targets.
# Needs Python 3.11 or 3.12 (durable-rules does not build on 3.13) and gcc with Python headers.

PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo check lint test test-fast bench golden clean

help:
	@echo "make demo   - set up .venv and print a plan for the bundled example runner"
	@echo "make check  - check the knowledge base and rules (hipcoach kb check)"
	@echo "make lint   - static checks of the code: ruff, mypy (settings in pyproject.toml) and the import contracts"
	@echo "make test   - set up .venv with the test extras, run make lint and make check, the scenarios (kb test), then the whole test suite"
	@echo "make test-fast - the edit loop: the suite without the tests marked slow and the notebooks"
	@echo "make bench  - print timing figures and ratios"
	@echo "make golden - store new plan and trace digests (only after a change meant to alter plans)"
	@echo "make clean  - remove .venv and build leftovers"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: need python3.11 or python3.12 on PATH (durable-rules does not build on 3.13)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/hipcoach plan examples/desk_runner.yaml

check: $(STAMP)
	$(BIN)/hipcoach kb check

lint: $(STAMP)
	$(BIN)/ruff check engine tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

test: $(STAMP) lint check
	$(BIN)/hipcoach kb test
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

golden: $(STAMP)
	$(BIN)/python tests/golden/make_golden.py

clean:
	rm -rf $(VENV) build dist engine/*.egg-info .pytest_cache .hypothesis
