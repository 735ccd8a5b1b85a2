# Keywarden: `make run` serves the embedded default, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The exact versions (with hashes) of every dependency, runtime and dev, that CI tested;
# `make lock` writes it again from pyproject.toml.
LOCK := requirements.lock
UV_VERSION := 0.13.10

.PHONY: run test test-soak test-sqlite test-postgres lint bench clean lock

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

run: $(STAMP)
	$(BIN)/keywarden migrate
	$(BIN)/keywarden demo --if-empty
	$(BIN)/keywarden serve

# The whole suite on the embedded default (SQLite), then on PostgreSQL when it is reachable
# (CI always has it: .ci/run starts it); in CI ($$CI set) the soak tests follow.
test: $(STAMP)
	$(BIN)/ruff check app hardware tests bench
	$(BIN)/pytest -q
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		KEYWARDEN_TEST_DB=postgres $(BIN)/pytest -q; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; \
	else echo "PostgreSQL not reachable: skipped the PostgreSQL run"; fi
	@if [ -n "$$CI" ]; then $(MAKE) --no-print-directory test-soak; fi

# The soak tests (pytest mark "soak", left out of the runs above): the job engine's R15
# property with 2,000 examples on PostgreSQL. CI runs them as part of `make test`.
test-soak: $(STAMP)
	KEYWARDEN_TEST_DB=postgres $(BIN)/pytest -q -m soak

lint: $(STAMP)
	$(BIN)/ruff check app hardware tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.graphql_keys

clean:
	rm -rf $(VENV) var .pytest_cache
