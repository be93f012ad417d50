"""Starting, describing and stopping a sandbox: the client side, in the caller's process."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import weakref
from pathlib import Path
from typing import Any

from .._errors import InvalidArgumentError, SandboxError

#: Name of the analyst's profile in :attr:`Sandbox.aws_config_file`.
PROFILE = "xacct-sandbox"
_START_TIMEOUT = 60.0
#: Hosts that keep the sandbox on this machine; any other needs ``allow_remote=True``.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_running: weakref.WeakSet[Sandbox] = weakref.WeakSet()


class Sandbox:
    """A running sandbox. Use :func:`start` to get one; ``stop()`` or ``with`` ends it.

    Attributes
    ----------
    endpoint_url : str
        Where every service (STS, IAM, DynamoDB) of both accounts answers.
    region, account_a, account_b, external_id : str
    reader_role_arn, writer_role_arn, requester_role_arn : str
    table, table_arn, private_table, index : str
    provisioned_table : str
        ``MyProvisionedTable``: the same orders in a PROVISIONED table (100 RCU,
        25 WCU; its ``status-index`` GSI 50 RCU, 25 WCU) whose reads beyond its
        capacity are throttled as DynamoDB throttles them (see :meth:`spend_burst`).
        The reader role may read it.
    writer_partitions : list of str
        Partition keys the writer role may write.
    mfa_serial : str
        The analyst's MFA device; the sandbox accepts any six-digit code.
    aws_config_file, aws_credentials_file : pathlib.Path
        AWS CLI / boto3 configuration with the sandbox's profiles.
    """

    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any], workdir: Path) -> None:
        self._process = process
        self._credentials: dict[str, dict[str, str]] = info.pop("credentials")
        self._workdir = workdir
        self._lock = threading.Lock()
        self.endpoint_url: str = info["endpoint_url"]
        self.region: str = info["region"]
        self.account_a: str = info["account_a"]
        self.account_b: str = info["account_b"]
        self.account_c: str = info["account_c"]
        self.external_id: str = info["external_id"]
        self.reader_role_arn: str = info["reader_role_arn"]
        self.writer_role_arn: str = info["writer_role_arn"]
        self.requester_role_arn: str = info["requester_role_arn"]
        self.writer_partitions: list[str] = info["writer_partitions"]
        self.mfa_serial: str = info["mfa_serial"]
        self.table: str = info["table"]
        self.table_arn: str = info["table_arn"]
        self.private_table: str = info["private_table"]
        self.index: str = info["index"]
        self.provisioned_table: str = info["provisioned_table"]
        self.item_count: int = info["item_count"]
        self.aws_config_file = workdir / "config"
        self.aws_credentials_file = workdir / "credentials"
        self._write_aws_files()

    # -- configuration for boto3 and the AWS CLI -----------------------------
    def _profiles(self) -> dict[str, str]:
        return {
            PROFILE: "analyst",
            f"{PROFILE}-admin-a": "admin_a",
            f"{PROFILE}-admin-b": "admin_b",
            f"{PROFILE}-outsider": "outsider",
        }

    def _write_aws_files(self) -> None:
        config, creds = [], []
        for profile, who in self._profiles().items():
            c = self._credentials[who]
            config.append(
                f"[profile {profile}]\nregion = {self.region}\n"
                f"endpoint_url = {self.endpoint_url}\n"
            )
            creds.append(
                f"[{profile}]\naws_access_key_id = {c['access_key_id']}\n"
                f"aws_secret_access_key = {c['secret_access_key']}\n"
            )
        _write_private(self.aws_config_file, "\n".join(config))
        _write_private(self.aws_credentials_file, "\n".join(creds))

    def _session(self, profile: str) -> Any:
        import boto3
        import botocore.session

        self._check_running()
        core = botocore.session.Session()
        core.set_config_variable("config_file", str(self.aws_config_file))
        core.set_config_variable("credentials_file", str(self.aws_credentials_file))
        core.set_config_variable("profile", profile)
        return boto3.Session(botocore_session=core)

    def analyst_session(self) -> Any:
        """Return a ``boto3.Session`` of account A's analyst, pointed at the sandbox.

        Built from the ``xacct-sandbox`` profile of :attr:`aws_config_file`, so
        every client it makes talks to the sandbox, whatever the environment says.
        """
        return self._session(PROFILE)

    def outsider_session(self) -> Any:
        """Return a user of a third account (``account_c``) whom no trust policy names."""
        return self._session(f"{PROFILE}-outsider")

    def admin_session(self, account: str = "B") -> Any:
        """Return a ``boto3.Session`` of an administrator of account ``"A"``, ``"B"`` (or its id)."""
        key = {"A": "a", self.account_a: "a", "B": "b", self.account_b: "b"}.get(str(account))
        if key is None:
            raise InvalidArgumentError(
                f"Unknown sandbox account {account!r}: use 'A' ({self.account_a}) "
                f"or 'B' ({self.account_b})."
            )
        return self._session(f"{PROFILE}-admin-{key}")

    def role_policies(self, role: str) -> dict[str, Any]:
        """Read the permission policies of one of the sandbox's roles (name or ARN) through IAM.

        Pass them to ``xn.verify_access(..., policies=...)`` to have each denial
        name its deciding statement.
        """
        from .._documents import read_role_policies

        name = role.rsplit("/", 1)[-1]
        account = role.split(":")[4] if role.startswith("arn:") else self.account_b
        iam = self.admin_session("A" if account == self.account_a else "B").client("iam")
        return read_role_policies(iam, name)

    def env(self, *, with_role: bool = True) -> dict[str, str]:
        """Environment variables that point boto3, the AWS CLI and ``xn.connect()`` here.

        Includes the analyst's keys (they are the sandbox's, not secrets of
        any real account) and, with ``with_role``, the ``XACCT_*`` settings
        for the reader role.
        """
        c = self._credentials["analyst"]
        env = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": c["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": c["secret_access_key"],
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        if with_role:
            env.update(
                XACCT_ROLE_ARN=self.reader_role_arn,
                XACCT_EXTERNAL_ID=self.external_id,
                XACCT_TABLE=self.table,
                XACCT_REGION=self.region,
            )
        return env

    def instructions(self) -> str:
        """How to point boto3 or the AWS CLI at this sandbox, as text for a terminal."""
        return (
            f"xacct-nb sandbox running at {self.endpoint_url}\n"
            f"  account A {self.account_a}: user analyst; role {self.requester_role_arn}\n"
            f"  account B {self.account_b}: tables {self.table} (index {self.index}), "
            f"{self.provisioned_table} (provisioned capacity: reads beyond it are throttled), "
            f"{self.private_table}\n"
            f"  reader role  {self.reader_role_arn}\n"
            f"  writer role  {self.writer_role_arn} (partitions {', '.join(self.writer_partitions)})\n"
            f"  external id  {self.external_id}\n\n"
            "Point the AWS CLI or boto3 at it:\n"
            f"  export AWS_CONFIG_FILE={self.aws_config_file}\n"
            f"  export AWS_SHARED_CREDENTIALS_FILE={self.aws_credentials_file}\n"
            f"  export AWS_PROFILE={PROFILE}\n"
            f"  aws sts assume-role --role-arn {self.reader_role_arn} "
            f"--role-session-name me --external-id {self.external_id}\n\n"
            "or in Python:\n"
            "  import xacct_nb as xn\n"
            f"  session = xn.assume_role({self.reader_role_arn!r}, "
            f"external_id={self.external_id!r})\n"
            f"  df = xn.read_scan(session, {self.table!r})\n"
        )

    # -- lifecycle -------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def _check_running(self) -> None:
        if not self.running:
            raise SandboxError(
                f"The sandbox at {self.endpoint_url} is not running (it was stopped "
                f"or exited with code {self._process.returncode}): start a new one with "
                "xn.sandbox.start()."
            )

    def remove_at_stop(self, path: str | os.PathLike[str]) -> None:
        """Have the sandbox's own process remove ``path`` when it stops.

        Even if this process is killed (SIGKILL), the sandbox notices and
        removes the file: ``xacct sandbox --env-file`` uses this for the file
        holding the analyst's keys.
        """
        self._command({"op": "remove_at_stop", "path": str(Path(path).absolute())})

    def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        self._check_running()
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(command) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        try:
            reply = json.loads(line)
        except ValueError:
            return {}
        return reply if isinstance(reply, dict) else {}

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward: session credentials expire as if time had passed.

        For tests of long-running sessions; AWS's own clock cannot be moved.
        """
        self._command({"op": "advance_clock", "seconds": float(seconds)})

    def spend_burst(self, table: str | None = None) -> list[str]:
        """Use up the burst capacity of the provisioned tables, as other readers of a busy table would.

        The sandbox enforces the read capacity of PROVISIONED tables as
        DynamoDB does: a token bucket per table and per GSI, filled at its
        ``ReadCapacityUnits`` per second, keeping up to 300 seconds of unused
        capacity (burst), charged with each read's ConsumedCapacity; a read
        arriving while the bucket is empty gets
        ``ProvisionedThroughputExceededException``. A table starts with one
        second of its capacity and accrues burst from then on, so a few
        seconds after :func:`start` a whole Scan of :attr:`provisioned_table`
        (about 290 RCU) fits in its burst. This brings the buckets of
        ``table`` (a name or ARN; by default every provisioned table) and of
        its GSIs back to one second of capacity, so that what comes next
        shows what a table without burst does: an unbudgeted parallel Scan
        is throttled, a read with ``max_rcu=`` below the capacity is not.
        Real DynamoDB has no such switch: its burst is whatever went unused.

        Returns
        -------
        list of str
            The tables whose buckets were reset.

        Raises
        ------
        InvalidArgumentError
            ``table`` is not a provisioned table of the sandbox.
        """
        if table is not None and not isinstance(table, str):
            raise InvalidArgumentError(f"table must be a table name or ARN, not {table!r}.")
        tables = self._command({"op": "spend_burst", "table": table}).get("tables")
        if not isinstance(tables, list):
            tables = []
        if table is not None and not tables:
            raise InvalidArgumentError(
                f"{table!r} is not a provisioned table of the sandbox (on-demand tables have no "
                f"read capacity to spend): try {self.provisioned_table!r}."
            )
        return [str(t) for t in tables]

    def stop(self) -> None:
        """Stop the sandbox (idempotent). Its data, profiles and work folder are gone afterwards.

        The child process removes the AWS config and credentials files as it
        exits; the work folder is removed here too, with anything left in it.
        """
        proc = self._process
        if proc.poll() is None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError, ValueError):
                proc.kill()
                proc.wait(timeout=10)
        _close_pipes(proc)
        for path in (self.aws_config_file, self.aws_credentials_file):
            path.unlink(missing_ok=True)
        _remove_workdir(self._workdir)
        _running.discard(self)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"<Sandbox {state} at {self.endpoint_url}: accounts {self.account_a} -> "
            f"{self.account_b}, table {self.table!r}>"
        )


