"""Sandbox hygiene: no secret left on disk, no stray folder, no silent exposure to the network.

These tests look for the sandbox's keys where a careless launcher would leave
them: the ``--env-file``, the AWS config/credentials files, the temporary
work folder, the child's working directory. Each points ``TMPDIR`` at its own
folder so it sees only what it created.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import warnings
from pathlib import Path

import pytest

import xacct_nb as xn
from xacct_nb._errors import InvalidArgumentError, SandboxError, XacctError

pytestmark = pytest.mark.sandbox

_PACKAGE_ROOT = str(Path(xn.__file__).resolve().parent.parent)


# -- helpers ---------------------------------------------------------------------
def _private_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point TMPDIR (and tempfile's cached choice) at a folder of this test's own."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert tempfile.gettempdir() == str(tmp)
    return tmp


def _sandbox_dirs(folder: Path) -> list[Path]:
    return sorted(folder.glob("xacct-sandbox-*"))


def _child_env(tmp: Path, home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    env["TMPDIR"] = str(tmp)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    if home is not None:
        env["HOME"] = str(home)
    return env


def _accepts(url: str) -> bool:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    host = host.strip("[]")
    assert host in ("127.0.0.1", "localhost", "::1"), "never send traffic beyond loopback"
    with contextlib.suppress(OSError), socket.create_connection((host, int(port)), timeout=0.5):
        return True
    return False


def _wait_until(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _fake_python(tmp_path: Path, body: str) -> str:
    """An executable standing in for the child's Python interpreter."""
    path = tmp_path / "fake-python"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o700)
    return str(path)


def _xacct(*args: str) -> list[str]:
    return [sys.executable, "-m", "xacct_nb._cli", *args]


def _read_until_ready(proc: subprocess.Popen[str], seconds: float = 60) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "Press Ctrl-C" in line or not line:
            break
    return "".join(lines)


