"""write_frame: DataFrames into tables of the sandbox over HTTP, with faults injected.

These tests start their own sandbox (the session-wide one is shared read-only
by other modules) and create their own tables in account B.

Faults: ``FaultProxy`` sits between boto3 and the sandbox; a session whose
AWS config file names the proxy as ``endpoint_url`` sends everything through
it. Answers AWS gives but the sandbox does not (an ``AccessDeniedException``
for one partition, a ``KeyboardInterrupt`` mid-write) come from botocore
event hooks on the session, so the real client, serializer and retry logic
still run.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import numpy as np
import pandas as pd
import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse
from hypothesis import given, settings
from hypothesis import strategies as st

import xacct_nb as xn
from xacct_nb import _write
from xacct_nb._encode import to_attribute_value
from xacct_nb._engine import UNPROCESSED
from xacct_nb._write import WriteReport, item_size, write_frame

sys.path.insert(0, str(Path(__file__).resolve().parent))  # --import-mode=importlib
from faultproxy import FaultProxy  # noqa: E402

pytestmark = pytest.mark.sandbox


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sb():
    """This module's own sandbox: the tests write to it."""
    with xn.sandbox.start() as sandbox:
        yield sandbox


_admin_clients: dict[str, Any] = {}


def admin_client(sb):
    """Account B's administrator's DynamoDB client (one per sandbox: building one takes time)."""
    if sb.endpoint_url not in _admin_clients:
        _admin_clients[sb.endpoint_url] = sb.admin_session("B").client("dynamodb")
    return _admin_clients[sb.endpoint_url]


@pytest.fixture(scope="module")
def admin(sb):
    """Account B's administrator, for writes that need no event hooks."""
    return sb.admin_session("B")


def make_table(sb, sort: str | None = "N", pk: str = "S") -> str:
    name = f"w-{uuid.uuid4().hex[:12]}"
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": pk}]
    if sort:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": sort})
    admin_client(sb).create_table(
        TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )
    return name


@pytest.fixture
def table(sb) -> str:
    """A fresh table with pk (S) and sk (N)."""
    return make_table(sb)


