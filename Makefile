# skureel: `make demo` and `make test` bootstrap everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,speech]'
	touch $(STAMP)

demo: install
	PREFECT_HOME=$(CURDIR)/out/.prefect $(BIN)/skureel run catalogs/sample/products.xlsx --brand brand_kits/aurora --out out/demo
	@echo "Open out/demo/report.html (clips in out/demo/clips/, manifest in out/demo/manifest.csv)"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests flows bench
	$(BIN)/mypy src flows

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/soak.py --skus 500 --latency 0.2
	$(BIN)/python bench/rerun.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
