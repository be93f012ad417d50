"""DynamoDB's read-capacity enforcement for PROVISIONED tables, inside the sandbox.

This module runs inside the sandbox's child process. :func:`patch_moto_throughput`
(called from ``_server.patch_moto()``, after ``_dynamodb.patch_moto_dynamodb``)
wraps moto's read handlers so that a table with ``BillingMode=PROVISIONED``
answers reads as DynamoDB does once they outrun its provisioned read capacity:

* **A token bucket per table, and one per global secondary index** (a GSI
  has its own provisioned throughput; a local secondary index shares its
  table's). The bucket fills at ``ReadCapacityUnits`` per second, read from
  the table (or GSI) at every request, so ``UpdateTable`` takes effect at once.
* **Burst capacity**: unused read capacity is kept for up to
  :data:`BURST_SECONDS` (300 s, as DynamoDB documents), so the bucket holds
  at most ``300 x ReadCapacityUnits``.
* **Where it starts**: a new table (or GSI) starts with
  :data:`INITIAL_SECONDS` (one second) of its read capacity and no burst;
  burst accrues from its creation on. ``Sandbox.spend_burst()`` sets a bucket
  back to that level, as if other readers of a busy table had just used its
  burst: what a demo of throttling needs, whenever it runs.
* **Admission before serving**: a read is refused with
  ``ProvisionedThroughputExceededException`` (HTTP 400, DynamoDB's message)
  when a bucket it reads from is empty (zero or in debt). A read that is
  admitted is served in full and charged the ``ConsumedCapacity`` the
  fidelity layer (:mod:`._dynamodb`) computes for it, which may take the
  bucket into debt; the reads after it wait until the refill pays it back.
* **As if served at once**: a read is decided, and charged, on the bucket as
  it stood when the read *arrived* (refilled up to then, less what the reads
  admitted before it were charged), one read at a time. DynamoDB serves a
  page in milliseconds; the sandbox may take a second on a busy machine, and
  that time must neither refill the bucket for reads sent together (eight
  segments of a Scan) nor drain it for a read paced in real time (``max_rcu=``).
* **Which reads**: Query, Scan, GetItem, BatchGetItem, ExecuteStatement
  SELECT and TransactGetItems (charged 2 RCU per 4 KB of each item, 2 for a
  missing one, DynamoDB's price of a transactional read). A BatchGetItem
  over several tables returns the keys of the throttled ones in
  ``UnprocessedKeys`` and answers the exception only if all are throttled.
  Writes, BatchExecuteStatement and PartiQL writes are not throttled.
* **On-demand tables** (``PAY_PER_REQUEST``) are never throttled, nor is a
  provisioned table or GSI without a positive ``ReadCapacityUnits``.

The clock is :data:`clock`: the sandbox server sets it to the monotonic clock
plus the authorization layer's ``clock_offset``, so ``Sandbox.advance_clock()``
refills buckets without waiting; unit tests give :class:`Bucket` their own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import _dynamodb as fidelity

#: DynamoDB retains up to five minutes of unused read capacity ("burst capacity").
BURST_SECONDS = 300.0
#: A new table, and a table whose burst was spent, holds this many seconds of read capacity.
INITIAL_SECONDS = 1.0
THROTTLED_TYPE = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
THROTTLED_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)

#: The sandbox's clock in seconds (monotonic); the server adds the layer's clock offset.
clock: Callable[[], float] = time.monotonic
#: Held from admission to charge: one provisioned read decided at a time.
_lock = threading.RLock()
_BUCKETS = "xacct_read_buckets"
_BORN = "xacct_born"


@dataclass
class Bucket:
    """A read-capacity token bucket: ``tokens`` RCU available at time ``updated``.

    ``tokens`` may be negative (debt): an admitted read is charged in full.

    >>> b = Bucket(tokens=10.0, updated=0.0)
    >>> b.level(rate=10.0, now=2.0)          # two seconds of refill
    30.0
    >>> b.charge(100.0, rate=10.0, now=2.0)  # served in full: into debt
    -70.0
    >>> b.level(rate=10.0, now=1000.0)       # burst capped at 300 s of capacity
    3000.0
    """

    tokens: float
    updated: float

    def level(self, rate: float, now: float) -> float:
        """Refill at ``rate`` RCU/s up to ``now``, cap at :data:`BURST_SECONDS` of it; return tokens."""
        cap = rate * BURST_SECONDS
        if now > self.updated:
            if self.tokens < cap:
                self.tokens = min(cap, self.tokens + rate * (now - self.updated))
            self.updated = now
        if self.tokens > cap:  # the capacity was lowered: so is the burst kept
            self.tokens = cap
        return self.tokens

    def charge(self, units: float, rate: float, now: float) -> float:
        """Take ``units`` RCU (after refilling to ``now``); return what is left, maybe negative."""
        self.level(rate, now)
        self.tokens -= units
        return self.tokens


def _throttled_error() -> Exception:
    """``ProvisionedThroughputExceededException`` as moto's JSON error (HTTP 400), AWS's message."""
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(THROTTLED_TYPE, THROTTLED_MESSAGE)


# -- provisioned throughput ------------------------------------------------------------------
def _gsi(table: Any, index_name: str | None) -> Any:
    if index_name is None:
        return None
    return next((i for i in (table.global_indexes or []) if i.name == index_name), None)


def read_rate(table: Any, index_name: str | None = None) -> float | None:
    """Provisioned read capacity (RCU/s) enforced for a table or one of its GSIs, or None.

    None for an on-demand table and for a missing or non-positive
    ``ReadCapacityUnits``. A local secondary index (or an unknown name) is
    the table's own capacity.
    """
    if getattr(table, "billing_mode", None) != "PROVISIONED":
        return None
    owner = _gsi(table, index_name) or table
    try:
        rate = float((getattr(owner, "throughput", None) or {}).get("ReadCapacityUnits") or 0)
    except (TypeError, ValueError):
        return None
    return rate if rate > 0 else None


def _key(table: Any, index_name: str | None) -> str | None:
    """Return the bucket a read of ``index_name`` uses: the GSI's, else the table's (``None``)."""
    return index_name if _gsi(table, index_name) is not None else None


def _bucket(table: Any, key: str | None, rate: float, now: float) -> Bucket:
    buckets: dict[str | None, Bucket] = table.__dict__.setdefault(_BUCKETS, {})
    bucket = buckets.get(key)
    if bucket is None:
        owner = _gsi(table, key) or table
        born = getattr(owner, _BORN, None)
        born = now if born is None else min(born, now)
        bucket = buckets[key] = Bucket(INITIAL_SECONDS * rate, born)
    return bucket


def _empty(targets: Iterable[tuple[Any, str | None]], now: float) -> bool:
    """Whether any bucket of ``targets`` (table, bucket key) is empty (zero or in debt)."""
    for table, key in targets:
        rate = read_rate(table, key)
        if rate is not None and _bucket(table, key, rate, now).level(rate, now) <= 0:
            return True
    return False


def _charge(table: Any, key: str | None, units: float, now: float) -> None:
    rate = read_rate(table, key)
    if rate is not None and units:
        _bucket(table, key, rate, now).charge(units, rate, now)


def _charge_recorded(backend: Any, charges: list[tuple[str, float, dict[str, float],
                                                       dict[str, float]]], now: float) -> None:
    """Charge what the fidelity layer computed: table and LSI units to the table, GSIs to theirs."""
    for table_name, table_units, gsi, lsi in charges:
        table = _table(backend, table_name)
        if table is None:
            continue
        _charge(table, None, table_units + sum(lsi.values()), now)
        for index_name, units in gsi.items():
            _charge(table, _key(table, index_name), units, now)


def _table(backend: Any, name: Any) -> Any:
    try:
        return backend.get_table(str(name))
    except Exception:  # noqa: BLE001 - the handler itself reports a missing table
        return None


def spend_burst(backends: Iterable[Any], table_name: str | None = None) -> list[str]:
    """Bring provisioned tables' read buckets (and their GSIs') down to one second of capacity.

    As if other readers had just used the tables' burst capacity. With
    ``table_name`` (a name or ARN) only that table; returns the names of the
    tables changed (none if it is on-demand or does not exist).
    """
    done: list[str] = []
    with _lock:
        now = clock()
        for backend in backends:
            for table in list(backend.tables.values()):
                if table_name is not None and table_name not in (table.name, table.table_arn):
                    continue
                keys = [None] + [i.name for i in (table.global_indexes or [])]
                touched = False
                for key in keys:
                    rate = read_rate(table, key)
                    if rate is None:
                        continue
                    bucket = _bucket(table, key, rate, now)
                    bucket.tokens, bucket.updated = INITIAL_SECONDS * rate, now
                    touched = True
                if touched:
                    done.append(table.name)
    return done


# -- the handlers ----------------------------------------------------------------------------
Handler = Callable[[Any], Any]


def _served(self: Any, original: Handler, targets: list[tuple[Any, str | None]],
            arrived: float, extra: Callable[[float], None] | None = None) -> Any:
    """Admit (or refuse) on ``targets``' buckets, serve, charge what the fidelity layer computed.

    Decided and charged at ``arrived``, the request's arrival on :data:`clock`.
    """
    with _lock:
        if _empty(targets, arrived):
            raise _throttled_error()
        fidelity._state.charges = []
        try:
            result = original(self)
            charges = list(fidelity._state.charges)
        finally:
            fidelity._state.charges = None
        _charge_recorded(self.dynamodb_backend, charges, arrived)
        if extra is not None:
            extra(arrived)
    return result


def _provisioned(targets: list[tuple[Any, str | None]]) -> list[tuple[Any, str | None]]:
    return [(t, k) for t, k in targets if t is not None and read_rate(t, k) is not None]


def _single(original: Handler) -> Handler:
    """Query, Scan, GetItem: one table, or one of its indexes."""

    def handler(self: Any) -> Any:
        arrived = clock()
        body = self.body if isinstance(self.body, dict) else {}
        table = _table(self.dynamodb_backend, body.get("TableName", ""))
        index = body.get("IndexName")
        targets = _provisioned(
            [(table, _key(table, index if isinstance(index, str) else None))] if table else [])
        if not targets:
            return original(self)
        return _served(self, original, targets, arrived)

    handler.__name__ = getattr(original, "__name__", "handler")
    return handler


def _batch_get(original: Handler) -> Handler:
    """BatchGetItem: throttled tables' keys come back unprocessed; all throttled: the exception."""

    def batch_get_item(self: Any) -> Any:
        arrived = clock()
        body = self.body if isinstance(self.body, dict) else {}
        requests = body.get("RequestItems")
        if not isinstance(requests, dict):
            return original(self)
        tables = {name: _table(self.dynamodb_backend, name) for name in requests}
        targets = _provisioned([(t, None) for t in tables.values()])
        if not targets:
            return original(self)
        with _lock:
            throttled = [name for name, table in tables.items()
                         if table is not None and _empty([(table, None)], arrived)]
            if not throttled:
                return _served(self, original, [], arrived)
            if len(throttled) == len(requests):
                raise _throttled_error()
            self.body = {**body, "RequestItems": {
                name: request for name, request in requests.items() if name not in throttled}}
            try:
                text = _served(self, original, [], arrived)
            finally:
                self.body = body
        result = json.loads(text)
        unprocessed = result.get("UnprocessedKeys") or {}
        for name in throttled:
            unprocessed[name] = requests[name]
        result["UnprocessedKeys"] = unprocessed
        return json.dumps(result)

    batch_get_item.__name__ = getattr(original, "__name__", "batch_get_item")
    return batch_get_item


