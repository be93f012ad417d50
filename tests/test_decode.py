"""Tests of the type-contract decoder (xacct_nb._decode).

Unit tests pin each row of the contract; property-based tests compare the
fast decoder with a slow reference built on boto3's ``TypeDeserializer``.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from versions import PANDAS, STR, STR_NAME

from xacct_nb._decode import FrameBuilder, decode_items, decode_value, empty_frame
from xacct_nb._errors import InvalidArgumentError

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- #
# Strict value comparison (1 == True == 1.0 and {1} == {1.0} must not pass)
# --------------------------------------------------------------------------- #


def same(a: Any, b: Any, *, key_order: bool = True) -> bool:
    """Equal, and of the same types, all the way down (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, Decimal):
        return a == b and str(a) == str(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(
            same(x, y, key_order=key_order) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        keys_match = list(a) == list(b) if key_order else sorted(a) == sorted(b)
        return keys_match and all(same(a[k], b[k], key_order=key_order) for k in a)
    if isinstance(a, (set, frozenset)):
        return len(a) == len(b) and all(
            any(same(x, y, key_order=key_order) for y in b) for x in a)
    return bool(a == b)


def assert_same_values(got: pd.Series, want: list[Any]) -> None:
    assert got.dtype == object
    values = got.tolist()
    assert len(values) == len(want)
    for i, (x, y) in enumerate(zip(values, want, strict=True)):
        assert same(x, y), f"row {i}: {x!r} != {y!r}"


def assert_frames_match(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same columns, dtypes, index; object columns compared value by value."""
    assert list(got.columns) == list(want.columns)
    assert isinstance(got.index, pd.RangeIndex)
    assert got.index.equals(want.index)
    for col in want.columns:
        assert got[col].dtype == want[col].dtype, (col, got[col].dtype, want[col].dtype)
        if want[col].dtype == object:
            assert_same_values(got[col], want[col].tolist())
        else:
            pd.testing.assert_series_equal(got[col], want[col], check_exact=True)


# --------------------------------------------------------------------------- #
# Unit tests: one per row of the contract
# --------------------------------------------------------------------------- #


def test_string_column_is_default_str_dtype_with_nan_for_missing() -> None:
    df = decode_items([{"s": {"S": "a"}}, {}, {"s": {"NULL": True}}, {"s": {"S": ""}}])
    if PANDAS >= (3, 0):
        assert df["s"].dtype == pd.Series(["a"]).dtype  # pandas' default for text
    assert df["s"].dtype == STR
    assert str(df["s"].dtype) == STR_NAME
    values = df["s"].tolist()
    assert values[0] == "a" and values[3] == ""
    assert math.isnan(values[1]) and math.isnan(values[2])


def test_int64_boundary_stays_int64() -> None:
    df = decode_items(
        [{"n": {"N": str(INT64_MAX)}}, {"n": {"N": str(INT64_MIN)}}, {"n": {"N": "0"}}]
    )
    assert df["n"].dtype == np.int64
    assert df["n"].tolist() == [INT64_MAX, INT64_MIN, 0]


def test_int_beyond_int64_gives_exact_python_ints() -> None:
    df = decode_items([{"n": {"N": str(INT64_MAX + 1)}}, {"n": {"N": "1"}}])
    assert df["n"].dtype == object
    assert_same_values(df["n"], [9223372036854775808, 1])


def test_negative_big_ints_and_missing() -> None:
    huge = "-123456789012345678901234567890"
    df = decode_items(
        [{"n": {"N": huge}}, {"n": {"N": str(INT64_MIN - 1)}}, {}, {"n": {"N": "-7"}}]
    )
    assert df["n"].dtype == object
    assert_same_values(df["n"], [int(huge), INT64_MIN - 1, None, -7])


def test_ints_with_missing_give_nullable_Int64() -> None:
    df = decode_items(
        [{"n": {"N": "1"}}, {"x": {"S": "y"}}, {"n": {"NULL": True}}, {"n": {"N": "-3"}}]
    )
    assert df["n"].dtype == pd.Int64Dtype()
    assert df["n"].tolist() == [1, pd.NA, pd.NA, -3]


def test_floats_with_missing_give_float64_nan() -> None:
    df = decode_items([{"f": {"N": "1.5"}}, {}, {"f": {"N": "2"}}])
    assert df["f"].dtype == np.float64
    values = df["f"].tolist()
    assert values[0] == 1.5 and math.isnan(values[1]) and values[2] == 2.0


def test_integral_rule_dot_or_exponent_means_float() -> None:
    # "2.0" and "1E+2" contain '.' / 'E': floats, though mathematically integral.
    for s, want in [("2.0", 2.0), ("1E+2", 100.0), ("15e-1", 1.5)]:
        df = decode_items([{"n": {"N": s}}, {"n": {"N": "3"}}])
        assert df["n"].dtype == np.float64, s
        assert df["n"].tolist() == [want, 3.0]
    df = decode_items([{"n": {"N": "10"}}, {"n": {"N": "-3"}}])
    assert df["n"].dtype == np.int64


def test_numbers_decimal_is_exact_object_column() -> None:
    items = [
        {"n": {"N": "0.1"}},
        {},
        {"n": {"N": "12345678901234567890.123456789"}},
        {"n": {"N": "1E+2"}},
    ]
    df = decode_items(items, numbers="decimal")
    assert_same_values(
        df["n"], [Decimal("0.1"), None, Decimal("12345678901234567890.123456789"), Decimal("1E+2")]
    )


def test_numbers_float_is_float64() -> None:
    df = decode_items([{"n": {"N": "1"}}, {}, {"n": {"N": str(2**70)}}], numbers="float")
    assert df["n"].dtype == np.float64
    values = df["n"].tolist()
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2] == float(2**70)


def test_bool_and_nullable_boolean() -> None:
    df = decode_items([{"b": {"BOOL": True}}, {"b": {"BOOL": False}}])
    assert df["b"].dtype == np.bool_
    assert df["b"].tolist() == [True, False]
    df = decode_items([{"b": {"BOOL": True}}, {}, {"b": {"NULL": True}}, {"b": {"BOOL": False}}])
    assert df["b"].dtype == pd.BooleanDtype()
    assert df["b"].tolist() == [True, pd.NA, pd.NA, False]


def test_null_only_column_is_object_none() -> None:
    df = decode_items([{"z": {"NULL": True}}, {"z": {"NULL": True}}, {}])
    assert_same_values(df["z"], [None, None, None])


def test_null_mixed_with_strings_is_just_missing() -> None:
    df = decode_items([{"s": {"NULL": True}}, {"s": {"S": "a"}}])
    assert df["s"].dtype == STR


def test_sets_of_each_kind() -> None:
    items = [
        {
            "ss": {"SS": ["a", "b"]},
            "ns": {"NS": ["1", "2.5", "1E+1", str(INT64_MAX + 1)]},
            "bs": {"BS": [b64(b"\x00\x01"), b"raw"]},
        },
        {},
    ]
    df = decode_items(items)
    assert_same_values(df["ss"], [{"a", "b"}, None])
    assert_same_values(df["ns"], [{1, 2.5, 10.0, INT64_MAX + 1}, None])
    assert_same_values(df["bs"], [{b"\x00\x01", b"raw"}, None])
    dec = decode_items(items, numbers="decimal")
    assert_same_values(
        dec["ns"], [{Decimal("1"), Decimal("2.5"), Decimal("1E+1"), Decimal(INT64_MAX + 1)}, None]
    )
    flt = decode_items(items, numbers="float")
    assert_same_values(flt["ns"], [{1.0, 2.5, 10.0, float(INT64_MAX + 1)}, None])


def test_nested_list_and_map_with_numbers_inside() -> None:
    av = {
        "M": {
            "n": {"N": "3"},
            "f": {"N": "2.0"},
            "l": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}, {"M": {"b": {"BOOL": True}}}]},
            "bin": {"B": b64(b"hi")},
        }
    }
    df = decode_items([{"m": av, "l": {"L": [{"N": "-1"}, {"NS": ["4"]}]}}])
    assert_same_values(
        df["m"], [{"n": 3, "f": 2.0, "l": [1, "x", None, {"b": True}], "bin": b"hi"}]
    )
    assert_same_values(df["l"], [[-1, {4}]])
    dec = decode_items([{"m": av}], numbers="decimal")
    assert same(dec["m"][0]["n"], Decimal("3"))
    assert same(dec["m"][0]["l"][0], Decimal("1"))
    flt = decode_items([{"m": av}], numbers="float")
    assert same(flt["m"][0]["n"], 3.0)


def test_binary_from_base64_str_and_from_bytes() -> None:
    df = decode_items(
        [
            {"b": {"B": b64(b"\xffdata")}},
            {"b": {"B": b"\xffdata"}},
            {"b": {"B": bytearray(b"ba")}},
            {},
        ]
    )
    assert_same_values(df["b"], [b"\xffdata", b"\xffdata", b"ba", None])


def test_flatten_two_levels_and_map_missing_in_some_rows() -> None:
    items = [
        {"id": {"S": "a"}, "m": {"M": {"x": {"N": "1"}, "y": {"M": {"z": {"S": "deep"}}}}}},
        {"id": {"S": "b"}},
        {"id": {"S": "c"}, "m": {"M": {"x": {"N": "2"}, "l": {"L": [{"M": {"q": {"N": "1"}}}]}}}},
    ]
    df = decode_items(items, flatten=True)
    assert list(df.columns) == ["id", "m.x", "m.y.z", "m.l"]
    assert df["m.x"].dtype == pd.Int64Dtype()
    assert df["m.x"].tolist() == [1, pd.NA, 2]
    assert df["m.y.z"].dtype == STR
    assert df["m.y.z"][0] == "deep" and math.isnan(df["m.y.z"][1])
    assert_same_values(df["m.l"], [None, None, [{"q": 1}]])  # lists stay lists
    plain = decode_items(items)
    assert list(plain.columns) == ["id", "m"]
    assert_same_values(plain["m"], [{"x": 1, "y": {"z": "deep"}}, None, {"x": 2, "l": [{"q": 1}]}])


def test_mixed_number_and_string_gives_object_column() -> None:
    df = decode_items([{"v": {"N": "5"}}, {"v": {"S": "five"}}, {"v": {"N": "2.5"}}, {}])
    assert_same_values(df["v"], [5, "five", 2.5, None])


def test_mixed_types_across_pages_decode_each_value_on_its_own() -> None:
    fb = FrameBuilder()
    fb.add_items([{"v": {"N": "5"}}, {"v": {"N": "2.5"}}, {"v": {"N": str(2**80)}}])
    fb.add_items([{"v": {"BOOL": True}}, {"v": {"NULL": True}}])
    fb.add_items([{"v": {"S": "s"}}, {"v": {"L": []}}])
    assert_same_values(fb.to_frame()["v"], [5, 2.5, 2**80, True, None, "s", []])


def test_columns_union_in_first_seen_order_across_pages() -> None:
    fb = FrameBuilder()
    fb.add_items([{"a": {"S": "1"}, "b": {"N": "1"}}, {"c": {"S": "x"}, "a": {"S": "2"}}])
    fb.add_items([{"b": {"N": "2"}}, {"a": {"S": "3"}}, {"late": {"BOOL": True}, "a": {"S": "4"}}])
    df = fb.to_frame()
    assert list(df.columns) == ["a", "b", "c", "late"]
    assert df["late"].dtype == pd.BooleanDtype()
    assert df["late"].tolist() == [pd.NA, pd.NA, pd.NA, pd.NA, True]
    assert df["b"].tolist() == [1, pd.NA, 2, pd.NA, pd.NA]
    assert isinstance(df.index, pd.RangeIndex) and len(df) == len(fb) == 5


def test_key_names_come_first_in_given_order() -> None:
    items = [{"x": {"N": "1"}, "sk": {"S": "s1"}}, {"pk": {"S": "p"}, "sk": {"S": "s2"}}]
    df = decode_items(items, key_names=["pk", "sk", "never"])
    assert list(df.columns) == ["pk", "sk", "never", "x"]
    assert_same_values(df["never"], [None, None])


def test_empty_input_gives_empty_frame_with_key_columns() -> None:
    df = decode_items([], key_names=("pk", "sk"))
    assert list(df.columns) == ["pk", "sk"]
    assert len(df) == 0 and isinstance(df.index, pd.RangeIndex)
    assert list(empty_frame(["k"]).columns) == ["k"]
    assert list(empty_frame().columns) == []
    fb = FrameBuilder(key_names=["pk"])
    fb.add_items([])
    assert len(fb) == 0 and list(fb.to_frame().columns) == ["pk"]


@pytest.mark.parametrize("bad", ["Auto", "int", "", None, 1])
def test_bad_numbers_raises_with_allowed_values(bad: Any) -> None:
    msg = "numbers must be one of 'auto', 'decimal', 'float'"
    with pytest.raises(InvalidArgumentError, match=msg):
        decode_items([], numbers=bad)
    with pytest.raises(InvalidArgumentError, match=msg):
        FrameBuilder(numbers=bad)
    with pytest.raises(InvalidArgumentError, match=msg):
        decode_value({"N": "1"}, numbers=bad)


def test_reset_keeps_settings_and_column_order() -> None:
    fb = FrameBuilder(numbers="decimal", key_names=["pk"])
    fb.add_items([{"pk": {"S": "a"}, "x": {"N": "1.5"}, "y": {"S": "y"}}])
    first = fb.to_frame()
    assert list(first.columns) == ["pk", "x", "y"]
    fb.reset()
    assert len(fb) == 0
    assert list(fb.to_frame().columns) == ["pk", "x", "y"]
    fb.add_items([{"z": {"S": "new"}, "pk": {"S": "b"}}, {"x": {"N": "2"}, "pk": {"S": "c"}}])
    df = fb.to_frame()
    assert list(df.columns) == ["pk", "x", "y", "z"]
    assert len(df) == 2
    assert_same_values(df["x"], [None, Decimal("2")])  # numbers="decimal" was kept
    assert_same_values(df["y"], [None, None])


def test_builder_can_be_read_and_extended() -> None:
    fb = FrameBuilder()
    fb.add_items([{"a": {"N": "1"}}])
    assert fb.to_frame()["a"].dtype == np.int64
    fb.add_items([{"b": {"S": "x"}}])
    df = fb.to_frame()
    assert df["a"].tolist() == [1, pd.NA] and list(df.columns) == ["a", "b"]


def test_decode_value() -> None:
    assert same(decode_value({"N": "1.50"}), Decimal("1.50"))
    assert same(decode_value({"N": "7"}, numbers="auto"), 7)
    assert same(decode_value({"N": "7"}, numbers="float"), 7.0)
    assert decode_value({"NULL": True}) is None
    assert same(decode_value({"BS": [b64(b"a"), b"b"]}), {b"a", b"b"})
    assert same(
        decode_value({"L": [{"M": {"k": {"NS": ["1", "2.5"]}}}]}, numbers="auto"), [{"k": {1, 2.5}}]
    )


@pytest.mark.parametrize(
    "items",
    [
        [{"a": "not an attribute value"}],
        [{"a": {"X": 1}}],
        [{"a": {"N": "abc"}}],
        [{"a": None}],
        ["not an item"],
    ],
)
def test_malformed_items_raise_invalid_argument(items: list[Any]) -> None:
    fb = FrameBuilder()
    fb.add_items([{"ok": {"S": "x"}}])
    with pytest.raises(InvalidArgumentError):
        fb.add_items(items)
    # The builder is unchanged by a rejected page.
    assert len(fb) == 1 and list(fb.to_frame().columns) == ["ok"]


def test_bad_key_names_and_flatten() -> None:
    with pytest.raises(InvalidArgumentError, match="key_names"):
        FrameBuilder(key_names=[1])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError, match="flatten"):
        FrameBuilder(flatten="yes")  # type: ignore[arg-type]


def test_many_sparse_columns() -> None:
    # More than 16 sparse columns in a page takes the one-pass padding path.
    items = [{f"c{i}": {"N": str(i)}} for i in range(40)] + [{"c3": {"N": "7"}}]
    df = decode_items(items)
    assert list(df.columns) == [f"c{i}" for i in range(40)]
    assert df["c3"].tolist() == [pd.NA, pd.NA, pd.NA, 3] + [pd.NA] * 36 + [7]
    assert df["c39"].tolist() == [pd.NA] * 39 + [39, pd.NA]


# --------------------------------------------------------------------------- #
# Slow reference decoder, on top of boto3's TypeDeserializer
# --------------------------------------------------------------------------- #

_TD = TypeDeserializer()


def _to_boto(av: dict[str, Any]) -> dict[str, Any]:
    """Wire form -> the form TypeDeserializer takes (B/BS as bytes)."""
    ((tag, v),) = av.items()
    if tag == "B":
        return {"B": base64.b64decode(v) if isinstance(v, str) else bytes(v)}
    if tag == "BS":
        return {"BS": [base64.b64decode(x) if isinstance(x, str) else bytes(x) for x in v]}
    if tag == "L":
        return {"L": [_to_boto(x) for x in v]}
    if tag == "M":
        return {"M": {k: _to_boto(x) for k, x in v.items()}}
    return av


def _is_integral(s: str) -> bool:
    return not any(c in s for c in ".eE")


def _ref_number(d: Decimal, s: str, numbers: str) -> Any:
    if numbers == "decimal":
        return d
    if numbers == "float":
        return float(d)
    return int(d) if _is_integral(s) else float(d)


def _shape(py: Any, av: dict[str, Any], numbers: str) -> Any:
    """Apply the contract to TypeDeserializer's output (``av`` gives the strings)."""
    ((tag, raw),) = av.items()
    if tag == "N":
        return _ref_number(py, raw, numbers)
    if tag == "NS":
        text = {Decimal(s): s for s in raw}
        return {_ref_number(d, text[d], numbers) for d in py}
    if tag == "B":
        assert isinstance(py, Binary)
        return py.value
    if tag == "BS":
        return {b.value for b in py}
    if tag == "L":
        return [_shape(p, a, numbers) for p, a in zip(py, raw, strict=True)]
    if tag == "M":
        return {k: _shape(py[k], raw[k], numbers) for k in raw}
    return py  # S, SS, BOOL, NULL


def ref_value(av: dict[str, Any], numbers: str) -> Any:
    return _shape(_TD.deserialize(_to_boto(av)), av, numbers)


def _ref_flatten(item: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, av in item.items():
        name = prefix + k
        if "M" in av:
            out.update(_ref_flatten(av["M"], name + "."))
        else:
            out[name] = av
    return out


def _ref_column(cells: list[dict[str, Any] | None], numbers: str) -> Any:
    """Expected column: ``cells`` holds each row's wire value or None if absent."""
    tags = [None if c is None else next(iter(c)) for c in cells]
    kinds = {t for t in tags if t not in (None, "NULL")}
    present = [t not in (None, "NULL") for t in tags]
    decoded = [ref_value(c, numbers) if p else None for c, p in zip(cells, present, strict=True)]
    missing = not all(present)
    if kinds == {"S"}:
        return pd.Series(decoded, dtype=STR)
    if kinds == {"BOOL"}:
        return pd.Series(decoded, dtype="boolean" if missing else bool)
    if kinds == {"N"}:
        if numbers == "float":
            return pd.Series([np.nan if v is None else v for v in decoded], dtype=np.float64)
        if numbers == "auto":
            raws = [c["N"] for c, p in zip(cells, present, strict=True) if p]  # type: ignore[index]
            if all(map(_is_integral, raws)):
                ints = [int(s) for s in raws]
                if all(INT64_MIN <= i <= INT64_MAX for i in ints):
                    return pd.Series(decoded, dtype="Int64" if missing else np.int64)
            else:
                return pd.Series(
                    [np.nan if v is None else float(v) for v in decoded], dtype=np.float64
                )
    out = np.empty(len(decoded), dtype=object)
    for i, v in enumerate(decoded):
        out[i] = v
    return pd.Series(out, dtype=object)


def ref_frame(
    pages: list[list[dict[str, Any]]],
    *,
    numbers: str,
    flatten: bool,
    key_names: tuple[str, ...],
    seen: list[str] | None = None,
) -> pd.DataFrame:
    items = [(_ref_flatten(it) if flatten else it) for page in pages for it in page]
    order = list(key_names) + [n for n in (seen or []) if n not in key_names]
    for it in items:
        for name in it:
            if name not in order:
                order.append(name)
    if not items:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in order})
    data = {n: _ref_column([it.get(n) for it in items], numbers) for n in order}
    return pd.DataFrame(data, index=pd.RangeIndex(len(items)))


# --------------------------------------------------------------------------- #
# Strategies: arbitrary wire items
# --------------------------------------------------------------------------- #

NAMES = ["a", "b", "c", "d", "e"]
MAP_KEYS = ["x", "y", "z"]


@st.composite
def number_strings(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["int", "bound", "big", "dot", "exp", "repr"]))
    if kind == "int":
        return str(draw(st.integers(-(10**6), 10**6)))
    if kind == "bound":
        return str(draw(st.sampled_from([INT64_MAX, INT64_MIN, INT64_MAX + 1, INT64_MIN - 1, 0])))
    if kind == "big":
        return str(draw(st.integers(-(10**30), 10**30)))
    if kind == "dot":
        whole = draw(st.integers(-(10**9), 10**9))
        frac = draw(st.text(alphabet="0123456789", min_size=1, max_size=6))
        sign = "-" if whole == 0 and draw(st.booleans()) else ""
        return f"{sign}{whole}.{frac}"
    if kind == "exp":
        mant = draw(st.sampled_from(["1", "15", "2.5", "-3", "7.25"]))
        e = draw(st.sampled_from(["E", "e"]))
        exp = draw(st.integers(-20, 20))
        return f"{mant}{e}{'+' if exp >= 0 else ''}{exp}"
    f = draw(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-1e20, max_value=1e20).filter(
            lambda x: x == 0 or abs(x) > 1e-20
        )
    )
    return repr(f)


