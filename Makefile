# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run    set up .venv and run the pipeline DAG (embedded mode, offline, demo files)
#   make test   set up .venv and run the test suite's first tier (-m "not integration": parsers on
#               the real samples, models on given rows, GX suites, faults; minutes)
# The second tier, which CI runs too (.ci/run):
#   make test-integration  -m integration: real Airflow runs (dag.test(), the native production
#                          topology on Postgres + Redis + Celery), pipeline runs, full dbt builds of
#                          the database, CLI subprocesses, the browser test, the S3 lake
#   make test-all          both tiers in one pytest session
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test test-fast test-all test-integration lint lock demo-data bench compose-check clean dbt-docs airflow

install: $(STAMP)

# --compile-bytecode: bytecode is written once at install, since PYTHONDONTWRITEBYTECODE (often set)
# would make every process compile Airflow, GX and pandas from source again (demo run 51 s -> 38 s).
$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || (echo "Python 3.11 is required" && exit 1)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

run: install
	$(BIN)/pipeline run

test: install
	$(BIN)/python -m pytest -q -m "not integration"

# the former name of the first tier
test-fast: test

test-all: install
	$(BIN)/python -m pytest -q

test-integration: install
	$(BIN)/python -m pytest -q -m integration

lint: install
	$(BIN)/ruff check pipeline dags expectations tests scripts
	$(BIN)/sqlfluff lint sql --processes 2

# The Airflow UI on the embedded home (var/airflow, where `make run` records its runs): api-server,
# scheduler and dag-processor on http://127.0.0.1:$(PORT), user admin with a password generated for
# the session and printed once. The per-source and publish DAGs start paused there. Ctrl-C stops it.
PORT ?= 8080
airflow: install
	$(BIN)/python -m pipeline.airflow_ui --port $(PORT)

# dbt's documentation site (lineage graph, models, columns, tests) for the published database, in
# var/dbt/target/static_index.html; works offline. Reads a copy, so the publication is untouched.
dbt-docs: install
	@test -f var/publish/current/sanctions.duckdb || (echo "run 'make run' first: the docs describe the published database" && exit 1)
	mkdir -p var/dbt && cp var/publish/current/sanctions.duckdb var/dbt/docs.duckdb
	PIPELINE_DBT_DB=$(CURDIR)/var/dbt/docs.duckdb DBT_SEND_ANONYMOUS_USAGE_STATS=false $(BIN)/dbt docs generate --static \
		--project-dir sql --profiles-dir sql --target-path $(CURDIR)/var/dbt/target --log-path $(CURDIR)/var/dbt/logs
	@echo "open var/dbt/target/static_index.html"

# Recompile the pinned lock file from requirements.in (needs the package index).
lock: install
	$(UV) pip compile --quiet requirements.in -o requirements.lock --python-version 3.11

demo-data: install
	$(BIN)/python scripts/build_demo_data.py

bench: install
	$(BIN)/python bench/parse_memory.py
	$(BIN)/python bench/extract_speed.py 1000
	$(BIN)/python bench/dbt_build.py
	$(BIN)/python bench/raw_check.py
	$(BIN)/python bench/gdelt_zip_memory.py --sizes 200
	$(BIN)/python bench/hostile_front_matter.py
	$(BIN)/python bench/publication_check.py
	$(BIN)/python bench/parse_speed.py --scale 0.4
	$(BIN)/python bench/make_corpus.py --verify
	$(BIN)/python bench/matching.py
	$(BIN)/python bench/run_vs_duckdb.py --sizes 1,10,100 --model-build --json var/bench/run_vs_duckdb.json

# docker-compose.yml checked without a Docker engine: its structure and the secrets check.
compose-check: install
	$(BIN)/python -m pytest -q tests/test_compose.py

clean:
	rm -rf var .pytest_cache
