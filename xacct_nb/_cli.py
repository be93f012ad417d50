"""The ``xacct`` command line.

::

    xacct sandbox [--port N] [--env-file F] [--host H --allow-remote]
                                  run the two-account sandbox in the foreground
    xacct lab [--port N]          JupyterLab on notebooks/ with a sandbox running
    xacct verify [TABLE] [...]    probe the role's access (no data changes), explain denials
    xacct export TABLE OUT [...]  stream a table or partition to Parquet / CSV
    xacct scan [TABLE] [...]      a quick look at a table (first rows)
    xacct sql "SELECT ..." [...]  a PartiQL SELECT, printed or written to Parquet / CSV
    xacct app [--port N] [...]    the explorer as a web page (Voila)
    xacct --version               the package's version

Errors are shown in a terminal's terms: the hints of :class:`XacctError`
name Python calls (``xn.verify_access(session, table)``, ``consistent=True``);
:func:`terminal_message` shows the ``xacct`` subcommands and options that do
the same (see :data:`PYTHON_TO_TERMINAL`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ._errors import XacctError
from ._version import __version__


def _cmd_sandbox(args: argparse.Namespace) -> int:
    """Run a sandbox until Ctrl-C, SIGTERM or SIGHUP; remove the ``--env-file`` afterwards.

    The first signal stops the sandbox (even in the middle of starting it);
    later ones are ignored while it cleans up, so nothing is left half-removed.
    """
    import warnings

    from . import sandbox

    env_file = Path(args.env_file).absolute() if args.env_file else None
    if env_file is not None and not env_file.parent.is_dir():
        raise XacctError(
            f"Cannot write the environment file {str(env_file)!r}: its folder does not exist. "
            "Create it, or choose another path for --env-file."
        )
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stopping.is_set():
            return  # already stopping: let the cleanup finish
        stopping.set()
        raise KeyboardInterrupt

    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    sb = None
    wrote_env_file = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sb = sandbox.start(port=args.port, host=args.host, allow_remote=args.allow_remote)
        for warning in caught:
            print(f"xacct: warning: {warning.message}", file=sys.stderr, flush=True)
        print(sb.instructions(), flush=True)
        if env_file is not None:
            wrote_env_file = True  # from here on, remove it whatever happens
            sb.remove_at_stop(env_file)  # by the sandbox, should this process be killed
            _write_env_file(env_file, sb.env())
            print(f"Environment written to {env_file} (source it in a shell; it is removed "
                  "when the sandbox stops).", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping.wait(0.5):
            if not sb.running:
                print("The sandbox stopped unexpectedly.", file=sys.stderr)
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()  # a signal from now on is ignored by on_signal
        if sb is not None:
            sb.stop()
        if wrote_env_file and env_file is not None:
            _remove_quietly(env_file)
    if sb is None:
        return 130  # interrupted while starting
    print("Sandbox stopped.", flush=True)
    return 0


def _write_env_file(path: Path, env: dict[str, str]) -> None:
    """Write ``export`` lines to ``path``, readable by its owner only from the first byte.

    The text goes to a new file created with mode 0600 beside ``path``, then
    replaces it: an older file of that name (whatever its mode) is never
    reused, and no reader ever sees a partial file.
    """
    import shlex

    text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise XacctError(
            f"Cannot write the environment file {str(path)!r}: {exc.strerror or exc}. "
            "Choose a path in a folder you can write to, or leave out --env-file."
        ) from None


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        print(f"xacct: warning: could not remove {path}: {exc.strerror or exc}; "
              "remove it yourself (it holds the sandbox's keys).", file=sys.stderr)


#: Settings of the shell that would point a sandbox notebook elsewhere (``xacct lab``
#: drops them; ``make demo`` does the same).
CONNECTION_SETTINGS = ("XACCT_ROLE_ARN", "XACCT_EXTERNAL_ID", "XACCT_TABLE", "XACCT_REGION",
                       "XACCT_CONFIG")


def shell_setting(name: str) -> bool:
    """Whether an environment variable would point boto3 or ``xn.connect()`` away from a sandbox.

    >>> shell_setting("AWS_PROFILE"), shell_setting("XACCT_TABLE"), shell_setting("XACCT_PROGRESS")
    (True, True, False)
    """
    return name.startswith("AWS_") or name in CONNECTION_SETTINGS


#: JupyterLab's news and update check, off: the lab is for the tutorials, not a pop-up asking
#: to fetch news from the internet. These become the defaults of the notification settings
#: (the user's own JupyterLab settings still win); the options turn the server side off.
LAB_SETTING_DEFAULTS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false",
                                                     "checkForUpdates": False},
}
LAB_OPTIONS = ("--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")


def _lab_config_dir(directory: Path) -> Path:
    """Write :data:`LAB_SETTING_DEFAULTS` where JupyterLab reads default overrides; return it.

    The directory goes in front of ``JUPYTER_CONFIG_PATH``: JupyterLab reads
    ``labconfig/default_setting_overrides.json`` from each such directory.
    """
    import json

    labconfig = directory / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "default_setting_overrides.json").write_text(
        json.dumps(LAB_SETTING_DEFAULTS, indent=2) + "\n")
    return directory


def _cmd_lab(args: argparse.Namespace) -> int:
    import tempfile

    from . import sandbox

    sb = sandbox.start(port=args.port)
    # The lab's notebooks use this sandbox: the shell's AWS settings (an exported
    # AWS_PROFILE, keys, an endpoint) and connection settings would send them elsewhere.
    ignored = sorted(name for name in os.environ if shell_setting(name))
    env = {name: value for name, value in os.environ.items() if not shell_setting(name)}
    env.update(sb.env())
    print(sb.instructions(), flush=True)
    if ignored:
        print(f"Ignoring {', '.join(ignored)} from your shell: the notebooks use this sandbox.")
    print("Starting JupyterLab; its notebooks connect to this sandbox through XACCT_* settings.")
    # Options before args.extra: the user's own arguments come last and win.
    cmd = [sys.executable, "-m", "jupyterlab", "--notebook-dir", args.notebook_dir,
           *LAB_OPTIONS, *args.extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in cmd:
        cmd.append("--allow-root")  # containers often run as root
    config = tempfile.TemporaryDirectory(prefix="xacct-lab-")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        filter(None, [str(_lab_config_dir(Path(config.name))), env.get("JUPYTER_CONFIG_PATH")]))

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM / SIGHUP stop the lab as Ctrl-C does, cleanly

    previous = {name: signal.signal(getattr(signal, name), stop)
                for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)}
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        for name, handler in previous.items():
            signal.signal(getattr(signal, name), handler)
        sb.stop()
        config.cleanup()


def _table(args: argparse.Namespace, configured: str | None) -> str:
    """Return the table the command names, else the configured one (``XACCT_TABLE``)."""
    table = args.table or configured
    if not table:
        raise XacctError(f"No table: pass one (xacct {args.command} TABLE) or set XACCT_TABLE.")
    return str(table)


def _cmd_scan(args: argparse.Namespace) -> int:
    from ._connect import connect
    from ._read import read_scan

    conn = connect(role_arn=args.role_arn, external_id=args.external_id, region=args.region,
                   profile=args.profile)
    df = read_scan(conn.session, _table(args, conn.table), limit=args.limit)
    print(df.to_string(max_rows=args.limit, max_colwidth=40))  # type: ignore[union-attr]
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    """Serve the explorer with Voila (``xacct_nb._app``); a sandbox unless told where."""
    from ._app import CONNECTION_OPTIONS, serve

    if not 0 < args.port < 65536:
        raise XacctError(f"--port {args.port}: choose a port between 1 and 65535.")
    connection = {option: getattr(args, option) for option in CONNECTION_OPTIONS}
    return serve(port=args.port, open_browser=not args.no_browser, tables=args.table or [],
                 connection=connection, drop=shell_setting)


def _cmd_sql(args: argparse.Namespace) -> int:
    """Run a PartiQL SELECT; print the frame (and its cost) or write it to ``--output``."""
    import pandas as pd

    from ._connect import connect
    from ._partiql import read_partiql

    output = Path(args.output) if args.output else None
    suffix = output.suffix.lower() if output is not None else ""
    if output is not None and suffix not in (".parquet", ".csv"):
        raise XacctError(
            f"--output {args.output!r}: unknown file type {suffix or '(no suffix)'!r}; name a "
            ".parquet or a .csv file (e.g. --output orders.parquet)."
        )
    if output is not None and not output.absolute().parent.is_dir():
        raise XacctError(
            f"--output {args.output!r}: the folder {str(output.absolute().parent)!r} does not "
            "exist; create it or write elsewhere."
        )
    conn = connect(role_arn=args.role_arn, external_id=args.external_id, region=args.region,
                   profile=args.profile)
    df = read_partiql(conn.session, args.statement, args.parameter or None,
                      consistent=args.consistent, limit=args.limit, progress=False)
    if not isinstance(df, pd.DataFrame):  # pragma: no cover - no chunksize here
        raise XacctError("xacct sql: expected one frame.")
    cost = (f"{len(df):,} rows, {df.attrs.get('pages', 0)} page"
            f"{'' if df.attrs.get('pages', 0) == 1 else 's'}, "
            f"{df.attrs.get('consumed_capacity', 0.0):g} read capacity units")
    if output is None:
        print(df.to_string(max_rows=60, max_cols=20, max_colwidth=40))
        print(f"xacct sql: {cost}", file=sys.stderr)
        return 0
    try:
        if suffix == ".parquet":
            _write_parquet(df, output)
        else:
            df.to_csv(output, index=False)
    except OSError as exc:
        raise XacctError(
            f"Cannot write {str(output)!r}: {exc.strerror or exc}. Choose a path you can write to."
        ) from None
    print(f"Wrote {len(df):,} rows to {output} ({suffix[1:]}; {cost}).")
    return 0


def _write_parquet(df: Any, path: Path) -> None:
    """Write ``df`` to Parquet; columns pyarrow cannot type (sets, mixed) as their text."""
    import pyarrow as pa

    try:
        df.to_parquet(path, index=False)
    except (ValueError, TypeError, pa.ArrowException):
        safe = df.copy()
        for name in safe.columns:
            if safe[name].dtype == object:
                safe[name] = safe[name].map(
                    lambda v: v if v is None or isinstance(v, (str, bytes, int, float)) else repr(v))
        safe.to_parquet(path, index=False)


def _parse_key(text: str | None) -> dict[str, Any] | None:
    """``customer_id=C-0001,order_ts=2026-01-01`` or a JSON object."""
    import json

    if not text:
        return None
    if text.lstrip().startswith("{"):
        return dict(json.loads(text))
    pairs = [part.split("=", 1) for part in text.split(",") if part]
    if any(len(p) != 2 for p in pairs):
        raise XacctError(f"--key {text!r}: use name=value[,name=value] or a JSON object.")
    return {k.strip(): v.strip() for k, v in pairs}


def _cmd_verify(args: argparse.Namespace) -> int:
    from ._access import verify_access
    from ._connect import connect

    conn = connect(role_arn=args.role_arn, external_id=args.external_id, region=args.region,
                   profile=args.profile)
    report = verify_access(conn.session, _table(args, conn.table), key=_parse_key(args.key),
                           include_writes=not args.no_writes)
    print(report)
    return 1 if (args.fail_on_denied and report.denied) else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ._connect import connect
    from ._export import export

    conn = connect(role_arn=args.role_arn, external_id=args.external_id, region=args.region,
                   profile=args.profile)
    sort = tuple(args.sort) if args.sort else None
    report = export(
        conn.session, _table(args, conn.table), args.output, partition=args.partition, sort=sort,
        index=args.index,
        columns=args.columns.split(",") if args.columns else None, format=args.format,
        chunksize=args.chunksize, progress=not args.no_progress,
    )
    print(report)
    return 0


def _connection_options(p: argparse.ArgumentParser) -> None:
    """Add the options that say where to connect (default: the settings, else the sandbox)."""
    p.add_argument("--role-arn", help="role to assume in the table's account "
                                      "(default: XACCT_ROLE_ARN; none at all: the sandbox)")
    p.add_argument("--external-id", help="ExternalId for the role (default: XACCT_EXTERNAL_ID)")
    p.add_argument("--region", help="the table's region (default: XACCT_REGION, then the "
                                    "profile's)")
    p.add_argument("--profile", help="account A's AWS profile (default: AWS_PROFILE)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xacct", description="Cross-account DynamoDB for analysts (xacct-nb)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                        help="print the version of xacct-nb and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                help="run `xacct COMMAND --help` for its options")

    p = sub.add_parser("sandbox", help="run the two-account sandbox in the foreground")
    p.add_argument("--port", type=int, default=0, help="TCP port (default: any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to bind (default 127.0.0.1; others need --allow-remote)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a --host beyond loopback: the sandbox's well-known keys become "
                        "usable by anyone who can reach the port")
    p.add_argument("--env-file",
                   help="also write `export ...` lines for a shell to this file (mode 0600, "
                        "removed when the sandbox stops)")
    p.set_defaults(func=_cmd_sandbox)

    p = sub.add_parser("lab", help="JupyterLab on the notebooks, with a sandbox running")
    p.add_argument("--port", type=int, default=0, help="sandbox port (default: any free port)")
    p.add_argument("--notebook-dir", default="notebooks",
                   help="folder of the notebooks JupyterLab opens (default: notebooks)")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="more arguments for jupyter lab")
    p.set_defaults(func=_cmd_lab)

    p = sub.add_parser(
        "verify", help="probe what the role may do to a table (no data changes) and explain denials"
    )
    p.add_argument("table", nargs="?", help="table name or ARN (default: XACCT_TABLE)")
    _connection_options(p)
    p.add_argument("--key", help="probe key, e.g. customer_id=C-0001,order_ts=2026-01-01")
    p.add_argument("--no-writes", action="store_true", help="probe reads only")
    p.add_argument("--fail-on-denied", action="store_true", help="exit 1 if anything is denied")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("export", help="stream a table (Scan) or a partition (Query) to Parquet/CSV")
    p.add_argument("table", nargs="?",
                   help="table name or ARN (default: XACCT_TABLE, or the configured one)")
    p.add_argument("output", help="file to write: .parquet or .csv")
    p.add_argument("--partition", help="export one partition (a Query) instead of the table")
    p.add_argument("--sort", nargs="+", metavar="OP_OR_VALUE",
                   help="sort-key condition with --partition, e.g. begins_with 2026-03")
    p.add_argument("--index", help="a secondary index")
    p.add_argument("--columns", help="comma-separated attributes to export")
    p.add_argument("--format", choices=["parquet", "csv"],
                   help="file format (default: from OUTPUT's suffix)")
    p.add_argument("--chunksize", type=int, default=100_000,
                   help="rows held in memory at a time (default: 100000)")
    p.add_argument("--no-progress", action="store_true", help="show no progress bar")
    _connection_options(p)
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("sql", help="run a PartiQL SELECT; print it or write Parquet/CSV")
    p.add_argument("statement", help='one SELECT, e.g. \'SELECT * FROM "MyTable" WHERE pk = ?\'')
    p.add_argument("--parameter", action="append", metavar="VALUE",
                   help="a value for the next ? (text; repeat for each ?, in order)")
    p.add_argument("--output", help="write the rows to this .parquet or .csv file")
    p.add_argument("--limit", type=int, help="at most this many rows")
    p.add_argument("--consistent", action="store_true", help="strongly consistent read")
    _connection_options(p)
    p.set_defaults(func=_cmd_sql)

    p = sub.add_parser("scan", help="print the first rows of a table")
    p.add_argument("table", nargs="?", help="table name or ARN (default: the configured one)")
    p.add_argument("--limit", type=int, default=20, help="rows to print (default: 20)")
    _connection_options(p)
    p.set_defaults(func=_cmd_scan)

    p = sub.add_parser(
        "app", help="the explorer as a web page (Voila), on a sandbox by default",
        description="Serve the explorer (xn.explorer) as a web page with Voila, on 127.0.0.1. "
                    "With no connection option it runs on its own sandbox and, like `xacct "
                    "lab`, ignores the shell's AWS_* and XACCT_* connection settings; "
                    "--role-arn, --profile, ... connect it to real accounts (with the shell's "
                    "settings as defaults).")
    p.add_argument("--port", type=int, default=8866,
                   help="port of the page on 127.0.0.1 (default: 8866)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--table", action="append", metavar="TABLE",
                   help="a table (name or ARN) to offer; repeat for more (default: the "
                        "configured table and what ListTables shows)")
    _connection_options(p)
    p.set_defaults(func=_cmd_app)
    return parser


#: The Python calls that error hints name -> what does the same in a terminal, tried in order
#: (regular expressions; a name is matched whole). ``PYTHON_ONLY`` lists the names left as
#: they are, for want of a terminal equivalent; a test finds every ``xn.`` name in the
#: package's messages and checks it is one or the other, so new hints cannot slip through.
PYTHON_TO_TERMINAL: tuple[tuple[str, str], ...] = (
    (r"xn\.verify_access\((?:session, )?table\)", "`xacct verify TABLE`"),
    (r"xn\.verify_access(?:\(\.\.\.\))?", "`xacct verify`"),
    (r"xn\.connect\(\) / xn\.assume_role(?:\(\.\.\.\))?",
     "--role-arn (or XACCT_ROLE_ARN)"),
    (r"use xn\.connect\(\) with no settings for the sandbox",
     "leave every AWS and XACCT setting out for the sandbox"),
    (r"pass region_name= to xn\.assume_role", "pass --region"),
    (r"call xn\.assume_role\(\.\.\.\) again", "run the command again"),
    (r"xn\.assume_role(?:\(\.\.\.\))?", "--role-arn"),
    (r"xn\.read_query / xn\.read_scan", "`xacct scan` / `xacct export`"),
    (r"xn\.read_scan", "`xacct scan`"),
    (r"xn\.read_query", "`xacct export --partition`"),
    (r"xn\.read_partiql", "`xacct sql`"),
    (r"xn\.export", "`xacct export`"),
    (r"xn\.sandbox\.start\(\)", "`xacct sandbox`"),
    (r"xn\.explorer", "`xacct app`"),
)
#: ``xn.`` names with no terminal equivalent: hints keep them (they are Python's way).
PYTHON_ONLY = frozenset({
    "policies", "write_frame", "read_items", "describe", "export_snapshot", "read_snapshot",
    "describe_snapshot", "whoami", "Explorer", "XacctError", "connect", "cache", "sandbox",
})
#: Keyword arguments named in hints whose option has another name.
_KEYWORD_OPTIONS = {"region_name": "--region", "partition": "--partition"}
_KEYWORD = re.compile(r"(?<![\w.-])([a-z][a-z_]*)=(True|\.\.\.)?(?![\w'\"\[{(=])")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Return the subcommands of ``parser``, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def terminal_message(exc: XacctError, command: argparse.ArgumentParser | None = None) -> str:
    """Return ``exc``'s message in a terminal's terms, for the ``xacct`` subcommand ``command``.

    The hint's terminal form (``exc.cli_hint``) replaces it when the error has
    one; Python calls become the subcommands of :data:`PYTHON_TO_TERMINAL`, and
    keyword arguments (``consistent=True``, ``external_id=``) the options of
    ``command`` that take them (``--consistent``, ``--external-id``). What has
    no terminal equivalent is left as it is.

    >>> sql = _subcommands(build_parser())["sql"]
    >>> terminal_message(XacctError("Drop consistent=True, or see xn.verify_access(session, "
    ...                             "table)."), sql)
    'Drop --consistent, or see `xacct verify TABLE`.'
    """
    text = str(exc)
    if exc.hint and exc.cli_hint and exc.hint in text:
        text = text.replace(exc.hint, exc.cli_hint)
    for pattern, terminal in PYTHON_TO_TERMINAL:
        text = re.sub(pattern + r"(?![\w(])", terminal.replace("\\", "\\\\"), text)
    if command is None:
        return text
    options = {opt: action for action in command._actions for opt in action.option_strings}

    def option(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        flag = _KEYWORD_OPTIONS.get(name, "--" + name.replace("_", "-"))
        action = options.get(flag)
        if action is None:
            return match.group(0)
        if action.nargs == 0:  # a switch: consistent=True -> --consistent
            return flag
        return f"{flag} {value}" if value == "..." else flag

    return _KEYWORD.sub(option, text)


class _LineTracker:
    """Stands for ``sys.stderr`` while a command runs: knows whether its last line is ended.

    A progress bar (tqdm) leaves the line it drew unended (a carriage return); an error
    printed then must begin on a line of its own.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.line_ended = True

    def write(self, text: str) -> int:
        if text:
            self.line_ended = text.endswith("\n")
        return int(self.stream.write(text) or 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _end_progress(stderr: _LineTracker) -> None:
    """Close the progress bars still open and end the line they were drawn on."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None:
        for bar in list(getattr(tqdm.tqdm, "_instances", ())):
            with contextlib.suppress(Exception):  # a broken bar must not hide the error
                bar.close()
    if not stderr.line_ended:
        stderr.write("\n")
        stderr.flush()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xacct`` command."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "lab":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.extra = [*unknown, *args.extra]  # passed on to jupyter lab
    stderr = _LineTracker(sys.stderr)
    sys.stderr = stderr
    try:
        result: Any = args.func(args)
    except XacctError as exc:
        _end_progress(stderr)
        message = terminal_message(exc, _subcommands(parser).get(args.command))
        print(f"xacct: error: {message}", file=stderr)
        return 2
    except KeyboardInterrupt:
        _end_progress(stderr)
        print("xacct: interrupted", file=stderr)
        return 130
    finally:
        if sys.stderr is stderr:
            sys.stderr = stderr.stream
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
