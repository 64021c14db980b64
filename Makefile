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

.PHONY: install run ingest test test-fast lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# torch first, pinned to the CPU wheel on disk; an unpinned torch pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

ingest: install
	$(VENV)/bin/advisor ingest $(CORPUS)

# Ingest is incremental (an unchanged corpus embeds nothing); a bad file is reported and the
# server starts on what did ingest.
run: install
	-$(VENV)/bin/advisor ingest $(CORPUS)
	$(VENV)/bin/advisor serve

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not model and not server"

lint: install
	$(VENV)/bin/ruff check advisor tests benchmarks evals
	$(VENV)/bin/mypy advisor

bench: install
	$(PY) -m benchmarks.run

clean:
	rm -rf .advisor .pytest_cache .mypy_cache .ruff_cache
