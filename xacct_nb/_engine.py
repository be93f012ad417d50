"""The request engine: how every read of every capability talks to DynamoDB.

Capabilities (``_read``, ``_read_items``, ``_write``, ``_snapshot``, ``dask``,
``_export``) build their requests; this module sends them and turns the
answers into pages and frames:

- **one retry/backoff policy** (:class:`RetryPolicy`): after botocore's own
  retries give up on throttling or a transient failure, a page is
  re-requested (:data:`RESUME`); a batch request re-sends its unprocessed
  keys or items (:data:`UNPROCESSED`). Both wait with exponential backoff
  and full jitter (:meth:`RetryPolicy.delay`);
- **fault classification** (:func:`request`): transient faults are re-sent
  (the same request: same ``ExclusiveStartKey``, same keys, same items) —
  throttling and 5xx (:data:`TRANSIENT_CODES`) and connection errors that
  outlived botocore's retries, and answers that are not complete:
  cut short, failing their CRC32, not JSON, or without ``Items`` /
  ``Responses`` / ``UnprocessedItems`` (checked by the clients of
  :func:`dynamodb_client` before botocore parses them). Everything else
  is translated onto the error tree at once; a transient fault that
  outlives the policy ends in :class:`~xacct_nb.IncompleteReadError` (or
  ``IncompleteWriteError``) with where to resume, never in a raw botocore
  or JSON exception, and never in an empty page;
- **paging** (:func:`page_stream`) to the end or to a row limit, and the
  fast path (:func:`raw_items_client`) that keeps Items as raw bytes;
- **bounded concurrency** (:func:`threaded_stream`): at most
  :data:`MAX_FETCH_THREADS` fetching threads, whatever the number of
  segments (segments wait as work items), hand pages to a small pool of
  parsing threads through a bounded queue;
- **a capacity budget and back-pressure** (:class:`~xacct_nb._budget.Budget`,
  one per read, on :attr:`ReadStats.budget`): each request waits for the
  read's budget and its shared throttling gate, pages are sized with
  ``Limit`` to about a second of budget, and a throttled request (read
  clients let botocore retry connection errors and 5xx but not throttling)
  pauses and slows down every thread of the read;
- **frames** (:func:`collect`), **progress** (:class:`Progress`,
  :func:`interactive`) and **stats** (:class:`ReadStats`).
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import json
import logging
import os
import queue
import random
import sys
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, cast

import botocore
import pandas as pd
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
)

from ._budget import THROTTLE_CODES, Budget, consumed_capacity
from ._clients import client
from ._decode import NUMBER_MODES, FrameBuilder, gc_paused
from ._decode_arrow import PageParser, split_items
from ._errors import (
    EXPIRED_AFTER_REFRESH_HINT,
    AwsError,
    ConfigurationError,
    IncompleteReadError,
    IncompleteWriteError,
    InvalidArgumentError,
    XacctError,
    translate_client_error,
)
from ._validate import endpoint_error

__all__ = [
    "EXPIRED_CODES",
    "KEY_CURSOR",
    "MAX_FETCH_THREADS",
    "MAX_PARSE_THREADS",
    "PAGED_OPERATIONS",
    "REQUIRED_KEYS",
    "RESUME",
    "TOKEN_CURSOR",
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
    "dynamodb_client",
    "fetcher",
    "interactive",
    "page_stream",
    "raw_items_client",
    "request",
    "request_page",
    "threaded_stream",
    "throttling_to_engine",
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

#: Error codes of credentials (or a signature) the server calls expired: a session from
#: xn.assume_role is refreshed at once, whatever the local clock says, and the request
#: sent again, once (see :func:`request`).
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})


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
        """Return the seconds to wait before re-send number ``attempt`` (from 1), full jitter."""
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
    """What a read cost: capacity, items scanned vs. returned, pages, throttling, waits.

    ``budget`` is the read's one :class:`~xacct_nb._budget.Budget` (its
    ``max_rcu`` and throttling gate), shared by every worker that shares
    these stats; ``None`` (writes) sends as fast as answers come.
    """

    consumed_capacity: float = 0.0
    scanned_count: int = 0
    count: int = 0
    pages: int = 0
    segments: int = 1
    resumed: int = 0
    throttled: int = 0
    waited_seconds: float = 0.0
    budget: Budget | None = field(default=None, repr=False)
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

    def add_throttle(self) -> None:
        """Count one throttled request."""
        with self._lock:
            self.throttled += 1

    def add_wait(self, seconds: float) -> None:
        """Count time spent waiting for the budget or the throttling gate."""
        if seconds:
            with self._lock:
                self.waited_seconds += seconds

    def as_attrs(self) -> dict[str, Any]:
        """Return the cost as ``df.attrs`` entries."""
        return {
            "consumed_capacity": self.consumed_capacity,
            "scanned_count": self.scanned_count,
            "count": self.count,
            "pages": self.pages,
            "segments": self.segments,
            "resumed": self.resumed,
            "max_rcu": (self.budget.rate if self.budget is not None and not self.budget.implicit
                        else None),
            "paced_rcu": (round(self.budget.rate, 3) if self.budget is not None
                          and self.budget.implicit and self.budget.rate is not None else None),
            "throttled": self.throttled,
            "waited_seconds": round(self.waited_seconds, 6),
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


#: Called with (items of the page, more pages to come) for each page a read
#: decodes in this context (thread); see :func:`observe_pages`.
_PAGE_OBSERVER: contextvars.ContextVar[Callable[[int, bool], None] | None] = (
    contextvars.ContextVar("xacct_page_observer", default=None))


@contextlib.contextmanager
def observe_pages(callback: Callable[[int, bool], None]) -> Iterator[None]:
    """Call ``callback(n_items, more_pages)`` for each page the reads inside decode.

    The callback runs in the reading thread, between pages: it may show
    progress, and it may stop the read by raising (the explorer's Cancel
    does); the read's threads are stopped and
    nothing is returned.
    """
    token = _PAGE_OBSERVER.set(callback)
    try:
        yield
    finally:
        _PAGE_OBSERVER.reset(token)


class Progress:
    """A tqdm bar that appears only for reads of more than one page (unless forced).

    Updated from the thread that decodes, never from the fetching threads.
    Also tells the page observer of this context, if any (:func:`observe_pages`).
    """

    def __init__(self, setting: bool | None, desc: str, total: int | None) -> None:
        self.setting = setting
        self.desc = desc
        self.total = total
        self.bar: Any = None
        self.observer = _PAGE_OBSERVER.get()

    def update(self, n_items: int, more_pages: bool) -> None:
        """Advance by ``n_items``; the bar appears once a second page is known to come."""
        if self.observer is not None:
            self.observer(n_items, more_pages)
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
    """Return the running Jupyter kernel (``get_ipython().kernel``), or ``None`` outside one."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except Exception:  # noqa: BLE001 - IPython missing or unusual
        return None
    return getattr(shell, "kernel", None) if shell is not None else None


