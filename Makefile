# Two commands set everything up: `make run` (try the site) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench install messages makemessages lint format check-services compose-config

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

messages: install
	$(PY) manage.py compile_translations

## make run: migrate, load reference and demo data, print the staff login, serve http://127.0.0.1:8000
## (HOST and PORT change the address; links in the printed login and in e-mails follow them unless SITE_URL is set)
run: export SITE_URL ?= http://$(HOST):$(PORT)
run: messages
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "REDIS_URL is set: starting a Celery worker and beat beside the web server."; \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO -Q celery,estimates,exports,email & \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & \
	  trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

check-services: install
	@$(PY) scripts/check_services.py

compose-config:
	@if command -v docker-compose >/dev/null; then ENV_FILE=.env.example docker-compose -f docker-compose.yml config -q; \
	else ENV_FILE=.env.example docker compose -f docker-compose.yml config -q; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

makemessages: install
	$(PY) manage.py makemessages -l ko -l en --no-obsolete --ignore=.venv --ignore=staticfiles --ignore=var

## make test: lint, compose check, then every test against PostgreSQL and Redis (override DATABASE_URL / REDIS_URL)
test: messages check-services lint compose-config
	$(PY) manage.py check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## make bench: the scale benchmarks in their own database (BENCH_DATABASE_URL, default kakao_claims_bench, dropped
## and re-created) and Redis (BENCH_REDIS_URL); prints a table and writes bench/results.json. See bench/README.md.
## Quick run: make bench BENCH_ARGS="--count 20000 --only intake"
bench: messages
	$(PY) -m bench.run $(BENCH_ARGS)
