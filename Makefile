# Two commands: `make run` (embedded stack) and `make test` (the suite). Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench typecheck clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/grantflow up

test: $(STAMP)
	$(BIN)/python -m pytest -q

typecheck: $(STAMP)
	$(BIN)/mypy models workflows activities services worker.py cli.py

# The issue's scales: 10,000 applications on the deadline and in the simulated call; intake's rate is steady
# from 2,000 on and memory per 1,000 is linear (measured at 1,000). Results go to BENCHMARKS.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py --applications 10000 --intake 2000 --memory 1000 --record BENCHMARKS.md

clean:
	rm -rf $(VENV) var
