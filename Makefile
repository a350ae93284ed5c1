# Two commands set everything up on a fresh machine with Python 3.11:
#   make lab    create .venv, install the pinned set, open JupyterLab
#   make test   create or refresh .venv, run every test
# Installing is skipped when constraints.txt and pyproject.toml are unchanged.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8888
# Extra pip options, e.g. PIP_EXTRA="--extra-index-url https://download.pytorch.org/whl/cpu"
# to get the CPU-only torch on a Linux machine that has no copy of it.
PIP_EXTRA ?=
# Jupyter refuses to run as root (as in many containers) unless told to.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: lab test test-unit test-notebooks test-browser lint html present bench outputs pins clean

$(STAMP): constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), \
	  "softsample needs Python 3.11 or newer; run make PYTHON=python3.11"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the pinned set into $(VENV) (first time: a few minutes)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check $(PIP_EXTRA) \
	  -c constraints.txt -e '.[lab,test]'
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ip=127.0.0.1 --port=$(PORT) $(ALLOW_ROOT) \
	  notebooks/00_start_here.ipynb

test: $(STAMP) lint test-unit test-notebooks test-browser

lint: $(STAMP)
	$(BIN)/ruff check softsample_helpers tests benchmarks binder notebooks/images
	$(BIN)/ruff format --check softsample_helpers tests benchmarks binder notebooks/images
	$(BIN)/mypy

test-unit: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser

# Strict nbval on every notebook, once with the machine's threads and once
# with one thread: what a lesson prints must not depend on the core count.
test-notebooks: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) notebooks
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest $(NBVAL) -q notebooks

# JupyterLab and Voila in headless Chromium (Debian's /usr/bin/chromium).
# Without Chromium the tests are skipped, and say so; with CI=true that fails.
test-browser: $(STAMP)
	@test -x /usr/bin/chromium || echo "*** Chromium not found at /usr/bin/chromium:" \
	  "the browser tests will be SKIPPED (apt-get install chromium to run them) ***"
	$(BIN)/python -m pytest tests/browser

html: $(STAMP)
	$(BIN)/python -m softsample_helpers.handout notebooks build/html

# The explorers as one page with the code hidden, for projecting in class.
present: $(STAMP)
	$(BIN)/voila --no-browser --Voila.ip=127.0.0.1 --port=$(PORT) \
	  notebooks/presentation/explorers.ipynb

bench: $(STAMP)
	$(BIN)/python benchmarks/explorers.py
	$(BIN)/python benchmarks/sampling.py

# Re-run every notebook in a fresh kernel and store its outputs.
outputs: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.timeout=120 notebooks/[0-9]*.ipynb notebooks/presentation/*.ipynb

# Rewrite the pinned set from .venv (after a deliberate upgrade there), then
# copy its versions into environment.yml and binder/environment.yml.
# Review with git diff, then run make outputs and make test.
pins: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check \
	  > constraints.new
	$(BIN)/python binder/sync_pins.py constraints.new

clean:
	rm -rf $(VENV) build
