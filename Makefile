# ReviewShield — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RS := $(BIN)/reviewshield
PG_URL ?= postgres://postgres@127.0.0.1:5432/reviewshield
BENCH ?=
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-sqlite test-postgres bench lint install messages browser system

$(VENV)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# libmagic sniffs the type of every evidence upload (python-magic loads it); the timestamp tests
# run a local `openssl ts` authority. Installed once, as root, from Debian's packages.
system:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libmagic.so.1' || ! command -v openssl >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmagic1 openssl >/dev/null; \
	  else \
	    echo "Evidence uploads need libmagic and openssl: run 'sudo apt-get install libmagic1 openssl'"; exit 1; \
	  fi; \
	fi

# Browser tests drive Debian's Chromium (a browser download is impossible here); CJK fonts so
# Chinese pages render in screenshots. Installed once, as root, from Debian's packages.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else \
	    echo "Browser tests need Debian's chromium: run 'sudo apt-get install chromium fonts-noto-cjk'"; exit 1; \
	  fi; \
	fi

## make run — set up, migrate, load demo data once, start web + deadline worker in one process.
run: install
	$(RS) migrate --noinput
	$(RS) demo --once
	$(RS) serve --host $(HOST) --port $(PORT)

## make test — every test on SQLite, then again on PostgreSQL when a server can be had.
test: install browser
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	@echo "== tests on SQLite =="
	REVIEWSHIELD_DATA_DIR=$$(mktemp -d) $(BIN)/pytest -m "not postgres_only"

test-postgres: install
	@echo "== tests on PostgreSQL =="
	@if $(BIN)/python tools/pg_available.py "$(PG_URL)"; then \
	  REVIEWSHIELD_DATA_DIR=$$(mktemp -d) DATABASE_URL="$(PG_URL)" $(BIN)/pytest; \
	else \
	  echo "SKIPPED the PostgreSQL run: no PostgreSQL server answers at $(PG_URL) (set PG_URL to point at one)."; \
	fi

## make bench — every benchmark, or one: make bench BENCH=case_lifecycle_per_s
bench: install
	$(BIN)/python bench/run.py $(BENCH)

## make lint — ruff, mypy on the pure core, migrations in step with the models.
lint: install
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	REVIEWSHIELD_DATA_DIR=$$(mktemp -d) $(RS) makemigrations --check --dry-run

## make messages — refresh the zh-Hans/en message catalogues (needs GNU gettext).
messages: install
	cd src/reviewshield && export REVIEWSHIELD_DATA_DIR=$(CURDIR)/data && ../../$(RS) makemessages -l zh_Hans -l en --no-obsolete && ../../$(RS) compilemessages
