# Orchestrix — the two commands are `make dev` and `make test`; both work on a fresh machine
# with Python 3.11+, Node.js and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
PYTEST_WORKERS ?= 2

.PHONY: dev test lint unit integration workflows infra compat e2e synth bench promqltest \
        localstack-deploy test-localstack clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## dev: serve the whole stack on 127.0.0.1:$(PORT) (embedded PostgreSQL + AWS emulator)
dev: $(STAMP)
	PORT=$(PORT) $(BIN)/orchestrix dev

## test: lint, then every test suite
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit integration workflows infra compat e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/$@

promqltest: $(STAMP)
	$(BIN)/orchestrix promqltest ../shared/promql/testdata/*.test

## synth: synthesize the CDK app offline (STAGE=name, default dev)
synth: $(STAMP) node_modules/.installed
	PATH=$(CURDIR)/$(BIN):$$PATH npx cdk synth -c stage=$${STAGE:-dev} $(CDK_ARGS) --quiet

## bench: run the benchmarks and write docs/benchmarks.md
bench: $(STAMP)
	$(BIN)/python -m bench

## localstack-deploy: deploy to a LocalStack you run yourself (needs Docker; not used by make test)
localstack-deploy: $(STAMP) node_modules/.installed
	PATH=$(CURDIR)/$(BIN):$$PATH npx cdklocal bootstrap -c stage=$${STAGE:-local} -c deletionProtection=false
	PATH=$(CURDIR)/$(BIN):$$PATH npx cdklocal deploy -c stage=$${STAGE:-local} -c deletionProtection=false --require-approval never

test-localstack: $(STAMP)
	ORCHESTRIX_TARGET=localstack $(BIN)/python -m pytest -q tests/e2e

clean:
	rm -rf $(VENV) node_modules cdk.out .orchestrix .pytest_cache .mypy_cache .ruff_cache
