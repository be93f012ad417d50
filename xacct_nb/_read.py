"""Query, Scan and BatchGetItem into pandas DataFrames.

A read travels one way: session -> pages of items -> :class:`FrameBuilder`
-> DataFrame. Every page is followed until ``LastEvaluatedKey`` is gone
(pages with no items included); a read that cannot finish raises and never
returns a partial frame. Each frame carries its cost in ``df.attrs``:
``consumed_capacity`` (read capacity units), ``scanned_count``, ``count``
and ``pages``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from ._clients import client
from ._decode import FrameBuilder
from ._errors import IncompleteReadError, InvalidArgumentError, XacctError, translate_client_error
from ._expressions import build_expressions, key_condition
from ._schema import KeySchema, TableRef, key_schema_for, parse_table

logger = logging.getLogger("xacct_nb")

_NUMBERS = ("auto", "decimal", "float")


@dataclass
class ReadStats:
    """What a read cost: capacity, items scanned vs. returned, pages."""

    consumed_capacity: float = 0.0
    scanned_count: int = 0
    count: int = 0
    pages: int = 0
    segments: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def add_page(self, page: dict[str, Any]) -> None:
        self.pages += 1
        self.scanned_count += int(page.get("ScannedCount", 0))
        self.count += len(page.get("Items", ()))
        cc = page.get("ConsumedCapacity")
        if cc:
            self.consumed_capacity += float(cc.get("CapacityUnits", 0.0))

    def merge(self, other: ReadStats) -> None:
        self.consumed_capacity += other.consumed_capacity
        self.scanned_count += other.scanned_count
        self.count += other.count
        self.pages += other.pages

    def as_attrs(self) -> dict[str, Any]:
        return {
            "consumed_capacity": self.consumed_capacity,
            "scanned_count": self.scanned_count,
            "count": self.count,
            "pages": self.pages,
            "segments": self.segments,
            **self.extra,
        }


def _check_common(numbers: str, limit: int | None, chunksize: int | None, progress: Any) -> None:
    if numbers not in _NUMBERS:
        raise InvalidArgumentError(
            f"numbers={numbers!r} is not one of {', '.join(map(repr, _NUMBERS))}."
        )
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidArgumentError(f"limit must be a positive integer or None, not {limit!r}.")
    if chunksize is not None and (
        isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1
    ):
        raise InvalidArgumentError(
            f"chunksize must be a positive integer or None, not {chunksize!r}."
        )
    if progress not in (None, True, False):
        raise InvalidArgumentError(f"progress must be None, True or False, not {progress!r}.")


class _Progress:
    """A tqdm bar that appears only for reads of more than one page (unless forced)."""

    def __init__(self, setting: bool | None, desc: str, total: int | None) -> None:
        self.setting = setting
        self.desc = desc
        self.total = total
        self.bar: Any = None

    def update(self, n_items: int, more_pages: bool) -> None:
        if self.bar is None:
            show = self.setting is True or (
                self.setting is None and more_pages and _interactive()
            )
            if not show:
                return
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit=" items", leave=False)
        self.bar.update(n_items)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _interactive() -> bool:
    """In a notebook kernel or a terminal (not a CI log or a batch job).

    ``XACCT_PROGRESS=never`` turns automatic bars off (``progress=True`` still
    shows one), e.g. for notebooks whose outputs are compared in CI.
    """
    if os.environ.get("XACCT_PROGRESS", "").lower() in ("never", "0", "off", "false"):
        return False
    try:
        from IPython import get_ipython

        if get_ipython() is not None and "IPKernelApp" in get_ipython().config:
            return True
    except Exception:  # noqa: BLE001 - IPython missing or unusual
        pass
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _pages(
    call: Any,
    params: dict[str, Any],
    *,
    table: str,
    limit: int | None,
    stats: ReadStats,
    progress: _Progress,
    can_limit_requests: bool,
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's items, following LastEvaluatedKey to the end (or to ``limit`` rows)."""
    params = dict(params, ReturnConsumedCapacity="TOTAL")
    returned = 0
    while True:
        if limit is not None and can_limit_requests:
            params["Limit"] = min(limit - returned, 10000)
        try:
            page = call(**params)
        except ClientError as exc:
            raise translate_client_error(exc, table=table) from None
        except BotoCoreError as exc:
            raise IncompleteReadError(
                f"Reading {table!r} stopped after {stats.pages} pages: {exc}. Nothing "
                "partial is returned; retry the call.",
                table=table,
                last_evaluated_key=params.get("ExclusiveStartKey"),
            ) from exc
        stats.add_page(page)
        items = page.get("Items", [])
        more = "LastEvaluatedKey" in page
        if limit is not None and returned + len(items) >= limit:
            items = items[: limit - returned]
            more = False
        returned += len(items)
        progress.update(len(items), more)
        yield items
        if not more:
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _collect(
    pages: Iterator[list[dict[str, Any]]],
    builder: FrameBuilder,
    stats: ReadStats,
    chunksize: int | None,
    progress: _Progress,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    if chunksize is None:
        try:
            for items in pages:
                builder.add_items(items)
        finally:
            progress.close()
        df = builder.to_frame()
        df.attrs.update(stats.as_attrs())
        return df
    return _chunks(pages, builder, stats, chunksize, progress)


def _chunks(
    pages: Iterator[list[dict[str, Any]]],
    builder: FrameBuilder,
    stats: ReadStats,
    chunksize: int,
    progress: _Progress,
) -> Iterator[pd.DataFrame]:
    yielded = False
    try:
        for items in pages:
            start = 0
            while start < len(items):
                room = chunksize - len(builder)
                builder.add_items(items[start : start + room])
                start += room
                if len(builder) >= chunksize:
                    df = builder.to_frame()
                    df.attrs.update(stats.as_attrs())
                    builder.reset()
                    yielded = True
                    yield df
        if len(builder) or not yielded:
            df = builder.to_frame()
            df.attrs.update(stats.as_attrs())
            builder.reset()
            yield df
    finally:
        progress.close()


def read_query(
    session: Any,
    table: str,
    partition: Any,
    *,
    sort: Any = None,
    index: str | None = None,
    columns: Any = None,
    filter: Any = None,  # noqa: A002 - the documented name
    limit: int | None = None,
    ascending: bool = True,
    consistent: bool = False,
    numbers: str = "auto",
    flatten: bool = False,
    progress: bool | None = None,
    chunksize: int | None = None,
    key_schema: Any = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Query one partition of a table (or index) into a typed DataFrame.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. from :func:`xacct_nb.assume_role`).
    table
        Table name or table ARN.
    partition
        The partition-key value, or ``{name: value}``.
    sort
        ``None``, a boto3 ``Key(...)`` condition, or a tuple such as
        ``("begins_with", "2026-")``, ``(">=", 10)``, ``("between", a, b)``.
    index
        A global or local secondary index.
    columns
        Attributes to return (``ProjectionExpression``).
    filter
        A boto3 ``Attr(...)`` condition, applied by DynamoDB after reading.
    limit
        At most this many rows are returned.
    ascending
        Sort-key order.
    consistent
        Strongly consistent read (not possible on a GSI).
    numbers
        ``"auto"``, ``"decimal"`` or ``"float"`` (see the type contract).
    flatten
        Turn maps into ``parent.child`` columns.
    progress
        ``None``: a bar for multi-page reads when interactive; ``True``/``False``.
    chunksize
        Return an iterator of DataFrames of at most this many rows.
    key_schema
        Key names, to skip DescribeTable: ``"pk"`` or ``("pk", "sk")``.

    Returns
    -------
    pandas.DataFrame or iterator of DataFrames
        Cost in ``df.attrs``.

    >>> df = read_query(session, "MyCrossAccountTable", "C-0001",   # doctest: +SKIP
    ...                 sort=("begins_with", "2026-03"))
    """
    _check_common(numbers, limit, chunksize, progress)
    ref = parse_table(table)
    schema = key_schema_for(session, ref, key_schema)
    part_name, sort_name, kind = schema.for_index(index, str(ref))
    if isinstance(partition, dict):
        if len(partition) != 1:
            raise InvalidArgumentError(
                f"partition={partition!r} must be a value or a one-entry dict {{name: value}}."
            )
        (given_name, partition), = partition.items()
        if given_name != part_name:
            raise InvalidArgumentError(
                f"{given_name!r} is not the partition key of {str(ref)!r}"
                + (f" index {index!r}" if index else "")
                + f": it is {part_name!r}."
            )
    if consistent and kind == "GSI":
        raise InvalidArgumentError(
            f"consistent=True is not possible on global secondary index {index!r}: "
            "DynamoDB reads GSIs eventually consistently only. Drop consistent=True, "
            "or query the table itself."
        )
    params: dict[str, Any] = {"TableName": ref.request_name, "ScanIndexForward": bool(ascending)}
    params.update(
        build_expressions(
            key=key_condition(part_name, partition, sort_name, sort), filter=filter, columns=columns
        )
    )
    if index is not None:
        params["IndexName"] = index
    if consistent:
        params["ConsistentRead"] = True
    stats = ReadStats()
    keys = _frame_keys(schema, index, columns)
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=keys)
    bar = _Progress(progress, f"Query {ref.name}", None)
    ddb = client(session, "dynamodb")
    pages = _pages(
        ddb.query, params, table=str(ref), limit=limit, stats=stats, progress=bar,
        can_limit_requests=filter is None,
    )
    return _collect(pages, builder, stats, chunksize, bar)


def _frame_keys(schema: KeySchema, index: str | None, columns: Any) -> tuple[str, ...]:
    names = list(schema.key_names)
    if index is not None:
        part, sort, _ = schema.indexes.get(index, (None, None, None))
        names += [n for n in (part, sort) if n and n not in names]
    if columns is not None:
        wanted = {columns} if isinstance(columns, str) else set(columns)
        names = [n for n in names if n in wanted]
    return tuple(names)


def read_scan(
    session: Any,
    table: str,
    *,
    filter: Any = None,  # noqa: A002 - the documented name
    columns: Any = None,
    index: str | None = None,
    segments: int = 1,
    limit: int | None = None,
    consistent: bool = False,
    numbers: str = "auto",
    flatten: bool = False,
    progress: bool | None = None,
    chunksize: int | None = None,
    key_schema: Any = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Scan a whole table (or index) into a typed DataFrame.

    ``segments=N`` runs a parallel scan of N segments in threads; every
    segment is read to its end, and if any fails the whole read raises.
    Other parameters as in :func:`read_query`.

    >>> df = read_scan(session, "MyCrossAccountTable", segments=4)   # doctest: +SKIP
    >>> df.attrs["scanned_count"]                                     # doctest: +SKIP
    3000
    """
    _check_common(numbers, limit, chunksize, progress)
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= 1000000:
        raise InvalidArgumentError(f"segments must be an integer from 1 to 1000000, not {segments!r}.")
    if segments > 1 and chunksize is not None:
        raise InvalidArgumentError(
            "chunksize with segments > 1 is not supported yet: use segments=1 for streaming."
        )
    ref = parse_table(table)
    try:
        schema: KeySchema | None = key_schema_for(session, ref, key_schema)
    except XacctError as exc:
        if getattr(exc, "code", "") not in ("AccessDeniedException",):
            raise
        schema = None  # Scan needs no key names; the frame just cannot put them first.
    kind = schema.for_index(index, str(ref))[2] if (schema and index) else None
    if consistent and kind == "GSI":
        raise InvalidArgumentError(
            f"consistent=True is not possible on global secondary index {index!r}."
        )
    params: dict[str, Any] = {"TableName": ref.request_name}
    params.update(build_expressions(filter=filter, columns=columns))
    if index is not None:
        params["IndexName"] = index
    if consistent:
        params["ConsistentRead"] = True
    keys = _frame_keys(schema, index, columns) if schema else ()
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=keys)
    total = schema.item_count if (schema and filter is None and index is None) else None
    bar = _Progress(progress, f"Scan {ref.name}", total)
    ddb = client(session, "dynamodb")
    stats = ReadStats(segments=segments)
    if segments == 1:
        pages = _pages(
            ddb.scan, params, table=str(ref), limit=limit, stats=stats, progress=bar,
            can_limit_requests=filter is None,
        )
        return _collect(pages, builder, stats, chunksize, bar)
    return _parallel_scan(ddb, params, ref, segments, limit, builder, stats, bar)


def _parallel_scan(
    ddb: Any,
    params: dict[str, Any],
    ref: TableRef,
    segments: int,
    limit: int | None,
    builder: FrameBuilder,
    stats: ReadStats,
    bar: _Progress,
) -> pd.DataFrame:
    def run(segment: int) -> tuple[list[list[dict[str, Any]]], ReadStats]:
        seg_stats = ReadStats()
        seg_params = dict(params, Segment=segment, TotalSegments=segments)
        pages = list(
            _pages(ddb.scan, seg_params, table=str(ref), limit=None, stats=seg_stats,
                   progress=bar, can_limit_requests=False)
        )
        return pages, seg_stats

    try:
        with ThreadPoolExecutor(max_workers=min(segments, 32), thread_name_prefix="xacct-scan") as pool:
            results = list(pool.map(run, range(segments)))
    finally:
        bar.close()
    returned = 0
    for pages, seg_stats in results:
        stats.merge(seg_stats)
        for items in pages:
            if limit is not None:
                items = items[: max(0, limit - returned)]
            builder.add_items(items)
            returned += len(items)
    df = builder.to_frame()
    df.attrs.update(stats.as_attrs())
    return df
