"""The request engine: how every read of every capability talks to DynamoDB.

Capabilities (``_read``, ``_read_items``, ``_write``, ``_snapshot``, ``dask``,
``_export``) build their requests; this module sends them and turns the
answers into pages and frames:

- **one retry/backoff policy** (:class:`RetryPolicy`): after botocore's own
  retries give up on throttling or a transient failure, a page is
  re-requested (:data:`RESUME`); a batch request re-sends its unprocessed
  keys or items (:data:`UNPROCESSED`). Both wait with exponential backoff
  and full jitter (:meth:`RetryPolicy.delay`);
- **fault classification**: transient (:data:`TRANSIENT_CODES`, HTTP 5xx,
  connection errors) is resumed, everything else is translated onto the
  error tree at once (:func:`request_page`);
- **paging** (:func:`page_stream`) to the end or to a row limit, and the
  fast path (:func:`raw_items_client`) that keeps Items as raw bytes;
- **bounded concurrency** (:func:`threaded_stream`): fetching threads hand
  pages to a small pool of parsing threads through a bounded queue;
- **frames** (:func:`collect`), **progress** (:class:`Progress`,
  :func:`interactive`) and **stats** (:class:`ReadStats`).
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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ._clients import client
from ._decode import NUMBER_MODES, FrameBuilder, gc_paused
from ._decode_arrow import PageParser, split_items
from ._errors import (
    ConfigurationError,
    IncompleteReadError,
    InvalidArgumentError,
    translate_client_error,
)

__all__ = [
    "MAX_PARSE_THREADS",
    "RESUME",
    "TRANSIENT_CODES",
    "UNPROCESSED",
    "Progress",
    "ReadStats",
    "RetryPolicy",
    "Worker",
    "check_read_args",
    "chunks",
    "collect",
    "current_kernel",
    "fetcher",
    "interactive",
    "page_stream",
    "raw_items_client",
    "request_page",
    "threaded_stream",
]

logger = logging.getLogger("xacct_nb")

#: Error codes resumed after botocore's own retries (with HTTP 5xx and connection errors).
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
})


# -- the retry/backoff policy -------------------------------------------------------------


@dataclass
class RetryPolicy:
    """How often a request is re-sent, and how long to wait before each time.

    Attributes
    ----------
    retries : int
        Re-sends after the first request: at most ``retries + 1`` requests.
    base, cap : float
        The wait before re-send number ``attempt`` (1, 2, ...) is uniform in
        ``[0, min(cap, base * 2 ** (attempt - 1))]`` seconds ("full jitter").

    >>> RetryPolicy(retries=3, base=0.5, cap=1.0).delay(4) <= 1.0
    True
    """

    retries: int
    base: float
    cap: float

    def delay(self, attempt: int) -> float:
        """Seconds to wait before re-send number ``attempt`` (from 1), full jitter."""
        return random.uniform(0.0, min(self.cap, self.base * 2 ** (attempt - 1)))

    def sleep(self, attempt: int) -> float:
        """Wait :meth:`delay` seconds; return how long."""
        seconds = self.delay(attempt)
        time.sleep(seconds)
        return seconds


#: A page (same ExclusiveStartKey) re-requested after throttling or a transient
#: failure outlived botocore's own retries (those are in ``_clients``).
RESUME = RetryPolicy(retries=6, base=1.0, cap=30.0)
#: A batch's UnprocessedKeys / UnprocessedItems sent again (BatchGetItem /
#: BatchWriteItem): at most 8 requests per batch.
UNPROCESSED = RetryPolicy(retries=7, base=0.05, cap=5.0)


# -- stats, arguments, progress -------------------------------------------------------------


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
        """Count one page: its items, scanned count and consumed capacity."""
        with self._lock:
            self.pages += 1
            self.scanned_count += int(page.get("ScannedCount", 0))
            self.count += len(page.get("Items", ()))
            cc = page.get("ConsumedCapacity")
            if cc:
                self.consumed_capacity += float(cc.get("CapacityUnits", 0.0))

    def add_resume(self) -> None:
        """Count one page re-requested after a transient failure."""
        with self._lock:
            self.resumed += 1

    def as_attrs(self) -> dict[str, Any]:
        """The cost as ``df.attrs`` entries."""
        return {
            "consumed_capacity": self.consumed_capacity,
            "scanned_count": self.scanned_count,
            "count": self.count,
            "pages": self.pages,
            "segments": self.segments,
            "resumed": self.resumed,
            **self.extra,
        }


def check_read_args(numbers: str, limit: int | None, chunksize: int | None, progress: Any) -> None:
    """Check the arguments every reader shares; raise :class:`InvalidArgumentError`."""
    if numbers not in NUMBER_MODES:
        raise InvalidArgumentError(
            f"numbers={numbers!r} is not one of {', '.join(map(repr, NUMBER_MODES))}."
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


class Progress:
    """A tqdm bar that appears only for reads of more than one page (unless forced).

    Updated from the thread that decodes, never from the fetching threads.
    """

    def __init__(self, setting: bool | None, desc: str, total: int | None) -> None:
        self.setting = setting
        self.desc = desc
        self.total = total
        self.bar: Any = None

    def update(self, n_items: int, more_pages: bool) -> None:
        """Advance by ``n_items``; the bar appears once a second page is known to come."""
        if self.bar is None:
            show = self.setting is True or (
                self.setting is None and more_pages and interactive()
            )
            if not show:
                return
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc=self.desc, unit=" items", leave=False)
        self.bar.update(n_items)

    def close(self) -> None:
        """Close the bar, if one was shown."""
        if self.bar is not None:
            self.bar.close()


def current_kernel() -> Any:
    """The running Jupyter kernel (``get_ipython().kernel``), or ``None`` outside one."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:  # noqa: BLE001 - IPython missing or unusual
        return None
    return getattr(shell, "kernel", None) if shell is not None else None


