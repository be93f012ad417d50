"""read_items (BatchGetItem) against the shared sandbox, read-only, with faults injected.

Faults come from ``FaultProxy``: a session whose AWS config file names the
proxy as ``endpoint_url`` (the reader role assumed through it keeps that
endpoint) sends every request through the proxy, which holds back keys as
``UnprocessedKeys`` as DynamoDB does under load.
"""

from __future__ import annotations

import random
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pandas as pd
import pytest

import xacct_nb as xn
from xacct_nb._engine import UNPROCESSED
from xacct_nb._read_items import read_items
from xacct_nb.sandbox import _demo_data as demo

sys.path.insert(0, str(Path(__file__).resolve().parent))  # --import-mode=importlib
from faultproxy import FaultProxy  # noqa: E402

pytestmark = pytest.mark.sandbox

KEY = ["customer_id", "order_ts"]


@pytest.fixture(scope="module")
def orders() -> dict[tuple[str, str], dict[str, Any]]:
    """The demo orders by key, in wire form."""
    return {(it["customer_id"]["S"], it["order_ts"]["S"]): it for it in demo.order_items()}


class Counter:
    """Counts the BatchGetItem requests a session sends."""

    def __init__(self, session) -> None:
        self.calls = 0
        session.events.register("before-call.dynamodb.BatchGetItem", self._count)

    def _count(self, **_: Any) -> None:
        self.calls += 1


@pytest.fixture(scope="module")
def reader_calls(sandbox):
    """This module's own reader session (event hooks stay here) and its BatchGetItem counter."""
    session = xn.assume_role(
        sandbox.reader_role_arn, external_id=sandbox.external_id,
        source_session=sandbox.analyst_session(),
    )
    return session, Counter(session)


@pytest.fixture
def my_reader(reader_calls):
    session, counter = reader_calls
    counter.calls = 0
    return session


def proxied_reader(sandbox, proxy: FaultProxy, tmp_path: Path):
    """The reader role, assumed through ``proxy``; its clients keep talking to the proxy."""
    config = tmp_path / f"config-{uuid.uuid4().hex[:6]}"
    config.write_text(
        sandbox.aws_config_file.read_text().replace(sandbox.endpoint_url, proxy.endpoint_url)
    )
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(config))
    core.set_config_variable("credentials_file", str(sandbox.aws_credentials_file))
    core.set_config_variable("profile", "xacct-sandbox")
    session = xn.assume_role(
        sandbox.reader_role_arn, external_id=sandbox.external_id,
        source_session=boto3.Session(botocore_session=core),
    )
    proxy.session = session  # the proxy re-signs the batches it shortens
    return session


def asked_keys(orders, n_found: int, n_missing: int, seed: int = 7) -> list[tuple[str, str]]:
    """``n_found`` existing keys in a shuffled order with ``n_missing`` absent keys spread in."""
    rng = random.Random(seed)
    keys = rng.sample(sorted(orders), n_found)
    for i in range(n_missing):
        keys.insert(rng.randrange(len(keys) + 1), (f"C-9{i:03d}", "2026-01-01T00:00:00Z"))
    return keys


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def test_250_keys_come_back_in_the_order_asked_and_missing_keys_are_reported(
    my_reader, reader_calls, sandbox, orders
):
    keys = asked_keys(orders, 240, 10)
    df = read_items(my_reader, sandbox.table, [dict(zip(KEY, k, strict=True)) for k in keys])
    found = [k for k in keys if k in orders]
    assert list(zip(df["customer_id"], df["order_ts"], strict=True)) == found
    assert list(df.columns[:2]) == KEY
    assert df["order_id"].tolist() == [orders[k]["order_id"]["S"] for k in found]
    assert df["ledger_ref"].tolist() == [int(orders[k]["ledger_ref"]["N"]) for k in found]
    assert df.index.equals(pd.RangeIndex(240))
    missing = [dict(zip(KEY, k, strict=True)) for k in keys if k not in orders]
    assert df.attrs["missing_keys"] == missing and len(missing) == 10
    assert df.attrs["requested"] == 250 and df.attrs["found"] == 240 == df.attrs["count"]
    assert df.attrs["duplicate_keys"] == 0 and df.attrs["retries"] == 0
    assert df.attrs["pages"] == 3 == reader_calls[1].calls  # 100 + 100 + 50 keys
    assert df.attrs["consumed_capacity"] > 0


def test_every_key_form_gives_the_same_frame(my_reader, sandbox, orders):
    keys = asked_keys(orders, 30, 2, seed=11)
    by_dicts = read_items(my_reader, sandbox.table, [dict(zip(KEY, k, strict=True)) for k in keys])
    by_tuples = read_items(my_reader, sandbox.table, keys)
    by_lists = read_items(my_reader, sandbox.table, [list(k) for k in keys])
    # A frame with the key columns (other columns ignored), e.g. one read earlier.
    frame = pd.DataFrame(keys, columns=KEY).assign(note="ignored", status="ignored")
    by_frame = read_items(my_reader, sandbox.table, frame)
    for other in (by_tuples, by_lists, by_frame):
        pd.testing.assert_frame_equal(other, by_dicts)
        assert other.attrs["missing_keys"] == by_dicts.attrs["missing_keys"]


