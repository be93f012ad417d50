"""Automatic parallelism of a Scan: how many segments, and how many read at once.

A DynamoDB parallel scan fixes ``TotalSegments`` when it starts; what can
adapt during the read is how many segments are fetched at the same time.
``read_scan(segments="auto")`` therefore decides twice:

1. **TotalSegments** from the size DescribeTable reports
   (:func:`auto_segments`): one segment for a table of at most two pages
   (:data:`SMALL_TABLE_BYTES`; no thread is wasted on it), otherwise one
   segment per page up to :data:`~xacct_nb._engine.MAX_FETCH_THREADS`, and
   beyond that one per :data:`SEGMENT_BYTES` (2 MiB: about two pages each,
   so the last segments end close together), at most :data:`MAX_AUTO_SEGMENTS`.
   An unknown size (no DescribeTable) gives ``MAX_FETCH_THREADS`` segments.
2. **Concurrency**, the fetching threads allowed at a time, by an AIMD
   controller (:class:`AIMD`) that the request engine's
   :func:`~xacct_nb._engine.threaded_stream` asks at every page:

   - it starts at :data:`START_CONCURRENCY` (8, half the cap; never more
     than there are segments: measured on the stand-in, starting at 4 left a
     29-page read at 200 ms a page at 76-78% of the best fixed count, 8 at
     100%; a throttle halves it at once anyway) and grows like TCP's slow
     start: one more thread per page that arrives (the concurrency doubles
     every round trip) while the page
     latency stays within ``1 + latency_tolerance`` of the lowest seen (a
     latency that grows with the threads means the endpoint, or this
     machine's cores, are the limit, HyStart's signal);
   - then additively: it measures the throughput (pages per second, from
     the arrival times of ``limit + 1`` pages once the last change had one
     latency to take effect) and adds one thread only if the last step up
     brought at least half of what an added thread would bring if the rate
     grew in proportion (``efficiency``); a step that brought less is taken
     back, and it holds, probing one step up again after ``probe_after``
     measurements (each probe taken back doubles the wait: no oscillation);
   - on throttling (:meth:`AIMD.on_throttle`, called for every throttled
     request, botocore's own retries included) it halves the concurrency,
     at most once per latency (the throttles of requests that were already
     in flight count once);
   - it never goes below 1 nor above ``cap`` (``MAX_FETCH_THREADS``), and
     never grows while ``room()`` (the hook of a read-capacity budget)
     says there is no room.

All decisions read an injectable ``clock``: tests drive them with a fake
one. ``df.attrs`` gets ``segments`` (the TotalSegments used),
``concurrency`` (the highest reached) and ``concurrency_history`` (the
changes, ``[(seconds, limit, reason), ...]``, at most
:data:`HISTORY_LIMIT` entries).

>>> auto_segments(10 * 2**20)   # ten pages: one segment per page
10
>>> c = AIMD(start=2, clock=lambda: 0.0)
>>> c.limit
2
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ._engine import MAX_FETCH_THREADS, TRANSIENT_CODES

__all__ = [
    "AIMD",
    "HISTORY_LIMIT",
    "MAX_AUTO_SEGMENTS",
    "PAGE_BYTES",
    "SEGMENT_BYTES",
    "SMALL_TABLE_BYTES",
    "START_CONCURRENCY",
    "THROTTLE_CODES",
    "auto_segments",
    "report",
    "scan_size",
    "watch_throttles",
]

#: A Scan page reads at most this much (DynamoDB's 1 MB).
PAGE_BYTES = 1 << 20
#: A table of at most this size (two pages) is read with one segment.
SMALL_TABLE_BYTES = 2 * PAGE_BYTES
#: Beyond ``MAX_FETCH_THREADS`` pages, one segment per this many bytes.
SEGMENT_BYTES = 2 * PAGE_BYTES
#: ``segments="auto"`` never chooses more segments than this.
MAX_AUTO_SEGMENTS = 1000
#: The controller's first concurrency (see the module's documentation).
START_CONCURRENCY = 8
#: Entries kept in ``concurrency_history``.
HISTORY_LIMIT = 50
#: Error codes that mean "too fast": the controller backs off.
THROTTLE_CODES = frozenset(
    code for code in TRANSIENT_CODES
    if code in ("ProvisionedThroughputExceededException", "ThrottlingException",
                "RequestLimitExceeded")
)


def auto_segments(size_bytes: int | None, *, cap: int = MAX_AUTO_SEGMENTS) -> int:
    """Choose TotalSegments for a Scan of ``size_bytes`` (DescribeTable's size).

    Parameters
    ----------
    size_bytes
        The bytes the Scan reads (``TableSizeBytes``, or an index's
        ``IndexSizeBytes``); ``None`` if unknown.
    cap
        The most segments chosen (:data:`MAX_AUTO_SEGMENTS`).

    Returns
    -------
    int
        1 for at most two pages; one per page up to ``MAX_FETCH_THREADS``;
        beyond, one per :data:`SEGMENT_BYTES`, at most ``cap``. Unknown:
        ``MAX_FETCH_THREADS``.

    Examples
    --------
    >>> [auto_segments(n) for n in (0, 2 * 2**20, 3 * 2**20, 29 * 2**20, 100 * 2**20)]
    [1, 1, 3, 16, 50]
    >>> auto_segments(10 * 2**30), auto_segments(None)
    (1000, 16)
    """
    if size_bytes is None:
        return min(cap, MAX_FETCH_THREADS)
    if size_bytes <= SMALL_TABLE_BYTES:
        return 1
    pages = math.ceil(size_bytes / PAGE_BYTES)
    return max(1, min(cap, max(min(MAX_FETCH_THREADS, pages),
                               math.ceil(size_bytes / SEGMENT_BYTES))))


def scan_size(schema: Any, index: str | None, limit: int | None, filtered: bool) -> int | None:
    """Return the bytes a Scan will read, from a :class:`~xacct_nb._schema.KeySchema`.

    The table's ``TableSizeBytes`` (an index's ``IndexSizeBytes``); with
    ``limit`` and no filter, at most ``limit`` items of the average size.
    ``None`` when unknown.

    >>> from types import SimpleNamespace
    >>> table = SimpleNamespace(size_bytes=5000, item_count=10, description=None)
    >>> scan_size(table, None, None, False), scan_size(table, None, 2, False)
    (5000, 1000)
    """
    if schema is None:
        return None
    size, count = getattr(schema, "size_bytes", None), getattr(schema, "item_count", None)
    if index is not None:
        description = getattr(schema, "description", None) or {}
        size = count = None
        for entry in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for ix in description.get(entry) or []:
                if ix.get("IndexName") == index:
                    size, count = ix.get("IndexSizeBytes"), ix.get("ItemCount")
    if size is None:
        return None
    if limit is not None and not filtered and count:
        size = min(size, math.ceil(size / count * limit))
    return int(size)


class AIMD:
    """Concurrency of a read: slow start, additive increase, multiplicative decrease.

    Used by :func:`~xacct_nb._engine.threaded_stream` (which reads
    :attr:`limit` and calls :meth:`on_page`); the request path calls
    :meth:`on_throttle` (see :func:`watch_throttles`). Thread-safe.

    Parameters
    ----------
    start
        The first concurrency (at least 1, at most ``cap``).
    cap
        The highest concurrency (:data:`~xacct_nb._engine.MAX_FETCH_THREADS`).
    clock
        Seconds, monotonic (``time.monotonic``); tests pass a fake one.
    room
        Optional ``room() -> bool``: ``False`` when a budget (a ``max_rcu=``
        read-capacity budget, say) has no room for more; the controller then
        does not grow.
    backoff
        The concurrency is multiplied by this on throttling (rounded down, at least 1).
    efficiency
        A step up counts as rising if it brought at least this share of the
        proportional gain.
    latency_tolerance
        Slow start ends once a page takes more than ``1 + latency_tolerance``
        times the lowest latency seen.
    probe_after
        Measurements held before probing one step up again (doubles after
        each probe that brought nothing).

    Examples
    --------
    >>> now = [0.0]
    >>> c = AIMD(start=2, clock=lambda: now[0])
    >>> for _ in range(2):                 # two pages of 0.2 s each: slow start
    ...     now[0] += 0.1
    ...     c.on_page(latency=0.2)
    >>> c.limit
    4
    >>> c.on_throttle(); c.limit           # halved
    2
    >>> c.on_throttle(); c.limit           # the same burst of throttles: once per latency
    2
    """

    def __init__(
        self,
        *,
        start: int = START_CONCURRENCY,
        cap: int = MAX_FETCH_THREADS,
        clock: Callable[[], float] = time.monotonic,
        room: Callable[[], bool] | None = None,
        backoff: float = 0.5,
        efficiency: float = 0.5,
        latency_tolerance: float = 0.5,
        probe_after: int = 4,
    ) -> None:
        self.cap = max(1, int(cap))
        self.clock = clock
        self.room = room
        self.backoff = backoff
        self.efficiency = efficiency
        self.latency_tolerance = latency_tolerance
        self.probe_after = probe_after
        self._lock = threading.Lock()
        self._limit = max(1, min(self.cap, int(start)))
        self.peak = self._limit
        self.slow_start = True
        self._t0 = clock()
        self.history: list[tuple[float, int, str]] = [(0.0, self._limit, "start")]
        self._min_latency: float | None = None
        self._latency: float | None = None  # recent (smoothed) page latency
        # The current measurement: from a change, settle one latency, then time limit+1 pages.
        self._changed_at = self._t0
        self._arrivals: list[float] = []
        self._last_rate: float | None = None  # pages/s measured at _last_limit
        self._last_limit = 0
        self._stepped = False  # the last change was a step up (its gain is being measured)
        self._held = 0
        self._probe_wait = probe_after
        self._probing = False
        self._decreased_at: float | None = None

    # -- what the engine reads -------------------------------------------------------------

    @property
    def limit(self) -> int:
        """The fetching threads allowed now (1 to ``cap``)."""
        return self._limit

    def attrs(self) -> dict[str, Any]:
        """``concurrency`` (the highest reached) and ``concurrency_history`` for ``df.attrs``."""
        with self._lock:
            return {"concurrency": self.peak, "concurrency_history": list(self.history)}

    # -- what the engine reports -----------------------------------------------------------

    def on_page(self, latency: float | None = None) -> None:
        """Count one page arrived now; ``latency``: seconds since its request left (if known)."""
        with self._lock:
            now = self.clock()
            if latency is not None and latency >= 0:
                self._min_latency = (latency if self._min_latency is None
                                     else min(self._min_latency, latency))
                self._latency = (latency if self._latency is None
                                 else 0.7 * self._latency + 0.3 * latency)
            if self.slow_start:
                self._slow_start_page(latency)
            else:
                self._measure(now)

    def on_throttle(self) -> None:
        """Halve the concurrency (once per latency) after a throttled request; end slow start.

        The request path calls this for every throttled request (the
        read-capacity budget may too); throttles within one latency of the
        last decrease belong to the same burst and count once.
        """
        with self._lock:
            now = self.clock()
            settle = self._latency or 0.0
            if self._decreased_at is not None and now - self._decreased_at <= settle:
                return
            self._decreased_at = now
            self.slow_start = False
            self._set(max(1, int(self._limit * self.backoff)), "throttled", now)
            self._last_rate, self._stepped = None, False

    # -- decisions (under the lock) ----------------------------------------------------------

    def _can_grow(self) -> bool:
        if self._limit >= self.cap:
            return False
        return self.room is None or bool(self.room())

    def _set(self, limit: int, reason: str, now: float) -> None:
        limit = max(1, min(self.cap, limit))
        self._changed_at, self._arrivals = now, []
        if limit == self._limit:
            return
        self._limit = limit
        self.peak = max(self.peak, limit)
        self._note(now, reason)

    def _note(self, now: float, reason: str) -> None:
        if len(self.history) < HISTORY_LIMIT:
            self.history.append((round(now - self._t0, 3), self._limit, reason))

    def _slow_start_page(self, latency: float | None) -> None:
        # The smoothed latency, so that one slow page does not end slow start.
        inflated = (latency is not None and self._min_latency is not None
                    and self._latency is not None
                    and self._latency > (1 + self.latency_tolerance) * self._min_latency)
        now = self.clock()
        if inflated:
            self.slow_start = False
            self._set(self._limit, "slow start ended", now)
            self._note(now, "slow start ended")
            return
        if self._can_grow():
            self._set(self._limit + 1, "slow start", now)
        elif self._limit >= self.cap:
            self.slow_start = False
            self._set(self._limit, "cap", now)

    def _measure(self, now: float) -> None:
        settle = self._latency or 0.0
        if now < self._changed_at + settle:
            return  # the last change has not taken effect yet
        self._arrivals.append(now)
        n = len(self._arrivals)
        span = self._arrivals[-1] - self._arrivals[0]
        if n < max(3, self._limit + 1) or span <= 0:
            return
        rate = (n - 1) / span
        limit, last_rate, last_limit = self._limit, self._last_rate, self._last_limit
        rising = True
        if self._stepped and last_rate is not None and last_limit and limit > last_limit:
            wanted = last_rate * (1 + self.efficiency * (limit / last_limit - 1))
            rising = rate >= wanted
        elif self._stepped:
            rising = True  # nothing to compare with: take the step as good
        else:
            rising = False  # no step was made: a plain measurement of the level
        self._last_rate, self._last_limit = rate, limit
        if self._stepped and not rising:
            # A step (a probe too) that brought nothing: back down, and probe less often.
            self._probing, self._stepped, self._held = False, False, 0
            self._probe_wait *= 2
            self._last_rate = None
            self._set(limit - 1, "step taken back", now)
            return
        if (self._stepped and rising) and self._can_grow():
            self._probing, self._held, self._probe_wait = False, 0, self.probe_after
            self._set(limit + 1, "rising", now)
            self._stepped = True
            return
        self._stepped, self._probing = False, False
        self._held += 1
        if self._held >= self._probe_wait and self._can_grow():
            self._held = 0
            self._probing = True
            self._set(limit + 1, "probe", now)
            self._stepped = True
            return
        self._set(limit, "hold", now)  # restart the measurement at this level


def watch_throttles(ddb: Any, controller: AIMD, operation: str = "Scan") -> None:
    """Call ``controller.on_throttle()`` for every throttled ``operation`` answer of ``ddb``.

    Registered on botocore's ``needs-retry`` event, so throttles that
    botocore's own retries absorb count too; the retry decision is left
    unchanged (the handler returns ``None``).
    """

    def seen(response: Any = None, **_: Any) -> None:
        if not response:
            return
        parsed = response[1] if isinstance(response, tuple) and len(response) > 1 else None
        code = ((parsed or {}).get("Error") or {}).get("Code") if isinstance(parsed, dict) else None
        if code in THROTTLE_CODES:
            controller.on_throttle()

    ddb.meta.events.register(f"needs-retry.dynamodb.{operation}", seen)


def report(pages: Iterator[Any], extra: dict[str, Any], controller: AIMD) -> Iterator[Any]:
    """Pass ``pages`` on, keeping ``extra`` (a read's ``df.attrs`` extras) up to date.

    ``extra`` gets :meth:`AIMD.attrs` before every page and at the end, so
    that every frame (one, or each chunk) carries the concurrency so far.
    """
    extra.update(controller.attrs())
    try:
        for page in pages:
            extra.update(controller.attrs())
            yield page
        extra.update(controller.attrs())
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()
