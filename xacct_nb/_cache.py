"""The opt-in result cache: frames as Parquet files, keyed by who read what.

``cache=`` on :func:`~xacct_nb.read_query`, :func:`~xacct_nb.read_scan`,
:func:`~xacct_nb.read_items` (and ``read_partiql``) turns it on for one call:

- ``None`` / ``False`` (the default): off; nothing is looked up or stored.
- ``True``: on, an entry of any age is served.
- a maximum age: seconds (``int``/``float`` > 0), a ``datetime.timedelta``, or a
  string such as ``"30s"``, ``"15m"``, ``"1h"``, ``"2d"`` (``1.5h`` too). An
  older entry is removed and the table read again.

``chunksize=`` with ``cache=`` is refused (:class:`InvalidArgumentError`): the
cache stores and serves whole frames, and ``chunksize=`` is for reads that do
not fit in memory.

Where and what
--------------
The folder is ``$XACCT_CACHE_DIR`` if set, else the platform's user cache
folder (``platformdirs.user_cache_dir("xacct-nb")``, e.g. ``~/.cache/xacct-nb``).
It is made ``0o700`` (when the user owns it); every entry is one Parquet file
``<sha256>.parquet``, ``0o600``, written to a temporary file, read back and
compared with the frame, and only then renamed into place (``os.replace``): a
crash, a full disk or two kernels never leave a half entry, and an entry that
would not give back the frame exactly is never stored.

The key (its SHA-256 is the file name) is: the format version; the caller
(account and principal from STS ``GetCallerIdentity``, asked once per session
object; an assumed role counts as its role, whatever the session name, so
re-assuming the role hits); the DynamoDB endpoint and region (the table ARN's
region if the table is an ARN); the table; the operation; the exact request
(canonical JSON); ``numbers`` and ``flatten``. The file's Parquet metadata
(``xacct_nb.cache``) holds the key in clear (never credentials), the creation
time, the row count, and what is needed to rebuild the frame exactly.

What a read says (``df.attrs``)
-------------------------------
- ``cache``: ``"hit"`` (served from the cache, no request sent), ``"stored"``
  (read from DynamoDB and stored), ``"not cacheable: <reason>"`` (read from
  DynamoDB; the frame holds something the cache cannot give back exactly, or
  the caller's identity is unknown), ``"not stored: <reason>"`` (read from
  DynamoDB; writing the entry failed, e.g. the folder is not writable).
- ``cache_age``: seconds since the entry was stored (a hit), ``0.0``
  (stored), ``None`` (not stored).
- ``cache_key``: the entry's SHA-256 (its file name without ``.parquet``).
- On a hit the read's costs are zero: ``consumed_capacity`` 0.0, ``pages``,
  ``resumed`` and ``retries`` 0; what describes the rows stays as the original
  read left it (``count``, ``scanned_count``, ``segments``, ``partitions``,
  ``found``, ``missing_keys``...); ``cached_attrs`` holds all of the original
  read's attrs, costs included.

The encoding
------------
Columns of a native dtype (``int64``, ``Int64``, ``float64``, ``bool``,
``boolean``, ``str``/``string``, ``datetime64``...) are stored as Arrow
columns. Object columns (Python ``int`` beyond int64, ``Decimal``, sets,
``bytes``, lists and dicts, mixed types) are stored as one tagged-JSON text
per cell: JSON's ``null``/``true``/``false``/integers (any size)/floats
(exact repr, ``NaN``, ``Infinity``)/strings as themselves, and every other
value as a list whose first element names its type (``["l", ...]`` list,
``["t", ...]`` tuple, ``["m", [k, v], ...]`` dict, ``["s", ...]`` set,
``["f", ...]`` frozenset, ``["d", "1.50"]`` Decimal, ``["b", base64]`` bytes,
``["ba", base64]`` bytearray, ``["NA"]``, ``["NaT"]``, ``["dt", iso]``
datetime, ``["date", iso]``). Column names (any type), their order, the
RangeIndex and the JSON-able ``df.attrs`` are kept in the metadata the same
way. Anything else (numpy scalars in object columns, pandas Timestamps,
other objects, a MultiIndex or a non-range index) is "not cacheable".
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import math
import os
import re
import secrets
import stat
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ._clients import client
from ._decode import string_dtype
from ._errors import InvalidArgumentError, XacctError
from ._sessions import whoami

__all__ = [
    "FORMAT_VERSION",
    "CacheEntry",
    "CacheInfo",
    "cache_dir",
    "cached_read",
    "caller_identity",
    "check_cache",
    "clear_entries",
    "decode_frame",
    "encode_frame",
    "entries_frame",
    "list_entries",
    "parse_age",
    "principal_of",
    "read_entry",
    "same_value",
    "summarize",
]

#: Bumped whenever the key or the file layout changes: older entries then simply miss.
FORMAT_VERSION = 1
#: The Parquet key-value metadata entry that holds an entry's description.
META_KEY = b"xacct_nb.cache"
#: The read's attrs that count its cost: zero on a hit.
COST_ATTRS = ("consumed_capacity", "pages", "resumed", "retries")
#: Temporary files older than this (seconds) are leftovers of a crash: clear() removes them.
STALE_TEMP_SECONDS = 3600.0

_ENTRY = re.compile(r"^[0-9a-f]{64}\.parquet$")
_TEMP = re.compile(r"^\.[0-9a-f]{64}\.[0-9]+\.[0-9a-f]+\.tmp$")
_AGE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhd])\s*$", re.IGNORECASE)
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_ACCEPTED = (
    "None or False (off), True (on, no maximum age), a maximum age in seconds (a number "
    "> 0), a datetime.timedelta, or a string such as '30s', '15m', '1h' or '2d'"
)


class _NotCacheable(XacctError):
    """A frame (or a request) the cache cannot hold exactly; never leaves this module."""


# -- cache= ---------------------------------------------------------------------------------


def parse_age(value: Any, name: str = "cache") -> float | None:
    """Return the maximum age ``value`` means, in seconds: None (off) or > 0 (``inf``: any age).

    >>> parse_age(None), parse_age(False), parse_age(True)
    (None, None, inf)
    >>> parse_age(90), parse_age("15m"), parse_age("1.5h"), parse_age(dt.timedelta(days=2))
    (90.0, 900.0, 5400.0, 172800.0)
    >>> parse_age("soon")
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: cache='soon' is not valid: pass None or False (off), ...
    """
    if value is None or value is False:
        return None
    if value is True:
        return math.inf
    seconds: float | None = None
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, str):
        match = _AGE.match(value)
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    elif isinstance(value, (int, float)) and not isinstance(value, bool) or (
        type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iuf"
    ):
        seconds = float(value)
    if seconds is None or math.isnan(seconds) or seconds <= 0:
        raise InvalidArgumentError(f"{name}={value!r} is not valid: pass {_ACCEPTED}.")
    return seconds


def check_cache(cache: Any, chunksize: int | None = None) -> float | None:
    """Check ``cache=`` (None/False, True, seconds or ``"1h"``) before anything is sent.

    Returns the maximum age in seconds (``inf``: any age; None: off).

    >>> check_cache("1h", chunksize=1000)
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: cache= cannot be combined with chunksize=: ...
    """
    age = parse_age(cache)
    if age is not None and chunksize is not None:
        raise InvalidArgumentError(
            "cache= cannot be combined with chunksize=: the cache stores and serves whole "
            "frames, and chunksize= is for reads that do not fit in memory. Drop chunksize= "
            "to use the cache, or cache= to stream the read."
        )
    return age


# -- the folder -----------------------------------------------------------------------------


def cache_dir() -> Path:
    """Return the cache folder: ``$XACCT_CACHE_DIR``, else the platform's user cache folder."""
    given = os.environ.get("XACCT_CACHE_DIR")
    if given:
        return Path(given).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("xacct-nb", appauthor=False))


