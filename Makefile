# Two entry points for a fresh machine: `make run` and `make test`. Everything else is their parts.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

PY311 ?= python3
# A pyenv shim answers `command -v python3.10` even when it cannot run it: take the first that runs.
PY310 ?= $(shell for p in python3.10 "$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.10.13/bin/python3.10"; do \
	"$$p" -V >/dev/null 2>&1 && { command -v "$$p"; break; }; done)
VENV := .venv
RASA_VENV := .venv-rasa
BANSHI := $(VENV)/bin/banshi
RASA := $(RASA_VENV)/bin/rasa
# The Rasa project's parts; every rasa command gets the same paths.
RASA_PATHS := --config config.yml --domain dialogue/domain.yml
RASA_DATA := nlu dialogue/data
MODEL := models/banshi.tar.gz
GENERATED := nlu/generated/gazetteer.json nlu/generated/jieba/userdict.txt nlu/generated/catalogue_examples.yml \
	nlu/generated/hotline_examples.yml
MODEL_INPUTS := config.yml dialogue/domain.yml $(wildcard nlu/data/*.yml dialogue/data/*.yml) nlu/spacy_gazetteer.py \
	$(GENERATED)
# The machine's pip config lists mirror folders that may be absent; their warnings are noise.
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
# Two jobs: the two virtualenvs install side by side, and the catalogue's NLU export runs while Rasa's
# installs (about two of a clean machine's minutes). The prerequisites below carry the order; each
# target's output is printed whole when it ends.
MAKEFLAGS += --jobs=2 --output-sync=target
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: help install system-packages catalogue nlu-export train validate rasa-test run test test-without-model lint bench bench-chat clean FORCE

help:
	@echo "make run    install everything, load the sample catalogue, serve the assistant"
	@echo "make test   install everything and run the whole test suite"
	@echo "make bench  print retrieval figures (needs ../shared/data); make bench-chat: dialogue, chat and live-handoff latency"

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PY311) -m venv $(VENV)
	$(VENV)/bin/pip install -q torch==2.13.0 $(PIP_QUIET)
	$(VENV)/bin/pip install -q -e '.[dev]' $(PIP_QUIET)
	touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt
	test -x $(RASA_VENV)/bin/python || $(PY310) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --upgrade pip $(PIP_QUIET)
	$(RASA_VENV)/bin/pip install -q -r requirements-rasa.txt $(PIP_QUIET)
	$(RASA_VENV)/bin/python -c "import rasa, spacy, jieba" 2>/dev/null
	touch $@

# Servers the tests start on loopback come from Debian's packages.
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v haproxy >/dev/null || missing="$$missing haproxy"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
		echo "installing from Debian:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# axe-core (npm) is injected by the browser tests to check accessibility; the lock file pins it.
node_modules/.installed: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed $(RASA_VENV)/.installed system-packages node_modules/.installed

# The sample catalogue is the embedded default; re-importing it changes nothing that is already there.
catalogue: $(VENV)/.installed
	$(BANSHI) import knowledge/sample/catalogue.jsonl --author sample

# Gazetteers, jieba words and template examples come from the published catalogue. The export only
# rewrites a file whose content changed, so the model retrains only when its inputs really changed.
nlu/generated/gazetteer.json nlu/generated/jieba/userdict.txt nlu/generated/catalogue_examples.yml &: FORCE | catalogue
	$(BANSHI) nlu export --out nlu/generated

# Real citizens' messages from ../shared/data/hotline as examples of the intake intents (a bounded sample;
# the messages `banshi eval dialogue` plays are held out). Without the data it writes an empty, valid file.
nlu/generated/hotline_examples.yml: nlu/hotline_examples.py $(wildcard bench/data/dialogue_*.jsonl) | $(VENV)/.installed
	$(BANSHI) nlu hotline --out $@

$(MODEL): $(MODEL_INPUTS) | $(RASA_VENV)/.installed
	$(RASA) train $(RASA_PATHS) --data $(RASA_DATA) --out models --fixed-model-name banshi
	touch $@

train: $(MODEL)

validate: $(MODEL_INPUTS) | $(RASA_VENV)/.installed
	$(RASA) data validate $(RASA_PATHS) --data $(RASA_DATA) --fail-on-warnings

# Rasa's own check of the dialogue: the test stories must run as written with the trained model. It runs
# through the server's entry point (the same CLI as rasa), so the model is loaded as the server loads it.
RASA_SERVER := $(RASA_VENV)/bin/python -m dialogue.rasa_server
rasa-test: $(MODEL)
	$(RASA_SERVER) test core --model $(MODEL) --stories dialogue/tests --out var/rasa-results --fail-on-prediction-errors

run: install train
	$(BANSHI) user ensure-admin
	@echo "市民对话页 http://127.0.0.1:8000/   坐席工作台 http://127.0.0.1:8000/console   编辑工作台 http://127.0.0.1:8000/studio（演示账号 admin）   接口文档 http://127.0.0.1:8000/docs"
	$(BANSHI) up --host 127.0.0.1 --port 8000

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The tests that need no trained model run while Rasa trains (training keeps about one of the two cores
# busy); those marked `model` (tests/conftest.py) run once it is trained.
test-without-model: install lint $(GENERATED)
	BANSHI_TESTS_WITHOUT_MODEL=1 $(VENV)/bin/pytest -m "not model"

test: install lint rasa-test test-without-model validate
	$(VENV)/bin/pytest -m model

bench: $(VENV)/.installed
	$(VENV)/bin/python bench/retrieval.py

bench-chat: $(MODEL) | $(VENV)/.installed
	$(VENV)/bin/python bench/dialogue.py --no-train
	$(VENV)/bin/python bench/chat_load.py
	$(VENV)/bin/python bench/console_live.py

clean:
	rm -rf $(VENV) $(RASA_VENV) var models nlu/generated .rasa .pytest_cache node_modules
