"""The opt-in result cache (``cache=`` on the readers, ``xn.cache``).

Against the shared sandbox over HTTP: hits cost nothing and give the same
frame back; anything that changes the answer (role, request, ``numbers=``,
``flatten=``, age) misses. Offline: the encoding gives back every value of
the type contract exactly, or refuses ("not cacheable"), never a wrong value.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import stat
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from boto3.dynamodb.conditions import Attr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from versions import STR

import xacct_nb as xn
from xacct_nb import _cache
from xacct_nb._decode import FrameBuilder

CACHE_ATTRS = ("cache", "cache_age", "cache_key", "cached_attrs")
COSTS = ("consumed_capacity", "pages", "resumed", "retries")


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test has its own, empty cache folder (made by the first store)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("XACCT_CACHE_DIR", str(folder))
    return folder


def entry_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet")) if folder.exists() else []


def without_cache_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in CACHE_ATTRS}


def assert_hit(first: pd.DataFrame, again: pd.DataFrame) -> None:
    """``again`` is a hit that gives back ``first`` exactly, at no cost."""
    assert first.attrs["cache"] == "stored"
    assert first.attrs["cache_age"] == 0.0
    assert again.attrs["cache"] == "hit"
    assert again.attrs["cache_key"] == first.attrs["cache_key"]
    assert 0.0 <= again.attrs["cache_age"] < 60
    assert again.attrs["consumed_capacity"] == 0.0
    assert again.attrs["pages"] == 0
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert list(first.dtypes) == list(again.dtypes)
    original = without_cache_attrs(first.attrs)
    assert _cache.same_value(again.attrs["cached_attrs"], original)
    # What describes the rows stays; only the costs are zero.
    assert {k: v for k, v in without_cache_attrs(again.attrs).items() if k not in COSTS} == {
        k: v for k, v in original.items() if k not in COSTS}
    for col in [c for c in first.columns if pd.api.types.is_object_dtype(first[c])]:
        assert all(_cache.same_value(a, b) for a, b in zip(first[col], again[col], strict=True))


# -- cache= and chunksize= -----------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, 0.0, float("nan"), "", "1y", "soon", "h", "-1h",
                                   "10", [], {}, object(), dt.timedelta(0),
                                   dt.timedelta(seconds=-5)])
def test_bad_cache_values_are_refused_before_any_request(value: Any) -> None:
    # No session is needed: the check comes first.
    with pytest.raises(xn.InvalidArgumentError, match="'30s', '15m', '1h' or '2d'"):
        _cache.check_cache(value)


@pytest.mark.parametrize(("value", "seconds"), [
    (None, None), (False, None), (True, math.inf), (1, 1.0), (0.5, 0.5), ("30s", 30.0),
    ("15m", 900.0), ("1h", 3600.0), ("2d", 172800.0), (" 1.5 H ", 5400.0),
    (dt.timedelta(minutes=2), 120.0), (np.float64(2.5), 2.5),
])
def test_good_cache_values(value: Any, seconds: float | None) -> None:
    assert _cache.check_cache(value) == seconds


def test_readers_refuse_bad_cache_values(sandbox, reader) -> None:
    for call in (lambda: xn.read_scan(reader, sandbox.table, cache="forever"),
                 lambda: xn.read_query(reader, sandbox.table, "C-0001", cache=0),
                 lambda: xn.read_items(reader, sandbox.table, [("C-0001", "x")], cache=[])):
        with pytest.raises(xn.InvalidArgumentError, match="cache="):
            call()


def test_chunksize_with_cache_is_refused(sandbox, reader, cache_dir: Path) -> None:
    with pytest.raises(xn.InvalidArgumentError, match="chunksize="):
        xn.read_scan(reader, sandbox.table, chunksize=100, cache=True)
    with pytest.raises(xn.InvalidArgumentError, match="chunksize="):
        xn.read_query(reader, sandbox.table, "C-0001", chunksize=10, cache="1h")
    # cache=None / False with chunksize= is the ordinary streamed read.
    for off in (None, False):
        chunks = list(xn.read_query(reader, sandbox.table, "C-0001", chunksize=10, cache=off))
        assert chunks and "cache" not in chunks[0].attrs
    assert not cache_dir.exists()


def test_cache_off_touches_nothing(sandbox, reader, cache_dir: Path, monkeypatch) -> None:
    def boom(session: Any) -> Any:
        raise AssertionError("no identity look-up with the cache off")

    monkeypatch.setattr(_cache, "caller_identity", boom)
    df = xn.read_query(reader, sandbox.table, "C-0001")
    assert not any(k in df.attrs for k in CACHE_ATTRS)
    assert not cache_dir.exists()


# -- hits and misses, over HTTP -------------------------------------------------------------


def test_second_scan_is_a_free_exact_hit(sandbox, reader, cache_dir: Path) -> None:
    first = xn.read_scan(reader, sandbox.table, cache=True)
    assert first.attrs["consumed_capacity"] > 0
    again = xn.read_scan(reader, sandbox.table, cache=True)
    assert_hit(first, again)
    assert len(again) == sandbox.item_count
    # The demo table's object columns come back with their Python types.
    assert again["ledger_ref"].map(type).eq(int).all()
    assert {type(v) for v in again["tags"]} <= {set, type(None)}
    assert len(entry_files(cache_dir)) == 1
    plain = xn.read_scan(reader, sandbox.table)
    pd.testing.assert_frame_equal(plain, again, check_exact=True)


def test_query_hit_and_max_age_forms(sandbox, reader) -> None:
    first = xn.read_query(reader, sandbox.table, "C-0001", sort=("begins_with", "2026-0"),
                          cache="1h")
    for age in (True, 3600, "2d", dt.timedelta(hours=1)):
        again = xn.read_query(reader, sandbox.table, "C-0001", sort=("begins_with", "2026-0"),
                              cache=age)
        assert_hit(first, again)


def test_query_of_many_partitions_hits(sandbox, reader) -> None:
    first = xn.read_query(reader, sandbox.table, ["C-0002", "C-0001"], cache=True)
    again = xn.read_query(reader, sandbox.table, ["C-0002", "C-0001"], cache=True)
    assert_hit(first, again)
    assert again.attrs["partitions"] == 2
    other_order = xn.read_query(reader, sandbox.table, ["C-0001", "C-0002"], cache=True)
    assert other_order.attrs["cache"] == "stored"


def test_read_items_hit_keeps_missing_keys(sandbox, reader) -> None:
    some = xn.read_query(reader, sandbox.table, "C-0003", limit=3)
    keys = [(r.customer_id, r.order_ts) for r in some.itertuples()] + [("C-0003", "no-such")]
    first = xn.read_items(reader, sandbox.table, keys, cache=True)
    assert first.attrs["missing_keys"] == [{"customer_id": "C-0003", "order_ts": "no-such"}]
    again = xn.read_items(reader, sandbox.table, keys, cache=True)
    assert_hit(first, again)
    assert again.attrs["missing_keys"] == first.attrs["missing_keys"]
    assert again.attrs["found"] == 3
    fewer = xn.read_items(reader, sandbox.table, keys[:2], cache=True)
    assert fewer.attrs["cache"] == "stored"


@pytest.mark.parametrize("change", [
    {"numbers": "decimal"}, {"numbers": "float"}, {"flatten": True},
    {"columns": ["customer_id", "order_ts", "total"]}, {"filter": Attr("total").gt(100)},
    {"limit": 5}, {"consistent": True}, {"ascending": False}, {"index": "status-index"},
])
def test_anything_that_changes_the_answer_misses(sandbox, reader, change) -> None:
    base: dict[str, Any] = {"partition": "C-0001"}
    if "index" in change:
        change = {"index": sandbox.index}
        base = {"partition": "shipped"}
    first = xn.read_query(reader, sandbox.table, base["partition"], cache=True)
    assert first.attrs["cache"] == "stored"
    other = xn.read_query(reader, sandbox.table, base["partition"], cache=True, **change)
    assert other.attrs["cache"] == "stored", change
    assert other.attrs["cache_key"] != first.attrs["cache_key"]
    assert other.attrs["consumed_capacity"] > 0
    # ...and each hits itself.
    assert xn.read_query(reader, sandbox.table, base["partition"], cache=True,
                         **change).attrs["cache"] == "hit"


def test_scan_segments_and_decimal_numbers_hit(sandbox, reader) -> None:
    first = xn.read_scan(reader, sandbox.table, segments=3, numbers="decimal", flatten=True,
                         cache=True)
    again = xn.read_scan(reader, sandbox.table, segments=3, numbers="decimal", flatten=True,
                         cache=True)
    assert_hit(first, again)
    assert any("." in str(c) for c in again.columns)  # flatten's dotted names
    assert xn.read_scan(reader, sandbox.table, segments=2, numbers="decimal", flatten=True,
                        cache=True).attrs["cache"] == "stored"


def test_another_role_misses_and_the_same_role_hits(sandbox, reader) -> None:
    first = xn.read_query(reader, sandbox.table, sandbox.writer_partitions[0], cache=True)
    writer = xn.assume_role(sandbox.writer_role_arn, external_id=sandbox.external_id,
                            source_session=sandbox.analyst_session())
    other = xn.read_query(writer, sandbox.table, sandbox.writer_partitions[0], cache=True)
    assert other.attrs["cache"] == "stored"
    assert other.attrs["cache_key"] != first.attrs["cache_key"]
    # The reader role assumed again, under another session name: the same role, a hit.
    again = xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                           source_session=sandbox.analyst_session(), session_name="someone-else")
    assert xn.whoami(again)["Arn"] != xn.whoami(reader)["Arn"]
    assert_hit(first, xn.read_query(again, sandbox.table, sandbox.writer_partitions[0],
                                    cache=True))
    principals = set(xn.cache.entries()["principal"])
    assert principals == {_cache.principal_of(xn.whoami(reader)["Arn"]),
                          _cache.principal_of(xn.whoami(writer)["Arn"])}


def test_one_identity_call_per_session(sandbox, reader, monkeypatch) -> None:
    session = xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                             source_session=sandbox.analyst_session())
    calls = []
    real = _cache.whoami

    def counting(s: Any) -> Any:
        calls.append(s)
        return real(s)

    monkeypatch.setattr(_cache, "whoami", counting)
    for partition in ("C-0001", "C-0002", "C-0001"):
        xn.read_query(session, sandbox.table, partition, cache=True)
    assert len(calls) == 1


def set_created(path: Path, created: float) -> None:
    """Move an entry's recorded creation time (rewriting its metadata only)."""
    table = pq.read_table(path)
    metadata = dict(table.schema.metadata)
    meta = json.loads(metadata[_cache.META_KEY])
    meta["created"] = created
    metadata[_cache.META_KEY] = json.dumps(meta).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)


