# Everything a fresh machine needs is installed by these targets; nothing is assumed to be there.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help install demo test lint typecheck unit synth deploy destroy soak bench clean

help:
	@echo "make demo     - set up and run the whole pipeline locally (no AWS, no GMI key)"
	@echo "make test     - set up and run lint, type checks and the full test suite"
	@echo "make synth    - synthesize the CDK app into cdk.out/ (offline)"
	@echo "make deploy   - deploy to the AWS account of your current credentials"
	@echo "make destroy  - delete the deployed stack"
	@echo "make soak     - chaos soak with 500 uploads"
	@echo "make bench    - benchmarks, written to docs/benchmarks.md"

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/i2v demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy functions infrastructure local

test: lint typecheck
	$(BIN)/pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) cdk.out .build node_modules out

# ---- infrastructure (CDK) -----------------------------------------------------------------------
# Lambda dependencies for python3.14 / arm64, downloaded once (PyPI); synth then runs offline.
LAMBDA_DEPS := .build/lambda-deps/.stamp
CDK := npx --no-install cdk
CDK_FLAGS := --no-notices
export CDK_DISABLE_CLI_TELEMETRY := true

install: $(LAMBDA_DEPS)

$(LAMBDA_DEPS): infrastructure/lambda-requirements.txt infrastructure/i2v_infra/lambda_deps.py | $(VENV)/.installed
	$(BIN)/python infrastructure/i2v_infra/lambda_deps.py

# The aws-cdk CLI, pinned in package.json / package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

synth: install node_modules/.installed
	$(CDK) synth $(CDK_FLAGS) --quiet
	@echo "cdk.out/ written (cdk-nag found no unacknowledged issue)"

deploy: install node_modules/.installed
	$(CDK) deploy $(CDK_FLAGS) --require-approval broadening --outputs-file cdk.out/outputs.json

destroy: install node_modules/.installed
	$(CDK) destroy $(CDK_FLAGS)
