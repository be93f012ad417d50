"""Tests of xacct_nb._expressions: key conditions, filters, projections, values."""

from __future__ import annotations

import datetime as dt
import doctest
import math
import os
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

import boto3
import numpy as np
import pytest
from boto3.dynamodb.conditions import Attr, ConditionExpressionBuilder, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

import xacct_nb._expressions as expressions_module
from xacct_nb._encode import to_condition_value, to_key
from xacct_nb._errors import InvalidArgumentError, XacctError
from xacct_nb._expressions import (
    build_expressions,
    key_condition,
    sort_condition,
)


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account: drop every AWS_* variable."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_doctests() -> None:
    result = doctest.testmod(expressions_module, raise_on_error=False)
    assert result.attempted >= 8
    assert result.failed == 0


def test_invalid_argument_error_is_value_error() -> None:
    with pytest.raises(ValueError):
        to_condition_value(float("nan"))
    with pytest.raises(XacctError):
        to_condition_value(float("nan"))


# ---------------------------------------------------------------------------
# Condition values (the one encoder, xacct_nb._encode; more in test_encode.py)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        ("abc", {"S": "abc"}),
        ("", {"S": ""}),
        (3, {"N": "3"}),
        (-12345678901234567890, {"N": "-12345678901234567890"}),
        (1.5, {"N": "1.5"}),
        (0.1, {"N": "0.1"}),
        (5.0, {"N": "5.0"}),
        (1e-7, {"N": "1e-07"}),
        (Decimal("1.50"), {"N": "1.50"}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (None, {"NULL": True}),
        (b"\x00\x01", {"B": b"\x00\x01"}),
        (bytearray(b"xy"), {"B": b"xy"}),
        ([1, "a", None], {"L": [{"N": "1"}, {"S": "a"}, {"NULL": True}]}),
        ((1.25,), {"L": [{"N": "1.25"}]}),
        ({"a": {"b": 0.5}}, {"M": {"a": {"M": {"b": {"N": "0.5"}}}}}),
        ({"x"}, {"SS": ["x"]}),
        ({0.5}, {"NS": ["0.5"]}),
        (frozenset({b"z"}), {"BS": [b"z"]}),
        (np.int64(7), {"N": "7"}),
        (np.float64(0.1), {"N": "0.1"}),
        (np.float32(0.5), {"N": "0.5"}),
        (Fraction(1, 4), {"N": "0.25"}),
        (np.bool_(True), {"BOOL": True}),
        ([1, float("nan")], {"L": [{"N": "1"}, {"NULL": True}]}),
        (10**38, {"N": "1" + "0" * 38}),
        (dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), {"S": "2026-03-01T12:00:00Z"}),
    ],
)
def test_to_condition_value(value: Any, wire: dict[str, Any]) -> None:
    assert to_condition_value(value) == wire


def test_condition_value_bool_is_not_a_number() -> None:
    assert to_condition_value([True, 1]) == {"L": [{"BOOL": True}, {"N": "1"}]}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "value: nan is a missing value (NaN), and a condition compares with a value"),
        (float("inf"), "value: inf cannot be stored: DynamoDB has no infinity"),
        (-math.inf, "-inf cannot be stored: DynamoDB has no infinity"),
        (Decimal("NaN"), "Decimal('NaN') is a missing value (NaN)"),
        (Decimal("-Infinity"), "DynamoDB has no infinity"),
        ([1, float("inf")], "value[1]: inf cannot be stored"),
        ({"a": {"b": math.inf}}, "value['a']['b']: inf cannot be stored"),
        (10**38 + 1, "cannot be stored; DynamoDB numbers have at most 38 significant"),
        (1e300, "the number 1e+300 cannot be stored"),
        (1e-200, "magnitude from 1E-130 to 9.99E+125"),
        (set(), "set() is a missing value (an empty set; DynamoDB has none)"),
        ({1, "a"}, "set members must all be str (or datetimes), all numbers or all bytes"),
        ({1: "a"}, "map keys must be str, got int key 1"),
        (object(), "values of type object cannot be stored in DynamoDB; accepted: str, int"),
        (dt.timedelta(seconds=1), "is a duration, and DynamoDB has no duration type"),
    ],
)
def test_condition_value_errors(value: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        to_condition_value(value)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e120, max_value=1e120).filter(
        lambda x: x == 0 or abs(x) >= 1e-120  # below 1E-130 DynamoDB cannot hold it
    )
)
def test_float_round_trip(x: float) -> None:
    wire = to_condition_value(x)
    assert set(wire) == {"N"}
    back = TypeDeserializer().deserialize(wire)
    assert back == Decimal(str(x))
    assert float(back) == x


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1))
def test_int_round_trip(n: int) -> None:
    assert TypeDeserializer().deserialize(to_condition_value(n)) == n


