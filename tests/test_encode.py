"""Tests of xacct_nb._encode: the one value encoder for writes, keys and conditions."""

from __future__ import annotations

import datetime as dt
import doctest
import re
import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xacct_nb as xn
import xacct_nb._encode as encode_module
from xacct_nb import _write
from xacct_nb._encode import (
    datetime_text,
    is_missing,
    to_attribute_value,
    to_condition_value,
    to_item,
    to_key,
    to_key_value,
)
from xacct_nb._expressions import build_expressions, key_condition, sort_condition


def test_doctests() -> None:
    result = doctest.testmod(encode_module, raise_on_error=False)
    assert result.attempted >= 10
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Each type
# ---------------------------------------------------------------------------

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("x", {"S": "x"}),
        ("", {"S": ""}),
        (np.str_("y"), {"S": "y"}),
        (True, {"BOOL": True}),
        (np.bool_(False), {"BOOL": False}),
        (0, {"N": "0"}),
        (np.int8(-7), {"N": "-7"}),
        (np.uint64(2**64 - 1), {"N": "18446744073709551615"}),
        (2**70, {"N": "1180591620717411303424"}),
        (-(10**37), {"N": "-1" + "0" * 37}),
        (0.1, {"N": "0.1"}),
        (5.0, {"N": "5.0"}),
        (1e-7, {"N": "1e-07"}),
        (np.float64(1 / 3), {"N": repr(1 / 3)}),
        (np.float32(0.1), {"N": "0.1"}),
        (np.float16(2.5), {"N": "2.5"}),
        (Fraction(1, 4), {"N": "0.25"}),
        (Decimal("0.10"), {"N": "0.10"}),
        (Decimal("-1E+100"), {"N": "-1E+100"}),
        (Decimal("0E-5"), {"N": "0"}),
        (b"\x00", {"B": b"\x00"}),
        (bytearray(b"ab"), {"B": b"ab"}),
        (memoryview(b"cd"), {"B": b"cd"}),
        (Binary(b"ef"), {"B": b"ef"}),
        # Datetimes: ISO 8601, UTC, Z; the fraction only when not zero.
        (dt.datetime(2026, 3, 1, 12), {"S": "2026-03-01T12:00:00Z"}),
        (dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), {"S": "2026-03-01T12:00:00Z"}),
        (dt.datetime(2026, 3, 1, 13, tzinfo=PARIS), {"S": "2026-03-01T12:00:00Z"}),
        (dt.datetime(2026, 3, 1, 12, 0, 0, 250000), {"S": "2026-03-01T12:00:00.250000Z"}),
        (dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
         {"S": "2026-02-28T22:30:00Z"}),
        (pd.Timestamp("2026-03-01 12:00"), {"S": "2026-03-01T12:00:00Z"}),
        (pd.Timestamp("2026-07-01 12:30", tz="Europe/Lisbon"), {"S": "2026-07-01T11:30:00Z"}),
        (pd.Timestamp("2026-03-01 12:00:00.000000001"), {"S": "2026-03-01T12:00:00.000000001Z"}),
        (np.datetime64("2026-03-01T12:00:00"), {"S": "2026-03-01T12:00:00Z"}),
        (np.datetime64("2026-03-01"), {"S": "2026-03-01T00:00:00Z"}),
        (np.datetime64("2026-03-01T12:00:00.123456789", "ns"), {"S": "2026-03-01T12:00:00.123456789Z"}),
        (np.datetime64("9999-12-31T23:59:59", "s"), {"S": "9999-12-31T23:59:59Z"}),
        (dt.date(2026, 3, 1), {"S": "2026-03-01"}),
        (dt.time(3, 4, 5), {"S": "03:04:05"}),
        # Containers.
        ([1, "a", None, float("nan"), set()], {"L": [{"N": "1"}, {"S": "a"}, {"NULL": True},
                                                    {"NULL": True}, {"NULL": True}]}),
        ((1, (2,)), {"L": [{"N": "1"}, {"L": [{"N": "2"}]}]}),
        (np.array([1, 2]), {"L": [{"N": "1"}, {"N": "2"}]}),
        (np.array([[1], [2]]), {"L": [{"L": [{"N": "1"}]}, {"L": [{"N": "2"}]}]}),
        (np.array(3), {"N": "3"}),
        ({"a": {"b": pd.NA}, "c": []}, {"M": {"a": {"M": {"b": {"NULL": True}}}, "c": {"L": []}}}),
        # Sets: sorted, one member per DynamoDB value.
        ({"b", "a"}, {"SS": ["a", "b"]}),
        (frozenset({2.5, 1, Decimal("3")}), {"NS": ["1", "2.5", "3"]}),
        ({np.float32(0.5), 0.5000001, 10**30}, {"NS": ["0.5", "0.5000001", "1" + "0" * 30]}),
        ({0.1, np.float32(0.1)}, {"NS": ["0.1"]}),
        ({b"b", b"a"}, {"BS": [b"a", b"b"]}),
        ({dt.date(2026, 3, 2), pd.Timestamp("2026-03-01")}, {"SS": ["2026-03-01T00:00:00Z", "2026-03-02"]}),
    ],
)
def test_each_type(value: Any, wire: dict[str, Any]) -> None:
    assert to_attribute_value(value) == wire


