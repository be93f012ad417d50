"""read_query over many partitions: one frame, grouped in the order asked, complete or raising."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from boto3.dynamodb.conditions import Attr

import xacct_nb as xn

pytestmark = pytest.mark.sandbox

ASKED = ["C-0007", "C-0002", "C-0150", "C-0001", "C-0099"]


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts without their missing cells (frames built apart differ in which columns exist)."""
    out = []
    for row in df.to_dict("records"):
        out.append({k: v for k, v in row.items()
                    if not (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))})
    return out


@pytest.fixture(scope="module")
def one_by_one(reader, sandbox) -> dict[str, pd.DataFrame]:
    return {p: xn.read_query(reader, sandbox.table, p) for p in ASKED}


def test_rows_come_grouped_in_the_order_asked(reader, sandbox, one_by_one):
    df = xn.read_query(reader, sandbox.table, ASKED)
    assert df["customer_id"].drop_duplicates().tolist() == [p for p in ASKED
                                                             if len(one_by_one[p])]
    expected = [row for p in ASKED for row in records(one_by_one[p])]
    assert records(df) == expected
    assert df.attrs["partitions"] == len(ASKED)
    assert df.attrs["count"] == len(expected)
    assert df.attrs["pages"] >= len(ASKED)
    assert df.attrs["consumed_capacity"] == pytest.approx(
        sum(f.attrs["consumed_capacity"] for f in one_by_one.values()))
    # One frame, typed once: the columns' dtypes are those of a frame of all these rows.
    assert list(df.columns[:2]) == ["customer_id", "order_ts"]
    assert df.index.equals(pd.RangeIndex(len(df)))


def test_each_group_keeps_the_sort_order(reader, sandbox):
    down = xn.read_query(reader, sandbox.table, ASKED, ascending=False)
    for _, group in down.groupby("customer_id", sort=False):
        assert group["order_ts"].tolist() == sorted(group["order_ts"], reverse=True)
    ranged = xn.read_query(reader, sandbox.table, ASKED, sort=("begins_with", "2026-0"))
    assert ranged["order_ts"].str.startswith("2026-0").all()


def test_a_value_asked_twice_is_read_once(reader, sandbox, one_by_one):
    df = xn.read_query(reader, sandbox.table, ["C-0002", "C-0001", "C-0002"])
    assert df.attrs["partitions"] == 2
    assert records(df) == records(one_by_one["C-0002"]) + records(one_by_one["C-0001"])


@pytest.mark.parametrize("form", [tuple, pd.Series, np.array, pd.Index,
                                  lambda v: {"customer_id": list(v)}])
def test_sequences_series_arrays_and_the_dict_form(reader, sandbox, one_by_one, form):
    df = xn.read_query(reader, sandbox.table, form(ASKED[:3]))
    assert records(df) == [row for p in ASKED[:3] for row in records(one_by_one[p])]


def test_limit_caps_the_whole_frame_in_order(reader, sandbox):
    whole = xn.read_query(reader, sandbox.table, ASKED)
    capped = xn.read_query(reader, sandbox.table, ASKED, limit=15)
    assert records(capped) == records(whole)[:15]
    filtered = xn.read_query(reader, sandbox.table, ASKED, filter=Attr("status").eq("SHIPPED"),
                             limit=5)
    assert records(filtered) == [r for r in records(whole) if r.get("status") == "SHIPPED"][:5]


def test_chunks_concatenate_to_the_frame(reader, sandbox):
    whole = xn.read_query(reader, sandbox.table, ASKED)
    parts = list(xn.read_query(reader, sandbox.table, ASKED, chunksize=7))
    assert all(len(p) <= 7 for p in parts)
    assert [r for p in parts for r in records(p)] == records(whole)


def test_many_partitions_are_all_read(reader, sandbox):
    asked = [f"C-{i:04d}" for i in range(1, 301)]
    df = xn.read_query(reader, sandbox.table, asked, columns=["customer_id", "order_ts"])
    scan = xn.read_scan(reader, sandbox.table, columns=["customer_id", "order_ts"])
    assert len(df) == len(scan) and df.attrs["partitions"] == 300
    assert sorted(map(tuple, df.to_numpy().tolist())) == sorted(map(tuple, scan.to_numpy().tolist()))
    # Grouped: each customer's rows form one run, customers in the order asked.
    runs = df["customer_id"].ne(df["customer_id"].shift()).cumsum()
    assert runs.max() == df["customer_id"].nunique()
    order = df["customer_id"].drop_duplicates().tolist()
    assert order == [p for p in asked if p in set(order)]


def test_an_empty_list_is_an_empty_frame_without_requests(reader, sandbox):
    calls: list[str] = []
    session = fresh(sandbox)
    session.events.register("before-call.dynamodb.Query", lambda **kw: calls.append("q"))
    df = xn.read_query(session, sandbox.table, [])
    assert len(df) == 0 and calls == []


@pytest.mark.parametrize("bad, words", [
    ({"C-0001", "C-0002"}, ["set", "order", "list"]),
    (frozenset({"C-0001"}), ["frozenset", "order"]),
    (["C-0001", 2], ["partition=2", "customer_id", "str"]),
    (["C-0001", None], ["partition"]),
    ({"customer_id": ["C-0001"], "x": ["C-2"]}, ["one-entry"]),
])
def test_bad_partition_lists_are_refused_before_sending(reader, sandbox, bad, words):
    calls: list[str] = []
    session = fresh(sandbox)
    session.events.register("before-call.dynamodb.Query", lambda **kw: calls.append("q"))
    with pytest.raises(xn.InvalidArgumentError) as info:
        xn.read_query(session, sandbox.table, bad, key_schema=KEYS)
    for word in words:
        assert word in str(info.value)
    assert calls == []


KEYS = {"partition": "customer_id", "sort": "order_ts",
        "types": {"customer_id": "S", "order_ts": "S"}}


def fresh(sandbox) -> Any:
    """A reader session of its own, whose clients see the events registered on it."""
    return xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                          source_session=sandbox.analyst_session())


class _Denied:
    status_code = 400
    headers: dict[str, str] = {}
    content = b""


def test_one_failing_partition_fails_the_read(sandbox):
    session = fresh(sandbox)
    sent: list[str] = []

    def deny_one(params, **_):
        value = json.loads(params["body"])["ExpressionAttributeValues"][":v0"]["S"]
        sent.append(value)
        if value == "C-0150":
            return _Denied(), {"Error": {"Code": "AccessDeniedException",
                                         "Message": "not this one"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    session.events.register("before-call.dynamodb.Query", deny_one)
    with pytest.raises(xn.AccessDeniedError):
        xn.read_query(session, sandbox.table, ASKED)
    assert "C-0150" in sent


def test_stopping_early_stops_every_thread(reader, sandbox):
    before = {t.ident for t in threading.enumerate()}
    chunks = xn.read_query(reader, sandbox.table, [f"C-{i:04d}" for i in range(1, 200)],
                           chunksize=5)
    first = next(chunks)
    assert len(first) == 5
    chunks.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate()
                if t.ident not in before and t.name.startswith("xacct-")]
        if not left:
            break
        time.sleep(0.05)
    assert not left
