"""Fixtures: a clean AWS environment per test, one sandbox per test session.

Also the browser gate: a test marked ``@pytest.mark.browser`` needs Debian's
chromium. Without it the test is skipped, with a reason that says how to
install it; with ``XACCT_REQUIRE_BROWSER=1`` (CI) a missing chromium, a skipped
browser test, or a run in which no browser test ran at all is a failure.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import xacct_nb as xn

# The tests' helper modules (browser_util, faultproxy, ...) import by their plain names.
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))

import skip_gate  # noqa: E402
from browser_util import REQUIRE_VAR, browser_required, missing_chromium  # noqa: E402

#: Read once, before any test: the autouse fixture below clears XACCT_* variables per test.
_BROWSER_REQUIRED = browser_required()
_DEPS_REQUIRED = skip_gate.deps_required()
_browser_tests_run = 0
_NO_BROWSER_TEST = pytest.StashKey[bool]()


def _is_browser_test(item: pytest.Item) -> bool:
    return item.get_closest_marker("browser") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without chromium, mark the browser tests skipped (reported at the test, with why)."""
    reason = missing_chromium()
    if reason is None or _BROWSER_REQUIRED:
        return
    for item in items:
        if _is_browser_test(item):
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a browser test without chromium when the browser is required."""
    if _BROWSER_REQUIRED and _is_browser_test(item):
        reason = missing_chromium()
        if reason is not None:
            pytest.fail(f"{REQUIRE_VAR}=1 and {reason}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Under XACCT_REQUIRE_DEPS=1, a module skipped for a missing package fails instead."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _DEPS_REQUIRED:
        why = skip_gate.skip_reason(report.longrepr)
        if skip_gate.missing_dependency(why):
            report.outcome = "failed"
            report.longrepr = skip_gate.failure(collector.nodeid, why)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Count the browser tests that ran; under XACCT_REQUIRE_BROWSER=1 a skip is a failure.

    Under XACCT_REQUIRE_DEPS=1, a test skipped for a missing package fails too.
    """
    global _browser_tests_run
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _DEPS_REQUIRED and not hasattr(report, "wasxfail"):
        why = skip_gate.skip_reason(report.longrepr)
        if skip_gate.missing_dependency(why):
            report.outcome = "failed"
            report.longrepr = skip_gate.failure(item.nodeid, why)
            return
    if not _is_browser_test(item):
        return
    if report.when == "call" and not report.skipped:
        _browser_tests_run += 1
    if report.skipped and _BROWSER_REQUIRED and not hasattr(report, "wasxfail"):
        why = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"{REQUIRE_VAR}=1: the browser test {item.nodeid} must run, but it was skipped: {why}"
        )


def _no_browser_test_ran(session: pytest.Session) -> bool:
    return (
        _BROWSER_REQUIRED
        and _browser_tests_run == 0
        and not session.config.option.collectonly
        and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED,
                                   pytest.ExitCode.NO_TESTS_COLLECTED)
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under XACCT_REQUIRE_BROWSER=1, a run in which no browser test ran fails."""
    if _no_browser_test_ran(session):
        session.config.stash[_NO_BROWSER_TEST] = True
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Say why the run failed when no browser test ran although one was required."""
    if config.stash.get(_NO_BROWSER_TEST, False):
        terminalreporter.write_line(
            f"FAILED: {REQUIRE_VAR}=1 but no test marked @pytest.mark.browser ran "
            "(run the suite with tests/test_browser.py, on a machine with chromium).",
            red=True, bold=True,
        )


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remove every AWS_* / XACCT_* setting and point boto3 at empty config files."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "XACCT_")) and name not in (REQUIRE_VAR, skip_gate.DEPS_VAR):
            monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("aws")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XACCT_PROGRESS", "never")
    # The explorer's history of runs: a file of this test run, never the user's data folder.
    monkeypatch.setenv("XACCT_HISTORY_FILE", str(empty / "explorer-history.json"))


@pytest.fixture(scope="session")
def sandbox() -> Iterator[xn.sandbox.Sandbox]:
    """One running sandbox for the whole test session (read-only use, please)."""
    sb = xn.sandbox.start()
    yield sb
    sb.stop()


@pytest.fixture(scope="session")
def reader(sandbox: xn.sandbox.Sandbox):
    """A self-refreshing session of account B's reader role."""
    return xn.assume_role(
        sandbox.reader_role_arn,
        external_id=sandbox.external_id,
        source_session=sandbox.analyst_session(),
    )