def test_an_entry_older_than_its_max_age_misses_and_is_pruned(sandbox, reader,
                                                              cache_dir: Path) -> None:
    first = xn.read_query(reader, sandbox.table, "C-0004", cache="1h")
    (path,) = entry_files(cache_dir)
    assert first.attrs["cache"] == "stored"
    set_created(path, time.time() - 7200)
    # Within a longer max age it is still a hit, and says how old it is.
    older = xn.read_query(reader, sandbox.table, "C-0004", cache="3h")
    assert older.attrs["cache"] == "hit"
    assert 7190 < older.attrs["cache_age"] < 7300
    stale = xn.read_query(reader, sandbox.table, "C-0004", cache="1h")
    assert stale.attrs["cache"] == "stored"
    assert stale.attrs["consumed_capacity"] > 0
    (path,) = entry_files(cache_dir)  # the stale entry was replaced by a fresh one
    assert xn.read_query(reader, sandbox.table, "C-0004", cache=60).attrs["cache"] == "hit"


def test_a_corrupt_entry_is_a_miss_and_is_removed(sandbox, reader, cache_dir: Path) -> None:
    xn.read_query(reader, sandbox.table, "C-0005", cache=True)
    (path,) = entry_files(cache_dir)
    for garbage in (b"", b"PAR1 not parquet at all", path.read_bytes()[:-100]):
        path.write_bytes(garbage)
        assert xn.cache.info().unreadable == 1
        df = xn.read_query(reader, sandbox.table, "C-0005", cache=True)
        assert df.attrs["cache"] == "stored"
        assert df.attrs["consumed_capacity"] > 0
        assert xn.cache.info().unreadable == 0
    # An entry whose metadata names another key (a copied file) is not served either.
    other = xn.read_query(reader, sandbox.table, "C-0006", cache=True)
    (other_path,) = [p for p in entry_files(cache_dir) if p != path]
    path.write_bytes(other_path.read_bytes())
    df = xn.read_query(reader, sandbox.table, "C-0005", cache=True)
    assert df.attrs["cache"] == "stored"
    assert set(df["customer_id"]) == {"C-0005"}
    assert other.attrs["cache"] == "stored"


