"""``segments="auto"``: the TotalSegments choice, the AIMD controller, a changing concurrency.

The controller's decisions run against a fake clock; the thread tests use
fake workers and check what must hold whatever the timing (every page
exactly once, errors raised, limits kept, no thread left), never how long
anything takes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import xacct_nb as xn
from xacct_nb import _parallel
from xacct_nb._engine import MAX_FETCH_THREADS, threaded_stream
from xacct_nb._parallel import AIMD, auto_segments, scan_size, watch_throttles

MiB = 2**20


# -- TotalSegments from the size ------------------------------------------------------------


@pytest.mark.parametrize(("size", "segments"), [
    (0, 1),
    (1, 1),
    (2 * MiB, 1),               # two pages: one segment, no thread wasted
    (2 * MiB + 1, 3),           # three pages: one segment each
    (10 * MiB, 10),
    (16 * MiB, 16),
    (29 * MiB, 16),             # up to MAX_FETCH_THREADS pages, one per page
    (64 * MiB, 32),             # then one per 2 MiB
    (1 * 2**30, 512),
    (2 * 2**30, 1000),          # capped
    (50 * 2**30, 1000),
    (None, MAX_FETCH_THREADS),  # unknown size
])
def test_total_segments_follow_the_size(size: int | None, segments: int) -> None:
    assert auto_segments(size) == segments


def test_total_segments_cap_is_a_parameter() -> None:
    assert auto_segments(2 * 2**30, cap=100) == 100
    assert auto_segments(None, cap=4) == 4


class _Schema:
    def __init__(self, size: int | None, count: int | None, description: Any = None) -> None:
        self.size_bytes, self.item_count, self.description = size, count, description


def test_scan_size_reads_the_table_the_index_and_the_limit() -> None:
    schema = _Schema(100 * MiB, 1000, {"GlobalSecondaryIndexes": [
        {"IndexName": "gsi", "IndexSizeBytes": 3 * MiB, "ItemCount": 30}]})
    assert scan_size(schema, None, None, False) == 100 * MiB
    assert scan_size(schema, "gsi", None, False) == 3 * MiB
    assert scan_size(schema, "other", None, False) is None
    assert scan_size(schema, None, 10, False) == MiB  # 10 items of 100 KiB... on average
    assert scan_size(schema, None, 10, True) == 100 * MiB  # a filter reads everything
    assert scan_size(None, None, None, False) is None
    assert auto_segments(scan_size(schema, None, 10, False)) == 1


# -- the controller, against a fake clock ---------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drive(c: AIMD, clock: Clock, rate: Callable[[int], float], pages: int) -> list[int]:
    """Feed ``pages`` pages to ``c`` from an endpoint serving ``rate(limit)`` pages/s.

    Each page's latency follows Little's law (``limit / rate``); returns the
    limit after each page.
    """
    limits = []
    for _ in range(pages):
        r = rate(c.limit)
        clock.now += 1.0 / r
        c.on_page(latency=c.limit / r)
        limits.append(c.limit)
    return limits


def linear(limit: int) -> float:
    return 10.0 * limit  # 0.1 s a page, whatever the concurrency


def flat_above(n: int) -> Callable[[int], float]:
    return lambda limit: 10.0 * min(limit, n)


def test_slow_start_doubles_each_round_up_to_the_cap() -> None:
    clock = Clock()
    c = AIMD(start=2, clock=clock)
    assert c.limit == 2 and c.slow_start
    limits = drive(c, clock, linear, 40)
    assert limits[:3] == [3, 4, 5]  # one more per page arrived
    assert max(limits) == MAX_FETCH_THREADS == c.limit == c.peak
    assert not c.slow_start  # the cap ends it
    assert c.history[0] == (0.0, 2, "start")


def test_slow_start_ends_when_latency_grows() -> None:
    clock = Clock()
    c = AIMD(start=2, clock=clock)
    drive(c, clock, flat_above(4), 60)
    assert not c.slow_start
    assert 4 <= c.peak < MAX_FETCH_THREADS
    assert any(reason == "slow start ended" for _, _, reason in c.history)


def _additive(start: int = 2, **kw: Any) -> tuple[AIMD, Clock]:
    """A controller out of slow start (a throttle ends it), at ``start``."""
    clock = Clock()
    c = AIMD(start=start * 2, clock=clock, **kw)
    c.on_throttle()
    assert c.limit == start and not c.slow_start
    return c, clock


def test_additive_increase_while_the_throughput_rises() -> None:
    c, clock = _additive(2)
    limits = drive(c, clock, linear, 2000)
    steps = [b - a for a, b in zip(limits, limits[1:], strict=False) if b != a]
    assert steps and all(step == 1 for step in steps)  # one at a time, never down
    assert c.limit == MAX_FETCH_THREADS  # grew all the way: every step paid
    assert any(reason == "rising" for _, _, reason in c.history)


def test_hold_when_the_throughput_is_flat() -> None:
    c, clock = _additive(2)
    limits = drive(c, clock, flat_above(6), 4000)
    assert max(limits) <= 7  # at most one probe beyond the plateau
    tail = limits[-1000:]
    assert min(tail) >= 5 and max(tail) <= 7
    # Probes taken back come ever less often: no oscillation.
    backs = [t for t, _, reason in c.history if reason == "step taken back"]
    gaps = [b - a for a, b in zip(backs, backs[1:], strict=False)]
    assert all(later >= earlier for earlier, later in zip(gaps, gaps[1:], strict=False))


def test_halve_on_throttle_once_per_latency_and_floor_one() -> None:
    clock = Clock()
    c = AIMD(start=16, clock=clock)
    c.on_page(latency=0.2)  # the latency the controller knows: 0.2 s
    seen = []
    for _ in range(6):
        c.on_throttle()
        c.on_throttle()  # the same burst (requests in flight together): counted once
        seen.append(c.limit)
        clock.now += 0.25
    assert seen == [8, 4, 2, 1, 1, 1]
    assert [r for _, _, r in c.history].count("throttled") == 4


def test_cap_and_start_are_bounded() -> None:
    clock = Clock()
    assert AIMD(start=50, clock=clock).limit == MAX_FETCH_THREADS
    assert AIMD(start=0, clock=clock).limit == 1
    c = AIMD(start=2, cap=5, clock=clock)
    assert max(drive(c, clock, linear, 500)) == 5


def test_no_growth_without_room() -> None:
    room = [False]
    clock = Clock()
    c = AIMD(start=2, clock=clock, room=lambda: room[0])
    assert drive(c, clock, linear, 200) == [2] * 200  # slow start held
    room[0] = True
    drive(c, clock, linear, 5)
    assert c.limit > 2
    c2, clock2 = _additive(3, room=lambda: room[0])
    room[0] = False
    assert set(drive(c2, clock2, linear, 2000)) == {3}  # additive phase held too
    room[0] = True
    drive(c2, clock2, linear, 2000)
    assert c2.limit > 3


def test_attrs_report_the_peak_and_the_history() -> None:
    clock = Clock()
    c = AIMD(start=2, clock=clock)
    drive(c, clock, linear, 3)
    attrs = c.attrs()
    assert attrs["concurrency"] == 5
    assert [limit for _, limit, _ in attrs["concurrency_history"]] == [2, 3, 4, 5]
    drive(c, clock, linear, 10000)
    assert len(c.attrs()["concurrency_history"]) <= _parallel.HISTORY_LIMIT


def test_throttled_answers_reach_the_controller() -> None:
    class Events:
        def register(self, name: str, handler: Any) -> None:
            self.name, self.handler = name, handler

    class Client:
        meta = type("Meta", (), {"events": Events()})()

    clock = Clock()
    c = AIMD(start=8, clock=clock)
    ddb = Client()
    watch_throttles(ddb, c)
    events = ddb.meta.events
    assert events.name == "needs-retry.dynamodb.Scan"
    assert events.handler(response=(None, {"Error": {"Code": "ValidationException"}})) is None
    assert c.limit == 8
    throttled = {"Error": {"Code": "ProvisionedThroughputExceededException"}}
    assert events.handler(response=(None, throttled)) is None  # botocore still decides retries
    assert c.limit == 4
    assert events.handler(response=None) is None


# -- threaded_stream with a concurrency that changes --------------------------------------


class ListParser:
    """Parses nothing: a page's items are already a list."""

    def parse(self, items: Any, seq: int) -> Any:
        return items


