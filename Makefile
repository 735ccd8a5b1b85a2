# Keywarden: `make run` serves the embedded default, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The exact versions (with hashes) of every dependency, runtime and dev, that CI tested;
# `make lock` writes it again from pyproject.toml.
LOCK := requirements.lock
UV_VERSION := 0.13.10

# The web manager (frontend/): installed with `npm ci` when its lock changes, built with
# `vite build` when its sources change; `keywarden serve` serves frontend/dist.
NPM ?= npm
FRONTEND := frontend
FRONTEND_DEPS := $(FRONTEND)/node_modules/.installed
FRONTEND_BUILT := $(FRONTEND)/dist/.built
FRONTEND_SOURCES := $(filter-out %.test.ts %.test.tsx,\
	$(shell find $(FRONTEND)/src $(FRONTEND)/public -type f 2>/dev/null)) \
	$(addprefix $(FRONTEND)/,index.html package.json vite.config.ts tsconfig.json)

.PHONY: run test test-soak test-sqlite test-postgres test-frontend lint bench clean lock \
	frontend frontend-codegen

# Installs from the lock, then Keywarden itself without resolving anything again;
# runs again whenever the lock or pyproject.toml changes.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# After changing a dependency in pyproject.toml: pin it (and everything it needs) again.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 --custom-compile-command 'make lock' -o $(LOCK)

$(FRONTEND_DEPS): $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && $(NPM) ci --no-audit --no-fund
	touch $@

$(FRONTEND_BUILT): $(FRONTEND_DEPS) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && $(NPM) run build
	touch $@

frontend: $(FRONTEND_BUILT)

# After changing the served schema or an operation in frontend/src: the schema the frontend's
# types come from, and the types (frontend/src/gql/); `make test` checks both are current.
frontend-codegen: $(STAMP) $(FRONTEND_DEPS)
	$(BIN)/keywarden schema > $(FRONTEND)/schema.graphql
	cd $(FRONTEND) && $(NPM) run codegen

run: $(STAMP) $(FRONTEND_BUILT)
	$(BIN)/keywarden migrate
	$(BIN)/keywarden demo --if-empty
	$(BIN)/keywarden serve

# The whole suite on the embedded default (SQLite), then on PostgreSQL when it is reachable
# (CI always has it: .ci/run starts it); in CI ($$CI set) the soak tests follow.
test: $(STAMP)
	$(BIN)/ruff check app hardware tests bench
	@$(MAKE) --no-print-directory test-frontend
	$(BIN)/pytest -q
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		KEYWARDEN_TEST_DB=postgres $(BIN)/pytest -q; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; \
	else echo "PostgreSQL not reachable: skipped the PostgreSQL run"; fi
	@if [ -n "$$CI" ]; then $(MAKE) --no-print-directory test-soak; fi

# The frontend's generated types match its schema and operations, it type-checks, its unit
# tests pass, and it is built for the browser tests (tests/e2e, which need chromium).
# Without npm (a developer's machine) they are skipped and it says so; CI ($$CI) requires it.
test-frontend:
	@if command -v $(NPM) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(FRONTEND_BUILT) && \
		(cd $(FRONTEND) && $(NPM) run --silent codegen:check && $(NPM) test --silent) && \
		{ test -x /usr/bin/chromium || echo "chromium not found: the browser tests (tests/e2e) are skipped (apt-get install chromium)"; }; \
	elif [ -n "$$CI" ]; then echo "npm is not installed" >&2; exit 1; \
	else echo "npm not found: skipped the frontend tests and build (the browser tests skip too)"; fi

# The soak tests (pytest mark "soak", left out of the runs above): the job engine's R15
# property with 2,000 examples on PostgreSQL. CI runs them as part of `make test`.
test-soak: $(STAMP)
	KEYWARDEN_TEST_DB=postgres $(BIN)/pytest -q -m soak

lint: $(STAMP)
	$(BIN)/ruff check app hardware tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.graphql_keys

clean:
	rm -rf $(VENV) var .pytest_cache $(FRONTEND)/node_modules $(FRONTEND)/dist