def test_partition_only_table_takes_plain_values(sandbox):
    admin = sandbox.admin_session("B")
    df = read_items(admin, sandbox.private_table, ["ACC-003", "ACC-999", "ACC-001"])
    assert df["account"].tolist() == ["ACC-003", "ACC-001"]
    assert df["balance"].tolist() == [3017, 1017]
    assert df.attrs["missing_keys"] == [{"account": "ACC-999"}]
    same = read_items(admin, sandbox.private_table, [("ACC-003",), {"account": "ACC-001"}],
                      key_schema="account")
    assert same["account"].tolist() == ["ACC-003", "ACC-001"]


def test_duplicate_keys_give_one_row_each_at_the_first_position(my_reader, sandbox, orders):
    a, b, c = sorted(orders)[:3]
    df = read_items(my_reader, sandbox.table, [b, a, b, c, a, ("C-9999", "x")])
    assert list(zip(df["customer_id"], df["order_ts"], strict=True)) == [b, a, c]
    assert df.attrs["requested"] == 6 and df.attrs["duplicate_keys"] == 2
    assert df.attrs["found"] == 3 and df.attrs["missing_keys"] == [
        {"customer_id": "C-9999", "order_ts": "x"}]


def test_columns_project_with_the_keys_first(my_reader, sandbox, orders):
    keys = sorted(orders)[:5]
    df = read_items(my_reader, sandbox.table, keys, columns=["total", "status"])
    assert df.columns.tolist() == [*KEY, "total", "status"]  # reserved word "status" just works
    assert df["total"].tolist() == [float(orders[k]["total"]["N"]) for k in keys]
    nested = read_items(my_reader, sandbox.table, keys, columns=["order_ts", "ship_to.city"],
                        flatten=True)
    assert nested.columns.tolist() == [*KEY, "ship_to.city"]
    assert nested["ship_to.city"].tolist() == [orders[k]["ship_to"]["M"]["city"]["S"] for k in keys]
    only_keys = read_items(my_reader, sandbox.table, keys, columns="customer_id")
    assert only_keys.columns.tolist() == KEY


def test_numbers_and_consistent_reads(my_reader, sandbox, orders):
    keys = sorted(orders)[:5]
    df = read_items(my_reader, sandbox.table, keys, numbers="decimal", consistent=True)
    assert df["total"].tolist() == [Decimal(orders[k]["total"]["N"]) for k in keys]
    assert df["ledger_ref"].tolist() == [Decimal(orders[k]["ledger_ref"]["N"]) for k in keys]


def test_no_keys_give_an_empty_frame_without_a_request(my_reader, reader_calls, sandbox):
    df = read_items(my_reader, sandbox.table, [])
    assert df.columns.tolist() == KEY and len(df) == 0
    assert df.attrs["requested"] == 0 and df.attrs["missing_keys"] == []
    assert reader_calls[1].calls == 0


def test_table_arn(my_reader, sandbox, orders):
    key = sorted(orders)[0]
    df = read_items(my_reader, sandbox.table_arn, [key])
    assert list(zip(df["customer_id"], df["order_ts"], strict=True)) == [key]


T = "'MyCrossAccountTable'"


