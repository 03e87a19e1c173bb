# Saola — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# the demo city's simulator beside the server (`make run SAOLA_SIMULATOR=off`: a quiet city)
SAOLA_SIMULATOR ?= on

.PHONY: run test lint install install-test chromium docs openapi clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: venv, install, migrate SQLite under var/, load the demo city, serve on http://127.0.0.1:8000
## with the demo city's simulator running inside the server (stops with it on Ctrl-C)
run: install
	$(BIN)/saola migrate
	$(BIN)/saola demo
	@echo ""
	@echo "  Saola:  http://$(HOST):$(PORT)/  (staff console: http://$(HOST):$(PORT)/console)"
	@echo ""
	SAOLA_SIMULATOR=$(SAOLA_SIMULATOR) exec $(BIN)/saola serve --host $(HOST) --port $(PORT)

## make test: venv with test extras, Chromium when missing, ruff, the whole pytest suite (two workers, each
## taking half the tests in order and stealing from the other when idle: modules mostly stay on one worker)
test: install-test chromium lint
	$(BIN)/pytest -n 2 --dist worksteal

lint: install-test
	$(BIN)/ruff check src tests bench

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's Chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

docs: install
	$(BIN)/python scripts/update_readme_settings.py
	$(BIN)/python -m saola.core.openapi > docs/openapi.json

openapi: install
	$(BIN)/python -m saola.core.openapi > docs/openapi.json

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
