# Two commands: `make run` (embedded stack) and `make test` (the suite). Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench typecheck clean
SEED_CALLS := $(wildcard calls/00[0-4]-*.yaml)
GOLDEN := $(filter-out tests/golden/legacy,$(patsubst %/manifest.json,%,$(wildcard tests/golden/*/manifest.json)))
PACKAGES := infra models records documents activities workflows client audit simulation drafting api commands worker.py cli.py

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/grantflow up

test: check
	$(BIN)/python -m pytest -q
	$(BIN)/grantflow coverage $(SEED_CALLS) --visits var/coverage/suite.jsonl $(addprefix --histories ,$(GOLDEN))

# Layers (import-linter), lint (ruff) and types (mypy --strict): the house stays readable. `make test` runs it first.
check: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy $(PACKAGES)

typecheck: $(STAMP)
	$(BIN)/mypy $(PACKAGES)

# The issue's scales: 10,000 applications on the deadline and in the simulated call; intake's rate is steady
# from 2,000 on and memory per 1,000 is linear (measured at 1,000). Results go to BENCHMARKS.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py --applications 10000 --intake 2000 --memory 1000 --record BENCHMARKS.md

clean:
	rm -rf $(VENV) var
