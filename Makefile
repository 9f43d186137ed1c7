# hipcoach: everything a fresh machine needs goes through these targets.
# Needs Python 3.11, 3.12 or 3.13 and gcc with the Python headers (durable-rules is compiled at
# install time; on 3.13 by tools/build_durable.py, with the one C API fix it needs).

#: The supported Pythons, newest first: the same as requires-python and the classifiers in
#: pyproject.toml (tests/test_packaging.py checks that they agree).
PYTHONS := 3.13 3.12 3.11
#: "VERSION PATH" for each of them found on this machine (tools/pythons.sh says how it looks).
FOUND := $(shell sh tools/pythons.sh $(PYTHONS))
#: The newest one found, unless given: `make test PYTHON=python3.11`.
PYTHON ?= $(word 2,$(FOUND))
VENV := .venv
BIN := $(VENV)/bin
#: durable-rules wheels built by tools/build_durable.py, where pip looks first.
WHEELS := wheels
RUN_STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
#: The short suite run on every other supported Python: the golden plan and trace digests,
#: the durable_rules adapter and the command line's smoke tests.
SHORT := tests/test_golden.py tests/test_adapter.py tests/test_cli.py

.PHONY: help install demo check lint test test-fast test-short test-pythons pythons bench golden clean

help:
	@echo "make demo    - set up .venv with hipcoach and print a plan for the bundled example runner"
	@echo "make check   - check the knowledge base and rules (hipcoach kb check)"
	@echo "make lint    - static checks of the code: ruff, mypy (settings in pyproject.toml) and the import contracts"
	@echo "make test    - set up .venv with the test extras, run make lint and make check, the scenarios (kb test), then the whole test suite"
	@echo "make test-fast - the edit loop: the suite without the tests marked slow and the notebooks"
	@echo "make test-pythons - the short suite on each other supported Python found, each in .venv-X.Y"
	@echo "make pythons - the supported Pythons found on this machine, and the one make uses"
	@echo "make bench   - print timing figures and ratios"
	@echo "make golden  - store new plan and trace digests (only after a change meant to alter plans)"
	@echo "make clean   - remove the virtual environments, built wheels and build leftovers"

# Create $(VENV) with $(PYTHON) if it is missing, and build durable-rules where this Python needs it.
define venv
	@test -n "$(PYTHON)" || { echo "error: hipcoach needs Python $(lastword $(PYTHONS)) to $(firstword $(PYTHONS))" \
		"and found none (as python3.X on PATH, or installed by pyenv): install one, or name it with" \
		"PYTHON=/path/to/python3.X" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; print(f"$(VENV): Python {sys.version.split()[0]} ({sys._base_executable})")'
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python tools/build_durable.py --wheel-dir $(WHEELS)
endef

# what running hipcoach needs
$(RUN_STAMP): pyproject.toml tools/build_durable.py
	$(venv)
	$(BIN)/python -m pip install --quiet --find-links $(WHEELS) -e .
	@touch $@

# ... and the test extras
$(TEST_STAMP): pyproject.toml tools/build_durable.py
	$(venv)
	$(BIN)/python -m pip install --quiet --find-links $(WHEELS) -e '.[test]'
	@touch $@ $(RUN_STAMP)

install: $(TEST_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/hipcoach plan examples/desk_runner.yaml

check: $(RUN_STAMP)
	$(BIN)/hipcoach kb check

lint: $(TEST_STAMP)
	$(BIN)/ruff check engine tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_architecture.py

test: $(TEST_STAMP) lint check
	$(BIN)/hipcoach kb test
	$(BIN)/python -m pytest -q

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

test-short: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(SHORT)

# The short suite on every supported Python found other than $(PYTHON), each in its own .venv-X.Y.
test-pythons:
	@default=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])'); ran=""; \
	for version in $(PYTHONS); do \
		path=$$(echo "$(FOUND)" | tr ' ' '\n' | sed -n "/^$$version$$/{n;p;q;}"); \
		if [ "$$version" = "$$default" ]; then echo "Python $$version: the default, tested by make test"; \
		elif [ -z "$$path" ]; then echo "Python $$version: not found, skipped"; \
		else echo "Python $$version ($$path): the short suite in .venv-$$version"; \
			$(MAKE) --no-print-directory test-short VENV=.venv-$$version PYTHON=$$path || exit 1; \
			ran="$$ran $$version"; fi; \
	done; echo "short suite passed on:$${ran:- no other supported Python}"

pythons:
	@echo "supported: $(PYTHONS)"
	@echo "found: $(or $(FOUND),none)"
	@echo "make uses: $(or $(PYTHON),none)"

bench: $(TEST_STAMP)
	$(BIN)/python benchmarks/bench.py

golden: $(TEST_STAMP)
	$(BIN)/python tests/golden/make_golden.py

clean:
	rm -rf $(VENV) $(VENV)-3.* $(WHEELS) build dist engine/*.egg-info .pytest_cache .hypothesis
