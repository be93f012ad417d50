"""A read-capacity budget (``max_rcu=``) and throttling as back-pressure.

Every read goes into someone else's production table. A read given
``max_rcu=`` consumes at most that many read capacity units per second, on
average, over all its threads (the segments of a parallel Scan, the
partitions of a multi-partition Query share one :class:`Budget`), and any
read slows down as a whole when DynamoDB throttles it.

The token bucket
----------------
The bucket fills at ``rate`` RCU/s up to ``burst`` (one second of budget)
and starts full. Before a request, :meth:`Budget.acquire` waits until the
bucket holds the request's *expected* cost (or is full, for a request
expected to cost more than a full bucket) and reserves it; after the
answer, :meth:`Budget.settle` charges the *actual* ``ConsumedCapacity``
DynamoDB returned instead of the reservation. The bucket may go into debt
(an answer dearer than expected): the next requests then wait until it is
paid back. Over any time ``T`` the read consumes at most
``rate * T + burst`` plus the excess of one page per thread over its
estimate; :meth:`Budget.page_limit` keeps that small.

Page sizes
----------
A Query/Scan page is billed by what it *reads* (the items it evaluates,
rounded up to 4 KB per page; halved when eventually consistent); its
``Limit`` counts exactly those items (filtered-out items included). So
pages are sized with ``Limit`` to about one second of budget
(:data:`PAGE_SECONDS`) at the cost per evaluated item seen so far
(``ConsumedCapacity / ScannedCount`` of the previous pages). Before the
first answer the estimate is conservative: 4 KB items read strongly
consistently, 1 RCU each (:data:`FIRST_ITEM_COST`), so the first page is at
most ``max_rcu`` items. A BatchGetItem batch (at most 100 keys) is sized the
same way, from the cost per key asked so far.

Back-pressure
-------------
Read clients let throttling reach the engine at once (botocore still
retries connection errors and 5xx, :func:`~xacct_nb._engine.dynamodb_client`):
a throttled request tells the read's one :class:`Budget`
(:meth:`Budget.throttled`), which sets a shared "not before" time that
every thread of the read waits for, and halves the budget's effective rate
(at most once a second: several threads throttled at once are one
signal); each answered request gives back :data:`RECOVERY` of the full
rate (multiplicative decrease, additive increase). Without ``max_rcu`` the
budget is a pure gate: the shared pause only. The throttled request is sent
again; throttling that outlasts :data:`~xacct_nb._engine.RESUME` ends the
read with :class:`~xacct_nb.IncompleteReadError`, never a partial frame.

A default for a whole notebook
------------------------------
``max_rcu=None`` (every reader's default) takes ``XACCT_MAX_RCU`` from the
environment, else ``max_rcu = ...`` from ``xacct.toml`` (see
:func:`xacct_nb.connect`), else no limit. ``max_rcu="off"`` reads without a
limit whatever the default says.

>>> bucket = Budget(10.0, clock=FakeClock(), sleep=None)
>>> bucket.acquire(10.0), bucket.acquire(5.0)   # full bucket, then half a second's wait
(0.0, 0.5)
"""

from __future__ import annotations

import collections
import math
import os
import re
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._errors import ConfigurationError, InvalidArgumentError

__all__ = [
    "BATCH_KEYS",
    "FIRST_ITEM_COST",
    "MIN_FACTOR",
    "OFF",
    "PAGE_SECONDS",
    "RECOVERY",
    "THROTTLE_CODES",
    "Budget",
    "FakeClock",
    "check_max_rcu",
    "config_data",
    "config_file",
    "consumed_capacity",
    "default_max_rcu",
    "read_budget",
    "resolve_max_rcu",
]

