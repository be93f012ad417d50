"""read_query / read_scan against the sandbox, checked against a slow reference."""

from __future__ import annotations

import base64

import pandas as pd
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import TypeDeserializer

import xacct_nb as xn
from xacct_nb.sandbox import _demo_data as demo

pytestmark = pytest.mark.sandbox


def reference_rows() -> list[dict]:
    """The demo orders decoded by boto3's TypeDeserializer (Decimals, bytes, sets)."""
    des = TypeDeserializer()

    def fix(av):  # wire base64 -> bytes, as boto3's parser would give
        if "B" in av:
            return {"B": base64.b64decode(av["B"])}
        if "BS" in av:
            return {"BS": [base64.b64decode(b) for b in av["BS"]]}
        return av

    return [{k: des.deserialize(fix(v)) for k, v in item.items()} for item in demo.order_items()]


@pytest.fixture(scope="module")
def full(reader, sandbox) -> pd.DataFrame:
    return xn.read_scan(reader, sandbox.table)


def test_scan_is_complete_and_typed(full):
    rows = reference_rows()
    assert len(full) == len(rows) == demo.ORDER_COUNT
    assert list(full.columns[:2]) == ["customer_id", "order_ts"]
    # Columns are the union over all items, not the first item's.
    assert set(full.columns) == {k for row in rows for k in row}
    assert full.attrs["pages"] > 1
    assert full.attrs["scanned_count"] == demo.ORDER_COUNT
    assert full.attrs["count"] == demo.ORDER_COUNT
    assert full.attrs["consumed_capacity"] > 0
    assert pd.api.types.is_string_dtype(full["customer_id"])
    assert full["item_count"].dtype == "int64"
    assert full["total"].dtype == "float64"
    assert full["express"].dtype == "bool"
    assert full["loyalty_points"].dtype == "Int64"
    assert full["ledger_ref"].dtype == object


def test_scan_values_equal_the_reference(full):
    by_key = {(r["customer_id"], r["order_ts"]): r for r in reference_rows()}
    for row in full.to_dict("records"):
        ref = by_key[(row["customer_id"], row["order_ts"])]
        assert row["ledger_ref"] == int(ref["ledger_ref"])  # beyond int64, exact
        assert row["total"] == float(ref["total"])
        assert row["item_count"] == int(ref["item_count"])
        assert row["ship_to"]["city"] == ref["ship_to"]["city"]
        assert [line["sku"] for line in row["lines"]] == [line["sku"] for line in ref["lines"]]
        if "tags" in ref:
            assert row["tags"] == ref["tags"]
        else:
            assert row["tags"] is None or pd.isna(row["tags"])
        if "loyalty_points" in ref:
            assert row["loyalty_points"] == int(ref["loyalty_points"])
        else:
            assert pd.isna(row["loyalty_points"])
        if "receipt_png" in ref:
            assert row["receipt_png"] == bytes(ref["receipt_png"])


def test_parallel_scan_equals_single(reader, sandbox, full):
    par = xn.read_scan(reader, sandbox.table, segments=4)
    assert par.attrs["segments"] == 4
    key = ["customer_id", "order_ts"]
    left = full.sort_values(key).reset_index(drop=True)
    right = par.sort_values(key).reset_index(drop=True)[list(left.columns)]
    pd.testing.assert_frame_equal(left[["customer_id", "order_ts", "total"]],
                                  right[["customer_id", "order_ts", "total"]])
    assert len(par) == len(full)


@pytest.mark.parametrize(
    ("sort", "predicate"),
    [
        (None, lambda ts: True),
        (("begins_with", "2026-03"), lambda ts: ts.startswith("2026-03")),
        ((">=", "2026-06-01"), lambda ts: ts >= "2026-06-01"),
        (("between", "2026-02-01", "2026-04-30"), lambda ts: "2026-02-01" <= ts <= "2026-04-30"),
        (Key("order_ts").lt("2026-05-01"), lambda ts: ts < "2026-05-01"),
    ],
)
def test_query_sort_conditions(reader, sandbox, full, sort, predicate):
    for customer in ("C-0001", "C-0042"):
        df = xn.read_query(reader, sandbox.table, customer, sort=sort)
        expected = full[(full.customer_id == customer) & full.order_ts.map(predicate)]
        assert sorted(df.order_ts) == sorted(expected.order_ts)
        assert list(df.order_ts) == sorted(df.order_ts)  # ascending by default


def test_query_descending_limit_and_dict_partition(reader, sandbox, full):
    df = xn.read_query(reader, sandbox.table, {"customer_id": "C-0007"}, ascending=False, limit=3)
    expected = sorted(full[full.customer_id == "C-0007"].order_ts, reverse=True)[:3]
    assert list(df.order_ts) == expected


def test_query_gsi_reads_every_page(reader, sandbox, full):
    df = xn.read_query(reader, sandbox.table, "delivered", index=sandbox.index)
    assert len(df) == (full.status == "delivered").sum()
    assert df.attrs["pages"] >= 2  # more than one sandbox page of 1000 items
    assert set(df.status) == {"delivered"}
    assert list(df.columns[:3]) == ["customer_id", "order_ts", "status"]


def test_filters_with_reserved_words_and_projection(reader, sandbox, full):
    df = xn.read_scan(
        reader, sandbox.table, filter=Attr("status").eq("cancelled") & Attr("total").gt(100),
        columns=["customer_id", "order_ts", "status", "total"],
    )
    expected = full[(full.status == "cancelled") & (full.total > 100)]
    assert len(df) == len(expected) > 0
    assert list(df.columns) == ["customer_id", "order_ts", "status", "total"]
    assert df.attrs["scanned_count"] == demo.ORDER_COUNT


