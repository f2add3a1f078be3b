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

LOCK := requirements.lock

.PHONY: venv lock demo test lint bench figures validation verify chromium clean

venv: $(STAMP)

# Exact versions with hashes from the lock file, then the project itself without its dependencies.
# The build backend (setuptools) is in the lock too, so the editable install builds without
# fetching anything that is not pinned (--no-build-isolation). -qq: errors only, not the warnings
# pip 24 prints for each package it finds in no extra index.
$(STAMP): pyproject.toml $(LOCK)
	@test -n "$(PYTHON)" || { echo "error: no Python 3.12+ found on PATH or in pyenv" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Regenerate requirements.lock from pyproject.toml (every extra, the build backend too) for Python
# 3.12+ on every platform, keeping the current pins where they still fit; `make lock
# UPGRADE=--upgrade` moves every package to its newest release. Then commit the lock.
lock: $(STAMP)
	$(BIN)/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")' \
	  | $(BIN)/uv pip compile pyproject.toml - --all-extras --universal --python-version 3.12 \
	    --generate-hashes --custom-compile-command 'make lock' --quiet $(UPGRADE) -o $(LOCK)

# The main job on the shipped defaults: one June 2020 run, then the drawdown experiment (2,000
# runs, about 2 minutes on 2 cores) with its figures and report, all under out/.
demo: $(STAMP)
	$(BIN)/escalation run scenarios/june2020.toml --seed 7 --out out/june2020 --force
	rm -rf out/drawdown
	$(BIN)/escalation sweep experiments/drawdown.toml --out out/drawdown
	$(BIN)/escalation plot out/drawdown
	$(BIN)/escalation report out/drawdown

test: $(STAMP) chromium
	$(BIN)/ruff check sim tests
	$(BIN)/ruff format --check sim tests
	$(BIN)/python -m pytest -q

# Debian's Chromium for the browser test (tests/test_browser.py), installed when missing and we
# are root, without upgrading any installed package, apt's output in .venv/apt.log
# (.ci/install-chromium); without it that test is skipped with the reason.
chromium:
	@command -v chromium >/dev/null || .ci/install-chromium $(VENV)/apt.log \
	  || echo "note: the browser test will be skipped" >&2

lint: $(STAMP)
	$(BIN)/ruff check sim tests
	$(BIN)/ruff format --check sim tests

# Fit the model to the 2019-2020 record, check the fit (SBC, rolling-origin skill) and forecast
# from 22 June 2020: results/validation/ and scenarios/june2020_calibrated.toml (about 5 minutes
# on 2 cores). From scratch, so a changed model is never mixed with cached runs;
# to resume an interrupted fit, run the `escalation calibrate` line by hand.
validation: $(STAMP)
	rm -rf out/calibrate_2020
	$(BIN)/escalation calibrate experiments/calibrate_2020.toml

# Regenerate results/ (about 12 minutes on 2 cores): the calibration (results/validation/ and
# scenarios/june2020_calibrated.toml, about 5 minutes), then for each shipped experiment its
# sweep's runs and manifest, its figures (PDF, PNG, caption, data), its exploratory analyses
# (discover, compare, robust) and report.md; then results/SHA256SUMS over every file. The list of
# steps lives in one place, sim/results_plan.py, which `make verify` runs too. From scratch, so
# running it twice gives identical bytes.
figures: $(STAMP)
	$(BIN)/python -m sim.results_plan

# Regenerate results/ in a temporary folder as `make figures` does and compare it with the
# committed results file by file (`escalation verify results --against DIR` compares two copies).
verify: $(STAMP)
	$(BIN)/escalation verify results

# Runner benchmarks (about 2 minutes on 2 cores): runs/s against mesa.batch_run, 1 -> 2 worker
# speed-up, peak memory of 1,000 and 10,000 runs, time per simulated day, peak memory of the
# exploratory analyses on 100,000-run tables. Figures in README.md.
bench: $(STAMP)
	$(BIN)/python -m sim.bench

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