def interactive() -> bool:
    """In a notebook kernel or a terminal (not a CI log or a batch job).

    ``XACCT_PROGRESS=never`` turns automatic bars off (``progress=True`` still
    shows one), e.g. for notebooks whose outputs are compared in CI.
    """
    if os.environ.get("XACCT_PROGRESS", "").lower() in ("never", "0", "off", "false"):
        return False
    if current_kernel() is not None:
        return True
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
    either into what :class:`~xacct_nb._decode.FrameBuilder` takes.

    Everything else (signing, credential refresh, retries, errors, the
    ``LastEvaluatedKey``) is botocore's own.
    """
    ddb = client(session, "dynamodb")
    for operation in ("Query", "Scan"):
        ddb.meta.events.register(f"before-parse.dynamodb.{operation}", _take_items)
    return ddb


# -- paging ----------------------------------------------------------------------------------


def request_page(call: Callable[..., dict[str, Any]], params: dict[str, Any], *, table: str,
             stats: ReadStats) -> dict[str, Any]:
    """One page, resumed (same ExclusiveStartKey) after throttling or transient failures."""
    policy = RESUME
    for attempt in range(policy.retries + 1):
        try:
            return call(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            transient = error.get("Code") in TRANSIENT_CODES or status >= 500
            if not transient or attempt == policy.retries:
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
            if attempt == policy.retries:
                raise IncompleteReadError(
                    f"Reading {table!r} stopped after {stats.pages} pages: {exc}. Nothing "
                    "partial is returned; check the network and retry.",
                    table=table, last_evaluated_key=params.get("ExclusiveStartKey"),
                ) from None
        stats.add_resume()
        delay = policy.delay(attempt + 1)
        logger.info("resuming %s after a transient failure (attempt %d, %.2fs)",
                    table, attempt + 1, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def page_stream(
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
        page = request_page(call, params, table=table, stats=stats)
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


def fetcher(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    *,
    table: str,
    stats: ReadStats,
    limit: int | None = None,
    can_limit_requests: bool = False,
) -> Worker:
    """A worker that follows one page stream (see :func:`page_stream`)."""

    def work(emit: Callable[[Any, bool], bool], stop: threading.Event) -> None:
        for items, more in page_stream(
            call, params, table=table, stats=stats, limit=limit,
            can_limit_requests=can_limit_requests, stop=stop,
        ):
            if not emit(items, more):
                return

    return work


def threaded_stream(
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


def collect(
    pages: Iterator[tuple[Any, bool]],
    builder: FrameBuilder,
    stats: ReadStats,
    chunksize: int | None,
    progress: Progress,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Decode ``pages`` into one frame, or into an iterator of frames of ``chunksize`` rows.

    Each frame carries the read's cost (``stats``) in ``df.attrs``.
    """
    if chunksize is None:
        # The collector stays paused for the whole read (fetching and parsing
        # threads included), not only while each page is decoded: every page
        # leaves long-lived containers (sets, lists) that each collection
        # would scan again (50-150 ms per 200,000 items with 8 segments).
        # A read leaves almost no cyclic garbage behind (~1,000 objects).
        with gc_paused():
            try:
                for items, more in pages:
                    builder.add_items(items)
                    progress.update(len(items), more)
            finally:
                progress.close()
            df = builder.to_frame()
        df.attrs.update(stats.as_attrs())
        return df
    return chunks(pages, builder, stats, chunksize, progress)


def chunks(
    pages: Iterator[tuple[Any, bool]],
    builder: FrameBuilder,
    stats: ReadStats,
    chunksize: int,
    progress: Progress,
) -> Iterator[pd.DataFrame]:
    """Frames of at most ``chunksize`` rows (at least one, maybe empty), memory bounded by a chunk."""
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
