"""The request engine's shared pieces: one retry/backoff policy, one interactivity check."""

from __future__ import annotations

import json
import types
import zlib
from typing import Any

import pytest

import xacct_nb as xn
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


# -- complete answers ------------------------------------------------------------------------


def _answer(body: bytes, *, crc: bool = True, length: bool = True, status: int = 200) -> dict:
    from botocore.awsrequest import HeadersDict

    headers = HeadersDict()
    if crc:
        headers["x-amz-crc32"] = str(zlib.crc32(body) & 0xFFFFFFFF)
    if length:
        headers["Content-Length"] = str(len(body))
    return {"status_code": status, "headers": headers, "body": body}


PAGE = json.dumps({"Items": [{"pk": {"S": "a"}}], "Count": 1, "ScannedCount": 1}).encode()


def test_a_complete_page_keeps_its_items_raw():
    custom: dict = {}
    _engine._take_items(_answer(PAGE), custom)
    assert len(custom["Items"]) == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (dict(_answer(PAGE, crc=False), body=PAGE[:-9]),
         f"cut short: {len(PAGE) - 9} of the {len(PAGE)} bytes"),
        (dict(_answer(PAGE), body=PAGE[:-9]), "failed its CRC32 check"),
        (_answer(PAGE[:-9], crc=False, length=False), "is not complete JSON"),
        (_answer(b"", crc=False), "empty"),
        (_answer(b"[1, 2]"), "JSON but not an object"),
    ],
    ids=["length", "crc32", "json", "empty", "not-an-object"],
)
def test_a_page_that_is_not_all_there_is_a_fault(answer, message):
    with pytest.raises(_engine.XacctError, match=message):
        _engine._take_items(answer, {})


def test_error_answers_are_left_to_botocore():
    answer = _answer(b'{"__type": "x#ThrottlingException"}'[:-5], status=400)
    _engine._take_items(answer, {})  # no complaint: botocore parses errors itself
    _engine._check_batch(answer)


@pytest.mark.parametrize("crc", [True, False])
def test_batch_answers_are_checked_too(crc):
    body = b'{"Responses": {"t": []}, "UnprocessedKeys": {}}'
    _engine._check_batch(_answer(body, crc=crc))
    with pytest.raises(_engine.XacctError, match="cut short|not complete JSON|CRC32"):
        _engine._check_batch(dict(_answer(body, crc=crc, length=False), body=body[:20]))


class _Call:
    """A client method that answers from a list (exceptions are raised)."""

    __name__ = "batch_get_item"

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self, **_: Any) -> Any:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setattr(RESUME, "base", 0.0)
    monkeypatch.setattr(RESUME, "retries", 2)


def test_an_answer_without_its_key_is_sent_again(quick):
    call = _Call({"UnprocessedKeys": {}}, {"Responses": {"t": []}})
    stats = _engine.ReadStats()
    assert _engine.request(call, {}, table="t", stats=stats) == {"Responses": {"t": []}}
    assert call.calls == 2 and stats.resumed == 1


def test_faults_that_outlast_the_policy_end_in_an_incomplete_read(quick):
    from botocore.exceptions import ClientError, ConnectionClosedError

    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"},
                             "ResponseMetadata": {"HTTPStatusCode": 400}}, "BatchGetItem")
    call = _Call(_engine._Malformed("the answer was cut short"), throttled,
                 ConnectionClosedError(endpoint_url="http://x"))
    with pytest.raises(_engine.IncompleteReadError) as info:
        _engine.request(call, {}, table="t", stats=_engine.ReadStats(),
                        unread_keys=lambda: [{"pk": "a"}])
    err = info.value
    assert call.calls == 3 and err.unread_keys == [{"pk": "a"}]
    assert str(err).startswith("BatchGetItem on table 't' stopped after 0 requests (1 keys unread)")
    assert "resumed 2 times before giving up; nothing partial is returned" in str(err)


def test_permanent_errors_are_not_sent_again(quick):
    from botocore.exceptions import ClientError, ParamValidationError

    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Scan")
    call = _Call(denied)
    start = {"pk": {"S": "a"}}
    with pytest.raises(xn.AccessDeniedError) as info:
        _engine.request(call, {"ExclusiveStartKey": start}, table="t", operation="Scan",
                        stats=_engine.ReadStats())
    assert info.value.last_evaluated_key == start  # where the read could resume
    call = _Call(ParamValidationError(report="bad"))
    with pytest.raises(_engine.InvalidArgumentError, match="not valid"):
        _engine.request(call, {}, table="t", stats=_engine.ReadStats())
    assert call.calls == 1


def test_a_count_query_needs_no_items(quick):
    call = _Call({"Count": 3})
    call.__name__ = "query"  # type: ignore[misc]
    assert _engine.request(call, {"Select": "COUNT"}, table="t", stats=_engine.ReadStats())
