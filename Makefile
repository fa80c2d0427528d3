# PolicyHub: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint format bench loadtest messages

$(INSTALLED): requirements.txt constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "PolicyHub needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	touch $(INSTALLED)

install: $(INSTALLED)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py plan_reminders
	# The demo accounts log in with the published password alone, as documented; a real
	# deployment requires the second factor of site admins and HR/Legal by default.
	DEBUG=$${DEBUG:-true} TWO_FACTOR_REQUIRED_ROLES=$${TWO_FACTOR_REQUIRED_ROLES:-none} \
		$(BIN)/python scripts/run.py

# The OpenID Connect provider the single sign-on tests start (panva/oidc-provider on Node);
# without npm those tests skip, as browser tests do without Chromium (CI fails on a skip).
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json

$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error; \
	else \
		echo "npm not found: the single sign-on tests will be skipped"; \
	fi

test: install $(OIDC_PROVIDER)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Timings at SIZE employees (default 10,000; bench/org/ builds them in bulk): the busiest
# pages beside the framework floor (a trivial logged-in page) and, for the slowest three, the
# database floor; reminder planning, the largest CSV exports, the directory import of a
# SIZE-row file; prints a table against issue 14's targets, writes bench/results.json. Runs
# in pytest-django's test database: SQLite, or on DATABASE_URL's PostgreSQL server a test_
# database (never the data itself). `make bench SIZE=100000`; bench/README.md has the rest.
SIZE ?= 10000
bench: install
	SIZE=$(SIZE) $(BIN)/python -m pytest bench -s -q -p no:cacheprovider

# A bounded load run on loopback: gunicorn with 4 workers, LOADTEST_USERS simulated
# employees for LOADTEST_SECONDS, in a database of its own (policyhub_loadtest on
# DATABASE_URL's PostgreSQL server, dropped and made again; else SQLite under
# var/loadtest/). Fails on any error, or an acknowledgement lost or doubled.
LOADTEST_USERS ?= 50
LOADTEST_SECONDS ?= 60
loadtest: install
	$(BIN)/python scripts/loadtest.py --users $(LOADTEST_USERS) --seconds $(LOADTEST_SECONDS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Translations (locale/): after changing the interface's words, re-extract the catalogs
# (needs GNU gettext), translate what `check` lists, then compile django.mo.
messages: install
	$(BIN)/python scripts/i18n.py extract
	$(BIN)/python scripts/i18n.py check
