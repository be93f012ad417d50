"""The fault suite: every reader and the writer, through a proxy that spoils answers.

A fault-injecting proxy (:mod:`faultproxy`) sits between the client and the
sandbox. Random fault schedules (hypothesis, derandomized) cut bodies short
with and without their CRC32, corrupt the CRC32, answer 200 without
``Items`` / ``Responses``, reset connections mid-body, throttle, fail with
500s and drop connections, for ``read_query``, ``read_scan`` (1 and 8
segments) and ``read_items``; a smaller fixed set covers ``write_frame``,
``xn.export`` and a Dask read. botocore is cut to two attempts and the
engine's resumes to three (with millisecond waits), so what is exercised is
the request engine's own classification and resume.

The property: every run ends with every row exactly once (equal to a clean
read), or with an :class:`xn.XacctError` whose message says what to do —
and a schedule with fewer faults than a request's attempts always ends
with every row. Never a wrong frame, never a foreign exception.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

import xacct_nb as xn
from xacct_nb._engine import MAX_FETCH_THREADS, RESUME, UNPROCESSED

sys.path.insert(0, str(Path(__file__).resolve().parent))  # --import-mode=importlib
from faultproxy import ANSWER_FAULTS, ERRORS, FaultProxy  # noqa: E402

pytestmark = pytest.mark.sandbox

KEY = ["customer_id", "order_ts"]
#: botocore's attempts per request, and the engine's re-sends after them.
ATTEMPTS, RESUMES = 2, 3
#: Faults a request survives for sure: each answer fault costs one of the
#: engine's RESUMES + 1 sends (botocore does not retry what the engine's
#: checks refuse); errors cost one of botocore's attempts of one send.
SURVIVABLE = RESUMES + 1

FAULTS = sorted(ANSWER_FAULTS) + sorted(ERRORS) + ["drop"]
EXAMPLES = settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a failing schedule is short enough to read
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


BOTOCORE = tuple(int(p) for p in botocore.__version__.split(".")[:2])


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def proxy(sandbox) -> Iterator[FaultProxy]:
    with FaultProxy(sandbox.endpoint_url) as fp:
        yield fp


def quick_botocore(monkeypatch) -> None:
    """botocore's backoff after throttling in milliseconds, not seconds (same attempts)."""
    from botocore.retries.standard import ExponentialBackoff

    # a hundredth of each delay botocore works out (its backoff's settings differ by version)
    original = ExponentialBackoff.delay_amount
    monkeypatch.setattr(ExponentialBackoff, "delay_amount",
                        lambda self, context: original(self, context) / 100)


@pytest.fixture
def faulty(proxy, reader, monkeypatch) -> Iterator[FaultProxy]:
    """The proxy in front of every DynamoDB client created in the test, no rules yet."""
    proxy.session = reader  # "partial" re-signs the requests it shortens
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint_url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(ATTEMPTS))
    monkeypatch.setattr(RESUME, "retries", RESUMES)
    monkeypatch.setattr(RESUME, "base", 0.002)
    monkeypatch.setattr(RESUME, "cap", 0.02)
    monkeypatch.setattr(UNPROCESSED, "base", 0.001)
    monkeypatch.setattr(UNPROCESSED, "cap", 0.01)
    quick_botocore(monkeypatch)
    proxy.clear()
    yield proxy
    proxy.clear()


@pytest.fixture(scope="module")
def clean(reader, sandbox) -> dict[str, pd.DataFrame]:
    """Each reader's answer without faults (straight to the sandbox)."""
    keys = keys_of(reader, sandbox)
    return {
        "query": xn.read_query(reader, sandbox.table, "shipped", index=sandbox.index),
        "scan": xn.read_scan(reader, sandbox.table),
        "scan8": xn.read_scan(reader, sandbox.table, segments=8),
        "items": xn.read_items(reader, sandbox.table, keys),
    }


def _keys(reader, sandbox) -> list[tuple[str, str]]:
    """300 keys that exist (three BatchGetItem requests) and 20 that do not."""
    full = xn.read_scan(reader, sandbox.table, columns=KEY)
    found = list(full.sort_values(KEY).itertuples(index=False, name=None))[::10][:300]
    return found + [(f"C-NONE-{i}", "2026-01-01T00:00:00Z") for i in range(20)]


