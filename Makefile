# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "factbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# Bytecode up front: start-up stays fast even where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q bot adapters
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/factbot chat

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m compileall -q bot adapters
	$(BIN)/python bench/matcher.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