@pytest.mark.parametrize(
    "value",
    [None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NA, pd.NaT,
     np.datetime64("NaT", "ns"), np.timedelta64("NaT", "ns"), Decimal("NaN"), set(), frozenset()],
)
def test_missing_values(value: Any) -> None:
    """One rule: left out of an item, NULL in a container, refused in keys and conditions."""
    assert is_missing(value)
    assert to_attribute_value(value) is None
    assert to_attribute_value([value]) == {"L": [{"NULL": True}]}
    assert to_attribute_value({"k": value}) == {"M": {"k": {"NULL": True}}}
    assert to_item({"pk": "a", "v": value}) == {"pk": {"S": "a"}}
    with pytest.raises(xn.InvalidArgumentError, match="is a missing value|got NoneType None"):
        to_key({"pk": value})
    if value is None:
        assert to_condition_value(value) == {"NULL": True}
    else:
        with pytest.raises(xn.InvalidArgumentError) as info:
            build_expressions(filter=Attr("v").eq(value))
        assert "filter on 'v'" in str(info.value)
        assert "is a missing value" in str(info.value)
        assert "use Attr(name).not_exists()" in str(info.value)


def test_is_missing_is_false_for_values() -> None:
    assert not any(is_missing(v) for v in (0, 0.0, "", b"", [], {}, {0}, False, Decimal(0)))


# ---------------------------------------------------------------------------
# Refusals: the message says where and what to do
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("inf"), "value: inf cannot be stored: DynamoDB has no infinity (use None for a missing value)"),
        (np.float32("-inf"), "value: -inf cannot be stored: DynamoDB has no infinity"),
        (Decimal("Infinity"), "DynamoDB has no infinity"),
        (1e200, "value: the number 1e+200 cannot be stored; DynamoDB numbers have at most 38 "
                "significant digits and a magnitude from 1E-130 to 9.99E+125"),
        (10**38 + 1, "the integer 100000000000000000000000000000000000001 cannot be stored"),
        pytest.param(-(10**5000), "value: the integer <int of about 5001 digits> cannot be stored",
                     id="int-of-5001-digits"),
        (Decimal("1" * 39), "38 significant digits"),
        (dt.timedelta(seconds=90), "value: datetime.timedelta(seconds=90) is a duration, and DynamoDB "
                                   "has no duration type; store a number (td.total_seconds()"),
        (pd.Timedelta("1 day"), "is a duration"),
        (np.timedelta64(5, "s"), "is a duration"),
        ({1, "a"}, "value: set members must all be str (or datetimes), all numbers or all bytes "
                   "(DynamoDB's SS, NS, BS); got int, str"),
        ({True, False}, "set members must all be str (or datetimes), all numbers or all bytes"),
        ({(1, 2)}, "set members must all be"),
        ({1.0, float("nan")}, "a set cannot hold the missing value nan: DynamoDB sets have no missing "
                              "members; drop it from the set"),
        ({1: "x"}, "value: map keys must be str, got int key 1"),
        ({"a": [1, {"b": object()}]}, "value['a'][1]['b']: values of type object cannot be stored in "
                                      "DynamoDB; accepted: str, int"),
        ([0, [1, float("inf")]], "value[1][1]: inf cannot be stored"),
        (1 + 2j, "values of type complex cannot be stored"),
        (pd.Series([1]), "values of type Series cannot be stored"),
        (np.datetime64("99999-01-01"), "is beyond the year 9999 that ISO 8601 text holds; pass it as a str"),
        (np.datetime64(2**62, "D"), "is outside the dates pandas can represent; pass it as a str"),
        (np.datetime64("0000-01-01"), "is before the year 1; pass it as a str"),
    ],
)
def test_refusals(value: Any, message: str) -> None:
    with pytest.raises(xn.InvalidArgumentError) as info:
        to_attribute_value(value)
    assert message in str(info.value)


