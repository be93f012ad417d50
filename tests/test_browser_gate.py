"""The browser gate of tests/conftest.py: skip without chromium, unless it is required.

Each case runs a small suite (one test marked ``browser``, one not) with this
directory's ``conftest.py`` and ``browser_util.py``, in a separate pytest
process whose ``PATH`` holds a stand-in ``chromium`` or none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

SUITE = """
import pytest

@pytest.mark.browser
def test_in_a_browser():
    {body}

def test_elsewhere():
    pass
"""


def _run(tmp_path: Path, *, chromium: bool, required: bool, body: str = "pass",
         with_browser_test: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the small suite; return pytest's process (its output in ``stdout``)."""
    for name in ("conftest.py", "browser_util.py", "skip_gate.py"):
        shutil.copy(HERE / name, tmp_path / name)
    suite = SUITE.format(body=body)
    if not with_browser_test:
        suite = suite.replace("@pytest.mark.browser\n", "").replace("in_a_browser", "also")
    (tmp_path / "test_suite.py").write_text(suite)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = -rA --strict-markers -p no:cacheprovider\n"
        "markers =\n    browser: drives chromium\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if chromium:
        stand_in = bin_dir / "chromium"
        stand_in.write_text("#!/bin/sh\nexit 0\n")
        stand_in.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "XACCT_REQUIRE_BROWSER"}
    env["PATH"] = str(bin_dir)  # no chromium but the stand-in, if any
    if required:
        env["XACCT_REQUIRE_BROWSER"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_without_chromium_the_browser_test_is_skipped_with_how_to_install(tmp_path):
    run = _run(tmp_path, chromium=False, required=False)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 1 skipped" in run.stdout
    assert re.search(r"SKIPPED \[1\] test_suite.py:\d+: Debian's chromium is not installed "
                     r"\(no `chromium` on PATH\): install Debian's chromium: "
                     r"sudo apt-get install chromium$", run.stdout, re.MULTILINE), run.stdout


def test_without_chromium_a_required_browser_test_fails(tmp_path):
    run = _run(tmp_path, chromium=False, required=True)
    assert run.returncode == 1, run.stdout
    assert ("XACCT_REQUIRE_BROWSER=1 and Debian's chromium is not installed (no `chromium` on "
            "PATH): install Debian's chromium") in run.stdout
    assert "1 passed, 1 error" in run.stdout
    assert "no test marked @pytest.mark.browser ran" in run.stdout


def test_with_chromium_a_required_browser_test_runs(tmp_path):
    run = _run(tmp_path, chromium=True, required=True)
    assert run.returncode == 0, run.stdout
    assert "2 passed" in run.stdout and "PASSED test_suite.py::test_in_a_browser" in run.stdout
    assert "XACCT_REQUIRE_BROWSER" not in run.stdout


def test_a_required_browser_test_that_skips_itself_fails(tmp_path):
    run = _run(tmp_path, chromium=True, required=True, body='pytest.skip("no playwright")')
    assert run.returncode == 1, run.stdout
    assert ("XACCT_REQUIRE_BROWSER=1: the browser test test_suite.py::test_in_a_browser must "
            "run, but it was skipped: Skipped: no playwright") in run.stdout
    assert "1 failed, 1 passed" in run.stdout


def test_a_skip_is_only_a_skip_when_the_browser_is_not_required(tmp_path):
    run = _run(tmp_path, chromium=True, required=False, body='pytest.skip("no playwright")')
    assert run.returncode == 0, run.stdout
    assert "1 passed, 1 skipped" in run.stdout


def test_a_required_run_without_any_browser_test_fails(tmp_path):
    run = _run(tmp_path, chromium=True, required=True, with_browser_test=False)
    assert run.returncode == 1, run.stdout
    assert "2 passed" in run.stdout
    assert ("FAILED: XACCT_REQUIRE_BROWSER=1 but no test marked @pytest.mark.browser ran"
            in run.stdout)


@pytest.mark.parametrize(("value", "required"), [("1", True), ("yes", True), ("0", False),
                                                 ("", False), ("false", False)])
def test_browser_required_reads_the_variable(value, required):
    from browser_util import browser_required

    assert browser_required({"XACCT_REQUIRE_BROWSER": value}) is required