class Scripted:
    """A concurrency whose limit follows a script: ``{pages seen: new limit}``."""

    def __init__(self, script: dict[int, int], first: int) -> None:
        self.script, self._limit, self.pages = script, first, 0
        self.lock = threading.Lock()
        self.latencies: list[float] = []

    @property
    def limit(self) -> int:
        return self._limit

    def on_page(self, latency: float | None = None) -> None:
        with self.lock:
            self.pages += 1
            self.latencies.append(latency if latency is not None else -1.0)
            self._limit = self.script.get(self.pages, self._limit)


class Segments:
    """Fake segment workers: ``n`` segments of ``k`` pages of 3 items; counts who fetches."""

    def __init__(self, n: int, k: int, fail_at: tuple[int, int] | None = None) -> None:
        self.n, self.k, self.fail_at = n, k, fail_at
        self.lock = threading.Lock()
        self.fetching = 0
        self.most = 0
        self.trace: list[tuple[int, int]] = []  # (fetching, limit) at every request

    def workers(self, concurrency: Any = None) -> Any:
        for s in range(self.n):
            yield self.worker(s, concurrency)

    def worker(self, s: int, concurrency: Any) -> Any:
        def work(emit: Callable[[Any, bool], bool], stop: threading.Event) -> None:
            for p in range(self.k):
                with self.lock:
                    self.fetching += 1
                    self.most = max(self.most, self.fetching)
                    limit = concurrency.limit if concurrency is not None else 0
                    self.trace.append((self.fetching, limit))
                threading.Event().wait(0.0005)  # let the threads interleave
                with self.lock:
                    self.fetching -= 1
                if self.fail_at == (s, p):
                    raise RuntimeError(f"segment {s} failed at page {p}")
                if not emit([(s, p, i) for i in range(3)], p < self.k - 1):
                    return
        return work