def raw_items(sb, name: str) -> list[dict[str, Any]]:
    ddb = admin_client(sb)
    items, kwargs = [], {}
    while True:
        page = ddb.scan(TableName=name, ConsistentRead=True, **kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get_raw(sb, name: str, pk: str, sk: int) -> dict[str, Any]:
    ddb = admin_client(sb)
    return ddb.get_item(TableName=name, Key={"pk": {"S": pk}, "sk": {"N": str(sk)}})["Item"]


def stored_keys(sb, name: str) -> set[tuple[str, int]]:
    return {(it["pk"]["S"], int(it["sk"]["N"])) for it in raw_items(sb, name)}


def proxied_session(sb, proxy: FaultProxy, tmp_path: Path, profile: str = "xacct-sandbox-admin-b"):
    """A boto3 session like ``sb.admin_session("B")`` whose requests all go through ``proxy``."""
    config = tmp_path / f"config-{uuid.uuid4().hex[:6]}"
    config.write_text(sb.aws_config_file.read_text().replace(sb.endpoint_url, proxy.endpoint_url))
    core = botocore.session.Session()
    core.set_config_variable("config_file", str(config))
    core.set_config_variable("credentials_file", str(sb.aws_credentials_file))
    core.set_config_variable("profile", profile)
    session = boto3.Session(botocore_session=core)
    proxy.session = session  # the proxy re-signs the batches it shortens
    return session


class Recorder:
    """Records, per BatchWriteItem request, the keys sent and the keys returned unprocessed."""

    def __init__(self, session) -> None:
        self.sent: list[list[tuple[str, str]]] = []
        self.unprocessed: list[list[tuple[str, str]]] = []
        session.events.register("before-parameter-build.dynamodb.BatchWriteItem", self._before)
        session.events.register("after-call.dynamodb.BatchWriteItem", self._after)

    @staticmethod
    def _keys(requests) -> list[tuple[str, str]]:
        out = []
        for req in requests:
            item = req["PutRequest"]["Item"]
            out.append((item["pk"]["S"], item.get("sk", {}).get("N", "")))
        return out

    def _before(self, params, **_: Any) -> None:
        self.sent.append([k for reqs in params["RequestItems"].values() for k in self._keys(reqs)])

    def _after(self, parsed, **_: Any) -> None:
        un = parsed.get("UnprocessedItems") or {}
        self.unprocessed.append([k for reqs in un.values() for k in self._keys(reqs)])

    def processed(self) -> list[tuple[str, str]]:
        """Keys DynamoDB accepted, once per acceptance."""
        out = []
        for sent, un in zip(self.sent, self.unprocessed, strict=False):
            rest = list(un)
            for key in sent:
                if key in rest:
                    rest.remove(key)
                else:
                    out.append(key)
        return out


def frame(n: int, pk: str = "p", start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {"pk": [pk] * n, "sk": np.arange(start, start + n), "v": np.arange(n) * 0.5},
        index=pd.Index([f"row{i}" for i in range(start, start + n)]),
    )


def shrink_backoff(monkeypatch, attempts: int = 3) -> None:
    monkeypatch.setattr(UNPROCESSED, "retries", attempts - 1)
    monkeypatch.setattr(UNPROCESSED, "base", 0.001)
    monkeypatch.setattr(UNPROCESSED, "cap", 0.01)


# ---------------------------------------------------------------------------
# Value conversion (no network)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("x", {"S": "x"}),
        ("", {"S": ""}),
        (np.str_("y"), {"S": "y"}),
        (True, {"BOOL": True}),
        (np.bool_(False), {"BOOL": False}),
        (0, {"N": "0"}),
        (np.int64(-7), {"N": "-7"}),
        (np.uint64(2**64 - 1), {"N": "18446744073709551615"}),
        (2**70, {"N": "1180591620717411303424"}),
        (10**40, {"N": "1" + "0" * 40}),
        (0.1, {"N": "0.1"}),
        (1e-7, {"N": "1e-07"}),
        (1e20, {"N": "1e+20"}),
        (np.float64(0.1), {"N": "0.1"}),
        (np.float32(0.1), {"N": "0.1"}),
        (np.float16(2.5), {"N": "2.5"}),
        (Decimal("0.10"), {"N": "0.10"}),
        (Decimal("-1E+100"), {"N": "-1E+100"}),
        (Decimal("0E-5"), {"N": "0"}),
        (b"\x00", {"B": b"\x00"}),
        (bytearray(b"ab"), {"B": b"ab"}),
        (memoryview(b"cd"), {"B": b"cd"}),
        (pd.Timestamp("2026-03-01 12:30"), {"S": "2026-03-01T12:30:00Z"}),
        (pd.Timestamp("2026-07-01 12:30", tz="Europe/Lisbon"), {"S": "2026-07-01T11:30:00Z"}),
        (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), {"S": "2026-01-02T03:04:05Z"}),
        (dt.date(2026, 1, 2), {"S": "2026-01-02"}),
        (dt.time(3, 4, 5), {"S": "03:04:05"}),
        (np.datetime64("2026-01-02T03:04:05"), {"S": "2026-01-02T03:04:05Z"}),
        ([1, "a", None, float("nan")], {"L": [{"N": "1"}, {"S": "a"}, {"NULL": True}, {"NULL": True}]}),
        ((1, (2,)), {"L": [{"N": "1"}, {"L": [{"N": "2"}]}]}),
        (np.array([1, 2]), {"L": [{"N": "1"}, {"N": "2"}]}),
        ({"a": {"b": pd.NA}, "c": []}, {"M": {"a": {"M": {"b": {"NULL": True}}}, "c": {"L": []}}}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
        (frozenset({2.5, 1, Decimal("3")}), {"NS": ["1", "2.5", "3"]}),
        ({b"b", b"a"}, {"BS": [b"a", b"b"]}),
        ([set()], {"L": [{"NULL": True}]}),
    ],
)
def test_to_attribute_value(value, wire):
    assert to_attribute_value(value) == wire


