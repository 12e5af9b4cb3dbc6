# Entry points. Each target creates the virtualenv (.venv) on first use, so a fresh clone needs
# only python3 (3.11+) and make.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STACK  ?= staging
FORMAT ?= text

.PHONY: venv test lint plan snapshot clean

# The version is checked before anything is built, and a failed install leaves no .venv behind for a
# later run (perhaps with another Python) to reuse half-built.
$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt constraints.txt
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else f"needs Python >= 3.11, found {v[0]}.{v[1]}: run make with PYTHON=python3.11 (or newer)")'
	@rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV) && $(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
		|| { rm -rf $(VENV); echo "make: installing the requirements into $(VENV) failed; nothing was left behind" >&2; exit 1; }
	@touch $@

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
# Silent recipe: `make plan FORMAT=json > plan.json` must write only the plan.
plan: $(VENV)/.installed
	@$(PY) -m preflight plan --stack $(STACK) --format $(FORMAT)

## snapshot: regenerate tests/snapshots/ (the declared estate of the example stacks) after an intended change
snapshot: $(VENV)/.installed
	@$(PY) scripts/snapshot_estate.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
