"""Query and Scan into pandas DataFrames (BatchGetItem is in ``_read_items``).

A read travels one way: session -> pages of raw items -> :class:`FrameBuilder`
-> DataFrame. Every page is followed until ``LastEvaluatedKey`` is gone
(pages with no items included); a read that cannot finish raises and never
returns a partial frame. Each frame carries its cost in ``df.attrs``:
``consumed_capacity`` (read capacity units), ``scanned_count``, ``count``,
``pages``, ``segments`` and ``resumed`` (pages re-requested after throttling).

The fast path
-------------
botocore's response parser walks every attribute of every item through the
service model; for a Scan that is most of the client's time. The readers
keep botocore for what it is good at (signing, credentials and their
refresh, endpoint resolution, retries, error parsing) and take only the
``Items`` array out of the raw response before the parser sees it
(botocore's ``before-parse`` event): the parser then handles a few hundred
bytes of ``LastEvaluatedKey`` and counts. The items stay bytes until a
parsing thread reads them with pyarrow's JSON reader, with the GIL released
(:mod:`xacct_nb._decode_arrow`; small pages, and pages it cannot decode with
certainty, take ``json.loads`` and the exact column decoder).

Every read fetches in background threads: one for a Query or a plain Scan
(it fetches the next page while the previous one is parsed and decoded), at
most :data:`~xacct_nb._engine.MAX_FETCH_THREADS` for a parallel Scan however
many segments it has (the others wait their turn), whose pages are also
decoded by the parsing threads (up to one per core). A bounded queue keeps a
few pages per fetching thread in memory. Rows come in page order for a Query or a plain Scan, in
the order pages arrive for a parallel Scan.

This module builds the requests; the request engine (:mod:`xacct_nb._engine`)
sends them, pages, resumes, runs the threads and builds the frames.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ._budget import check_max_rcu, read_budget
from ._cache import cached_read, check_cache
from ._decode import FrameBuilder
from ._decode_arrow import PageParser
from ._describe import scan_guard
from ._engine import (
    MAX_FETCH_THREADS,
    Progress,
    ReadStats,
    check_read_args,
    collect,
    fetcher,
    ordered_stream,
    raw_items_client,
    threaded_stream,
)
from ._errors import InvalidArgumentError, XacctError
from ._expressions import build_expressions, key_condition
from ._parallel import AIMD, auto_segments, report, scan_size, watch_throttles
from ._schema import KeySchema, frame_keys, key_schema_for, parse_table
from ._timeformat import TimeContext, check_time_args
from ._validate import (
    check_bool,
    check_key_value,
    check_number,
    check_session,
    check_sort_values,
    check_str,
    check_strings,
    public,
)

__all__ = ["read_query", "read_scan"]


def _is_many(partition: Any) -> bool:
    """Whether ``partition`` lists several partition values (a set is refused elsewhere)."""
    return isinstance(partition, (list, tuple, set, frozenset, pd.Series, pd.Index, np.ndarray))


@public
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
    time_format: str | None = None,
    parse_dates: Any = None,
    cache: Any = None,
    max_rcu: Any = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Query one partition of a table (or index) into a typed DataFrame.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. from :func:`xacct_nb.assume_role`).
    table
        Table name or table ARN.
    partition
        The partition-key value, or ``{name: value}``; or a list of values
        (``["C-0001", "C-0002"]``, a Series, an array; ``{name: [...]}``):
        their Queries run concurrently (at most
        :data:`~xacct_nb._engine.MAX_PARTITION_THREADS` at a time) into one
        frame whose rows come grouped in the order the partitions were
        asked for (a value asked twice is read once); ``df.attrs["partitions"]``
        counts them. ``limit`` caps the rows of the whole frame.
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
        Key names, to skip DescribeTable: ``"pk"`` or ``("pk", "sk")``; with
        ``{"partition": "pk", "sort": "sk", "types": {"pk": "S", "sk": "N"}}``
        the key values are also checked against their types before sending.
    time_format
        How the table stores the times ``sort=`` / ``filter=`` compare with
        when they are ``datetime`` / ``date`` / ``pd.Timestamp`` values:
        ``"iso-z"``, ``"iso-z.3"``, ``"iso-offset+02:00"``, ``"date"``,
        ``"epoch-s"``, ``"epoch-ms"``, a ``strftime`` pattern or
        ``{attribute: format}``. ``None`` detects it from a few stored values
        (one small Query of the same partition), only when a condition holds a
        datetime; ``df.attrs["time_format"]`` says what was used. See
        :mod:`xacct_nb._timeformat`.
    parse_dates
        Columns to turn into ``datetime64[ns, UTC]``: a name, a list, or
        ``True`` for the sort key (when it holds times) and every string
        column whose values all look like ISO 8601.
    cache
        ``True`` or a max age (``"1h"``, seconds, a ``timedelta``): keep the
        frame on disk and answer the same read by the same role from there
        at no cost (see :mod:`xacct_nb.cache`); ``df.attrs["cache"]`` says
        whether it was a hit.
    max_rcu
        A read-capacity budget for the whole read (every partition): at most
        this many read capacity units per second on average (a positive
        number), or ``"N%"`` of the table's (a GSI's) provisioned read
        capacity, or ``"off"``. ``None``: ``XACCT_MAX_RCU`` or ``max_rcu`` in
        ``xacct.toml`` if set, else no limit. See :mod:`xacct_nb._budget`.

    Returns
    -------
    pandas.DataFrame or iterator of DataFrames
        Cost in ``df.attrs``: ``consumed_capacity``, ``scanned_count``,
        ``count``, ``pages``, ``segments``, ``resumed``, and ``max_rcu`` (the
        budget used, or ``None``), ``throttled`` (throttled requests),
        ``waited_seconds`` (time waited for the budget or after throttling).

    Raises
    ------
    InvalidArgumentError
        An argument is malformed, or ``partition`` / ``sort`` does not fit the
        key's type (S, N or B); nothing was sent.
    EndpointError
        The endpoint could not be reached, or answered in another format.

    Examples
    --------
    >>> df = read_query(session, "MyCrossAccountTable", "C-0001",
    ...                 sort=("begins_with", "2026-03"))
    >>> df[["customer_id", "order_ts", "total"]]
      customer_id              order_ts  total
    0      C-0001  2026-03-05T19:55:00Z    ...
    1      C-0001  2026-03-14T04:14:00Z    ...
    >>> df.attrs["count"]
    2

    The same month as a range of Python datetimes, encoded the way the table
    stores ``order_ts``, with the column parsed on the way out:

    >>> from datetime import datetime
    >>> march = read_query(session, "MyCrossAccountTable", "C-0001",
    ...                    sort=("between", datetime(2026, 3, 1), datetime(2026, 4, 1)),
    ...                    parse_dates=["order_ts"])
    >>> march["order_ts"].tolist()
    [Timestamp('2026-03-05 19:55:00+0000', tz='UTC'), Timestamp('2026-03-14 04:14:00+0000', tz='UTC')]

    Several partitions in one frame, grouped in the order asked:

    >>> both = read_query(session, "MyCrossAccountTable", ["C-0002", "C-0001"])
    >>> both["customer_id"].unique().tolist(), both.attrs["partitions"]
    (['C-0002', 'C-0001'], 2)
    """
    check_session(session, "xn.read_query")
    check_read_args(numbers, limit, chunksize, progress)
    check_max_rcu(max_rcu)
    for flag, value in (("ascending", ascending), ("consistent", consistent), ("flatten", flatten)):
        check_bool(flag, value)
    check_strings("columns", columns)
    check_str("index", index, optional=True)
    check_time_args(time_format, parse_dates)
    check_cache(cache, chunksize)
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
    many = _is_many(partition)
    if isinstance(partition, (set, frozenset)):
        raise InvalidArgumentError(
            f"partition= got a {type(partition).__name__}, which has no order: rows come "
            "grouped in the order the partitions are asked for, so pass a list, e.g. "
            "sorted(values)."
        )
    asked = list(partition) if many else [partition]
    types = schema.attribute_types
    for value in asked:
        check_key_value("partition", part_name, types.get(part_name), value, str(ref))
    if consistent and kind == "GSI":
        raise InvalidArgumentError(
            f"consistent=True is not possible on global secondary index {index!r}: "
            "DynamoDB reads GSIs eventually consistently only. Drop consistent=True, "
            "or query the table itself."
        )
    build_expressions(filter=filter, columns=columns)  # a bad one raises before any request
    times = TimeContext(session, ref, schema, index=index, time_format=time_format,
                        parse_dates=parse_dates, partition=asked[0] if asked else None)
    sort = times.sort_condition(sort_name, sort)
    filter = times.filter_condition(filter)  # noqa: A001
    check_sort_values(sort_name, types.get(sort_name or ""), sort, str(ref))
    base: dict[str, Any] = {"TableName": ref.request_name, "ScanIndexForward": bool(ascending)}
    if index is not None:
        base["IndexName"] = index
    if consistent:
        base["ConsistentRead"] = True
    # One Query per distinct partition, in the order asked (a repeat would return its
    # rows twice): the wire value tells repeats apart (1 and 1.0 are one N key).
    queries: dict[str, dict[str, Any]] = {}
    for value in asked:
        params = dict(base)
        params.update(build_expressions(
            key=key_condition(part_name, value, sort_name, sort), filter=filter, columns=columns
        ))
        queries.setdefault(json.dumps(params["ExpressionAttributeValues"][":v0"],
                                      sort_keys=True), params)
    stats = ReadStats(budget=read_budget(
        max_rcu, table=str(ref), index=index if kind == "GSI" else None,
        describe=lambda: schema.description or key_schema_for(session, ref).description,
        description=schema.description))
    if many:
        stats.extra["partitions"] = len(queries)
    keys = frame_keys(schema, index, columns)
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=keys)
    label = f"Query {ref.name}" + (f" ({len(queries):,} partitions)" if many else "")
    bar = Progress(progress, label, None)
    ddb = raw_items_client(session)
    workers = [
        (fetcher(ddb.query, params, table=str(ref), stats=stats, limit=limit,
                 can_limit_requests=filter is None),
         PageParser(numbers=numbers, flatten=flatten))
        for params in queries.values()
    ]
    if many:
        pages = ordered_stream(workers, limit=limit)
    else:
        pages = threaded_stream([workers[0][0]], workers[0][1])
    request = (dict(next(iter(queries.values())), Limit=limit) if not many
               else {"Queries": list(queries.values()), "Limit": limit})
    frames = cached_read(
        session, operation="Query", table=str(ref), request=request,
        numbers=numbers, flatten=flatten, cache=cache,
        run=lambda: collect(pages, builder, stats, chunksize, bar),
    )
    return times.parse(frames)