@pytest.mark.parametrize(
    "value",
    [None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NA, pd.NaT, np.datetime64("NaT", "ns"),
     np.timedelta64("NaT", "ns"), Decimal("NaN"), set(), frozenset()],
)
def test_missing_values_are_left_out(value):
    assert to_attribute_value(value) is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("inf"), "DynamoDB has no infinity"),
        (np.float64("-inf"), "DynamoDB has no infinity"),
        (Decimal("Infinity"), "DynamoDB has no infinity"),
        (1e200, "at most 38 significant digits and a magnitude from 1E-130 to 9.99E+125"),
        (1e-200, "magnitude from 1E-130"),
        (10**38 + 1, "the integer 100000000000000000000000000000000000001 cannot be stored"),
        (10**126, "the integer <int of about 127 digits> cannot be stored"),
        pytest.param(-(10**5000), "the integer <int of about 5001 digits> cannot be stored",
                     id="int-of-5001-digits"),
        (Decimal("1" * 38 + "0" * 50), None),
        (Decimal("0.000" + "1" * 38 + "000"), None),
        (Decimal("1" * 39), "38 significant digits"),
        (Decimal("1E+126"), "cannot be stored"),
        ({1, "a"}, "set members must all be str (or datetimes), all numbers or all bytes "
                   "(DynamoDB's SS, NS, BS); got int, str"),
        ({True}, "set members must all be str (or datetimes), all numbers or all bytes"),
        ({1: "x"}, "map keys must be str, got int key 1"),
        ({"a": [1, object()]}, "value['a'][1]: values of type object cannot be stored in DynamoDB"),
        (pd.Timedelta("1 days 02:00:03"), "is a duration, and DynamoDB has no duration type; store a number"),
        (dt.timedelta(seconds=90), "is a duration"),
        (np.timedelta64(5, "s"), "is a duration"),
        (1 + 2j, "values of type complex cannot be stored in DynamoDB; accepted: str, int"),
    ],
)
def test_values_dynamodb_cannot_store(value, message):
    if message is None:  # at the limit, still storable
        assert to_attribute_value(value) == {"N": str(value)}
        return
    with pytest.raises(xn.InvalidArgumentError) as info:
        to_attribute_value(value)
    assert message in str(info.value)


finite_floats = st.one_of(  # every float DynamoDB can hold
    st.just(0.0),
    st.floats(min_value=1e-130, max_value=9.99e125),
    st.floats(min_value=-9.99e125, max_value=-1e-130),
)


@given(finite_floats)
@settings(max_examples=300, deadline=None)
def test_floats_are_written_as_their_shortest_round_trip(x):
    text = to_attribute_value(x)["N"]
    assert float(text) == x
    assert Decimal(text) == Decimal(repr(x))
    assert text == repr(x)


@given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
@settings(max_examples=200, deadline=None)
def test_integers_are_exact(n):
    assert int(to_attribute_value(n)["N"]) == n
    if -(2**63) <= n < 2**63:
        assert to_attribute_value(np.int64(n)) == {"N": str(n)}