def interactive() -> bool:
    """Tell whether this runs in a notebook kernel or a terminal (not a CI log or a batch job).

    ``XACCT_PROGRESS=never`` turns automatic bars off (``progress=True`` still
    shows one), e.g. for notebooks whose outputs are compared in CI.
    """
    if os.environ.get("XACCT_PROGRESS", "").lower() in ("never", "0", "off", "false"):
        return False
    if current_kernel() is not None:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


# -- complete answers, and the clients that check them --------------------------------------

#: What a complete answer of each operation holds (a Query/Scan with
#: ``Select="COUNT"`` has no ``Items``). An answer without it is not "nothing
#: found": it is a fault, and the request is sent again.
REQUIRED_KEYS = {
    "Query": "Items",
    "Scan": "Items",
    "ExecuteStatement": "Items",
    "BatchGetItem": "Responses",
    "BatchWriteItem": "UnprocessedItems",
}
#: Reads answered page by page, each page re-requested as it was after a transient fault.
PAGED_OPERATIONS = ("Query", "Scan", "ExecuteStatement")
#: How a page stream continues: (the answer's field, the next request's field).
#: Query/Scan page by key; ExecuteStatement (PartiQL) by an opaque token.
KEY_CURSOR = ("LastEvaluatedKey", "ExclusiveStartKey")
TOKEN_CURSOR = ("NextToken", "NextToken")
_OPERATION_NAMES = {
    "query": "Query",
    "scan": "Scan",
    "execute_statement": "ExecuteStatement",
    "batch_get_item": "BatchGetItem",
    "batch_write_item": "BatchWriteItem",
}


class _Malformed(XacctError):
    """A 200 answer that is not complete: raised by the hooks, caught by :func:`request`."""


def _intact(response_dict: dict[str, Any], operation: str) -> bytes | None:
    """Return the body of a 200 answer once it is known to be all there; ``None`` for errors.

    All there: as long as its ``Content-Length`` says, and matching its
    ``x-amz-crc32`` (DynamoDB's checksum of the body) when it has one.
    """
    if response_dict.get("status_code") != 200:
        return None  # errors go through botocore's parser, retries and exceptions as usual
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return None
    headers = response_dict.get("headers") or {}
    if not body:
        raise _Malformed(f"the {operation} answer was empty (HTTP 200 without a body)")
    crc = headers.get("x-amz-crc32")
    if crc is not None:
        actual = zlib.crc32(body) & 0xFFFFFFFF
        if str(actual) != crc.strip():
            raise _Malformed(
                f"the {operation} answer ({len(body):,} bytes) failed its CRC32 check "
                f"(x-amz-crc32 {crc}, computed {actual}): it was cut short or corrupted on the way"
            )
    length = headers.get("content-length")
    if length is not None and not headers.get("content-encoding") and length.strip() != str(len(body)):
        raise _Malformed(
            f"the {operation} answer was cut short: {len(body):,} of the {length} bytes "
            "its Content-Length announced arrived"
        )
    return bytes(body) if isinstance(body, bytearray) else body


