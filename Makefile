# jobtrail: `make demo` runs the pipeline on the embedded default, `make test` runs the tests.
# Both set up what they need first; with nothing changed, set-up takes a second.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
CACHE := .cache
INSTALLED := $(VENV)/.installed
JARS := $(CACHE)/jars/delta-jars.txt
DEMO_DIR ?= data/demo
PYTEST_ARGS ?=
# `make test` runs the test modules on TEST_WORKERS processes (pytest-xdist; 0: in this process), each module whole
# on one worker (its module-scoped fixtures and ordered steps stay together).
TEST_WORKERS ?= 2
XDIST = -n $(TEST_WORKERS) --dist loadfile

export TF_USE_LEGACY_KERAS := 1
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
# spark-defaults.conf with the local Delta jars, written by set-up: plain spark-submit gets Delta too
export SPARK_CONF_DIR := $(abspath $(CACHE)/spark-conf)

.PHONY: setup demo airflow test test-fast reliability load bench evaluate onboarding lock clean

setup: $(INSTALLED) $(JARS)

$(INSTALLED): setup.cfg constraints.txt pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/setup.sh
	touch $@

$(JARS): $(INSTALLED) spark_jobs/jars.py
	$(PY) -m spark_jobs.jars
	touch $@

# The whole pipeline with real Airflow on the embedded default: generate, train, two daily runs; prints a summary
# and how long it took (11 min 16 s measured on this 2-core machine, idle, 2026-12-07).
demo: setup
	$(PY) -m orchestration.demo --out $(DEMO_DIR)

# Airflow UI on http://localhost:$(AIRFLOW_PORT) with the project's DAGs (airflow standalone, SQLite, local[2]);
# by default on the demo's tables and metadata, so `make demo` then `make airflow` shows its runs.
AIRFLOW_PORT ?= 8080
airflow: setup
	$(PY) -m orchestration.standalone --home $(DEMO_DIR)/airflow --data-root $(DEMO_DIR)/data --port $(AIRFLOW_PORT)

test: setup
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest $(XDIST) -m "not integration" $(PYTEST_ARGS)

# docs/reliability.md: the fault, bad-input and security tests (those that record a row; part of `make test`
# too), their rows written as the report's test-run section.
reliability: setup
	$(PY) -m pytest -m reliability --reliability-report=docs/reliability.md $(PYTEST_ARGS)

# The daily DAG on the 10-million-event synthetic set (dag.test, local[2]): time and peak memory into the
# load section of docs/reliability.md.
load: setup
	$(PY) -m benchmarks.load

# Both reports from scratch via benchmarks/all.py: every benchmark module (generate, pipeline, training,
# inference), then the evaluation (docs/evaluation.md). SCALE=small (default: docs/benchmarks-small.md, the
# small evaluation preset) or SCALE=full (the stated 10M-event scales: docs/benchmarks.md, the large preset).
SCALE ?= small
bench: setup
	$(PY) -m benchmarks.all --scale $(SCALE)

# docs/evaluation.md from scratch: EVAL_ARGS="--preset large", "--datasets synthetic --seeds 2", "--report-only" …
EVAL_ARGS ?= --preset small --fresh
evaluate: setup
	$(PY) -m evaluation $(EVAL_ARGS)

# docs/onboarding.md: the walkthrough from a platform's CSV export to a feature-table day and an evaluation report,
# every command run for real and its output written into the doc (work folder data/onboarding, replaced).
onboarding: setup
	$(PY) -m orchestration.onboarding --work data/onboarding --doc docs/onboarding.md

# Re-resolve the pins (only when dependencies in setup.cfg change), then run `make test` and commit.
lock: $(INSTALLED)
	$(VENV)/bin/uv pip compile --python-version 3.11 setup.cfg --extra all --no-header --no-annotate -o constraints.txt

clean:
	rm -rf $(VENV) $(CACHE) data spark-warehouse .pytest_cache
