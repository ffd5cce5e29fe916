# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint browser bench clean

# Installed as the package `factbot` (pyproject's package-dir). "strict" editable mode links
# each file into build/, a plain directory that mypy can read too; new files need a reinstall,
# hence the stamp's dependence on the file lists.
SOURCES := $(wildcard bot/*.py bot/*/*.py adapters/*.py facts/*/* bot/dashboard/*/*) bot/locales/*

$(STAMP): pyproject.toml $(SOURCES)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "factbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' --config-settings editable_mode=strict
	@# Bytecode up front, where the package is imported from: start-up stays fast even
	@# where PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q build
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/factbot chat

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint browser
	$(BIN)/pytest -q

# tests/test_dashboard_browser.py drives Debian's Chromium: installed here when it is missing
# and we may (root, apt-get); otherwise that test skips and says why (.ci/run fails it).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -q chromium >/dev/null \
			|| echo "could not install chromium: the browser test will skip" >&2; \
	else echo "no /usr/bin/chromium (apt-get install chromium as root): the browser test" \
		"will skip" >&2; fi

bench: $(STAMP)
	$(BIN)/python -m compileall -q build
	$(BIN)/python bench/matcher.py

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
