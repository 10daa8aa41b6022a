# Two commands matter: `make demo` and `make test`. Both set up .venv themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)
export DAGSTER_STORAGE_DIR := $(CURDIR)/.dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)
# One planned event per asset for a ranged run instead of one per asset and day: a 180-day ingest starts its
# first step after 5 s instead of 49 s. The cost: if such a run fails, its days show as missing, not failed.
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1

# Demo knobs: `make demo CUSTOMERS=5000 DAYS=365` or `make demo DATASET=cdnow`.
CUSTOMERS ?= 2000
DAYS ?= 180
SEED ?= 42
DATASET ?= synthetic
SCALE ?= 10000
GROWTH ?=
ENGINE ?= duckdb

.PHONY: install browser java demo dev dashboard test bench parse clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e ".[dev]"
	touch $(STAMP)

# The dbt manifest is rebuilt from the SQL each time, so edited models are always what runs. The target is the one
# the runs pass (CRM_ENGINE): dbt keys its partial parse on the --target flag, and a run whose first dbt step finds
# another key parses the whole project again (4-5 s).
parse: install
	$(BIN)/dbt parse --project-dir $(CURDIR)/dbt_project --profiles-dir $(CURDIR)/dbt_project --no-partial-parse --quiet \
		--target "$${CRM_ENGINE:-duckdb}"

demo: parse
	$(BIN)/python -m orchestration.demo --dataset $(DATASET) --customers $(CUSTOMERS) --days $(DAYS) --seed $(SEED)

dev: parse
	$(BIN)/dagster dev -w workspace.yaml

# The CRM dashboard on http://127.0.0.1:8501, over the published BI database (run `make demo` first).
DASHBOARD_PORT ?= 8501
dashboard: install
	$(BIN)/python -m dashboard --port $(DASHBOARD_PORT)

# The browser tests drive Debian's Chromium, headless (no browser download at test time); installed when missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

# CRM_ENGINE=spark_local / spark_thrift and their tests run Spark, which needs a Java runtime: Debian's JDK 17.
java:
	@command -v java >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

test: install browser java
	$(BIN)/python -m pytest

# ENGINE=spark_local also builds the dbt project on Spark beside DuckDB at each scale (docs/scale-out.md).
bench: install $(if $(filter spark%,$(ENGINE)),java)
	$(BIN)/python -m bench.run --scale $(SCALE) --growth "$(GROWTH)" --engine $(ENGINE)

clean:
	rm -rf data .dagster_home/* dbt_project/target dbt_project/logs