def test_refusals_name_the_place() -> None:
    with pytest.raises(xn.InvalidArgumentError, match=r"^attribute 'tags'\[2\]: inf cannot be stored"):
        to_attribute_value(["a", "b", float("inf")], where="attribute 'tags'")
    with pytest.raises(xn.InvalidArgumentError, match=r"^item attribute 'd': .* is a duration"):
        to_item({"d": dt.timedelta(1)})
    with pytest.raises(xn.InvalidArgumentError, match=r"^filter on 'amount': inf cannot be stored"):
        build_expressions(filter=Attr("amount").gt(float("inf")))
    with pytest.raises(xn.InvalidArgumentError, match=r"^sort condition on 'sk': .* is a duration"):
        sort_condition("sk", (">=", pd.Timedelta("1 h")))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "key attribute 'pk': key values must be str, a number (int, float, Decimal) or bytes "
               "(datetimes and dates are stored as str); got bool True"),
        (["a"], "got list ['a']"),
        ({"a"}, "got set {'a'}"),
        (None, "got NoneType None"),
        (float("nan"), "key attribute 'pk': nan is a missing value (NaN); key values must be str"),
        (pd.NaT, "NaT is a missing value (NaT)"),
        ("", "key attribute 'pk': key values cannot be empty strings or empty bytes"),
        (b"", "key values cannot be empty"),
        (float("inf"), "key attribute 'pk': inf cannot be stored"),
    ],
)
def test_key_refusals(value: Any, message: str) -> None:
    with pytest.raises(xn.InvalidArgumentError) as info:
        to_key({"pk": value})
    assert message in str(info.value)


def test_keys_take_datetimes_and_numbers() -> None:
    assert to_key({"pk": pd.Timestamp("2026-03-01 13:00", tz="Europe/Paris"), "sk": 2**70}) == {
        "pk": {"S": "2026-03-01T12:00:00Z"}, "sk": {"N": "1180591620717411303424"}}
    assert to_key_value("", empty_ok=True) == {"S": ""}
    with pytest.raises(xn.InvalidArgumentError, match="key must be a non-empty dict"):
        to_key({})


def test_datetime_text() -> None:
    assert datetime_text(dt.datetime(1, 1, 1)) == "0001-01-01T00:00:00Z"
    assert datetime_text(pd.Timestamp("2026-03-01 12:00:00.5", tz="America/New_York")) == (
        "2026-03-01T17:00:00.500000Z")
    # Folded times are converted by their offset.
    ambiguous = dt.datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)
    assert datetime_text(ambiguous) == "2026-10-25T01:30:00Z"


# ---------------------------------------------------------------------------
# Sort tuples and boto3 conditions accept what the encoder accepts
# ---------------------------------------------------------------------------


def test_sort_tuples_and_conditions_take_datetimes() -> None:
    start = dt.datetime(2026, 3, 1, 13, tzinfo=PARIS)
    end = pd.Timestamp("2026-03-02")
    params = build_expressions(
        key=key_condition("pk", "c1", "sk", ("between", start, end)),
        filter=Attr("when").gte(np.datetime64("2026-03-01T00:00")) & Attr("day").eq(dt.date(2026, 3, 1))
        & Attr("amount").eq(Decimal("12.50")) & Attr("tags").contains("vip")
        & Attr("nums").eq({1, 2.5}) & Attr("big").is_in([2**70, np.int64(3)]),
    )
    assert list(params["ExpressionAttributeValues"].values()) == [
        {"S": "c1"},
        {"S": "2026-03-01T12:00:00Z"},
        {"S": "2026-03-02T00:00:00Z"},
        {"S": "2026-03-01T00:00:00Z"},
        {"S": "2026-03-01"},
        {"N": "12.50"},
        {"S": "vip"},
        {"NS": ["1", "2.5"]},
        {"N": "1180591620717411303424"},
        {"N": "3"},
    ]
    for sort in ((">=", end), ("<", end), ("=", end), end, Key("sk").lt(end)):
        values = build_expressions(key=key_condition("pk", end, "sk", sort))["ExpressionAttributeValues"]
        assert set(map(str, values.values())) == {"{'S': '2026-03-02T00:00:00Z'}"}
    assert build_expressions(key=key_condition("pk", "x", "sk", ("begins_with", dt.date(2026, 3, 1))))[
        "ExpressionAttributeValues"][":v1"] == {"S": "2026-03-01"}