#: Error codes that mean "slow down": the read's budget is told (:meth:`Budget.throttled`).
THROTTLE_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
})
#: What ``max_rcu="off"`` says: no limit, whatever ``XACCT_MAX_RCU`` / ``xacct.toml`` say.
OFF = "off"
#: A page is sized to about this many seconds of budget.
PAGE_SECONDS = 1.0
#: RCU per item assumed before the first answer: a 4 KB item, strongly consistent.
FIRST_ITEM_COST = 1.0
#: The lowest share of ``max_rcu`` throttling can bring the effective rate down to.
MIN_FACTOR = 1 / 64
#: Share of ``max_rcu`` given back to the effective rate by each answered request.
RECOVERY = 0.05
#: Seconds of past consumption a read without ``max_rcu`` falls back to when first throttled.
SPENT_WINDOW = 5.0
#: Keys of one BatchGetItem request at most (DynamoDB's maximum).
BATCH_KEYS = 100
#: Waits and token shortfalls below this are none (rounding, not budget).
_EPSILON = 1e-9
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*%\s*$")
_HINT = (
    "Give a positive number of read capacity units per second (max_rcu=50), a share of "
    "the table's provisioned read capacity (max_rcu=\"10%\"), or max_rcu=\"off\" for no limit."
)


class FakeClock:
    """A clock for tests and examples: ``clock()`` reads it, ``sleep(s)`` moves it on.

    >>> clock = FakeClock()
    >>> clock.sleep(1.5); clock()
    1.5
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock on by ``seconds`` (no real waiting)."""
        with self._lock:
            self.now += max(0.0, seconds)