def _ensure_dir(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    getuid = getattr(os, "getuid", None)  # POSIX only
    if getuid is not None and stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == getuid():
        os.chmod(folder, 0o700)


# -- who is asking --------------------------------------------------------------------------

_IDENTITIES: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()
_IDENTITIES_LOCK = threading.Lock()


def principal_of(arn: str) -> str:
    """Return the principal a cache key names: an assumed role's role, without the session name.

    >>> principal_of("arn:aws:sts::222222222222:assumed-role/Reader/alice-1")
    'arn:aws:sts::222222222222:assumed-role/Reader'
    >>> principal_of("arn:aws:iam::111111111111:user/analyst")
    'arn:aws:iam::111111111111:user/analyst'
    """
    head, sep, resource = arn.partition(":assumed-role/")
    if sep and "/" in resource:
        return f"{head}{sep}{resource.split('/', 1)[0]}"
    return arn


def caller_identity(session: Any) -> dict[str, str]:
    """Account, principal and DynamoDB endpoint of ``session``: one STS call per session object."""
    try:
        with _IDENTITIES_LOCK:
            known = _IDENTITIES.get(session)
    except TypeError:  # not weak-referenceable: ask every time
        known = None
    if known is not None:
        return known
    ident = whoami(session)
    endpoint = str(client(session, "dynamodb").meta.endpoint_url)
    found = {"account": str(ident["Account"]), "principal": principal_of(str(ident["Arn"])),
             "endpoint": endpoint}
    try:
        with _IDENTITIES_LOCK:
            _IDENTITIES[session] = found
    except TypeError:
        pass
    return found


# -- the encoding ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _enc(value: Any, canonical: bool = False) -> Any:
    """``value`` as tagged JSON (see the module's documentation); raise _NotCacheable."""
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value
    if kind is float:
        return value
    if kind is list:
        return ["l", *(_enc(v, canonical) for v in value)]
    if kind is dict:
        pairs = [[_enc(k, canonical), _enc(v, canonical)] for k, v in value.items()]
        if canonical:
            pairs.sort(key=_dumps)
        return ["m", *pairs]
    if kind is set or kind is frozenset:
        items = sorted((_enc(v, canonical) for v in value), key=_dumps)
        return ["s" if kind is set else "f", *items]
    if kind is tuple:
        return ["t", *(_enc(v, canonical) for v in value)]
    if kind is Decimal:
        return ["d", str(value)]
    if kind is bytes:
        return ["b", _b64(value)]
    if kind is bytearray:
        return ["ba", _b64(bytes(value))]
    if value is pd.NA:
        return ["NA"]
    if value is pd.NaT:
        return ["NaT"]
    if kind is dt.datetime and (value.tzinfo is None or type(value.tzinfo) is dt.timezone):
        return ["dt", value.isoformat(), value.fold]
    if kind is dt.date:
        return ["date", value.isoformat()]
    raise _NotCacheable(f"a {kind.__module__}.{kind.__qualname__}")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _dec(obj: Any) -> Any:
    """Return the value tagged JSON ``obj`` (parsed) stands for."""
    if type(obj) is not list:
        return obj
    tag, rest = obj[0], obj[1:]
    if tag == "l":
        return [_dec(v) for v in rest]
    if tag == "m":
        return {_dec(k): _dec(v) for k, v in rest}
    if tag == "s":
        return {_dec(v) for v in rest}
    if tag == "f":
        return frozenset(_dec(v) for v in rest)
    if tag == "t":
        return tuple(_dec(v) for v in rest)
    if tag == "d":
        return Decimal(rest[0])
    if tag == "b":
        return base64.b64decode(rest[0], validate=True)
    if tag == "ba":
        return bytearray(base64.b64decode(rest[0], validate=True))
    if tag == "NA":
        return pd.NA
    if tag == "NaT":
        return pd.NaT
    if tag == "dt":
        return dt.datetime.fromisoformat(rest[0]).replace(fold=rest[1])
    if tag == "date":
        return dt.date.fromisoformat(rest[0])
    raise ValueError(f"unknown tag {tag!r}")


def _canonical_key(value: Any) -> str:
    return _dumps(_enc(value, canonical=True))


def same_value(a: Any, b: Any) -> bool:
    """Tell whether ``b`` is exactly ``a``: same types all the way down, not just ``==``.

    >>> same_value(1, 1.0), same_value(Decimal("1.0"), Decimal("1.00")), same_value({1}, frozenset({1}))
    (False, False, False)
    >>> same_value([{"a": {b"x", b"y"}}, float("nan")], [{"a": {b"y", b"x"}}, float("nan")])
    True
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if a is pd.NA or a is pd.NaT or a is None:
        return a is b
    if kind is float:
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if kind is Decimal:
        return a.as_tuple() == b.as_tuple()
    if kind is list or kind is tuple:
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if kind is dict:
        return len(a) == len(b) and all(
            same_value(ka, kb) and same_value(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if kind is set or kind is frozenset:
        if len(a) != len(b):
            return False
        try:
            by_a = {_canonical_key(x): x for x in a}
            by_b = {_canonical_key(x): x for x in b}
        except _NotCacheable:
            return False
        return by_a.keys() == by_b.keys() and all(same_value(by_a[k], by_b[k]) for k in by_a)
    if kind is dt.datetime:
        return (a.isoformat() == b.isoformat() and a.fold == b.fold
                and type(a.tzinfo) is type(b.tzinfo) and a.tzname() == b.tzname())
    if kind in (bool, int, str, bytes, bytearray, dt.date):
        return bool(a == b)
    return False


def _range_index(index: pd.Index) -> dict[str, Any]:
    if type(index) is not pd.RangeIndex:
        raise _NotCacheable(f"its index is a {type(index).__name__}, not a RangeIndex")
    return {"start": index.start, "stop": index.stop, "step": index.step,
            "name": _enc(index.name)}


def encode_frame(df: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    """Return (an Arrow table, the description that :func:`decode_frame` needs).

    Raises _NotCacheable for what the encoding cannot hold.
    """
    import pyarrow as pa

    if isinstance(df.columns, pd.MultiIndex):
        raise _NotCacheable("its columns are a MultiIndex")
    index = _range_index(df.index)
    columns: list[dict[str, Any]] = []
    native: list[int] = []
    encoded: dict[int, list[str]] = {}
    for i in range(df.shape[1]):
        series = df.iloc[:, i]
        name = df.columns[i]
        try:
            spec = {"name": _enc(name), "dtype": str(series.dtype)}
        except _NotCacheable as exc:
            raise _NotCacheable(f"the name of column {i} is {exc}") from None
        if series.dtype == object:
            spec["storage"] = "json"
            try:
                encoded[i] = [_dumps(_enc(v)) for v in series.tolist()]
            except _NotCacheable as exc:
                raise _NotCacheable(f"column {name!r} holds {exc}") from None
            except (ValueError, TypeError) as exc:  # e.g. an int of more than 4300 digits
                raise _NotCacheable(f"column {name!r}: {exc}") from None
        else:
            spec["storage"] = "arrow"
            native.append(i)
        columns.append(spec)
    try:
        attrs = _enc(dict(df.attrs))
    except _NotCacheable as exc:
        raise _NotCacheable(f"df.attrs hold {exc}") from None
    try:
        columns_name = _enc(df.columns.name)
    except _NotCacheable as exc:
        raise _NotCacheable(f"the columns' name is {exc}") from None
    arrays: list[Any] = []
    names: list[str] = []
    metadata = None
    try:
        if native:
            part = df.iloc[:, native].copy(deep=False)
            part.columns = [f"c{i}" for i in native]
            part.index = pd.RangeIndex(len(df))
            part.attrs = {}
            with warnings.catch_warnings():
                # pyarrow reads tz-aware columns through Series.values (deprecated in pandas 3.1)
                warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
                native_table = pa.Table.from_pandas(part, preserve_index=False)
            arrays += native_table.columns
            names += native_table.column_names
            metadata = native_table.schema.metadata
        for i, texts in encoded.items():
            arrays.append(pa.array(texts, type=pa.large_string()))
            names.append(f"c{i}")
        table = pa.Table.from_arrays(arrays, names=names, metadata=metadata)
    except (pa.ArrowException, ValueError, TypeError, UnicodeError) as exc:
        raise _NotCacheable(f"Arrow cannot store it ({type(exc).__name__}: {exc})") from None
    description = {
        "rows": len(df),
        "columns": columns,
        "columns_dtype": str(df.columns.dtype),
        "columns_range": ([df.columns.start, df.columns.stop, df.columns.step]
                          if type(df.columns) is pd.RangeIndex else None),
        "columns_name": columns_name,
        "index": index,
        "attrs": attrs,
    }
    return table, description


def decode_frame(table: Any, description: dict[str, Any]) -> pd.DataFrame:
    """Rebuild the frame :func:`encode_frame` took apart."""
    import numpy as np

    specs = description["columns"]
    rows = int(description["rows"])
    native = [f"c{i}" for i, spec in enumerate(specs) if spec["storage"] == "arrow"]
    part = table.select(native).to_pandas() if native else None
    data: dict[str, Any] = {}
    for i, spec in enumerate(specs):
        key = f"c{i}"
        if spec["storage"] == "arrow":
            assert part is not None
            data[key] = part[key]
            if spec["dtype"] == str(string_dtype()) and data[key].dtype != string_dtype():
                # pandas 2.2 reads its "string[pyarrow_numpy]" back from Arrow with pd.NA
                data[key] = data[key].astype(string_dtype())
        elif spec["storage"] == "json":
            texts = table.column(key).to_pylist()
            values = np.empty(len(texts), dtype=object)
            for j, text in enumerate(texts):
                values[j] = _dec(json.loads(text))
            data[key] = pd.Series(values, dtype=object, copy=False)
        else:
            raise ValueError(f"unknown storage {spec['storage']!r}")
        if len(data[key]) != rows:
            raise ValueError("row count differs")
    ix = description["index"]
    index = pd.RangeIndex(ix["start"], ix["stop"], ix["step"], name=_dec(ix["name"]))
    df = pd.DataFrame(data, copy=False) if data else pd.DataFrame(index=pd.RangeIndex(rows))
    df.index = index
    names = [_dec(spec["name"]) for spec in specs]
    dtype = description["columns_dtype"]
    span = description.get("columns_range")
    if span is not None:
        start, stop, step = span
        df.columns = pd.RangeIndex(start, stop, step, name=_dec(description["columns_name"]))
    else:
        df.columns = pd.Index(names, dtype=dtype, name=_dec(description["columns_name"]))
    df.attrs = _dec(description["attrs"])
    return df


def _same_frame(df: pd.DataFrame, back: pd.DataFrame) -> str | None:
    """None if ``back`` is exactly ``df``; else what differs."""
    if df.shape != back.shape:
        return f"shape {back.shape} instead of {df.shape}"
    if type(back.index) is not type(df.index) or not df.index.equals(back.index) or (
        not same_value(df.index.name, back.index.name)
    ):
        return "the index"
    if type(back.columns) is not type(df.columns) or back.columns.dtype != df.columns.dtype or not same_value(
        list(df.columns), list(back.columns)
    ) or not same_value(df.columns.name, back.columns.name):
        return "the column names"
    if not same_value(dict(df.attrs), dict(back.attrs)):
        return "df.attrs"
    for i in range(df.shape[1]):
        a, b = df.iloc[:, i], back.iloc[:, i]
        name = df.columns[i]
        if a.dtype != b.dtype:
            return f"column {name!r}: dtype {b.dtype} instead of {a.dtype}"
        if a.dtype == object:
            for x, y in zip(a.tolist(), b.tolist(), strict=True):
                if not same_value(x, y):
                    return f"column {name!r}: {y!r} instead of {x!r}"
            continue
        try:
            pd.testing.assert_series_equal(a, b, check_exact=True, check_names=False,
                                           check_index_type=True, check_flags=False)
        except AssertionError as exc:
            return f"column {name!r}: {str(exc).splitlines()[0]}"
        if a.dtype.kind == "f":
            import numpy as np

            if not np.array_equal(np.signbit(a.to_numpy()), np.signbit(b.to_numpy())):
                return f"column {name!r}: the sign of a zero"
    return None


# -- entries on disk ------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheEntry:
    """One file of the cache, as :func:`list_entries` sees it (its data are not read)."""

    path: Path
    bytes: int
    created: float | None  # epoch seconds; None for an unreadable entry
    key: dict[str, Any] = field(default_factory=dict)
    rows: int | None = None

    @property
    def table(self) -> str | None:
        """The table the entry was read from (None if unreadable)."""
        table = self.key.get("table")
        return table if isinstance(table, str) else None


def _describe_meta(raw: bytes) -> dict[str, Any]:
    meta = json.loads(raw)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise ValueError("another format")
    return meta


def list_entries(folder: Path | None = None) -> list[CacheEntry]:
    """Every entry of the cache folder, reading only each file's footer."""
    import pyarrow.parquet as pq

    folder = cache_dir() if folder is None else folder
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for name in names:
        if not _ENTRY.match(name):
            continue
        path = folder / name
        try:
            size = path.stat().st_size
        except OSError:
            continue  # removed meanwhile
        try:
            meta = _describe_meta((pq.read_metadata(path).metadata or {})[META_KEY])
            key = json.loads(meta["key"])
            out.append(CacheEntry(path, size, float(meta["created"]), key, int(meta["rows"])))
        except Exception:  # noqa: BLE001 - an unreadable entry is listed as such
            out.append(CacheEntry(path, size, None))
    return out


def _utc(epoch: float | None) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC)


