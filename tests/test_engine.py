"""The request engine's shared pieces: one retry/backoff policy, one interactivity check."""

from __future__ import annotations

import types

import pytest

from xacct_nb import _engine
from xacct_nb._engine import RESUME, UNPROCESSED, RetryPolicy, current_kernel, interactive


def test_full_jitter_is_bounded_and_grows_to_the_cap():
    policy = RetryPolicy(retries=5, base=0.5, cap=3.0)
    for attempt, ceiling in ((1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (10, 3.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # uniform over the whole range, not a fixed wait


def test_the_two_uses_of_the_one_policy():
    assert (RESUME.retries, RESUME.base, RESUME.cap) == (6, 1.0, 30.0)
    assert (UNPROCESSED.retries, UNPROCESSED.base, UNPROCESSED.cap) == (7, 0.05, 5.0)


def test_sleep_waits_the_delay(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(_engine.time, "sleep", slept.append)
    waited = RetryPolicy(retries=1, base=0.01, cap=0.01).sleep(1)
    assert slept == [waited] and 0.0 <= waited <= 0.01


def test_one_kernel_check(monkeypatch):
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert current_kernel() is None
    kernel = object()
    monkeypatch.setattr("IPython.get_ipython", lambda: types.SimpleNamespace(kernel=kernel))
    assert current_kernel() is kernel
    monkeypatch.delenv("XACCT_PROGRESS", raising=False)
    assert interactive() is True
    monkeypatch.setenv("XACCT_PROGRESS", "never")
    assert interactive() is False


@pytest.mark.parametrize("value", ["yes", 2, "auto"])
def test_progress_argument_is_checked(value):
    with pytest.raises(_engine.InvalidArgumentError, match="progress must be None, True or False"):
        _engine.check_read_args("auto", None, None, value)
