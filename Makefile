# Entry points. Each target creates the virtualenv (.venv) on first use, so a fresh clone needs
# only python3 (3.11+) and make.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STACK  ?= staging
FORMAT ?= text

.PHONY: venv test lint plan clean

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## venv: the virtualenv the program, the policy pack (policy/PulumiPolicy.yaml) and bootstrap/ run on
venv: $(VENV)/.installed

## test: lint and run every test (what CI runs)
test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m pytest -q

## lint: ruff only
lint: $(VENV)/.installed
	$(PY) -m ruff check .

## plan: the offline plan of a stack (STACK=staging|prod, FORMAT=text|markdown|json); no org, no credentials
plan: $(VENV)/.installed
	$(PY) -m preflight plan --stack $(STACK) --format $(FORMAT)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
