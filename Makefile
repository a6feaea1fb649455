# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
MANAGE := $(PY) site/manage.py
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Links in mails point at the address `make run` serves, unless set.
VIVADESK_BASE_URL ?= http://$(HOST):$(PORT)
VAR    := $(or $(VIVADESK_VAR_DIR),var)

.PHONY: run serve reset-demo test setup lint messages bench clean load

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=…)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

## setup: install, migrate, load the demo data and the task schedules
setup: $(VENV)/.installed
	@mkdir -p $(VAR)
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) vivadesk_demo
	$(MANAGE) vivadesk_schedules

## run: the site and the background worker together; Ctrl-C stops both
## (e.g. `make run PORT=8080`; with HOST=0.0.0.0 also set VIVADESK_BASE_URL
## to the address other machines use)
run: setup
	@$(MAKE) --no-print-directory serve

## serve: what `make run` starts, without the setup step
serve:
	@echo ""
	@echo "  Site (German):   $(VIVADESK_BASE_URL)/de/"
	@echo "  Site (English):  $(VIVADESK_BASE_URL)/en/"
	@echo "  Wagtail admin:   $(VIVADESK_BASE_URL)/admin/"
	@echo "  Outgoing mail:   $(VAR)/sent-mail/"
	@echo "  Demo mail:       $(VIVADESK_BASE_URL)/de/demo-mail/  (read sent mail, reply as the customer)"
	@echo ""
	@VIVADESK_BASE_URL=$(VIVADESK_BASE_URL) exec $(PY) site/run.py $(HOST):$(PORT)

## reset-demo: throw away the demo's database, files and mail, and set it up anew
reset-demo:
	rm -rf $(VAR)
	@$(MAKE) --no-print-directory setup

## test: the whole suite (SQLite; set DATABASE_URL for PostgreSQL)
test: $(VENV)/.installed
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: benchmark figures (form POST, portal, staff admin, inbound mail) on the
## dev database; the commands live in site/vivadesk_bench/, not in the wheel
bench: setup
	$(MANAGE) vivadesk_bench

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## messages: refresh the German catalogues after changing strings
messages: $(VENV)/.installed
	$(VENV)/bin/django-admin makemessages -l de --no-location --no-obsolete \
	  --settings=vivadesk_site.settings.dev --pythonpath=site \
	  --ignore='.venv/*' --ignore='site/*' --ignore='tests/*' --ignore='var/*'
	cd site && ../$(VENV)/bin/django-admin makemessages -l de --no-location \
	  --no-obsolete --settings=vivadesk_site.settings.dev --pythonpath=.
	$(VENV)/bin/django-admin compilemessages --settings=vivadesk_site.settings.dev \
	  --pythonpath=site --ignore='.venv/*'

clean:
	rm -rf $(VENV) var dist build

## load: load test (gunicorn + locust on a throw-away PostgreSQL database at
## 127.0.0.1:5432); e.g. LOAD_ARGS="--duration 60 --users 40"
load: $(VENV)/.installed
	$(MANAGE) vivadesk_load $(LOAD_ARGS)