def test_a_read_that_raises_stores_nothing(sandbox, reader, cache_dir: Path) -> None:
    with pytest.raises(xn.AccessDeniedError):  # the role may not read that table
        xn.read_query(reader, "NoSuchTable", "C-0001", cache=True,
                      key_schema=("customer_id", "order_ts"))
    with pytest.raises(RuntimeError):
        _cache.cached_read(reader, operation="Scan", table=sandbox.table, request={},
                           numbers="auto", flatten=False, cache=True,
                           run=lambda: (_ for _ in ()).throw(RuntimeError("cut")))
    assert entry_files(cache_dir) == []


def test_what_cannot_round_trip_is_not_cached(reader, sandbox, cache_dir: Path) -> None:
    frame = pd.DataFrame({"a": pd.Series([np.int64(1), 2], dtype=object)})
    df = _cache.cached_read(reader, operation="Scan", table=sandbox.table, request={"x": 1},
                            numbers="auto", flatten=False, cache=True, run=frame.copy)
    assert df.attrs["cache"].startswith("not cacheable: column 'a' holds a numpy.int64")
    assert df.attrs["cache_age"] is None
    assert entry_files(cache_dir) == []
    assert not list(cache_dir.glob(".*"))  # no temporary file left


def test_unwritable_folder_is_not_an_error(reader, sandbox, tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("XACCT_CACHE_DIR", str(blocker / "cache"))
    df = xn.read_query(reader, sandbox.table, "C-0001", cache=True)
    assert df.attrs["cache"].startswith("not stored: ")
    assert len(df) > 0


def test_concurrent_stores_leave_one_whole_entry(reader, sandbox, cache_dir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    frame = pd.DataFrame({"a": pd.Series([{"x": Decimal("1.5")}] * 500, dtype=object),
                          "b": np.arange(500)})

    def read(_: int) -> str:
        df = _cache.cached_read(reader, operation="Scan", table=sandbox.table,
                                request={"same": True}, numbers="auto", flatten=False,
                                cache=True, run=frame.copy)
        outcome = df.attrs["cache"]
        df.attrs = without_cache_attrs(df.attrs)
        assert_exact(frame, df)
        return outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(read, range(16)))
    assert set(outcomes) <= {"stored", "hit"} and "stored" in outcomes
    assert len(entry_files(cache_dir)) == 1
    assert [p.name for p in cache_dir.iterdir()] == [entry_files(cache_dir)[0].name]


def test_unknown_identity_reads_without_the_cache(reader, sandbox, cache_dir, monkeypatch) -> None:
    def down(session: Any) -> Any:
        raise xn.EndpointError("STS is down")

    monkeypatch.setattr(_cache, "caller_identity", down)
    df = xn.read_query(reader, sandbox.table, "C-0001", cache=True)
    assert df.attrs["cache"] == "not cacheable: the caller's identity is unknown (EndpointError)"
    assert len(df) > 0 and not cache_dir.exists()


# -- files on disk --------------------------------------------------------------------------


def test_files_are_private_and_hold_no_secret(sandbox, reader, cache_dir: Path) -> None:
    xn.read_query(reader, sandbox.table, "C-0001", cache=True)
    xn.read_items(reader, sandbox.table, [("C-0001", "x")], cache=True)
    xn.read_scan(reader, sandbox.table, limit=10, cache=True)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    files = list(cache_dir.iterdir())
    assert len(files) == 3 and all(p.name.endswith(".parquet") for p in files)
    secrets = []
    for session in (reader, sandbox.analyst_session()):
        creds = session.get_credentials().get_frozen_credentials()
        secrets += [creds.secret_key, creds.access_key]
        if creds.token:
            secrets.append(creds.token)
    assert all(secrets)
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data
    # What the metadata does hold: the key in clear, no credentials.
    meta = json.loads(pq.read_metadata(files[0]).metadata[_cache.META_KEY])
    key = json.loads(meta["key"])
    assert set(key) == {"format", "account", "principal", "endpoint", "region", "table",
                        "operation", "request", "numbers", "flatten"}
    assert key["account"] == sandbox.account_b


def test_an_existing_open_folder_is_made_private(sandbox, reader, cache_dir: Path) -> None:
    cache_dir.mkdir(mode=0o755)
    os.chmod(cache_dir, 0o755)
    xn.read_query(reader, sandbox.table, "C-0001", cache=True)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700


def test_info_entries_and_clear(sandbox, reader, cache_dir: Path) -> None:
    assert xn.cache.path() == cache_dir
    empty = xn.cache.info()
    assert (empty.entries, empty.bytes, empty.oldest, empty.newest) == (0, 0, None, None)
    assert xn.cache.clear() == 0
    xn.read_query(reader, sandbox.table, "C-0001", cache=True)
    xn.read_query(reader, sandbox.table, "C-0002", cache=True)
    xn.read_scan(reader, sandbox.table, limit=5, cache=True)
    xn.read_query(reader, sandbox.table_arn, "C-0001", cache=True)  # by ARN: another key
    info = xn.cache.info()
    assert info.entries == 4 and info.folder == cache_dir
    assert info.bytes == sum(p.stat().st_size for p in entry_files(cache_dir))
    assert info.oldest <= info.newest
    assert "entries=4" in repr(info) and str(cache_dir) in repr(info)
    table = xn.cache.entries()
    assert sorted(table["operation"]) == ["Query", "Query", "Query", "Scan"]
    assert set(table["table"]) == {sandbox.table, sandbox.table_arn}
    assert table["rows"].sum() > 0
    # older_than: nothing is that old yet; then one entry is made old.
    assert xn.cache.clear(older_than="1h") == 0
    set_created(entry_files(cache_dir)[0], 0.0)
    assert xn.cache.clear(older_than=dt.timedelta(days=1)) == 1
    assert xn.cache.info().entries == 3
    # table= matches the name or the ARN (an entry read by ARN matches both).
    assert xn.cache.clear(table="Another") == 0
    removed = xn.cache.clear(table=sandbox.table)
    assert removed == 3 - xn.cache.info().entries and xn.cache.info().entries == 0
    # Files that are not entries are never touched.
    (cache_dir / "notes.txt").write_text("mine")
    xn.read_query(reader, sandbox.table, "C-0001", cache=True)
    assert xn.cache.clear() == 1
    assert (cache_dir / "notes.txt").exists()
    with pytest.raises(xn.InvalidArgumentError):
        xn.cache.clear(older_than="yesterday")


def test_default_folder_is_the_platform_user_cache(monkeypatch) -> None:
    import platformdirs

    monkeypatch.delenv("XACCT_CACHE_DIR")
    assert xn.cache.path() == Path(platformdirs.user_cache_dir("xacct-nb", appauthor=False))


# -- the encoding ---------------------------------------------------------------------------


def typed(value: Any) -> Any:
    """A comparable picture of ``value`` with every type spelled out (independent of _cache)."""
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, sorted(map(repr, map(typed, value))))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [typed(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if value is pd.NA or value is pd.NaT or value is None:
        return repr(value)
    return (type(value).__name__, repr(value))


def round_trip(df: pd.DataFrame, folder: Path) -> pd.DataFrame | str:
    """Store ``df`` as an entry and read it back; or why it was refused."""
    folder = folder / uuid.uuid4().hex  # hypothesis shares one tmp_path between examples
    meta = {"format": _cache.FORMAT_VERSION, "created": 0.0, "key": "k", "rows": len(df)}
    why = _cache._write_entry(folder, "0" * 64, df, meta)
    if why is not None:
        assert why.startswith("not cacheable: "), why
        assert not (folder / ("0" * 64 + ".parquet")).exists()
        return why
    back, _ = _cache.read_entry(folder / ("0" * 64 + ".parquet"), "k")
    return back


def assert_exact(df: pd.DataFrame, back: pd.DataFrame) -> None:
    # pandas' comparison of object cells is loose (1 == 1.0 == True) and fails on a NaN
    # nested in a list: object columns are compared by ``typed`` below instead.
    assert type(back.columns) is type(df.columns)
    pd.testing.assert_index_equal(df.columns, back.columns, exact=True)
    pd.testing.assert_index_equal(df.index, back.index, exact=True)
    plain = [i for i in range(df.shape[1]) if not pd.api.types.is_object_dtype(df.dtypes.iloc[i])]
    pd.testing.assert_frame_equal(df.iloc[:, plain], back.iloc[:, plain], check_exact=True,
                                  check_column_type=True, check_index_type=True)
    assert [typed(c) for c in df.columns] == [typed(c) for c in back.columns]
    assert typed(dict(df.attrs)) == typed(dict(back.attrs))
    for i in range(df.shape[1]):
        a, b = df.iloc[:, i], back.iloc[:, i]
        assert a.dtype == b.dtype
        if a.dtype == object:
            assert [typed(v) for v in a] == [typed(v) for v in b]
        elif a.dtype.kind == "f":
            assert np.array_equal(np.signbit(a.to_numpy()), np.signbit(b.to_numpy()))


def test_every_type_of_the_contract_round_trips(tmp_path: Path) -> None:
    df = pd.DataFrame({
        "s": pd.array(["a", None, "é"], dtype=STR),
        "i": np.array([1, -(2**63), 2**63 - 1], dtype="int64"),
        "I": pd.array([1, None, 3], dtype="Int64"),
        "f": [1.5, float("nan"), -0.0],
        "b": [True, False, True],
        "B": pd.array([True, None, False], dtype="boolean"),
        "big": pd.Series([2**70, None, -(2**65)], dtype=object),
        "dec": pd.Series([Decimal("1.00"), Decimal("1E+2"), Decimal("-0")], dtype=object),
        "sets": pd.Series([{"a", "b"}, {Decimal("1"), Decimal("2.5")}, {b"x", b""}],
                          dtype=object),
        "nsets": pd.Series([{1, 2**70}, {1.5, 2.0}, None], dtype=object),
        "bytes": pd.Series([b"\x00\xff", None, b""], dtype=object),
        "nested": pd.Series([[{"a": {1, 2}}, b"\x00", 2**80, Decimal("3.10")],
                             {"k": [None, True, 1.0, {"x": {"y": []}}]}, []], dtype=object),
        "mixed": pd.Series([1, "1", 1.0], dtype=object),
        "mixed2": pd.Series([True, Decimal("1"), {"1"}], dtype=object),
        "missing": pd.Series([None, float("nan"), pd.NA], dtype=object),
        "when": pd.to_datetime(["2026-01-01", None, "2026-03-01T10:00:00.123456789"],
                               utc=True, format="ISO8601"),
        "naive": pd.to_datetime(["2026-01-01", None, "2026-03-01"]),
        "pydt": pd.Series([dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.date(2026, 1, 2),
                           dt.datetime(2026, 1, 1, 5, 6, 7, 8)], dtype=object),
        "x.y": [1.0, 2.0, 3.0],
    })
    df[7] = [1, 2, 3]  # a non-string column name
    df.attrs = {"count": 3, "consumed_capacity": 1.5,
                "missing_keys": [{"k": Decimal("1"), "b": b"z", "s": "x"}]}
    back = round_trip(df, tmp_path)
    assert not isinstance(back, str), back
    assert_exact(df, back)


def test_empty_frames_round_trip(tmp_path: Path) -> None:
    keys_only = FrameBuilder(key_names=["customer_id", "order_ts"]).to_frame()
    for df in (keys_only, pd.DataFrame(), pd.DataFrame(index=pd.RangeIndex(3))):
        back = round_trip(df, tmp_path)
        assert not isinstance(back, str), back
        assert_exact(df, back)


@pytest.mark.parametrize(("frame", "reason"), [
    (pd.DataFrame({"a": pd.Series([np.float64(1.0)], dtype=object)}), "numpy.float64"),
    (pd.DataFrame({"a": pd.Series([pd.Timestamp("2026-01-01")], dtype=object)}), "Timestamp"),
    (pd.DataFrame({"a": pd.Series([object()], dtype=object)}), "object"),
    (pd.DataFrame({"a": [1, 2]}, index=[5, 6]), "RangeIndex"),
    (pd.DataFrame([[1]], columns=pd.MultiIndex.from_tuples([("a", "b")])), "MultiIndex"),
    (pd.DataFrame({"a": pd.Series(["\ud800"], dtype=object)}), "Arrow"),
])
def test_what_the_encoding_cannot_hold_is_refused(tmp_path: Path, frame: pd.DataFrame,
                                                  reason: str) -> None:
    why = round_trip(frame, tmp_path)
    assert isinstance(why, str) and reason in why, why


def test_an_attrs_value_that_cannot_be_held_refuses(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1]})
    df.attrs["when"] = pd.Timestamp("2026-01-01")
    assert "df.attrs" in round_trip(df, tmp_path)


