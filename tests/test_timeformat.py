"""Time ranges on sort keys, ``time_format=``, ``parse_dates=`` and datetimes in writes.

The issue's check: for tables whose sort keys store times as ISO-Z, ISO with
an offset, epoch seconds (N) and epoch milliseconds (N) (plus dates and ISO-Z
with milliseconds), the same Python datetime range returns the same rows as
a hand-written boto3 condition, and as the range computed in Python.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from boto3.dynamodb.conditions import Attr, Key

import xacct_nb as xn
from xacct_nb._timeformat import TimeFormat, check_time_args, to_ns

pytestmark = pytest.mark.sandbox

UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
MINUS5 = dt.timezone(dt.timedelta(hours=-5))
BASE = dt.datetime(2026, 3, 5, 18, 0, 0)  # naive = UTC

#: The events: every 7 minutes and 13 seconds, with milliseconds (kept by the ms tables).
EVENTS = [BASE + dt.timedelta(seconds=i * 433, milliseconds=(i * 137) % 1000) for i in range(30)]
#: Days of the date-only table.
DAYS = [dt.date(2026, 2, 20) + dt.timedelta(days=2 * i) for i in range(20)]


# ---------------------------------------------------------------------------
# Hand encoding (independent of the package)
# ---------------------------------------------------------------------------


def _floor_second(t: dt.datetime) -> dt.datetime:
    return t.replace(microsecond=0)


def stored_instant(fmt: str, i: int) -> dt.datetime:
    """The instant (naive UTC) event ``i`` stands for in a table of ``fmt``."""
    if fmt == "date":
        return dt.datetime.combine(DAYS[i], dt.time())
    t = EVENTS[i]
    return t if fmt in ("epoch-ms", "iso-z.3") else _floor_second(t)


def hand_value(fmt: str, t: dt.datetime) -> Any:
    """``t`` (naive UTC, on the table's grid) as the table stores it, written by hand."""
    if fmt == "iso-z":
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "iso-z.3":
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    if fmt == "iso-offset":
        return (t + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00")
    if fmt == "date":
        return t.strftime("%Y-%m-%d")
    seconds = (t - dt.datetime(1970, 1, 1)) // dt.timedelta(microseconds=1)
    if fmt == "epoch-s":
        return seconds // 10**6
    return seconds // 1000  # epoch-ms


def wire(fmt: str, t: dt.datetime) -> dict[str, str]:
    value = hand_value(fmt, t)
    return {"N": str(value)} if isinstance(value, int) else {"S": value}


#: The table's resolution, as a timedelta.
RESOLUTION = {
    "iso-z": dt.timedelta(seconds=1), "iso-offset": dt.timedelta(seconds=1),
    "epoch-s": dt.timedelta(seconds=1), "epoch-ms": dt.timedelta(milliseconds=1),
    "iso-z.3": dt.timedelta(milliseconds=1), "date": dt.timedelta(days=1),
}
FORMATS = list(RESOLUTION)


def utc_naive(value: Any) -> dt.datetime:
    """A bound as a naive UTC datetime (a date is its midnight)."""
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def floor_to(fmt: str, t: dt.datetime) -> dt.datetime:
    step = RESOLUTION[fmt]
    return dt.datetime(1970, 1, 1) + ((t - dt.datetime(1970, 1, 1)) // step) * step


def ceil_to(fmt: str, t: dt.datetime) -> dt.datetime:
    down = floor_to(fmt, t)
    return down if down == t else down + RESOLUTION[fmt]


def hand_condition(fmt: str, op: str, *bounds: Any) -> Any:
    """The condition an analyst writes by hand for ``(op, *bounds)`` on ``fmt``'s sort key."""
    key = Key("sk")
    ts = [utc_naive(b) for b in bounds]
    if op == "between":
        low, high = ceil_to(fmt, ts[0]), floor_to(fmt, ts[1])
        return key.between(hand_value(fmt, low), hand_value(fmt, high)) if low <= high else None
    (t,) = ts
    if op in (">", ">="):
        up = ceil_to(fmt, t)
        return key.gt(hand_value(fmt, up)) if op == ">" and up == t else key.gte(hand_value(fmt, up))
    if op in ("<", "<="):
        down = floor_to(fmt, t)
        return key.lt(hand_value(fmt, down)) if op == "<" and down == t else key.lte(
            hand_value(fmt, down))
    assert op == "="
    return key.eq(hand_value(fmt, t)) if floor_to(fmt, t) == t else None


def python_ids(fmt: str, op: str, *bounds: Any) -> set[int]:
    ts = [utc_naive(b) for b in bounds]
    n = len(DAYS) if fmt == "date" else len(EVENTS)
    out = set()
    for i in range(n):
        x = stored_instant(fmt, i)
        ok = {
            "between": lambda x: ts[0] <= x <= ts[-1],
            ">": lambda x: x > ts[0], ">=": lambda x: x >= ts[0],
            "<": lambda x: x < ts[0], "<=": lambda x: x <= ts[0], "=": lambda x: x == ts[0],
        }[op](x)
        if ok:
            out.add(i)
    return out


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sb():
    """This module's own sandbox: the tests create tables in it."""
    with xn.sandbox.start() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def admin(sb):
    """Account B's administrator: creates the tables, and reads them with xacct-nb."""
    return sb.admin_session("B")


@pytest.fixture(scope="module")
def ddb(admin):
    return admin.client("dynamodb")


def create(ddb, sort_type: str | None = "S", name: str | None = None) -> str:
    name = name or f"tf-{uuid.uuid4().hex[:12]}"
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}]
    if sort_type:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "sk", "AttributeType": sort_type})
    ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attrs,
                     BillingMode="PAY_PER_REQUEST")
    return name


