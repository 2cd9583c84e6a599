# make demo / make test / make chaos / make bench each set up .venv on first use, pinned by constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet -c constraints.txt

.PHONY: demo test chaos bench bench-quick sim lint constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.sim: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[sim]'
	touch $@

$(VENV)/.test: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) -e '.[test]'
	touch $@ $(VENV)/.sim

demo: $(VENV)/.sim
	$(BIN)/armature-pipeline demo

test: $(VENV)/.test
	$(BIN)/python -m pytest -n 2 -q

# The simulation tester beyond the suite's fixed seeds: N seeded histories from SEED on, into
# DEST (duckdb, or postgres: a throwaway server started for the run).
N ?= 50
SEED ?= 1
DEST ?= duckdb
chaos: $(VENV)/.test
	$(BIN)/python -m tests.simulation --destination $(DEST) --histories $(N) --seed $(SEED) --quiet

bench: $(VENV)/.test
	$(BIN)/python bench/bench_load.py

bench-quick: $(VENV)/.test
	$(BIN)/python bench/bench_load.py --quick

sim: $(VENV)/.sim
	$(BIN)/armature-sim

lint: $(VENV)/.test
	$(BIN)/python -m mypy
	$(BIN)/python -m ruff check .

# Re-pin constraints.txt: every extra installed into a scratch venv, then frozen.
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/python -m pip install --quiet --upgrade pip
	.constraints-venv/bin/python -m pip install --quiet '.[test]'
	.constraints-venv/bin/python -m pip freeze --exclude armature-dlt > constraints.txt
	rm -rf .constraints-venv

clean:
	rm -rf $(VENV) *.duckdb *.duckdb.wal .pytest_cache