def _json_object(body: bytes, operation: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise _Malformed(
            f"the {operation} answer ({len(body):,} bytes) is not complete JSON: "
            "it was cut short or corrupted on the way"
        ) from None
    if not isinstance(data, dict):
        raise _Malformed(f"the {operation} answer is JSON but not an object")
    return data


def _operation(operation_model: Any, default: str) -> str:
    return str(getattr(operation_model, "name", None) or default)


def _take_items(response_dict: dict[str, Any], customized_response_dict: dict[str, Any],
                operation_model: Any = None, **_: Any) -> None:
    """Botocore ``before-parse`` hook of Query/Scan/ExecuteStatement: check, lift the raw Items out.

    An answer that is not all there (see :func:`_intact`) or is not JSON
    raises :class:`_Malformed` here, before botocore's parser, which would
    take an unreadable body for an answer without Items.
    """
    operation = _operation(operation_model, "Query/Scan")
    body = _intact(response_dict, operation)
    if body is None:
        return
    split = split_items(body)
    if split is not None:
        # The Items stay raw JSON bytes (a RawItems); botocore parses the rest.
        customized_response_dict["Items"], response_dict["body"] = split
        return
    data = _json_object(body, operation)
    items = data.pop("Items", None)
    if items is None:
        return  # no Items: request() decides (an answer to Select="COUNT" has none)
    customized_response_dict["Items"] = items
    response_dict["body"] = json.dumps(data).encode()


def _check_batch(response_dict: dict[str, Any], operation_model: Any = None, **_: Any) -> None:
    """Check that a BatchGetItem/BatchWriteItem answer is all there (botocore ``before-parse``).

    With a CRC32 that matches, the body is the one DynamoDB sent; without
    one, it must at least be a whole JSON object.
    """
    operation = _operation(operation_model, "batch")
    body = _intact(response_dict, operation)
    if body is not None and "x-amz-crc32" not in (response_dict.get("headers") or {}):
        _json_object(body, operation)


def _no_throttle_retry(response: Any = None, **_: Any) -> bool | None:
    """Botocore ``needs-retry`` hook (run first) of read clients: never retry throttling.

    Returning ``False`` for a throttled answer stops botocore's own retry
    handler (whose answer comes later); anything else is left to it.
    """
    if not response:
        return None
    http_response, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code") if isinstance(parsed, dict) else None
    if code in THROTTLE_CODES or getattr(http_response, "status_code", None) == 429:
        return False
    return None


#: Read clients whose botocore does not retry throttling (:func:`dynamodb_client`).
_LEFT_TO_US: weakref.WeakSet[Any] = weakref.WeakSet()


def _throttle_sends(call: Callable[..., Any]) -> int:
    """Throttled sends per resume: botocore's attempts when it leaves throttling to us, else 1."""
    owner = getattr(call, "__self__", None)
    if owner is None or owner not in _LEFT_TO_US:
        return 1
    retries = getattr(owner.meta.config, "retries", None) or {}
    return max(1, int(retries.get("total_max_attempts") or retries.get("max_attempts") or 1))


#: botocore 1.44 reads a ``needs-retry`` handler's ``False`` as "do not retry"; older
#: botocore takes any answer but ``None`` for a delay, so there its own handler is wrapped.
_FALSE_STOPS_RETRY = tuple(int(p) for p in botocore.__version__.split(".")[:2]) >= (1, 44)
_RETRY_HANDLER_ID = "retry-config-dynamodb"  # botocore's unique id of it, in every version


def throttling_to_engine(ddb: Any) -> Any:
    """Make botocore leave throttling of ``ddb``'s requests to :func:`request`; return ``ddb``.

    Connection errors and 5xx are still retried by botocore.
    """
    if _FALSE_STOPS_RETRY:
        ddb.meta.events.register_first("needs-retry.dynamodb", _no_throttle_retry)
    else:
        _wrap_retry_handler(ddb)
    _LEFT_TO_US.add(ddb)
    return ddb


def _wrap_retry_handler(ddb: Any) -> None:
    """Before botocore 1.44: botocore's retry handler, asked only about what is not throttling."""
    events = ddb.meta.events
    emitter = getattr(events, "_emitter", events)
    entry = getattr(emitter, "_unique_id_handlers", {}).get(_RETRY_HANDLER_ID)
    if entry is None:  # pragma: no cover - every botocore from the floor registers it so
        return
    retry = entry["handler"]

    def needs_retry(response: Any = None, **kwargs: Any) -> Any:
        if _no_throttle_retry(response=response) is False:
            return None  # throttled: to the engine at once
        return retry(response=response, **kwargs)

    events.unregister("needs-retry.dynamodb", unique_id=_RETRY_HANDLER_ID)
    events.register("needs-retry.dynamodb", needs_retry, unique_id=_RETRY_HANDLER_ID)


def dynamodb_client(session: Any, *, throttle_retries: bool = True, **config: Any) -> Any:
    """Build a DynamoDB client (:func:`~xacct_nb._clients.client`) whose answers are checked.

    Query/Scan ``Items`` are raw wire JSON (see :func:`raw_items_client`); an
    answer to Query, Scan, BatchGetItem or BatchWriteItem that is not all
    there (cut short, failing its CRC32, not JSON) raises before botocore
    parses it, and :func:`request` sends the request again. ``config``
    overrides :func:`~xacct_nb._clients.default_config`.

    ``throttle_retries=False`` (read clients): botocore does not retry
    throttled requests (it still retries connection errors and 5xx); they
    reach :func:`request` at once, which pauses and slows down the whole read
    (:meth:`~xacct_nb._budget.Budget.throttled`) before sending again.
    """
    ddb = client(session, "dynamodb", **config)
    if not throttle_retries:
        throttling_to_engine(ddb)
    for operation in ("Query", "Scan", "ExecuteStatement"):
        ddb.meta.events.register(f"before-parse.dynamodb.{operation}", _take_items)
    for operation in ("BatchGetItem", "BatchWriteItem"):
        ddb.meta.events.register(f"before-parse.dynamodb.{operation}", _check_batch)
    return ddb


def raw_items_client(session: Any) -> Any:
    """Build a DynamoDB client whose Query/Scan ``Items`` are raw wire JSON (B as base64 str).

    ``Items`` is a :class:`~xacct_nb._decode_arrow.RawItems` (the undecoded
    bytes and the count), or a list of wire items if the body did not have
    the expected layout; :class:`~xacct_nb._decode_arrow.PageParser` turns
    either into what :class:`~xacct_nb._decode.FrameBuilder` takes. Answers
    are checked as in :func:`dynamodb_client`.

    Everything else (signing, credential refresh, retries but of throttling,
    errors, the ``LastEvaluatedKey``) is botocore's own: throttling reaches
    :func:`request` at once (see :func:`dynamodb_client`).
    """
    return dynamodb_client(session, throttle_retries=False)


# -- one request, re-sent after transient faults --------------------------------------------


def request(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    *,
    table: str,
    stats: ReadStats,
    operation: str | None = None,
    what: str | None = None,
    unread_keys: Callable[[], list[dict[str, Any]]] | None = None,
    write: bool = False,
    policy: RetryPolicy | None = None,
    budget: Budget | None = None,
    cost: float = 0.0,
) -> dict[str, Any]:
    """Send one request; send it again after transient faults; return a complete answer.

    Transient: an answer that is not complete (see :data:`REQUIRED_KEYS` and
    :func:`dynamodb_client`), connection errors that outlived botocore's own
    retries and, for reads, throttling or 5xx (:data:`TRANSIENT_CODES`) that
    did too. Each is re-sent as it was, after :meth:`RetryPolicy.delay`
    (``policy``, :data:`RESUME` by default), and counted in
    ``stats.resumed``. Permanent errors are translated at once
    (:func:`~xacct_nb._errors.translate_client_error`), carrying where the
    read could resume (``last_evaluated_key``, ``unread_keys``).

    Credentials the server calls expired (:data:`EXPIRED_CODES`) though
    this machine's clock may not (clock skew): a session from
    :func:`~xacct_nb.assume_role` has already been refreshed (one forced
    AssumeRole, shared by every thread refused with the same credentials)
    and the request sent again as it was (the same page), once, inside
    botocore (:func:`~xacct_nb._sessions.refresh_when_refused`), for every
    client of the session. What reaches this function was refused again,
    or was signed with credentials that cannot be refreshed (fixed keys):
    an :class:`~xacct_nb.ExpiredCredentialsError` (for writes too) that says
    what was tried and compares this machine's clock with the server's
    ``Date`` header.

    Parameters
    ----------
    call, params
        The client method and its arguments.
    table
        The table, for messages.
    stats
        Counts the re-sends.
    operation
        ``"Query"``, ``"Scan"``, ``"BatchGetItem"``, ``"BatchWriteItem"``
        (by default from ``call``'s name): what a complete answer holds.
    what
        The request in the user's terms, for messages.
    unread_keys
        For BatchGetItem: the keys not read yet, carried by the error.
    write
        A write: AWS's errors (throttling included: botocore retries it) are
        left to the caller, which stops and reports its unwritten rows (but
        for expired credentials, as above: the caller gets the
        ``ExpiredCredentialsError``);
        answers that are not complete and failed connections are re-sent
        (puts are idempotent), and end in :class:`~xacct_nb.IncompleteWriteError`.
    policy
        How often and after how long (:data:`RESUME` by default).
    budget, cost
        The read's :class:`~xacct_nb._budget.Budget` (``stats.budget`` by
        default) and the RCU the request is expected to cost: each attempt
        first waits for the budget (:meth:`~xacct_nb._budget.Budget.acquire`,
        counted in ``stats.waited_seconds``), then is charged what its answer's
        ``ConsumedCapacity`` says. A throttled attempt (counted in
        ``stats.throttled``) closes the budget's shared gate for the policy's
        delay, for every thread of the read, and lowers its rate. With a
        read client whose botocore leaves throttling to the engine
        (``dynamodb_client(throttle_retries=False)``), a resume allows as many
        throttled sends as botocore's attempts (``AWS_MAX_ATTEMPTS``, 8) would
        have made, so a read is as patient with throttling as before.

    Raises
    ------
    IncompleteReadError, IncompleteWriteError
        A transient fault outlived the policy; ``last_evaluated_key`` (a
        Query/Scan) or ``unread_keys`` (BatchGetItem) say where to resume.

    Examples
    --------
    >>> ddb = dynamodb_client(session)
    >>> page = request(ddb.scan, {"TableName": "MyCrossAccountTable", "Limit": 2},
    ...                table="MyCrossAccountTable", stats=ReadStats())
    >>> len(page["Items"]), "LastEvaluatedKey" in page
    (2, True)
    """
    policy = policy or RESUME
    if budget is None:
        budget = stats.budget
    name = getattr(call, "__name__", "")
    operation = operation or _OPERATION_NAMES.get(name, name)
    paged = operation in PAGED_OPERATIONS
    if what is None:
        what = f"Reading {table!r}" if paged else f"{operation} on table {table!r}"
    required = REQUIRED_KEYS.get(operation)
    if required == "Items" and params.get("Select") == "COUNT":
        required = None
    # A client that leaves throttling to us (dynamodb_client(throttle_retries=False)): each
    # resume allows as many throttled sends as botocore's attempts would have made.
    sends = _throttle_sends(call)
    attempt, in_row = 0, 0
    while True:
        err: XacctError | None = None
        throttled = False
        if budget is not None:
            stats.add_wait(budget.acquire(cost))
        try:
            response = call(**params)
            if required is None or required in response:
                if budget is not None:
                    budget.settle(cost, consumed_capacity(response))
                    budget.answered()
                return response
            raise _Malformed(f"the {operation} answer (HTTP 200) had no {required}")
        except _Malformed as exc:
            cause = f"{exc}."
            hint = ("Answers were cut short or corrupted on the way (a proxy, a VPN, a flaky "
                    "network?): retry, and check what sits between you and the endpoint.")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in EXPIRED_CODES:
                # Refused even after the session's forced refresh and one more send (botocore
                # did both, see xacct_nb._sessions), or fixed keys. Raised for writes too: the
                # writer reports its unwritten rows with it.
                if budget is not None:
                    budget.settle(cost, 0.0)
                expired = _expired(exc, what=what, table=table)
                if not write:
                    expired.last_evaluated_key = params.get("ExclusiveStartKey")
                    expired.unread_keys = unread_keys() if unread_keys is not None else None
                raise expired from None
            if write:
                raise
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if budget is not None:
                budget.settle(cost, 0.0)  # an error answer consumes no capacity
            if error.get("Code") in THROTTLE_CODES or status == 429:
                throttled = True
                # botocore's own retries of it (a client that still retries throttling)
                retried = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0)
                for _ in range(1 + int(retried or 0)):
                    stats.add_throttle()
            err = translate_client_error(exc, table=table)
            if not (error.get("Code") in TRANSIENT_CODES or status >= 500):
                if isinstance(err, AwsError):  # where the read stopped
                    err.last_evaluated_key = params.get("ExclusiveStartKey")
                    err.unread_keys = unread_keys() if unread_keys is not None else None
                raise err from None
            cause = str(err)
            hint = "Retry later, or with fewer segments."
        except NoCredentialsError:
            if write:
                raise
            raise ConfigurationError(
                f"No AWS credentials to read {table!r}: configure account A's identity "
                "(AWS_PROFILE, `aws sso login`, ...) or use xn.connect() / xn.assume_role."
            ) from None
        except ParamValidationError as exc:
            if write:
                raise
            raise InvalidArgumentError(f"{what}: the request is not valid: {exc}") from None
        except EndpointConnectionError as exc:
            # No connection could be opened, after botocore's own retries: before the
            # first answer of a read that is a dead or wrong endpoint, not a fault to ride out.
            if stats.pages == 0 and not write:
                raise endpoint_error(what, str(exc)) from None
            cause = f"{exc}."
            hint = "Check the network and retry."
        except BotoCoreError as exc:  # the connection failed, after botocore's own retries
            cause = f"{exc}."
            hint = "Check the network and retry."
        in_row = in_row + 1 if throttled else 0
        if throttled and in_row % sends:
            # What botocore's own retries of throttling did, with the read's shared gate.
            delay = policy.delay(min(in_row, 64))
            logger.info("re-sending %s after throttling (%s; %.2fs)", what, cause, delay)
            if budget is not None:
                budget.throttled(delay)
            else:
                time.sleep(delay)
            continue
        if attempt == policy.retries:
            raise _gave_up(what, operation, table, cause, hint, attempt, params, stats, err,
                           unread_keys, write) from None
        attempt += 1
        stats.add_resume()
        delay = policy.delay(min(in_row, 64) if throttled else attempt)
        logger.info("re-sending %s after a transient fault (%s; attempt %d, %.2fs)",
                    what, cause, attempt, delay)
        if throttled and budget is not None:
            budget.throttled(delay)  # every thread of the read waits, at the next acquire()
        else:
            time.sleep(delay)


