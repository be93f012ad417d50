"""A real browser: JupyterLab in Debian's Chromium, driven by Playwright.

The test starts JupyterLab on 127.0.0.1 on a copy of the notebooks, opens
notebook 03, runs it (its ``xn.connect()`` starts the sandbox in the kernel),
then uses the explorer as a person would: picks the table, types a partition
key, clicks Query, and checks the rows the browser shows. It saves a
screenshot, ``build/explorer.png`` (copy it to ``docs/explorer.png``, which the README
shows, when the explorer's look changes).

Chromium comes from Debian (``.ci/run`` and ``make test`` install it);
Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOT = ROOT / "build" / "explorer.png"  # docs/explorer.png is refreshed by hand

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (make test installs it)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1, serving a copy of the notebooks."""
    workdir = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "03_explore_with_widgets.ipynb", workdir)
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    settings = workdir / ".lab-settings"
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false", "checkForUpdates": false}')
    env.update(XACCT_PROGRESS="never", JUPYTER_CONFIG_DIR=str(workdir / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(workdir / ".runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings))
    log = (workdir / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={workdir}", "--ServerApp.port_retries=0",
         "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate", *(["--allow-root"] if os.geteuid() == 0 else [])],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)  # noqa: S310
            break
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.5)
    else:
        proc.kill()
    if proc.poll() is not None:
        log.close()
        pytest.fail("JupyterLab did not start:\n" + (workdir / "lab.log").read_text()[-3000:])
    yield url, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def test_explorer_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    url, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/lab/tree/03_explore_with_widgets.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook", state="visible")
        # A fresh JupyterLab asks which kernel to start: the notebook's own.
        select = page.locator(".jp-Dialog button.jp-mod-accept", has_text="Select")
        try:
            select.wait_for(state="visible", timeout=15_000)
            select.click()
        except Exception:  # noqa: BLE001 - no dialog: the kernel started by itself
            pass
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               state="attached")
        # Clear the saved outputs, then Run -> Run All Cells.
        _menu(page, "Edit", "Clear Outputs of All Cells")
        expect(page.locator(".jp-OutputArea-output")).to_have_count(0)
        _menu(page, "Run", "Run All Cells")
        # The last cell has run when its output shows the verify_access frame.
        expect(page.locator(".jp-OutputArea-output", has_text="DescribeTable").last).to_be_visible(
            timeout=120_000)
        explorer = page.locator(".widget-vbox", has=page.locator("button", has_text="Query")).first
        try:
            explorer.scroll_into_view_if_needed()
        except Exception:
            (ROOT / "build").mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "build" / "browser-failure.png"), full_page=True)
            raise
        # Use it as a person would: pick the table, type a customer, click Query.
        explorer.get_by_label("Table", exact=True).select_option("MyCrossAccountTable")
        explorer.get_by_label("Index", exact=True).select_option(label="table")
        explorer.get_by_label("Sort key", exact=True).select_option(label="(any)")
        partition = explorer.get_by_label("Partition", exact=True)
        partition.fill("C-0007")
        partition.press("Enter")
        explorer.locator("button", has_text="Query").first.click()
        rows = explorer.locator("table tbody tr", has_text="C-0007")
        expect(rows.first).to_be_visible(timeout=60_000)
        assert rows.count() >= 5
        assert explorer.locator("text=/\\d+ rows/").count() >= 1
        code = explorer.locator("textarea").first.input_value()
        assert "xn.read_query(session, 'MyCrossAccountTable', 'C-0007')" in code
        explorer.get_by_label("Chart", exact=True).select_option("total")
        expect(explorer.locator("img").first).to_be_visible()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        explorer.screenshot(path=str(SCREENSHOT))
        browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
