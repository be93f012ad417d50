"""The xacct command line, run as a user runs it."""

from __future__ import annotations

import ast
import os
import re
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
    # the line that runs the notebooks (nbconvert, or the demo runner that replaced it)
    line = next(line for line in out.splitlines()
                if "nbconvert" in line or "xacct_nb._demo" in line)
    assert "-u AWS_PROFILE" in line and "-u XACCT_ROLE_ARN" in line
    assert "-u XACCT_PROGRESS" not in line
    assert "ignoring" in out and "AWS_PROFILE" in out


# -- the command line itself: version, help, table fallback --------------------------------


def test_version(capsys):
    from xacct_nb import _cli
    from xacct_nb._version import __version__

    with pytest.raises(SystemExit) as exit_:
        _cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"xacct {__version__}"


def _walk(parser, path="xacct"):
    """Every (command path, action) of ``parser`` and of its subcommands, recursively."""
    import argparse

    for action in parser._actions:
        yield path, action
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from _walk(subparser, f"{path} {name}")


def test_every_option_of_every_subcommand_has_help():
    import argparse

    from xacct_nb._cli import build_parser

    actions = list(_walk(build_parser()))
    commands = {path for path, _ in actions}
    assert {"xacct", "xacct sandbox", "xacct lab", "xacct verify", "xacct export", "xacct sql",
            "xacct scan", "xacct app"} <= commands
    missing = [f"{path}: {action.option_strings or action.dest}" for path, action in actions
               if not isinstance(action, argparse._HelpAction)
               and not (action.help and action.help.strip())]
    assert not missing, f"options without help=: {missing}"


def test_export_falls_back_to_the_configured_table(tmp_path, capsys):
    # No table on the command line: XACCT_TABLE (here the sandbox's) is exported, as with the
    # other commands.
    from xacct_nb import _cli

    out = tmp_path / "orders.csv"
    assert _cli.main(["export", str(out), "--partition", "C-0007", "--no-progress"]) == 0
    text = out.read_text()
    assert text.startswith('"customer_id","order_ts"') and "C-0007" in text
    assert f"rows x 19 columns written to {out}" in capsys.readouterr().out
    args = _cli.build_parser().parse_args(["export", "T", "out.parquet"])
    assert (args.table, args.output) == ("T", "out.parquet")


def test_no_table_at_all_says_how_to_name_one():
    from xacct_nb import _cli

    args = _cli.build_parser().parse_args(["export", "out.parquet"])
    with pytest.raises(_cli.XacctError, match=r"No table: pass one \(xacct export TABLE\)"):
        _cli._table(args, None)


# -- errors in a terminal's terms ------------------------------------------------------------


def _run(capsys, *argv):
    from xacct_nb import _cli

    code = _cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_access_denied_advises_xacct_verify(capsys):
    code, _, err = _run(capsys, "scan", "PrivateLedgerTable")
    assert code == 2
    assert "xacct: error: Scan on table 'PrivateLedgerTable' failed: AccessDeniedException" in err
    assert "Run `xacct verify TABLE` to see every action the role may do and why" in err
    assert "xn.verify_access" not in err and "Traceback" not in err


def test_consistent_read_of_an_index_advises_dropping_the_option(capsys):
    code, _, err = _run(capsys, "sql",
                        'SELECT * FROM "MyCrossAccountTable"."status-index" WHERE status = ?',
                        "--parameter", "SHIPPED", "--consistent")
    assert code == 2
    assert "Consistent reads are not supported on global secondary indexes" in err
    assert "drop --consistent, or select from the table itself" in err
    assert "consistent=True" not in err


def test_partiql_denial_names_the_commands_that_need_less(capsys):
    code, _, err = _run(capsys, "sql", 'SELECT * FROM "PrivateLedgerTable"')
    assert code == 2
    assert "dynamodb:PartiQLSelect" in err
    assert "read with `xacct scan` / `xacct export`, which need only the usual read actions" in err
    assert "`xacct verify TABLE` shows what the role may do" in err
    assert "xn.read_query" not in err and "xn.verify_access" not in err


def test_refused_assume_role_names_the_option_for_the_external_id(sandbox, monkeypatch, capsys):
    # Account A's analyst, the reader role, but no ExternalId: the trust policy refuses.
    for name, value in sandbox.env().items():
        if not name.startswith("XACCT_"):
            monkeypatch.setenv(name, value)
    code, _, err = _run(capsys, "verify", "MyCrossAccountTable",
                        "--role-arn", sandbox.reader_role_arn)
    assert code == 2
    assert "xacct: error: AssumeRole of arn:aws:iam::222222222222:role/" in err
    assert "none was given: pass --external-id" in err
    assert "external_id=" not in err


def test_every_python_hint_of_the_error_codes_has_a_terminal_form():
    from xacct_nb._errors import CLI_HINTS, ERROR_CODES

    pythonic = re.compile(r"xn\.|\b[a-z_]+=|`segments`")
    for code, (_, hint) in ERROR_CODES.items():
        if pythonic.search(hint):
            assert hint in CLI_HINTS, f"{code}: no terminal form of {hint!r} in CLI_HINTS"
            assert not pythonic.search(CLI_HINTS[hint].replace("in Python, xn.policies", "")
                                       .replace("xn.policies.simulate", ""))