def _clocks(exc: ClientError) -> str:
    """Compare this machine's clock with the server's ``Date`` header of an answer, in words."""
    local = datetime.now(UTC).replace(microsecond=0)
    text = f"This machine's clock says {local:%Y-%m-%d %H:%M:%S} UTC"
    date = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        server = parsedate_to_datetime(date).astimezone(UTC) if date else None
    except (TypeError, ValueError):
        server = None
    if server is None:
        return f"{text} (the answer had no readable Date header to compare with)."
    skew = round((server - local).total_seconds())
    if abs(skew) < 5:
        apart = "the same time"
    else:
        minutes, seconds = divmod(abs(skew), 60)
        ahead = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
        apart = f"{ahead} {'ahead of' if skew > 0 else 'behind'} this machine"
    return f"{text}; the server's Date header said {server:%Y-%m-%d %H:%M:%S} UTC ({apart})."


def _expired(exc: ClientError, *, what: str, table: str) -> AwsError:
    """Return the :class:`~xacct_nb.ExpiredCredentialsError` of credentials the server refused.

    The clocks compared (:func:`_clocks`) and what was tried: a refresh (the
    answer carries :data:`~xacct_nb._errors.REFRESHED_MARK`: a session from
    :func:`~xacct_nb.assume_role`, whose hint then names the clock and the
    source credentials), or nothing (fixed keys).
    """
    err = cast(AwsError, translate_client_error(exc, table=table))  # ExpiredCredentialsError
    tried = "" if err.hint == EXPIRED_AFTER_REFRESH_HINT else (
        "These credentials cannot be refreshed here: they are fixed keys (or a session this "
        "package did not create). ")
    err.args = (f"{what} failed: {err.code}: {err.aws_message.rstrip('.')}. {tried}"
                f"{_clocks(exc)} {err.hint}",)
    return err


