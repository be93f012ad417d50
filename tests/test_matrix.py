"""tools/matrix.py (``make test-matrix``): finding interpreters, reading the declared versions."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("matrix", ROOT / "tools" / "matrix.py")
assert _spec is not None and _spec.loader is not None
matrix = importlib.util.module_from_spec(_spec)
sys.modules["matrix"] = matrix  # its dataclasses look their module up
_spec.loader.exec_module(matrix)


def test_the_running_python_is_found_and_runs():
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found = matrix.find_python(version)
    assert found is not None and matrix._runs(found, version)


def test_a_python_that_is_not_installed_is_none():
    assert matrix.find_python("2.9") is None


def test_the_declared_packages_are_read_from_pyproject():
    names = matrix.declared()
    for name in ("boto3", "botocore", "pandas", "pyarrow", "moto", "dask", "parliament", "uv"):
        assert name in names
    assert names == sorted(set(names))


def test_the_pins_are_those_of_the_constraints_file():
    pins = matrix.pins()
    text = (ROOT / "requirements" / "constraints.txt").read_text()
    assert re.search(rf"^pandas=={re.escape(pins['pandas'])}$", text, re.MULTILINE)
    assert set(matrix.declared()) - {"xacct-nb"} <= set(pins)


def test_changes_name_each_package_that_differs(capsys):
    pins = matrix.pins()
    newest = dict(pins, pandas="99.0.0")
    matrix.show_changes(newest)
    out = capsys.readouterr().out
    assert "1 package(s) differ" in out and f"pandas {pins['pandas']} -> 99.0.0" in out


def test_an_unknown_environment_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        matrix.main(["oldest"])
    assert info.value.code == 2
    assert "no environment 'oldest': choose from lowest, pinned, newest" in capsys.readouterr().err


def test_lowest_and_newest_require_every_package_and_drop_connection_settings(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "someprofile")
    monkeypatch.setenv("XACCT_ROLE_ARN", "arn:aws:iam::123456789012:role/x")
    monkeypatch.setenv("XACCT_REQUIRE_BROWSER", "1")
    env = matrix.clean_env()
    assert "AWS_PROFILE" not in env and "XACCT_ROLE_ARN" not in env
    assert env["XACCT_REQUIRE_DEPS"] == "1"
    # lowest and newest run no browser test (-m "not browser"): pinned's make test does
    assert "XACCT_REQUIRE_BROWSER" not in env and '"not browser"' in " ".join(
        f'"{part}"' if " " in part else part for part in matrix.PYTEST)
