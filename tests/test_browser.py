"""A real browser: the explorer in JupyterLab, in Debian's Chromium, driven by Playwright.

The test starts JupyterLab on 127.0.0.1 on a notebook that makes an explorer
(its ``xn.connect()`` starts the sandbox in the kernel), and uses it as an
analyst would, step by step, with a screenshot of each step under
``build/browser/`` (``docs/explorer.png``, which the README shows, is a copy
of step 3; refresh it by hand when the explorer's look changes):

1. pick a table and see its overview;
2. pick a partition from the suggestions, then a date range;
3. Query, sort the grid by a column, go to page 2, expand a nested cell;
4. copy the code (checked on the clipboard), paste it in a new cell, run it:
   it equals ``explorer.result``;
5. start a Scan, confirm its cost, and Cancel mid-read: the widget answers
   within a second;
6. a bad filter value is refused at once;
7. a denied table shows only its error.

Chromium comes from Debian (``.ci/run`` installs it); Playwright's own
browser download is never used. Without chromium the test is skipped (see
``tests/conftest.py``), unless ``XACCT_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from browser_util import CHROMIUM, FLAGS, free_port

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "build" / "browser"

pytestmark = [pytest.mark.sandbox, pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "explore.ipynb"
SETUP = """import pandas as pd
import xacct_nb as xn

conn = xn.connect()
explorer = xn.explorer(conn.session, tables=[conn.table, "PrivateLedgerTable"], history=False)
explorer"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1, serving a notebook that makes an explorer."""
    workdir = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SETUP)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, workdir / NOTEBOOK)
    port, token = free_port(), secrets.token_hex(16)
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


def _shot(target, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SHOTS / name))


def _run_new_cell(page, paste: bool = False, text: str = "") -> None:
    """Add a cell below the last one, fill it (paste the clipboard or insert text), run it."""
    page.locator(".jp-Notebook .jp-Cell").last.click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")  # command mode: insert a cell below
    page.keyboard.press("Enter")  # edit it
    if paste:
        page.keyboard.press("Control+v")
    if text:
        page.keyboard.insert_text(text)
    page.keyboard.press("Shift+Enter")