def _gave_up(what: str, operation: str, table: str, cause: str, hint: str, attempts: int,
             params: dict[str, Any], stats: ReadStats, err: XacctError | None,
             unread_keys: Callable[[], list[dict[str, Any]]] | None,
             write: bool) -> XacctError:
    """Return the error of a request whose transient faults outlived the policy."""
    code = getattr(err, "code", "") if err is not None else ""
    if write:
        return IncompleteWriteError(
            f"{what} stopped: {cause} The request was sent again {attempts} times before "
            f"giving up. {hint}",
            code=code, operation=operation, table=table,
        )
    unit = "pages" if operation in PAGED_OPERATIONS else "requests"
    unread = unread_keys() if unread_keys is not None else None
    left = f" ({len(unread):,} keys unread)" if unread is not None else ""
    return IncompleteReadError(
        f"{what} stopped after {stats.pages} {unit}{left}: {cause} The read was resumed "
        f"{attempts} times before giving up; nothing partial is returned. {hint}",
        code=code, operation=operation, table=table,
        last_evaluated_key=params.get("ExclusiveStartKey"), unread_keys=unread,
    )


def request_page(call: Callable[..., dict[str, Any]], params: dict[str, Any], *, table: str,
                 stats: ReadStats) -> dict[str, Any]:
    """One Query/Scan page, re-requested (same ExclusiveStartKey) after transient faults.

    See :func:`request`.
    """
    return request(call, params, table=table, stats=stats, what=f"Reading {table!r}")