def binary_values() -> st.SearchStrategy[Any]:
    # Wire form (base64 str) or boto3-client form (bytes).
    return st.binary(max_size=4).flatmap(lambda b: st.sampled_from([b64(b), b]))


def _unique_ns(strs: list[str]) -> list[str]:
    seen: dict[Decimal, str] = {}
    for s in strs:
        seen.setdefault(Decimal(s), s)
    return list(seen.values())


def _unique_bs(values: list[Any]) -> list[Any]:
    seen: dict[bytes, Any] = {}
    for v in values:
        seen.setdefault(base64.b64decode(v) if isinstance(v, str) else bytes(v), v)
    return list(seen.values())


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=4)

SCALARS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "S": TEXT.map(lambda s: {"S": s}),
    "N": number_strings().map(lambda s: {"N": s}),
    "B": binary_values().map(lambda b: {"B": b}),
    "BOOL": st.booleans().map(lambda b: {"BOOL": b}),
    "NULL": st.just({"NULL": True}),
    "SS": st.lists(TEXT, min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    "NS": st.lists(number_strings(), min_size=1, max_size=3).map(lambda v: {"NS": _unique_ns(v)}),
    "BS": st.lists(binary_values(), min_size=1, max_size=3).map(lambda v: {"BS": _unique_bs(v)}),
}
LEVEL0 = st.one_of(*SCALARS.values())


