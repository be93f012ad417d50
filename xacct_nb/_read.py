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
(it fetches the next page while the previous one is parsed and decoded), one
per segment for a parallel Scan, whose pages are also decoded by the parsing
threads (up to one per core). A bounded queue keeps a few pages per fetching
thread in memory. Rows come in page order for a Query or a plain Scan, in
the order pages arrive for a parallel Scan.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import queue
import random
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ._clients import client
from ._decode import FrameBuilder, _gc_paused
from ._decode_arrow import PageParser, split_items
from ._errors import (
    ConfigurationError,
    IncompleteReadError,
    InvalidArgumentError,
    XacctError,
    translate_client_error,
)
from ._expressions import build_expressions, key_condition
from ._schema import KeySchema, key_schema_for, parse_table

logger = logging.getLogger("xacct_nb")

_NUMBERS = ("auto", "decimal", "float")
#: After botocore's own retries give up on throttling or a transient failure, the
#: read waits and re-requests the same page (same ExclusiveStartKey) this many times.
RESUME_ATTEMPTS = 6
RESUME_BASE_SECONDS = 1.0
RESUME_CAP_SECONDS = 30.0
#: A Scan of a table larger than this (bytes, from DescribeTable) warns first.
LARGE_SCAN_BYTES = 1 << 30
_TRANSIENT_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


class LargeScanWarning(UserWarning):
    """A full Scan is about to read a large table (item count and size in the message)."""


