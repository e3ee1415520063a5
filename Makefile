# Two commands: `make run` (set up and start on SQLite) and `make test` (the whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export PIP_DISABLE_PIP_VERSION_CHECK=1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-sqlite test-postgres lint install assets browser bench bench-pages messages clean

$(STAMP): pyproject.toml constraints.txt
	$(PY) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The pages' third-party assets, pinned in src/yunying/core/vendor/package-lock.json and checked by
# sha512; fetched from the npm registry without Node, skipped when already in place (core/assets.py).
assets: $(STAMP)
	$(BIN)/yunying assets

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; never a downloaded
# build), and a CJK font so the screenshots show Chinese, not boxes.
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
		echo "installing Debian's chromium and fonts-noto-cjk for the browser tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

run: $(STAMP) assets
	$(BIN)/yunying migrate --no-input -v0
	$(BIN)/yunying collectstatic --no-input -v0
	$(BIN)/yunying demo
	$(BIN)/yunying serve --workers 2

# The whole suite on SQLite, then on PostgreSQL when a server answers (CI always has one).
test: $(STAMP) assets browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -q

test-postgres: $(STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest -n 2 --dist loadgroup -q; \
	elif [ -n "$$CI" ]; then \
		echo "CI: PostgreSQL at $(PG_URL) is not reachable; refusing to skip its suite" >&2; exit 1; \
	else \
		echo; echo "!!! SKIPPED the PostgreSQL suite: no server at $(PG_URL) (CI runs it) !!!"; echo; \
	fi

# Sign-up burst benchmark: SQLite, PostgreSQL, PostgreSQL + Redis side by side; RFM over 1M members and
# 10M orders (bench/rfm_bench.py); then page latency of the console and member pages on the demo data;
# bulk import of 1,000,000 order rows; points postings per second and the expiry of 1,000,000 lots;
# a 50-line cart quoted against 30 promotions beside django-oscar 4.x (which bench/quote.py installs
# in its own venv, var/bench/oscar-venv, on first use); what the audit chain's lock costs writers, 1-8
# threads on SQLite and PostgreSQL (bench/chain_bench.py) (docs/benchmarks.md).
bench: $(STAMP) assets
	PYTHONPATH=. $(BIN)/python -m bench.signup_burst
	PYTHONPATH=. $(BIN)/python -m bench.rfm_bench
	PYTHONPATH=. $(BIN)/python -m bench.pages
	PYTHONPATH=. $(BIN)/python -m bench.import_bench
	PYTHONPATH=. $(BIN)/python -m bench.risk_bench
	PYTHONPATH=. $(BIN)/python -m bench.chain_bench
	PYTHONPATH=. $(BIN)/python -m bench.points_bench
	PYTHONPATH=. $(BIN)/python -m bench.quote

bench-pages: $(STAMP) assets
	PYTHONPATH=. $(BIN)/python -m bench.pages

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports --no-cache

messages: $(STAMP)
	cd src/yunying && ../../$(BIN)/django-admin makemessages -l zh_Hans --settings=yunying.settings && ../../$(BIN)/django-admin compilemessages --settings=yunying.settings

clean:
	rm -rf $(VENV) var