READERS: dict[str, Callable[[Any, Any], pd.DataFrame]] = {
    "query": lambda r, sb: xn.read_query(r, sb.table, "shipped", index=sb.index),
    "scan": lambda r, sb: xn.read_scan(r, sb.table),
    "scan8": lambda r, sb: xn.read_scan(r, sb.table, segments=8),
    "items": lambda r, sb: xn.read_items(r, sb.table, keys_of(r, sb)),
}
_keys_cache: dict[str, list[tuple[str, str]]] = {}


def keys_of(reader, sandbox) -> list[tuple[str, str]]:
    """:func:`_keys`, read once per sandbox."""
    if sandbox.endpoint_url not in _keys_cache:
        _keys_cache[sandbox.endpoint_url] = _keys(reader, sandbox)
    return _keys_cache[sandbox.endpoint_url]
OPERATION = {"query": "Query", "scan": "Scan", "scan8": "Scan", "items": "BatchGetItem"}


# -- bounded concurrency --------------------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - not Linux


def test_a_hundred_thousand_segments_use_a_few_threads(reader, sandbox, capsys):
    """The issue: segments=1_000_000, limit=5 once started 16,600 threads (3 GB)."""
    base_threads, base_rss = threading.active_count(), _rss_mb()
    peak = {"threads": base_threads, "rss": base_rss}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak["threads"] = max(peak["threads"], threading.active_count())
            peak["rss"] = max(peak["rss"], _rss_mb())
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    try:
        df = xn.read_scan(reader, sandbox.table, segments=100_000, limit=5)
    finally:
        done.set()
        watcher.join()
    elapsed = time.monotonic() - started
    assert len(df) == 5 and not df.duplicated(KEY).any()
    assert df.attrs["segments"] == 100_000
    assert peak["threads"] - base_threads <= MAX_FETCH_THREADS + 8 and peak["threads"] < 30
    assert peak["rss"] - base_rss < 200
    with capsys.disabled():
        print(f"\nsegments=100_000, limit=5: {elapsed:.2f} s, threads {base_threads} -> peak "
              f"{peak['threads']}, RSS {base_rss:.0f} -> peak {peak['rss']:.0f} MB")


@pytest.mark.parametrize("segments", [0, 1_000_001, 2.5, True, "8"])
def test_segments_are_checked(reader, sandbox, segments):
    with pytest.raises(xn.InvalidArgumentError, match="segments must be an integer from 1 to"):
        xn.read_scan(reader, sandbox.table, segments=segments)


# -- schedules and the property -------------------------------------------------------------


