# Two commands set everything up: `make run` (demo on SQLite) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .tools/uv/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint format services system-deps check-services bench clean

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .tools/uv uv==$(UV_VERSION)

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# htmx, pinned in package-lock.json, is fetched from the npm registry into our static folder.
VENDORED := wms/web/static/vendor/htmx.min.js
$(VENDORED): package.json package-lock.json scripts/vendor.sh
	scripts/vendor.sh

install: $(VENV)/.synced $(VENDORED)  ## Install the locked dependencies (.venv/, vendored scripts)

run: install  ## Create the SQLite demo database (once) and serve UI and API on 127.0.0.1:8000
	$(VENV)/bin/wms demo --host $(HOST) --port $(PORT)

services:  ## Start PostgreSQL and Redis if they are down
	scripts/services.sh

system-deps:  ## Debian packages the tests need (Chromium for the browser tests)
	scripts/system-deps.sh

lint: install  ## Format check, lint, types and import contracts
	$(VENV)/bin/ruff format --check wms integrations tests bench
	$(VENV)/bin/ruff check wms integrations tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: install services system-deps lint  ## Everything: lint, types, unit, integration (PostgreSQL), smoke (SQLite), e2e
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: install
	$(VENV)/bin/ruff format wms integrations tests bench
	$(VENV)/bin/ruff check --fix wms integrations tests bench

bench: install services  ## Benchmarks that print their figures (see bench/)
	$(VENV)/bin/python bench/ledger.py
	$(VENV)/bin/python bench/handheld.py
	$(VENV)/bin/python bench/storefront.py
	$(VENV)/bin/python bench/replenishment.py

clean:
	rm -rf $(VENV) .tools var .mypy_cache .ruff_cache .pytest_cache .hypothesis
