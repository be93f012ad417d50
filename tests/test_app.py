"""``xacct app``: the command line it builds, the environment it passes, the page it serves.

The browser test (``tests/test_app_browser.py``) serves the page for real.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

from xacct_nb import _app, _cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def fake_voila(monkeypatch):
    """Stands for the Voila process: records the command and environment it was run with."""
    started: list[tuple[list[str], dict[str, str]]] = []

    def run(cmd, env):
        started.append((cmd, env))
        return 0

    monkeypatch.setattr(_app, "_run_until_stopped", run)
    return started


def test_the_voila_command_line():
    cmd = _app.voila_command(8899, open_browser=False)
    assert cmd[:4] == [sys.executable, "-m", "voila", str(_app.NOTEBOOK)]
    assert "--port=8899" in cmd and "--Voila.ip=127.0.0.1" in cmd
    assert "--Voila.port_retries=0" in cmd  # the port asked for, or an error
    assert "--show_tracebacks=False" in cmd and "--theme=light" in cmd
    assert "--no-browser" in cmd
    assert not any("strip_sources=False" in arg for arg in cmd)  # code cells stay hidden
    assert "--no-browser" not in _app.voila_command(8899, open_browser=True)


def test_the_page_is_package_data_and_reads_the_tables_setting():
    assert _app.NOTEBOOK.is_file()
    assert _app.NOTEBOOK.parent.parent == Path(_app.__file__).parent
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["xacct_nb"]
    relative = _app.NOTEBOOK.relative_to(Path(_app.__file__).parent)
    assert any(relative.match(pattern) for pattern in package_data)
    nb = nbformat.read(_app.NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = "".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert _app.TABLES_VARIABLE in code and "xn.explorer(conn.session" in code
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")


@pytest.mark.sandbox
def test_app_runs_on_a_sandbox_and_drops_the_shells_settings(fake_voila, monkeypatch, capsys):
    monkeypatch.setenv("AWS_PROFILE", "work-sso")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-the-sandbox")
    monkeypatch.setenv("XACCT_ROLE_ARN", "arn:aws:iam::999999999999:role/Elsewhere")
    monkeypatch.setenv("XACCT_PROGRESS", "never")
    probe = {}

    def probing_voila(cmd, env):
        fake_voila.append((cmd, env))
        # What the page's kernel does with that environment while the sandbox runs:
        # the notebook's own code, its last expression kept and described.
        source = "".join(c.source for c in nbformat.read(_app.NOTEBOOK, as_version=4).cells
                         if c.cell_type == "code")
        head, _, last = source.rpartition("\n")
        script = f"{head}\nex = {last}\nprint(type(ex).__name__, ex.logic.tables[:2])"
        probe["run"] = subprocess.run([sys.executable, "-c", script], env=env, text=True,
                                      capture_output=True, timeout=120)
        return 0

    monkeypatch.setattr(_app, "_run_until_stopped", probing_voila)
    assert _cli.main(["app", "--port", "8899", "--no-browser", "--table", "MyCrossAccountTable",
                      "--table", "MyProvisionedTable"]) == 0
    (cmd, env), = fake_voila
    assert cmd == _app.voila_command(8899, open_browser=False)
    assert "AWS_PROFILE" not in env and env["AWS_SECRET_ACCESS_KEY"] != "not-for-the-sandbox"
    assert env["XACCT_ROLE_ARN"].startswith("arn:aws:iam::222222222222:role/")
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert json.loads(env[_app.TABLES_VARIABLE]) == ["MyCrossAccountTable", "MyProvisionedTable"]
    assert env["XACCT_PROGRESS"] == "never"  # preferences stay
    assert probe["run"].stdout.split()[:1] == ["Explorer"], probe["run"].stderr
    assert "['MyCrossAccountTable', 'MyProvisionedTable']" in probe["run"].stdout
    out = capsys.readouterr().out
    ignoring = next(line for line in out.splitlines() if line.startswith("Ignoring "))
    assert all(name in ignoring for name in ("AWS_PROFILE", "AWS_SECRET_ACCESS_KEY",
                                             "XACCT_ROLE_ARN"))
    assert "Serving the explorer at http://127.0.0.1:8899/" in out
    assert "not-for-the-sandbox" not in out


def test_app_with_connection_options_keeps_the_shell_and_starts_no_sandbox(
        fake_voila, monkeypatch, capsys):
    from xacct_nb import sandbox

    def no_sandbox(*args, **kwargs):
        raise AssertionError("no sandbox when a connection is given")

    monkeypatch.setattr(sandbox, "start", no_sandbox)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("XACCT_EXTERNAL_ID", "from-the-shell")
    role = "arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA"
    assert _cli.main(["app", "--role-arn", role, "--profile", "analyst", "--region",
                      "eu-west-2"]) == 0
    (cmd, env), = fake_voila
    assert "--port=8866" in cmd and "--no-browser" not in cmd  # Voila's port; a browser opens
    assert env["XACCT_ROLE_ARN"] == role and env["AWS_PROFILE"] == "analyst"
    assert env["XACCT_REGION"] == "eu-west-2" and env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["XACCT_EXTERNAL_ID"] == "from-the-shell"  # the shell's, as xacct verify uses it
    assert _app.TABLES_VARIABLE not in env
    assert "Ignoring" not in capsys.readouterr().out


def test_app_env_replaces_a_stale_tables_setting():
    env = _app.app_env({"XACCT_APP_TABLES": '["Old"]', "PATH": "/bin"})
    assert env == {"PATH": "/bin"}


def test_app_refuses_a_port_out_of_range(fake_voila, capsys):
    assert _cli.main(["app", "--port", "70000"]) == 2
    assert "xacct: error: --port 70000: choose a port between 1 and 65535." in (
        capsys.readouterr().err)
    assert not fake_voila
