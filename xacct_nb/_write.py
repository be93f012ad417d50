"""DataFrames into DynamoDB tables with BatchWriteItem.

A write travels one way: DataFrame -> wire values, column by column
(:func:`xacct_nb._encode.to_attribute_value`, the package's one value
encoder, is the rule; numeric and boolean columns take a vectorized path that
gives the same values) -> items, checked
before anything is sent -> duplicates resolved over the whole frame (the
last row of a key wins) -> batches of 25 put requests -> ``UnprocessedItems``
re-sent with exponential backoff and full jitter -> :class:`WriteReport`.

The checks, per row: the table's key attributes are present, of the types
DescribeTable declares, not empty and within DynamoDB's key size limits;
attributes that are keys of an index, when present, are of their declared
type and not empty (DynamoDB would refuse the whole batch otherwise); every
value can be stored; the item is at most 400 KB (:func:`item_size`).

Every row of the frame ends in exactly one place:

* written (``report.rows_written``);
* ``report.failed``: the original rows (index and columns) plus an ``_error``
  column saying why: rejected by a check, refused by AWS, or not written
  because the write stopped (throttled for good, interrupted);
* dropped as an earlier duplicate of a key that a later row writes
  (``report.duplicates_dropped``, labels in ``report.duplicate_labels``).

What raises and what returns:

* rows rejected by the checks do not stop the others: the report comes back
  with them in ``failed`` (``report.ok`` is False, and a warning is logged);
* a batch AWS refuses (``AccessDeniedException``, e.g. a role limited to some
  partitions with ``dynamodb:LeadingKeys``, or ``ValidationException``) fails
  those rows and the write goes on with the next batches; at the end
  :class:`~xacct_nb.IncompleteWriteError` is raised, its ``.report`` holding
  every unwritten row;
* anything else that stops a batch for good (throttling or 5xx after
  botocore's retries, ``UnprocessedItems`` after the request engine's
  ``UNPROCESSED.retries + 1`` requests, expired credentials, a missing
  table, a dropped connection) or a ``KeyboardInterrupt`` stops the write
  at once: that batch's unconfirmed rows and every row not yet sent go to
  ``failed`` and ``IncompleteWriteError`` is raised (``from`` the cause,
  the ``KeyboardInterrupt`` included). An interrupt while the frame is still
  being converted, before any request, is not caught: nothing was written.

Rows in ``failed`` may be written again as they are
(``report.failed.drop(columns="_error")``): a put of the same item twice
leaves the table as one put does.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from ._decode import gc_paused
from ._encode import short_repr, to_attribute_value
from ._engine import UNPROCESSED, ReadStats, dynamodb_client, interactive, request
from ._errors import IncompleteWriteError, InvalidArgumentError, XacctError, translate_client_error
from ._read_items import canonical_key
from ._schema import KeySchema, key_schema_for, parse_table
from ._timeformat import TimeFormat, check_time_args, encode_time_cells, key_time_formats
from ._validate import check_session, public

__all__ = ["WriteReport", "item_size", "write_frame"]

logger = logging.getLogger("xacct_nb")

#: PutRequests per BatchWriteItem request (DynamoDB's maximum).
BATCH_SIZE = 25
#: DynamoDB's item size limit, in bytes.
MAX_ITEM_BYTES = 400 * 1024
#: DynamoDB's limits on key values, in bytes.
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
#: botocore ``Config`` overrides for the write client (throttling and 5xx are
#: retried by botocore: standard mode, 8 attempts, see ``_clients``).
CLIENT_CONFIG: dict[str, Any] = {}
#: AWS error codes that fail one batch and let the write go on with the next.
PER_BATCH_ERRORS = frozenset({"AccessDeniedException", "ValidationException"})

_KEY_TYPE_NAMES = {"S": "string", "N": "number", "B": "binary"}


# ---------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------


def _str_size(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8"))


def _num_size(text: str) -> int:
    if "e" in text or "E" in text:
        text = text.lower().partition("e")[0]
    digits = text.replace("-", "").replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


def _value_size(av: dict[str, Any]) -> int:
    ((tag, val),) = av.items()
    if tag == "S":
        return _str_size(val)
    if tag == "N":
        return _num_size(val)
    if tag == "B":
        return len(val)
    if tag in ("BOOL", "NULL"):
        return 1
    if tag == "SS":
        return sum(map(_str_size, val))
    if tag == "NS":
        return sum(map(_num_size, val))
    if tag == "BS":
        return sum(map(len, val))
    if tag == "L":
        return 3 + sum(1 + _value_size(e) for e in val)
    if tag == "M":
        return 3 + sum(_str_size(k) + 1 + _value_size(e) for k, e in val.items())
    raise ValueError(f"unknown DynamoDB type {tag!r}")  # pragma: no cover


def item_size(item: Mapping[str, dict[str, Any]]) -> int:
    """Return the size of an item (wire form) in bytes, by DynamoDB's published rules.

    Attribute names count their UTF-8 bytes; strings their UTF-8 bytes;
    binary its length; numbers about one byte per two significant digits
    plus one; booleans and NULL one byte; lists and maps 3 bytes plus one
    byte per element (and the entry names of a map); sets the sum of their
    members. DynamoDB's own count may differ by a few bytes (it is not
    published exactly), so items within a few bytes of 400 KB may still be
    refused by AWS; those fail with AWS's message.

    >>> item_size({"pk": {"S": "abc"}, "n": {"N": "12.5"}})
    9
    """
    return sum(_str_size(name) + _value_size(av) for name, av in item.items())


# ---------------------------------------------------------------------------
# Frame -> items
# ---------------------------------------------------------------------------


# An upper bound of the size of a number from a numpy int or float column:
# at most 20 digits (uint64) or 17 significant digits (float64 repr).
_FIXED_NUMBER_BOUND = 12


def _convert_column(
    series: pd.Series, name: str
) -> tuple[list[dict[str, Any] | None], dict[int, str], np.ndarray]:
    """Convert one column: wire values, per-row problems, per-row sizes.

    Wire values are None where the attribute is left out; sizes include the
    attribute name and are upper bounds for numpy numbers.

    Every value is what :func:`~xacct_nb._encode.to_attribute_value` gives for
    the cell; int, uint, bool and float64 columns get there without a call per
    cell (``tests/test_encode.py`` checks both agree on random frames).
    """
    dtype = series.dtype
    n = len(series)
    name_size = _str_size(name)
    where = f"attribute {name!r}"
    errors: dict[int, str] = {}
    if isinstance(dtype, np.dtype) and dtype.kind in "iu":
        sizes = np.full(n, name_size + _FIXED_NUMBER_BOUND, dtype=np.int64)
        return [{"N": str(x)} for x in series.to_numpy().tolist()], errors, sizes
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        sizes = np.full(n, name_size + 1, dtype=np.int64)
        return [{"BOOL": x} for x in series.to_numpy().tolist()], errors, sizes
    if dtype == np.float64:
        arr = series.to_numpy()
        missing = np.isnan(arr)
        sizes = np.where(missing, 0, name_size + _FIXED_NUMBER_BOUND).astype(np.int64)
        magnitude = np.abs(arr)
        # Infinity and what DynamoDB cannot hold: let the encoder say why.
        refused = ~missing & ((magnitude >= 1e126) | ((magnitude > 0) & (magnitude < 1e-130)))
        out: list[dict[str, Any] | None] = [
            None if x != x else {"N": repr(x)} for x in arr.tolist()
        ]
        for i in np.flatnonzero(refused).tolist():
            out[i] = None
            try:
                to_attribute_value(arr[i], where=where)
            except InvalidArgumentError as exc:
                errors[i] = str(exc)
        return out, errors, sizes
    if (isinstance(dtype, np.dtype) and dtype.kind == "M") or isinstance(dtype, pd.DatetimeTZDtype):
        return _convert_datetimes(series, name_size, where)
    values = series.to_numpy() if isinstance(dtype, np.dtype) and dtype.kind == "f" else (
        series.tolist()
    )
    out = []
    size_list = [0] * n
    for i, x in enumerate(values):
        try:
            av = to_attribute_value(x, where=where)
        except InvalidArgumentError as exc:
            errors[i] = str(exc)
            av = None
        out.append(av)
        if av is not None:
            size_list[i] = name_size + _value_size(av)
    return out, errors, np.array(size_list, dtype=np.int64)


_NANOS_PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_FIRST_SECOND = np.datetime64("0001-01-01T00:00:00", "s")
_LAST_SECOND = np.datetime64("9999-12-31T23:59:59", "s")


def _convert_datetimes(
    series: pd.Series, name_size: int, where: str
) -> tuple[list[dict[str, Any] | None], dict[int, str], np.ndarray]:
    """Convert a datetime64 column (naive or aware) as the encoder does, without a call per cell.

    ``2026-03-01T12:00:00Z``: UTC (naive values taken as UTC), the fraction of
    a second only when not zero (6 digits, 9 with nanoseconds). Cells the
    vectorized form cannot write (years outside 1-9999) go through the
    encoder itself.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = series.to_numpy()
    unit = np.datetime_data(arr.dtype)[0]
    n = len(arr)
    errors: dict[int, str] = {}
    if unit not in _NANOS_PER_UNIT:  # pragma: no cover - pandas uses s, ms, us or ns
        out = []
        for i, x in enumerate(series.tolist()):
            try:
                out.append(to_attribute_value(x, where=where))
            except InvalidArgumentError as exc:
                errors[i] = str(exc)
                out.append(None)
    else:
        missing = np.isnat(arr)
        ticks = arr.view(np.int64)
        per_second = 10**9 // _NANOS_PER_UNIT[unit]
        # Floor division: the second at or before the instant, like the datetime fields.
        seconds = (ticks // per_second).view("datetime64[s]")
        nanos = (ticks % per_second) * _NANOS_PER_UNIT[unit]
        odd = ~missing & ((seconds < _FIRST_SECOND) | (seconds > _LAST_SECOND))
        texts = np.datetime_as_string(np.where(odd | missing, _FIRST_SECOND, seconds), unit="s")
        out = [
            None if gone else {"S": f"{text}Z" if not ns else (
                f"{text}.{ns:09d}Z" if ns % 1000 else f"{text}.{ns // 1000:06d}Z")}
            for gone, text, ns in zip(missing.tolist(), texts.tolist(), nanos.tolist(), strict=True)
        ]
        for i in np.flatnonzero(odd).tolist():
            try:
                out[i] = to_attribute_value(series.iloc[i], where=where)
            except InvalidArgumentError as exc:
                errors[i] = str(exc)
                out[i] = None
    sizes = np.array(
        [0 if av is None else name_size + _value_size(av) for av in out], dtype=np.int64
    ) if n else np.zeros(0, dtype=np.int64)
    return out, errors, sizes


def _check_frame(df: Any, key_names: tuple[str, ...], table: str) -> list[str]:
    if not isinstance(df, pd.DataFrame):
        raise InvalidArgumentError(
            f"df must be a pandas DataFrame, not {type(df).__name__}; build one with "
            "pd.DataFrame(records)."
        )
    names = list(df.columns)
    bad = [repr(c) for c in names if not isinstance(c, str) or not c]
    if bad:
        raise InvalidArgumentError(
            f"Column names are attribute names and must be non-empty str; got "
            f"{', '.join(bad[:5])}. Rename them (e.g. df.columns = df.columns.astype(str))."
        )
    dups = sorted({c for c in names if names.count(c) > 1})
    if dups:
        raise InvalidArgumentError(
            f"Column names must be unique (each is one attribute); repeated: {', '.join(dups)}."
        )
    missing = [k for k in key_names if k not in names]
    if missing:
        raise InvalidArgumentError(
            f"The frame has no column {missing[0]!r}, a key attribute of table {table!r} "
            f"(its key: {', '.join(key_names)}). Add the column, or rename the one that holds it."
        )
    return names


def _key_problem(
    name: str, av: dict[str, Any] | None, expected: str | None, limit: int
) -> str | None:
    if av is None:
        return f"missing key attribute {name!r}"
    tag = next(iter(av))
    if tag not in _KEY_TYPE_NAMES:
        return f"key attribute {name!r} must be a string, a number or bytes, not {tag}"
    if expected is not None and tag != expected:
        return (
            f"key attribute {name!r} must be a {_KEY_TYPE_NAMES.get(expected, expected)} "
            f"({expected}) as the table defines it, got {tag} {short_repr(av[tag], 40)}"
        )
    if tag in ("S", "B") and len(av[tag]) == 0:
        return f"key attribute {name!r} is empty; DynamoDB key values cannot be empty"
    size = _value_size(av)
    if size > limit:
        return f"key attribute {name!r} is {size:,} bytes; DynamoDB's limit is {limit:,}"
    return None


def _index_key_problem(name: str, av: dict[str, Any], expected: str) -> str | None:
    tag = next(iter(av))
    if tag != expected:
        return (
            f"attribute {name!r} is a key of an index of the table and must be a "
            f"{_KEY_TYPE_NAMES.get(expected, expected)} ({expected}), got {tag} "
            f"{short_repr(av[tag], 40)}; leave it out (None) to keep the item out of the index"
        )
    if tag in ("S", "B") and len(av[tag]) == 0:
        return (
            f"attribute {name!r} is a key of an index of the table and cannot be empty; "
            "leave it out (None) to keep the item out of the index"
        )
    return None


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------


@dataclass(repr=False, eq=False)
class WriteReport:
    """What :func:`write_frame` did.

    Attributes
    ----------
    table : str
        The table, as given (name or ARN).
    rows_total : int
        Rows in the frame.
    rows_written : int
        Rows DynamoDB confirmed written.
    failed : pandas.DataFrame
        Every row not written (duplicates dropped aside): the original index
        and columns plus ``_error``, the reason. Empty when all went well.
    retries : int
        Requests sent again: ``UnprocessedItems`` re-sent by xacct-nb plus
        botocore's own retries of throttled or failed requests.
    duplicates_dropped : int
        Rows dropped because a later row of the frame has the same key.
    duplicate_labels : list
        Their index labels.
    batches : int
        Batches of up to 25 rows sent (re-sends of unprocessed rows excluded).
    requests : int
        BatchWriteItem requests that got an answer, an error included
        (re-sends of unprocessed rows count; botocore's own retries do not).
    consumed_capacity : float
        Write capacity units, as DynamoDB reported them.
    elapsed_seconds : float
        Wall time of the call.
    """

    table: str
    rows_total: int = 0
    rows_written: int = 0
    failed: pd.DataFrame = field(default_factory=pd.DataFrame)
    retries: int = 0
    duplicates_dropped: int = 0
    duplicate_labels: list[Any] = field(default_factory=list)
    batches: int = 0
    requests: int = 0
    consumed_capacity: float = 0.0
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no row failed."""
        return len(self.failed) == 0

    @property
    def rows_failed(self) -> int:
        return len(self.failed)

    def summary(self) -> str:
        """One line: rows written, failed, duplicates, batches, retries, capacity, time."""
        parts = [f"{self.rows_written:,} of {self.rows_total:,} rows written to {self.table!r}"]
        if self.rows_failed:
            parts.append(f"{self.rows_failed:,} failed")
        if self.duplicates_dropped:
            s = "" if self.duplicates_dropped == 1 else "s"
            parts.append(f"{self.duplicates_dropped:,} duplicate key{s} dropped (last row wins)")
        parts.append(f"{self.batches:,} batches")
        parts.append(f"{self.retries:,} retries")
        parts.append(f"{self.consumed_capacity:g} WCU")
        parts.append(f"{self.elapsed_seconds:.2f} s")
        return ", ".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<WriteReport {'ok' if self.ok else 'NOT ok'}: {self.summary()}>"

    def _repr_html_(self) -> str:
        rows = [
            ("table", self.table),
            ("rows written", f"{self.rows_written:,} of {self.rows_total:,}"),
            ("rows failed", f"{self.rows_failed:,}"),
            ("duplicates dropped (last row wins)", f"{self.duplicates_dropped:,}"),
            ("batches / requests", f"{self.batches:,} / {self.requests:,}"),
            ("retries", f"{self.retries:,}"),
            ("consumed capacity (WCU)", f"{self.consumed_capacity:g}"),
            ("elapsed", f"{self.elapsed_seconds:.2f} s"),
        ]
        status = "ok" if self.ok else "NOT ok: see .failed"
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        out = f"<div><b>WriteReport</b> ({html.escape(status)})<table>{body}</table>"
        if self.rows_failed:
            out += "<p>First failed rows (<code>.failed</code>):</p>"
            head = self.failed.head(5)
            head = head.assign(**{c: head[c].map(_preview) for c in head.columns if c != "_error"})
            out += head.to_html(max_cols=12)
        return out + "</div>"


def _preview(value: Any) -> Any:
    """Show a cell in the report's HTML: long values cut (items may be 400 KB)."""
    if isinstance(value, str):
        return value if len(value) <= 60 else value[:57] + "..."
    if isinstance(value, (bytes, bytearray, list, tuple, dict, set, frozenset)):
        return short_repr(value)
    return value


# ---------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------


class _Stop(XacctError):
    """The write cannot go on: ``reason`` for the rows in flight, ``cause`` for the chain."""

    def __init__(self, reason: str, cause: BaseException | None, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause
        self.detail = detail


class _Sender:
    """Send batches; remember what was confirmed and what is in flight."""

    def __init__(
        self,
        ddb: Any,
        table: str,
        request_name: str,
        items: list[dict[str, Any]],
        keys: list[tuple[Any, ...] | None],
        key_names: tuple[str, ...],
        bar: Any,
    ) -> None:
        self.ddb = ddb
        self.table = table
        self.request_name = request_name
        self.items = items
        self.keys = keys
        self.key_names = key_names
        self.bar = bar
        self.in_flight: list[int] = []
        self.refused: dict[int, str] = {}
        self.first_refusal: Exception | None = None
        self.written = 0
        self.retries = 0
        self.batches = 0
        self.requests = 0
        self.capacity = 0.0
        self.stats = ReadStats()  # counts the requests the engine sent again

    def send(self, batch: list[int]) -> None:
        # In this order: a row is always either in flight or in a batch not started.
        self.in_flight = list(batch)
        self.batches += 1
        by_key = {self.keys[pos]: pos for pos in batch}
        attempt = 0
        while self.in_flight:
            puts = [{"PutRequest": {"Item": self.items[pos]}} for pos in self.in_flight]
            attempt += 1
            resumed = self.stats.resumed
            try:
                # Throttling and 5xx are botocore's to retry; a dropped
                # connection or an answer cut short (no UnprocessedItems to
                # trust) is sent again by the engine: puts are idempotent.
                response = request(
                    self.ddb.batch_write_item,
                    {"RequestItems": {self.request_name: puts}, "ReturnConsumedCapacity": "TOTAL"},
                    table=self.table, stats=self.stats, operation="BatchWriteItem",
                    what=f"BatchWriteItem on table {self.table!r}", write=True,
                )
            except IncompleteWriteError as exc:
                self.requests += 1 + self.stats.resumed - resumed
                self.retries += self.stats.resumed - resumed
                raise _Stop("BatchWriteItem got no complete answer, even sent again",
                            exc, str(exc)) from exc
            except ClientError as exc:
                self.requests += 1
                self.retries += int(
                    exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0
                )
                err = translate_client_error(
                    exc, table=self.table, what=f"BatchWriteItem on table {self.table!r}"
                )
                err.__cause__ = exc
                code = getattr(err, "code", "")
                reason = f"{code}: {getattr(err, 'aws_message', '')}"
                if code in PER_BATCH_ERRORS:
                    for pos in self.in_flight:
                        self.refused[pos] = reason
                    self.in_flight = []
                    if self.first_refusal is None:
                        self.first_refusal = err
                    return
                raise _Stop(reason, err, str(err)) from exc
            except BotoCoreError as exc:
                reason = f"{type(exc).__name__}: {exc}"
                raise _Stop(reason, exc, f"the request failed: {reason}") from exc
            except XacctError as exc:  # the engine's own, e.g. credentials still expired
                self.requests += 1
                reason = f"{getattr(exc, 'code', '') or type(exc).__name__}"
                raise _Stop(reason, exc, str(exc)) from exc
            self.requests += 1 + self.stats.resumed - resumed
            self.retries += self.stats.resumed - resumed
            self.retries += int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
            for cc in response.get("ConsumedCapacity") or []:
                self.capacity += float(cc.get("CapacityUnits", 0.0) or 0.0)
            unprocessed = self._unprocessed(response, by_key)
            done = len(self.in_flight) - len(unprocessed)
            self.written += done
            if self.bar is not None and done:
                self.bar.update(done)
            self.in_flight = unprocessed
            if not unprocessed:
                return
            if attempt > UNPROCESSED.retries:
                reason = (
                    f"still unprocessed after {attempt} BatchWriteItem requests "
                    "(DynamoDB returned it in UnprocessedItems each time)"
                )
                raise _Stop(
                    reason,
                    None,
                    f"{len(unprocessed)} rows of a batch were still unprocessed after {attempt} "
                    "BatchWriteItem requests (DynamoDB returned them in UnprocessedItems each "
                    "time); the table's write capacity is probably exhausted: retry later, or "
                    "ask the owner for more capacity",
                )
            self.retries += 1
            UNPROCESSED.sleep(attempt)

    def _unprocessed(self, response: dict[str, Any], by_key: dict[Any, int]) -> list[int]:
        entries = [
            entry
            for requests in (response.get("UnprocessedItems") or {}).values()
            for entry in requests
        ]
        if not entries:
            return []
        positions: list[int] = []
        for entry in entries:
            try:
                key = canonical_key(entry["PutRequest"]["Item"], self.key_names)
                positions.append(by_key[key])
            except (KeyError, TypeError, ArithmeticError):
                # Not one we can match: re-send the whole remainder (puts are idempotent).
                return list(self.in_flight)
        in_flight = set(self.in_flight)
        return sorted(p for p in dict.fromkeys(positions) if p in in_flight)


@dataclass
class _Prepared:
    items: list[dict[str, Any]]
    keys: list[tuple[Any, ...] | None]
    to_send: list[int]
    rejected: dict[int, str]
    dropped: list[int]


def _prepare(df: pd.DataFrame, columns: list[str], schema: KeySchema,
             time_formats: dict[str, TimeFormat] | None = None) -> _Prepared:
    """Run steps 1-4: convert, check keys, resolve duplicates, check values and sizes.

    ``time_formats``: key columns holding datetimes, and the table's format for them.
    """
    key_names = schema.key_names
    n = len(df)
    # 1. Convert, column by column.
    converted: list[list[dict[str, Any] | None]] = []
    problems: dict[int, str] = {}
    key_problems: dict[int, str] = {}
    sizes = np.zeros(n, dtype=np.int64)  # upper bounds of the item sizes
    for j, col in enumerate(columns):
        if time_formats and col in time_formats:
            values, errors = encode_time_cells(
                df.iloc[:, j], time_formats[col], f"attribute {col!r}")
            col_sizes = np.array(
                [0 if av is None else _str_size(col) + _value_size(av) for av in values],
                dtype=np.int64)
        else:
            values, errors, col_sizes = _convert_column(df.iloc[:, j], col)
        converted.append(values)
        sizes += col_sizes
        for pos, reason in errors.items():
            problems.setdefault(pos, reason)
            if col in key_names:
                key_problems.setdefault(pos, reason)
    items: list[dict[str, Any]] = [
        {c: av for c, av in zip(columns, row, strict=True) if av is not None}
        for row in zip(*converted, strict=True)
    ] if columns else [{} for _ in range(n)]
    del converted

    # 2. Keys: present, typed, within limits.
    limits = (MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES)
    # Key attributes of the table's indexes: optional, but typed when present.
    index_keys = [k for k in schema.attribute_types if k not in key_names and k in columns]
    keys: list[tuple[Any, ...] | None] = [None] * n
    for pos, item in enumerate(items):
        if pos in key_problems:
            continue
        for k, limit in zip(key_names, limits, strict=False):
            problem = _key_problem(k, item.get(k), schema.attribute_types.get(k), limit)
            if problem:
                key_problems[pos] = problem
                break
        else:
            keys[pos] = canonical_key(item, key_names)
            for k in index_keys:
                if k in item:
                    problem = _index_key_problem(k, item[k], schema.attribute_types[k])
                    if problem:
                        problems.setdefault(pos, problem)
                        break

    # 3. Duplicates: the last row of a key wins (over the whole frame).
    last: dict[tuple[Any, ...], int] = {}
    dropped: list[int] = []
    for pos, key in enumerate(keys):
        if key is None:
            continue
        previous = last.get(key)
        if previous is not None:
            dropped.append(previous)
        last[key] = pos
    dropped.sort()

    # 4. What cannot be sent: key problems, value problems, oversized items.
    rejected: dict[int, str] = {}
    to_send: list[int] = []
    winners = set(last.values())
    maybe_large = set(np.flatnonzero(sizes > MAX_ITEM_BYTES).tolist())
    for pos in range(n):
        if pos in key_problems:
            rejected[pos] = key_problems[pos]
        elif pos not in winners:
            continue  # an earlier duplicate
        elif pos in problems:
            rejected[pos] = problems[pos]
        elif pos in maybe_large and (size := item_size(items[pos])) > MAX_ITEM_BYTES:
            rejected[pos] = (
                f"item larger than 400 KB ({size:,} bytes by DynamoDB's size rules; the "
                f"limit is {MAX_ITEM_BYTES:,}): split it or store the large parts elsewhere"
            )
        else:
            to_send.append(pos)
    return _Prepared(items, keys, to_send, rejected, dropped)


@public
def write_frame(
    session: Any,
    table: str,
    df: pd.DataFrame,
    *,
    progress: bool | None = None,
    key_schema: Any = None,
    time_format: Any = None,
) -> WriteReport:
    """Write the rows of a DataFrame to a table (BatchWriteItem, 25 rows a request).

    Each row becomes one item (a ``PutRequest``: an existing item with the
    same key is replaced); each column one attribute. The index is not
    written (``df.reset_index()`` first to write it). Values are converted by
    the package's one encoder (:func:`xacct_nb._encode.to_attribute_value`),
    the one keys and conditions use, so the same Python values find the rows
    again in ``sort=`` and ``filter=``: numbers exactly (``0.1`` is stored as
    ``0.1``; ints beyond int64 too), datetimes as ISO 8601 strings in UTC
    with ``Z`` (``"2026-03-01T12:00:00Z"``; naive datetimes are taken as
    UTC), lists, dicts and sets nested; durations are refused. Missing values
    (None, NaN, ``pd.NA``, ``NaT``, empty sets) leave the attribute out of
    that item.

    Checked before anything is sent, per row: the key attributes are
    present, of the table's key types (from DescribeTable), not empty and
    within DynamoDB's key size limits; every value can be stored; the item
    is at most 400 KB (:func:`item_size`). A row that fails a check is not
    sent and lands in ``report.failed`` with the reason; the other rows are
    written.

    Duplicate keys: DynamoDB refuses two puts of one key in one request, and
    the order of requests would decide which one stays. Over the whole
    frame, the **last** row of each key is written and the earlier ones are
    dropped and counted (``report.duplicates_dropped``,
    ``report.duplicate_labels``). Numbers that DynamoDB considers equal
    (``1`` and ``1.0``) are the same key.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. from :func:`xacct_nb.assume_role`).
    table
        Table name or table ARN.
    df
        The rows to write; column names are attribute names.
    progress
        ``None``: a progress bar when there is more than one batch and the
        session is interactive (not when ``XACCT_PROGRESS=never``);
        ``True`` always; ``False`` never.
    key_schema
        Key names, to skip DescribeTable: ``"pk"`` or ``("pk", "sk")`` (then
        the key types are not checked before sending).
    time_format
        How the table's key attributes store times (an addition to the
        design's signature): datetimes (``datetime64`` columns,
        ``pd.Timestamp``, ``datetime``, ``date``) in the partition or sort
        key column are written in the table's own format, sampled from its
        values (a Query of the frame's first partition, else a Scan of 3
        items; an empty table gets what ``write_frame`` writes without a
        format, ISO 8601 with ``Z``, for an S key, and epoch seconds for an
        N key); ``time_format=`` forces it (``"iso-z"``,
        ``"iso-z.3"``, ``"iso-offset+02:00"``, ``"date"``, ``"epoch-s"``,
        ``"epoch-ms"`` (N), a strftime pattern, or ``{attribute: format}``).
        A time finer than the format holds fails its row. Other datetime
        columns are written as ISO 8601 with ``Z``.

    Returns
    -------
    WriteReport
        Rows written and failed, duplicates dropped, retries, capacity.
        Returned when every row that passed the checks was written.

    Raises
    ------
    InvalidArgumentError
        ``df`` is not a DataFrame, lacks a key column, or has non-str or
        repeated column names; nothing was sent.
    IncompleteWriteError
        Some rows could not be written: AWS refused batches (the write went
        on with the others) or the write stopped for good (throttled after
        every retry, interrupted with Ctrl-C / the stop button, ...).
        ``err.report.failed`` holds every unwritten row; pass
        ``err.report.failed.drop(columns="_error")`` to ``write_frame`` to
        write them once the cause is fixed.
    TableNotFoundError, AccessDeniedError
        From DescribeTable, before anything is sent.

    Examples
    --------
    A table of one's own (here account B's administrator creates it):

    >>> ddb = admin.client("dynamodb")
    >>> _ = ddb.create_table(
    ...     TableName="WriteFrameExample", BillingMode="PAY_PER_REQUEST",
    ...     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    ...     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    >>> df = pd.DataFrame({"pk": [f"k-{i:04d}" for i in range(1000)], "n": range(1000)})
    >>> report = write_frame(admin, "WriteFrameExample", df)
    >>> report
    <WriteReport ok: 1,000 of 1,000 rows written to 'WriteFrameExample', 40 batches, ...>
    >>> _ = ddb.delete_table(TableName="WriteFrameExample")
    """
    started = time.monotonic()
    check_session(session, "xn.write_frame")
    if progress not in (None, True, False):
        raise InvalidArgumentError(f"progress must be None, True or False, not {progress!r}.")
    check_time_args(time_format, None)
    ref = parse_table(table)
    name = str(ref)
    if not isinstance(df, pd.DataFrame):
        _check_frame(df, (), name)
    schema = key_schema_for(session, ref, key_schema)
    key_names = schema.key_names
    columns = _check_frame(df, key_names, name)
    time_formats = key_time_formats(session, ref, schema, df, time_format)
    report = WriteReport(table=name, rows_total=len(df))

    with gc_paused():
        prepared = _prepare(df, columns, schema, time_formats)
    items, keys, to_send = prepared.items, prepared.keys, prepared.to_send
    rejected, dropped = prepared.rejected, prepared.dropped
    report.duplicates_dropped = len(dropped)
    report.duplicate_labels = [df.index[pos] for pos in dropped]
    batches = [to_send[i : i + BATCH_SIZE] for i in range(0, len(to_send), BATCH_SIZE)]

    # 5. Send.
    bar = None
    if progress is True or (progress is None and len(batches) > 1 and interactive()):
        from tqdm.auto import tqdm

        bar = tqdm(total=len(to_send), desc=f"Write {ref.name}", unit=" rows", leave=False)
    ddb = dynamodb_client(session, **CLIENT_CONFIG)
    sender = _Sender(ddb, name, ref.request_name, items, keys, key_names, bar)
    stop: _Stop | None = None
    interrupted: KeyboardInterrupt | None = None
    try:
        for batch in batches:
            sender.send(batch)
    except _Stop as exc:
        stop = exc
    except KeyboardInterrupt as exc:
        interrupted = exc
    except Exception as exc:  # noqa: BLE001 - no row may be lost silently
        stop = _Stop(f"{type(exc).__name__}: {exc}", exc, f"unexpected {type(exc).__name__}: {exc}")
    finally:
        if bar is not None:
            bar.close()

    failed: dict[int, str] = dict(rejected)
    failed.update(sender.refused)
    ended = None
    if interrupted is not None:
        ended = (
            "interrupted (KeyboardInterrupt) before DynamoDB confirmed this row",
            "not sent: the write was interrupted (KeyboardInterrupt)",
        )
    elif stop is not None:
        ended = (stop.reason, f"not sent: the write stopped at an earlier batch ({stop.reason})")
    if ended is not None:
        in_flight, later = ended
        for pos in sender.in_flight:
            failed[pos] = in_flight
        for batch in batches[sender.batches :]:
            for pos in batch:
                failed[pos] = later

    # Counted from what is known not to be written, so that written + failed +
    # duplicates dropped is always the frame's length (a row whose answer was
    # lost to an interrupt counts as failed: writing it again is harmless).
    report.rows_written = sum(1 for pos in to_send if pos not in failed)
    report.retries = sender.retries
    report.batches = sender.batches
    report.requests = sender.requests
    report.consumed_capacity = sender.capacity
    report.failed = _failed_frame(df, failed)
    report.elapsed_seconds = time.monotonic() - started

    if interrupted is not None:
        raise IncompleteWriteError(
            _incomplete_message(report, "it was interrupted (KeyboardInterrupt)", ""),
            report=report,
            operation="BatchWriteItem",
            table=name,
        ) from interrupted
    if stop is not None:
        cause = stop.cause
        raise IncompleteWriteError(
            _incomplete_message(report, stop.detail, ""),
            report=report,
            code=getattr(cause, "code", "") or "",
            operation="BatchWriteItem",
            aws_message=getattr(cause, "aws_message", "") or "",
            table=name,
        ) from cause
    if sender.refused:
        first = sender.first_refusal
        raise IncompleteWriteError(
            _incomplete_message(
                report,
                f"AWS refused {len(sender.refused):,} rows: {first}",
                " The other batches were written.",
            ),
            report=report,
            code=getattr(first, "code", "") or "",
            operation="BatchWriteItem",
            aws_message=getattr(first, "aws_message", "") or "",
            table=name,
        ) from first
    if rejected:
        logger.warning(
            "write_frame to %r: %d rows were not sent (see report.failed): %s",
            name, len(rejected), next(iter(rejected.values())),
        )
    else:
        logger.info("write_frame: %s", report.summary())
    return report


def _failed_frame(df: pd.DataFrame, failed: dict[int, str]) -> pd.DataFrame:
    positions = sorted(failed)
    out = df.iloc[positions].copy()
    out["_error"] = np.array([failed[p] for p in positions], dtype=object)
    return out


def _incomplete_message(report: WriteReport, what: str, extra: str) -> str:
    return (
        f"write_frame to table {report.table!r} did not complete: {what.rstrip('. ')}.{extra} "
        f"{report.rows_written:,} of {report.rows_total:,} rows were written; the "
        f"{report.rows_failed:,} unwritten rows are in this error's .report.failed "
        "(column '_error' says why; in a notebook the error is sys.last_value). Once the "
        "cause is fixed, write just those rows: "
        "xn.write_frame(session, table, err.report.failed.drop(columns='_error'))."
    )