def start(
    *,
    port: int = 0,
    host: str = "127.0.0.1",
    timeout: float = _START_TIMEOUT,
    allow_remote: bool = False,
) -> Sandbox:
    """Start a sandbox in a child process and wait until it is seeded and ready.

    Parameters
    ----------
    port : int
        TCP port; 0 (the default) picks a free one.
    host : str
        Interface to bind: ``"127.0.0.1"`` (the default), ``"::1"`` or
        ``"localhost"``. Any other address needs ``allow_remote=True``.
    timeout : float
        Seconds to wait for the sandbox to be ready.
    allow_remote : bool
        Allow a ``host`` beyond loopback (e.g. ``"0.0.0.0"``). The sandbox's
        keys are well known, so anyone who can reach the port can use them:
        a ``UserWarning`` says so.

    Returns
    -------
    Sandbox
        Stops when ``stop()`` is called, when the ``with`` block ends, or when
        this Python process exits. If this process is killed, the child
        notices (its standard input closes), removes the AWS config and
        credentials files and the work folder, and exits.

    Raises
    ------
    InvalidArgumentError
        ``port`` or ``host`` is malformed, or ``host`` is beyond loopback
        without ``allow_remote=True``.
    SandboxError
        The port is in use, the child process failed, or the sandbox did not
        become ready in time. Nothing is left behind: no process, no folder.

    Warns
    -----
    UserWarning
        With ``allow_remote=True`` and a host beyond loopback.

    >>> sb = start()
    >>> sb.endpoint_url
    'http://127.0.0.1:...'
    >>> sb.stop()
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidArgumentError(f"port must be an integer in 0..65535, not {port!r}.")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise InvalidArgumentError(f"timeout must be a positive number of seconds, not {timeout!r}.")
    if not isinstance(host, str):
        raise InvalidArgumentError(
            f"host must be a string such as '127.0.0.1', not {host!r}."
        )
    if host.lower() not in LOOPBACK_HOSTS:
        if not allow_remote:
            raise InvalidArgumentError(
                f"Refusing to bind the sandbox to host {host!r}: it is not a loopback address "
                "(127.0.0.1, ::1, localhost), and the sandbox's keys are well known, so anyone "
                "who can reach the port could use them. Keep the default host, or, if you "
                "really mean to expose it, pass allow_remote=True to xn.sandbox.start() "
                "(`xacct sandbox --allow-remote`)."
            )
        warnings.warn(
            f"The sandbox on {host}:{port or '<any free port>'} is reachable from the network: "
            "its well-known keys (printed by sb.env() and the docs) let anyone who can reach "
            "the port read and write its data. Stop it when you are done; keep it on "
            "127.0.0.1 unless you need it elsewhere.",
            UserWarning,
            stacklevel=2,
        )
    try:
        workdir = Path(tempfile.mkdtemp(prefix="xacct-sandbox-"))
    except OSError as exc:
        raise SandboxError(
            f"Cannot create the sandbox's work folder in {tempfile.gettempdir()}: "
            f"{exc.strerror or exc}. Free some space there, or point TMPDIR at a folder "
            "you can write to."
        ) from None
    proc: subprocess.Popen[str] | None = None
    first: _FirstLine | None = None
    try:
        proc = _spawn(host, port, workdir)
        tail = _StderrTail(proc)
        first = _FirstLine(proc)
        message = _await_ready(proc, timeout, first, tail)
        try:
            sandbox = Sandbox(proc, message, workdir)
        except OSError as exc:
            raise SandboxError(
                f"Cannot write the sandbox's AWS config files in {workdir}: "
                f"{exc.strerror or exc}. Free some space in {tempfile.gettempdir()}, or point "
                "TMPDIR at a folder you can write to."
            ) from None
    except BaseException:  # a failure or Ctrl-C at any point: leave nothing behind
        if proc is not None:
            _kill(proc)
            if first is not None:
                first.abandon()
            elif proc.stdout is not None:
                with contextlib.suppress(OSError, ValueError):
                    proc.stdout.close()
        _remove_workdir(workdir)
        raise
    _running.add(sandbox)
    return sandbox


def _spawn(host: str, port: int, workdir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env["PYTHONUNBUFFERED"] = "1"
    # The child imports this very package, wherever it was imported from.
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    command = [
        sys.executable, "-m", "xacct_nb.sandbox._server",
        "--host", host, "--port", str(port), "--workdir", str(workdir),
    ]
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(workdir),  # whatever the child writes lands in the folder removed at stop
        )
    except OSError as exc:
        raise SandboxError(
            f"Cannot run the sandbox's process ({sys.executable}): {exc.strerror or exc}. "
            "Check that this Python installation is intact, or reinstall xacct-nb."
        ) from None


class _StderrTail:
    """Reads the child's stderr for its whole life (so it never blocks), keeping the end."""

    def __init__(self, proc: subprocess.Popen[str], keep: int = 2000) -> None:
        self._chunks: list[str] = []
        self._keep = keep
        self._thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        try:
            for line in stream:
                self._chunks.append(line)
                if sum(map(len, self._chunks)) > 4 * self._keep:
                    self._chunks[:] = ["".join(self._chunks)[-self._keep:]]
        except (OSError, ValueError):
            pass
        finally:  # this thread owns stderr: closing it elsewhere would wait for this read
            with contextlib.suppress(OSError, ValueError):
                stream.close()

    def text(self, wait: float = 2.0) -> str:
        """Return what the child wrote so far, after waiting up to ``wait`` s for its end."""
        self._thread.join(timeout=wait)
        return "".join(self._chunks).strip()[-self._keep:]


