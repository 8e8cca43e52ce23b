# Two set-up commands: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CODE   := $(wildcard flowtui tests bench scripts)

.PHONY: demo test lint format bench screenshots fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt pip

# pyproject.toml has the compatible ranges, constraints.txt the exact tested set.
PIP_INSTALL := $(BIN)/python -m pip install --quiet -c constraints.txt

# Re-install whenever pyproject.toml or the constraints change.
$(VENV)/.run-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,dev]'
	touch $@ $(VENV)/.run-installed

# The sample capture that ships inside the package (`flowtui demo --path` prints where).
demo: $(VENV)/.run-installed
	$(BIN)/flowtui demo

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix $(CODE)
	$(BIN)/ruff format $(CODE)

$(VENV)/.fuzz-installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP_INSTALL) -e '.[test,fuzz]'
	touch $@

# A short coverage-guided campaign (~10 s per parser), then 100,000 field-type mutations
# (tests/fuzz/mutate.py; MUTATIONS=N, JOBS=N to change). See docs/reliability.md.
fuzz: $(VENV)/.fuzz-installed
	$(BIN)/python tests/fuzz/run.py --seconds $(or $(FUZZ_SECONDS),10)
	$(BIN)/python tests/fuzz/mutate.py --count $(or $(MUTATIONS),100000) --jobs $(or $(JOBS),2)

screenshots: $(VENV)/.test-installed
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache snapshot_report.html
