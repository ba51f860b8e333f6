# Two commands set everything up: `make run` (try the site) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
# VENV=/path/to/.venv reuses a virtualenv made by another checkout (config/tests/test_setup.py does).
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# Debian packages, installed by scripts/system_packages.sh when missing (apt as root, through sudo otherwise).
# The site: WeasyPrint's Pango and HarfBuzz libraries and the Korean fonts for PDFs; Python and its venv module
# when PYTHON is Debian's and lacks them; Node.js and npm (the browser packages of package.json) when npm is missing.
SITE_PACKAGES := fonts-nanum libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 tesseract-ocr tesseract-ocr-kor \
	$(shell command -v $(PYTHON) >/dev/null || echo python3; $(PYTHON) -c 'import ensurepip' 2>/dev/null || echo python3-venv) \
	$(shell command -v npm >/dev/null || echo nodejs npm)
# The tests also: Chromium for the browser tests and Debian's docker-compose for the compose check without an engine.
TEST_PACKAGES := $(SITE_PACKAGES) chromium docker-compose

.PHONY: run test bench screenshots lighthouse install messages makemessages lint format check-services compose-config \
	system-packages-site system-packages-test

system-packages-site:
	@scripts/system_packages.sh $(SITE_PACKAGES)

system-packages-test:
	@scripts/system_packages.sh $(TEST_PACKAGES)

# Development installs everything: requirements-dev.txt is the runtime requirements.txt (all the production image
# gets) plus the test and development tools.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# The browser packages the site serves as static files (package-lock.json pins them): again only when the lock changed.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

install: $(VENV)/.installed node_modules/.installed

messages: install
	$(PY) manage.py compile_translations

## make run: migrate, load reference and demo data, print the staff login, serve http://127.0.0.1:8000
## (HOST and PORT change the address; links in the printed login and in e-mails follow them unless SITE_URL is set)
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: system-packages-site messages  # prerequisites are made in this order: the packages first
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "REDIS_URL is set: starting a Celery worker and beat beside the web server."; \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO -Q celery,estimates,exports,email,evidence_reading,documents --max-tasks-per-child=50 & \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & \
	  trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

check-services: install
	@$(PY) scripts/check_services.py

## make compose-config: validate docker-compose.yml (with .env.example) without a Docker engine: `docker compose`
## (v2) when the plugin is there, Debian's docker-compose otherwise; a broken file fails.
COMPOSE_FILE_CHECKED ?= docker-compose.yml
compose-config:
	@if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi; \
	ENV_FILE=.env.example "$${compose[@]}" -f $(COMPOSE_FILE_CHECKED) config -q

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

makemessages: install
	$(PY) manage.py makemessages -l ko -l en --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=var

## make test: the Debian packages it needs, lint, compose check, then every test against PostgreSQL and Redis
## (override DATABASE_URL / REDIS_URL)
test: system-packages-test messages check-services lint compose-config
	$(PY) manage.py check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## make screenshots: each claimant step on a 360 px phone (Debian's Chromium, the demo firm) into docs/screenshots/,
## shown in docs/claimants.md; against the test database like `make test` (override DATABASE_URL / REDIS_URL)
screenshots: system-packages-test messages check-services
	$(VENV)/bin/pytest e2e/screenshots.py -q

## make bench: the scale benchmarks in their own database (BENCH_DATABASE_URL, default kakao_claims_bench, dropped
## and re-created) and Redis (BENCH_REDIS_URL); prints a table and writes bench/results.json. See bench/README.md.
## Quick run: make bench BENCH_ARGS="--count 20000 --only intake"
bench: messages
	$(PY) -m bench.run $(BENCH_ARGS)

## make lighthouse: Lighthouse (npm, mobile preset) in Debian's Chromium over the claimant pages served by gunicorn with
## the production settings, in its own database (LIGHTHOUSE_DATABASE_URL, default kakao_claims_lighthouse_bench, dropped
## and re-created) and Redis (LIGHTHOUSE_REDIS_URL, default db 14); prints a table and the JSON of the scores per page
## (also var/lighthouse/results.json) and fails when a page misses 100 accessibility, best practices and SEO or 95
## performance. Some pages only: make lighthouse LIGHTHOUSE_ARGS="--only / /claims/check/"
lighthouse: messages
	$(PY) -m bench.lighthouse $(LIGHTHOUSE_ARGS)