class Budget:
    """One read's token bucket and back-pressure gate, shared by all its threads.

    Parameters
    ----------
    rate : float or None
        ``max_rcu``: read capacity units per second; ``None``: no limit, the
        budget is only the gate that throttling closes for all threads.
    burst : float, optional
        What the bucket holds when full (and at the start): by default one
        second of ``rate`` (:data:`PAGE_SECONDS`).
    clock, sleep
        ``time.monotonic`` and ``time.sleep`` by default; a :class:`FakeClock`
        for tests (``sleep=None`` with a ``FakeClock`` uses its ``sleep``).

    Attributes
    ----------
    waited : float
        Seconds spent waiting for the budget or the gate, over all threads.
    throttles : int
        Throttled requests reported (:meth:`throttled`).
    factor : float
        The effective rate's share of ``rate`` (1.0 until throttled).

    Examples
    --------
    Fifty RCU a second; a page that cost more than reserved leaves a debt
    that the next request waits for:

    >>> clock = FakeClock()
    >>> budget = Budget(50.0, clock=clock)
    >>> budget.acquire(50.0)        # the bucket starts full: no wait
    0.0
    >>> budget.settle(50.0, 75.0)   # it cost 75: 25 RCU of debt
    >>> budget.acquire(50.0)        # (25 + 50) / 50 RCU/s
    1.5
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        provisioned: float | None = None,
    ) -> None:
        self.rate = None if rate is None else float(rate)
        self.provisioned = provisioned
        self.burst = (
            0.0 if self.rate is None else float(burst if burst is not None else self.rate * PAGE_SECONDS)
        )
        self.clock = clock or time.monotonic
        if sleep is None:
            sleep = clock.sleep if isinstance(clock, FakeClock) else time.sleep
        self.sleep = sleep
        self.tokens = self.burst
        self.factor = 1.0
        self.not_before = -math.inf
        self.waited = 0.0
        self.throttles = 0
        self._last = self.clock()
        self._last_decrease = -math.inf
        self._item_cost: float | None = None
        self._lock = threading.Lock()
        #: Whether ``rate`` was set by throttling (no ``max_rcu``): see :meth:`throttled`.
        self.implicit = False
        self._spent: collections.deque[tuple[float, float]] = collections.deque()

    # -- the bucket --------------------------------------------------------------------------

    @property
    def effective_rate(self) -> float | None:
        """``rate`` lowered by throttling (``None`` without a rate)."""
        return None if self.rate is None else self.rate * self.factor

    def _refill(self, now: float) -> None:
        if self.rate is not None and now > self._last:
            self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate * self.factor)
        self._last = max(self._last, now)

    def acquire(self, cost: float = 0.0) -> float:
        """Wait until a request expected to cost ``cost`` RCU may leave; reserve it.

        Waits for the shared gate (:meth:`throttled`) and, with a rate, until
        the bucket holds ``min(cost, burst)``; then takes ``cost`` from it
        (it may go into debt). Returns the seconds waited.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                self._refill(now)
                wait = max(0.0, self.not_before - now)
                if wait <= _EPSILON and self.rate is not None:
                    need = min(max(cost, 0.0), self.burst)
                    if self.tokens + _EPSILON < need:
                        wait = (need - self.tokens) / (self.rate * self.factor)
                if wait <= _EPSILON:  # (a fake clock cannot move by less)
                    if self.rate is not None:
                        self.tokens -= max(cost, 0.0)
                    self.waited += waited
                    return waited
            self.sleep(wait)
            waited += wait

    def settle(self, reserved: float, actual: float) -> None:
        """Charge what a request really cost (``actual`` RCU) instead of its reservation."""
        with self._lock:
            now = self.clock()
            if actual > 0:  # what the read consumed lately: the rate a throttle falls back to
                self._spent.append((now, actual))
                while self._spent and self._spent[0][0] < now - SPENT_WINDOW:
                    self._spent.popleft()
            if self.rate is None:
                return
            self._refill(now)
            self.tokens += reserved - actual

    # -- back-pressure -----------------------------------------------------------------------

    def throttled(self, pause: float) -> None:
        """Report a throttled request: every thread waits ``pause`` s, and the rate drops.

        The rate halves at most once a second (a burst of throttled threads
        is one signal), down to :data:`MIN_FACTOR` of ``rate``. A read without
        ``max_rcu`` gets a rate at its first throttle: the table's (or GSI's)
        provisioned read capacity when DescribeTable said it (``provisioned``),
        else what it consumed over the last :data:`SPENT_WINDOW` seconds, halved
        (``implicit``; ``df.attrs``
        reports it as ``paced_rcu``), so that it keeps to what the table
        gives instead of being throttled page after page.

        >>> clock = FakeClock()
        >>> budget = Budget(clock=clock)      # no max_rcu
        >>> for _ in range(4):
        ...     budget.settle(0.0, 50.0); clock.sleep(1.0)
        >>> budget.throttled(0.5)
        >>> budget.implicit, budget.rate, budget.effective_rate
        (True, 50.0, 25.0)
        """
        with self._lock:
            now = self.clock()
            while self._spent and self._spent[0][0] < now - SPENT_WINDOW:
                self._spent.popleft()
            if self.rate is None and (self.provisioned or self._spent):
                # No max_rcu: the first throttle says the table gives no more. From now on
                # the read keeps to its provisioned capacity if known, else to the rate it
                # was consuming (halved below, recovering), with pages sized by it, instead
                # of being throttled page after page.
                self.implicit = True
                self.tokens = 0.0
                if self.provisioned:
                    self.rate = float(self.provisioned)
                    self._last_decrease = now  # the capacity itself: not halved now
                else:
                    span = max(1.0, now - self._spent[0][0])
                    self.rate = sum(units for _, units in self._spent) / span
                    self._last_decrease = -math.inf  # halved just below
                self.burst = self.rate * PAGE_SECONDS
                self.factor = 1.0
            self._refill(now)
            self.throttles += 1
            self.not_before = max(self.not_before, now + max(0.0, pause))
            if now - self._last_decrease >= 1.0:
                self.factor = max(MIN_FACTOR, self.factor / 2)
                self._last_decrease = now

    def answered(self) -> None:
        """Report an answered request: the effective rate recovers by :data:`RECOVERY`."""
        with self._lock:
            self._refill(self.clock())
            self.factor = min(1.0, self.factor + RECOVERY)

    # -- sizes -------------------------------------------------------------------------------

    def learn(self, capacity: float, items: int) -> None:
        """Record that ``items`` evaluated items (or keys asked) cost ``capacity`` RCU."""
        if items <= 0 or capacity <= 0:
            return
        with self._lock:
            per_item = capacity / items
            previous = self._item_cost
            # A running estimate that follows the table (newest page weighs most).
            self._item_cost = per_item if previous is None else 0.5 * previous + 0.5 * per_item

    @property
    def item_cost(self) -> float:
        """RCU per evaluated item (or key): learned, else :data:`FIRST_ITEM_COST`."""
        return self._item_cost if self._item_cost is not None else FIRST_ITEM_COST

    def page_limit(self, wanted: int | None = None) -> int | None:
        """Return a page's ``Limit``: about one second of budget, at least 1; ``None`` without a rate.

        ``wanted`` (the rows the caller still wants, with a ``Limit`` it may
        send) caps it.

        >>> Budget(50.0).page_limit(), Budget(50.0).page_limit(10), Budget().page_limit(7)
        (50, 10, 7)
        """
        if self.rate is None:
            return wanted
        eff = self.rate * self.factor
        limit = max(1, int(eff * PAGE_SECONDS / max(self.item_cost, 1e-9)))
        return limit if wanted is None else max(1, min(limit, wanted))

    def batch_size(self) -> int:
        """Keys of the next BatchGetItem request: about one second of budget, 1 to 100."""
        limit = self.page_limit()
        return BATCH_KEYS if limit is None else max(1, min(BATCH_KEYS, limit))

    def expected_cost(self, items: int | None) -> float:
        """RCU a request of ``items`` evaluated items (or keys) is expected to cost."""
        if self.rate is None:
            return 0.0
        if items is None:
            return self.burst
        return items * self.item_cost

    def as_attrs(self) -> dict[str, Any]:
        """``max_rcu``, ``throttled`` and ``waited_seconds`` for ``df.attrs``."""
        return {"max_rcu": None if self.implicit else self.rate, "throttled": self.throttles,
                "waited_seconds": round(self.waited, 6)}