def test_filter_that_empties_pages_still_reads_to_the_end(reader, sandbox, full):
    last = full.sort_values("order_id").order_id.iloc[-1]
    df = xn.read_scan(reader, sandbox.table, filter=Attr("order_id").eq(last))
    assert list(df.order_id) == [last]
    assert df.attrs["pages"] == full.attrs["pages"]


def test_scan_limit_caps_rows(reader, sandbox):
    df = xn.read_scan(reader, sandbox.table, limit=1234)
    assert len(df) == 1234
    filtered = xn.read_scan(reader, sandbox.table, filter=Attr("status").eq("returned"), limit=5)
    assert len(filtered) == 5 and set(filtered.status) == {"returned"}


def test_chunks_cover_everything_once(reader, sandbox, full):
    chunks = list(xn.read_scan(reader, sandbox.table, chunksize=700))
    assert [len(c) for c in chunks] == [700, 700, 700, 700, 200]
    both = pd.concat(chunks, ignore_index=True)
    assert sorted(both.order_id) == sorted(full.order_id)
    # Every chunk has the key columns first.
    assert all(list(c.columns[:2]) == ["customer_id", "order_ts"] for c in chunks)


def test_table_arn_and_numbers_modes(reader, sandbox):
    df = xn.read_query(reader, sandbox.table_arn, "C-0003", numbers="decimal")
    assert df["total"].map(type).eq(__import__("decimal").Decimal).all()
    floats = xn.read_query(reader, sandbox.table, "C-0003", numbers="float")
    assert floats["item_count"].dtype == "float64"


def test_key_schema_argument_skips_describe_table(sandbox):
    session = xn.assume_role(
        sandbox.reader_role_arn, external_id=sandbox.external_id,
        source_session=sandbox.analyst_session(),
    )
    calls = []
    session.events.register("before-call.dynamodb.DescribeTable", lambda **kw: calls.append(1))
    df = xn.read_query(session, sandbox.table, "C-0005", key_schema=("customer_id", "order_ts"))
    assert len(df) > 0 and calls == []
    xn.read_query(session, sandbox.table, "C-0005")
    xn.read_query(session, sandbox.table, "C-0006")
    assert calls == [1]  # DescribeTable once per session and table, then cached


def test_unknown_table_is_a_clear_error(reader, sandbox):
    admin = sandbox.admin_session("B")  # may see every table of account B
    with pytest.raises(xn.TableNotFoundError, match="'NoSuchTable'.*ResourceNotFoundException"):
        xn.read_scan(admin, "NoSuchTable")
    with pytest.raises(xn.TableNotFoundError, match="Check the table name, the region"):
        xn.read_query(admin, "NoSuchTable", "x")
    # The reader role may not even look: AWS answers AccessDenied, not "not found".
    with pytest.raises(xn.AccessDeniedError, match="not authorized to perform: dynamodb:"):
        xn.read_scan(reader, "NoSuchTable")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numbers": "int"}, "numbers='int' is not one of"),
        ({"limit": 0}, "limit must be a positive integer"),
        ({"chunksize": -5}, "chunksize must be a positive integer"),
        ({"progress": "yes"}, "progress must be None, True or False"),
        ({"index": "nope-index"}, "has no index 'nope-index'"),
        ({"index": "status-index", "consistent": True}, "not possible on global secondary index"),
        ({"sort": ("sideways", 1)}, "sideways"),
    ],
)
def test_bad_query_arguments(reader, sandbox, kwargs, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        xn.read_query(reader, sandbox.table, "C-0001", **kwargs)


def test_bad_partition_and_table_names(reader, sandbox):
    with pytest.raises(xn.InvalidArgumentError, match="'status' is not the partition key"):
        xn.read_query(reader, sandbox.table, {"status": "x"})
    with pytest.raises(xn.InvalidArgumentError, match="not a valid DynamoDB table name"):
        xn.read_scan(reader, "a b")
    with pytest.raises(xn.InvalidArgumentError, match="not a DynamoDB table ARN"):
        xn.read_scan(reader, "arn:aws:s3:::bucket")
    with pytest.raises(xn.InvalidArgumentError, match="segments must be an integer"):
        xn.read_scan(reader, sandbox.table, segments=0)


def test_projection_of_binary_sets(reader, sandbox):
    df = xn.read_scan(reader, sandbox.table, columns=["customer_id", "signatures"])
    present = df["signatures"].dropna()
    assert len(present) > 0
    assert all(value == {b"\x00\x01", b"\x02\x03"} for value in present)


def test_large_full_scan_warns_with_count_and_size(reader, sandbox, monkeypatch):
    monkeypatch.setattr("xacct_nb._describe.LARGE_SCAN_BYTES", 1000)
    from xacct_nb import LargeScanWarning

    with pytest.warns(LargeScanWarning, match=r"Scanning all of 'MyCrossAccountTable': 3,000 items"):
        df = xn.read_scan(reader, sandbox.table)
    assert len(df) == 3000
    # A filtered or limited scan is not a full scan: no warning (warnings are errors here).
    xn.read_scan(reader, sandbox.table, limit=10)


def test_local_secondary_index_with_consistent_reads(reader, sandbox, full):
    df = xn.read_query(reader, sandbox.table, "C-0011", index="order-id-index",
                       sort=("begins_with", "O-001"), consistent=True)
    expected = full[(full.customer_id == "C-0011") & full.order_id.str.startswith("O-001")]
    assert list(df.order_id) == sorted(expected.order_id)
    assert list(df.columns[:3]) == ["customer_id", "order_ts", "order_id"]
