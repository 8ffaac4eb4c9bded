# aiida-ssb: two commands do everything on a fresh machine.
#   make demo   set up (virtual environment, system packages) and run the demonstration
#   make test   set up and run the test suite, without the end-to-end tests marked slow (a few minutes)
# Other targets: make test-slow (the end-to-end tests: the demonstration, the lab server on PostgreSQL+RabbitMQ,
# kill -9 of a running analysis), make test-fast (the pure tests and a fast AiiDA subset, under 3 minutes), make lint (ruff, import
# layers, mypy), make docs, make ci (what CI runs: lint, test, test-slow, docs), make bench, make setup, make clean.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= mpr,neware,parquet,xlsx,bdf,web,dev,docs
# pytest workers (pytest-xdist; each worker has its own temporary profile, tests of a file stay on one worker)
WORKERS ?= auto
XDIST := -n $(WORKERS) --maxprocesses=4 --dist loadfile
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup demo test test-slow test-fast ci lint docs bench clean system-deps

$(STAMP): pyproject.toml
	@bash .ci/system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

system-deps:
	@bash .ci/system-deps.sh

demo: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/aiida-ssb demo

test: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -m 'not slow' $(XDIST)

test-slow: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -m slow

ci: lint test test-slow docs

test-fast: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -m 'not slow and not heavy and not services and not browser' $(XDIST) -q

lint: setup
	$(BIN)/ruff format --check aiida_ssb tests benchmarks docs examples
	$(BIN)/ruff check aiida_ssb tests benchmarks docs examples
	$(BIN)/lint-imports
	$(BIN)/mypy

docs: setup
	MPLBACKEND=Agg $(BIN)/python docs/generate.py
	$(BIN)/sphinx-build -E -W --keep-going -q -b html docs/source docs/build/html

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) docs/build docs/source/_generated .pytest_cache
