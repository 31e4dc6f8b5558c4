# The project's vocabulary. CI runs `make test` unchanged (.ci/run).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: install tools kafka lint format typecheck test demo bench bench-e2e clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# promtool and prometheus (Debian's package) for the alerting-rule tests and the scrape test.
tools:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
	   && (systemctl disable --now prometheus 2>/dev/null || true))

# Apache Kafka's jars from Maven Central, once, into .cache/kafka/.
kafka: install
	$(PY) -m tools.localkafka fetch

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install
	$(BIN)/mypy

test: install tools kafka lint typecheck
	$(BIN)/pytest

# The main job on a local default: broker, worker, webhook receiver, sample articles.
demo: install kafka
	$(PY) -m tools.demo

bench: install
	$(PY) bench/match.py
	$(PY) bench/enrich.py

# Articles through Kafka, the worker(s) and a webhook; e.g. make bench-e2e ARGS="--quick --profile".
bench-e2e: install kafka
	$(PY) -m bench.e2e $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
