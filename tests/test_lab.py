"""``make lab`` and ``xacct lab``: copies of the tutorials, and a JupyterLab without news pop-ups."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_util import free_port

ROOT = Path(__file__).resolve().parent.parent
NOTIFICATION = "@jupyterlab/apputils-extension:notification"

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


@needs_make
def test_make_lab_serves_the_copies_not_the_tutorials():
    run = _make("-n", "lab")
    assert run.returncode == 0, run.stderr
    assert "xacct lab --notebook-dir build/lab" in run.stdout
    assert "--notebook-dir notebooks" not in run.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", "build/lab/01.ipynb"], cwd=ROOT,
                             check=False)
    assert ignored.returncode == 0, "build/lab/ must be git-ignored"


@needs_make
def test_lab_copies_are_made_followed_and_never_overwritten_once_edited(tmp_path):
    tutorials, lab = tmp_path / "tutorials", tmp_path / "lab"
    tutorials.mkdir()
    one, two = tutorials / "01_one.ipynb", tutorials / "02_two.ipynb"
    one.write_text("one v1")
    two.write_text("two v1")

    def lab_notebooks() -> str:
        run = _make("lab-notebooks", f"LAB_DIR={lab}", f"NOTEBOOKS={one} {two}")
        assert run.returncode == 0, run.stderr
        return run.stdout

    out = lab_notebooks()
    assert f"copied {one} to {lab}/01_one.ipynb" in out
    assert (lab / "01_one.ipynb").read_text() == "one v1"
    assert (lab / "02_two.ipynb").read_text() == "two v1"
    assert (lab / "output").is_dir()  # notebook 04 writes its exports there
    assert "rm -r" in out  # how to get fresh copies

    # The user runs and saves 01 in the lab; both tutorials then change.
    (lab / "01_one.ipynb").write_text("one v1, run and saved")
    one.write_text("one v2")
    two.write_text("two v2")
    out = lab_notebooks()
    assert (lab / "01_one.ipynb").read_text() == "one v1, run and saved"  # kept
    assert f"kept your edited {lab}/01_one.ipynb" in out and f"rm {lab}/01_one.ipynb" in out
    assert (lab / "02_two.ipynb").read_text() == "two v2"  # not edited: follows its tutorial
    assert f"updated {lab}/02_two.ipynb" in out

    # Unchanged tutorials since: nothing copied; the stale edited copy is still named.
    out = lab_notebooks()
    assert "copied" not in out and "updated" not in out
    assert f"kept your edited {lab}/01_one.ipynb" in out
    assert (lab / "01_one.ipynb").read_text() == "one v1, run and saved"

    # A fresh copy: remove it.
    (lab / "01_one.ipynb").unlink()
    lab_notebooks()
    assert (lab / "01_one.ipynb").read_text() == "one v2"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - 127.0.0.1 only
        return answer.read().decode()


@pytest.mark.slow
def test_xacct_lab_turns_news_off_and_keeps_the_users_settings(monkeypatch, tmp_path, capsys):
    """Start the JupyterLab ``xacct lab`` would start; ask it for the notification settings."""
    from xacct_nb import _cli

    # The user's own JupyterLab settings: one choice of theirs in the same plugin.
    user_settings = tmp_path / "user-settings"
    mine = user_settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    mine.parent.mkdir(parents=True)
    mine.write_text('{"doNotDisturbMode": true}')
    monkeypatch.setenv("JUPYTERLAB_SETTINGS_DIR", str(user_settings))
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path / "users-config-path"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    (tmp_path / "work").mkdir()
    port, token = free_port(), secrets.token_hex(8)
    seen: dict = {}

    def lab(cmd, env):
        seen["cmd"], seen["env"] = cmd, env
        log = (tmp_path / "lab.log").open("w")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    _get(f"{base}/api/status?token={token}")
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log")
                                    .read_text()[-3000:])
                    time.sleep(0.5)
            seen["settings"] = json.loads(
                _get(f"{base}/lab/api/settings/{NOTIFICATION}?token={token}"))
            seen["page"] = _get(f"{base}/lab?token={token}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
        return 0

    monkeypatch.setattr(_cli.subprocess, "call", lab)
    assert _cli.main(["lab", "--notebook-dir", str(tmp_path / "work"), "--no-browser",
                      "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                      "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}"]) == 0
    capsys.readouterr()
    cmd, env = seen["cmd"], seen["env"]
    assert "--LabApp.news_url=None" in cmd
    assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in cmd
    # The user's own arguments come after ours, so theirs win.
    assert cmd.index("--LabApp.news_url=None") < cmd.index("--no-browser")
    ours, theirs = env["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert theirs == str(tmp_path / "users-config-path")
    assert not Path(ours).exists()  # removed when the lab stops
    assert env["JUPYTERLAB_SETTINGS_DIR"] == str(user_settings)  # the user's, untouched

    # Our values are the plugin's defaults; the user's own settings stay theirs, on top.
    defaults = {name: spec.get("default")
                for name, spec in seen["settings"]["schema"]["properties"].items()}
    assert defaults["fetchNews"] == "false" and defaults["checkForUpdates"] is False
    assert seen["settings"]["settings"] == {"doNotDisturbMode": True}
    assert mine.read_text() == '{"doNotDisturbMode": true}'
    assert '"news": {"disabled": true}' in seen["page"]


def test_xacct_lab_settings_defaults_are_what_jupyterlab_reads(tmp_path):
    """The overrides file is where jupyterlab_server looks, with the plugin's setting names."""
    from xacct_nb._cli import LAB_SETTING_DEFAULTS, _lab_config_dir

    directory = _lab_config_dir(tmp_path / "config")
    probe = subprocess.run(
        [sys.executable, "-c", "import json; from jupyterlab_server.settings_utils import "
         "_get_overrides; print(json.dumps(_get_overrides('unused')[0]))"],
        env={**os.environ, "JUPYTER_CONFIG_PATH": str(directory)},
        capture_output=True, text=True, timeout=60, check=True,
    )
    overrides = json.loads(probe.stdout)
    assert overrides[NOTIFICATION] == {"fetchNews": "false", "checkForUpdates": False}
    assert LAB_SETTING_DEFAULTS[NOTIFICATION] == overrides[NOTIFICATION]