def consumed_capacity(answer: Mapping[str, Any]) -> float:
    """RCU an answer says it consumed: ``ConsumedCapacity`` as one entry or a list.

    >>> consumed_capacity({"ConsumedCapacity": {"CapacityUnits": 2.5}})
    2.5
    >>> consumed_capacity({"ConsumedCapacity": [{"CapacityUnits": 1.0}, {"CapacityUnits": 0.5}]})
    1.5
    """
    cc = answer.get("ConsumedCapacity")
    if not cc:
        return 0.0
    entries = cc if isinstance(cc, list) else [cc]
    return sum(float(e.get("CapacityUnits", 0.0) or 0.0) for e in entries if isinstance(e, Mapping))


# -- settings --------------------------------------------------------------------------------


def config_file() -> Path | None:
    """Return the ``xacct.toml`` in use: ``XACCT_CONFIG``'s path, else ``./xacct.toml``, or ``None``."""
    explicit = os.environ.get("XACCT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"XACCT_CONFIG points at {explicit!r}, which is not a file.")
        return path
    path = Path.cwd() / "xacct.toml"
    return path if path.is_file() else None


def config_data(path: Path) -> dict[str, Any]:
    """Read the settings of an ``xacct.toml`` (its ``[xacct]`` table, or the top level)."""
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc}") from None
    section = data.get("xacct", data)
    return dict(section) if isinstance(section, dict) else {}


def check_max_rcu(value: Any, where: str = "max_rcu") -> float | str | None:
    """Check a ``max_rcu`` value; return a float, ``"N%"``, ``"off"`` or ``None``.

    >>> check_max_rcu(50), check_max_rcu("10%"), check_max_rcu("off"), check_max_rcu(None)
    (50.0, '10%', 'off', None)
    >>> check_max_rcu(True)
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: max_rcu must be ... not True (a bool). ...
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() == OFF:
            return OFF
        match = _PERCENT.match(text)
        if match and 0 < float(match.group(1)) <= 100:
            return f"{float(match.group(1)):g}%"
        raise InvalidArgumentError(
            f"{where} must be a positive number or a share \"N%\" with 0 < N <= 100, "
            f"not {value!r}. {_HINT}"
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        shown = f"{value!r} (a {type(value).__name__})"
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0:
            shown += "; for no limit say max_rcu=\"off\""
        raise InvalidArgumentError(
            f"{where} must be a positive number of RCU per second, not {shown}. {_HINT}"
        )
    return float(value)


def default_max_rcu() -> float | str | None:
    """Return the notebook's default: ``XACCT_MAX_RCU``, else ``max_rcu`` in ``xacct.toml``, or ``None``."""
    env = os.environ.get("XACCT_MAX_RCU")
    if env is not None and env.strip():
        text = env.strip()
        try:
            value: Any = float(text)
        except ValueError:
            value = text
        try:
            return check_max_rcu(value, where="XACCT_MAX_RCU")
        except InvalidArgumentError as exc:
            raise ConfigurationError(str(exc)) from None
    path = config_file()
    if path is not None:
        data = config_data(path)
        if "max_rcu" in data:
            try:
                return check_max_rcu(data["max_rcu"], where=f"max_rcu in {path}")
            except InvalidArgumentError as exc:
                raise ConfigurationError(str(exc)) from None
    return None