@dataclass(frozen=True)
class CacheInfo:
    """What the cache folder holds (:func:`xacct_nb.cache.info`)."""

    folder: Path
    entries: int
    bytes: int
    oldest: dt.datetime | None  # UTC creation time of the oldest readable entry
    newest: dt.datetime | None
    unreadable: int = 0  # entries whose metadata could not be read (removed when met)

    def __repr__(self) -> str:
        def when(value: dt.datetime | None) -> str:
            return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")

        size = float(self.bytes)
        for unit in ("B", "KiB", "MiB", "GiB"):
            if size < 1024 or unit == "GiB":
                break
            size /= 1024
        shown = f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        extra = f", {self.unreadable} unreadable" if self.unreadable else ""
        return (f"CacheInfo(folder={str(self.folder)!r}, entries={self.entries}{extra}, "
                f"bytes={self.bytes} ({shown}), oldest={when(self.oldest)}, "
                f"newest={when(self.newest)})")


def summarize(entries: list[CacheEntry], folder: Path) -> CacheInfo:
    """Return the :class:`CacheInfo` of ``entries`` (from :func:`list_entries`)."""
    created = [e.created for e in entries if e.created is not None]
    return CacheInfo(
        folder=folder,
        entries=len(entries),
        bytes=sum(e.bytes for e in entries),
        oldest=_utc(min(created)) if created else None,
        newest=_utc(max(created)) if created else None,
        unreadable=sum(e.created is None for e in entries),
    )