# ---------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------


def test_to_key() -> None:
    assert to_key({"pk": "a", "sk": 3}) == {"pk": {"S": "a"}, "sk": {"N": "3"}}
    assert to_key({"pk": b"\x01", "sk": 2.5}) == {"pk": {"B": b"\x01"}, "sk": {"N": "2.5"}}
    assert to_key({"pk": np.int64(4)}) == {"pk": {"N": "4"}}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ({}, "key must be a non-empty dict of attribute name -> value"),
        ([("pk", "a")], "key must be a non-empty dict"),
        ({1: "a"}, "key attribute names must be non-empty str; got 1"),
        ({"": "a"}, "key attribute names must be non-empty str"),
        (
            {"pk": True},
            "key attribute 'pk': key values must be str, a number (int, float, Decimal) or bytes "
            "(datetimes and dates are stored as str); got bool True",
        ),
        ({"pk": None}, "key values must be str, a number"),
        ({"pk": ["a"]}, "got list ['a']"),
        ({"pk": ""}, "key attribute 'pk': key values cannot be empty strings or empty bytes"),
        ({"pk": float("nan")}, "key attribute 'pk': nan is a missing value (NaN); key values must be"),
    ],
)
def test_key_errors(key: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        to_key(key)


# ---------------------------------------------------------------------------
# sort_condition / key_condition
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("x", Key("sk").eq("x")),
        (5, Key("sk").eq(5)),
        (2.5, Key("sk").eq(2.5)),
        (b"b", Key("sk").eq(b"b")),
        (("=", 1), Key("sk").eq(1)),
        (("==", 1), Key("sk").eq(1)),
        (("eq", 1), Key("sk").eq(1)),
        (("EQ", 1), Key("sk").eq(1)),
        (("<", 1), Key("sk").lt(1)),
        (("lt", 1), Key("sk").lt(1)),
        (("<=", 1), Key("sk").lte(1)),
        (("lte", 1), Key("sk").lte(1)),
        ((">", 1), Key("sk").gt(1)),
        (("gt", 1), Key("sk").gt(1)),
        ((">=", 1), Key("sk").gte(1)),
        (("gte", 1), Key("sk").gte(1)),
        (("between", 1, 9), Key("sk").between(1, 9)),
        ((" Between ", "a", "b"), Key("sk").between("a", "b")),
        (("begins_with", "ab"), Key("sk").begins_with("ab")),
    ],
)
def test_sort_condition_forms(sort: Any, expected: Any) -> None:
    result = sort_condition("sk", sort)
    assert result == expected
    assert type(result) is type(expected)


def test_sort_condition_none_and_key_condition_as_is() -> None:
    assert sort_condition("sk", None) is None
    assert sort_condition(None, None) is None
    cond = Key("sk").gt(3)
    assert sort_condition("sk", cond) is cond
    other = Key("another").begins_with("x")  # names another attribute: accepted
    assert sort_condition("sk", other) is other


_FORMS = "accepted: a bare value (equality); ('=', v), ('==', v) or ('eq', v);"


