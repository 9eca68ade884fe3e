# Kavak WhatsApp sales assistant: this Makefile is the manual.
#
#   make shell              set everything up (first time) and chat in the terminal
#   make test               set everything up and run every test (SQLite, then PostgreSQL + Redis)
#   make run                serve Rasa on :5005 (Twilio; REST with REST_API_TOKEN), actions on 127.0.0.1:5055, reminders, staff inbox on :5056
#   make rasa-server        one more Rasa server on RASA_PORT, for a balancer (README: Scaling out)
#   make catalog CSV=path   sync the catalog to a CSV snapshot
#   make train              retrain the model (only when config/domain/data changed)
#   make validate           check domain and training data
#   make lint / make format ruff: check the code (part of make test) / rewrite its format
#   make eval               held-out NLU accuracy (tests/nlu/heldout.yml), on a catalog it was not trained on
#   make bench              run the benchmarks under bench/
#   make reminders          send the WhatsApp reminders of booked visits (make run does it too)
#   make report             MSAT, appointments and the sales funnel
#   make purge              forget conversations and visits older than DATA_RETENTION_DAYS (run daily)
#   make clean              remove environments, models and local data
#
# Every setting comes from the environment; the defaults below run on a fresh
# machine with nothing but Python 3.11 (SQLite, bundled embedding model, no keys).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
RASA_PORT ?= 5005

VENV_RASA := .venv/rasa
VENV_ACTIONS := .venv/actions
RASA := $(VENV_RASA)/bin/rasa
APY := $(VENV_ACTIONS)/bin/python
MODEL := models/kavak.tar.gz
SAMPLE_CATALOG := catalog/sample_catalog.csv
TRAINING_FILES := config.yml $(shell find domain data -name '*.yml' 2>/dev/null)

# Every setting and its default live in settings.py (the README's configuration table);
# `$(SETTINGS) command` runs a command with all of them in its environment, an empty
# ACTION_SERVER_TOKEN made up anew for the servers it starts.
SETTINGS := $(APY) -m settings
export ACTIONS_PORT
# Models come from installed packages only: never reach a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TF_CPP_MIN_LOG_LEVEL := 3
# TensorFlow threads of a serving Rasa process (training keeps TF's default): the
# NLU model is small, and under load more threads only cost CPU hand-offs.
TF_THREADS ?= 1
export PYTHONWARNINGS := ignore
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
# Rasa loads scikit-learn models through skops, which imports numpy.distutils; with
# setuptools' distutils that silences every INFO log of the server. Stdlib distutils does not.
export SETUPTOOLS_USE_DISTUTILS := stdlib

.PHONY: help setup install db train validate shell run rasa-server test browser test-py test-postgres test-stories eval catalog bench clean purge lint format \
	reminders report

help:
	@sed -n '1,17p' Makefile | sed 's/^# \{0,1\}//'

install: $(VENV_RASA)/.installed $(VENV_ACTIONS)/.installed

$(VENV_RASA)/.installed: requirements.txt
	rm -rf $(VENV_RASA)
	$(PYTHON) -m venv $(VENV_RASA)
	$(VENV_RASA)/bin/pip install -q --upgrade pip==24.2
	$(VENV_RASA)/bin/pip install -q --no-deps --ignore-requires-python -r requirements.txt
	touch $@

$(VENV_ACTIONS)/.installed: actions/requirements-actions.txt tests/requirements-tests.txt
	rm -rf $(VENV_ACTIONS)
	$(PYTHON) -m venv $(VENV_ACTIONS)
	$(VENV_ACTIONS)/bin/pip install -q --upgrade pip==24.2
	$(VENV_ACTIONS)/bin/pip install -q --no-deps -r actions/requirements-actions.txt -r tests/requirements-tests.txt
	touch $@

db: $(VENV_ACTIONS)/.installed
	@mkdir -p var
	$(APY) -m actions.db upgrade
	$(APY) -m actions.catalog.sync --if-empty $(SAMPLE_CATALOG)

$(MODEL): $(VENV_RASA)/.installed $(TRAINING_FILES)
	$(RASA) train --domain domain --fixed-model-name kavak --out models

train: $(MODEL)

validate: $(VENV_RASA)/.installed
	$(RASA) data validate --domain domain --fail-on-warnings

setup: install db train

