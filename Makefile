# advlib: a reproducible study of adversarial attacks on audio classifiers.
#   make book   - set up .venv, run the pipeline at PROFILE (default demo), build _build/html
#   make test   - set up .venv, lint, run the test suite
#   make book PROFILE=smoke - the paper profile at paper size on fixture data sets (README)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PROFILE ?= demo
# cpu (default), cuda, cuda:N or mps: where the pages train and run their models (advlib.device)
DEVICE ?= cpu
PYTHON ?= python3.11
CORES ?= $(shell nproc 2>/dev/null || echo 2)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
export PATH := $(BIN):$(PATH)
export PYTHONUNBUFFERED := 1

LOCK := requirements.lock

.PHONY: all setup lock pipeline book test test-all lint format bench gpu-check clean distclean dryrun

all: book

# Idempotent: re-runs only when the dependency files change. Installs exactly the lock file
# (every package pinned, every file checked against its sha256), then advlib itself.
setup: $(STAMP)
$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (advlib needs Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r $(LOCK) 2>&1 | { grep -v "^WARNING: Location '" || true; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e . 2>&1 | { grep -v "^WARNING: Location '" || true; }
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "advlib (Python 3.11)" >/dev/null
	touch $(STAMP)

# Re-resolve the lock after changing a pin in pyproject.toml (and environment.yml): Python 3.11,
# linux x86_64, with hashes; every other pin is kept (add UV_ARGS=--upgrade to move them too).
UV_ARGS ?=
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra nodeps --generate-hashes \
		--python-version 3.11 --python-platform linux -o $(LOCK) $(UV_ARGS)

# Run every notebook x parameter set of the profile (Snakemake + papermill; cached, resumable).
pipeline: setup
	$(BIN)/python -m advlib device --device $(DEVICE) --quiet
	$(BIN)/snakemake --snakefile workflow/Snakefile --cores $(CORES) \
		--config profile=$(PROFILE) device=$(DEVICE) \
		--rerun-triggers mtime params input code --printshellcmds

# List the jobs the profile would run, without running them.
dryrun: setup
	$(BIN)/snakemake --snakefile workflow/Snakefile --cores $(CORES) --config profile=$(PROFILE) --dry-run

book: pipeline
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "book: $(abspath _build/html/index.html) (profile $(PROFILE))"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Everything, the slow end-to-end tests included (CI runs this).
test-all: lint
	$(BIN)/python -m pytest -m "" $(PYTEST_ARGS)

# Speed, measured here and never in tests: victim throughput, then our attacks against
# torchattacks, Foolbox and ART on the same victim and 256 clips (about 20 min on 2 cores).
bench: setup
	$(BIN)/python -m advlib.tools.bench_victims --profile $(PROFILE) --out bench/results-$(PROFILE).json
	$(BIN)/python -m advlib.tools.bench_attacks --profile $(PROFILE) --out bench/attacks-$(PROFILE).json

# On a machine with a CUDA GPU: the CUDA tests and a short attack benchmark on the GPU, under
# 5 minutes (bench/attacks-gpu.json). Without a GPU it fails at once with one line (status 2);
# nothing else depends on it.
gpu-check: setup
	$(BIN)/python -m advlib.tools.gpu_check --profile $(PROFILE)

clean:
	rm -rf _build book/generated .snakemake

distclean: clean
	rm -rf $(VENV) data/cache data/units data/generated data/downloads