@pytest.mark.parametrize(
    ("sort", "message"),
    [
        (("~", 1), "unknown operator '~'; " + _FORMS),
        (("ne", 1), "unknown operator 'ne'"),
        (("=",), "'=' takes 1 value(s), written ('=', value); got 0; " + _FORMS),
        (("=", 1, 2), "'=' takes 1 value(s)"),
        (("between", 1), "'between' takes 2 value(s), written ('between', low, high); got 1"),
        (("between", 1, 2, 3), "'between' takes 2 value(s)"),
        ((), "a tuple must start with an operator string; " + _FORMS),
        ((1, 2), "a tuple must start with an operator string"),
        ([">", 1], "is a list; the operator forms are tuples"),
        (Attr("sk").eq(1), "Attr('sk') is not allowed in a key condition; use Key('sk') there"),
        (Attr("sk").ne(1), "NotEquals is not allowed in a key condition"),
        (Key("sk").eq(1) | Key("sk").eq(2), "Or is not allowed in a key condition"),
        (Key("sk").gt(1) & Key("sk").lt(5), "sort takes one comparison on the sort key"),
        (Key("sk"), "sort=Key('sk') has no comparison"),
        (
            ("=", None),
            "key values must be str, a number (int, float, Decimal) or bytes "
            "(datetimes and dates are stored as str); got NoneType",
        ),
        (True, "sort value for 'sk': key values must be str, a number"),
        (("begins_with", 12), "begins_with needs a str or bytes prefix; got 12"),
        ((">", float("inf")), "inf cannot be stored: DynamoDB has no infinity"),
    ],
)
def test_sort_condition_errors(sort: Any, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        sort_condition("sk", sort)


def test_sort_given_without_sort_key() -> None:
    msg = "sort=('>', 1) was given but the table (or index) has no sort key"
    with pytest.raises(InvalidArgumentError, match=re.escape(msg)):
        sort_condition(None, (">", 1))
    with pytest.raises(InvalidArgumentError, match="has no sort key"):
        sort_condition(None, Key("sk").gt(1))
    with pytest.raises(InvalidArgumentError, match="has no sort key"):
        key_condition("pk", "a", None, 3)


def test_key_condition() -> None:
    assert key_condition("pk", "a") == Key("pk").eq("a")
    cond = key_condition("pk", "a", "sk", ("between", 1, 2))
    assert cond == Key("pk").eq("a") & Key("sk").between(1, 2)
    assert key_condition("pk", 7, "sk") == Key("pk").eq(7)
    assert key_condition("pk", "a", "sk", Key("sk").lt(3)) == Key("pk").eq("a") & Key("sk").lt(3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pk", None), "a value for the partition key 'pk' is required (got None)"),
        (("pk", ""), "partition key 'pk': key values cannot be empty strings"),
        (("pk", True), "partition key 'pk': key values must be str, a number"),
        (("pk", ["a"]), "key values must be str, a number"),
        (("", "a"), "partition_name must be a non-empty str; got ''"),
        ((None, "a"), "partition_name must be a non-empty str; got None"),
        (("pk", "a", "sk", ("like", "x")), "unknown operator 'like'"),
    ],
)
def test_key_condition_errors(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        key_condition(*args)


# ---------------------------------------------------------------------------
# build_expressions
# ---------------------------------------------------------------------------


def test_nothing_given() -> None:
    assert build_expressions() == {}


def test_key_only_exact() -> None:
    assert build_expressions(
        key=key_condition("customer_id", "c1", "order_ts", (">=", "2024"))
    ) == {
        "KeyConditionExpression": "(#n0 = :v0 AND #n1 >= :v1)",
        "ExpressionAttributeNames": {"#n0": "customer_id", "#n1": "order_ts"},
        "ExpressionAttributeValues": {":v0": {"S": "c1"}, ":v1": {"S": "2024"}},
    }


def test_key_filter_columns_exact_with_shared_placeholders() -> None:
    params = build_expressions(
        key=key_condition("customer_id", "c1", "order_ts", ("between", "a", "b")),
        filter=Attr("status").eq("shipped") & Attr("size").gt(2.5),
        columns=["customer_id", "status", "address.city"],
    )
    assert params == {
        "KeyConditionExpression": "(#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2)",
        "FilterExpression": "(#n2 = :v3 AND #n3 > :v4)",
        "ProjectionExpression": "#n0, #n2, #n4.#n5",
        "ExpressionAttributeNames": {
            "#n0": "customer_id",
            "#n1": "order_ts",
            "#n2": "status",
            "#n3": "size",
            "#n4": "address",
            "#n5": "city",
        },
        "ExpressionAttributeValues": {
            ":v0": {"S": "c1"},
            ":v1": {"S": "a"},
            ":v2": {"S": "b"},
            ":v3": {"S": "shipped"},
            ":v4": {"N": "2.5"},
        },
    }


def test_columns_only_exact() -> None:
    assert build_expressions(columns="name") == {
        "ProjectionExpression": "#n0",
        "ExpressionAttributeNames": {"#n0": "name"},
    }
    assert build_expressions(columns=("date", "items[0].sku", "m.a[1][2]")) == {
        "ProjectionExpression": "#n0, #n1[0].#n2, #n3.#n4[1][2]",
        "ExpressionAttributeNames": {
            "#n0": "date",
            "#n1": "items",
            "#n2": "sku",
            "#n3": "m",
            "#n4": "a",
        },
    }


def test_filter_only_exact() -> None:
    assert build_expressions(filter=Attr("address.city").eq("Berlin")) == {
        "FilterExpression": "#n0.#n1 = :v0",
        "ExpressionAttributeNames": {"#n0": "address", "#n1": "city"},
        "ExpressionAttributeValues": {":v0": {"S": "Berlin"}},
    }


def test_reserved_words_and_odd_names_are_always_placeholders() -> None:
    names = ["status", "name", "date", "size", "timestamp", "order-id", "my attr", "ÄÖ"]
    cond = Attr(names[0]).eq(1)
    for n in names[1:]:
        cond = cond & Attr(n).exists()
    params = build_expressions(filter=cond, columns=names)
    assert sorted(params["ExpressionAttributeNames"].values()) == sorted(names)
    for expression in (params["FilterExpression"], params["ProjectionExpression"]):
        stripped = re.sub(r"#n\d+|:v\d+", "", expression)
        for n in names:
            assert n not in stripped
    assert params["ProjectionExpression"] == ", ".join(f"#n{i}" for i in range(len(names)))


def test_same_name_shares_one_placeholder_everywhere() -> None:
    params = build_expressions(
        key=Key("status").eq("a") & Key("size").gt(1),
        filter=(Attr("status").eq("x") | Attr("status").eq("y")) & Attr("data.status").exists(),
        columns=["status", "size", "data.status"],
    )
    assert params["ExpressionAttributeNames"] == {"#n0": "status", "#n1": "size", "#n2": "data"}
    assert params["KeyConditionExpression"] == "(#n0 = :v0 AND #n1 > :v1)"
    assert params["FilterExpression"] == "((#n0 = :v2 OR #n0 = :v3) AND attribute_exists(#n2.#n0))"
    assert params["ProjectionExpression"] == "#n0, #n1, #n2.#n0"
    assert list(params["ExpressionAttributeValues"]) == [":v0", ":v1", ":v2", ":v3"]


def test_boto3_builder_alone_neither_shares_nor_restarts() -> None:
    """Why re-numbering is needed: one builder keeps counting across calls (no
    collisions) but gives each occurrence of a name its own placeholder."""
    builder = ConditionExpressionBuilder()
    first = builder.build_expression(Attr("a").eq(1) | Attr("a").eq(2))
    second = builder.build_expression(Key("a").eq(3), is_key_condition=True)
    assert first.attribute_name_placeholders == {"#n0": "a", "#n1": "a"}
    assert second.attribute_name_placeholders == {"#n2": "a"}
    assert second.attribute_value_placeholders == {":v2": 3}
    # ...and splits dotted names even in key conditions:
    assert builder.build_expression(Key("a.b").eq(1), True).condition_expression == "#n3.#n4 = :v3"


def test_dotted_key_name_is_one_top_level_attribute() -> None:
    params = build_expressions(
        key=key_condition("data.pk", "a", "sk-1", ("<", 3)),
        filter=Attr("data.pk").exists(),
        columns=["data.pk"],
    )
    assert params["KeyConditionExpression"] == "(#n0 = :v0 AND #n1 < :v1)"
    assert params["FilterExpression"] == "attribute_exists(#n2.#n3)"
    assert params["ProjectionExpression"] == "#n2.#n3"
    assert params["ExpressionAttributeNames"] == {
        "#n0": "data.pk",
        "#n1": "sk-1",
        "#n2": "data",
        "#n3": "pk",
    }


def test_key_sort_before_partition_and_other_operators() -> None:
    params = build_expressions(key=Key("sk").begins_with("x") & Key("pk").eq(1))
    assert params["KeyConditionExpression"] == "(begins_with(#n0, :v0) AND #n1 = :v1)"


def test_filter_operators() -> None:
    cond = (
        Attr("a").ne(1.5)
        & Attr("b").is_in(["x", 2, None])
        & Attr("c").size().lte(3)
        & Attr("d").attribute_type("S")
        & Attr("e").contains("z")
        & Attr("f").not_exists()
        & ~Attr("g").begins_with("p")
        & Attr("h").eq(Attr("i"))
        & Attr("j").between(Decimal("1"), 2)
    )
    params = build_expressions(filter=cond)
    assert params["FilterExpression"] == (
        "((((((((#n0 <> :v0 AND #n1 IN (:v1, :v2, :v3)) AND size(#n2) <= :v4)"
        " AND attribute_type(#n3, :v5)) AND contains(#n4, :v6)) AND attribute_not_exists(#n5))"
        " AND (NOT begins_with(#n6, :v7))) AND #n7 = #n8) AND #n9 BETWEEN :v8 AND :v9)"
    )
    assert params["ExpressionAttributeValues"] == {
        ":v0": {"N": "1.5"},
        ":v1": {"S": "x"},
        ":v2": {"N": "2"},
        ":v3": {"NULL": True},
        ":v4": {"N": "3"},
        ":v5": {"S": "S"},
        ":v6": {"S": "z"},
        ":v7": {"S": "p"},
        ":v8": {"N": "1"},
        ":v9": {"N": "2"},
    }
    assert list(params["ExpressionAttributeNames"].values()) == list("abcdefghij")


def test_filter_value_container_types() -> None:
    params = build_expressions(filter=Attr("tags").eq({"a"}) | Attr("m").eq({"k": [0.5, b"x"]}))
    assert params["ExpressionAttributeValues"] == {
        ":v0": {"SS": ["a"]},
        ":v1": {"M": {"k": {"L": [{"N": "0.5"}, {"B": b"x"}]}}},
    }


def test_columns_duplicates_dropped() -> None:
    assert build_expressions(columns=["a", "b", "a"])["ProjectionExpression"] == "#n0, #n1"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        # key
        (
            {"key": Attr("pk").eq(1)},
            "key: Attr('pk') is not allowed in a key condition; use Key('pk') there",
        ),
        (
            {"key": Key("pk").eq(1) & Attr("sk").gt(2)},
            "Attr('sk') is not allowed in a key condition",
        ),
        ({"key": Key("pk").eq(1) | Key("pk").eq(2)}, "key: Or is not allowed in a key condition"),
        ({"key": ~Key("pk").eq(1)}, "Not is not allowed in a key condition"),
        ({"key": Key("sk").gt(1)}, "key: a key condition needs an equality on the partition key"),
        (
            {"key": Key("a").eq(1) & Key("b").eq(2) & Key("c").eq(3)},
            "key: a key condition has at most two parts",
        ),
        ({"key": "pk = :v"}, "key must be a boto3 condition built with Key(...)"),
        ({"key": {"pk": "a"}}, "key must be a boto3 condition built with Key(...)"),
        ({"key": Key("pk")}, "key: Key('pk') has no comparison; e.g. Key('pk').eq(value)"),
        ({"key": Key("pk").eq(None)}, "key on 'pk': key values must be str, a number"),
        ({"key": Key("pk").eq(Key("x"))}, "got the attribute Key('x') where a value was expected"),
        ({"key": Key("").eq(1)}, "attribute names must be non-empty str"),
        # filter
        (
            {"filter": Key("status").eq("x")},
            "filter: Key('status') is not allowed in a filter; use Attr('status')",
        ),
        ({"filter": Attr("a").eq(1) & Key("b").eq(2)}, "Key('b') is not allowed in a filter"),
        ({"filter": "status = :s"}, "filter must be a boto3 condition built with Attr(...)"),
        (
            {"filter": Attr("status")},
            "filter: Attr('status') has no comparison; e.g. Attr('status').eq(value)",
        ),
        ({"filter": Attr("x").size()}, "filter: Attr('x').size() must be compared to a number"),
        ({"filter": Attr("a").eq(1) & Attr("x").size()}, "Attr('x').size() must be compared"),
        ({"filter": Attr("x").is_in([])}, "filter: is_in() on 'x' needs at least one value"),
        ({"filter": Attr("x").is_in("abc")}, "is_in() on 'x' takes a list of values; got 'abc'"),
        (
            {"filter": Attr("price").gt(float("nan"))},
            "filter on 'price': nan is a missing value (NaN), and a condition compares with a value; "
            "write_frame leaves missing values out, so use Attr(name).not_exists()",
        ),
        (
            {"filter": Attr("x").eq(object())},
            "filter on 'x': values of type object cannot be stored",
        ),
        (
            {"filter": Attr("a..b").eq(1)},
            "filter: 'a..b' is not a valid document path; accepted: attribute names separated by '.'",
        ),
        ({"filter": Attr(3).eq(1)}, "filter: attribute names must be str; got int 3"),
        # columns
        (
            {"columns": []},
            "columns=[] selects nothing; pass at least one attribute name, or columns=None",
        ),
        ({"columns": ()}, "columns=[] selects nothing"),
        ({"columns": ["a", 3]}, "columns[1]: attribute names must be str; got int 3"),
        ({"columns": [None]}, "columns[0]: attribute names must be str; got NoneType None"),
        (
            {"columns": 5},
            "columns must be a list or tuple of attribute names (or one name as a str); got int 5",
        ),
        ({"columns": b"a"}, "columns must be a list or tuple"),
        ({"columns": {"a": 1}}, "columns must be a list or tuple"),
        ({"columns": [""]}, "columns[0]: '' is not a valid document path"),
        ({"columns": ["a."]}, "'a.' is not a valid document path"),
        ({"columns": [".a"]}, "'.a' is not a valid document path"),
        ({"columns": ["a[x]"]}, "'a[x]' is not a valid document path; accepted"),
        ({"columns": ["[0]"]}, "'[0]' is not a valid document path"),
        ({"columns": ["a]"]}, "'a]' is not a valid document path"),
        ({"columns": ["a[-1]"]}, "'a[-1]' is not a valid document path"),
        (
            {"columns": ["a", "a.b"]},
            "columns: 'a' already contains 'a.b'; DynamoDB rejects overlapping document paths",
        ),
        ({"columns": ["l[0].x", "l[0]"]}, "'l[0]' already contains 'l[0].x'"),
    ],
)
def test_build_expressions_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        build_expressions(**kwargs)


