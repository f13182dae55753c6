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

export TF_USE_LEGACY_KERAS := 1
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))
# spark-defaults.conf with the local Delta jars, written by set-up: plain spark-submit gets Delta too
export SPARK_CONF_DIR := $(abspath $(CACHE)/spark-conf)

.PHONY: setup demo test test-fast bench lock clean

setup: $(INSTALLED) $(JARS)

$(INSTALLED): setup.cfg constraints.txt pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) scripts/setup.sh
	touch $@

$(JARS): $(INSTALLED) spark_jobs/jars.py
	$(PY) -m spark_jobs.jars
	touch $@

demo: setup
	$(PY) -m jobtrail.demo --out $(DEMO_DIR)

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

bench: setup
	$(PY) -m benchmarks.generate
	$(PY) -m benchmarks.pipeline

# Re-resolve the pins (only when dependencies in setup.cfg change), then run `make test` and commit.
lock: $(INSTALLED)
	$(VENV)/bin/uv pip compile --python-version 3.11 setup.cfg --extra all --no-header --no-annotate -o constraints.txt

clean:
	rm -rf $(VENV) $(CACHE) data spark-warehouse .pytest_cache