def _message_texts(tree):
    """The string pieces of every message a module raises or builds into an error or hint."""
    def is_message(node):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            return name.endswith("Error") or name.endswith("error")
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            return any("HINT" in ast.unparse(t).upper() for t in targets)
        return isinstance(node, ast.FunctionDef) and "hint" in node.name.lower()

    for node in ast.walk(tree):
        if is_message(node):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    yield sub.value


def test_every_python_name_in_the_messages_is_translated_or_known_to_be_python_only():
    # A new hint naming xn.something fails here until PYTHON_TO_TERMINAL maps it to a
    # subcommand or PYTHON_ONLY says it has no terminal form: the CLI's advice cannot drift.
    from pathlib import Path

    from xacct_nb import _cli
    from xacct_nb._errors import XacctError

    root = Path(_cli.__file__).parent
    parser = _cli.build_parser()
    commands = _cli._subcommands(parser)
    seen, untranslated = 0, []
    for path in sorted(root.glob("*.py")):
        if path.name == "dask.py":  # no command reaches Dask: its advice stays Python's
            continue
        for text in _message_texts(ast.parse(path.read_text())):
            if "xn." not in text:
                continue
            seen += 1
            shown = _cli.terminal_message(XacctError(text), commands["verify"])
            untranslated += [f"{path.name}: {m.group(0)} in {text!r}"
                             for m in re.finditer(r"xn\.(\w+)", shown)
                             if m.group(1) not in _cli.PYTHON_ONLY]
    assert seen >= 10
    assert not untranslated, "\n".join(untranslated)
    # ... and what they are translated to exists.
    for _, terminal in _cli.PYTHON_TO_TERMINAL:
        for name in re.findall(r"`xacct (\w+)", terminal):
            assert name in commands, terminal
        for option in re.findall(r"(--[a-z-]+)", terminal):
            assert any(option in sub._option_string_actions for sub in commands.values()), option


def test_keyword_arguments_become_the_options_of_the_command():
    from xacct_nb import _cli
    from xacct_nb._errors import XacctError

    commands = _cli._subcommands(_cli.build_parser())
    err = XacctError("pass external_id=, region_name=..., key_schema=... or consistent=True; "
                     "max_cost=5 was given; parameters=[...].")
    assert _cli.terminal_message(err, commands["sql"]) == (
        "pass --external-id, --region ..., key_schema=... or --consistent; "
        "max_cost=5 was given; parameters=[...].")
    # verify has no --consistent: that advice stays as it is rather than name a missing option
    assert "consistent=True" in _cli.terminal_message(err, commands["verify"])


def test_an_error_carries_its_terminal_hint():
    from botocore.exceptions import ClientError

    from xacct_nb import _cli
    from xacct_nb._errors import translate_client_error

    err = translate_client_error(
        ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "Query"),
        table="T")
    assert "xn.assume_role(...)" in str(err)  # Python's advice is unchanged
    shown = _cli.terminal_message(err)
    assert "xn.assume_role" not in shown and "aws sso login" in shown
    assert shown.startswith("Query on table 'T' failed: ExpiredToken: expired. Renew")


# -- the progress line ends before the error --------------------------------------------------


def test_an_open_progress_bar_is_ended_before_the_error(monkeypatch, capsys):
    from tqdm import tqdm

    from xacct_nb import _cli

    def failing_scan(args):
        bar = tqdm(total=10, desc="Scan T", unit=" items", leave=True)
        bar.update(3)  # drawn, never closed
        raise _cli.XacctError("Scan failed: the endpoint went away.")

    monkeypatch.setattr(_cli, "_cmd_scan", failing_scan)
    assert _cli.main(["scan", "T"]) == 2
    err = capsys.readouterr().err
    assert "Scan T:  30%" in err
    before, _, after = err.partition("xacct: error: ")
    assert before.endswith("\n") and after == "Scan failed: the endpoint went away.\n"
    assert not list(getattr(tqdm, "_instances", ()))  # the bar was closed


def test_the_export_bar_line_is_ended_before_the_error(capsys, tmp_path):
    # A real export, bar shown (no --no-progress), refused at its first page.
    code, _, err = _run(capsys, "export", "PrivateLedgerTable", str(tmp_path / "x.parquet"))
    assert code == 2
    assert "Export PrivateLedgerTable: 0 rows" in err
    line = next(line for line in err.split("\n") if "xacct: error:" in line)
    assert line.startswith("xacct: error: Scan on table 'PrivateLedgerTable' failed")
    assert not (tmp_path / "x.parquet").exists()


def test_no_blank_line_when_nothing_was_drawn(capsys):
    code, _, err = _run(capsys, "verify", "T123", "--key", "nonsense")
    assert code == 2
    assert err == "xacct: error: --key 'nonsense': use name=value[,name=value] or a JSON object.\n"


def test_the_readme_shows_every_subcommand_with_an_example_the_parser_accepts():
    import shlex
    from pathlib import Path

    from xacct_nb._cli import _subcommands, build_parser

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("\n## The command line\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    examples = [shlex.split(line, comments=True) for line in block.splitlines()
                if line.startswith("xacct ")]
    parser = build_parser()
    shown = set()
    for argv in examples:
        args, unknown = parser.parse_known_args(argv[1:])  # exits (fails) on a wrong option
        assert not unknown, argv
        shown.add(args.command)
    assert shown == set(_subcommands(parser)), "subcommands without an example in the README"
    assert "xacct --version" in section