def _execute_statement(original: Handler) -> Handler:
    """ExecuteStatement: a SELECT reads the table or index the layer authorized."""

    def execute_statement(self: Any) -> Any:
        from ._auth import partiql_scope

        arrived = clock()
        body = self.body if isinstance(self.body, dict) else {}
        if not fidelity.is_partiql_select(body.get("Statement")):
            return original(self)
        scope: set[tuple[str, str | None]] = getattr(partiql_scope, "tables", None) or set()
        targets = []
        for name, index in scope:
            table = _table(self.dynamodb_backend, name)
            if table is not None:
                targets.append((table, _key(table, index)))
        targets = _provisioned(targets)
        if not targets:
            return original(self)
        return _served(self, original, targets, arrived)

    execute_statement.__name__ = getattr(original, "__name__", "execute_statement")
    return execute_statement


def _transact_get(original: Handler) -> Handler:
    """TransactGetItems: 2 RCU per 4 KB of each item (2 for a missing one), to each table."""

    def transact_get_items(self: Any) -> Any:
        arrived = clock()
        body = self.body if isinstance(self.body, dict) else {}
        gets: list[dict[str, Any]] = [
            t["Get"] for t in body.get("TransactItems") or []
            if isinstance(t, dict) and isinstance(t.get("Get"), dict)]
        tables = [_table(self.dynamodb_backend, g.get("TableName", "")) for g in gets]
        targets = _provisioned([(t, None) for t in tables])
        if not targets:
            return original(self)

        def charge(now: float) -> None:
            for get, table in zip(gets, tables, strict=True):
                if table is None or not isinstance(get.get("Key"), dict):
                    continue
                stored = fidelity._lookup(table, get["Key"])
                size = fidelity.item_size(stored) if stored is not None else 0
                _charge(table, None, 2 * fidelity.read_units(size, True), now)

        return _served(self, original, targets, arrived, charge)

    transact_get_items.__name__ = getattr(original, "__name__", "transact_get_items")
    return transact_get_items