def schedules(operation: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    """One to three rules: a fault, after how many good answers, how many times (None: all)."""
    actions = FAULTS + (["partial"] if operation == "BatchGetItem" else [])
    rule = st.fixed_dictionaries({
        "action": st.sampled_from(actions),
        "after": st.integers(0, 3),
        "times": st.sampled_from([1, 1, 1, 2, 2, 3, None]),
        "fraction": st.floats(0.0, 0.99),
        "variant": st.sampled_from(["strip", "empty"]),
        "keep": st.integers(0, 99),
    })
    return st.lists(rule, min_size=1, max_size=3)


def survivable(schedule: list[dict[str, Any]]) -> bool:
    """Fewer faults in all than any one request may meet before the read gives up."""
    times = [rule["times"] for rule in schedule]
    return None not in times and sum(times) < SURVIVABLE  # type: ignore[arg-type]


def run(proxy: FaultProxy, operation: str, schedule: list[dict[str, Any]],
        read: Callable[[], Any]) -> Any:
    """``read()`` under ``schedule``: its result, or the XacctError it raised (checked)."""
    proxy.clear()
    for rule in schedule:
        proxy.add(operation, **rule)
    try:
        return read()
    except xn.XacctError as err:
        assert not survivable(schedule), (
            f"{schedule} (injected {proxy.injected}) should have been survived: {err!r}"
        )
        _check_message(err)
        return err
    finally:
        proxy.clear()


def _check_message(err: Exception) -> None:
    text = str(err)
    assert "retry" in text.lower(), text  # what to do next
    assert "Traceback" not in text and "JSONDecodeError" not in text, text


def same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Every row exactly once: the same frame as the clean read, up to row and column order."""
    assert not got.duplicated(KEY).any()
    assert len(got) == len(expected)
    assert set(got.columns) == set(expected.columns)
    cols = sorted(expected.columns)
    pd.testing.assert_frame_equal(
        got[cols].sort_values(KEY).reset_index(drop=True),
        expected[cols].sort_values(KEY).reset_index(drop=True),
    )


# -- the readers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["query", "scan", "scan8", "items"])
@EXAMPLES
@given(data=st.data())
def test_random_faults_never_give_a_wrong_frame(faulty, reader, sandbox, clean, name, data):
    operation = OPERATION[name]
    schedule = data.draw(schedules(operation), label="schedule")
    out = run(faulty, operation, schedule, lambda: READERS[name](reader, sandbox))
    event("raised" if isinstance(out, xn.XacctError) else "every row")
    if isinstance(out, xn.XacctError):
        assert isinstance(out, xn.IncompleteReadError), repr(out)
        assert "nothing partial is returned" in str(out).lower()
        if operation == "BatchGetItem":
            assert out.unread_keys, "the error says which keys are left"
        return
    same_rows(out, clean[name])
    if operation == "BatchGetItem":
        assert out.attrs["missing_keys"] == clean[name].attrs["missing_keys"]
        assert len(out.attrs["missing_keys"]) == 20  # exactly the keys that do not exist


@pytest.mark.parametrize("action", sorted(ANSWER_FAULTS))
def test_unanswered_keys_are_never_missing(faulty, reader, sandbox, action):
    """The issue's silent wrong answer: 300 existing keys reported missing, 0 rows, no error."""
    keys = keys_of(reader, sandbox)[:300]
    faulty.add("BatchGetItem", action, times=None, variant="empty")
    with pytest.raises(xn.IncompleteReadError) as info:
        xn.read_items(reader, sandbox.table, keys)
    err = info.value
    # The first batch, sent 4 times (a reset may also be retried by botocore).
    assert SURVIVABLE <= faulty.requests["BatchGetItem"] <= SURVIVABLE * ATTEMPTS
    assert len(err.unread_keys) == 300 and err.unread_keys[0] == dict(zip(KEY, keys[0], strict=True))
    assert "nothing partial is returned" in str(err) and "retry" in str(err)
    assert err.operation == "BatchGetItem" and err.table == sandbox.table


@pytest.mark.parametrize("action", ["truncate", "truncate_nocrc", "corrupt_crc", "reset"])
def test_a_spoiled_page_is_requested_again(faulty, reader, sandbox, clean, action):
    faulty.add("Scan", action, times=2, after=1, fraction=0.3)
    df = xn.read_scan(reader, sandbox.table)
    same_rows(df, clean["scan"])
    assert df.attrs["resumed"] >= 1
    assert faulty.injected == [("Scan", action)] * 2


def test_throttling_that_outlasts_botocore_resumes_read_items(faulty, reader, sandbox, clean):
    keys = keys_of(reader, sandbox)
    faulty.add("BatchGetItem", "throttle", times=ATTEMPTS * 2, after=1)
    df = xn.read_items(reader, sandbox.table, keys)
    same_rows(df, clean["items"])
    assert df.attrs["resumed"] == 2  # botocore gave up twice; the engine sent again


def test_a_permanently_spoiled_scan_says_where_to_resume(faulty, reader, sandbox):
    faulty.add("Scan", "truncate", times=None, after=1)
    with pytest.raises(xn.IncompleteReadError) as info:
        xn.read_scan(reader, sandbox.table)
    err = info.value
    assert err.last_evaluated_key is not None
    text = str(err)
    assert text.startswith("Reading 'MyCrossAccountTable' stopped after 1 pages: ")
    assert "resumed 3 times before giving up; nothing partial is returned" in text
    if BOTOCORE < (1, 44):
        # older botocore gives up on the short body itself, before the CRC32 check sees it
        assert "Connection was closed before we received a valid response" in text, text
    else:
        assert "the Scan answer" in text and "failed its CRC32 check" in text
        assert "cut short or corrupted on the way" in text


# -- export, Dask --------------------------------------------------------------------------


EXPORT_SCHEDULES = [
    [{"action": "truncate_nocrc", "times": 2, "after": 1, "fraction": 0.7}],
    [{"action": "reset", "times": 1, "after": 0}, {"action": "no_items", "times": 1, "after": 1}],
    [{"action": "corrupt_crc", "times": None, "after": 2}],
]


@pytest.mark.parametrize("schedule", EXPORT_SCHEDULES, ids=["cut", "reset-no-items", "permanent"])
def test_export_under_faults(faulty, reader, sandbox, clean, tmp_path, schedule):
    out = tmp_path / "orders.parquet"
    result = run(faulty, "Scan", schedule,
                 lambda: xn.export(reader, sandbox.table, out, chunksize=1000))
    if isinstance(result, xn.XacctError):
        assert isinstance(result, xn.IncompleteReadError)
        assert not out.exists()  # nothing partial is left behind
        return
    table = pq.read_table(out).to_pandas()
    assert result.rows == len(clean["scan"]) == len(table)
    assert not table.duplicated(KEY).any()
    ref = clean["scan"].sort_values(KEY).reset_index(drop=True)
    back = table.sort_values(KEY).reset_index(drop=True)
    assert back.order_id.tolist() == ref.order_id.tolist()


DASK_SCHEDULES = [
    [{"action": "truncate", "times": 2, "after": 1}, {"action": "throttling", "times": 1}],
    [{"action": "no_items", "times": 2, "after": 2, "variant": "empty"}],
    [{"action": "reset", "times": None, "after": 3}],
]


@pytest.mark.parametrize("schedule", DASK_SCHEDULES, ids=["cut-throttled", "no-items", "permanent"])
def test_dask_read_under_faults(faulty, reader, sandbox, clean, schedule):
    xd = pytest.importorskip("xacct_nb.dask")
    pytest.importorskip("dask.dataframe")
    result = run(faulty, "Scan", schedule, lambda: xd.read_scan(
        reader, sandbox.table, segments=4).compute(scheduler="threads"))
    if isinstance(result, xn.XacctError):
        assert isinstance(result, xn.IncompleteReadError)
        return
    same_rows(result, clean["scan"])


# -- write_frame ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own() -> Iterator[Any]:
    """A sandbox of this module's own: the write tests create tables in it."""
    with xn.sandbox.start() as sb:
        yield sb


@pytest.fixture
def own_proxy(own, monkeypatch) -> Iterator[FaultProxy]:
    with FaultProxy(own.endpoint_url) as fp:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fp.endpoint_url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", str(ATTEMPTS))
        monkeypatch.setattr(RESUME, "retries", RESUMES)
        monkeypatch.setattr(RESUME, "base", 0.002)
        monkeypatch.setattr(RESUME, "cap", 0.02)
        quick_botocore(monkeypatch)
        yield fp


def _stored(admin, name: str) -> list[tuple[str, int, str]]:
    ddb = admin.client("dynamodb")
    rows, kwargs = [], {}
    while True:
        page = ddb.scan(TableName=name, ConsistentRead=True, **kwargs)
        rows += [(i["pk"]["S"], int(i["sk"]["N"]), i["v"]["S"]) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return rows
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


WRITE_SCHEDULES = [
    [{"action": "truncate", "times": 1, "after": 0, "fraction": 0.5}],
    [{"action": "truncate_nocrc", "times": 2, "after": 1, "fraction": 0.2}],
    [{"action": "corrupt_crc", "times": 1, "after": 2}, {"action": "no_items", "times": 1,
                                                       "variant": "empty"}],
    [{"action": "no_items", "times": 3, "after": 1}],
    [{"action": "reset", "times": 2, "after": 1, "fraction": 0.5}],
    [{"action": "no_items", "times": None, "after": 1}],
    [{"action": "throttle", "times": None, "after": 2}],
]


@pytest.mark.parametrize("schedule", WRITE_SCHEDULES, ids=[
    "cut", "cut-nocrc", "crc-empty", "no-unprocessed", "reset", "permanent", "throttled"])
def test_write_frame_under_faults(own, own_proxy, schedule):
    admin = own_proxy.session = own.admin_session("B")
    name = f"f-{uuid.uuid4().hex[:12]}"
    admin.client("dynamodb", endpoint_url=own.endpoint_url).create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"}],
    )
    df = pd.DataFrame({"pk": "p", "sk": range(250), "v": [f"v{i}" for i in range(250)]})
    result = run(own_proxy, "BatchWriteItem", schedule, lambda: xn.write_frame(admin, name, df))
    stored = _stored(own.admin_session("B"), name)
    assert len(stored) == len(set(stored))
    assert set(stored) <= set(df.itertuples(index=False, name=None))
    if isinstance(result, xn.XacctError):
        assert isinstance(result, xn.IncompleteWriteError)
        report = result.report
        assert report.rows_written + report.rows_failed == len(df)
        written = set(df.drop(index=report.failed.index).itertuples(index=False, name=None))
        assert written <= set(stored)  # every row said to be written is written
        assert "err.report.failed" in str(result)
        return
    assert result.ok and result.rows_written == len(df)
    assert sorted(stored) == sorted(df.itertuples(index=False, name=None))
