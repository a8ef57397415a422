# skureel: `make demo` and `make test` bootstrap everything they need on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: install demo studio test test-services lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@# the QA gate reads label text with Debian's tesseract-ocr (English data comes with it); a no-op when present
	command -v tesseract >/dev/null 2>&1 || { $$(command -v sudo || true) apt-get update -qq && $$(command -v sudo || true) apt-get install -y -qq tesseract-ocr; }
	@# the studio's browser tests drive Debian's chromium-headless-shell (Playwright cannot download browsers here)
	test -x /usr/lib/chromium/chromium-headless-shell || { $$(command -v sudo || true) apt-get update -qq && $$(command -v sudo || true) apt-get install -y -qq chromium-headless-shell; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,speech]'
	touch $(STAMP)

demo: install
	@# Prefect makes its home folder without parents: on a fresh clone out/ does not exist yet
	@mkdir -p out/.prefect
	PREFECT_HOME=$(CURDIR)/out/.prefect $(BIN)/skureel run catalogs/sample/products.xlsx --brand brand_kits/aurora --out out/demo
	@echo "Open out/demo/report.html (clips in out/demo/clips/, manifest in out/demo/manifest.csv)"

studio: install
	@# the studio on the bundled sample: sign in as demo@example.com / skureel-demo, upload catalogs/sample/products.xlsx
	@# with out/studio/sample-images.zip, pick the aurora or nordlys kit
	mkdir -p out/studio && cd catalogs/sample && $(CURDIR)/$(BIN)/python -m zipfile -c $(CURDIR)/out/studio/sample-images.zip images/
	printf 'skureel-demo\n' | $(BIN)/skureel studio adduser demo@example.com --workspace aurora --role admin --data out/studio
	$(BIN)/skureel studio --data out/studio --brand-kits brand_kits

test-services:
	@# PostgreSQL from Debian for the ledger-claim and cluster tests (initdb runs as the postgres user); a no-op when present
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $$(command -v sudo || true) apt-get update -qq && $$(command -v sudo || true) apt-get install -y -qq postgresql; }

test: install test-services
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests flows bench
	$(BIN)/mypy src flows

bench: install test-services
	@# every bench in bench/, each figure printed beside its aim (scale.py's claims need test-services' PostgreSQL)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/plan.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/qa.py
	$(BIN)/python bench/soak.py --skus 500 --latency 0.2
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/rerun.py
	$(BIN)/python bench/studio.py

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