def _remember_birth(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a moto ``__init__`` to note when (on :data:`clock`) a table or GSI was created."""

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        setattr(self, _BORN, clock())

    return __init__


def patch_moto_throughput() -> None:
    """Throttle reads of PROVISIONED tables as DynamoDB does (idempotent); see the module doc.

    Wraps, in moto 5.1.22, the DynamoDB handler's Query, Scan, GetItem,
    BatchGetItem, ExecuteStatement and TransactGetItems (as the fidelity
    layer left them), and notes the creation time of each ``Table`` and
    ``GlobalSecondaryIndex``.
    """
    from moto.dynamodb.models.table import GlobalSecondaryIndex, Table
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler, "_xacct_throughput", False):
        return
    Table.__init__ = _remember_birth(Table.__init__)  # type: ignore[method-assign]
    GlobalSecondaryIndex.__init__ = _remember_birth(  # type: ignore[method-assign]
        GlobalSecondaryIndex.__init__)
    DynamoHandler.query = _single(DynamoHandler.query)  # type: ignore[method-assign]
    DynamoHandler.scan = _single(DynamoHandler.scan)  # type: ignore[method-assign]
    DynamoHandler.get_item = _single(DynamoHandler.get_item)  # type: ignore[method-assign]
    DynamoHandler.batch_get_item = _batch_get(DynamoHandler.batch_get_item)  # type: ignore[method-assign, assignment]
    DynamoHandler.execute_statement = _execute_statement(  # type: ignore[method-assign, assignment]
        DynamoHandler.execute_statement)
    DynamoHandler.transact_get_items = _transact_get(  # type: ignore[method-assign, assignment]
        DynamoHandler.transact_get_items)
    DynamoHandler._xacct_throughput = True  # type: ignore[attr-defined]