def _containers(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.lists(children, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.sampled_from(MAP_KEYS), children, max_size=3).map(lambda v: {"M": v}),
    )


LEVEL1 = st.one_of(LEVEL0, _containers(LEVEL0))
ANY_AV = st.one_of(LEVEL0, _containers(LEVEL1))  # nesting to depth 2
KIND_STRATEGIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    **{k: v for k, v in SCALARS.items() if k != "NULL"},
    "L": _containers(LEVEL1).filter(lambda av: "L" in av),
    "M": _containers(LEVEL1).filter(lambda av: "M" in av),
}


@st.composite
def wire_pages(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """Pages of items; each attribute name mostly keeps one type, sometimes mixes.

    Types mix within a page (``mix_rate``) or from one page to the next
    (``switch_rate``: a name's type is drawn again for a page).
    """
    # Numbers and strings, the common (and most dtype-sensitive) kinds, weigh more.
    kinds = sorted(KIND_STRATEGIES) + ["N", "N", "N", "S"]
    kind = {n: draw(st.sampled_from(kinds)) for n in NAMES}
    mix_rate = draw(st.sampled_from([0, 0, 0.2]))
    switch_rate = draw(st.sampled_from([0, 0, 0.3]))
    null_rate = draw(st.sampled_from([0, 0.15]))
    pages = []
    for _ in range(draw(st.integers(0, 3))):
        page_kind = {
            n: draw(st.sampled_from(kinds)) if draw(st.floats(0, 1)) < switch_rate else k
            for n, k in kind.items()
        }
        items = []
        for _ in range(draw(st.integers(0, 6))):
            names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES)))
            item = {}
            for n in names:
                roll = draw(st.floats(0, 1))
                if roll < null_rate:
                    item[n] = {"NULL": True}
                elif roll < null_rate + mix_rate:
                    item[n] = draw(ANY_AV)
                else:
                    item[n] = draw(KIND_STRATEGIES[page_kind[n]])
            items.append(item)
        pages.append(items)
    return pages


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = st.sampled_from(["auto", "decimal", "float"])
KEYS = st.lists(st.sampled_from(NAMES + ["k"]), unique=True, max_size=2).map(tuple)


