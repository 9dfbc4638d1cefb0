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
# The machine's pip config lists mirror folders that may be absent; their warnings are noise.
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: help install system-packages run test lint bench clean

help:
	@echo "make run    install everything, load the sample catalogue, serve the assistant"
	@echo "make test   install everything and run the whole test suite"
	@echo "make bench  print retrieval figures (needs ../shared/data)"

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
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	fi

install: $(VENV)/.installed $(RASA_VENV)/.installed system-packages

run: install
	$(BANSHI) import knowledge/sample/catalogue.jsonl --author sample
	$(BANSHI) serve --host 127.0.0.1 --port 8000

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: install lint
	$(VENV)/bin/pytest

bench: $(VENV)/.installed
	$(VENV)/bin/python bench/retrieval.py

clean:
	rm -rf $(VENV) $(RASA_VENV) var .pytest_cache
