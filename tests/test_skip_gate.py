"""The dependency gate of tests/conftest.py: under XACCT_REQUIRE_DEPS=1 a missing package fails.

Each case runs a small suite with this directory's ``conftest.py`` and its
helpers in a separate pytest process, with the flag set or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
MISSING = "xacct_no_such_package"


def _run(tmp_path: Path, suite: str, *, required: bool) -> subprocess.CompletedProcess[str]:
    for name in ("conftest.py", "browser_util.py", "skip_gate.py"):
        shutil.copy(HERE / name, tmp_path / name)
    (tmp_path / "test_suite.py").write_text(suite)
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    pass\n")
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\naddopts = -rA --strict-markers -p no:cacheprovider\n"
        "markers =\n    browser: drives chromium\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("XACCT_REQUIRE_DEPS", "XACCT_REQUIRE_BROWSER")}
    if required:
        env["XACCT_REQUIRE_DEPS"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


MODULE_SKIP = f"""
import pytest
pytest.importorskip("{MISSING}")

def test_needs_it():
    pass
"""

TEST_SKIP = f"""
import pytest

def test_needs_it():
    pytest.importorskip("{MISSING}")

def test_other():
    pass

def test_not_a_dependency():
    pytest.skip("needs Linux's /proc")
"""


def test_a_module_skipped_for_a_missing_package_is_only_skipped_without_the_flag(tmp_path):
    run = _run(tmp_path, MODULE_SKIP, required=False)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 1 skipped" in run.stdout, run.stdout
    assert f"could not import '{MISSING}'" in run.stdout


def test_a_module_skipped_for_a_missing_package_fails_with_the_flag(tmp_path):
    run = _run(tmp_path, MODULE_SKIP, required=True)
    assert run.returncode != 0, run.stdout
    assert "1 error" in run.stdout and "skipped" not in run.stdout.splitlines()[-1], run.stdout
    assert (f"XACCT_REQUIRE_DEPS=1: test_suite.py was skipped because a dependency is missing "
            f"(could not import '{MISSING}'") in run.stdout


def test_a_test_skipped_for_a_missing_package_fails_with_the_flag(tmp_path):
    run = _run(tmp_path, TEST_SKIP, required=True)
    assert run.returncode == 1, run.stdout
    assert "1 failed, 2 passed, 1 skipped" in run.stdout, run.stdout
    assert "XACCT_REQUIRE_DEPS=1: test_suite.py::test_needs_it was skipped" in run.stdout
    # a skip for another reason (the platform) stays a skip
    assert "SKIPPED [1] test_suite.py" in run.stdout and "needs Linux's /proc" in run.stdout


def test_without_the_flag_the_same_tests_are_skipped(tmp_path):
    run = _run(tmp_path, TEST_SKIP, required=False)
    assert run.returncode == 0, run.stdout
    assert "2 passed, 2 skipped" in run.stdout, run.stdout