# -- paging ----------------------------------------------------------------------------------


def page_stream(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    *,
    table: str,
    stats: ReadStats,
    limit: int | None = None,
    can_limit_requests: bool = False,
    stop: threading.Event | None = None,
    cursor: tuple[str, str] = KEY_CURSOR,
    budget: Budget | None = None,
) -> Iterator[tuple[Any, bool]]:
    """Yield (items, more_pages) for every page, to the end or to ``limit`` rows.

    ``items`` is what :func:`raw_items_client` gives: a ``RawItems`` (or a
    list of wire items); both have a length and take ``[:n]``. ``cursor``
    says how pages continue: :data:`KEY_CURSOR` (Query/Scan:
    ``LastEvaluatedKey`` -> ``ExclusiveStartKey``) or :data:`TOKEN_CURSOR`
    (ExecuteStatement: ``NextToken``). With ``can_limit_requests``, each
    request's ``Limit`` (items evaluated) is the rows still wanted.

    With a rate in ``budget`` (``stats.budget`` by default), each page's
    ``Limit`` is also about one second of budget
    (:meth:`~xacct_nb._budget.Budget.page_limit`, from the cost per
    evaluated item of the pages before), and each request waits for it.
    """
    answer_field, request_field = cursor
    params = dict(params, ReturnConsumedCapacity="TOTAL")
    if budget is None:
        budget = stats.budget
    returned = 0
    while stop is None or not stop.is_set():
        wanted = min(limit - returned, 10000) if limit is not None and can_limit_requests else None
        size = budget.page_limit(wanted) if budget is not None else wanted
        if size is not None:
            params["Limit"] = size
        cost = budget.expected_cost(size) if budget is not None else 0.0
        page = request(call, params, table=table, stats=stats, what=f"Reading {table!r}",
                       budget=budget, cost=cost)
        stats.add_page(page)
        if budget is not None:
            evaluated = page.get("ScannedCount")
            budget.learn(consumed_capacity(page),
                         int(evaluated) if evaluated is not None else len(page.get("Items", ())))
        items = page.get("Items", [])
        more = answer_field in page
        if limit is not None and returned + len(items) >= limit:
            items = items[: limit - returned]
            more = False
        returned += len(items)
        yield items, more
        if not more:
            return
        params[request_field] = page[answer_field]


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
    cursor: tuple[str, str] = KEY_CURSOR,
    budget: Budget | None = None,
) -> Worker:
    """Make a worker that follows one page stream (see :func:`page_stream`).

    Workers of one read share its ``stats`` and so its budget
    (``stats.budget``, unless ``budget`` is given).
    """

    def work(emit: Callable[[Any, bool], bool], stop: threading.Event) -> None:
        for items, more in page_stream(
            call, params, table=table, stats=stats, limit=limit,
            can_limit_requests=can_limit_requests, stop=stop, cursor=cursor, budget=budget,
        ):
            if not emit(items, more):
                return

    return work