def _provisioned(description: Mapping[str, Any] | None, index: str | None) -> float | None:
    """Provisioned RCU of a table (or its GSI; an LSI shares the table's); ``None``: on-demand."""
    if not description:
        return None
    billing = (description.get("BillingModeSummary") or {}).get("BillingMode")
    if billing == "PAY_PER_REQUEST":
        return None
    throughput = description.get("ProvisionedThroughput") or {}
    if index is not None:
        for ix in description.get("GlobalSecondaryIndexes") or []:
            if ix.get("IndexName") == index:
                throughput = ix.get("ProvisionedThroughput") or {}
    units = throughput.get("ReadCapacityUnits") or 0
    return float(units) if units > 0 else None


def resolve_max_rcu(
    value: float | str | None,
    *,
    describe: Callable[[], Mapping[str, Any] | None] | None = None,
    table: str = "",
    index: str | None = None,
) -> float | None:
    """Return the RCU per second a read may use: a checked ``max_rcu`` as a number (or ``None``).

    ``None`` takes the notebook's default (:func:`default_max_rcu`); ``"off"``
    is no limit; ``"N%"`` is that share of the provisioned read capacity in
    ``describe()`` (DynamoDB's ``Table`` description; of the index ``index``
    when it is a GSI).

    >>> desc = {"ProvisionedThroughput": {"ReadCapacityUnits": 290}}
    >>> resolve_max_rcu("10%", describe=lambda: desc, table="MyCrossAccountTable")
    29.0
    >>> resolve_max_rcu("10%", table="T",
    ...                 describe=lambda: {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}})
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: max_rcu='10%': table 'T' is on-demand ...
    """
    if value is None:
        value = default_max_rcu()
    if value is None or value == OFF:
        return None
    if isinstance(value, str):
        share = float(value.rstrip("%")) / 100
        description = describe() if describe is not None else None
        if not description:
            raise InvalidArgumentError(
                f"max_rcu={value!r} needs the provisioned read capacity of {table!r} from "
                "DescribeTable, which is not known (key_schema= skips it, or the role may not "
                "describe the table): give a number of RCU per second instead, e.g. max_rcu=50."
            )
        units = _provisioned(description, index)
        if units is None:
            what = f"index {index!r} of table {table!r}" if index else f"table {table!r}"
            raise InvalidArgumentError(
                f"max_rcu={value!r}: {what} is on-demand (no provisioned read capacity to take "
                "a share of): give a number of RCU per second instead, e.g. max_rcu=50."
            )
        return max(units * share, 1e-9)
    return float(value)


def read_budget(
    max_rcu: Any,
    *,
    describe: Callable[[], Mapping[str, Any] | None] | None = None,
    table: str = "",
    index: str | None = None,
    description: Mapping[str, Any] | None = None,
) -> Budget:
    """Make the :class:`Budget` of one read: ``max_rcu`` resolved (:func:`resolve_max_rcu`).

    Without a limit it is the read's throttling gate, which paces the read
    after a first throttle: at the provisioned capacity in ``description``
    (a DescribeTable answer already at hand) if any (see :meth:`Budget.throttled`).

    >>> read_budget(25).rate, read_budget("off").rate
    (25.0, None)
    """
    rate = resolve_max_rcu(check_max_rcu(max_rcu), describe=describe, table=table, index=index)
    provisioned = _provisioned(description, index) if rate is None else None
    return Budget(rate, provisioned=provisioned)