# A generator of DynamoDB items fed to FrameBuilder (the readers' own frames), and one of
# frames built directly from the contract's Python values.

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=5)
NUMBER = st.one_of(
    st.integers(-(2**64), 2**64).map(str),
    st.integers(-(10**38), 10**38).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3,
                min_value=-(10**9), max_value=10**9).map(str),
    st.sampled_from(["0", "-0", "1.0", "1.00", "1E+2", "0.1", "1e-130", "9" * 38]),
)
BINARY = st.binary(max_size=4)
SCALAR_AV = st.one_of(
    TEXT.map(lambda s: {"S": s}), NUMBER.map(lambda n: {"N": n}),
    BINARY.map(lambda b: {"B": b}), st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(TEXT, min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(st.integers(-(2**70), 2**70), min_size=1, max_size=3, unique=True).map(
        lambda v: {"NS": [str(x) for x in v]}),
    st.lists(BINARY, min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v}),
)
ANY_AV = st.recursive(SCALAR_AV, lambda children: st.one_of(
    st.lists(children, max_size=3).map(lambda v: {"L": v}),
    st.dictionaries(st.sampled_from(["a", "b", "c.d", "e"]), children, max_size=3).map(
        lambda v: {"M": v}),
), max_leaves=8)
NAMES = ["id", "n", "s", "flag", "data", "tags"]


