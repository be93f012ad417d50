"""``xacct app`` in a real browser: the explorer page, served by Voila, used as a person would.

Starts ``xacct app`` (its own sandbox) on a free port, opens the page in
Debian's chromium through Playwright, picks the table, types a customer,
clicks Query and checks the rows shown. Elements are found by their labels
and texts, not by the widgets' HTML structure. The screenshot goes to
``build/app.png``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_util import CHROMIUM, FLAGS, free_port

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "build" / "app.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.sandbox,
]


@pytest.fixture
def app(tmp_path):
    """``xacct app`` on a free port, as a user starts it; its log in ``tmp_path``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    env.update(XACCT_PROGRESS="never", JUPYTER_CONFIG_DIR=str(tmp_path / ".jupyter"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / ".runtime"))
    log_path = tmp_path / "app.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "xacct_nb._cli", "app", "--port", str(port), "--no-browser"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 45
        # Voila runs the notebook for every visit of the page: wait for its log line rather
        # than fetch the page (and start a kernel) to learn that it is up.
        while time.monotonic() < deadline and proc.poll() is None:
            if f"running at:\n{url}" in log_path.read_text():
                break
            time.sleep(0.2)
        else:
            proc.kill()
            pytest.fail("xacct app did not serve its page:\n" + log_path.read_text()[-3000:])
        try:
            yield url, log_path
        finally:
            proc.terminate()  # xacct app stops Voila and its sandbox
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
    assert proc.returncode in (0, -15), log_path.read_text()[-3000:]


def test_explorer_page_queries_a_partition(app):
    from playwright.sync_api import expect, sync_playwright

    url, log_path = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.set_default_timeout(30_000)
        try:
            page.goto(url)
            query = page.get_by_role("button", name=re.compile(r"(^|\W)Query$"))
            expect(query).to_be_visible(timeout=45_000)  # the kernel ran, the widgets rendered
            assert page.get_by_text("XACCT_APP_TABLES").count() == 0  # the code cell is hidden
            page.get_by_label("Table", exact=True).select_option("MyCrossAccountTable")
            partition = page.get_by_label("Partition", exact=True)
            partition.fill("C-0007")
            partition.press("Enter")
            query.click()
            rows = page.get_by_role("row").filter(has_text="C-0007")
            expect(rows.first).to_be_visible(timeout=30_000)
            assert rows.count() >= 5
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        except Exception:
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(ROOT / "build" / "app-failure.png"), full_page=True)
            print(log_path.read_text()[-3000:])
            raise
        finally:
            browser.close()
    assert SCREENSHOT.stat().st_size > 10_000