#: Fetching threads of one read, whatever its number of segments: the
#: segments beyond this wait as work items (DynamoDB allows 1,000,000).
MAX_FETCH_THREADS = 16


def threaded_stream(
    workers: Iterable[Worker],
    parser: PageParser,
    *,
    limit: int | None = None,
    count: int | None = None,
    concurrency: Any = None,
) -> Iterator[tuple[Any, bool]]:
    """Yield parsed pages from workers running in threads, in the order they arrive.

    Each worker fetches in a thread of its own while it runs and hands
    every page over as soon as it has arrived, so its next request leaves
    at once; the pages are parsed by a small pool of threads and queued in
    arrival order. One worker (a Query, a plain Scan): its pages in order,
    fetched and parsed ahead while the caller decodes. Several (the
    segments of a parallel scan): at most :data:`MAX_FETCH_THREADS` run at a
    time, each to its end; the others wait as work items, taken from
    ``workers`` (any iterable: a generator keeps a million segments cheap;
    ``count`` is then its length) only when a thread is free. A bounded
    queue keeps memory to a few pages per thread (about 1 MB each while
    queued). If any worker fails, the others stop and the error is raised:
    never a silently partial result. ``limit`` caps the rows over all
    workers.

    ``concurrency`` (optional; :class:`~xacct_nb._parallel.AIMD`, say) lets
    the number of threads fetching at once change during the read: an
    object with ``limit`` (an int from 1, read at every page) and
    ``on_page(latency=seconds)`` (called for every page as it arrives, with
    the time since its thread's request left). Threads beyond the limit
    park between pages: a thread finishes the page it is fetching, hands it
    over, and waits before its next request (keeping its segment and where
    it stopped) or before taking a new segment. Parked threads holding an
    unfinished segment resume first, as soon as the limit allows; a thread
    that ends a segment while such a thread waits makes way for it.
    """
    if count is None:
        workers = list(workers)
        count = len(workers)
    threads = max(1, min(count, MAX_FETCH_THREADS))
    source = iter(workers)
    taking = threading.Lock()
    # Pages queued (parsed or being parsed) per thread: two for one stream;
    # four for a parallel scan, whose first pages all arrive at once, so that
    # a slow start of the parsing does not hold back every segment's requests.
    depth = 2 if count == 1 else 4
    pages: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth * threads)
    stop = threading.Event()
    order = threading.Lock()
    numbers = itertools.count()
    parsing = ThreadPoolExecutor(
        max_workers=min(threads, MAX_PARSE_THREADS), thread_name_prefix="xacct-parse"
    )
    # The gate: how many threads fetch (``active``) against the allowed number;
    # ``resuming``: parked threads holding an unfinished segment (they go first).
    gate = threading.Condition()
    state = {"active": 0, "resuming": 0, "exhausted": False}
    local = threading.local()

    def allowed() -> int:
        if concurrency is None:
            return threads
        return max(1, min(threads, int(concurrency.limit)))

    def enter(resuming: bool) -> bool:
        """Wait for a fetching slot; False once the read stops (or, for new work, has none)."""
        with gate:
            if resuming:
                state["resuming"] += 1
            try:
                while not stop.is_set():
                    if not resuming and state["exhausted"]:
                        return False
                    if state["active"] < allowed() and (resuming or not state["resuming"]):
                        state["active"] += 1
                        local.holding = True
                        return True
                    gate.wait(0.05)  # woken at every page; the timeout catches stop
                return False
            finally:
                if resuming:
                    state["resuming"] -= 1

    def release() -> None:
        with gate:
            state["active"] -= 1
            local.holding = False
            gate.notify_all()

    def put(message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                pages.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def emit(items: Any, more: bool) -> bool:
        if concurrency is not None:
            concurrency.on_page(latency=time.monotonic() - local.since)
        # Numbered, submitted and queued under one lock: queue order is
        # number order, which the parser's schema versions rely on.
        with order:
            if stop.is_set():
                return False
            parsed = parsing.submit(parser.parse, items, seq=next(numbers))
            if not put(("page", (parsed, more))):
                return False
        if concurrency is not None:
            with gate:
                gate.notify_all()  # the limit may have risen
                over = state["active"] > allowed()
            if over and more:  # park before the next request, keeping the segment
                release()
                if not enter(resuming=True):
                    return False
            local.since = time.monotonic()
        return True

    def next_work() -> Worker | None:
        with taking:
            work = None if stop.is_set() else next(source, None)
        if work is None:
            with gate:
                state["exhausted"] = True
                gate.notify_all()
        return work

    def run() -> None:
        local.holding = False
        try:
            while local.holding or enter(resuming=False):
                work = next_work()
                if work is None:
                    break
                local.since = time.monotonic()
                work(emit, stop)
                with gate:
                    make_way = state["active"] > allowed() or state["resuming"] > 0
                if make_way and local.holding:
                    release()
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
            put(("error", exc))
        finally:
            if local.holding:
                release()

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xacct-read")
    try:
        for _ in range(threads):
            pool.submit(run)
        done, returned = 0, 0
        while done < threads:
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
            yield items, (more if count == 1 else done < threads)
    finally:
        stop.set()
        with gate:
            gate.notify_all()
        pool.shutdown(wait=True, cancel_futures=True)
        parsing.shutdown(wait=True, cancel_futures=True)


#: Partitions of one ``read_query`` queried at the same time; the others wait their turn.
MAX_PARTITION_THREADS = 8


def ordered_stream(
    workers: Sequence[tuple[Worker, PageParser]],
    *,
    limit: int | None = None,
    threads: int = MAX_PARTITION_THREADS,
) -> Iterator[tuple[Any, bool]]:
    """Yield parsed pages of several workers, all of the first worker's pages first.

    The workers (one Query each, say) fetch concurrently, at most
    ``threads`` at a time, started in the order given; each has its own
    small bounded queue and its own :class:`PageParser` (pages of one
    parser are numbered in the order they reach the builder, which holds
    within a worker). The caller gets worker 0's pages, then worker 1's...:
    rows come grouped in the order the workers were given, while the later
    ones are already fetching. Memory stays bounded (two pages queued per
    worker that runs, and workers start only as earlier ones end). If any
    worker fails, all stop and its error is raised at once, before the
    pages of the workers ahead of it are all handed over: never a silently
    partial result. ``limit`` caps the rows over all workers.
    """
    count = len(workers)
    if count == 0:
        return
    threads = max(1, min(count, threads, MAX_FETCH_THREADS))
    queues: list[queue.Queue[tuple[str, Any]]] = [queue.Queue(maxsize=2) for _ in range(count)]
    stop = threading.Event()
    failures: list[BaseException] = []
    taking = threading.Lock()
    indexes = iter(range(count))
    parsing = ThreadPoolExecutor(
        max_workers=min(threads, MAX_PARSE_THREADS), thread_name_prefix="xacct-parse"
    )

    def put(box: queue.Queue[tuple[str, Any]], message: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        while not stop.is_set():
            with taking:
                index = next(indexes, None)
            if index is None:
                return
            work, parser = workers[index]
            box = queues[index]
            numbers = itertools.count()

            def emit(items: Any, more: bool, parser: PageParser = parser,
                     box: queue.Queue[tuple[str, Any]] = box,
                     numbers: Iterator[int] = numbers) -> bool:
                if stop.is_set():
                    return False
                parsed = parsing.submit(parser.parse, items, seq=next(numbers))
                return put(box, ("page", (parsed, more)))

            try:
                work(emit, stop)
                put(box, ("done", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the consuming thread
                failures.append(exc)
                stop.set()
                return

    pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="xacct-read")
    try:
        for _ in range(threads):
            pool.submit(run)
        returned = 0
        for index, box in enumerate(queues):
            while True:
                if failures:
                    raise failures[0]
                try:
                    kind, value = box.get(timeout=0.1)
                except queue.Empty:
                    if failures:
                        raise failures[0] from None
                    continue
                if kind == "done":
                    break
                parsed, more = value
                items = parsed.result()
                last = index == count - 1 and not more
                if limit is not None and returned + len(items) >= limit:
                    yield items[: limit - returned], False
                    return
                returned += len(items)
                yield items, not last
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
    """Yield frames of at most ``chunksize`` rows (at least one, maybe empty).

    Memory stays bounded by one chunk.
    """
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
