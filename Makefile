# One-command set-up: both targets create .venv and install riskoff on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# absolute: the mutation check runs its tests from a temporary copy of the checkout
DATA_DIR ?= $(abspath $(or $(RISKOFF_DATA_DIR),../shared/data))
export MPLBACKEND := Agg

.PHONY: install run test bench mutation clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip 'setuptools>=77'
	$(BIN)/pip install --quiet -e '.[dev,live,xcheck,dist]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	RISKOFF_DATA_DIR=$(DATA_DIR) $(BIN)/riskoff run backtests/selloffs.toml

# Chromium first: installed when missing and possible, else a clear stop before any test runs.
test: $(STAMP)
	.ci/chromium $(BIN)/python
	RISKOFF_DATA_DIR=$(DATA_DIR) $(BIN)/python -m pytest

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do RISKOFF_DATA_DIR=$(DATA_DIR) $(BIN)/python $$b || exit 1; done
	$(BIN)/python benchmarks/readme_table.py

# Not part of `make test` (minutes): mutate the core one named change at a time and run its tests.
mutation: $(STAMP)
	RISKOFF_MUTATIONS=1 RISKOFF_DATA_DIR=$(DATA_DIR) $(BIN)/python tests/mutation/run_mutations.py

clean:
	rm -rf $(VENV) build *.egg-info
