# xacct-nb: the same commands locally and in CI.
#   make demo   install into .venv, run every notebook on the sandbox, write HTML
#   make test   install into .venv, run the whole suite (unit, sandbox, notebooks)
#   make lab    JupyterLab on copies of notebooks/ (in build/lab/) with a sandbox running
#   make lint   ruff and the type checker (mypy); `make test` runs it first
#   make test-matrix  the suite on the lowest declared, the pinned and the newest versions
#               (Python 3.11, 3.12, 3.13; tools/matrix.py); CI runs it
#   make lock   remake requirements/constraints.txt from a fresh resolution

# .venv is Python 3.12 (the pinned environment of the matrix); any python3 if there is none.
PYTHON ?= $(shell python3 tools/matrix.py --find-python 3.12 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR := build/demo
LAB_DIR  := build/lab
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: install browser test test-matrix demo lab lab-notebooks lint lock notebooks bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	@# a .venv of another Python than $(PYTHON)'s is made anew
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print(sys.version_info[:2])')" != \
		"$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])')" ]; then \
		echo "make: .venv is another Python than $(PYTHON): making it anew"; rm -rf $(VENV); fi
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

# The suite in two fresh uv environments, side by side: the lowest declared versions on
# Python 3.11 and the newest on 3.13; then make test in .venv (3.12, the constraints), alone.
# Each prints its versions; the newest are compared with the constraints (what `make lock`
# would change); a table of results and times ends it. tools/matrix.py says more.
test-matrix: install
	$(BIN)/python tools/matrix.py

# Pin everything anew: the newest releases that fit pyproject.toml (every extra), resolved by
# uv for Python 3.12 (the pinned environment), annotated with what needs each. LOCK_OUT=...
# writes elsewhere (to compare); `make test-matrix` shows what a new lock would change.
LOCK_OUT    ?= requirements/constraints.txt

lock: install
	$(BIN)/uv pip compile pyproject.toml --quiet --upgrade --python-version 3.12 \
		--extra notebooks --extra dev --extra dask --extra bench \
		--custom-compile-command "make lock" --output-file $(LOCK_OUT)
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