def _read_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("xacct-read", "xacct-parse"))]


def _rows(pages: Any) -> list[tuple[int, int, int]]:
    return [row for items, _ in pages for row in items]


@pytest.mark.parametrize("script", [
    {},                                  # stays at 1
    {5: 8, 30: 2, 60: 16, 90: 1},        # up, down, up, down
    {1: 16, 20: 1, 21: 1},               # everything at once, then one
])
def test_every_page_exactly_once_whatever_the_concurrency(script: dict[int, int]) -> None:
    before = len(_read_threads())
    segs = Segments(40, 4)
    concurrency = Scripted(script, first=1)
    rows = _rows(threaded_stream(segs.workers(concurrency), ListParser(),  # type: ignore[arg-type]
                                 count=40, concurrency=concurrency))
    expected = [(s, p, i) for s in range(40) for p in range(4) for i in range(3)]
    assert sorted(rows) == expected  # every page, once
    assert concurrency.pages == 160 and all(lat >= 0 for lat in concurrency.latencies)
    assert segs.most <= max([1, *script.values()])
    assert len(_read_threads()) == before


def test_a_low_limit_is_kept() -> None:
    segs = Segments(40, 3)
    concurrency = Scripted({}, first=3)
    rows = _rows(threaded_stream(segs.workers(concurrency), ListParser(),  # type: ignore[arg-type]
                                 count=40, concurrency=concurrency))
    assert len(rows) == 40 * 3 * 3
    assert segs.most <= 3


def test_a_lowered_limit_is_kept_once_each_thread_had_a_page() -> None:
    """From 16 to 1: every thread finishes the page it fetches, then at most 1 fetches."""
    segs = Segments(32, 12)
    concurrency = Scripted({16: 1}, first=16)
    rows = _rows(threaded_stream(segs.workers(concurrency), ListParser(),  # type: ignore[arg-type]
                                 count=32, concurrency=concurrency))
    assert len(rows) == 32 * 12 * 3
    # After the drop, at most the 16 threads' pages already on their way overlap; later
    # requests (once 16 more pages arrived) go one at a time.
    drop = next(i for i, (_, limit) in enumerate(segs.trace) if limit == 1)
    assert all(fetching == 1 for fetching, _ in segs.trace[drop + 2 * MAX_FETCH_THREADS:])