def test_columns_accept_other_iterables() -> None:
    assert build_expressions(columns=iter(["a", "b"]))["ProjectionExpression"] == "#n0, #n1"


_plain_name = st.text(min_size=1, max_size=12).filter(lambda s: not set(s) & set(".[]"))


@settings(max_examples=150, deadline=None)
@given(
    key_names=st.tuples(_plain_name | st.just("a.b"), _plain_name),
    paths=st.lists(
        st.lists(_plain_name, min_size=1, max_size=3).map(".".join), min_size=1, max_size=5
    ),
)
def test_placeholders_resolve_back(key_names: tuple[str, str], paths: list[str]) -> None:
    pk, sk = key_names
    if pk == sk:
        sk += "x"
    cond = Attr(paths[0]).eq(1)
    for p in paths[1:]:
        cond = cond | Attr(p).ne("z")
    columns = [
        p for p in dict.fromkeys(paths) if not any(q != p and q.startswith(p + ".") for q in paths)
    ]
    params = build_expressions(
        key=key_condition(pk, "v", sk, (">", 0)), filter=cond, columns=columns
    )
    names = params["ExpressionAttributeNames"]
    values = params["ExpressionAttributeValues"]
    # one placeholder per distinct name, all used, all values used
    assert len(set(names.values())) == len(names)
    text = " ".join(
        params[k] for k in ("KeyConditionExpression", "FilterExpression", "ProjectionExpression")
    )
    assert set(re.findall(r"#n\d+", text)) == set(names)
    assert set(re.findall(r":v\d+", text)) == set(values)

    def resolve(expr: str) -> str:
        return re.sub(r"#n\d+", lambda m: names[m.group(0)], expr)

    # Split before resolving: a name may itself hold ", ".
    assert [resolve(p) for p in params["ProjectionExpression"].split(", ")] == columns
    assert resolve(params["KeyConditionExpression"]) == f"({pk} = :v0 AND {sk} > :v1)"


