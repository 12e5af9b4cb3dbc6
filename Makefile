# Entry points. Each target creates the virtualenv (.venv) on first use, so a fresh clone needs
# only python3 (3.11+) and make.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
STACK  ?= staging
FROM   ?= staging
TO     ?= prod
FORMAT ?= text
# More options of the command, e.g. `make doctor STACK=staging ARGS=--before-up`.
ARGS   ?=
# The live, read-only commands on one stack's org: the same shape (`--stack`, `--format`), the deployer
# client's credentials from GENESYSCLOUD_OAUTHCLIENT_ID/_SECRET in the environment, one recipe below.
# Another command of that shape is one more name here (and its `##` line).
LIVE   := doctor adopt verify

.PHONY: help venv test lint plan policy-config diff promote snapshot clean $(LIVE)

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
# In parallel (pytest-xdist), then the fork test alone: it reruns what every worker recorded (tests/conftest.py).
test: $(VENV)/.installed
	$(PY) -m ruff check .
	seen=$$(mktemp) && trap 'rm -f "$$seen"' EXIT \
		&& $(PY) -m pytest -q -n auto --ignore=tests/test_fork.py --record-committed="$$seen" \
		&& $(PY) -m pytest -q -n auto tests/test_fork.py --rerun-committed="$$seen"

## lint: ruff only
lint: $(VENV)/.installed
	$(PY) -m ruff check .

## plan: the offline plan of a stack (STACK=staging|prod, FORMAT=text|markdown|json); no org, no credentials
# Silent recipe: `make plan FORMAT=json > plan.json` must write only the plan.
plan: $(VENV)/.installed
	@$(PY) -m preflight plan --stack $(STACK) --format $(FORMAT)

## policy-config: write policy/config.$(STACK).json (the policy pack's region and environment) from the stack file
policy-config: $(VENV)/.installed
	@$(PY) -m preflight policy-config --stack $(STACK) --write

## diff: what differs between two stacks, resource by resource (FROM=staging TO=prod, stack names or files; FORMAT=text|markdown|json); offline
diff: $(VENV)/.installed
	@$(PY) -m preflight diff $(FROM) $(TO) --format $(FORMAT)

## promote: the promotion guard: fails unless TO differs from FROM only in its settings (FROM=staging TO=prod, FORMAT=text|json); offline
promote: $(VENV)/.installed
	@$(PY) -m preflight promote --from $(FROM) --to $(TO) --format $(FORMAT)

## doctor: the live, read-only diagnosis of STACK's org, naming the cause of a 401/403 (STACK=..., FORMAT=text|json, ARGS=--before-up before an up)
## adopt: finds what STACK declares that already exists in its org; writes adopt.json for pulumi import (docs/adopt.md)
## verify: one signed-in test conversation on STACK's org, end to end, naming the failing link (docs/verify.md)
# Silent recipe: `make doctor FORMAT=json > doctor.json` must write only the report.
$(LIVE): $(VENV)/.installed
	@$(PY) -m preflight $@ --stack $(STACK) --format $(FORMAT) $(ARGS)

## snapshot: regenerate tests/snapshots/ (the declared estate of the example stacks) after an intended change
snapshot: $(VENV)/.installed
	@$(PY) scripts/snapshot_estate.py

## policy-data: regenerate the facts policy/policy_data.json shares with the program (regions, token range, type tokens)
.PHONY: policy-data
policy-data: $(VENV)/.installed
	@$(PY) scripts/generate_policy_data.py

## help: this list
help:
	@sed -n 's/^## //p' $(firstword $(MAKEFILE_LIST))

## clean: remove the virtualenv and the tools' caches
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
