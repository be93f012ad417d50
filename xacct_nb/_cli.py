"""The ``xacct`` command line.

::

    xacct sandbox [--port N] [--env-file F] [--host H --allow-remote]
                                  run the two-account sandbox in the foreground
    xacct lab [--port N]          JupyterLab on notebooks/ with a sandbox running
    xacct verify [TABLE] [...]    probe the role's access (no data changes), explain denials
    xacct export TABLE OUT [...]  stream a table or partition to Parquet / CSV
    xacct scan [TABLE] [...]      a quick look at a table (first rows)
    xacct sql "SELECT ..." [...]  a PartiQL SELECT, printed or written to Parquet / CSV
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from ._errors import XacctError


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


def _cmd_lab(args: argparse.Namespace) -> int:
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
    cmd = [sys.executable, "-m", "jupyterlab", "--notebook-dir", args.notebook_dir, *args.extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in cmd:
        cmd.append("--allow-root")  # containers often run as root
    try:
        return subprocess.call(cmd, env=env)
    except KeyboardInterrupt:
        return 0
    finally:
        sb.stop()


def _table(args: argparse.Namespace, configured: str | None) -> str:
    """Return the table the command names, else the configured one (``XACCT_TABLE``)."""
    table = args.table or configured
    if not table:
        raise XacctError(f"No table: pass one (xacct {args.command} TABLE) or set XACCT_TABLE.")
    return str(table)


def _cmd_scan(args: argparse.Namespace) -> int:
    from ._connect import connect
    from ._read import read_scan

    conn = connect()
    df = read_scan(conn.session, _table(args, conn.table), limit=args.limit)
    print(df.to_string(max_rows=args.limit, max_colwidth=40))  # type: ignore[union-attr]
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xacct", description="Cross-account DynamoDB for analysts (xacct-nb)."
    )
    sub = parser.add_subparsers(dest="command", required=True)

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
    p.add_argument("--notebook-dir", default="notebooks")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="more arguments for jupyter lab")
    p.set_defaults(func=_cmd_lab)

    p = sub.add_parser(
        "verify", help="probe what the role may do to a table (no data changes) and explain denials"
    )
    p.add_argument("table", nargs="?", help="table name or ARN (default: XACCT_TABLE)")
    p.add_argument("--role-arn", help="role to assume (default: XACCT_ROLE_ARN)")
    p.add_argument("--external-id", help="ExternalId for the role (default: XACCT_EXTERNAL_ID)")
    p.add_argument("--region")
    p.add_argument("--profile", help="account A's AWS profile")
    p.add_argument("--key", help="probe key, e.g. customer_id=C-0001,order_ts=2026-01-01")
    p.add_argument("--no-writes", action="store_true", help="probe reads only")
    p.add_argument("--fail-on-denied", action="store_true", help="exit 1 if anything is denied")
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("export", help="stream a table (Scan) or a partition (Query) to Parquet/CSV")
    p.add_argument("table", help="table name or ARN")
    p.add_argument("output", help="file to write: .parquet or .csv")
    p.add_argument("--partition", help="export one partition (a Query) instead of the table")
    p.add_argument("--sort", nargs="+", metavar="OP_OR_VALUE",
                   help="sort-key condition with --partition, e.g. begins_with 2026-03")
    p.add_argument("--index", help="a secondary index")
    p.add_argument("--columns", help="comma-separated attributes to export")
    p.add_argument("--format", choices=["parquet", "csv"])
    p.add_argument("--chunksize", type=int, default=100_000)
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--role-arn")
    p.add_argument("--external-id")
    p.add_argument("--region")
    p.add_argument("--profile")
    p.set_defaults(func=_cmd_export)

    p = sub.add_parser("sql", help="run a PartiQL SELECT; print it or write Parquet/CSV")
    p.add_argument("statement", help='one SELECT, e.g. \'SELECT * FROM "MyTable" WHERE pk = ?\'')
    p.add_argument("--parameter", action="append", metavar="VALUE",
                   help="a value for the next ? (text; repeat for each ?, in order)")
    p.add_argument("--output", help="write the rows to this .parquet or .csv file")
    p.add_argument("--limit", type=int, help="at most this many rows")
    p.add_argument("--consistent", action="store_true", help="strongly consistent read")
    p.add_argument("--role-arn")
    p.add_argument("--external-id")
    p.add_argument("--region")
    p.add_argument("--profile")
    p.set_defaults(func=_cmd_sql)

    p = sub.add_parser("scan", help="print the first rows of a table")
    p.add_argument("table", nargs="?", help="table name or ARN (default: the configured one)")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=_cmd_scan)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xacct`` command."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "lab":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.extra = [*unknown, *args.extra]  # passed on to jupyter lab
    try:
        result: Any = args.func(args)
    except XacctError as exc:
        print(f"xacct: error: {exc}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
