# The one way to set up, synthesize, test and lint this app. CI (.ci/run) and the pipeline's synth
# step call these same targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
TOOLS_VENV := .venv-tools
# checkov's own venv (its group in uv.lock): `make scan` runs it, and so do the decision gate and
# the tests of the gate's reading of checkov (tests/test_decisions.py, in `make unit`).
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
TOOLS_STAMP := $(TOOLS_VENV)/.installed
UV := $(TOOLS_VENV)/bin/uv
# Resolved past any venv (PATH below puts .venv/bin first): uv's venvs have no pip to bootstrap uv.
BASE_PYTHON := $(shell $(PYTHON) -c 'import sys; print(sys._base_executable)')
# Never a Python that uv downloads: the one named by PYTHON, as the pipeline's image has it.
UV_SYNC := $(UV) sync --locked --quiet --python $(BASE_PYTHON) --no-python-downloads

# The pinned Node.js 22 and CDK CLI from node_modules come first, so jsii never falls back to an
# end-of-life system Node. No network at synth time: no notices, telemetry or version check.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export CDK_DISABLE_CLI_TELEMETRY := true
export CDK_DISABLE_VERSION_CHECK := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

CDK := cdk --no-notices
TEMPLATES := find cdk.out -name '*.template.json'

.PHONY: help setup synth test lint typecheck unit cfn-lint diff deploy destroy deploy-pipeline pipeline-synth clean local

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
	  '{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > width) width = length($$1) } \
	  END { for (i = 1; i <= NR; i++) printf "  %-*s  %s\n", width, name[i], text[i] }'

# uv, pinned with hashes, in a venv of its own: it needs only python3 and pip (CodeBuild's image
# and a fresh clone alike), never touches the user's site-packages or a uv installed elsewhere, and
# has its own stamp. --without-pip plus the outer pip skips ensurepip, seconds on a fresh clone.
$(TOOLS_STAMP): requirements-uv.txt
	@echo "==> uv (requirements-uv.txt) into $(TOOLS_VENV)"
	rm -rf $(TOOLS_VENV)
	$(BASE_PYTHON) -m venv --without-pip $(TOOLS_VENV)
	$(BASE_PYTHON) -m pip --python $(TOOLS_VENV)/bin/python install --quiet --only-binary=:all: \
	  --require-hashes -r requirements-uv.txt
	touch $@

# uv.lock is the only source of versions: --locked refuses a lock that no longer matches
# pyproject.toml. A lock change makes each venv anew (about 1 s from uv's cache), so a ready
# machine gets what a fresh clone gets, whatever a tool wrote into the old one. Only PyPI, as pip:
# the local folders some machines add to pip (extra-index-url, find-links) hold byte-identical
# copies of PyPI files, and naming them here would write file:// addresses into uv.lock.
$(VENV_STAMP): uv.lock $(TOOLS_STAMP)
	@echo "==> Python packages (uv.lock: runtime + dev) into $(VENV)"
	rm -rf $(VENV)
	$(UV_SYNC)
	touch $@

$(NODE_STAMP): package.json package-lock.json
	@echo "==> CDK CLI and Node.js 22 (package-lock.json) into node_modules"
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Bytecode for what the app imports, at cdk.json's optimization level (`-O`: .opt-1.pyc), and for
# what the tests import (.pyc), written by importing it once (tools/bytecode.py). Where
# PYTHONDONTWRITEBYTECODE=1 nothing else writes it (nor does uv), and every synth would compile
# aws-cdk-lib's generated sources again. The stamp lives inside .venv, which a lock change
# recreates: once per lock change, and again when the app's own code changes (a new construct may
# import an aws-cdk-lib module nothing compiled yet; what is compiled already costs an import).
# It needs node_modules (importing aws_cdk starts jsii's Node.js).
BYTECODE_STAMP := $(VENV)/.bytecode
APP_SOURCES := app.py $(wildcard stacks/*.py constructs_lib/*.py constructs_lib/*/*.py)

$(BYTECODE_STAMP): $(VENV_STAMP) $(NODE_STAMP) tools/bytecode.py $(APP_SOURCES)
	@echo "==> bytecode of what the app and the tests import (tools/bytecode.py)"
	$(PY) -m tools.bytecode
	touch $@

setup: $(VENV_STAMP) $(NODE_STAMP) $(BYTECODE_STAMP) lock-check ## Create .venv and node_modules from the lock files

# requirements.txt is the runtime set exported from uv.lock, for readers and plain pip; editing
# pyproject.toml or requirements.txt by hand without `make lock` fails every target here.
REQUIREMENTS_HEADER := \# The runtime set, generated from uv.lock by `make lock`: edit pyproject.toml.
EXPORT_RUNTIME := $(UV) export --frozen --quiet --no-header --no-dev --no-emit-project

