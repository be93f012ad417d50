"""The project's files agree with each other: dependencies, public API, commands."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import xacct_nb as xn

ROOT = Path(__file__).resolve().parent.parent


def _norm(requirement: str) -> tuple[str, str]:
    """('moto[server]', '==5.1.22') from 'moto[server]==5.1.22', names normalized."""
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)$", requirement)
    assert match, requirement
    name = re.sub(r"[-_.]+", "-", match.group(1).lower())
    spec = ",".join(sorted(s.strip() for s in match.group(2).split(",") if s.strip()))
    return name, spec


def _pyproject_requirements() -> set[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("notebooks", "dev", "bench", "dask"):
        reqs += project["optional-dependencies"][extra]
    # Floors for one Python only (the first releases with wheels for 3.13) have no conda
    # spelling: conda-forge builds each version for each Python.
    return {_norm(r) for r in reqs if "python_version" not in r}


def _environment_requirements() -> set[tuple[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    out = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            out |= {_norm(d) for d in dep["pip"] if not d.startswith("-e")}
        else:
            name, spec = _norm(dep)
            if name not in ("python", "pip"):
                out.add((name, spec))
    return out


def test_environment_yml_and_pyproject_declare_the_same_dependencies():
    pyproject, environment = _pyproject_requirements(), _environment_requirements()
    assert pyproject - environment == set(), "in pyproject.toml only"
    assert environment - pyproject == set(), "in environment.yml only"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert project["requires-python"] == ">=3.11"
    assert "python>=3.11" in env["dependencies"]


def test_constraints_pin_every_declared_dependency():
    lines = (ROOT / "requirements/constraints.txt").read_text().splitlines()
    # `make lock` (uv pip compile) writes `name==version` lines, each followed by "# via" notes
    pins = {_norm(line)[0]: line for line in (raw.split("#", 1)[0].strip() for raw in lines) if line}
    for name, _spec in _pyproject_requirements():
        assert name.split("[")[0] in pins, f"{name} is not pinned in requirements/constraints.txt"


def test_all_names_exist_and_are_documented():
    readme = (ROOT / "README.md").read_text()
    for name in xn.__all__:
        assert hasattr(xn, name), name
        if not name.startswith("_"):
            assert name in readme, f"{name} is exported but not in README.md"
    assert sorted(xn.__all__) == xn.__all__


def test_ci_runs_make_test_and_fails_on_failure():
    script = (ROOT / ".ci/run").read_text()
    assert "set -euo pipefail" in script
    assert re.search(r"^make test-matrix$", script, re.M)
    assert re.search(r"^export XACCT_REQUIRE_DEPS=1$", script, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: install\b", makefile, re.M)
    assert re.search(r"^test-matrix: install\n\t\$\(BIN\)/python tools/matrix.py$", makefile, re.M)
    # the matrix runs `make test` itself (the pinned environment), and fails on its failure
    matrix = (ROOT / "tools/matrix.py").read_text()
    assert '["make", "test"]' in matrix and "return 0 if all(env.ok for env in envs) else 1" in matrix
    assert re.search(r"^demo: install$", makefile, re.M)


def test_ruff_is_clean_on_code_tests_and_notebooks():
    import shutil
    import subprocess
    import sys

    # this environment's ruff (make test-matrix runs three), else one on PATH
    ruff = str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        ruff = shutil.which("ruff") or ruff
    result = subprocess.run([ruff, "check", str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_design_contract_names_are_public():
    """DESIGN.md's public API (names are a contract for notebooks, users and tests)."""
    contract = {
        "connect", "assume_role", "whoami", "read_query", "read_scan", "read_items",
        "write_frame", "verify_access", "explorer", "policies", "sandbox", "XacctError",
        "AccessDeniedError", "AssumeRoleError", "TableNotFoundError", "InvalidArgumentError",
        "ExpiredCredentialsError", "IncompleteReadError", "IncompleteWriteError",
    }
    assert contract <= set(xn.__all__)
    assert callable(xn.sandbox.start) and callable(xn.policies.simulate)


def test_license_file_matches_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    assert declared == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "[yyyy]" not in text and "Copyright 2026 xacct-nb developers" in text


def test_dev_holds_what_the_suite_needs_beyond_the_package():
    """`pip install -e .[dev]` runs the suite: the chart tests need matplotlib, the matrix uv."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    dev = {_norm(r)[0] for r in project["optional-dependencies"]["dev"]}
    assert {"matplotlib", "uv", "parliament", "setuptools", "pytest", "nbval"} <= dev
