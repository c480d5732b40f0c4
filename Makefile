# Everyday commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_DIR := tests/sdks/js
JS_STAMP := $(JS_DIR)/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test test-sqlite test-postgresql docs lint clean bench bench-quick sdks system-packages

# The virtual environment itself; each stamp below installs into it.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Everything: the app, the test suite's clients and tools, docs, lint.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,docs,lint]"
	touch $(STAMP)

# The demo needs the app and sentry-sdk (its billing worker reports with it),
# not the test, docs and lint tools: a first `make demo` stays quick.
DEMO_STAMP := $(VENV)/.installed-demo
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[demo]"
	touch $(DEMO_STAMP)

## demo: run the example project on http://$(HOST):$(PORT)/sentry/ (SQLite; the shop and a billing worker, each a project with its own key and errors; demo login, DSNs and a command that sends an event printed)
demo: $(DEMO_STAMP)
	cd example_project && ../$(BIN)/python manage.py migrate --noinput
	cd example_project && ../$(BIN)/python manage.py migrate --noinput --database queue
	@echo "Recording the demo's errors: the WARNING lines below are some of them, logged on purpose."
	cd example_project && ../$(BIN)/python manage.py demo_setup --url http://$(HOST):$(PORT)/sentry/
	cd example_project && ../$(BIN)/python manage.py runserver --insecure $(HOST):$(PORT)

## test: the whole suite on SQLite
test: test-sqlite

test-sqlite: $(STAMP) sdks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-postgresql: the whole suite on PostgreSQL (127.0.0.1:5432, database "test")
test-postgresql: $(STAMP) sdks
	SENTRY_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

## sdks: what the browser and real-SDK tests drive (Debian packages, npm lock file)
sdks: system-packages $(JS_STAMP)

# Chromium for the browser tests (openssl makes the TLS certificate the
# Reporting API test needs); Go and Ruby with Debian's Sentry SDKs
# (sentry-go is built in GOPATH mode, nothing is downloaded); wrk for the
# accept-path benchmark (tests/test_benchmark_ingest_floor.py).
DEBIAN_PACKAGES := chromium openssl golang-go golang-github-getsentry-sentry-go-dev ruby ruby-sentry-ruby wrk
system-packages:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null | grep -qx installed || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# @sentry/node, @sentry/browser, @sentry/cli and esbuild, exactly as locked.
$(JS_STAMP): $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

## docs: build the documentation, warnings as errors
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

## bench: every benchmark, full runs (about 35 minutes; see docs/throughput.rst)
bench: $(STAMP)
	$(BIN)/python benchmarks/capture.py
	$(BIN)/python -m benchmarks.storage
	$(BIN)/python -m benchmarks.storage --db postgresql
	$(BIN)/python -m benchmarks.digest
	$(BIN)/python -m benchmarks.ingest_http --digest worker --queue-db
	$(BIN)/python -m benchmarks.ingest_http --digest worker
	$(BIN)/python -m benchmarks.ingest_http --digest embedded --queue-db
	$(BIN)/python -m benchmarks.ingest_http --digest worker --queue-db --rate 200 --hold 30
	$(BIN)/python -m benchmarks.ingest_http --digest worker --rate 200 --hold 30
	$(BIN)/python -m benchmarks.ingest_http --db postgresql --digest worker --rate 200 --hold 30
	$(BIN)/python -m benchmarks.ingest_http --db postgresql --digest worker
	$(BIN)/python -m benchmarks.ingest_http --db postgresql --digest embedded

## bench-quick: every benchmark for a few seconds, so that none can rot (CI)
bench-quick: $(STAMP)
	$(BIN)/python benchmarks/capture.py --quick
	$(BIN)/python -m benchmarks.storage --quick
	$(BIN)/python -m benchmarks.storage --quick --db postgresql
	$(BIN)/python -m benchmarks.digest --quick
	$(BIN)/python -m benchmarks.ingest_http --quick
	$(BIN)/python -m benchmarks.ingest_http --quick --db postgresql --digest worker
	$(BIN)/python -m benchmarks.ingest_http --quick --queue-db --digest worker
	$(BIN)/python -m benchmarks.ingest_inprocess 200
	$(BIN)/python -m benchmarks.hostile --quick

lint: $(STAMP)
	$(BIN)/ruff check sentry tests example_project benchmarks
	$(BIN)/ruff format --check sentry tests example_project benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build