# TensorFlow's threads for a serving Rasa process (TF_THREADS above).
tf_threads = env TF_INTER_OP_PARALLELISM_THREADS=$(TF_THREADS) TF_INTRA_OP_PARALLELISM_THREADS=$(TF_THREADS)
# Runs $(1) next to the action server; both stop together, on Ctrl-C or SIGTERM
# too (setpriv: the script hears of make's death and stops its children).
with_actions = exec $(tf_threads) setpriv --pdeathsig TERM $(SETTINGS) scripts/with-actions.sh $(1)
# The Rasa server of `make run` and `make rasa-server`: REST and Twilio on RASA_PORT.
rasa_run = $(RASA) run -m $(MODEL) --port $(RASA_PORT) --endpoints endpoints.yml --credentials credentials.yml
rasa_banner = echo "Rasa en :$(RASA_PORT): Twilio /webhooks/twilio/webhook; REST /webhooks/rest/webhook $(if $(REST_API_TOKEN),con Bearer REST_API_TOKEN,cerrado: sin REST_API_TOKEN)"

shell: setup
	@$(call with_actions,$(RASA) shell -m $(MODEL) --endpoints endpoints.yml)

run: setup
	@$(rasa_banner)
	@$(call with_actions,scripts/with-reminders-and-inbox.sh $(rasa_run))

# Only a Rasa server: the action server and the reminders of `make run` serve it too.
rasa-server: setup
	@$(rasa_banner)
	@exec $(tf_threads) $(SETTINGS) $(rasa_run)

reminders: db
	$(APY) -m actions.appointments.reminders

report: db
	@$(APY) -m actions.report

purge: db
	@$(APY) -m actions.purge

# Migrates first (no sample load: the snapshot replaces the catalog anyway).
catalog: $(VENV_ACTIONS)/.installed
	@test -n "$(CSV)" || { echo "Uso: make catalog CSV=ruta/al/catalogo.csv"; exit 2; }
	@mkdir -p var
	$(APY) -m actions.db upgrade
	$(APY) -m actions.catalog.sync "$(CSV)"

test: setup browser
	$(MAKE) --no-print-directory lint validate test-py test-postgres test-stories eval

# Debian's chromium and chromedriver, for the staff inbox's browser test (apt-get when missing).
browser:
	@scripts/browser.sh

# ruff (settings in pyproject.toml): lint and format check; `make format` rewrites.
lint: $(VENV_ACTIONS)/.installed
	$(VENV_ACTIONS)/bin/ruff check .
	$(VENV_ACTIONS)/bin/ruff format --check .

format: $(VENV_ACTIONS)/.installed
	$(VENV_ACTIONS)/bin/ruff format .
	$(VENV_ACTIONS)/bin/ruff check --fix .

test-py:
	$(APY) -m pytest -q tests

# The suite again with the session's database on PostgreSQL and the multi-process tests
# on Redis too: a throwaway server of each on loopback (scripts/services.sh installs
# them with apt-get when missing, and deletes their data at the end).
test-postgres:
	@scripts/services.sh start > var/services.env
	@set -a; . var/services.env; set +a; trap 'scripts/services.sh stop' EXIT; \
	  echo "pytest on $$TEST_POSTGRES_URL, Redis on $$TEST_REDIS_HOST:$$TEST_REDIS_PORT"; \
	  $(APY) -m pytest -q tests

test-stories:
	@rm -rf var/test-results
	@$(call with_actions,$(RASA) test core -m $(MODEL) --stories tests/stories \
	  --endpoints endpoints.yml --out var/test-results --fail-on-prediction-errors)

# The held-out NLU set against the real sample from ../shared (the bundled one when
# absent): the content router reads that catalog's names, as after `make catalog`.
NLU_SET ?= tests/nlu/heldout.yml
EVAL_DB := var/eval.db
EVAL_CATALOG := $(firstword $(wildcard ../shared/data/kavak_sample_catalog.csv) $(SAMPLE_CATALOG))
eval: setup
	@rm -f $(EVAL_DB)
	@DATABASE_URL=sqlite:///$(EVAL_DB) $(APY) -m actions.db upgrade > /dev/null
	@DATABASE_URL=sqlite:///$(EVAL_DB) $(APY) -m actions.catalog.sync $(EVAL_CATALOG) > /dev/null
	DATABASE_URL=sqlite:///$(EVAL_DB) $(VENV_RASA)/bin/python -m tests.nlu.evaluate --model $(MODEL) $(NLU_SET)

bench: setup
	$(APY) bench/turns.py
	$(APY) bench/turns.py --workers 2
	$(APY) bench/turns.py --servers 2
	$(APY) bench/financing.py
	$(APY) bench/whatsapp.py
	$(APY) bench/appointments.py
	$(APY) bench/knowledge.py
	$(APY) bench/search.py

clean:
	rm -rf .venv models var