@SETTINGS
@given(pages=wire_pages(), numbers=MODES, key_names=KEYS, flatten=st.booleans())
def test_matches_reference(
    pages: list[list[dict[str, Any]]], numbers: str, key_names: tuple[str, ...], flatten: bool
) -> None:
    fb = FrameBuilder(numbers=numbers, flatten=flatten, key_names=key_names)
    for page in pages:
        fb.add_items(page)
    want = ref_frame(pages, numbers=numbers, flatten=flatten, key_names=key_names)
    assert len(fb) == len(want)
    assert_frames_match(fb.to_frame(), want)


@SETTINGS
@given(pages=wire_pages(), numbers=MODES)
def test_decode_items_matches_reference(pages: list[list[dict[str, Any]]], numbers: str) -> None:
    items = [it for page in pages for it in page]
    want = ref_frame([items], numbers=numbers, flatten=False, key_names=())
    assert_frames_match(decode_items(items, numbers=numbers), want)


@SETTINGS
@given(pages=wire_pages(), numbers=MODES, flatten=st.booleans())
def test_reset_chunks_match_reference(
    pages: list[list[dict[str, Any]]], numbers: str, flatten: bool
) -> None:
    fb = FrameBuilder(numbers=numbers, flatten=flatten, key_names=("k",))
    seen: list[str] = []
    for page in pages:
        fb.reset()
        fb.add_items(page)
        want = ref_frame([page], numbers=numbers, flatten=flatten, key_names=("k",), seen=seen)
        got = fb.to_frame()
        assert_frames_match(got, want)
        seen = list(got.columns)


@SETTINGS
@given(av=ANY_AV, numbers=MODES)
def test_decode_value_matches_reference(av: dict[str, Any], numbers: str) -> None:
    assert same(decode_value(av, numbers=numbers), ref_value(av, numbers))


@SETTINGS
@given(
    first=st.lists(SCALARS["N"], min_size=1, max_size=6),
    then=st.lists(st.one_of(st.none(), ANY_AV), min_size=1, max_size=4),
    numbers=MODES,
)
def test_column_changing_type_between_pages_matches_reference(
    first: list[dict[str, Any]], then: list[dict[str, Any] | None], numbers: str
) -> None:
    # Numbers decoded page-wise (int64 / float64 / big ints) must still come
    # out value by value when a later page turns the column into objects.
    pages = [[{"v": av} for av in first], [{} if av is None else {"v": av} for av in then]]
    fb = FrameBuilder(numbers=numbers)
    for page in pages:
        fb.add_items(page)
    want = ref_frame(pages, numbers=numbers, flatten=False, key_names=())
    assert_frames_match(fb.to_frame(), want)
