"""Starting, describing and stopping a sandbox: the client side, in the caller's process."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from .._errors import InvalidArgumentError, SandboxError

#: Name of the analyst's profile in :attr:`Sandbox.aws_config_file`.
PROFILE = "xacct-sandbox"
_START_TIMEOUT = 60.0
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
        self.aws_config_file.write_text("\n".join(config))
        self.aws_credentials_file.write_text("\n".join(creds))
        os.chmod(self.aws_credentials_file, 0o600)

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
        """A ``boto3.Session`` of account A's analyst, pointed at the sandbox.

        Built from the ``xacct-sandbox`` profile of :attr:`aws_config_file`, so
        every client it makes talks to the sandbox, whatever the environment says.
        """
        return self._session(PROFILE)

    def outsider_session(self) -> Any:
        """A user of a third account (``account_c``) whom no trust policy names."""
        return self._session(f"{PROFILE}-outsider")

    def admin_session(self, account: str = "B") -> Any:
        """A ``boto3.Session`` of an administrator of account ``"A"`` or ``"B"`` (or its id)."""
        key = {"A": "a", self.account_a: "a", "B": "b", self.account_b: "b"}.get(str(account))
        if key is None:
            raise InvalidArgumentError(
                f"Unknown sandbox account {account!r}: use 'A' ({self.account_a}) "
                f"or 'B' ({self.account_b})."
            )
        return self._session(f"{PROFILE}-admin-{key}")

    def role_policies(self, role: str) -> dict[str, Any]:
        """The permission policies of one of the sandbox's roles (name or ARN), read through IAM.

        Pass them to ``xn.verify_access(..., policies=...)`` to have each denial
        name its deciding statement.
        """
        from .._access import read_role_policies

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

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward: session credentials expire as if time had passed.

        For tests of long-running sessions; AWS's own clock cannot be moved.
        """
        self._check_running()
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps({"op": "advance_clock", "seconds": seconds}) + "\n")
            self._process.stdin.flush()
            self._process.stdout.readline()

    def stop(self) -> None:
        """Stop the sandbox (idempotent). Its data is gone afterwards."""
        proc = self._process
        if proc.poll() is None:
            try:
                if proc.stdin:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                proc.kill()
                proc.wait(timeout=10)
        _close_pipes(proc)
        for path in (self.aws_config_file, self.aws_credentials_file):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._workdir.rmdir()
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


def start(*, port: int = 0, host: str = "127.0.0.1", timeout: float = _START_TIMEOUT) -> Sandbox:
    """Start a sandbox in a child process and wait until it is seeded and ready.

    Parameters
    ----------
    port
        TCP port; 0 (the default) picks a free one.
    host
        Interface to bind; keep the default unless you know why.
    timeout
        Seconds to wait for the sandbox to be ready.

    Returns
    -------
    Sandbox
        Stops when ``stop()`` is called, when the ``with`` block ends, or when
        this Python process exits.

    Raises
    ------
    SandboxError
        The port is in use, or the sandbox did not become ready in time.

    >>> sb = start()                        # doctest: +SKIP
    >>> sb.endpoint_url                     # doctest: +SKIP
    'http://127.0.0.1:49321'
    >>> sb.stop()                           # doctest: +SKIP
    """
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidArgumentError(f"port must be an integer in 0..65535, not {port!r}.")
    workdir = Path(tempfile.mkdtemp(prefix="xacct-sandbox-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env["PYTHONUNBUFFERED"] = "1"
    # The child imports this very package, wherever it was imported from.
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "xacct_nb.sandbox._server", "--host", host, "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=str(workdir),
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_first_line() -> None:
        assert proc.stdout is not None
        lines.put(proc.stdout.readline())

    threading.Thread(target=read_first_line, daemon=True).start()
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
            break
        except queue.Empty:
            if proc.poll() is not None and lines.empty():
                break
    if not line:
        exited = proc.poll() is not None
        if not exited:
            proc.kill()
        stderr = (proc.stderr.read() or "")[-2000:] if proc.stderr else ""
        proc.wait(timeout=10)
        _close_pipes(proc)
        what = (
            f"exited with code {proc.returncode}" if exited
            else f"did not become ready within {timeout:.0f} s"
        )
        raise SandboxError(
            f"The sandbox process {what}" + (f"; it said:\n{stderr}" if stderr else ".")
        )
    message = json.loads(line)
    if "error" in message:
        proc.wait(timeout=10)
        _close_pipes(proc)
        raise SandboxError(message["error"])
    # stderr is not read any more: send it nowhere so a chatty child never blocks.
    threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
    sandbox = Sandbox(proc, message, workdir)
    _running.add(sandbox)
    return sandbox


def _close_pipes(proc: subprocess.Popen[str]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.close()


def _drain(stream: Any) -> None:
    try:
        for _ in stream:
            pass
    except (OSError, ValueError):
        pass


@atexit.register
def _stop_all() -> None:
    for sandbox in list(_running):
        sandbox.stop()