def entries_frame(entries: list[CacheEntry]) -> pd.DataFrame:
    """One row per entry: what was read, by whom, when, how big (nothing secret)."""
    now = time.time()
    rows = []
    for e in entries:
        key = e.key
        rows.append({
            "table": e.table,
            "operation": key.get("operation"),
            "rows": e.rows,
            "bytes": e.bytes,
            "created": _utc(e.created),
            "age_seconds": None if e.created is None else max(0.0, now - e.created),
            "account": key.get("account"),
            "principal": key.get("principal"),
            "region": key.get("region"),
            "numbers": key.get("numbers"),
            "flatten": key.get("flatten"),
            "file": e.path.name,
        })
    columns = ["table", "operation", "rows", "bytes", "created", "age_seconds", "account",
               "principal", "region", "numbers", "flatten", "file"]
    return pd.DataFrame(rows, columns=columns)


def _unlink(path: Path, inode: int | None = None) -> bool:
    """Remove ``path`` (only if it is still the file ``inode``, when given)."""
    try:
        if inode is not None and os.stat(path).st_ino != inode:
            return False  # replaced meanwhile by a good entry
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def clear_entries(table: str | None = None, older_than: Any = None) -> int:
    """Remove entries (all, one table's, or older than an age); return how many."""
    if table is not None and (not isinstance(table, str) or not table):
        raise InvalidArgumentError(f"table must be a table name or ARN, not {table!r}.")
    age = parse_age(older_than, "older_than") if older_than is not None else None
    folder = cache_dir()
    now = time.time()
    removed = 0
    for entry in list_entries(folder):
        if table is not None and (entry.table is None or (
                entry.table != table and entry.table.rsplit("/", 1)[-1] != table)):
            continue
        if age is not None:
            created = entry.created
            if created is None:
                try:
                    created = entry.path.stat().st_mtime
                except OSError:
                    continue
            if now - created <= age:
                continue
        removed += _unlink(entry.path)
    try:
        leftovers = [folder / name for name in os.listdir(folder) if _TEMP.match(name)]
    except OSError:
        leftovers = []
    for path in leftovers:
        try:
            if now - path.stat().st_mtime > STALE_TEMP_SECONDS:
                path.unlink()
        except OSError:
            pass
    return removed