def put_all(ddb, name: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={
            name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]})


@pytest.fixture(scope="module")
def tables(ddb):
    """One table per format, each holding the same events in partition "p" (and a few in "q")."""
    made: dict[str, str] = {}
    for fmt in FORMATS:
        name = create(ddb, "N" if fmt.startswith("epoch") else "S")
        n = len(DAYS) if fmt == "date" else len(EVENTS)
        items = []
        for i in range(n):
            t = stored_instant(fmt, i)
            items.append({
                "pk": {"S": "p" if i % 5 else "q"}, "sk": wire(fmt, t), "id": {"N": str(i)},
                "note": {"S": f"event {i}"},
                "at": {"S": hand_value("iso-offset", _floor_second(t))},
            })
        put_all(ddb, name, items)
        made[fmt] = name
    yield made
    for name in made.values():
        ddb.delete_table(TableName=name)


def ids_of(df: pd.DataFrame) -> set[int]:
    return {int(v) for v in df["id"]} if len(df) else set()


def boto3_query_ids(admin, name: str, condition: Any, partition: str = "p") -> set[int]:
    if condition is None:
        return set()
    table = admin.resource("dynamodb").Table(name)
    found: set[int] = set()
    kwargs: dict[str, Any] = {"KeyConditionExpression": Key("pk").eq(partition) & condition}
    while True:
        page = table.query(**kwargs)
        found |= {int(item["id"]) for item in page["Items"]}
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def boto3_scan_ids(admin, name: str, condition: Any) -> set[int]:
    if condition is None:
        return set()
    table = admin.resource("dynamodb").Table(name)
    found: set[int] = set()
    kwargs: dict[str, Any] = {"FilterExpression": condition}
    while True:
        page = table.scan(**kwargs)
        found |= {int(item["id"]) for item in page["Items"]}
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def in_partition(fmt: str, ids: set[int], partition: str = "p") -> set[int]:
    return {i for i in ids if (i % 5 != 0) == (partition == "p")}


# ---------------------------------------------------------------------------
# Ranges
# ---------------------------------------------------------------------------