@dataclass
class ReadStats:
    """What a read cost: capacity, items scanned vs. returned, pages."""

    consumed_capacity: float = 0.0
    scanned_count: int = 0
    count: int = 0
    pages: int = 0
    segments: int = 1
    resumed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_page(self, page: dict[str, Any]) -> None:
        with self._lock:
            self.pages += 1
            self.scanned_count += int(page.get("ScannedCount", 0))
            self.count += len(page.get("Items", ()))
            cc = page.get("ConsumedCapacity")
            if cc:
                self.consumed_capacity += float(cc.get("CapacityUnits", 0.0))

    def add_resume(self) -> None:
        with self._lock:
            self.resumed += 1

    def as_attrs(self) -> dict[str, Any]:
        return {
            "consumed_capacity": self.consumed_capacity,
            "scanned_count": self.scanned_count,
            "count": self.count,
            "pages": self.pages,
            "segments": self.segments,
            "resumed": self.resumed,
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
    """A tqdm bar that appears only for reads of more than one page (unless forced).

    Updated from the thread that decodes, never from the fetching threads.
    """

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


# -- the fast path -------------------------------------------------------------------------


def _take_items(response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                **_: Any) -> None:
    """Botocore ``before-parse`` hook: lift the raw Items out before the parser walks them."""
    if response_dict.get("status_code") != 200:
        return  # errors go through botocore's parser, retries and exceptions as usual
    body = response_dict.get("body")
    if not body:
        return
    split = split_items(body)
    if split is not None:
        # The Items stay raw JSON bytes (a RawItems); botocore parses the rest.
        customized_response_dict["Items"], response_dict["body"] = split
        return
    data = json.loads(body)
    items = data.pop("Items", None)
    if items is None:
        return
    customized_response_dict["Items"] = items
    response_dict["body"] = json.dumps(data).encode()


def raw_items_client(session: Any) -> Any:
    """A DynamoDB client whose Query/Scan ``Items`` are raw wire JSON (B as base64 str).

    ``Items`` is a :class:`~xacct_nb._decode_arrow.RawItems` (the undecoded
    bytes and the count), or a list of wire items if the body did not have
    the expected layout; :class:`~xacct_nb._decode_arrow.PageParser` turns
    either into what :class:`FrameBuilder` takes.

    Everything else (signing, credential refresh, retries, errors, the
    ``LastEvaluatedKey``) is botocore's own.
    """
    ddb = client(session, "dynamodb")
    for operation in ("Query", "Scan"):
        ddb.meta.events.register(f"before-parse.dynamodb.{operation}", _take_items)
    return ddb


# -- paging ----------------------------------------------------------------------------------


def _request(call: Callable[..., dict[str, Any]], params: dict[str, Any], *, table: str,
             stats: ReadStats) -> dict[str, Any]:
    """One page, resumed (same ExclusiveStartKey) after throttling or transient failures."""
    for attempt in range(RESUME_ATTEMPTS + 1):
        try:
            return call(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            transient = error.get("Code") in _TRANSIENT_CODES or status >= 500
            if not transient or attempt == RESUME_ATTEMPTS:
                err = translate_client_error(exc, table=table)
                if transient:
                    raise IncompleteReadError(
                        f"Reading {table!r} stopped after {stats.pages} pages: {err} The read "
                        f"was resumed {stats.resumed} times before giving up; nothing partial "
                        "is returned. Retry later, or with fewer segments.",
                        code=getattr(err, "code", ""), operation=exc.operation_name,
                        table=table, last_evaluated_key=params.get("ExclusiveStartKey"),
                    ) from None
                raise err from None
        except NoCredentialsError:
            raise ConfigurationError(
                f"No AWS credentials to read {table!r}: configure account A's identity "
                "(AWS_PROFILE, `aws sso login`, ...) or use xn.connect() / xn.assume_role."
            ) from None
        except BotoCoreError as exc:
            if attempt == RESUME_ATTEMPTS:
                raise IncompleteReadError(
                    f"Reading {table!r} stopped after {stats.pages} pages: {exc}. Nothing "
                    "partial is returned; check the network and retry.",
                    table=table, last_evaluated_key=params.get("ExclusiveStartKey"),
                ) from None
        stats.add_resume()
        delay = min(RESUME_CAP_SECONDS, RESUME_BASE_SECONDS * 2**attempt) * random.random()
        logger.info("resuming %s after a transient failure (attempt %d, %.2fs)",
                    table, attempt + 1, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _page_stream(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    *,
    table: str,
    stats: ReadStats,
    limit: int | None = None,
    can_limit_requests: bool = False,
    stop: threading.Event | None = None,
) -> Iterator[tuple[Any, bool]]:
    """Yield (items, more_pages) for every page, to the end or to ``limit`` rows.

    ``items`` is what :func:`raw_items_client` gives: a ``RawItems`` (or a
    list of wire items); both have a length and take ``[:n]``.
    """
    params = dict(params, ReturnConsumedCapacity="TOTAL")
    returned = 0
    while stop is None or not stop.is_set():
        if limit is not None and can_limit_requests:
            params["Limit"] = min(limit - returned, 10000)
        page = _request(call, params, table=table, stats=stats)
        stats.add_page(page)
        items = page.get("Items", [])
        more = "LastEvaluatedKey" in page
        if limit is not None and returned + len(items) >= limit:
            items = items[: limit - returned]
            more = False
        returned += len(items)
        yield items, more
        if not more:
            return
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


#: A worker fetches one stream of pages, handing each to ``emit(items, more)``
#: (which returns False once the read is being abandoned).
Worker = Callable[[Callable[[Any, bool], bool], threading.Event], None]
#: Threads that parse and decode pages, at most one per core: the JSON reader
#: releases the GIL, the rest of the decoding does not.
MAX_PARSE_THREADS = min(8, os.cpu_count() or 2)


def _fetcher(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    *,
    table: str,
    stats: ReadStats,
    limit: int | None = None,
    can_limit_requests: bool = False,
) -> Worker:
    """A worker that follows one page stream (see :func:`_page_stream`)."""

    def work(emit: Callable[[Any, bool], bool], stop: threading.Event) -> None:
        for items, more in _page_stream(
            call, params, table=table, stats=stats, limit=limit,
            can_limit_requests=can_limit_requests, stop=stop,
        ):
            if not emit(items, more):
                return

    return work


def _threaded_stream(
    workers: list[Worker], parser: PageParser, *, limit: int | None = None
) -> Iterator[tuple[Any, bool]]:
    """Parsed pages from workers running in threads, in the order they arrive.

    Each worker fetches in its own thread and hands every page over as soon
    as it has arrived, so its next request leaves at once; the pages are
    parsed by a small pool of threads and queued in arrival order. One
    worker (a Query, a plain Scan): its pages in order, fetched and parsed
    ahead while the caller decodes. Several (the segments of a parallel
    scan): each runs to its end. A bounded queue keeps memory to a few pages
    per worker (about 1 MB each while queued). If any worker fails, the
    others stop and the error is raised: never a silently partial result.
    ``limit`` caps the rows over all workers.
    """
    count = len(workers)
    # Pages queued (parsed or being parsed) per worker: two for one stream;
    # four for a parallel scan, whose first pages all arrive at once, so that
    # a slow start of the parsing does not hold back every segment's requests.
    depth = 2 if count == 1 else 4
    pages: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth * count)
    stop = threading.Event()
    order = threading.Lock()
    numbers = itertools.count()
    parsing = ThreadPoolExecutor(
        max_workers=min(count, MAX_PARSE_THREADS), thread_name_prefix="xacct-parse"
    )

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                pages.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def emit(items: Any, more: bool) -> bool:
        # Numbered, submitted and queued under one lock: queue order is
        # number order, which the parser's schema versions rely on.
        with order:
            if stop.is_set():
                return False
            parsed = parsing.submit(parser.parse, items, seq=next(numbers))
            return put(("page", (parsed, more)))

    def run(work: Worker) -> None:
        try:
            work(emit, stop)
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            put(("error", exc))

    pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="xacct-read")
    try:
        for work in workers:
            pool.submit(run, work)
        done, returned = 0, 0
        while done < count:
            kind, value = pages.get()
            if kind == "error":
                raise value
            if kind == "done":
                done += 1
                continue
            parsed, more = value
            items = parsed.result()
            if limit is not None and returned + len(items) >= limit:
                yield items[: limit - returned], False
                return
            returned += len(items)
            yield items, (more if count == 1 else done < count)
    finally:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        parsing.shutdown(wait=True, cancel_futures=True)


# -- frames ----------------------------------------------------------------------------------


def _collect(
    pages: Iterator[tuple[Any, bool]],
    builder: FrameBuilder,
    stats: ReadStats,
    chunksize: int | None,
    progress: _Progress,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    if chunksize is None:
        # The collector stays paused for the whole read (fetching and parsing
        # threads included), not only while each page is decoded: every page
        # leaves long-lived containers (sets, lists) that each collection
        # would scan again (50-150 ms per 200,000 items with 8 segments).
        # A read leaves almost no cyclic garbage behind (~1,000 objects).
        with _gc_paused():
            try:
                for items, more in pages:
                    builder.add_items(items)
                    progress.update(len(items), more)
            finally:
                progress.close()
            df = builder.to_frame()
        df.attrs.update(stats.as_attrs())
        return df
    return _chunks(pages, builder, stats, chunksize, progress)


def _chunks(
    pages: Iterator[tuple[Any, bool]],
    builder: FrameBuilder,
    stats: ReadStats,
    chunksize: int,
    progress: _Progress,
) -> Iterator[pd.DataFrame]:
    yielded = False
    try:
        for items, more in pages:
            progress.update(len(items), more)
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
        close = getattr(pages, "close", None)
        if close is not None:
            close()


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
    ddb = raw_items_client(session)
    fetch = _fetcher(
        ddb.query, params, table=str(ref), stats=stats, limit=limit,
        can_limit_requests=filter is None,
    )
    parser = PageParser(numbers=numbers, flatten=flatten)
    return _collect(_threaded_stream([fetch], parser), builder, stats, chunksize, bar)


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
    With N > 1 rows come in the order pages arrive (a scan has no order;
    sort the frame if you need one). A full Scan of a table larger than
    1 GiB warns first (:class:`LargeScanWarning`) with its item count and
    size. Other parameters as in :func:`read_query`.

    >>> df = read_scan(session, "MyCrossAccountTable", segments=4)   # doctest: +SKIP
    >>> df.attrs["scanned_count"]                                     # doctest: +SKIP
    3000
    """
    _check_common(numbers, limit, chunksize, progress)
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= 1000000:
        raise InvalidArgumentError(f"segments must be an integer from 1 to 1000000, not {segments!r}.")
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
    full = filter is None and index is None and limit is None
    if full and schema is not None and (schema.size_bytes or 0) > LARGE_SCAN_BYTES:
        warnings.warn(
            f"Scanning all of {str(ref)!r}: {schema.item_count:,} items, "
            f"{schema.size_bytes / 2**30:,.1f} GiB. This reads (and is billed for) the whole "
            "table; use read_query, a filter with limit=, or chunksize= to stream it.",
            LargeScanWarning,
            stacklevel=2,
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
    ddb = raw_items_client(session)
    stats = ReadStats(segments=segments)
    if segments == 1:
        workers = [
            _fetcher(
                ddb.scan, params, table=str(ref), stats=stats, limit=limit,
                can_limit_requests=filter is None,
            )
        ]
        pages = _threaded_stream(workers, PageParser(numbers=numbers, flatten=flatten))
    else:
        workers = [
            _fetcher(
                ddb.scan, dict(params, Segment=segment, TotalSegments=segments),
                table=str(ref), stats=stats,
            )
            for segment in range(segments)
        ]
        parser = PageParser(numbers=numbers, flatten=flatten, predecode=True)
        pages = _threaded_stream(workers, parser, limit=limit)
    return _collect(pages, builder, stats, chunksize, bar)