def read_entry(path: Path, canonical: str | None = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read one entry: (the frame, its metadata). Raise on anything unexpected."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(path, "rb") as f:
        data = f.read()
    table = pq.read_table(pa.BufferReader(data))
    meta = _describe_meta((table.schema.metadata or {})[META_KEY])
    if canonical is not None and meta["key"] != canonical:
        raise ValueError("the entry's key is not the one asked for")
    return decode_frame(table, meta["frame"]), meta


def _write_entry(folder: Path, digest: str, df: pd.DataFrame, meta: dict[str, Any]) -> str | None:
    """Store ``df``; None if stored, else why not ("not cacheable: ..." / "not stored: ...")."""
    import pyarrow.parquet as pq

    try:
        table, description = encode_frame(df)
    except _NotCacheable as exc:
        return f"not cacheable: {exc}"
    except Exception as exc:  # noqa: BLE001 - the read succeeded: never fail it here
        return f"not cacheable: the frame could not be encoded ({type(exc).__name__}: {exc})"
    meta = dict(meta, frame=description)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: _dumps(meta).encode()}
    )
    try:
        _ensure_dir(folder)
    except OSError as exc:
        return f"not stored: cannot make the cache folder {str(folder)!r} ({exc.strerror or exc})"
    temp = folder / f".{digest}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(temp, flags, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                pq.write_table(table, f, compression="zstd")
                f.flush()
                os.fsync(f.fileno())
            del table
            back, _ = read_entry(temp, meta["key"])
            differs = _same_frame(df, back)
            del back
            if differs is not None:
                return f"not cacheable: the stored copy would differ ({differs})"
            os.replace(temp, folder / f"{digest}.parquet")
        finally:
            _unlink(temp)
    except OSError as exc:
        return f"not stored: cannot write {str(folder)!r} ({exc.strerror or exc})"
    except Exception as exc:  # noqa: BLE001 - whatever fails to read back is not stored
        return f"not cacheable: the stored copy could not be read back ({type(exc).__name__})"
    return None


