"""The xacct command line, run as a user runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import boto3
import pytest

pytestmark = pytest.mark.sandbox


def _xacct(*args: str) -> list[str]:
    return [sys.executable, "-m", "xacct_nb._cli", *args]


def test_sandbox_command_runs_in_foreground_and_explains_itself(tmp_path):
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        _xacct("sandbox", "--env-file", str(env_file)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Press Ctrl-C" in line or not line:
                break
        text = "".join(lines)
        assert "xacct-nb sandbox running at http://127.0.0.1:" in text
        assert "export AWS_PROFILE=xacct-sandbox" in text
        assert "aws sts assume-role --role-arn arn:aws:iam::222222222222:role/" in text
        env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in env_file.read_text().splitlines()
        )
        session = boto3.Session(
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )
        sts = session.client("sts", endpoint_url=env["AWS_ENDPOINT_URL"])
        assert sts.get_caller_identity()["Account"] == "111111111111"
        assert env["AWS_SECRET_ACCESS_KEY"] not in text  # printed instructions hold no secret
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Sandbox stopped." in out


def test_sandbox_command_port_in_use(sandbox):
    port = sandbox.endpoint_url.rsplit(":", 1)[1]
    result = subprocess.run(
        _xacct("sandbox", "--port", port), capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items()},
    )
    assert result.returncode == 2
    assert f"xacct: error: Cannot start the sandbox on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_verify_command_on_the_sandbox(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    env["XACCT_PROGRESS"] = "never"
    result = subprocess.run(
        _xacct("verify", "--key", "customer_id=C-0001,order_ts=2026-01-08T02:55:00Z",
               "--fail-on-denied"),
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    out = result.stdout
    assert "using the embedded sandbox" in out
    assert "Access to MyCrossAccountTable" in out
    assert "Query index status-index    ALLOWED" in out
    assert "PutItem                     DENIED   AccessDeniedException" in out
    assert "does not allow dynamodb:PutItem" in out
    assert result.returncode == 1  # --fail-on-denied: the reader may not write


def test_verify_command_bad_key():
    result = subprocess.run(_xacct("verify", "T123", "--key", "nonsense"), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "--key 'nonsense': use name=value" in result.stderr


def test_unknown_options_are_refused_except_for_lab():
    result = subprocess.run(_xacct("verify", "--bogus"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr
    from xacct_nb._cli import build_parser

    args, unknown = build_parser().parse_known_args(["lab", "--no-browser", "--port=0"])
    assert args.command == "lab" and unknown == ["--no-browser"]


def test_lab_drops_the_shells_aws_settings_and_points_at_its_sandbox(monkeypatch, capsys):
    # Most AWS users export AWS_PROFILE: the lab's notebooks must still use its sandbox.
    from xacct_nb import _cli

    monkeypatch.setenv("AWS_PROFILE", "work-sso")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "not-for-the-sandbox")
    monkeypatch.setenv("XACCT_TABLE", "SomeoneElsesTable")
    monkeypatch.setenv("XACCT_PROGRESS", "never")
    seen: dict[str, dict[str, str]] = {}

    def fake_lab(cmd, env):
        # What the lab's notebooks do with that environment, while its sandbox runs.
        seen["env"] = env
        seen["probe"] = subprocess.run(
            [sys.executable, "-c", "import xacct_nb as xn; c = xn.connect(quiet=True); "
             "print(c.table, xn.whoami(c.session)['Arn'])"],
            env=env, capture_output=True, text=True, timeout=120,
        )
        return 0

    monkeypatch.setattr(_cli.subprocess, "call", fake_lab)
    assert _cli.main(["lab", "--notebook-dir", "notebooks"]) == 0
    env = seen["env"]
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["XACCT_TABLE"] == "MyCrossAccountTable"
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["XACCT_PROGRESS"] == "never"  # preferences stay
    probe = seen["probe"]
    assert probe.returncode == 0, probe.stderr
    table, arn = probe.stdout.split()
    assert table == "MyCrossAccountTable"
    assert ":assumed-role/DynamoDBReaderRoleForAccountA/" in arn
    out = capsys.readouterr().out
    assert "Ignoring" in out and "AWS_PROFILE" in out and "XACCT_TABLE" in out
    assert "not-for-the-sandbox" not in out


def test_make_demo_drops_the_shells_aws_settings():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, AWS_PROFILE="work-sso", XACCT_ROLE_ARN="arn:aws:iam::1:role/x",
               XACCT_PROGRESS="never")
    out = subprocess.run(["make", "-n", "-W", "pyproject.toml", "demo"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=60).stdout
    line = next(line for line in out.splitlines() if "nbconvert" in line)
    assert "-u AWS_PROFILE" in line and "-u XACCT_ROLE_ARN" in line
    assert "-u XACCT_PROGRESS" not in line
    assert "ignoring" in out and "AWS_PROFILE" in out
