# Keywarden: `make run` serves the embedded default, `make test` runs the whole suite.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/keywarden migrate
	$(BIN)/keywarden demo --if-empty
	$(BIN)/keywarden serve

# The whole suite on the embedded default (SQLite), then on PostgreSQL when it is reachable
# (CI always has it: .ci/run starts it).
test: $(STAMP)
	$(BIN)/ruff check app hardware tests bench
	$(BIN)/pytest -q
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
		KEYWARDEN_TEST_DB=postgres $(BIN)/pytest -q; \
	elif [ -n "$$CI" ]; then echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; \
	else echo "PostgreSQL not reachable: skipped the PostgreSQL run"; fi

lint: $(STAMP)
	$(BIN)/ruff check app hardware tests bench

bench: $(STAMP)
	$(BIN)/python -m bench.graphql_keys

clean:
	rm -rf $(VENV) var .pytest_cache
