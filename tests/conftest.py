"""Fixtures: a clean AWS environment per test, one sandbox per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import xacct_nb as xn


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Remove every AWS_* / XACCT_* variable and point boto3 at empty config files."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "XACCT_")):
            monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.mktemp("aws")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XACCT_PROGRESS", "never")


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