@pytest.mark.parametrize(
    ("keys", "kwargs", "message"),
    [
        ([{"customer_id": "C-0001"}], {},
         f"keys[0] has no 'order_ts': every key of table {T} needs 'customer_id' and 'order_ts'."),
        ([{"customer_id": "C-0001", "order_ts": "x", "status": "y"}], {},
         f"keys[0]: 'status' is not a key attribute of table {T}; its key is 'customer_id' and "
         "'order_ts'."),
        (["C-0001"], {},
         f"keys[0] = 'C-0001' is a single value, but table {T} has a composite key ('customer_id' "
         "and 'order_ts'): give each key as a dict {'customer_id': ..., 'order_ts': ...} or a "
         "tuple in that order."),
        ([("C-0001", "x"), ("C-0001",)], {},
         f"keys[1] = ('C-0001',) has 1 value; keys of table {T} have 2: 'customer_id' and "
         "'order_ts', in that order."),
        ([("C-0001", None)], {},
         f"keys[0] has no value for 'order_ts' (None); every key of table {T} needs a value for "
         "each key attribute."),
        ([("C-0001", float("nan"))], {}, "keys[0] has no value for 'order_ts' (nan)"),
        ([("C-0001", 5)], {}, f"keys[0]: 'order_ts' of table {T} is a string (S), got int 5."),
        ([("C-0001", [1])], {}, "keys[0]: key attribute 'order_ts': key values must be str"),
        ([("", "x")], {}, "keys[0]: key attribute 'customer_id': key values cannot be empty strings"),
        ({"customer_id": "C-0001", "order_ts": "x"}, {},
         "keys must be a list of keys (dicts like {'customer_id': ..., 'order_ts': ...}, or tuples) "
         "or a DataFrame with the key columns, not dict. To read one key, pass a list of one."),
        (pd.DataFrame({"customer_id": ["C-0001"]}), {},
         f"keys has no column 'order_ts', a key attribute of table {T} (its key: customer_id, "
         "order_ts)."),
        ([("C-0001", "x")], {"columns": 5}, "columns must be a list of attribute names (str), not 5."),
        ([("C-0001", "x")], {"consistent": "yes"}, "consistent must be True or False, not 'yes'."),
        ([("C-0001", "x")], {"numbers": "int"}, "numbers"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    my_reader, reader_calls, sandbox, keys, kwargs, message
):
    with pytest.raises(xn.InvalidArgumentError) as info:
        read_items(my_reader, sandbox.table, keys, **kwargs)
    assert message in str(info.value)
    assert reader_calls[1].calls == 0


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


def test_unprocessed_keys_are_asked_again_until_the_result_is_complete(
    sandbox, orders, tmp_path, my_reader
):
    keys = asked_keys(orders, 245, 5, seed=3)
    expected = read_items(my_reader, sandbox.table, keys)
    with FaultProxy(sandbox.endpoint_url) as proxy:
        session = proxied_reader(sandbox, proxy, tmp_path)
        # The first batch of 100 comes back 30 keys at a time.
        proxy.add("BatchGetItem", "partial", keep=30, times=4)
        df = read_items(session, sandbox.table, keys)
        assert proxy.requests["BatchGetItem"] == 6
    pd.testing.assert_frame_equal(df, expected)
    assert df.attrs["retries"] == 3 and df.attrs["pages"] == 6
    assert df.attrs["missing_keys"] == expected.attrs["missing_keys"]


def test_keys_unprocessed_for_good_raise_incomplete_read(sandbox, orders, tmp_path, monkeypatch):
    monkeypatch.setattr(UNPROCESSED, "retries", 2)  # 3 requests
    monkeypatch.setattr(UNPROCESSED, "base", 0.001)
    keys = asked_keys(orders, 150, 0, seed=5)
    with FaultProxy(sandbox.endpoint_url) as proxy:
        session = proxied_reader(sandbox, proxy, tmp_path)
        # Batch 1 goes through; batch 2 (50 keys) gets 10 keys processed per request.
        proxy.add("BatchGetItem", "partial", keep=10, times=None, after=1)
        with pytest.raises(xn.IncompleteReadError) as info:
            read_items(session, sandbox.table, keys)
    assert str(info.value).startswith(
        f"BatchGetItem on table {T}: 20 keys were still unprocessed after 3 requests (20 of the "
        "150 distinct keys unread). DynamoDB returns UnprocessedKeys when the table's read "
        "capacity is exhausted: retry later, ask for fewer keys at a time, or ask the owner for "
        "more capacity. Nothing partial is returned."
    )
    assert info.value.operation == "BatchGetItem" and info.value.table == "MyCrossAccountTable"


def test_server_errors_are_retried_and_a_missing_table_is_a_clear_error(
    sandbox, orders, tmp_path
):
    keys = sorted(orders)[:10]
    with FaultProxy(sandbox.endpoint_url) as proxy:
        session = proxied_reader(sandbox, proxy, tmp_path)
        proxy.add("BatchGetItem", "error500", times=1)
        df = read_items(session, sandbox.table, keys)
        assert proxy.injected == [("BatchGetItem", "error500")]
    assert len(df) == 10 and df.attrs["pages"] == 1 and df.attrs["retries"] == 1
    with pytest.raises(xn.TableNotFoundError) as info:
        read_items(sandbox.admin_session("B"), "NoSuchTable", keys, key_schema=KEY)
    assert str(info.value).startswith("BatchGetItem on table 'NoSuchTable' failed: "
                                      "ResourceNotFoundException")


def test_an_answer_that_does_not_list_the_table_never_makes_keys_missing(
    sandbox, orders, monkeypatch
):
    """``{"Responses": {}}`` answers no key: they are asked again, then the read raises."""
    import xacct_nb._read_items as read_items_module

    monkeypatch.setattr(UNPROCESSED, "retries", 2)
    monkeypatch.setattr(UNPROCESSED, "base", 0.001)
    real = read_items_module.dynamodb_client
    calls = []

    def client_without_table_answers(session):
        ddb = real(session)

        def empty_answer(http_response, parsed, **_):
            calls.append(1)
            parsed["Responses"] = {}  # a well-formed answer that names no table
            parsed.pop("UnprocessedKeys", None)

        ddb.meta.events.register("after-call.dynamodb.BatchGetItem", empty_answer)
        return ddb

    monkeypatch.setattr(read_items_module, "dynamodb_client", client_without_table_answers)
    keys = sorted(orders)[:5]
    with pytest.raises(xn.IncompleteReadError) as info:
        read_items(sandbox.admin_session("B"), sandbox.table, keys)
    assert len(calls) == 3  # asked again, never reported missing
    assert len(info.value.unread_keys) == 5