def _expected(value: Any) -> Any:
    """What TypeDeserializer gives back for a value written by to_attribute_value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, (list, tuple)):
        return [_expected(v) for v in value]
    if isinstance(value, dict):
        return {k: _expected(v) for k, v in value.items()}
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    finite_floats,
    st.just(float("nan")),
    st.text(max_size=5),
)
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(min_size=1, max_size=4), children, max_size=4),
    ),
    max_leaves=20,
)


@given(st.one_of(st.lists(nested, max_size=4), st.dictionaries(st.text(max_size=4), nested, max_size=4)))
@settings(max_examples=200, deadline=None)
def test_nested_values_round_trip_through_boto3s_deserializer(value):
    wire = to_attribute_value(value)
    assert TypeDeserializer().deserialize(wire) == _expected(value)


def test_item_size_follows_dynamodbs_rules():
    assert item_size({"a": {"S": "xyz"}}) == 4
    assert item_size({"é": {"S": "€"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    assert item_size({"b": {"B": b"\x00" * 10}, "t": {"BOOL": True}, "z": {"NULL": True}}) == 11 + 2 + 2
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"s": {"SS": ["a", "bc"]}}) == 1 + 3


# ---------------------------------------------------------------------------
# Round trips through the sandbox
# ---------------------------------------------------------------------------


def every_type_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "pk": ["r0", "r1", "r2"],
            "sk": [1, 2, 3],
            "i64": np.array([1, -2, 2**62], dtype="int64"),
            "u8": np.array([0, 255, 7], dtype="uint8"),
            "f64": [0.1, 1e-7, 1 / 3],
            "f32": np.array([0.1, 2.5, -1], dtype="float32"),
            "nint": pd.array([1, None, 3], dtype="Int64"),
            "nfloat": pd.array([0.1, None, 2.0], dtype="Float64"),
            "nbool": pd.array([True, None, False], dtype="boolean"),
            "nstr": pd.array(["x", None, ""], dtype="string"),
            "text": ["a", "é€", None],
            "flag": [True, False, True],
            "big": [2**70, -(10**30), 12345678901234567890123456789012345678],
            "dec": [Decimal("0.1"), Decimal("1E+100"), Decimal("-3.14159265358979323846264338327950288")],
            "blob": [b"\x00\x01", b"", bytearray(b"xyz")],
            "naive": pd.to_datetime(["2026-03-01 12:30:00", "2026-03-02 00:00:00", None]),
            "aware": pd.to_datetime(["2026-07-01 12:30", "2026-07-02 00:00", "2026-07-03 00:00"]).tz_localize(
                "Europe/Lisbon"
            ),
            "day": [dt.date(2026, 3, 1), None, dt.date(2026, 1, 1)],
            "lst": [[1, "a", None, [2.5]], [], ({"k": 1},)],
            "mp": [{"a": {"b": 1}, "c": None}, {}, {"x": [True]}],
            "ss": [{"b", "a"}, set(), frozenset({"z"})],
            "ns": [{1, 2.5, Decimal("3")}, {10**20}, None],
            "bs": [{b"a", b"b"}, None, {b"c"}],
        }
    )


def test_every_type_is_written_exactly(sb, admin, table):
    df = every_type_frame()
    session = admin
    report = write_frame(session, table, df)
    assert report.ok and report.rows_written == 3 and report.rows_total == 3
    assert report.batches == 1 and report.requests == 1 and report.retries == 0
    assert report.consumed_capacity > 0

    r0 = get_raw(sb, table, "r0", 1)
    assert r0["i64"] == {"N": "1"} and r0["u8"] == {"N": "0"}
    assert r0["f64"] == {"N": "0.1"} and r0["f32"] == {"N": "0.1"} and r0["nfloat"] == {"N": "0.1"}
    assert r0["nint"] == {"N": "1"} and r0["nbool"] == {"BOOL": True} and r0["flag"] == {"BOOL": True}
    assert r0["big"] == {"N": "1180591620717411303424"} and r0["dec"] == {"N": "0.1"}
    assert r0["nstr"] == {"S": "x"} and r0["text"] == {"S": "a"}
    assert r0["blob"] == {"B": b"\x00\x01"}
    assert r0["naive"] == {"S": "2026-03-01T12:30:00Z"}  # naive datetimes are taken as UTC
    assert r0["aware"] == {"S": "2026-07-01T11:30:00Z"}
    assert r0["day"] == {"S": "2026-03-01"}
    assert r0["lst"] == {"L": [{"N": "1"}, {"S": "a"}, {"NULL": True}, {"L": [{"N": "2.5"}]}]}
    assert r0["mp"] == {"M": {"a": {"M": {"b": {"N": "1"}}}, "c": {"NULL": True}}}
    assert sorted(r0["ss"]["SS"]) == ["a", "b"] and sorted(r0["ns"]["NS"]) == ["1", "2.5", "3"]
    assert sorted(r0["bs"]["BS"]) == [b"a", b"b"]

    # Missing values (NA, None, NaT, empty set) leave the attribute out.
    r1 = get_raw(sb, table, "r1", 2)
    for absent in ("nint", "nfloat", "nbool", "nstr", "day", "ss", "bs"):
        assert absent not in r1, absent
    assert r1["naive"] == {"S": "2026-03-02T00:00:00Z"}
    assert r1["blob"] == {"B": b""} and r1["lst"] == {"L": []} and r1["mp"] == {"M": {}}
    assert r1["ns"] == {"NS": ["100000000000000000000"]} and r1["text"] == {"S": "é€"}
    r2 = get_raw(sb, table, "r2", 3)
    for absent in ("text", "naive", "ns"):
        assert absent not in r2, absent
    assert r2["nstr"] == {"S": ""} and r2["f64"] == {"N": repr(1 / 3)}
    assert r2["dec"] == {"N": "-3.14159265358979323846264338327950288"}

    # Read back with xacct-nb's own readers.
    exact = xn.read_scan(session, table, numbers="decimal").sort_values("pk").reset_index(drop=True)
    assert exact.loc[0, "f64"] == Decimal("0.1") and exact.loc[1, "f64"] == Decimal("1e-07")
    assert exact.loc[0, "nfloat"] == Decimal("0.1")
    assert exact.loc[2, "big"] == Decimal(12345678901234567890123456789012345678)
    auto = xn.read_query(session, table, "r0")
    assert auto["f64"].tolist() == [0.1] and auto["i64"].dtype == "int64"
    assert auto.loc[0, "big"] == 2**70 and auto.loc[0, "ss"] == {"a", "b"}
    assert auto.loc[0, "mp"] == {"a": {"b": 1}, "c": None}
    everything = xn.read_scan(session, table).sort_values("pk").reset_index(drop=True)
    assert everything["f64"].tolist() == [0.1, 1e-7, 1 / 3]
    assert everything["big"].tolist() == [2**70, -(10**30), 12345678901234567890123456789012345678]
    assert everything["nint"].dtype == "Int64" and everything["nint"].isna().tolist() == [
        False, True, False]
    assert everything["blob"].tolist() == [b"\x00\x01", b"", b"xyz"]
    naive_back = pd.to_datetime(everything["naive"]).dt.tz_convert(None)
    assert naive_back.tolist()[:2] == df["naive"].tolist()[:2]
    assert pd.to_datetime(everything["aware"]).tolist() == df["aware"].dt.tz_convert("UTC").tolist()


def test_frame_written_through_the_writer_role_with_the_table_arn(sb):
    writer = xn.assume_role(
        sb.writer_role_arn, external_id=sb.external_id, source_session=sb.analyst_session()
    )
    part = sb.writer_partitions[0]
    df = pd.DataFrame(
        {"customer_id": [part] * 30, "order_ts": [f"2030-01-01T00:00:{i:02d}Z" for i in range(30)],
         "total": [Decimal("10.10")] * 30, "note": ["written by test_write"] * 30}
    )
    report = write_frame(writer, sb.table_arn, df, progress=False)
    assert report.ok and report.rows_written == 30 and report.batches == 2
    assert report.table == sb.table_arn
    back = xn.read_query(writer, sb.table_arn, part, sort=("begins_with", "2030-"), numbers="decimal")
    assert len(back) == 30 and set(back["total"]) == {Decimal("10.10")}

    # "status" is the key of the table's GSI: typed when present, absent is fine.
    statuses = pd.DataFrame({"customer_id": [part] * 4,
                             "order_ts": [f"2030-02-01T00:00:0{i}Z" for i in range(4)],
                             "status": ["shipped", 5, "", None]})
    report = write_frame(writer, sb.table_arn, statuses)
    assert report.rows_written == 2
    assert report.failed["_error"].tolist() == [
        "attribute 'status' is a key of an index of the table and must be a string (S), got N "
        "'5'; leave it out (None) to keep the item out of the index",
        "attribute 'status' is a key of an index of the table and cannot be empty; leave it out "
        "(None) to keep the item out of the index",
    ]


def test_partition_only_table_and_empty_frame(sb, admin):
    name = make_table(sb, sort=None)
    session = admin
    report = write_frame(session, name, pd.DataFrame({"pk": ["a", "b"], "x": [1, 2]}))
    assert report.ok and report.rows_written == 2
    empty = write_frame(session, name, pd.DataFrame({"pk": pd.Series([], dtype=object)}))
    assert empty.ok and empty.rows_written == 0 and empty.batches == 0
    assert list(empty.failed.columns) == ["pk", "_error"]


# ---------------------------------------------------------------------------
# Checks before sending
# ---------------------------------------------------------------------------


def test_duplicate_keys_last_row_wins_over_the_whole_frame(sb, admin, table):
    # 1, 1.0 and Decimal("1.00") are one DynamoDB number, hence one key.
    df = pd.DataFrame(
        {"pk": ["a", "b", "a", "c", "a", "b"],
         "sk": np.array([1, 1.0, 1.0, 1, Decimal("1.00"), 1], dtype=object),
         "v": ["first", "b-first", "second", "c", "last", "b-last"]},
        index=[10, 11, 12, 13, 14, 15],
    )
    # 30 fillers between the duplicates so that they land in different batches.
    fill = pd.DataFrame({"pk": ["f"] * 30, "sk": np.arange(30.0), "v": ["x"] * 30},
                        index=range(100, 130))
    df = pd.concat([df.iloc[:3], fill, df.iloc[3:]])
    report = write_frame(admin, table, df)
    assert report.ok
    assert report.duplicates_dropped == 3
    assert report.duplicate_labels == [10, 11, 12]
    assert report.rows_written == 33
    assert report.rows_written + report.duplicates_dropped + len(report.failed) == len(df)
    assert "3 duplicate keys dropped (last row wins)" in str(report)
    assert get_raw(sb, table, "a", 1)["v"] == {"S": "last"}
    assert get_raw(sb, table, "b", 1)["v"] == {"S": "b-last"}


def test_oversized_items_are_rejected_before_sending(sb, table):
    session = sb.admin_session("B")
    rec = Recorder(session)
    df = frame(30)
    df["payload"] = "small"
    df.loc["row3", "payload"] = "x" * (400 * 1024)  # plus the other attributes: over the limit
    df.loc["row4", "payload"] = "y" * 300_000  # large, but under the limit
    report = write_frame(session, table, df)
    assert not report.ok
    assert report.rows_written == 29
    assert list(report.failed.index) == ["row3"]
    assert report.failed.loc["row3", "_error"].startswith("item larger than 400 KB (409,6")
    assert list(report.failed.columns) == [*df.columns, "_error"]
    assert len(rec.sent) == 2  # 29 rows: two requests
    assert ("p", "3") not in {k for sent in rec.sent for k in sent}
    assert ("p", "4") in {k for sent in rec.sent for k in sent}
    assert stored_keys(sb, table) == {("p", i) for i in range(30) if i != 3}
    assert "NOT ok" in repr(report) and "1 failed" in repr(report)
    html = report._repr_html_()  # the 400 KB value is cut, the reason is not
    assert len(html) < 20_000 and report.failed.loc["row3", "_error"] in html


def test_missing_key_column_is_an_error_naming_it(sb, table):
    session = sb.admin_session("B")
    rec = Recorder(session)
    with pytest.raises(xn.InvalidArgumentError) as info:
        write_frame(session, table, pd.DataFrame({"pk": ["a"], "other": [1]}))
    assert str(info.value) == (
        f"The frame has no column 'sk', a key attribute of table {table!r} (its key: pk, sk). "
        "Add the column, or rename the one that holds it."
    )
    assert rec.sent == []


@pytest.mark.parametrize(
    ("df", "message"),
    [
        ([{"pk": "a", "sk": 1}], "df must be a pandas DataFrame, not list; build one with pd.DataFrame(records)."),
        (pd.DataFrame({"pk": ["a"], "sk": [1], 0: [1]}), "Column names are attribute names and must be non-empty str; got 0."),
        (pd.DataFrame([["a", 1, 2]], columns=["pk", "sk", "pk"]), "Column names must be unique (each is one attribute); repeated: pk."),
    ],
)
def test_frames_that_cannot_be_written(sb, admin, table, df, message):
    with pytest.raises(xn.InvalidArgumentError) as info:
        write_frame(admin, table, df)
    assert message in str(info.value)


def test_rows_with_bad_keys_or_values_go_to_failed_with_the_reason(sb, admin, table):
    df = pd.DataFrame(
        {
            "pk": ["ok", None, "ok", "", "ok", "ok", 7, "ok"],
            "sk": pd.array([1, 2, None, 4, 5, 6, 7, 8], dtype="Int64"),
            "v": [1.5, 1.0, 1.0, 1.0, float("inf"), {1: "x"}, 1.0, 10**39 + 1],
        },
        index=list("abcdefgh"),
    )
    report = write_frame(admin, table, df)
    assert report.rows_written == 1
    errors = report.failed["_error"].to_dict()
    assert errors == {
        "b": "missing key attribute 'pk'",
        "c": "missing key attribute 'sk'",
        "d": "key attribute 'pk' is empty; DynamoDB key values cannot be empty",
        "e": "attribute 'v': inf cannot be stored: DynamoDB has no infinity (use None for a missing value)",
        "f": "attribute 'v': map keys must be str, got int key 1",
        "g": "key attribute 'pk' must be a string (S) as the table defines it, got N '7'",
        "h": "attribute 'v': the integer 1000000000000000000000000000000000000001 cannot be stored; "
             "DynamoDB numbers have at most 38 significant digits and a magnitude from 1E-130 to 9.99E+125",
    }
    assert report.failed.loc["e", "v"] == float("inf")  # the original row, unchanged
    assert stored_keys(sb, table) == {("ok", 1)}


def test_key_schema_argument_skips_describe_table(sb, table):
    session = sb.admin_session("B")
    calls: list[str] = []
    session.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    report = write_frame(session, table, frame(3), key_schema=("pk", "sk"))
    assert report.ok and calls == ["BatchWriteItem"]


def test_progress_argument_and_report_rendering(sb, admin, table):
    session = admin
    with pytest.raises(xn.InvalidArgumentError, match="progress must be None, True or False, not 'yes'"):
        write_frame(session, table, frame(2), progress="yes")
    report = write_frame(session, table, frame(60), progress=True)
    assert isinstance(report, WriteReport) and report.ok and report.batches == 3
    assert str(report).startswith(f"60 of 60 rows written to {table!r}, 3 batches, 0 retries, 60 WCU")
    assert repr(report).startswith("<WriteReport ok: 60 of 60 rows written")
    html = report._repr_html_()
    assert "WriteReport" in html and "60 of 60" in html
    creds = session.get_credentials()
    for text in (str(report), repr(report), html):
        assert creds.access_key not in text and creds.secret_key not in text


# ---------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------


def test_unprocessed_items_are_retried_and_written_exactly_once(sb, table, tmp_path):
    with FaultProxy(sb.endpoint_url) as proxy:
        session = proxied_session(sb, proxy, tmp_path)
        rec = Recorder(session)
        # Requests 1 and 2 (batch 1 and its first re-send) forward 10 rows each;
        # request 4 (batch 2's first try) forwards none.
        proxy.add("BatchWriteItem", "partial", keep=10, times=2)
        proxy.add("BatchWriteItem", "partial", keep=0, times=1, after=1)
        df = frame(100)
        report = write_frame(session, table, df)
    assert report.ok and report.rows_written == 100
    assert report.batches == 4 and report.retries == 3 and report.requests == 7
    processed = rec.processed()
    assert len(processed) == 100 and len(set(processed)) == 100
    assert stored_keys(sb, table) == {("p", i) for i in range(100)}


def test_throttling_and_server_errors_are_retried_by_botocore(sb, table, tmp_path):
    with FaultProxy(sb.endpoint_url) as proxy:
        session = proxied_session(sb, proxy, tmp_path)
        # Rules see only the requests earlier rules let through: one fault per
        # batch for batches 2, 3, 4 and 5.
        proxy.add("BatchWriteItem", "throttle", times=1, after=1)
        proxy.add("BatchWriteItem", "throttling", times=1, after=2)
        proxy.add("BatchWriteItem", "error500", times=1, after=3)
        proxy.add("BatchWriteItem", "drop", times=1, after=4)
        report = write_frame(session, table, frame(125))
        injected = [action for _, action in proxy.injected]
    assert injected == ["throttle", "throttling", "error500", "drop"]
    assert report.ok and report.rows_written == 125 and report.retries == 4
    assert report.requests == 5  # botocore's retries are inside one request
    assert stored_keys(sb, table) == {("p", i) for i in range(125)}


def test_permanent_throttling_raises_with_every_unwritten_row(sb, admin, table, tmp_path, monkeypatch):
    # botocore retries throttling itself (standard mode, many attempts, seconds of
    # backoff): two attempts in all are enough to show it gives up.
    monkeypatch.setattr(
        _write, "CLIENT_CONFIG", {"retries": {"total_max_attempts": 2, "mode": "standard"}}
    )
    df = frame(110)
    with FaultProxy(sb.endpoint_url) as proxy:
        session = proxied_session(sb, proxy, tmp_path)
        proxy.add("BatchWriteItem", "throttle", times=None, after=2)
        with pytest.raises(xn.IncompleteWriteError) as info:
            write_frame(session, table, df)
        assert proxy.requests["BatchWriteItem"] == 4  # two batches, then one tried twice
    err = info.value
    report = err.report
    assert err.code == "ProvisionedThroughputExceededException"
    assert err.operation == "BatchWriteItem" and err.table == table
    assert isinstance(err.__cause__, xn.ThrottledError)
    assert str(err).startswith(
        f"write_frame to table {table!r} did not complete: BatchWriteItem on table {table!r} "
        "failed: ProvisionedThroughputExceededException: The level of configured provisioned "
        "throughput for the table was exceeded."
    )
    assert "The table's capacity is exhausted: retry later" in str(err)
    assert "50 of 110 rows were written; the 60 unwritten rows are in this error's .report.failed" in str(err)
    assert report.rows_written == 50 and report.retries == 1 and not report.ok
    assert list(report.failed.index) == list(df.index[50:])
    assert report.failed.drop(columns="_error").equals(df.iloc[50:])
    assert report.failed["_error"].iloc[0].startswith("ProvisionedThroughputExceededException: ")
    assert report.failed["_error"].iloc[-1].startswith("not sent: the write stopped at an earlier batch")
    assert stored_keys(sb, table) == {("p", i) for i in range(50)}

    # The failed rows can be written again as they are.
    again = write_frame(admin, table, report.failed.drop(columns="_error"))
    assert again.ok and again.rows_written == 60
    assert stored_keys(sb, table) == {("p", i) for i in range(110)}


def test_unprocessed_items_forever_raise_after_the_bounded_attempts(sb, table, tmp_path, monkeypatch):
    shrink_backoff(monkeypatch, attempts=3)
    df = frame(60)
    with FaultProxy(sb.endpoint_url) as proxy:
        session = proxied_session(sb, proxy, tmp_path)
        proxy.add("BatchWriteItem", "partial", keep=5, times=None, after=1)
        with pytest.raises(xn.IncompleteWriteError) as info:
            write_frame(session, table, df)
    report = info.value.report
    # Batch 1 written; batch 2: 5 rows per request for 3 requests, then 10 left; batch 3 not sent.
    assert report.rows_written == 40 and report.retries == 2
    assert list(report.failed.index) == list(df.index[40:])
    assert report.failed["_error"].iloc[0] == (
        "still unprocessed after 3 BatchWriteItem requests "
        "(DynamoDB returned it in UnprocessedItems each time)"
    )
    assert "10 rows of a batch were still unprocessed after 3 BatchWriteItem requests (DynamoDB " \
        "returned them in UnprocessedItems each time); the table's write capacity is probably " \
        "exhausted" in str(info.value)
    assert stored_keys(sb, table) == {("p", i) for i in range(40)}


def _deny_partition(session, denied: str, role: str) -> None:
    """Answer BatchWriteItem requests that touch partition ``denied`` as AWS's LeadingKeys denial."""

    def handler(params, model, **_: Any):
        body = json.loads(params["body"])
        pks = {req["PutRequest"]["Item"]["customer_id"]["S"]
               for reqs in body["RequestItems"].values() for req in reqs}
        if denied not in pks:
            return None
        table = next(iter(body["RequestItems"]))
        message = (f"User: {role} is not authorized to perform: dynamodb:BatchWriteItem on "
                   f"resource: {table} because no identity-based policy allows the "
                   "dynamodb:BatchWriteItem action")
        response = AWSResponse("https://dynamodb", 400, {}, None)
        return response, {"Error": {"Code": "AccessDeniedException", "Message": message},
                          "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0}}

    session.events.register("before-call.dynamodb.BatchWriteItem", handler)


def test_access_denied_batches_fail_and_the_others_are_written(sb):
    writer = xn.assume_role(
        sb.writer_role_arn, external_id=sb.external_id, source_session=sb.analyst_session()
    )
    allowed, other = sb.writer_partitions[:2]
    _deny_partition(writer, "C-0099", sb.writer_role_arn)
    parts = [allowed] * 25 + ["C-0099"] * 25 + [other] * 25
    df = pd.DataFrame({"customer_id": parts,
                       "order_ts": [f"2031-02-01T00:00:{i:02d}Z" for i in range(75)],
                       "qty": range(75)})
    with pytest.raises(xn.IncompleteWriteError) as info:
        write_frame(writer, sb.table, df)
    err = info.value
    assert err.code == "AccessDeniedException"
    assert isinstance(err.__cause__, xn.AccessDeniedError)
    assert f"did not complete: AWS refused 25 rows: BatchWriteItem on table {sb.table!r} failed: " \
           f"AccessDeniedException: User: {sb.writer_role_arn} is not authorized" in str(err)
    assert "The other batches were written. 50 of 75 rows were written" in str(err)
    assert "Run xn.verify_access(session, table)" in str(err)
    report = err.report
    assert report.rows_written == 50 and report.batches == 3 and report.requests == 3
    assert list(report.failed.index) == list(range(25, 50))
    assert set(report.failed["customer_id"]) == {"C-0099"}
    assert report.failed["_error"].iloc[0].startswith(
        f"AccessDeniedException: User: {sb.writer_role_arn} is not authorized to perform: "
        "dynamodb:BatchWriteItem")
    for part, expected in ((allowed, 25), ("C-0099", 0), (other, 25)):
        back = xn.read_query(writer, sb.table, part, sort=("begins_with", "2031-02-01"))
        assert len(back) == expected, part


def test_keyboard_interrupt_keeps_every_unwritten_row(sb, table):
    session = sb.admin_session("B")
    calls = []

    def interrupt(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    session.events.register("before-call.dynamodb.BatchWriteItem", interrupt)
    df = frame(120)
    with pytest.raises(xn.IncompleteWriteError) as info:
        write_frame(session, table, df)
    err = info.value
    assert isinstance(err.__cause__, KeyboardInterrupt)
    assert str(err).startswith(
        f"write_frame to table {table!r} did not complete: it was interrupted (KeyboardInterrupt). "
        "50 of 120 rows were written; the 70 unwritten rows are in this error's .report.failed"
    )
    report = err.report
    assert report.rows_written == 50 and len(report.failed) == 70
    assert list(report.failed.index) == list(df.index[50:])
    errors = report.failed["_error"]
    assert set(errors.iloc[:25]) == {"interrupted (KeyboardInterrupt) before DynamoDB confirmed this row"}
    assert set(errors.iloc[25:]) == {"not sent: the write was interrupted (KeyboardInterrupt)"}
    assert stored_keys(sb, table) == {("p", i) for i in range(50)}