def test_explorer_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    url, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(viewport={"width": 1500, "height": 2200},
                                      permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            _flow(page, url, token, expect)
        except Exception:
            _shot(page, "failure.png")
            raise
        finally:
            browser.close()


def _flow(page, url, token, expect) -> None:
    page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}")
    page.wait_for_selector(".jp-Notebook", state="visible")
    select = page.locator(".jp-Dialog button.jp-mod-accept", has_text="Select")
    try:  # a fresh JupyterLab may ask which kernel to start: the notebook's own
        select.wait_for(state="visible", timeout=10_000)
        select.click()
    except Exception:  # noqa: BLE001 - no dialog: the kernel started by itself
        pass
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           state="attached")
    page.locator(".jp-Notebook .jp-Cell").first.click()
    page.keyboard.press("Shift+Enter")
    explorer = page.locator(".widget-vbox", has=page.locator("button", has_text="Query")).first
    expect(explorer).to_be_visible(timeout=120_000)

    # 1. Pick a table and see its overview.
    explorer.get_by_label("Table", exact=True).select_option("MyCrossAccountTable")
    overview = explorer.locator("table.xacct-overview")
    expect(overview).to_contain_text("3,000 items")
    expect(overview).to_contain_text("RCU (USD")
    expect(overview).to_contain_text("status-index")
    _shot(explorer, "1-overview.png")

    # 2. A partition from the suggestions, then a date range.
    partition = explorer.get_by_label("Partition", exact=True)
    suggestions = page.locator(f"datalist[id='{partition.get_attribute('list')}'] option")
    values = [suggestions.nth(i).get_attribute("value") for i in range(suggestions.count())]
    assert "C-0007" in values and len(values) >= 10
    partition.fill("C-0007")
    explorer.get_by_label("Sort key", exact=True).select_option("between")
    explorer.get_by_label("from (UTC)", exact=True).fill("2026-01-01T00:00")
    explorer.get_by_label("to (UTC)", exact=True).fill("2026-06-30T23:59")
    _shot(explorer, "2-partition-and-dates.png")

    # 3. Query; sort the grid by a column, page 2, expand a nested cell.
    explorer.locator("button", has_text="Query").first.click()
    grid = explorer.locator(".dt-container")
    expect(grid.locator("tbody tr").first).to_contain_text("C-0007")
    summary = explorer.locator("text=/\\d+ rows, .* read capacity units/")
    expect(summary).to_be_visible()
    rows = int(re.match(r"(\d+) rows", summary.inner_text()).group(1))
    assert 10 < rows <= 20  # one customer's orders of half a year: two pages of 10
    assert "from datetime import UTC, datetime" in explorer.locator("textarea").last.input_value()
    grid.locator(".dt-length select").select_option("10")
    expect(grid.locator(".dt-info")).to_contain_text(f"1 to 10 of {rows}")
    header = grid.locator(".dt-scroll-head thead th", has_text="total").first
    header.get_by_role("button").click()  # its sort arrow (the text stays selectable)
    expect(header).to_have_attribute("aria-sort", "ascending")
    totals = [float(t) for t in grid.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert totals == sorted(totals) and len(totals) == 10
    grid.locator(".dt-paging-button", has_text="2").click()
    expect(grid.locator(".dt-info")).to_contain_text(f"11 to {rows} of {rows}")
    second_page = [float(t) for t in grid.locator("tbody tr td:nth-child(5)").all_inner_texts()]
    assert min(second_page) >= max(totals)
    _shot(explorer, "3-grid.png")
    nested = grid.locator("tbody tr").first.locator("details.xacct-json").first
    expect(nested.locator("pre")).to_be_hidden()
    nested.locator("summary").click()
    expect(nested.locator("pre")).to_be_visible()
    expect(nested.locator("pre")).to_contain_text('"sku"')
    assert "\\n" not in nested.locator("pre").inner_text()  # real lines, not escapes
    _shot(grid, "3-nested.png")

    # 4. Copy the code; paste it in a new cell and run it: the same frame.
    code = explorer.locator("textarea").last.input_value()
    assert "xn.read_query(conn.session, 'MyCrossAccountTable', 'C-0007', sort=('between'," in code
    explorer.locator("button.xacct-copy").click()
    expect(explorer.locator("button.xacct-copy")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == code
    _run_new_cell(page, paste=True)
    _run_new_cell(page, text="pd.testing.assert_frame_equal(_, explorer.result)\n"
                             "print('the same frame', len(_))")
    expect(page.locator(".jp-OutputArea-output", has_text=f"the same frame {rows}")) \
        .to_be_visible()
    _shot(page.locator(".jp-CodeCell", has_text="xn.read_query(conn.session").last,
          "4-pasted-code.png")

    # 5. A Scan: confirm its cost, then Cancel mid-read: the widget answers within a second.
    explorer.scroll_into_view_if_needed()
    explorer.get_by_label("Max RCU", exact=True).fill("5")
    explorer.locator("button", has_text="Scan").first.click()
    confirm = explorer.locator("text=/It costs about .* RCU/")
    expect(confirm).to_be_visible()
    explorer.locator("button", has_text="Scan it all").click()
    expect(explorer.locator("text=/Reading scan/")).to_be_visible()
    _shot(explorer, "5-scan-running.png")
    started = time.monotonic()
    explorer.locator("button", has_text="Cancel").click()
    expect(explorer.locator("text=/Cancelled: the scan was stopped/")).to_be_visible(timeout=1000)
    assert time.monotonic() - started < 1.0
    expect(explorer.locator("button", has_text="Query").first).to_be_enabled(timeout=1000)
    expect(explorer.locator(f"text=/^{rows} rows, /")).to_be_visible()  # the last one stays
    _shot(explorer, "5-scan-cancelled.png")
    explorer.get_by_label("Max RCU", exact=True).fill("0")

    # 6. A bad filter value is refused at once.
    explorer.locator("button", has_text="+ filter").click()
    row = explorer.locator(".widget-hbox", has=page.locator("button .fa-trash")).last
    row.get_by_placeholder("attribute").fill("total")
    row.get_by_placeholder("value").first.fill("abc")
    expect(row.locator(".xacct-filter-error")).to_contain_text("is not a number", timeout=1000)
    _shot(explorer, "6-bad-filter.png")

    # 7. A denied table shows only its error.
    explorer.get_by_label("Table", exact=True).select_option("PrivateLedgerTable")
    expect(explorer.locator("text=/not authorized to perform: dynamodb:DescribeTable/")) \
        .to_be_visible()
    expect(explorer.locator(".dt-container")).to_have_count(0)
    expect(explorer.locator(f"text=/^{rows} rows, /")).to_have_count(0)
    assert explorer.locator("textarea").last.input_value() == ""
    _shot(explorer, "7-denied.png")