# ---------------------------------------------------------------------------
# Properties: write path == one encoder == condition path
# ---------------------------------------------------------------------------

finite_floats = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-130, max_value=9.99e125),
    st.floats(min_value=-9.99e125, max_value=-1e-130),
)
any_floats = st.one_of(finite_floats, st.floats(), st.sampled_from([1e200, 1e-200, -1e130]))
datetimes = st.datetimes(
    min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1),
    timezones=st.one_of(st.none(), st.just(dt.UTC), st.timezones()),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    any_floats,
    st.decimals(allow_nan=True, allow_infinity=False, places=None),
    st.text(max_size=5),
    st.binary(max_size=4),
    datetimes,
    datetimes.map(pd.Timestamp),
    st.dates(),
    st.frozensets(st.text(max_size=3), max_size=3),
    st.frozensets(st.integers(-1000, 1000) | finite_floats, max_size=3),
)
nested = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(min_size=1, max_size=3), children, max_size=3),
    ),
    max_leaves=10,
)


def _encoded(value: Any, where: str) -> tuple[str, Any]:
    try:
        return "ok", to_attribute_value(value, where=where)
    except xn.InvalidArgumentError as exc:
        return "error", str(exc)


@given(nested)
@settings(max_examples=300, deadline=None)
def test_conditions_and_keys_encode_as_writes_do(value: Any) -> None:
    status, wire = _encoded(value, "filter on 'x'")
    if status == "error":
        with pytest.raises(xn.InvalidArgumentError) as info:
            build_expressions(filter=Attr("x").eq(value))
        assert str(info.value) == wire
        return
    if wire is None:  # missing: left out of items; refused in conditions (None is NULL)
        if value is None:
            assert to_condition_value(value) == {"NULL": True}
        else:
            with pytest.raises(xn.InvalidArgumentError, match="is a missing value"):
                build_expressions(filter=Attr("x").eq(value))
        return
    params = build_expressions(filter=Attr("x").eq(value) | Attr("x").is_in([value]))
    assert list(params["ExpressionAttributeValues"].values()) == [wire, wire]
    assert to_item({"x": value}) == {"x": wire}
    tag, text = next(iter(wire.items()))
    if tag in ("S", "N", "B") and text not in ("", b""):
        key = build_expressions(key=key_condition("pk", value, "sk", ("between", value, value)))
        assert list(key["ExpressionAttributeValues"].values()) == [wire, wire, wire]
        assert to_key({"pk": value}) == {"pk": wire}


_INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