.PHONY: lock lock-check
lock: $(TOOLS_STAMP) ## uv.lock, requirements.txt from pyproject.toml (UPGRADE=pkg, UV_VERSION=x.y.z)
	$(UV) lock --python $(BASE_PYTHON) --no-python-downloads \
	  $(if $(UPGRADE),--upgrade-package $(UPGRADE))
	{ echo '$(REQUIREMENTS_HEADER)'; $(EXPORT_RUNTIME); } > requirements.txt
	$(if $(UV_VERSION),{ sed '/^uv==/Q' requirements-uv.txt; echo uv==$(UV_VERSION) \
	  | $(UV) pip compile --quiet --universal --generate-hashes --no-header -; } \
	  > requirements-uv.new && mv requirements-uv.new requirements-uv.txt)

lock-check: $(TOOLS_STAMP) ## Fail when uv.lock or requirements.txt lag behind pyproject.toml
	@$(UV) lock --check --quiet --python $(BASE_PYTHON) --no-python-downloads \
	  || { echo "uv.lock does not match pyproject.toml: run make lock"; exit 1; }
	@{ echo '$(REQUIREMENTS_HEADER)'; $(EXPORT_RUNTIME); } | diff -u requirements.txt - \
	  || { echo "requirements.txt is not uv.lock's runtime set: run make lock"; exit 1; }

# The CLI's "Supply a stack id (...) to display its template" after a `--quiet` synth of many stacks
# is dropped: it names every stack on every synth and asks for nothing; the CLI's status still
# decides (pipefail).
# `'**'` selects the stacks inside the stages too: the CLI fails on validation errors (cdk-nag)
# only in the stacks it selects, and a bare `cdk synth` selects none of them.
# `ENV=` is checked before any CDK process starts (tools/environments.py): a space, an unknown name or
# production for destroy is a clear error that lists the configured environments.
CHECK_ENV = $(PY) -m tools.environments

synth: setup ## Synthesize every configured environment into cdk.out/ (ENV=dev,prod narrows it)
	@$(CHECK_ENV) synth '$(ENV)'
	rm -rf cdk.out
	$(CDK) synth --quiet --no-lookups $(if $(ENV),-c env=$(ENV)) '**' 2>&1 \
	  | { grep -v '^Supply a stack id' || true; }
	@echo "==> $$($(TEMPLATES) | wc -l) templates in cdk.out/"

# The one synth that may call AWS: the CLI looks up what cdk.context.json lacks for ENV (the S3
# prefix list of an AWS-only egress environment), with credentials for its account (bootstrapped:
# the CLI assumes its lookup role), and writes the answers there. Commit the file; every other
# target then synthesizes without the network.
.PHONY: context
context: setup ## Look up what cdk.context.json lacks for one environment (AWS credentials): make context ENV=dev
	@test -n "$(ENV)" || { echo "make context needs ENV=<environment>"; exit 2; }
	$(CDK) synth --quiet -c env=$(ENV) -c lookups=true '**' > /dev/null
	git diff --stat -- cdk.context.json

lint: setup ## ruff lint and format check; import contracts (pyproject.toml [tool.importlinter])
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: setup ## mypy over app, stacks, constructs_lib, tools and tests
	$(PY) -m mypy

cfn-lint: synth ## cfn-lint every synthesized template, informational rules included (.cfnlintrc.yaml)
	$(VENV)/bin/cfn-lint -- $$($(TEMPLATES))
	@echo "==> cfn-lint: $$($(TEMPLATES) | wc -l) templates, no findings"

# The development checks are pytest markers (pyproject.toml): `integration` deploys into the
# emulator, `development` checks development tooling (the diagram).
DEV_CHECKS := integration or development

unit: setup $(CHECKOV_STAMP) ## The pytest suite the pipeline runs: everything but the development checks
	$(PY) -m pytest -m 'not ($(DEV_CHECKS))'

dev-checks: setup ## Emulator integration tests and the diagram check (CI runs them, deploys do not)
	$(PY) -m pytest -m '$(DEV_CHECKS)'

# What the pipeline's synth step runs (stacks/pipeline_stack.py): whatever proves the templates
# it deploys, nothing else; it leaves the synthesized app in cdk.out. Change this target, not the
# pipeline, to change the step.
pipeline-synth: lint typecheck unit scan ## The deploy gate: lint, types, unit tests, synth + every scanner

# CI (.ci/run): the deploy gate, then the development checks a production deploy need not wait for.
test: pipeline-synth dev-checks ## Everything CI runs: the deploy gate, then the development checks

