"""``xacct app``: the explorer (``xn.explorer``) as a standalone web page, served by Voila.

The page is ``xacct_nb/app/explorer.ipynb`` (package data): one hidden cell
that runs ``conn = xn.connect()`` and shows ``xn.explorer(conn.session,
tables=...)``. Voila runs it in a fresh kernel for each visitor and shows only
the widgets, never the code.

Where it connects is decided here, before Voila starts:

- with no connection option (``--role-arn``, ``--external-id``, ``--region``,
  ``--profile``), like ``xacct lab``: an embedded sandbox runs for as long as
  the app, and the shell's ``AWS_*`` and ``XACCT_*`` connection settings are
  dropped (and named) so they cannot send the page elsewhere;
- with any of them, the shell's settings are kept (account A's credentials
  come from them) and the options are passed on as ``XACCT_*`` settings,
  which ``xn.connect()`` reads in the page's kernel.

``--table`` names the tables to offer (``XACCT_APP_TABLES``, a JSON list);
without it the page offers the configured table and whatever ListTables shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

__all__ = [
    "CONNECTION_OPTIONS",
    "NOTEBOOK",
    "TABLES_VARIABLE",
    "app_env",
    "serve",
    "voila_command",
]

#: The page Voila serves (package data).
NOTEBOOK = Path(__file__).resolve().with_name("app") / "explorer.ipynb"
#: The environment variable that carries ``--table`` to the page, as a JSON list.
TABLES_VARIABLE = "XACCT_APP_TABLES"
#: ``xacct app`` option (its ``argparse`` dest) -> the setting ``xn.connect()`` reads.
CONNECTION_OPTIONS = {
    "role_arn": "XACCT_ROLE_ARN",
    "external_id": "XACCT_EXTERNAL_ID",
    "region": "XACCT_REGION",
    "profile": "AWS_PROFILE",
}


def voila_command(port: int, *, open_browser: bool = True, notebook: Path = NOTEBOOK,
                  python: str = sys.executable) -> list[str]:
    """Return the command line that serves ``notebook`` with Voila on 127.0.0.1:``port``.

    Code cells stay hidden (Voila's default), tracebacks never reach the page,
    and the port is the one asked for or none (no silent move to another).

    >>> cmd = voila_command(8866, open_browser=False, python="python")
    >>> cmd[:3], cmd[4:]  # doctest: +NORMALIZE_WHITESPACE
    (['python', '-m', 'voila'], ['--port=8866', '--Voila.ip=127.0.0.1', '--Voila.port_retries=0',
     '--theme=light', '--show_tracebacks=False', '--no-browser'])
    """
    cmd = [python, "-m", "voila", str(notebook), f"--port={port}", "--Voila.ip=127.0.0.1",
           "--Voila.port_retries=0", "--theme=light", "--show_tracebacks=False"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def app_env(shell: Mapping[str, str], *, tables: Sequence[str] = (),
            connection: Mapping[str, str | None] | None = None,
            sandbox_env: Mapping[str, str] | None = None,
            drop: Callable[[str], bool] = lambda name: False) -> dict[str, str]:
    """Return the environment of the Voila server (and so of the page's kernels).

    Parameters
    ----------
    shell
        The environment ``xacct app`` runs in.
    tables
        The tables to offer (``--table``); passed as ``XACCT_APP_TABLES``.
    connection
        The connection options given (``role_arn``, ``external_id``, ``region``,
        ``profile``; ``None`` for those not given): they override the shell.
    sandbox_env
        The settings of the sandbox to use (``Sandbox.env()``), when there is
        one: the shell's settings that ``drop`` names are then left out first.
    drop
        Whether a variable of the shell would point ``xn.connect()`` away from the
        sandbox (``xacct_nb._cli.shell_setting``).

    >>> app_env({"AWS_PROFILE": "work", "HOME": "/h"}, tables=["T"],
    ...         sandbox_env={"XACCT_TABLE": "MyCrossAccountTable"},
    ...         drop=lambda name: name.startswith("AWS_"))
    {'HOME': '/h', 'XACCT_TABLE': 'MyCrossAccountTable', 'XACCT_APP_TABLES': '["T"]'}
    """
    if sandbox_env is not None:
        env = {name: value for name, value in shell.items() if not drop(name)}
        env.update(sandbox_env)
    else:
        env = dict(shell)
    for option, value in (connection or {}).items():
        if value is not None:
            env[CONNECTION_OPTIONS[option]] = value
    env.pop(TABLES_VARIABLE, None)
    if tables:
        env[TABLES_VARIABLE] = json.dumps(list(tables))
    return env


def serve(*, port: int, open_browser: bool, tables: Sequence[str],
          connection: Mapping[str, str | None], drop: Callable[[str], bool]) -> int:
    """Serve the explorer page until Ctrl-C; return Voila's exit status.

    With no connection option, a sandbox runs for as long as the page (see the
    module's documentation).
    """
    sb = None
    if not any(value is not None for value in connection.values()):
        from . import sandbox

        sb = sandbox.start()
        ignored = sorted(name for name in os.environ if drop(name))
        print(sb.instructions(), flush=True)
        if ignored:
            print(f"Ignoring {', '.join(ignored)} from your shell: the app uses this sandbox "
                  "(pass --role-arn, --profile, ... to explore your own tables).", flush=True)
    env = app_env(os.environ, tables=tables, connection=connection,
                  sandbox_env=sb.env() if sb is not None else None, drop=drop)
    print(f"Serving the explorer at http://127.0.0.1:{port}/ (Ctrl-C stops it).", flush=True)
    try:
        return _run_until_stopped(voila_command(port, open_browser=open_browser), env)
    finally:
        if sb is not None:
            sb.stop()


def _run_until_stopped(cmd: list[str], env: dict[str, str]) -> int:
    """Run ``cmd`` until it ends, or until Ctrl-C / SIGTERM / SIGHUP: then stop it too."""
    import signal

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            with contextlib.suppress(ValueError):  # not the main thread: leave them alone
                previous[name] = signal.signal(getattr(signal, name), on_signal)
    proc = subprocess.Popen(cmd, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 0
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
