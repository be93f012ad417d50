"""Debian's chromium for the browser tests: where it is, how to start it, whether it is required.

Playwright drives this chromium (``executable_path=CHROMIUM``); its own browser
download is never used. Tests that need it carry ``@pytest.mark.browser``:
``tests/conftest.py`` skips them when chromium is missing, or fails them when
``XACCT_REQUIRE_BROWSER=1`` (as CI sets it) says the browser test must run.
"""

from __future__ import annotations

import os
import shutil
import socket

#: Flags for a headless chromium in a container or CI runner, with no network of its own.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]

#: The environment variable that turns a missing or skipped browser test into a failure.
REQUIRE_VAR = "XACCT_REQUIRE_BROWSER"

#: How to get the browser the tests need.
INSTALL_HINT = "install Debian's chromium: sudo apt-get install chromium"


def chromium_path() -> str | None:
    """Return the path of the ``chromium`` executable on ``PATH``, or None."""
    return shutil.which("chromium")


#: The chromium the browser tests launch ("chromium" when none is installed: such
#: tests are skipped, or failed under XACCT_REQUIRE_BROWSER=1, before they start it).
CHROMIUM = chromium_path() or "chromium"


def browser_required(environ: dict[str, str] | None = None) -> bool:
    """Whether ``XACCT_REQUIRE_BROWSER`` asks for the browser tests to run, not be skipped.

    >>> browser_required({"XACCT_REQUIRE_BROWSER": "1"}), browser_required({})
    (True, False)
    >>> browser_required({"XACCT_REQUIRE_BROWSER": "0"})
    False
    """
    value = (os.environ if environ is None else environ).get(REQUIRE_VAR, "")
    return value.strip().lower() not in ("", "0", "false", "no")


def missing_chromium() -> str | None:
    """Say why the browser tests cannot run here, or return None when chromium is installed."""
    if chromium_path() is not None:
        return None
    return f"Debian's chromium is not installed (no `chromium` on PATH): {INSTALL_HINT}"


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 now, for a server a test starts (lab, app)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
