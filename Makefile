# xacct-nb: the same commands locally and in CI.
#   make demo   install into .venv, run every notebook on the sandbox, write HTML
#   make test   install into .venv, run the whole suite (unit, sandbox, notebooks)
#   make lab    JupyterLab on copies of notebooks/ (in build/lab/) with a sandbox running
#   make lint   ruff and the type checker (mypy); `make test` runs it first
#   make lock   remake requirements/constraints.txt from a fresh resolution

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR := build/demo
LAB_DIR  := build/lab
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: install browser test demo lab lab-notebooks lint lock notebooks bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ".[notebooks,dev,dask]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (xacct-nb)" >/dev/null
	touch $(STAMP)

# The browser test drives Debian's chromium with Playwright (never Playwright's own download).
# As root, make installs it; otherwise the browser test is skipped (with a note saying so),
# unless XACCT_REQUIRE_BROWSER=1 (as .ci/run sets it), which makes a missing browser a failure.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
				|| echo "make: could not install Debian's chromium (apt-get install chromium failed)."; \
		fi; \
		command -v chromium >/dev/null 2>&1 || { \
			echo "make: Debian's chromium is not installed: the browser test will $(if $(filter-out 0 false no,$(XACCT_REQUIRE_BROWSER)),fail (XACCT_REQUIRE_BROWSER=$(XACCT_REQUIRE_BROWSER) requires it),be skipped)."; \
			echo "      To run it, install chromium (sudo apt-get install chromium), then run make test again."; \
		}; }

# The tests run on the embedded sandbox whatever the shell exports (see SHELL_SETTINGS).
test: install browser lint
	$(if $(SHELL_SETTINGS),@echo "make test: ignoring $(SHELL_SETTINGS) from your shell: the tests run on the embedded sandbox.")
	env $(addprefix -u ,$(SHELL_SETTINGS)) $(BIN)/python -m pytest tests xacct_nb notebooks \
		--nbval --sanitize-with notebooks/sanitize.cfg

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
	env $(addprefix -u ,$(SHELL_SETTINGS)) XACCT_PROGRESS=never $(BIN)/python -m xacct_nb._demo \
		--timeout 600 --output-dir $(DEMO_DIR) $(NOTEBOOKS)
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

# JupyterLab works on copies of the tutorials in build/lab/ (git-ignored): running and
# saving them there leaves notebooks/ as committed. A missing copy is made; a copy still as
# it was copied follows its tutorial; an edited copy is kept (rm it for a fresh one).
# build/lab/.tutorials/ remembers each tutorial as copied, to tell edited copies apart.
lab: install lab-notebooks
	$(BIN)/xacct lab --notebook-dir $(LAB_DIR)

lab-notebooks:
	@mkdir -p $(LAB_DIR)/.tutorials $(LAB_DIR)/output
	@for tutorial in $(NOTEBOOKS); do \
		name=$$(basename "$$tutorial"); copy="$(LAB_DIR)/$$name"; as_copied="$(LAB_DIR)/.tutorials/$$name"; \
		if [ ! -e "$$copy" ]; then \
			cp "$$tutorial" "$$copy" && cp "$$tutorial" "$$as_copied" && echo "make lab: copied $$tutorial to $$copy"; \
		elif cmp -s "$$tutorial" "$$copy"; then \
			cp "$$tutorial" "$$as_copied"; \
		elif [ -e "$$as_copied" ] && cmp -s "$$copy" "$$as_copied"; then \
			cp "$$tutorial" "$$copy" && cp "$$tutorial" "$$as_copied" && echo "make lab: updated $$copy ($$tutorial changed)"; \
		elif ! { [ -e "$$as_copied" ] && cmp -s "$$tutorial" "$$as_copied"; }; then \
			echo "make lab: kept your edited $$copy; $$tutorial has changed since (for a fresh copy: rm $$copy, then make lab)"; \
		fi; \
	done
	@echo "make lab: the notebooks are copies in $(LAB_DIR)/ (notebooks/ stays as committed); rm $(LAB_DIR)/NAME.ipynb, or rm -r $(LAB_DIR), for fresh copies."

clean:
	rm -rf $(VENV) build .pytest_cache
