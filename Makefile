# xacct-nb: the same commands locally and in CI.
#   make demo   install into .venv, run every notebook on the sandbox, write HTML
#   make test   install into .venv, run the whole suite (unit, sandbox, notebooks)
#   make lab    JupyterLab on notebooks/ with a sandbox running
#   make lint   ruff and the type checker (mypy); `make test` runs it first
#   make lock   remake requirements/constraints.txt from a fresh resolution

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR := build/demo
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: install browser test demo lab lint lock notebooks bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[notebooks,dev,dask]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (xacct-nb)" >/dev/null
	touch $(STAMP)

# The browser test drives Debian's chromium with Playwright (never Playwright's own download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "The browser test needs Debian's chromium: sudo apt-get install chromium"; exit 1; \
		fi; }

test: install browser lint
	$(BIN)/python -m pytest tests xacct_nb notebooks --nbval --sanitize-with notebooks/sanitize.cfg

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Pin everything anew: a fresh venv, the newest releases that fit pyproject.toml (no
# constraints), frozen with a header that says how. LOCK_OUT=... writes elsewhere (to compare).
LOCK_OUT    ?= requirements/constraints.txt
LOCK_VENV   := build/lock-venv
LOCK_EXTRAS := notebooks,dev,dask,bench

lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install --quiet ".[$(LOCK_EXTRAS)]"
	rm -rf build/lib build/bdist.*  # setuptools' leftovers from building the project
	mkdir -p $(dir $(LOCK_OUT))
	{ \
	  echo "# Every package \`make install\` may install, pinned: pip install -c requirements/constraints.txt"; \
	  echo "# Remade by \`make lock\` (Python $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version())')): a fresh venv under build/, then"; \
	  echo "#   pip install \".[$(LOCK_EXTRAS)]\"   (no constraints: the newest that fit)"; \
	  echo "#   pip freeze --exclude-editable --exclude xacct-nb"; \
	  echo "# Edit pyproject.toml, not this file, then run \`make lock\` (and \`make test\`)."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable --exclude xacct-nb; \
	} > $(LOCK_OUT).tmp
	mv $(LOCK_OUT).tmp $(LOCK_OUT)
	rm -rf $(LOCK_VENV)
	@echo "Wrote $(LOCK_OUT)"

# The demo runs on the embedded sandbox: AWS_* settings of the shell (an exported
# AWS_PROFILE, keys, an endpoint) and XACCT_* connection settings would send its
# notebooks elsewhere, so they are dropped for it (as `xacct lab` does).
SHELL_SETTINGS := $(sort $(filter AWS_% XACCT_ROLE_ARN XACCT_EXTERNAL_ID XACCT_TABLE XACCT_REGION \
	XACCT_CONFIG,$(.VARIABLES)))

# Progress bars are widgets whose ids change every run: keep them out of saved outputs.
demo: install
	mkdir -p $(DEMO_DIR)
	$(if $(SHELL_SETTINGS),@echo "make demo: ignoring $(SHELL_SETTINGS) from your shell: the demo runs on the embedded sandbox.")
	env $(addprefix -u ,$(SHELL_SETTINGS)) XACCT_PROGRESS=never $(BIN)/jupyter nbconvert \
		--to html --execute --ExecutePreprocessor.timeout=600 --output-dir $(DEMO_DIR) $(NOTEBOOKS)
	@echo
	@echo "Demo done: the executed notebooks are in $(abspath $(DEMO_DIR))/"
	@for f in $(NOTEBOOKS); do echo "  $(abspath $(DEMO_DIR))/$$(basename $$f .ipynb).html"; done

# Re-execute the notebooks in place (after changing them), with the outputs nbval compares.
notebooks: install
	cd notebooks && XACCT_PROGRESS=never ../$(BIN)/jupyter nbconvert --to notebook --execute \
		--inplace --ExecutePreprocessor.timeout=600 $(notdir $(NOTEBOOKS))
	$(BIN)/python -c 'import sys, nbformat; [nbformat.write(nb, p) for p in sys.argv[1:] \
		for nb in [nbformat.read(p, as_version=4)] if nb.metadata.pop("widgets", None) or True]' \
		$(NOTEBOOKS)

bench: install
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[bench]"
	$(BIN)/python benchmarks/bench_read.py

lab: install
	$(BIN)/xacct lab --notebook-dir notebooks

clean:
	rm -rf $(VENV) build .pytest_cache