E = EVENTS
RANGES: list[tuple[Any, ...]] = [
    # naive bounds, between two stored values
    ("between", E[3] + dt.timedelta(seconds=10), E[17] - dt.timedelta(seconds=10)),
    # aware, not UTC
    (">=", (E[20] + dt.timedelta(minutes=1)).replace(tzinfo=UTC).astimezone(PLUS2)),
    ("<", (E[8] - dt.timedelta(seconds=30)).replace(tzinfo=UTC).astimezone(MINUS5)),
    # pd.Timestamp and numpy
    ("<=", pd.Timestamp(E[11]) + pd.Timedelta(seconds=3)),
    (">", np.datetime64(E[25].replace(microsecond=0), "s")),
    # microseconds falling between stored values (and inside a stored second)
    (">", E[12].replace(microsecond=0) + dt.timedelta(microseconds=1)),
    (">=", E[12].replace(microsecond=0) + dt.timedelta(microseconds=999_999)),
    ("<", E[12].replace(microsecond=0) + dt.timedelta(microseconds=1)),
    ("<=", E[12].replace(microsecond=0) + dt.timedelta(microseconds=999_999)),
    ("between", E[4].replace(microsecond=0) + dt.timedelta(microseconds=250),
     E[9].replace(microsecond=0) + dt.timedelta(microseconds=750_001)),
    # nothing between: both bounds inside one stored second
    ("between", E[6].replace(microsecond=0) + dt.timedelta(microseconds=1),
     E[6].replace(microsecond=0) + dt.timedelta(microseconds=2)),
]


def exact_ranges(fmt: str) -> list[tuple[Any, ...]]:
    """Bounds exactly equal to stored values of ``fmt``'s table."""
    s = [stored_instant(fmt, i) for i in (2, 7, 13, 21)]
    return [
        ("between", s[0], s[2]), (">", s[1]), (">=", s[1]), ("<", s[3]), ("<=", s[3]),
        ("=", s[2]), ("=", s[2] + dt.timedelta(microseconds=1)),
        ("between", s[1].replace(tzinfo=UTC).astimezone(PLUS2), pd.Timestamp(s[3])),
    ]


def date_ranges() -> list[tuple[Any, ...]]:
    return [
        ("between", dt.date(2026, 3, 1), dt.date(2026, 3, 9)),
        (">=", dt.date(2026, 3, 4)), ("<", pd.Timestamp("2026-03-04T00:00:01")),
        ("between", dt.datetime(2026, 2, 24, 12), dt.datetime(2026, 3, 2, 0, 0, 0, 1)),
        ("between", dt.datetime(2026, 2, 24, 12), dt.datetime(2026, 2, 24, 13)),
        ("=", dt.date(2026, 3, 4)), ("=", dt.datetime(2026, 3, 4, 0, 0, 1)),
        (">", dt.datetime(2026, 3, 4, 23, 59, 59, 999999, tzinfo=UTC).astimezone(MINUS5)),
    ]