@public
def read_scan(
    session: Any,
    table: str,
    *,
    filter: Any = None,  # noqa: A002 - the documented name
    columns: Any = None,
    index: str | None = None,
    segments: int | str = 1,
    limit: int | None = None,
    consistent: bool = False,
    numbers: str = "auto",
    flatten: bool = False,
    progress: bool | None = None,
    chunksize: int | None = None,
    key_schema: Any = None,
    time_format: str | None = None,
    parse_dates: Any = None,
    cache: Any = None,
    max_cost: float | None = None,
    max_rcu: Any = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Scan a whole table (or index) into a typed DataFrame.

    ``segments=N`` (1 to 1,000,000) runs a parallel scan of N segments in
    at most 16 threads, whatever N; every segment is read to its end, and
    if any fails the whole read raises.
    ``segments="auto"`` chooses N from the table's size (DescribeTable):
    1 for a table of at most two pages, one per page up to 16, then one per
    2 MiB, at most 1,000; and lets the number of segments read at once adapt
    during the read (from 8, up while the throughput rises, halved on
    throttling; see :mod:`xacct_nb._parallel`). ``df.attrs["segments"]`` is
    the N used, ``df.attrs["concurrency"]`` the most segments read at once
    and ``df.attrs["concurrency_history"]`` its changes.
    With N > 1 rows come in the order pages arrive (a scan has no order;
    sort the frame if you need one). A full Scan of a table larger than
    1 GiB warns first (:class:`LargeScanWarning`) with its item count and
    size and the estimated cost. Other parameters as in :func:`read_query`.

    Parameters
    ----------
    max_cost
        Refuse, before anything is read, a Scan estimated to cost more than
        this many read capacity units (a positive number), raising
        :class:`~xacct_nb.CostLimitError` with the estimate, the limit and what
        to do. The estimate comes from DescribeTable's size: a page is billed
        by the items it reads rounded up to 4 KB (halved when not
        ``consistent``); a filter or ``columns=`` does not make a Scan
        cheaper, ``limit=`` without a filter does. If DescribeTable is not
        allowed the cost cannot be estimated and the Scan is refused too. See
        :func:`~xacct_nb.describe` and :meth:`~xacct_nb.TableInfo.cost`.
    max_rcu
        A read-capacity budget shared by all segments, as in
        :func:`read_query`: ``df.attrs`` says ``max_rcu``, ``throttled`` and
        ``waited_seconds``.

    Examples
    --------
    >>> df = read_scan(session, "MyCrossAccountTable", segments=4)
    >>> df.attrs["scanned_count"], df.attrs["segments"]
    (3000, 4)

    At most 1,000 read capacity units per second for all segments together
    (a full Scan of the demo table costs about 290, well within the first
    second's burst):

    >>> df = read_scan(session, "MyCrossAccountTable", segments=4, max_rcu=1000)
    >>> df.attrs["max_rcu"], df.attrs["throttled"], len(df)
    (1000.0, 0, 3000)
    """
    check_session(session, "xn.read_scan")
    check_read_args(numbers, limit, chunksize, progress)
    for flag, value in (("consistent", consistent), ("flatten", flatten)):
        check_bool(flag, value)
    check_strings("columns", columns)
    check_str("index", index, optional=True)
    check_time_args(time_format, parse_dates)
    check_cache(cache, chunksize)
    check_number("max_cost", max_cost, optional=True, where="xn.read_scan")
    check_max_rcu(max_rcu)
    auto = isinstance(segments, str) and segments == "auto"
    if not auto and (isinstance(segments, bool) or not isinstance(segments, int)
                     or not 1 <= segments <= 1000000):
        raise InvalidArgumentError(
            f'segments must be an integer from 1 to 1000000 or "auto", not {segments!r}.')
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
    build_expressions(filter=filter, columns=columns)  # a bad one raises before any request
    times = TimeContext(session, ref, schema, index=index, time_format=time_format,
                        parse_dates=parse_dates)
    filter = times.filter_condition(filter)  # noqa: A001
    if auto:  # TotalSegments from the size; how many are read at once adapts (AIMD)
        segments = auto_segments(scan_size(schema, index, limit, filter is not None))
    assert isinstance(segments, int)
    scan_guard(session, ref, schema, filter=filter, index=index, limit=limit,
               consistent=consistent, max_cost=max_cost, segments=segments)
    params: dict[str, Any] = {"TableName": ref.request_name}
    params.update(build_expressions(filter=filter, columns=columns))
    if index is not None:
        params["IndexName"] = index
    if consistent:
        params["ConsistentRead"] = True
    keys = frame_keys(schema, index, columns) if schema else ()
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=keys)
    total = schema.item_count if (schema and filter is None and index is None) else None
    bar = Progress(progress, f"Scan {ref.name}", total)
    ddb = raw_items_client(session)
    stats = ReadStats(segments=segments, budget=read_budget(
        max_rcu, table=str(ref), index=index if kind == "GSI" else None,
        describe=lambda: (schema.description if schema else None)
        or key_schema_for(session, ref).description,
        description=schema.description if schema else None))
    if segments == 1:
        workers = [
            fetcher(
                ddb.scan, params, table=str(ref), stats=stats, limit=limit,
                can_limit_requests=filter is None,
            )
        ]
        pages = threaded_stream(workers, PageParser(numbers=numbers, flatten=flatten))
    else:
        # Built when a fetching thread is free: a million segments cost a
        # million small dicts only over time, never at once.
        segment_workers = (
            fetcher(
                ddb.scan, dict(params, Segment=segment, TotalSegments=segments),
                table=str(ref), stats=stats,
            )
            for segment in range(segments)
        )
        parser = PageParser(numbers=numbers, flatten=flatten, predecode=True)
        controller = AIMD(cap=min(segments, MAX_FETCH_THREADS),
                          room=getattr(stats.budget, "room", None)) if auto else None
        if controller is not None:
            watch_throttles(ddb, controller)
        pages = threaded_stream(segment_workers, parser, limit=limit, count=segments,
                                concurrency=controller)
        if controller is not None:
            pages = report(pages, stats.extra, controller)
    if auto and segments == 1:
        stats.extra.update(concurrency=1, concurrency_history=[])
    frames = cached_read(
        session, operation="Scan", table=str(ref),
        request=dict(params, Limit=limit, TotalSegments=segments),
        numbers=numbers, flatten=flatten, cache=cache,
        run=lambda: collect(pages, builder, stats, chunksize, bar),
    )
    return times.parse(frames)