# -- 1. the CLI's --env-file ------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_cli_env_file_is_private_and_removed_on_signal(tmp_path, sig):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env_file = tmp_path / "sandbox.env"
    env_file.write_text("stale\n")
    env_file.chmod(0o644)  # an old, world-readable file of that name must not keep its mode
    modes: set[int] = set()
    done = threading.Event()

    def watch() -> None:  # a hostile reader, looking for a readable moment
        while not done.is_set():
            with contextlib.suppress(OSError), open(env_file, "rb") as f:
                mode = stat.S_IMODE(os.fstat(f.fileno()).st_mode)
                if b"AWS_" in f.read():  # the new content, seen by anyone who may open it
                    modes.add(mode)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    proc = subprocess.Popen(
        _xacct("sandbox", "--env-file", str(env_file)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env(tmp),
    )
    try:
        text = _read_until_ready(proc)
        if "Press Ctrl-C" not in text:
            proc.kill()
            pytest.fail(f"xacct sandbox did not start: {text}{proc.communicate()[1]}")
        assert f"Environment written to {env_file}" in text
        content = env_file.read_text()
        assert "AWS_SECRET_ACCESS_KEY=" in content
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert len(_sandbox_dirs(tmp)) == 1
    finally:
        done.set()
        watcher.join(timeout=5)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    assert modes <= {0o600}, f"the env file was seen with modes {sorted(map(oct, modes))}"
    assert proc.returncode == 0, err
    assert "Sandbox stopped." in out
    assert "Traceback" not in err
    assert not env_file.exists(), "the env file (with the sandbox's keys) outlived the sandbox"
    assert list(tmp.iterdir()) == [], "the sandbox left files in the temp folder"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    if not path.exists():
        pytest.skip("needs Linux's /proc/PID/task/PID/children")
    return [int(c) for c in path.read_text().split()]


def test_cli_env_file_is_removed_when_the_sandbox_dies(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        _xacct("sandbox", "--env-file", str(env_file)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env(tmp),
    )
    try:
        _read_until_ready(proc)
        assert env_file.exists()
        (child,) = _children(proc.pid)
        os.kill(child, signal.SIGKILL)  # the sandbox dies; no chance to clean up itself
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert "The sandbox stopped unexpectedly." in err
    assert not env_file.exists()
    assert list(tmp.iterdir()) == [], "the launcher must remove what its child could not"


def test_cli_env_file_is_removed_when_the_cli_itself_is_killed(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env_file = tmp_path / "sandbox.env"
    proc = subprocess.Popen(
        _xacct("sandbox", "--env-file", str(env_file)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env(tmp),
    )
    try:
        _read_until_ready(proc)
        assert "AWS_SECRET_ACCESS_KEY=" in env_file.read_text()
        (child,) = _children(proc.pid)
        proc.kill()  # SIGKILL: the CLI cannot clean up; the sandbox's own process must
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 20
        while (env_file.exists() or Path(f"/proc/{child}").exists()) and (
                time.monotonic() < deadline):
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not env_file.exists(), "the env file outlived a killed `xacct sandbox`"
    assert not Path(f"/proc/{child}").exists() or "zombie" in Path(
        f"/proc/{child}/status").read_text().lower(), "the sandbox outlived its launcher"


def test_ipv6_loopback_gives_a_bracketed_endpoint(tmp_path, monkeypatch):
    _private_tmp(monkeypatch, tmp_path)
    try:
        sb = xn.sandbox.start(host="::1")
    except xn.SandboxError as exc:  # a machine without IPv6
        pytest.skip(f"no IPv6 loopback here: {exc}")
    with sb:
        assert sb.endpoint_url.startswith("http://[::1]:")
        assert _accepts(sb.endpoint_url)


def test_cli_env_file_in_a_missing_folder_is_a_clear_error(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env_file = tmp_path / "no-such-folder" / "sandbox.env"
    result = subprocess.run(
        _xacct("sandbox", "--env-file", str(env_file)), capture_output=True, text=True,
        timeout=90, env=_child_env(tmp),
    )
    assert result.returncode == 2, result.stderr
    assert f"xacct: error: Cannot write the environment file {str(env_file)!r}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp.iterdir()) == []


# -- 2. a failed start leaves no temporary folder ---------------------------------
def test_failed_start_on_a_busy_port_leaves_no_temp_folder(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SandboxError, match=f"Cannot start the sandbox on 127.0.0.1:{port}"):
            xn.sandbox.start(port=port)
    assert _sandbox_dirs(tmp) == []
    assert list(tmp.iterdir()) == []


def test_child_that_exits_early_leaves_no_temp_folder(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "executable", _fake_python(tmp_path, "echo 'no moto here' >&2; exit 3"))
    with pytest.raises(SandboxError, match="exited with code 3") as info:
        xn.sandbox.start()
    assert "no moto here" in str(info.value)
    assert _sandbox_dirs(tmp) == []


def test_child_that_says_nonsense_is_a_sandbox_error(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "executable", _fake_python(tmp_path, "echo '{not json'; sleep 30"))
    started = time.monotonic()
    with pytest.raises(SandboxError, match="unexpected") as info:
        xn.sandbox.start()
    assert isinstance(info.value, XacctError)
    assert time.monotonic() - started < 20  # the child was killed, not waited for
    assert _sandbox_dirs(tmp) == []


def test_start_timeout_leaves_no_temp_folder(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    monkeypatch.setattr(sys, "executable", _fake_python(tmp_path, "exec sleep 30"))
    with pytest.raises(SandboxError, match="did not become ready within") as info:
        xn.sandbox.start(timeout=0.5)
    assert "timeout=" in str(info.value)  # says what to do next
    assert _sandbox_dirs(tmp) == []


def test_interrupted_start_leaves_no_temp_folder_and_no_child(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    pid_file = tmp_path / "child.pid"
    monkeypatch.setattr(sys, "executable", _fake_python(tmp_path, f"echo $$ > {pid_file}; exec sleep 30"))

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with pytest.raises(KeyboardInterrupt):
            xn.sandbox.start()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert _sandbox_dirs(tmp) == []
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# -- 3. a parent killed without warning leaves no credentials file ----------------
_PARENT = textwrap.dedent(
    """
    import os, sys, time
    import xacct_nb as xn
    sb = xn.sandbox.start()
    other = 0
    if sys.argv[1] == "fork":  # a forked process keeps the control pipe open: no EOF
        other = os.fork()
        if other == 0:
            time.sleep(60)
            os._exit(0)
    print(sb.aws_credentials_file, sb.aws_config_file, sb.endpoint_url, other, flush=True)
    if sys.argv[1] == "exit":
        sys.exit(0)  # no stop(): the atexit hook must clean up
    time.sleep(600)
    """
)


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "exit", "fork"])
def test_dead_parent_leaves_no_credentials_file(tmp_path, how):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, how], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, env=_child_env(tmp), cwd=tmp_path,
    )
    other = "0"
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line, "the parent did not start a sandbox"
        creds, config, url, other = line.split()
        creds_path, config_path = Path(creds), Path(config)
        workdir = creds_path.parent
        assert workdir.parent == tmp
        if how != "exit":
            assert "aws_secret_access_key" in creds_path.read_text()
            parent.send_signal(signal.SIGTERM if how == "SIGTERM" else signal.SIGKILL)
        parent.wait(timeout=30)
        assert _wait_until(lambda: not creds_path.exists()), "credentials outlived their parent"
        assert _wait_until(lambda: not config_path.exists())
        assert _wait_until(lambda: not workdir.exists()), "the work folder outlived its parent"
        assert _wait_until(lambda: not _accepts(url)), "the sandbox outlived its parent"
        assert list(tmp.iterdir()) == []
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        parent.stdout.close()
        if int(other or 0) > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(other), signal.SIGKILL)


# -- 4. beyond loopback only on request, and with a warning -----------------------
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.1.2.3", "sandbox.example.com", ""])
def test_non_loopback_host_needs_allow_remote(tmp_path, monkeypatch, host):
    tmp = _private_tmp(monkeypatch, tmp_path)
    with pytest.raises(InvalidArgumentError) as info:
        xn.sandbox.start(host=host)
    message = str(info.value)
    assert repr(host) in message
    assert "allow_remote=True" in message and "--allow-remote" in message
    assert list(tmp.iterdir()) == []  # refused before anything was created


def test_bad_host_type_is_invalid_argument():
    with pytest.raises(InvalidArgumentError, match="host"):
        xn.sandbox.start(host=None)  # type: ignore[arg-type]


@pytest.mark.parametrize("timeout", [0, -1, "5", True])
def test_bad_timeout_is_invalid_argument(tmp_path, monkeypatch, timeout):
    tmp = _private_tmp(monkeypatch, tmp_path)
    with pytest.raises(InvalidArgumentError, match="timeout must be a positive number"):
        xn.sandbox.start(timeout=timeout)
    assert list(tmp.iterdir()) == []


def test_allow_remote_warns_that_the_keys_are_reachable(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    with pytest.warns(UserWarning, match="reachable from the network") as record:
        sb = xn.sandbox.start(host="0.0.0.0", allow_remote=True)  # noqa: S104 - the point of the test
    try:
        assert "well-known" in str(record[0].message)
        assert "0.0.0.0" in str(record[0].message)
    finally:
        sb.stop()
    assert list(tmp.iterdir()) == []


def test_loopback_hosts_do_not_warn(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with xn.sandbox.start(host="localhost") as sb:
            assert sb.running
            assert _accepts(sb.endpoint_url)
    assert list(tmp.iterdir()) == []


def test_cli_refuses_a_remote_host_without_the_flag(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    result = subprocess.run(
        _xacct("sandbox", "--host", "0.0.0.0"), capture_output=True, text=True, timeout=60,
        env=_child_env(tmp),
    )
    assert result.returncode == 2
    assert "xacct: error:" in result.stderr and "'0.0.0.0'" in result.stderr
    assert "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp.iterdir()) == []


def test_cli_allow_remote_prints_the_warning(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = subprocess.Popen(
        _xacct("sandbox", "--host", "0.0.0.0", "--allow-remote"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_child_env(tmp),
    )
    try:
        _read_until_ready(proc)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "xacct: warning:" in err and "reachable from the network" in err
    assert proc.returncode == 0, err
    assert list(tmp.iterdir()) == []


# -- 5. stop() leaves nothing -------------------------------------------------------
def test_stop_leaves_nothing_behind(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    sb = xn.sandbox.start()
    workdir = sb.aws_credentials_file.parent
    try:
        assert workdir.parent == tmp and workdir.name.startswith("xacct-sandbox-")
        assert stat.S_IMODE(workdir.stat().st_mode) == 0o700
        assert stat.S_IMODE(sb.aws_credentials_file.stat().st_mode) == 0o600
        assert stat.S_IMODE(sb.aws_config_file.stat().st_mode) == 0o600
        assert sorted(p.name for p in workdir.iterdir()) == ["config", "credentials"]
        # The child works inside the work folder, so whatever it might write goes away with it.
        assert Path(f"/proc/{sb._process.pid}/cwd").resolve() == workdir.resolve()
        session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                                 source_session=sb.analyst_session())
        assert len(xn.read_items(session, sb.table, [{"customer_id": "C-0001",
                                                      "order_ts": "nope"}])) == 0
    finally:
        sb.stop()
    assert not sb.running
    assert not workdir.exists()
    assert list(tmp.iterdir()) == []
    assert list(home.iterdir()) == []
    assert list(cwd.iterdir()) == []
    sb.stop()  # idempotent
    with pytest.raises(SandboxError, match="not running"):
        sb.analyst_session()


def test_stop_removes_strays_in_the_work_folder(tmp_path, monkeypatch):
    tmp = _private_tmp(monkeypatch, tmp_path)
    sb = xn.sandbox.start()
    workdir = sb.aws_credentials_file.parent
    (workdir / "stray.log").write_text("something the child wrote in its cwd\n")
    (workdir / "sub").mkdir()
    (workdir / "sub" / "more").write_text("x")
    sb.stop()
    assert not workdir.exists()
    assert list(tmp.iterdir()) == []


def test_child_ignores_ctrl_c_and_cleans_up_on_sigterm(tmp_path, monkeypatch):
    """A notebook's "interrupt kernel" signals the whole process group: the sandbox stays."""
    tmp = _private_tmp(monkeypatch, tmp_path)
    sb = xn.sandbox.start()
    workdir = sb.aws_credentials_file.parent
    try:
        os.kill(sb._process.pid, signal.SIGINT)
        time.sleep(1)
        assert sb.running and _accepts(sb.endpoint_url)
        sb.analyst_session().client("sts").get_caller_identity()
        os.kill(sb._process.pid, signal.SIGTERM)  # someone else ends it: it cleans up itself
        assert _wait_until(lambda: not sb.running)
        assert sb._process.returncode == 0
        assert not sb.aws_credentials_file.exists() and not workdir.exists()
    finally:
        sb.stop()
    assert list(tmp.iterdir()) == []