def ranges_for(fmt: str) -> list[tuple[Any, ...]]:
    return date_ranges() if fmt == "date" else RANGES + exact_ranges(fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_datetime_range_returns_the_same_rows(admin, tables, fmt):
    name = tables[fmt]
    for rng in ranges_for(fmt):
        op, *bounds = rng
        expected = in_partition(fmt, python_ids(fmt, op, *bounds))
        hand = boto3_query_ids(admin, name, hand_condition(fmt, op, *bounds))
        got = ids_of(xn.read_query(admin, name, "p", sort=rng))
        assert got == expected == hand, (fmt, rng)
        if op == "=":
            continue
        # The same range as a boto3 Key(...) condition.
        key = {"between": Key("sk").between, ">": Key("sk").gt, ">=": Key("sk").gte,
               "<": Key("sk").lt, "<=": Key("sk").lte}[op](*bounds)
        assert ids_of(xn.read_query(admin, name, "p", sort=key)) == expected, (fmt, rng)


@pytest.mark.parametrize("fmt", FORMATS)
def test_scan_filters_with_datetimes(admin, tables, fmt):
    name = tables[fmt]
    for rng in ranges_for(fmt):
        op, *bounds = rng
        expected = python_ids(fmt, op, *bounds)
        hand_key = hand_condition(fmt, op, *bounds)
        hand = None
        if hand_key is not None:  # the same comparison, as a filter
            expr = hand_key.get_expression()
            hand = getattr(Attr("sk"), {"BETWEEN": "between", "=": "eq", ">": "gt", ">=": "gte",
                                        "<": "lt", "<=": "lte"}[expr["operator"]])(
                *expr["values"][1:])
        attr = {"between": Attr("sk").between, ">": Attr("sk").gt, ">=": Attr("sk").gte,
                "<": Attr("sk").lt, "<=": Attr("sk").lte, "=": Attr("sk").eq}[op]
        got = ids_of(xn.read_scan(admin, name, filter=attr(*bounds)))
        assert got == expected == boto3_scan_ids(admin, name, hand), (fmt, rng)


def test_filters_nest_and_mix_values(admin, tables):
    name = tables["epoch-s"]
    a, b = E[5] + dt.timedelta(microseconds=5), E[15]
    cond = (Attr("sk").between(a, b) & ~Attr("sk").eq(stored_instant("epoch-s", 10))) | Attr(
        "sk").is_in([stored_instant("epoch-s", 25), pd.Timestamp(stored_instant("epoch-s", 26))])
    expected = (python_ids("epoch-s", "between", a, b) - {10}) | {25, 26}
    assert ids_of(xn.read_scan(admin, name, filter=cond)) == expected
    # A datetime mixed with a plain value of the key's own kind: the plain value stays.
    upper = hand_value("epoch-s", stored_instant("epoch-s", 15))
    got = ids_of(xn.read_query(admin, name, "p", sort=("between", a, upper)))
    assert got == in_partition("epoch-s", python_ids("epoch-s", "between", a, b))
    # A filter on a non-key attribute stored with an offset ("at").
    t = (E[22] + dt.timedelta(seconds=1)).replace(tzinfo=UTC)
    df = xn.read_scan(admin, tables["iso-z"], filter=Attr("at").gte(t))
    assert ids_of(df) == {i for i in range(len(E)) if _floor_second(E[i]) >= t.replace(tzinfo=None)}
    assert df.attrs["time_format"] == {"at": "iso-offset+02:00"}


def test_detected_formats_are_in_attrs(admin, tables):
    expected = {"iso-z": "iso-z", "iso-z.3": "iso-z.3", "iso-offset": "iso-offset+02:00",
                "date": "date", "epoch-s": "epoch-s", "epoch-ms": "epoch-ms"}
    for fmt, name in tables.items():
        df = xn.read_query(admin, name, "p", sort=(">=", dt.date(2026, 1, 1)))
        assert df.attrs["time_format"] == {"sk": expected[fmt]}
        assert TimeFormat.named(expected[fmt]).name == expected[fmt]  # names round-trip
    assert "time_format" not in xn.read_query(admin, tables["iso-z"], "p").attrs


def test_begins_with_a_date(admin, tables):
    day = dt.date(2026, 3, 5)
    for fmt in ("iso-z", "iso-offset", "iso-z.3", "date"):
        got = ids_of(xn.read_query(admin, tables[fmt], "p", sort=("begins_with", day)))
        hand = boto3_query_ids(admin, tables[fmt], Key("sk").begins_with("2026-03-05"))
        assert got == hand
    with pytest.raises(xn.InvalidArgumentError, match="numbers"):
        xn.read_query(admin, tables["epoch-s"], "p", sort=("begins_with", day))
    with pytest.raises(xn.InvalidArgumentError, match="takes a date"):
        xn.read_query(admin, tables["iso-z"], "p", sort=("begins_with", dt.datetime(2026, 3, 5)))


# ---------------------------------------------------------------------------
# Requests: detection only when a condition holds a datetime, cached
# ---------------------------------------------------------------------------


class Calls:
    def __init__(self, session) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        session.events.register("before-call.dynamodb", self._record)

    def _record(self, model, params, **_: Any) -> None:
        body = params.get("body") or b"{}"
        self.calls.append((model.name, json.loads(body)))

    def names(self, *operations: str) -> list[str]:
        return [name for name, _ in self.calls if name in operations]

    def clear(self) -> None:
        self.calls.clear()


def test_detection_requests(sb, tables):
    session = sb.admin_session("B")  # a fresh session: nothing detected yet
    calls = Calls(session)
    name = tables["epoch-ms"]
    xn.read_query(session, name, "p", sort=(">=", 1772740500000))
    assert calls.names("Query", "Scan") == ["Query"]  # no datetime: no extra request
    calls.clear()
    xn.read_query(session, name, "p", filter=Attr("note").begins_with("event"))
    assert calls.names("Query", "Scan") == ["Query"]
    calls.clear()
    df = xn.read_query(session, name, "p", sort=(">=", E[10]))
    assert calls.names("Query", "Scan") == ["Query", "Query"]
    sample = calls.calls[[n for n, _ in calls.calls].index("Query")][1]
    assert sample["Limit"] == 3 and sample["ProjectionExpression"] == "#tf"
    assert df.attrs["count"] == len(in_partition("epoch-ms", python_ids("epoch-ms", ">=", E[10])))
    assert df.attrs["scanned_count"] == df.attrs["count"]  # the sample counts in nothing
    calls.clear()
    xn.read_query(session, name, "p", sort=("<", E[10]))
    assert calls.names("Query", "Scan") == ["Query"]  # cached per session, table, attribute
    calls.clear()
    xn.read_scan(session, tables["iso-z"], filter=Attr("sk").lt(E[3]))
    scans = [p for n, p in calls.calls if n == "Scan"]
    assert len(scans) == 2 and scans[0]["Limit"] == 3
    calls.clear()
    xn.read_query(session, tables["iso-z"], "p", sort=("<", E[3]), time_format="iso-z")
    assert calls.names("Query", "Scan") == ["Query"]  # given: nothing to detect
    # An empty partition: sampled by a Scan, once.
    calls.clear()
    assert len(xn.read_query(session, tables["iso-offset"], "nobody", sort=(">", E[1]))) == 0
    assert calls.names("Query", "Scan") == ["Query", "Scan", "Query"]


def test_empty_table_falls_back_to_the_default(admin, ddb):
    name = create(ddb, "N")
    try:
        df = xn.read_query(admin, name, "p", sort=("between", E[0], E[5]))
        assert len(df) == 0 and df.attrs["time_format"] == {"sk": "epoch-s"}
    finally:
        ddb.delete_table(TableName=name)


def test_keys_that_are_not_times(admin, ddb):
    name = create(ddb, "S")
    try:
        put_all(ddb, name, [{"pk": {"S": "p"}, "sk": {"S": f"EV#{t:%Y%m%d%H%M%S}"},
                             "id": {"N": str(i)}} for i, t in enumerate(EVENTS)])
        with pytest.raises(xn.InvalidArgumentError, match="does not hold times.*time_format="):
            xn.read_query(admin, name, "p", sort=(">=", E[10]))
        with pytest.raises(xn.InvalidArgumentError, match="does not hold times"):
            xn.read_scan(admin, name, filter=Attr("sk").lt(E[10]))
        # time_format= says how: a strftime pattern.
        got = xn.read_query(admin, name, "p", sort=("between", E[3], E[9]),
                            time_format="EV#%Y%m%d%H%M%S")
        assert ids_of(got) == python_ids("iso-z", "between", E[3], E[9])
        assert got.attrs["time_format"] == {"sk": "EV#%Y%m%d%H%M%S"}
        parsed = xn.read_query(admin, name, "p", time_format="EV#%Y%m%d%H%M%S", parse_dates="sk")
        assert parsed["sk"].iloc[0] == pd.Timestamp(_floor_second(E[0]), tz="UTC")
    finally:
        ddb.delete_table(TableName=name)


def test_time_format_overrides_detection(admin, tables):
    # The iso-z.3 table read as whole seconds: the bounds lose their milliseconds.
    name = tables["iso-z.3"]
    t = E[12]
    exact = ids_of(xn.read_query(admin, name, "p", sort=(">=", t)))
    assert exact == in_partition("iso-z.3", python_ids("iso-z.3", ">=", t))
    forced = ids_of(xn.read_query(admin, name, "p", sort=(">=", t), time_format="iso-z"))
    hand = boto3_query_ids(admin, name, Key("sk").gte(hand_value("iso-z", ceil_to("iso-z", t))))
    assert forced == hand
    # A dict names the attribute.
    got = xn.read_query(admin, name, "p", sort=(">=", t), time_format={"sk": "iso-z.3"})
    assert ids_of(got) == exact


@pytest.mark.parametrize("bad", ["unix", "iso-z.12", "iso-offset+25:00", 5, "", {"sk": "nope"}])
def test_bad_time_format(admin, tables, bad):
    with pytest.raises(xn.InvalidArgumentError, match="time_format"):
        xn.read_query(admin, tables["iso-z"], "p", time_format=bad)
    with pytest.raises(xn.InvalidArgumentError, match="time_format"):
        check_time_args(bad, None)


@pytest.mark.parametrize("bad", [5, [], ["ok", 3], {"a": 1}])
def test_bad_parse_dates(admin, tables, bad):
    with pytest.raises(xn.InvalidArgumentError, match="parse_dates"):
        xn.read_scan(admin, tables["iso-z"], parse_dates=bad)


# ---------------------------------------------------------------------------
# parse_dates
# ---------------------------------------------------------------------------


def test_parse_dates_true(admin, tables):
    for fmt in FORMATS:
        df = xn.read_query(admin, tables[fmt], "p", parse_dates=True)
        assert str(df["sk"].dtype) == "datetime64[ns, UTC]", fmt
        expected = [pd.Timestamp(stored_instant(fmt, int(i)), tz="UTC") for i in df["id"]]
        assert df["sk"].tolist() == expected, fmt
        assert str(df["at"].dtype) == "datetime64[ns, UTC]"  # an ISO string column
        assert df["note"].dtype != "datetime64[ns, UTC]"  # not ISO: left alone
        assert df["pk"].tolist()[0] == "p"


def test_parse_dates_names_and_chunks(admin, tables):
    df = xn.read_query(admin, tables["epoch-ms"], "p", parse_dates=["sk", "at"])
    assert df["sk"].iloc[0] == pd.Timestamp(stored_instant("epoch-ms", int(df["id"].iloc[0])),
                                            tz="UTC")
    assert df["at"].iloc[0] == pd.Timestamp(_floor_second(E[int(df["id"].iloc[0])]), tz="UTC")
    one = xn.read_scan(admin, tables["iso-z"], parse_dates="at")
    assert str(one["at"].dtype) == "datetime64[ns, UTC]" and one["sk"].dtype != one["at"].dtype
    chunks = list(xn.read_scan(admin, tables["epoch-s"], parse_dates=True, chunksize=7))
    assert len(chunks) > 1
    for chunk in chunks:
        assert str(chunk["sk"].dtype) == "datetime64[ns, UTC]"
    # A named numeric column without a known format: seconds or milliseconds by magnitude.
    items = xn.read_items(admin, tables["epoch-ms"], [{"pk": "p", "sk": 1772734033137}],
                          parse_dates=["sk"])
    assert items["sk"].iloc[0] == pd.Timestamp("2026-03-05T18:07:13.137", tz="UTC")


def test_parse_dates_refuses_a_column_that_is_not_times(admin, tables):
    with pytest.raises(xn.InvalidArgumentError, match=r"'note'.*'event \d+'"):
        xn.read_query(admin, tables["iso-z"], "p", parse_dates=["at", "note"])
    with pytest.raises(xn.InvalidArgumentError, match="'missing'"):
        xn.read_query(admin, tables["iso-z"], "p", parse_dates=["missing"])


# ---------------------------------------------------------------------------
# write_frame
# ---------------------------------------------------------------------------


def raw(ddb, name: str) -> list[dict[str, Any]]:
    return ddb.scan(TableName=name, ConsistentRead=True)["Items"]


def test_write_frame_uses_the_tables_format(admin, ddb):
    ms = create(ddb, "N")
    offset = create(ddb, "S")
    try:
        put_all(ddb, ms, [{"pk": {"S": "p"}, "sk": {"N": "1772740500123"}}])
        put_all(ddb, offset, [{"pk": {"S": "p"}, "sk": {"S": "2026-03-05T21:55:00.000+02:00"}}])
        times = pd.to_datetime(["2026-03-06T10:00:00.250Z", "2026-03-06T11:00:00Z"], utc=True,
                               format="ISO8601")
        df = pd.DataFrame({"pk": ["p", "p"], "sk": times, "when": times})
        report = xn.write_frame(admin, ms, df)
        assert report.ok
        stored = {it["sk"]["N"]: it for it in raw(ddb, ms)}
        assert {"1772791200250", "1772794800000"} <= set(stored)
        assert stored["1772791200250"]["when"] == {"S": "2026-03-06T10:00:00.250000Z"}  # not a key
        # Objects (datetime, Timestamp) too, in the offset form and the table's precision.
        objs = pd.DataFrame({"pk": ["p", "p"], "sk": [dt.datetime(2026, 3, 6, 10, 0, 0, 250000),
                                                       pd.Timestamp("2026-03-06T11:00:00Z")]})
        assert xn.write_frame(admin, offset, objs).ok
        assert {it["sk"]["S"] for it in raw(ddb, offset)} == {
            "2026-03-05T21:55:00.000+02:00", "2026-03-06T12:00:00.250+02:00",
            "2026-03-06T13:00:00.000+02:00"}
        # What was written is found again by the same datetimes.
        got = xn.read_query(admin, offset, "p", sort=("between", objs["sk"][0], objs["sk"][1]))
        assert len(got) == 2
    finally:
        ddb.delete_table(TableName=ms)
        ddb.delete_table(TableName=offset)


def test_write_frame_defaults_and_time_format(admin, ddb):
    s_table, n_table, forced = create(ddb, "S"), create(ddb, "N"), create(ddb, "N")
    try:
        df = pd.DataFrame({"pk": ["p"], "sk": [pd.Timestamp("2026-03-06T10:00:00")]})
        assert xn.write_frame(admin, s_table, df).ok
        assert raw(ddb, s_table)[0]["sk"] == {"S": "2026-03-06T10:00:00Z"}
        assert xn.write_frame(admin, n_table, df).ok
        assert raw(ddb, n_table)[0]["sk"] == {"N": "1772791200"}
        assert xn.write_frame(admin, forced, df, time_format="epoch-ms").ok
        assert raw(ddb, forced)[0]["sk"] == {"N": "1772791200000"}
        with pytest.raises(xn.InvalidArgumentError, match="time_format"):
            xn.write_frame(admin, forced, df, time_format="seconds")
        # A time finer than the stored format: that row fails, the others are written.
        fine = pd.DataFrame({"pk": ["p", "p"], "sk": pd.to_datetime(
            ["2026-03-07T10:00:00", "2026-03-07T10:00:00.5"], format="ISO8601")})
        report = xn.write_frame(admin, s_table, fine)
        assert report.rows_written == 1 and "finer" in report.failed["_error"].iloc[0]
    finally:
        for name in (s_table, n_table, forced):
            ddb.delete_table(TableName=name)


# ---------------------------------------------------------------------------
# Units
# ---------------------------------------------------------------------------


def test_formats_encode_and_round():
    t = dt.datetime(2026, 3, 5, 19, 55, 0, 123456)
    ns = to_ns(t)
    assert TimeFormat.named("iso-z").text(ns) == "2026-03-05T19:55:00Z"
    assert TimeFormat.named("iso-z.6").text(ns) == "2026-03-05T19:55:00.123456Z"
    assert TimeFormat.named("iso-offset.3-05:00").text(ns) == "2026-03-05T14:55:00.123-05:00"
    assert TimeFormat.named("epoch-s").value(ns) == Decimal("1772740500.123456")
    assert TimeFormat.named("epoch-ms").value(ns) == Decimal("1772740500123.456")
    fmt = TimeFormat.named("iso-z")
    assert fmt.text(fmt.ceil(ns)) == "2026-03-05T19:55:01Z"
    assert fmt.text(fmt.floor(ns)) == "2026-03-05T19:55:00Z"
    assert to_ns(np.datetime64("2026-03-05T19:55:00.123456789")) == to_ns(
        pd.Timestamp("2026-03-05T19:55:00.123456789"))
    assert to_ns(dt.date(1, 1, 1)) < 0 and TimeFormat.named("date").text(to_ns(dt.date(1, 1, 1))) \
        == "0001-01-01"


def test_the_reader_role_on_the_demo_table_and_its_index(sb):
    reader = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                            source_session=sb.analyst_session())
    calls = Calls(reader)
    a = dt.datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=PLUS2)
    b = pd.Timestamp("2026-06-01")
    hand = Key("order_ts").between("2026-03-01T10:00:01Z", "2026-06-01T00:00:00Z")
    table = reader.resource("dynamodb").Table(sb.table)
    expected = {(it["customer_id"], it["order_ts"]) for it in table.query(
        IndexName="status-index", KeyConditionExpression=Key("status").eq("shipped") & hand,
        Limit=1000)["Items"]}
    calls.clear()
    df = xn.read_query(reader, sb.table, "shipped", index="status-index",
                       sort=("between", a, b), parse_dates=True)
    sample = [p for n, p in calls.calls if n == "Query"][0]
    assert sample.get("IndexName") == "status-index" and sample["Limit"] == 3
    assert df.attrs["time_format"] == {"order_ts": "iso-z"}
    assert str(df["order_ts"].dtype) == "datetime64[ns, UTC]"
    got = {(c, t.strftime("%Y-%m-%dT%H:%M:%SZ")) for c, t in zip(
        df["customer_id"], df["order_ts"], strict=True)}
    assert got == expected and got
    with pytest.raises(xn.InvalidArgumentError, match="does not hold times"):
        xn.read_scan(reader, sb.table, filter=Attr("customer_id").gt(a))


