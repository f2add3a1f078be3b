# Two commands set everything up: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The first Python 3.12+ on PATH, else the newest 3.12+ that pyenv ships.
PYTHON ?= $(shell for p in python3.13 python3.12 python3; do \
	  command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	  && { command -v $$p; exit; }; done; \
	  root=$${PYENV_ROOT:-$$HOME/.pyenv}; \
	  for v in $$(ls -r $$root/versions 2>/dev/null | grep -E '^3\.(1[2-9])\.[0-9]+$$'); do \
	  echo $$root/versions/$$v/bin/python3; exit; done)

.PHONY: venv demo test lint bench figures validation chromium clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no Python 3.12+ found on PATH or in pyenv" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,dask,viz,browser]'
	@touch $(STAMP)

# The main job on the shipped defaults: one June 2020 run, then the drawdown experiment (2,000
# runs, about 2 minutes on 2 cores) with its figures and report, all under out/.
demo: $(STAMP)
	$(BIN)/escalation run scenarios/june2020.toml --seed 7 --out out/june2020
	rm -rf out/drawdown
	$(BIN)/escalation sweep experiments/drawdown.toml --out out/drawdown
	$(BIN)/escalation plot out/drawdown
	$(BIN)/escalation report out/drawdown

test: $(STAMP) chromium
	$(BIN)/ruff check sim tests
	$(BIN)/ruff format --check sim tests
	$(BIN)/python -m pytest -q

# Debian's Chromium for the browser test (tests/test_browser.py), installed with apt-get when
# missing and we are root; without it that test is skipped with the reason.
chromium:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq chromium; } \
	  || echo "note: no chromium and cannot install it; the browser test will be skipped" >&2

lint: $(STAMP)
	$(BIN)/ruff check sim tests
	$(BIN)/ruff format --check sim tests

# Fit the model to the 2019-2020 record and write results/validation/ (a few minutes on 2 cores).
# From scratch, so a changed model is never mixed with cached runs; to resume an interrupted fit,
# run the `escalation calibrate` line by hand.
validation: $(STAMP)
	rm -rf out/calibrate_2020
	$(BIN)/escalation calibrate experiments/calibrate_2020.toml

# Regenerate results/ from the shipped experiments (about 6 minutes on 2 cores): for each, the
# sweep's runs and manifest, its figures (PDF, PNG, caption, data) and report.md; then
# results/SHA256SUMS over every file. From scratch, so running it twice gives identical bytes
# (`sha256sum -c results/SHA256SUMS` checks a regeneration against the committed results).
FIGURE_EXPERIMENTS := drawdown redline

figures: $(STAMP) validation
	@set -e; for name in $(FIGURE_EXPERIMENTS); do \
	  rm -rf results/$$name; \
	  $(BIN)/escalation sweep experiments/$$name.toml --out results/$$name --no-progress; \
	  $(BIN)/escalation plot results/$$name; \
	  $(BIN)/escalation report results/$$name; \
	done
	cd results && find . -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z \
	  | xargs -0 sha256sum > SHA256SUMS

# Runner benchmarks (about 3 minutes on 2 cores): runs/s against mesa.batch_run, 1 -> 2 worker
# speed-up, peak memory of 1,000 and 10,000 runs, time per simulated day. Figures in README.md.
bench: $(STAMP)
	$(BIN)/python -m sim.bench

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
