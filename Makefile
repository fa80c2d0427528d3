# PolicyHub: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install run test lint format bench messages

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

# Timings at 10,000 employees (bench/org.py builds them): the busiest pages, reminder
# planning, the largest CSV exports; prints a table, writes bench/results.json. Runs in
# pytest-django's test database: SQLite, or on DATABASE_URL's PostgreSQL server a test_
# database (never the data itself). BENCH_PAGES=my_tasks,team runs only those pages.
bench: install
	$(BIN)/python -m pytest bench -s -q -p no:cacheprovider

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
