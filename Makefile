# Every target bootstraps .venv from this repo's own files; nothing is installed by hand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv test lint format serve demo bench load soak mutation fuzz openapi openapi-typescript browser-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	./scripts/ensure-redis
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

serve: $(STAMP)
	$(BIN)/mockgc serve

demo: $(STAMP)
	$(BIN)/mockgc demo

bench: $(STAMP)
	$(BIN)/python -m bench

# Schemathesis fuzzes every operation of the mock's OpenAPI document (tests/platform/test_fuzz.py), in process:
# `make test` runs a bounded, derandomized 6 examples per operation; this runs FUZZ_EXAMPLES (random
# each time) and prints the figures the README quotes.
FUZZ_EXAMPLES ?= 60
fuzz: $(STAMP)
	MOCKGC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/platform/test_fuzz.py

# The mock's OpenAPI document, for generating a client with another SDK's generator.
openapi: $(STAMP)
	$(BIN)/mockgc openapi -o openapi.json

# The report and the web UI's mockgc tab in headless Chromium (from the system's packages: `apt-get install -y
# chromium`; without it these tests skip and say so). The screenshots stay in runs/browser/ for a person to look at.
browser-check: $(STAMP)
	MOCKGC_SCREENSHOTS=runs/browser $(BIN)/python -m pytest -q -p no:cacheprovider tests/report/test_report_browser.py tests/inlocust/test_webui.py
	@ls -l runs/browser/

# openapi-typescript from the npm registry into .cache/ (git-ignored), so that
# tests/platform/test_generated_client.py also checks the document with a TypeScript generator; the test
# skips (saying so) without node or this install. Not part of `make test`: an npm install at test time
# would make the suite depend on the registry's speed.
openapi-typescript:
	mkdir -p .cache/openapi-typescript
	npm install --prefix .cache/openapi-typescript --no-audit --no-fund --silent openapi-typescript@7

# Only the live-load scale run (1,000 Locust users, 3 publishes, about 75 s); `make bench` includes it.
load: $(STAMP)
	$(BIN)/python -m bench.load_scale

# Mutation testing of the checker: about 15 minutes on 2 cores, so not part of `make test`.
# What is mutated, and which fast tests judge it, is [tool.mutmut] in pyproject.toml: its
# only_mutate is the list of module paths (add the expectations and thresholds modules there).
# Mutants no test can tell from the original are listed in tests/mutation-survivors.md; the
# score is over the others, and under 97% (or a run cut short) fails the target.
mutation: $(STAMP)
	rm -rf mutants && mkdir mutants
	-timeout 1800 $(BIN)/mutmut run --max-children 2 > mutants/run.log 2>&1
	$(BIN)/python scripts/mutation-score

# The mock's RSS over a soak at `make load`'s rate (not part of `make test`):
# `make soak SOAK_SECONDS=1800` for the half-hour figure in the README.
SOAK_SECONDS ?= 180
soak: $(STAMP)
	$(BIN)/python -m bench.soak --duration $(SOAK_SECONDS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache build *.egg-info mutants