# Stacks live in one stage per environment: `--all` selects only top-level stacks, so the
# environment's stacks are selected with the `**` pattern after `-c env=` narrowed the app.
# After CDK's own diff, the change-safety table against the templates CloudFormation holds
# (tools/change_safety): non-zero on a blocked change that change-acknowledgments.json does not name.
diff: setup ## cdk diff one environment against its account, then the change-safety table: make diff ENV=dev
	@$(CHECK_ENV) diff '$(ENV)'
	@$(PY) -m tools.change_safety credentials --env $(ENV)
	@$(PY) -m tools.release_plan --env $(ENV)
	$(CDK) diff -c env=$(ENV) '**'
	$(PY) -m tools.change_safety deployed --env $(ENV)

# No account: both templates are synthesized here, BASE from its committed files (git archive).
.PHONY: check-change stack-policy
check-change: setup ## Classify the change from BASE to the working tree, offline: make check-change ENV=prod BASE=main
	@$(CHECK_ENV) deploy '$(ENV)'
	@test -n "$(BASE)" || { echo "make check-change needs BASE=<git ref> (e.g. BASE=main)"; exit 2; }
	$(PY) -m tools.change_safety check-change --env $(ENV) --base $(BASE)

# What the pipeline runs before each environment (stacks/pipeline_stack.py), on the cdk.out of
# its synth step: a change set per existing stack, described and deleted, then the same table.
.PHONY: change-sets
change-sets: setup ## Classify the change sets of cdk.out against the account: make change-sets ENV=prod
	@$(CHECK_ENV) deploy '$(ENV)'
	$(PY) -m tools.change_safety change-sets --env $(ENV) $(if $(ASSUME_BOOTSTRAP_ROLES),--assume-bootstrap-roles)

# CloudFormation itself then refuses to replace or delete a stateful resource (docs/operations.md,
# "Changing a live environment", says how to apply it and how to lift it for one deploy).
stack-policy: setup ## Stack policies denying replacement/deletion of stateful resources: make stack-policy ENV=prod
	@$(CHECK_ENV) deploy '$(ENV)'
	rm -rf cdk.out
	$(CDK) synth --quiet --no-lookups -c env=$(ENV) '**'
	$(PY) -m tools.change_safety stack-policy --env $(ENV)

deploy: setup ## cdk deploy one environment's stacks: make deploy ENV=dev
	@$(CHECK_ENV) deploy '$(ENV)'
	$(CDK) deploy -c env=$(ENV) '**' --require-approval broadening

# Compute, then security, then network; the CLI asks before it deletes (FORCE=1 does not ask).
# Production is refused: its teardown is deliberately several steps (README: Clean up).
destroy: setup ## Delete one non-production environment's stacks: make destroy ENV=dev
	@$(CHECK_ENV) destroy '$(ENV)'
	$(CDK) destroy -c env=$(ENV) '**' $(if $(filter 1,$(FORCE)),--force)

deploy-pipeline: setup ## Deploy the delivery pipeline once; it updates itself afterwards
	$(CDK) deploy $$($(PY) -c 'import json; print(json.load(open("cdk.json"))["context"]["project"])')-pipeline --require-approval broadening

clean: ## Remove build output (keeps .venv and node_modules)
	rm -rf cdk.out reports .pytest_cache .mypy_cache .ruff_cache

# The monthly list price of what the templates create (tools/cost.py): counted from cdk.out, so a
# resource the code adds is priced the day it appears. `cost-readme` rewrites the README's table
# from the example values (a test fails while it is stale).
.PHONY: cost cost-readme
cost: synth ## Monthly cost estimate per environment from the synthesized templates (ENV=dev,prod)
	$(PY) -m tools.cost --env '$(ENV)'

cost-readme: setup ## The README's Cost section from the example values
	$(PY) -m tools.cost --readme

# Template scanners. cdk-nag runs inside every synth (a validation plugin, stacks/factory.py): it
# fails synth on its findings and writes validation-report.json; the test session, which adds
# aws-cdk-lib's template validation, copies its own to reports/pytest-validation-report.json,
# which this target leaves in place (pipeline-synth runs `unit` first). cfn-lint, cfn-guard and
# checkov run here, once over cdk.out; each writes its report into reports/ (SARIF, cfn-guard the
# CDK's validation-report layout) and its own exit status is the verdict. checkov gets its
# own virtualenv (its own group in uv.lock): it pins older boto3, botocore and packaging than CDK
# and moto need. Same stamp pattern as .venv, keyed on the lock.
REPORTS := reports

$(CHECKOV_STAMP): uv.lock $(TOOLS_STAMP)
	@echo "==> checkov (uv.lock: checkov group) into $(CHECKOV_VENV)"
	rm -rf $(CHECKOV_VENV)
	UV_PROJECT_ENVIRONMENT=$(CHECKOV_VENV) $(UV_SYNC) --only-group checkov
	touch $@