# ---------------------------------------------------------------------------
# Integration: moto, in process, through the low-level client
# ---------------------------------------------------------------------------

TABLE = "orders"
_deser = TypeDeserializer()


def _item(
    cust: str, ts: str, status: str, name: str, size: float, city: str, sku: str
) -> dict[str, Any]:
    return {
        "customer_id": cust,
        "order_ts": ts,
        "status": status,
        "name": name,
        "size": Decimal(str(size)),
        "date": ts[:10],
        "data.x": f"literal-{cust}-{ts}",
        "address": {"city": city, "zip": "00000"},
        "items": [{"sku": sku, "qty": 1}],
    }


ITEMS = [
    _item("c1", "2024-01-05T10:00", "shipped", "alpha", 1.5, "Berlin", "s1"),
    _item("c1", "2024-02-11T09:00", "pending", "beta", 2.5, "Paris", "s2"),
    _item("c1", "2024-03-15T12:00", "shipped", "gamma", 3.5, "Berlin", "s3"),
    _item("c1", "2024-04-01T08:30", "shipped", "delta", 4.0, "Rome", "s4"),
    _item("c1", "2025-01-01T00:00", "cancelled", "eps", 0.5, "Berlin", "s5"),
    _item("c1", "2025-02-02T00:00", "shipped", "zeta", 5.5, "Oslo", "s6"),
    _item("c2", "2024-01-01T00:00", "shipped", "eta", 2.0, "Berlin", "s7"),
    _item("c2", "2024-05-05T00:00", "pending", "theta", 3.0, "Madrid", "s8"),
    _item("c2", "2024-06-06T00:00", "shipped", "iota", 6.0, "Berlin", "s9"),
    _item("c2", "2025-07-07T00:00", "pending", "kappa", 1.0, "Lima", "s10"),
    _item("c3", "2024-08-08T00:00", "shipped", "lambda", 7.5, "Berlin", "s11"),
    _item("c3", "2024-09-09T00:00", "shipped", "mu", 8.0, "Paris", "s12"),
]


