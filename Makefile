# The one Makefile: CI (.ci/run) calls these targets; the README names `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)

.PHONY: demo test lint typecheck bench vendor browser-deps pdf-deps migration messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

## Build the Nantong demo world in ./lianfang.db and serve it at http://127.0.0.1:8000
demo: $(STAMP) pdf-deps
	$(BIN)/lianfang demo

## Run the whole test suite (SQLite; PostgreSQL too when LIANFANG_TEST_DATABASE_URL is set;
## browser tests in Debian's Chromium, installed here when missing)
test: $(STAMP) browser-deps pdf-deps
	$(BIN)/python -m pytest

browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "browser tests need: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; fi; \
	fi

## The briefing's PDF (WeasyPrint) lays text out with Debian's Pango and embeds Noto CJK
pdf-deps:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk >/dev/null; \
	  else echo "the briefing's PDF needs: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk" >&2; exit 1; fi; \
	fi

## ruff, and the layering contracts of pyproject.toml ([tool.importlinter])
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts docs
	$(BIN)/ruff format --check src tests benchmarks scripts docs
	PYTHONPATH=src $(BIN)/lint-imports --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

## Run every benchmark, store its results in benchmarks/results/ and write BENCHMARKS.md
## (one: python -m benchmarks --only NAME; re-render only: --report)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks

## Fetch the vendored JavaScript again from the npm registry (versions in web/static/vendor/VENDOR.md)
vendor:
	bash scripts/vendor-js.sh

## New Alembic revision from the model changes: make migration m="what changed"
migration: $(STAMP)
	$(BIN)/python scripts/new_migration.py "$(m)"

## Extract interface text from code and templates into the catalogues, keep every translation,
## compile the .mo files (src/lianfang/locale/; see docs/development.md, "Adding a string")
messages: $(STAMP)
	$(BIN)/python scripts/messages.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