class _FirstLine:
    """Reads the child's first line of stdout in a thread, so waiting for it can time out.

    If the launcher gives up (:meth:`abandon`), stdout is closed by whichever
    of the two finishes last: closing it while the thread reads would block.
    """

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._stream = proc.stdout
        self._lock = threading.Lock()
        self._done = self._abandoned = False
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            line = self._stream.readline() if self._stream is not None else ""
        except (OSError, ValueError):
            line = ""
        self.lines.put(line)
        with self._lock:
            self._done = True
            close = self._abandoned
        if close:
            self._close()

    def abandon(self) -> None:
        with self._lock:
            self._abandoned = True
            close = self._done
        if close:
            self._close()

    def _close(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(OSError, ValueError):
                self._stream.close()


def _await_ready(
    proc: subprocess.Popen[str], timeout: float, first: _FirstLine, stderr: _StderrTail
) -> dict[str, Any]:
    """Wait for the child's one JSON line; raise :class:`SandboxError` on anything else."""
    deadline = time.monotonic() + timeout
    line: str | None = None
    while line is None and time.monotonic() < deadline:
        try:
            line = first.lines.get(timeout=min(0.2, max(deadline - time.monotonic(), 0.01)))
        except queue.Empty:
            continue
    if not line:
        exited = line == ""  # stdout closed: the child is exiting (or has exited)
        if exited:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        code = proc.poll()
        _kill(proc)
        said = stderr.text()
        if code is not None:
            what = f"exited with code {code} before it was ready"
            hint = (
                "If the cause is unclear, run `python -m xacct_nb.sandbox._server` in a "
                "terminal to watch it start; reinstall xacct-nb if it cannot import."
            )
        else:
            what = f"did not become ready within {timeout:g} s"
            hint = "The machine may be busy: try again with a longer timeout=..."
        said = f" It said:\n{said}\n" if said else " "
        raise SandboxError(f"The sandbox process {what}.{said}{hint}")
    try:
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("not a JSON object")
    except ValueError:
        _kill(proc)
        said = stderr.text()
        raise SandboxError(
            f"The sandbox process answered something unexpected instead of its description: "
            f"{line.strip()[:200]!r}" + (f"; it said:\n{said}\n" if said else ". ")
            + "Check that xacct-nb is installed completely (pip install --force-reinstall xacct-nb)."
        ) from None
    if "error" in message:
        _kill(proc)
        raise SandboxError(str(message["error"]))
    if "credentials" not in message or "endpoint_url" not in message:
        _kill(proc)
        raise SandboxError(
            "The sandbox process described itself without an endpoint or credentials: "
            "check that xacct-nb is installed completely (pip install --force-reinstall xacct-nb)."
        )
    return message


def _kill(proc: subprocess.Popen[str]) -> None:
    """End the child now (it is not ready, or its launcher gave up) and reap it.

    Only stdin is closed here: stdout and stderr belong to their reader threads.
    """
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        proc.wait(timeout=10)
    if proc.stdin is not None:
        with contextlib.suppress(OSError, ValueError):
            proc.stdin.close()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file only its owner may read, from its very first byte."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def _remove_workdir(workdir: Path) -> None:
    """Remove a sandbox's work folder (created by :func:`start`, so everything in it is ours)."""
    shutil.rmtree(workdir, ignore_errors=True)


def _close_pipes(proc: subprocess.Popen[str]) -> None:
    """Close the control channel (stdin, stdout); stderr belongs to its reader thread."""
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()


@atexit.register
def _stop_all() -> None:
    for sandbox in list(_running):
        sandbox.stop()
