# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make run    set up .venv and run the pipeline DAG (embedded mode, offline, demo files)
#   make test   set up .venv and run the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test lint lock demo-data bench compose-check clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || (echo "Python 3.11 is required" && exit 1)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.8
	$(UV) pip install --quiet --python $(BIN)/python -r requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

run: install
	$(BIN)/pipeline run

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check pipeline dags expectations tests scripts

# Recompile the pinned lock file from requirements.in (needs the package index).
lock: install
	$(UV) pip compile --quiet requirements.in -o requirements.lock --python-version 3.11

demo-data: install
	$(BIN)/python scripts/build_demo_data.py

bench: install
	$(BIN)/python bench/parse_memory.py

clean:
	rm -rf var .pytest_cache