# -- the read ------------------------------------------------------------------------------


def _region(session: Any, table: str) -> str | None:
    if table.startswith("arn:"):
        parts = table.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    region = getattr(session, "region_name", None)
    return str(region) if region else None


def _hit_attrs(stored: dict[str, Any], age: float, digest: str) -> dict[str, Any]:
    attrs = dict(stored)
    for name in COST_ATTRS:
        if name in attrs:
            attrs[name] = 0.0 if name == "consumed_capacity" else 0
    attrs.update(cache="hit", cache_age=age, cache_key=digest, cached_attrs=copy.deepcopy(stored))
    return attrs


def cached_read(session: Any, *, operation: str, table: str, request: Any, numbers: str,
                flatten: bool, cache: Any, run: Callable[[], Any]) -> Any:
    """Return ``run()``'s frame, from the cache when ``cache=`` allows and an entry is fresh.

    ``request`` is the exact request (JSON-able: the wire parameters), which
    with the caller's identity, ``numbers`` and ``flatten`` makes the key.
    A miss calls ``run()`` and stores its frame once it is complete; a read
    that raises stores nothing. With the cache off this is just ``run()``.
    """
    max_age = parse_age(cache)
    if max_age is None:
        return run()
    try:
        ident = caller_identity(session)
    except Exception as exc:  # noqa: BLE001 - the read itself says what is wrong, if anything
        return _not_stored(run(), "not cacheable: the caller's identity is unknown "
                                  f"({type(exc).__name__})")
    key = {
        "format": FORMAT_VERSION,
        **ident,
        "region": _region(session, table),
        "table": table,
        "operation": operation,
        "request": request,
        "numbers": numbers,
        "flatten": bool(flatten),
    }
    try:
        canonical = json.dumps(_enc_key(key), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=True, allow_nan=False)
    except (_NotCacheable, ValueError, TypeError) as exc:
        return _not_stored(run(), f"not cacheable: the request holds {exc}")
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    folder = cache_dir()
    path = folder / f"{digest}.parquet"
    now = time.time()
    try:
        inode: int | None = os.stat(path).st_ino
    except OSError:
        inode = None
    if inode is not None:
        try:
            df, meta = read_entry(path, canonical)
        except Exception:  # noqa: BLE001 - a corrupt or unreadable entry is a miss
            _unlink(path, inode)
        else:
            age = max(0.0, now - float(meta["created"]))
            if age <= max_age:
                attrs = _hit_attrs({str(k): v for k, v in df.attrs.items()}, age, digest)
                df.attrs.clear()
                df.attrs.update(attrs)
                return df
            _unlink(path, inode)  # stale: pruned now
    df = run()
    if not isinstance(df, pd.DataFrame):  # pragma: no cover - chunksize= is refused earlier
        return df
    created = time.time()
    meta = {
        "format": FORMAT_VERSION,
        "created": created,
        "created_utc": dt.datetime.fromtimestamp(created, dt.UTC).isoformat(),
        "key": canonical,
        "rows": len(df),
        "columns": df.shape[1],
    }
    why = _write_entry(folder, digest, df, meta)
    if why is not None:
        df.attrs.update(cache=why, cache_age=None, cache_key=digest)
    else:
        df.attrs.update(cache="stored", cache_age=0.0, cache_key=digest)
    return df


def _not_stored(df: Any, why: str) -> Any:
    if isinstance(df, pd.DataFrame):
        df.attrs.update(cache=why, cache_age=None)
    return df


def _enc_key(value: Any) -> Any:
    """Return the key as plain JSON: dicts stay objects, bytes / sets / Decimals are tagged."""
    kind = type(value)
    if value is None or kind in (bool, str, int):
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _NotCacheable("a non-finite number")
        return value
    if isinstance(value, dict):
        if not all(type(k) is str for k in value):
            raise _NotCacheable("a map with non-string keys")
        return {k: _enc_key(v) for k, v in value.items()}
    if kind in (list, tuple):
        return [_enc_key(v) for v in value]
    # A dict of one "$"-key cannot come from a request (AttributeValue types and
    # parameter names never start with "$"), so these tags are unambiguous.
    if kind in (bytes, bytearray):
        return {"$b": _b64(bytes(value))}
    if kind is Decimal:
        return {"$d": str(value)}
    if kind in (set, frozenset):
        return {"$s": sorted((_enc_key(v) for v in value),
                             key=lambda v: json.dumps(v, sort_keys=True))}
    raise _NotCacheable(f"a {kind.__module__}.{kind.__qualname__}")