@st.composite
def wire_items(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Items whose attributes mostly keep one type (sometimes mixed, sometimes missing)."""
    kinds = {name: draw(SCALAR_AV | ANY_AV) for name in NAMES}
    items = []
    for _ in range(draw(st.integers(0, 6))):
        item = {}
        for name in draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=len(NAMES))):
            roll = draw(st.integers(0, 9))
            if roll == 0:
                item[name] = draw(ANY_AV)
            else:
                template = kinds[name]
                kind = next(iter(template))
                item[name] = draw(SCALAR_AV.filter(lambda av, kind=kind: kind in av)) \
                    if kind not in ("L", "M", "NULL") else template
        items.append(item)
    return items


SETTINGS = settings(max_examples=int(os.environ.get("CACHE_EXAMPLES", 60)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture])


@SETTINGS
@given(items=wire_items(), numbers=st.sampled_from(["auto", "decimal", "float"]),
       flatten=st.booleans())
def test_reader_frames_round_trip_exactly(tmp_path: Path, items: list[dict[str, Any]],
                                          numbers: str, flatten: bool) -> None:
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=["id"])
    builder.add_items(items)
    df = builder.to_frame()
    df.attrs = {"count": len(df), "missing_keys": [{"id": "x"}]}
    back = round_trip(df, tmp_path)
    if isinstance(back, str):  # refused: fine, never wrong (reader frames should not be)
        pytest.fail(f"a reader's frame was refused: {back}")
    assert_exact(df, back)


PY_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**100), 2**100), st.floats(), TEXT, BINARY,
    st.decimals(), st.just(pd.NA),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=2))])),
)
PY_VALUE = st.recursive(PY_SCALAR, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.lists(children, max_size=3).map(tuple),
    st.dictionaries(TEXT | st.integers(), children, max_size=3),
    st.frozensets(st.one_of(TEXT, st.integers(), BINARY, st.decimals(allow_nan=False)),
                  max_size=3).map(set),
    st.frozensets(TEXT, max_size=3),
), max_leaves=8)


@st.composite
def object_frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(0, 5))
    columns = {}
    for i in range(draw(st.integers(1, 4))):
        values = draw(st.lists(PY_VALUE, min_size=rows, max_size=rows))
        column = np.empty(rows, dtype=object)
        for j, v in enumerate(values):
            column[j] = v
        columns[draw(st.sampled_from([f"c{i}", f"p.c{i}"]))] = column
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    df.attrs = {"note": draw(PY_VALUE)}
    return df


@SETTINGS
@given(df=object_frames())
def test_python_values_round_trip_exactly_or_are_refused(tmp_path: Path,
                                                         df: pd.DataFrame) -> None:
    back = round_trip(df, tmp_path)
    if isinstance(back, str):
        return  # refused, with a reason: never a wrong value
    assert_exact(df, back)