def test_a_failing_segment_stops_everything_and_raises() -> None:
    before = len(_read_threads())
    segs = Segments(40, 4, fail_at=(17, 2))
    concurrency = Scripted({3: 6, 12: 2}, first=1)
    with pytest.raises(RuntimeError, match="segment 17 failed at page 2"):
        _rows(threaded_stream(segs.workers(concurrency), ListParser(),  # type: ignore[arg-type]
                              count=40, concurrency=concurrency))
    assert len(_read_threads()) == before


def test_the_row_limit_holds_with_a_concurrency() -> None:
    before = len(_read_threads())
    segs = Segments(40, 4)
    concurrency = Scripted({2: 8}, first=2)
    pages = list(threaded_stream(segs.workers(concurrency), ListParser(),  # type: ignore[arg-type]
                                 count=40, limit=10, concurrency=concurrency))
    assert sum(len(items) for items, _ in pages) == 10
    assert pages[-1][1] is False
    assert len(_read_threads()) == before


def test_the_real_controller_drives_the_threads() -> None:
    segs = Segments(30, 3)
    controller = AIMD(start=2)
    rows = _rows(threaded_stream(segs.workers(controller), ListParser(),  # type: ignore[arg-type]
                                 count=30, concurrency=controller))
    assert len(rows) == 30 * 3 * 3
    assert 2 <= controller.peak <= MAX_FETCH_THREADS
    assert segs.most <= controller.peak


# -- read_scan over HTTP against the sandbox ------------------------------------------------


KEY = ["customer_id", "order_ts"]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


def test_auto_reads_the_demo_table_with_a_segment_per_page(reader: Any, sandbox: Any) -> None:
    """The demo table holds about 2.4 MB: three pages, three segments."""
    one = xn.read_scan(reader, sandbox.table)
    auto = xn.read_scan(reader, sandbox.table, segments="auto")
    assert auto.attrs["segments"] == 3
    assert 1 <= auto.attrs["concurrency"] <= 3
    pd.testing.assert_frame_equal(_sorted(one), _sorted(auto)[list(one.columns)])


def test_auto_reads_a_small_table_with_one_segment(reader: Any, sandbox: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    one = xn.read_scan(reader, sandbox.table)
    monkeypatch.setattr(_parallel, "SMALL_TABLE_BYTES", 8 * MiB)
    auto = xn.read_scan(reader, sandbox.table, segments="auto")
    assert auto.attrs["segments"] == 1 and auto.attrs["concurrency"] == 1
    pd.testing.assert_frame_equal(_sorted(one), _sorted(auto))


def test_auto_reads_the_rows_of_one_segment(reader: Any, sandbox: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of 32 KiB (as far as the choice knows): the demo table takes several segments."""
    one = xn.read_scan(reader, sandbox.table)
    monkeypatch.setattr(_parallel, "PAGE_BYTES", 32 * 1024)
    monkeypatch.setattr(_parallel, "SMALL_TABLE_BYTES", 64 * 1024)
    monkeypatch.setattr(_parallel, "SEGMENT_BYTES", 64 * 1024)
    auto = xn.read_scan(reader, sandbox.table, segments="auto")
    assert auto.attrs["segments"] > 1
    assert 1 <= auto.attrs["concurrency"] <= MAX_FETCH_THREADS
    assert auto.attrs["concurrency_history"][0][1:] == (_parallel.START_CONCURRENCY, "start")
    assert auto.attrs["scanned_count"] == len(one) == len(auto)
    right = _sorted(auto)[list(one.columns)]
    pd.testing.assert_frame_equal(_sorted(one), right)
    chunks = list(xn.read_scan(reader, sandbox.table, segments="auto", chunksize=1000))
    assert sum(len(c) for c in chunks) == len(one)
    assert all("concurrency" in c.attrs for c in chunks)
    limited = xn.read_scan(reader, sandbox.table, segments="auto", limit=10)
    assert len(limited) == 10


@pytest.mark.parametrize("bad", ["fast", "AUTO", 0, True, 2.0, None, -1])
def test_bad_segments_are_refused(reader: Any, sandbox: Any, bad: Any) -> None:
    with pytest.raises(xn.InvalidArgumentError, match="segments"):
        xn.read_scan(reader, sandbox.table, segments=bad)
