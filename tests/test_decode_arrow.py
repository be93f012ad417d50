"""Tests of the Arrow lane of the read path (xacct_nb._decode_arrow).

Generated items are encoded as Query/Scan response bodies and decoded the way
a read does (split the body, parse with Arrow, decode the columns); the
result must equal the slow ``TypeDeserializer`` reference of test_decode.py
and the exact decoder, value for value and dtype for dtype. The one
documented difference: the keys of a decoded map come in the order the read
first met them, so dicts are compared without regard to key order.
"""

from __future__ import annotations

import base64
import gc
import json
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

import xacct_nb as xn
from xacct_nb import _decode_arrow as da
from xacct_nb._decode import FrameBuilder, gc_paused
from xacct_nb._errors import InvalidArgumentError

sys.path.insert(0, str(Path(__file__).parent))
from test_decode import (  # noqa: E402
    ANY_AV,
    INT64_MAX,
    INT64_MIN,
    KEYS,
    MODES,
    SETTINGS,
    STR,
    number_strings,
    ref_frame,
    wire_pages,
)
from test_decode import same as _same  # noqa: E402
from versions import STR_NAME  # noqa: E402

# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


@pytest.fixture(autouse=True)
def _arrow_even_for_small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated pages are small: make them take the Arrow lane all the same."""
    monkeypatch.setattr(da, "SMALL_PAGE_BYTES", 0)


def same(a: Any, b: Any) -> bool:
    """test_decode.same, except that dict key order is not compared."""
    return _same(a, b, key_order=False)


def assert_frames_match(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert isinstance(got.index, pd.RangeIndex)
    assert got.index.equals(want.index)
    for col in want.columns:
        assert got[col].dtype == want[col].dtype, (col, got[col].dtype, want[col].dtype)
        if want[col].dtype == object:
            values, expected = got[col].tolist(), want[col].tolist()
            assert len(values) == len(expected)
            for i, (x, y) in enumerate(zip(values, expected, strict=True)):
                assert same(x, y), f"{col} row {i}: {x!r} != {y!r}"
        else:
            pd.testing.assert_series_equal(got[col], want[col], check_exact=True)


def to_wire_json(av: Any) -> Any:
    """B / BS given as bytes (boto3 form) -> base64 text, as on the wire."""
    if isinstance(av, dict):
        out = {}
        for tag, v in av.items():
            if tag == "B" and not isinstance(v, str):
                v = base64.b64encode(bytes(v)).decode()
            elif tag == "BS":
                v = [x if isinstance(x, str) else base64.b64encode(bytes(x)).decode() for x in v]
            elif tag == "L":
                v = [to_wire_json(x) for x in v]
            elif tag == "M":
                v = {k: to_wire_json(x) for k, x in v.items()}
            out[tag] = v
        return out
    return av


def wire_page(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{name: to_wire_json(av) for name, av in item.items()} for item in items]


def body_of(items: list[dict[str, Any]], *, style: int = 0, more: bool = True) -> bytes:
    """A Query/Scan response body holding ``items``, in one of several layouts."""
    lek = {"pk": {"S": "x]y\",\"Count\":1"}, "sk": {"N": "5"}} if more else None
    parts: list[tuple[str, Any]] = [("Count", len(items)), ("ScannedCount", len(items) + 1)]
    if lek:
        parts.append(("LastEvaluatedKey", lek))
    parts.insert([0, 1, 3][style % 3] if style % 3 < 2 else len(parts), ("Items", items))
    if style % 2:
        parts.append(("ConsumedCapacity", {"TableName": "T", "CapacityUnits": 1.5}))
    doc = dict(parts)
    if style % 4 == 3:
        return json.dumps(doc, indent=1, ensure_ascii=False).encode()
    if style % 4 == 2:
        return json.dumps(doc).encode()  # moto's layout: ", " and ": "
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=style % 4 == 1).encode()


def read_pages(
    pages: list[list[dict[str, Any]]],
    *,
    numbers: str = "auto",
    flatten: bool = False,
    key_names: tuple[str, ...] = (),
    style: int = 0,
    parser: da.PageParser | None = None,
    expect_arrow: bool = True,
    predecode: bool = True,
) -> pd.DataFrame:
    """Decode pages as the read path does: body -> split -> parse -> FrameBuilder."""
    parser = parser or da.PageParser(numbers=numbers, flatten=flatten, predecode=predecode)
    fb = FrameBuilder(numbers=numbers, flatten=flatten, key_names=key_names)
    for seq, page in enumerate(pages):
        split = da.split_items(body_of(page, style=style + seq, more=seq < len(pages) - 1))
        assert split is not None
        raw, remainder = split
        meta = json.loads(remainder)
        assert "Items" not in meta and meta["Count"] == len(page) == len(raw)
        parsed = parser.parse(raw, seq=seq)
        if expect_arrow and page:
            assert isinstance(parsed, da.ArrowItems), "valid wire items must take the Arrow lane"
            if not flatten:  # (flattened columns new in one item may need the exact path)
                decoded = parsed.decode_columns(numbers, flatten, list(fb._cols))
                assert decoded is not None, "valid wire items must decode from the columns"
        fb.add_items(parsed)
    return fb.to_frame()


def exact_frame(pages: list[list[dict[str, Any]]], **kwargs: Any) -> pd.DataFrame:
    fb = FrameBuilder(**kwargs)
    for page in pages:
        fb.add_items(page)
    return fb.to_frame()


# --------------------------------------------------------------------------- #
# Property tests against the TypeDeserializer reference
# --------------------------------------------------------------------------- #


@SETTINGS
@given(
    pages=wire_pages(),
    numbers=MODES,
    key_names=KEYS,
    flatten=st.booleans(),
    style=st.integers(0, 11),
    predecode=st.booleans(),
)
def test_arrow_lane_matches_reference(
    pages: list[list[dict[str, Any]]], numbers: str, key_names: tuple[str, ...], flatten: bool,
    style: int, predecode: bool,
) -> None:
    pages = [wire_page(p) for p in pages]
    got = read_pages(pages, numbers=numbers, flatten=flatten, key_names=key_names, style=style,
                     predecode=predecode)
    want = ref_frame(pages, numbers=numbers, flatten=flatten, key_names=key_names)
    assert_frames_match(got, want)


@SETTINGS
@given(pages=wire_pages(), numbers=MODES, flatten=st.booleans(), data=st.data())
def test_arrow_chunks_match_reference(
    pages: list[list[dict[str, Any]]], numbers: str, flatten: bool, data: st.DataObject
) -> None:
    # Chunked reads decode consecutive slices of each parsed page into one
    # builder, reset between chunks (as _engine.chunks does).
    pages = [wire_page(p) for p in pages]
    parser = da.PageParser(numbers=numbers, flatten=flatten, predecode=True)
    fb = FrameBuilder(numbers=numbers, flatten=flatten, key_names=("k",))
    seen: list[str] = []
    for seq, page in enumerate(pages):
        raw, _ = da.split_items(body_of(page, style=seq))  # type: ignore[misc]
        parsed = parser.parse(raw, seq=seq)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(page)), max_size=3)))
        for a, b in zip([0, *cuts], [*cuts, len(page)], strict=True):
            fb.reset()
            fb.add_items(parsed[a:b])
            want = ref_frame([page[a:b]], numbers=numbers, flatten=flatten, key_names=("k",),
                             seen=seen)
            got = fb.to_frame()
            assert_frames_match(got, want)
            seen = list(got.columns)


@SETTINGS
@given(pages=wire_pages(), numbers=MODES, data=st.data())
def test_limit_prefix_of_raw_items(
    pages: list[list[dict[str, Any]]], numbers: str, data: st.DataObject
) -> None:
    pages = [wire_page(p) for p in pages if p]
    if not pages:
        return
    page = pages[0]
    raw, _ = da.split_items(body_of(page))  # type: ignore[misc]
    n = data.draw(st.integers(0, len(page)))
    parsed = da.PageParser().parse(raw[:n], seq=0)
    assert len(parsed) == n
    fb = FrameBuilder(numbers=numbers)
    fb.add_items(parsed)
    assert_frames_match(fb.to_frame(), ref_frame([page[:n]], numbers=numbers, flatten=False,
                                                 key_names=()))


@SETTINGS
@given(
    strs=st.lists(number_strings(), min_size=1, max_size=8),
    extra=st.lists(
        st.sampled_from(
            ["1e400", "-1e400", "1e-400", "4.9e-324", "1.7976931348623159e308", "1.", ".5",
             "-.5", "00012.5", "-0", "007", "0.0", "-0.0", "1" * 40, "1" * 40 + ".5",
             "0." + "0" * 30 + "1", str(INT64_MAX), str(INT64_MIN), str(INT64_MAX + 1),
             str(INT64_MIN - 1), "123456789012345678901234567890.123456789e-5"]
        ),
        max_size=4,
    ),
    numbers=MODES,
    missing=st.booleans(),
)
def test_numbers_convert_exactly(
    strs: list[str], extra: list[str], numbers: str, missing: bool
) -> None:
    # Some extras are beyond DynamoDB's number range (TypeDeserializer refuses
    # them): the exact decoder is the reference here.
    page = [{"n": {"N": s}} for s in strs + extra]
    if missing:
        page.insert(1, {"x": {"S": "-"}})
    got = read_pages([page, page], numbers=numbers)
    assert_frames_match(got, exact_frame([page, page], numbers=numbers))
    nested = [{"l": {"L": [{"N": s} for s in strs + extra]}, "ns": {"NS": strs + extra}}]
    assert_frames_match(read_pages([nested], numbers=numbers),
                        exact_frame([nested], numbers=numbers))


@SETTINGS
@given(
    values=st.lists(st.one_of(st.none(), ANY_AV), min_size=1, max_size=4),
    picks=st.lists(st.integers(0, 3), min_size=40, max_size=120),
    numbers=MODES,
)
def test_repeated_values_in_big_pages_match_reference(
    values: list[dict[str, Any] | None], picks: list[int], numbers: str
) -> None:
    # Pages of many rows built from a few values: object columns convert each
    # distinct string once (dictionary-encoded) and share the results.
    page = []
    for i, pick in enumerate(picks):
        av = values[pick % len(values)]
        item: dict[str, Any] = {"id": {"N": str(i)}}
        if av is not None:
            item["v"] = to_wire_json(av)
            item["m"] = {"M": {"k": to_wire_json(av), "same": {"S": "x"}}}
            item["l"] = {"L": [to_wire_json(av), {"N": "1"}]}
        page.append(item)
    got = read_pages([page, page[::-1]], numbers=numbers)
    assert_frames_match(got, ref_frame([page, page[::-1]], numbers=numbers, flatten=False,
                                       key_names=()))


@SETTINGS
@given(av=ANY_AV, numbers=MODES)
def test_nested_values_match_reference(av: dict[str, Any], numbers: str) -> None:
    page = [{"v": to_wire_json(av)}, {"v": {"NULL": True}}, {}]
    got = read_pages([page], numbers=numbers)
    assert_frames_match(got, ref_frame([page], numbers=numbers, flatten=False, key_names=()))


# --------------------------------------------------------------------------- #
# Unit tests
# --------------------------------------------------------------------------- #


def test_timestamp_like_strings_stay_strings() -> None:
    stamps = ["2026-01-08T02:55:00Z", "2026-01-08", "2026-01-08 02:55:00", "2026-01-08T02:55:00",
              "2026-01-08T02:55:00.123456+01:00", "1970-01-01T00:00:00Z", "12:30:00"]
    page = [{"ts": {"S": s}, "m": {"M": {"at": {"S": s}}}, "l": {"L": [{"S": s}]},
             "ss": {"SS": [s]}} for s in stamps]
    got = read_pages([page, page])
    assert got["ts"].dtype == STR
    assert got["ts"].tolist() == stamps * 2
    assert [m["at"] for m in got["m"]] == stamps * 2
    assert [lst[0] for lst in got["l"]] == stamps * 2
    assert [next(iter(s)) for s in got["ss"]] == stamps * 2
    assert_frames_match(got, exact_frame([page, page]))


def benchmark_like_items(count: int) -> list[dict[str, Any]]:
    return [
        {
            "customer_id": {"S": f"C-{i:06d}"},
            "order_ts": {"S": f"2026-01-01T00:00:{i % 60:02d}Z"},
            "total": {"N": f"{i * 1.25:.2f}"},
            "item_count": {"N": str(i % 7)},
            "express": {"BOOL": i % 3 == 0},
            **({"loyalty_points": {"N": str(i)}} if i % 5 else {}),
            **({"gift_message": {"S": "hi"}} if i % 7 == 0 else {}),
            "ship_to": {"M": {"city": {"S": "Oslo"}, "country": {"S": "NO"}}},
            **({"tags": {"SS": ["a", "b"][: 1 + i % 2]}} if i % 2 else {}),
        }
        for i in range(count)
    ]


@pytest.mark.parametrize("flatten", [False, True])
@pytest.mark.parametrize("predecode", [False, True])
def test_typical_pages_decode_from_their_columns(flatten: bool, predecode: bool) -> None:
    items = benchmark_like_items(400)
    pages = [items[:100], items[100:250], items[250:]]
    parser = da.PageParser(flatten=flatten, predecode=predecode)
    fb = FrameBuilder(flatten=flatten, key_names=("customer_id", "order_ts"))
    for seq, page in enumerate(pages):
        raw, _ = da.split_items(body_of(page, style=seq))  # type: ignore[misc]
        parsed = parser.parse(raw, seq=seq)
        assert isinstance(parsed, da.ArrowItems)
        assert parsed.decode_columns("auto", flatten, list(fb._cols)) is not None
        fb.add_items(parsed)
    assert_frames_match(fb.to_frame(), exact_frame(pages, flatten=flatten,
                                                   key_names=("customer_id", "order_ts")))


def test_benchmark_like_items_and_dtypes() -> None:
    page = [
        {
            "customer_id": {"S": f"C-{i:06d}"},
            "order_ts": {"S": f"2026-01-01T00:00:{i % 60:02d}Z"},
            "total": {"N": f"{i * 1.25:.2f}"},
            "item_count": {"N": str(i % 7)},
            "express": {"BOOL": i % 3 == 0},
            **({"loyalty_points": {"N": str(i)}} if i % 5 else {}),
            **({"gift_message": {"S": "hi"}} if i % 7 == 0 else {}),
            "ship_to": {"M": {"city": {"S": "Oslo"}, "country": {"S": "NO"}}},
            **({"tags": {"SS": ["a", "b"][: 1 + i % 2]}} if i % 2 else {}),
        }
        for i in range(300)
    ]
    got = read_pages([page[:150], page[150:]], key_names=("customer_id", "order_ts"))
    assert got.dtypes.astype(str).to_dict() == {
        "customer_id": STR_NAME, "order_ts": STR_NAME, "total": "float64", "item_count": "int64",
        "express": "bool", "gift_message": STR_NAME, "ship_to": "object", "loyalty_points": "Int64",
        "tags": "object"}
    assert_frames_match(got, exact_frame([page[:150], page[150:]],
                                         key_names=("customer_id", "order_ts")))


@pytest.mark.parametrize(
    "names",
    [["a/b", "", "x.y", "[]", "Items", "é€😀", "with space", "S", "M", "NULL"]],
)
def test_unusual_attribute_and_map_key_names(names: list[str]) -> None:
    page = [{n: {"S": f"{n}-{i}"} for n in names} | {"m": {"M": {n: {"N": str(i)} for n in names}}}
            for i in range(3)]
    for flatten in (False, True):
        got = read_pages([page, page], flatten=flatten)
        assert_frames_match(got, exact_frame([page, page], flatten=flatten))


def test_new_attributes_map_keys_and_tags_on_later_pages() -> None:
    pages = [
        [{"a": {"S": "x"}, "m": {"M": {"k": {"N": "1"}}}}],
        [{"b": {"N": "2"}, "a": {"S": "y"}}, {"m": {"M": {"j": {"BOOL": True}}}}],
        [{"a": {"N": "3"}, "c": {"L": [{"S": "z"}, {"M": {"q": {"NULL": True}}}]}}],
        [{"c": {"L": [{"N": "1.5"}]}, "b": {"SS": ["s"]}, "m": {"M": {}}}],
    ]
    for flatten in (False, True):
        parser = da.PageParser()
        got = read_pages(pages, flatten=flatten, parser=parser)
        assert_frames_match(got, exact_frame(pages, flatten=flatten))
        assert parser.counts[0] == len(pages)  # every page went through Arrow in the end


def test_rare_attribute_after_the_learned_prefix() -> None:
    page = [{"id": {"N": str(i)}} for i in range(da.LEARN_ITEMS + 50)]
    page[-3]["rare"] = {"M": {"deep": {"L": [{"S": "r"}]}}}
    got = read_pages([page, page])
    assert_frames_match(got, exact_frame([page, page]))


def test_column_order_follows_the_pages_when_new_columns_tie() -> None:
    # Two new columns first seen in the same item, in a different order than
    # the schema learned them: the page that introduces them decides.
    pages = [
        [{"a": {"S": "1"}}, {"c": {"S": "3"}, "b": {"S": "2"}}],
        [{"b": {"S": "2"}, "c": {"S": "3"}, "d": {"S": "4"}}],
    ]
    assert list(read_pages(pages).columns) == list(exact_frame(pages).columns) == [
        "a", "c", "b", "d"]


def test_maps_used_as_dictionaries_turn_arrow_off_and_stay_exact() -> None:
    pages = [[{"id": {"N": str(p * 1000 + i)},
               "m": {"M": {f"k{p}-{i}-{j}": {"N": str(j)} for j in range(5)}}}
              for i in range(200)] for p in range(4)]
    parser = da.PageParser()
    got = read_pages(pages, parser=parser, expect_arrow=False)
    assert not parser.enabled
    assert_frames_match(got, exact_frame(pages))


def test_flattened_names_that_collide_are_decoded_exactly() -> None:
    pages = [[{"m": {"M": {"x": {"N": "1"}}}, "m.x": {"S": "plain"}},
              {"m.x": {"S": "alone"}}]] * 2
    got = read_pages(pages, flatten=True, expect_arrow=False)
    assert_frames_match(got, exact_frame(pages, flatten=True))


@pytest.mark.parametrize(
    "item",
    [
        b'{"a":null}',
        b'{"a":{"S":null}}',
        b'{"a":{}}',
        b'{"a":{"S":"x","N":"1"}}',
        b'{"a":{"X":"1"}}',
        b'{"a":{"N":"abc"}}',
        b'{"a":{"N":"0x1F"}}',
        b'{"a":{"N":"nan(1)"}}',
        b'{"a":{"N":"1_000"}}',
        b'{"a":{"N":"+5"}}',
        b'{"a":{"N":" 7"}}',
        b'{"a":{"B":"not base64!"}}',
        b'{"a":{"L":[null]}}',
        b'{"a":{"M":{"k":null}}}',
        b'{"a":{"SS":["x",null]}}',
        b'{"a":{"S":5}}',
        b'{"a":{"S":"x"},"a":{"S":"y"}}',
        b'{"a":{"S":"\xff\xfe"}}',
        b'{"a":{"S":"lone \\ud800"}}',
        b'{"a":{"S":"has :null inside"}}',
        b'null',
    ],
)
def test_odd_values_behave_as_in_the_exact_path(item: bytes) -> None:
    good = b'{"a":{"S":"ok"}}'
    bodies = [b'{"Items":[' + good + b"],\"Count\":1}",
              b'{"Items":[' + good + b"," + item + b"],\"Count\":2}"]

    def read(arrow: bool) -> Any:
        fb = FrameBuilder()
        parser = da.PageParser()
        try:
            for seq, body in enumerate(bodies):
                if arrow:
                    raw, _ = da.split_items(body)  # type: ignore[misc]
                    fb.add_items(parser.parse(raw, seq=seq))
                else:
                    fb.add_items(json.loads(body)["Items"])
            return fb.to_frame()
        except (InvalidArgumentError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            return type(exc)

    want, got = read(False), read(True)
    if isinstance(want, type):
        assert got is want
    else:
        assert_frames_match(got, want)


@pytest.mark.parametrize(
    ("body", "items", "rest"),
    [
        (b'{"Items":[],"Count":0,"ScannedCount":3}', b"[]", {"Count": 0, "ScannedCount": 3}),
        (b'{"Count":1,"Items":[{"a":{"SS":["]"]}}],"ScannedCount":1}', b'[{"a":{"SS":["]"]}}]',
         {"Count": 1, "ScannedCount": 1}),
        (b'{"Count":1,"ScannedCount":1,"Items":[{"a":{"L":[]}}]}', b'[{"a":{"L":[]}}]',
         {"Count": 1, "ScannedCount": 1}),
        (b'{ "Count" : 1 , "Items" : [ {"a": {"S": "],\\"X\\":"}} ] , "LastEvaluatedKey":'
         b' {"Items": {"S": "]"}} }\n', b'[ {"a": {"S": "],\\"X\\":"}} ]',
         {"Count": 1, "LastEvaluatedKey": {"Items": {"S": "]"}}}),
        (b'{"Count":1, "Items":[{"a":{"S":"x"}}]}', b'[{"a":{"S":"x"}}]', {"Count": 1}),
        (b'{"Items":[{"a":{"S":"x"}}],"Count":1,"LastEvaluatedKey":{"a":{"S":"],\\\"X\\\":"}}}',
         b'[{"a":{"S":"x"}}]', {"Count": 1, "LastEvaluatedKey": {"a": {"S": '],"X":'}}}),
    ],
)
def test_split_items_layouts(body: bytes, items: bytes, rest: dict[str, Any]) -> None:
    raw, remainder = da.split_items(body)  # type: ignore[misc]
    assert bytes(raw.data) == b'{"Items":' + items + b"}"
    assert json.loads(remainder) == rest
    assert len(raw) == rest["Count"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"Count":1,"Items":[{"a":{"S":"x"}}],"NewField":[1,2]}',
        b'{"Count":1,"Items":[{"a":{"S":"x"}}],"NewField":[1],"LastEvaluatedKey":{"a":{"N":"1"}}}',
        b'{"Count":1,"Items":[{"a":{"S":"x"}}],"New":{"a":[1],"b":2}}',
        b'{"Count":1,"Items":[{"a":{"S":"x"}}],"LastEvaluatedKey":{"a":{"N":"1"}},"X":[1]}',
    ],
)
def test_unknown_array_members_after_items_stay_exact(body: bytes) -> None:
    # No such member exists today; if one appears, nothing may be lost (above
    # all not a LastEvaluatedKey: the read would end early without an error).
    split = da.split_items(body)
    want = exact_frame([json.loads(body)["Items"]])
    if split is None:
        return  # the hook then parses the whole body
    raw, remainder = split
    meta = json.loads(remainder)
    assert meta == {k: v for k, v in json.loads(body).items() if k != "Items"}
    if b"LastEvaluatedKey" in body:
        assert meta["LastEvaluatedKey"] == {"a": {"N": "1"}}
    parser = da.PageParser()
    fb = FrameBuilder()
    fb.add_items(parser.parse(raw, seq=0))
    assert_frames_match(fb.to_frame(), want)


@pytest.mark.parametrize(
    "body",
    [b"", b"{}", b'{"Count":1}', b'{"Items":[]}', b'{"Items":{"a":1},"Count":0}',
     b'{"Items":[],"Count":"1"}', b"not json", b'{"Items":[],"Count":1,}'],
)
def test_split_items_refuses_what_it_does_not_know(body: bytes) -> None:
    assert da.split_items(body) is None


def test_small_pages_take_the_exact_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(da, "SMALL_PAGE_BYTES", 32 << 10)
    small = benchmark_like_items(20)
    raw, _ = da.split_items(body_of(small))  # type: ignore[misc]
    parser = da.PageParser()
    assert parser.parse(raw, seq=0) == wire_page(small)  # json.loads, nothing learned
    big = benchmark_like_items(400)
    raw, _ = da.split_items(body_of(big))  # type: ignore[misc]
    assert len(raw.data) >= 32 << 10
    assert isinstance(parser.parse(raw, seq=1), da.ArrowItems)


def test_raw_items_prefix_only() -> None:
    raw = da.RawItems(b'{"Items":[{"a":{"S":"1"}},{"a":{"S":"2"}}]}', 2)
    assert len(raw) == 2 and len(raw[:1]) == 1 and len(raw[:5]) == 2
    assert raw[:1].loads() == [{"a": {"S": "1"}}]
    with pytest.raises(TypeError):
        raw[1:]


def test_threads_share_a_parser_and_wait_for_the_learner() -> None:
    pages = [[{"id": {"N": str(p * 100 + i)}, "v": {"S": "x" * (i % 5)}} for i in range(100)]
             for p in range(12)]
    raws = [da.split_items(body_of(p))[0] for p in pages]  # type: ignore[index]
    parser = da.PageParser()
    results: dict[int, Any] = {}

    def parse(seq: int) -> None:
        results[seq] = parser.parse(raws[seq], seq=seq)

    threads = [threading.Thread(target=parse, args=(seq,)) for seq in reversed(range(12))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(results[s], da.ArrowItems) for s in range(12))
    fb = FrameBuilder()
    for seq in range(12):
        fb.add_items(results[seq])
    assert_frames_match(fb.to_frame(), exact_frame(pages))


def test_gc_pause_is_shared_by_threads_and_restored() -> None:
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with gc_paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still pauses it
    release.set()
    t.join()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_decoded_arrays_are_independent_of_pages() -> None:
    page = [{"n": {"N": str(i)}, "f": {"N": f"{i}.5"}, "b": {"BOOL": True}} for i in range(10)]
    df = read_pages([page, page])
    assert df["n"].dtype == np.int64 and df["f"].dtype == np.float64 and df["b"].dtype == bool
    df.loc[0, "n"] = 99  # writable, not a view of a read-only Arrow buffer
    assert df["n"][0] == 99


# -- the fast lane on this pyarrow: on, or said once ---------------------------------------


def test_the_fast_lane_works_with_the_installed_pyarrow():
    """Every environment of make test-matrix (pyarrow's floor to the newest) runs the fast lane."""
    da.fast_lane_works.cache_clear()
    assert da.fast_lane_works(), f"the fast lane is off with pyarrow {pa.__version__}"
    assert da.PageParser().enabled


def test_a_fast_lane_broken_by_the_pyarrow_version_is_said_once_and_reads_stay_exact(monkeypatch):
    # as pyarrow 15 to 17 broke it (no StructType.names): an AttributeError from the decoder
    def broken(*args, **kwargs):
        raise AttributeError("'pyarrow.lib.StructType' object has no attribute 'names'")

    monkeypatch.setattr(da, "_decode_columns", broken)
    da.fast_lane_works.cache_clear()
    try:
        with pytest.warns(xn.FastLaneWarning) as caught:
            first, second = da.PageParser(), da.PageParser()
        assert len(caught) == 1
        message = str(caught[0].message)
        assert f"pyarrow {pa.__version__}" in message and "StructType" in message
        assert "decoded the exact way" in message
        assert not first.enabled and not second.enabled
        body, count = da._canary_page()
        page = first.parse(da.RawItems(pa.py_buffer(body), count), seq=0)
        assert isinstance(page, list) and len(page) == count  # the exact path's items
    finally:
        monkeypatch.undo()
        da.fast_lane_works.cache_clear()
    assert da.fast_lane_works()


def test_the_warnings_floor_is_pyprojects():
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert f"pyarrow>={da.PYARROW_FLOOR}" in project["project"]["dependencies"]
