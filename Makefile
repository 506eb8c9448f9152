# `make test` and `make demo` work on a fresh machine with only python3: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint format typecheck pytest clean spreadsheet-tools postgres-tools browser-tools hardening

# every dependency at the exact version of constraints.txt (pyproject.toml gives the ranges)
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,dask]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# what lint checks, fixed in place: imports sorted, then the code formatted
format: $(STAMP)
	$(BIN)/ruff check --select I --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy -p annoplan
	$(BIN)/mypy tests

# ANNOPLAN_REQUIRE_POSTGRES=1: the PostgreSQL storage tests fail instead of skipping when they find no server
pytest: $(STAMP) postgres-tools browser-tools
	ANNOPLAN_REQUIRE_POSTGRES=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/pytest

# the workbook tests open a workbook in a real spreadsheet (LibreOffice Calc) and read its PDF (poppler)
spreadsheet-tools:
	@if ! command -v soffice >/dev/null 2>&1 || ! command -v pdfinfo >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			libreoffice-calc-nogui poppler-utils; \
	fi

# the storage tests start a throwaway PostgreSQL server (initdb, pg_ctl; see tests/api/postgres_server.py) unless
# ANNOPLAN_TEST_POSTGRES_URL names one; Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin
postgres-tools:
	@if [ -z "$$ANNOPLAN_TEST_POSTGRES_URL" ] && ! command -v initdb >/dev/null 2>&1 \
			&& ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			postgresql; \
	fi

# the web page's tests drive Debian's chromium with the playwright package (its own browser download needs a
# host the install may not reach); ANNOPLAN_CHROMIUM names another chromium executable
browser-tools:
	@if [ -z "$$ANNOPLAN_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1 \
			&& ! command -v chromium-browser >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium; \
	fi

test: spreadsheet-tools lint typecheck pytest

# the standing checks of the API and CLI (benchmarks/hardening.py): schemathesis with every phase, the
# hostile-input corpus, SIGKILL of a computation process and of the server during plans, a soak; each starts
# its own server on a free loopback port. Minutes; `make test` runs the corpus's API cases in process.
hardening: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python benchmarks/hardening.py all

demo: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/annoplan demo --xlsx demo-plan.xlsx

# the environment, build output, caches and what `make demo` writes
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis demo-plan.xlsx