# The scanner configs' part that the decision catalogue (constructs_lib/compliance/decisions.py)
# writes: the decisions that apply to every template. A test fails while it is stale.
.PHONY: decisions
decisions: setup ## .checkov.yaml and .cfnlintrc.yaml's global exceptions from the decision catalogue
	$(PY) -m tools.decisions

# cfn-guard (AWS Control Tower rules) over every template of cdk.out, once: an unacknowledged
# finding fails it (tools/cfn_guard.py applies the acknowledgments the CDK wrote into cdk.out).
CFN_GUARD := $(PY) -m tools.cfn_guard cdk.out --report $(REPORTS)/cfn-guard-report.json

.PHONY: cfn-guard
cfn-guard: synth ## cfn-guard over cdk.out into reports/cfn-guard-report.json (make scan runs it)
	$(CFN_GUARD)

# The scanners run to the end (in parallel, each on its own process) so that every report exists
# even when one of them fails; the summary is read back from those reports.
.PHONY: scan dev-checks
scan: synth $(CHECKOV_STAMP) ## cfn-lint, cfn-guard, checkov over cdk.out into reports/ (cdk-nag ran in synth)
	mkdir -p $(REPORTS) && rm -f $(REPORTS)/*.sarif $(REPORTS)/cdk-validation-report.json \
	  $(REPORTS)/cfn-guard-report.json
	cp cdk.out/validation-report.json $(REPORTS)/cdk-validation-report.json
	set +e; \
	$(VENV)/bin/cfn-lint --format sarif --output-file $(REPORTS)/cfn-lint.sarif -- $$($(TEMPLATES)) & \
	cfn_lint=$$!; \
	$(CFN_GUARD) & \
	cfn_guard=$$!; \
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml --quiet --compact \
	  -o cli -o sarif --output-file-path console,$(REPORTS)/checkov.sarif; \
	checkov=$$?; \
	wait $$cfn_lint; cfn_lint=$$?; \
	wait $$cfn_guard; cfn_guard=$$?; \
	$(PY) -m tools.scan_report $(REPORTS); \
	echo "==> exit status: cfn-lint $$cfn_lint, cfn-guard $$cfn_guard, checkov $$checkov"; \
	test $$cfn_lint -eq 0 && test $$cfn_guard -eq 0 && test $$checkov -eq 0
	$(MAKE) --no-print-directory decision-gate

# One decision, one record: every accepted finding of constructs_lib/compliance/decisions.py
# must match what a scanner reports where it is applied, and every finding must be accepted by one
# (cdk.json's app, synthesized with every decision withheld, through all five scanners).
.PHONY: decision-gate
decision-gate: setup $(CHECKOV_STAMP) ## The decision catalogue against every scanner's findings (in make scan)
	mkdir -p $(REPORTS)
	$(PY) -m tools.decisions gate > $(REPORTS)/decision-gate-synth.log

# The `local` environment deployed into an embedded AWS emulator (moto, tools/dev/local_emulator.py):
# no AWS account, nothing leaves 127.0.0.1. KEEP=1 leaves the emulator running for aws/cdk.
local: setup ## Deploy the local environment into an embedded AWS emulator (KEEP=1 keeps it up)
	$(PY) -m tools.dev.local_emulator

# Inner-loop timings (synth floor, full, without cdk-nag, 1-32 environments, test suites) and every
# stack against the CloudFormation quotas: tools/dev/bench.py, written to docs/benchmarks.md.
.PHONY: bench
bench: setup ## Benchmarks into docs/benchmarks.md (QUICK=1: one sample each, no make test)
	$(PY) -m tools.dev.bench $(if $(filter 1,$(QUICK)),--quick)

# The README's architecture picture: one environment of the app built from the test fixture's example
# values (tools/dev/diagram.py), drawn by Graphviz compiled to WebAssembly (@viz-js/viz in
# package-lock.json): no system package, no sudo. A test fails while the committed picture is stale.
# Your own environments: make synth && .venv/bin/python -m tools.dev.diagram --assembly cdk.out
DIAGRAM_ENV ?= prod

.PHONY: diagram
diagram: setup ## docs/architecture.svg from the code (DIAGRAM_ENV=prod)
	$(PY) -m tools.dev.diagram --env $(DIAGRAM_ENV)

# Each environment's release (instance refresh) from cdk.json: batch sizes, capacity floor, worst
# case in minutes (constructs_lib/fleet/_rollout.py). README=1 writes the example environments' plan into docs/design.md.
.PHONY: release-plan
release-plan: setup ## Worst-case release duration and capacity floor per environment (README=1: docs/design.md)
	$(PY) -m tools.release_plan $(if $(filter 1,$(README)),--readme)

.PHONY: schema
schema: setup ## docs/config.schema.json and docs/configuration.md's key table from the models (a test fails while stale)
	$(PY) -m tools.config_schema