def test_bare_values_and_default_format(admin, tables):
    name = tables["iso-z"]
    t = stored_instant("iso-z", 11)
    assert ids_of(xn.read_query(admin, name, "p", sort=t)) == {11}
    assert ids_of(xn.read_query(admin, name, "p", sort=np.datetime64(t))) == {11}
    got = xn.read_query(admin, name, "p", sort=(">=", t), time_format="default")
    assert ids_of(got) == in_partition("iso-z", python_ids("iso-z", ">=", t))


@pytest.mark.parametrize("name", ["iso-z", "iso-z.3", "iso-offset.6-03:30", "date", "epoch-s",
                                  "epoch-ms", "default", "iso"])
def test_a_datetime64_column_is_written_as_one_by_one(name):
    from xacct_nb._timeformat import encode_time_cells

    rng = np.random.default_rng(7)
    ticks = rng.integers(-(2**62), 2**62, size=300)
    ticks[::3] -= ticks[::3] % 10**9  # whole seconds
    ticks[::5] -= ticks[::5] % (86400 * 10**9)  # midnights
    column = pd.Series(ticks.view("datetime64[ns]"))
    column[7] = pd.NaT
    fmt = TimeFormat.named(name)
    fast = encode_time_cells(column, fmt, "sk")
    slow = encode_time_cells(column.astype(object), fmt, "sk")
    assert fast == slow
    assert fast[0][0] is not None and fast[0][7] is None


def test_parse_without_a_table():
    from xacct_nb._timeformat import TimeContext

    df = pd.DataFrame({"a": ["2026-03-05T19:55:00Z", None], "b": ["x", "2026-03-05"],
                       "n": [1772740500, 1772740560], "d": ["2026-03-05", "2026-03-06"]})
    out = TimeContext(None, None, None, parse_dates=True).parse(df.copy())
    assert str(out["a"].dtype) == "datetime64[ns, UTC]" and out["a"].isna().tolist() == [False, True]
    assert str(out["d"].dtype) == "datetime64[ns, UTC]"
    assert out["b"].tolist() == ["x", "2026-03-05"] and out["n"].dtype == np.int64
    named = TimeContext(None, None, None, parse_dates=["n"]).parse(iter([df.copy()]))
    assert next(named)["n"].tolist() == [pd.Timestamp("2026-03-05T19:55:00Z"),
                                         pd.Timestamp("2026-03-05T19:56:00Z")]
    with pytest.raises(xn.InvalidArgumentError, match="'b'.*'x'"):
        TimeContext(None, None, None, parse_dates="b").parse(df.copy())