def _plain(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _deser.deserialize(v) for k, v in item.items()} for item in items]


def _project(item: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """What a ProjectionExpression of (dotted) map paths returns for ``item``."""
    out: dict[str, Any] = {}
    for path in paths:
        *parents, leaf = path.split(".")
        src, dst = item, out
        for part in parents:
            src, dst = src[part], dst.setdefault(part, {})
        dst[leaf] = src[leaf]
    return out


@pytest.fixture
def client() -> Any:
    from moto import mock_aws

    with mock_aws():
        c = boto3.client("dynamodb", region_name="us-east-1")
        c.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "customer_id", "KeyType": "HASH"},
                {"AttributeName": "order_ts", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "customer_id", "AttributeType": "S"},
                {"AttributeName": "order_ts", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for item in ITEMS:
            c.put_item(TableName=TABLE, Item={k: to_condition_value(v) for k, v in item.items()})
        yield c


def _scan_all(client: Any, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": TABLE, **params}
    while True:
        page = client.scan(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _by_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        items, key=lambda i: (i.get("customer_id", ""), i.get("order_ts", ""), i.get("name", ""))
    )


def test_moto_rejects_raw_reserved_words(client: Any) -> None:
    """Control: without placeholders the emulator (like DynamoDB) refuses `status`."""
    with pytest.raises(ClientError, match="reserved keyword"):
        client.scan(
            TableName=TABLE,
            FilterExpression="status = :s",
            ExpressionAttributeValues={":s": {"S": "shipped"}},
        )


def test_moto_query_key_filter_projection(client: Any) -> None:
    columns = ["customer_id", "status", "address.city"]
    params = build_expressions(
        key=key_condition("customer_id", "c1"),
        filter=Attr("status").eq("shipped"),
        columns=columns,
    )
    result = client.query(TableName=TABLE, **params)
    expected = [
        _project(i, columns) for i in ITEMS if i["customer_id"] == "c1" and i["status"] == "shipped"
    ]
    assert _plain(result["Items"]) == expected
    assert expected[0] == {"customer_id": "c1", "status": "shipped", "address": {"city": "Berlin"}}
    assert len(expected) == 4


def test_moto_query_sort_forms(client: Any) -> None:
    def query(sort: Any) -> list[str]:
        params = build_expressions(
            key=key_condition("customer_id", "c1", "order_ts", sort), columns=["order_ts"]
        )
        return [i["order_ts"] for i in _plain(client.query(TableName=TABLE, **params)["Items"])]

    c1 = [i["order_ts"] for i in ITEMS if i["customer_id"] == "c1"]
    assert query(None) == c1
    assert query("2024-03-15T12:00") == ["2024-03-15T12:00"]
    assert query(("begins_with", "2025")) == [t for t in c1 if t.startswith("2025")]
    assert query(("between", "2024-02", "2024-04")) == ["2024-02-11T09:00", "2024-03-15T12:00"]
    assert query((">", "2024-04-01T08:30")) == [t for t in c1 if t > "2024-04-01T08:30"]
    assert query(("<=", "2024-02-11T09:00")) == [t for t in c1 if t <= "2024-02-11T09:00"]
    assert query(Key("order_ts").lt("2024-02")) == ["2024-01-05T10:00"]


def test_moto_query_reserved_word_filters(client: Any) -> None:
    # moto 5.1's projection parser cannot resolve list indexes after a
    # placeholder (``#n5[0]``, valid for DynamoDB), so list paths are covered by
    # the unit tests only.
    columns = ["name", "size", "date", "address.zip"]
    params = build_expressions(
        key=key_condition("customer_id", "c1", "order_ts", ("begins_with", "2024")),
        filter=Attr("size").gte(2.5)
        & Attr("date").begins_with("2024-0")
        & Attr("name").ne("gamma"),
        columns=columns,
    )
    result = _plain(client.query(TableName=TABLE, **params)["Items"])
    expected = [
        _project(i, columns)
        for i in ITEMS
        if i["customer_id"] == "c1"
        and i["order_ts"].startswith("2024")
        and i["size"] >= Decimal("2.5")
        and i["name"] != "gamma"
    ]
    assert result == expected
    assert expected == [
        {"name": "beta", "size": Decimal("2.5"), "date": "2024-02-11", "address": {"zip": "00000"}},
        {"name": "delta", "size": Decimal("4"), "date": "2024-04-01", "address": {"zip": "00000"}},
    ]


def test_moto_scan_everything(client: Any) -> None:
    items = _plain(_scan_all(client, **build_expressions()))
    assert _by_key(items) == _by_key([dict(i) for i in ITEMS])


def test_moto_scan_nested_filter_and_projection(client: Any) -> None:
    columns = ["customer_id", "order_ts", "name", "address.city"]
    params = build_expressions(
        filter=Attr("address.city").eq("Berlin")
        & Attr("size").gt(1.75)
        & Attr("status").is_in(["shipped"]),
        columns=columns,
    )
    items = _by_key(_plain(_scan_all(client, **params)))
    expected = _by_key(
        [
            _project(i, columns)
            for i in ITEMS
            if i["address"]["city"] == "Berlin"
            and i["size"] > Decimal("1.75")
            and i["status"] == "shipped"
        ]
    )
    assert items == expected
    assert [i["name"] for i in expected] == ["gamma", "eta", "iota", "lambda"]


def test_moto_scan_filter_on_key_attribute_shares_placeholder(client: Any) -> None:
    params = build_expressions(
        filter=Attr("customer_id").eq("c2") & Attr("status").eq("pending"),
        columns=["customer_id", "order_ts", "status"],
    )
    assert params["ProjectionExpression"] == "#n0, #n2, #n1"
    items = _by_key(_plain(_scan_all(client, **params)))
    assert items == [
        {"customer_id": "c2", "order_ts": "2024-05-05T00:00", "status": "pending"},
        {"customer_id": "c2", "order_ts": "2025-07-07T00:00", "status": "pending"},
    ]


def test_moto_scan_size_and_exists(client: Any) -> None:
    params = build_expressions(
        filter=Attr("items").size().eq(1)
        & Attr("name").size().gt(4)
        & Attr("address.zip").exists(),
        columns="name",
    )
    names = sorted(i["name"] for i in _plain(_scan_all(client, **params)))
    assert names == sorted(i["name"] for i in ITEMS if len(i["name"]) > 4)