@st.composite
def columns(draw: st.DrawFn) -> pd.Series:
    n = draw(st.integers(0, 8))
    kind = draw(st.sampled_from(
        ["int", "bool", "float64", "float32", "Int64", "boolean", "Float64", "string",
         "datetime", "datetime_tz", "datetime_raw", "object"]))
    if kind == "int":
        dtype = draw(st.sampled_from(_INT_DTYPES))
        info = np.iinfo(dtype)
        values = draw(st.lists(st.integers(int(info.min), int(info.max)), min_size=n, max_size=n))
        return pd.Series(np.array(values, dtype=dtype))
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind in ("float64", "float32"):
        values = draw(st.lists(any_floats, min_size=n, max_size=n))
        with np.errstate(over="ignore"):
            return pd.Series(np.array(values, dtype=kind))
    if kind == "Int64":
        values = draw(st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == "boolean":
        return pd.Series(pd.array(draw(st.lists(st.none() | st.booleans(), min_size=n, max_size=n)),
                                  dtype="boolean"))
    if kind == "Float64":
        values = draw(st.lists(st.none() | finite_floats, min_size=n, max_size=n))
        return pd.Series(pd.array(values, dtype="Float64"))
    if kind == "string":
        values = draw(st.lists(st.none() | st.text(max_size=4), min_size=n, max_size=n))
        return pd.Series(values, dtype=draw(st.sampled_from(["string", "object", "str"])))
    naive = st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1))
    if kind == "datetime":
        values = draw(st.lists(st.none() | naive, min_size=n, max_size=n))
        return pd.Series(pd.to_datetime(values), dtype=draw(st.sampled_from(
            ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"])))
    if kind == "datetime_raw":  # any tick of any unit: fractions, NaT, years beyond 1-9999
        unit = draw(st.sampled_from(["s", "ms", "us", "ns"]))
        ticks = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
        return pd.Series(np.array(ticks, dtype="int64").view(f"datetime64[{unit}]"))
    if kind == "datetime_tz":
        values = draw(st.lists(st.none() | naive, min_size=n, max_size=n))
        zone = draw(st.sampled_from(["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]))
        return pd.Series(pd.to_datetime(values)).dt.tz_localize(
            zone, ambiguous="NaT", nonexistent="NaT")
    return pd.Series(draw(st.lists(nested, min_size=n, max_size=n)), dtype=object)


@given(columns())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_write_fast_path_is_the_one_encoder(series: pd.Series) -> None:
    """What write_frame sends for a column is what the encoder gives for each cell."""
    values, errors, sizes = _write._convert_column(series, "c")
    assert len(values) == len(series) == len(sizes)
    for i in range(len(series)):
        status, wire = _encoded(series.iloc[i], "attribute 'c'")
        if status == "error":
            assert errors[i] == wire and values[i] is None
        else:
            assert i not in errors and values[i] == wire
            if wire is not None:  # the sizes are upper bounds of the item's size
                assert sizes[i] >= _write.item_size({"c": wire})


def test_write_fast_path_refuses_what_the_encoder_refuses() -> None:
    series = pd.Series([1.0, float("inf"), 1e200, np.nan, 1e-200])
    values, errors, _ = _write._convert_column(series, "v")
    assert values == [{"N": "1.0"}, None, None, None, None]
    assert errors == {
        1: "attribute 'v': inf cannot be stored: DynamoDB has no infinity (use None for a missing value)",
        2: "attribute 'v': the number 1e+200 cannot be stored; DynamoDB numbers have at most 38 "
           "significant digits and a magnitude from 1E-130 to 9.99E+125",
        4: "attribute 'v': the number 1e-200 cannot be stored; DynamoDB numbers have at most 38 "
           "significant digits and a magnitude from 1E-130 to 9.99E+125",
    }


# ---------------------------------------------------------------------------
# The round trip through the sandbox
# ---------------------------------------------------------------------------


@pytest.fixture
def datetime_table(sandbox: xn.sandbox.Sandbox):
    """A fresh table of account B: pk (S), sk (S) holding datetimes; deleted afterwards."""
    ddb = sandbox.admin_session("B").client("dynamodb")
    name = f"encode-{uuid.uuid4().hex[:10]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    ddb.delete_table(TableName=name)


def test_round_trip_write_then_filter_and_query_with_the_same_values(sandbox, datetime_table):
    session = sandbox.admin_session("B")
    aware = pd.Timestamp("2026-03-01 13:00", tz="Europe/Paris")  # 12:00 UTC
    naive = dt.datetime(2026, 3, 1, 12, 30)  # taken as UTC
    utc = dt.datetime(2026, 3, 1, 14, tzinfo=dt.UTC)
    later = np.datetime64("2026-03-02T08:00:00.250")
    big = 2**70 + 1
    df = pd.DataFrame({
        "pk": ["c1", "c1", "c1", "c1", "c2"],
        "sk": [aware, naive, utc, later, aware],
        "amount": [Decimal("12.50"), Decimal("0.1"), Decimal("99999999999999999999.99"),
                   Decimal("12.5"), Decimal("12.50")],
        "tags": [{"vip", "new"}, {"new"}, set(), {"vip"}, {"vip"}],
        "nums": [{1, 2.5}, {Decimal("3")}, None, {10**30}, {1}],
        "big": [big, -big, 10**37, 1, big],
        "when": pd.to_datetime(["2026-03-01 12:00", "2026-03-05 00:00", None, "2026-04-01 00:00",
                                "2026-03-01 00:00"]),
        "score": [0.1, float("nan"), 1 / 3, 2.0, 0.1],
    })
    report = xn.write_frame(session, datetime_table, df)
    assert report.ok and report.rows_written == 5

    raw = session.client("dynamodb").scan(TableName=datetime_table)["Items"]
    assert sorted(item["sk"]["S"] for item in raw) == [
        "2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z", "2026-03-01T12:30:00Z",
        "2026-03-01T14:00:00Z", "2026-03-02T08:00:00.250000Z"]

    def query(**kwargs: Any) -> pd.DataFrame:
        return xn.read_query(session, datetime_table, "c1", numbers="decimal", **kwargs)

    # Sort tuples and Key conditions with the Python values that were written.
    assert query(sort=("between", aware, utc))["sk"].tolist() == [
        "2026-03-01T12:00:00Z", "2026-03-01T12:30:00Z", "2026-03-01T14:00:00Z"]
    assert query(sort=("between", naive, later))["sk"].tolist() == [
        "2026-03-01T12:30:00Z", "2026-03-01T14:00:00Z", "2026-03-02T08:00:00.250000Z"]
    assert query(sort=(">=", utc))["sk"].tolist() == [
        "2026-03-01T14:00:00Z", "2026-03-02T08:00:00.250000Z"]
    assert query(sort=("=", naive))["amount"].tolist() == [Decimal("0.1")]
    assert query(sort=Key("sk").lt(pd.Timestamp(naive)))["sk"].tolist() == ["2026-03-01T12:00:00Z"]
    assert len(query(sort=("begins_with", dt.date(2026, 3, 1)))) == 3

    # Filters with the same values: Decimals, sets, datetimes, big ints.
    got = query(filter=Attr("amount").eq(Decimal("12.50")))
    assert got["sk"].tolist() == ["2026-03-01T12:00:00Z", "2026-03-02T08:00:00.250000Z"]  # 12.5 == 12.50
    got = query(filter=Attr("tags").contains("vip"))
    assert got["sk"].tolist() == ["2026-03-01T12:00:00Z", "2026-03-02T08:00:00.250000Z"]
    assert query(filter=Attr("tags").eq({"new", "vip"}))["sk"].tolist() == ["2026-03-01T12:00:00Z"]
    assert query(filter=Attr("nums").eq({2.5, 1}))["sk"].tolist() == ["2026-03-01T12:00:00Z"]
    assert query(filter=Attr("nums").contains(10**30))["big"].tolist() == [1]
    got = query(filter=Attr("when").gte(pd.Timestamp("2026-03-05")))
    assert got["sk"].tolist() == ["2026-03-01T12:30:00Z", "2026-03-02T08:00:00.250000Z"]
    assert query(filter=Attr("when").eq(df.loc[0, "when"]))["sk"].tolist() == ["2026-03-01T12:00:00Z"]
    assert query(filter=Attr("big").eq(big))["sk"].tolist() == ["2026-03-01T12:00:00Z"]
    assert query(filter=Attr("big").is_in([-big, 10**37]))["big"].tolist() == [-big, 10**37]
    assert query(filter=Attr("score").eq(1 / 3))["sk"].tolist() == ["2026-03-01T14:00:00Z"]
    # Missing values were left out: not_exists() finds them, a NaN in a filter says so.
    assert query(filter=Attr("tags").not_exists())["sk"].tolist() == ["2026-03-01T14:00:00Z"]
    assert query(filter=Attr("score").not_exists())["sk"].tolist() == ["2026-03-01T12:30:00Z"]
    with pytest.raises(xn.InvalidArgumentError, match=re.escape("use Attr(name).not_exists()")):
        query(filter=Attr("score").eq(float("nan")))

    # Keys: the partition value and read_items with the written Python values.
    assert xn.read_query(session, datetime_table, "c2", sort=aware)["big"].tolist() == [big]
    items = xn.read_items(session, datetime_table, [("c1", later), {"pk": "c2", "sk": aware}],
                          numbers="decimal")
    assert items["amount"].tolist() == [Decimal("12.5"), Decimal("12.50")]


def test_datetimes_find_the_demo_tables_z_strings(sandbox, reader):
    """The demo table stores ``order_ts`` as ``...Z`` strings: datetimes in sort= match them."""
    by_text = xn.read_query(reader, sandbox.table, "C-0001",
                            sort=("between", "2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z"))
    assert len(by_text) > 0
    for low, high in [
        (dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 31)),
        (pd.Timestamp("2026-01-01 01:00", tz="Europe/Paris"), np.datetime64("2026-12-31")),
    ]:
        got = xn.read_query(reader, sandbox.table, "C-0001", sort=("between", low, high))
        assert got["order_ts"].tolist() == by_text["order_ts"].tolist()
