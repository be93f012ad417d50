"""Table facts (DescribeTable and friends) and what reads of a table cost.

:func:`describe` returns a :class:`TableInfo`: keys, indexes, sizes, billing,
status, point-in-time recovery, TTL, stream, table class, deletion protection
and whether a resource policy is attached. DescribeTable is required; the
other calls (DescribeContinuousBackups, DescribeTimeToLive,
GetResourcePolicy) are often not granted to a cross-account role: their
facts are then ``None`` and :attr:`TableInfo.unknown` says why, nothing raises.

:meth:`TableInfo.cost` estimates what a read costs, the way DynamoDB bills
it: a Scan or Query page (up to 1 MB) is billed by the total size of the
items it *reads* (before any filter, whatever ``columns=`` returns), rounded
up to 4 KB: one read capacity unit (RCU, on demand a read request unit) per
4 KB strongly consistent, half of it eventually consistent. The dollars are
on-demand prices (:data:`READ_REQUEST_PRICES`).

:func:`scan_guard` runs before :func:`~xacct_nb.read_scan` sends anything:
a full Scan of a large table warns (:class:`~xacct_nb.LargeScanWarning`,
with the estimate), and a read estimated above ``max_cost=`` RCUs is refused
(:class:`~xacct_nb.CostLimitError`).

>>> info = xn.describe(session, "MyCrossAccountTable")
>>> info.partition_key, info.sort_key, info.billing_mode
('customer_id', 'order_ts', 'PAY_PER_REQUEST')
>>> [(ix.name, ix.kind) for ix in info.indexes]
[('status-index', 'GSI'), ('order-id-index', 'LSI')]
>>> info.point_in_time_recovery is None      # the reader role may not ask
True
>>> sorted(info.unknown)
['point_in_time_recovery', 'resource_policy', 'ttl']
>>> info.cost().rcu                          # a full Scan, eventually consistent
289.5
>>> print(info.cost(consistent=True))        # doctest: +ELLIPSIS
Full Scan of 'MyCrossAccountTable': ... 579 RCU ...
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import ClientError

from ._clients import client
from ._errors import CostLimitError, InvalidArgumentError, LargeScanWarning, XacctError
from ._schema import KeySchema, TableRef, parse_table
from ._schema import describe as describe_table
from ._validate import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    check_session,
    check_str,
    public,
)

__all__ = [
    "DEFAULT_REGION",
    "LARGE_SCAN_BYTES",
    "PRICES_SOURCE",
    "PRICES_AS_OF",
    "READ_REQUEST_PRICES",
    "CostEstimate",
    "IndexInfo",
    "TableInfo",
    "describe",
    "read_units",
    "scan_guard",
]

#: A Scan of a table larger than this (bytes, from DescribeTable) warns first.
LARGE_SCAN_BYTES = 1 << 30
#: A Scan or Query page reads at most about this many bytes.
PAGE_BYTES = 1024 * 1024
#: One read capacity unit reads this many bytes strongly consistently (half a unit eventually).
READ_UNIT_BYTES = 4096

#: Where :data:`READ_REQUEST_PRICES` come from, and the price change they reflect.
PRICES_SOURCE = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
PRICES_AS_OF = "November 2024"
#: On-demand price of reads, USD per million read request units (RRU: one 4 KB strongly
#: consistent read; eventually consistent = 0.5 RRU), Standard table class, per region.
#: us-east-1's is the figure published at PRICES_SOURCE after AWS halved on-demand
#: throughput prices on 1 November 2024 (0.25 before); the other regions are their earlier
#: published figures halved the same way. They are not fetched live and prices change:
#: check them against the page. Override per call with ``cost(prices=...)``, or for the
#: whole process by editing this dict (it is also ``xn.TableInfo.read_prices``).
READ_REQUEST_PRICES: dict[str, float] = {
    "us-east-1": 0.125,
    "us-east-2": 0.125,
    "us-west-2": 0.125,
    "eu-west-1": 0.1415,
    "eu-central-1": 0.1525,
    "ap-northeast-1": 0.1425,
    "ap-southeast-2": 0.142,
}
#: The region whose price is used when the table's region has none in the table.
DEFAULT_REGION = "us-east-1"
#: Standard-Infrequent Access tables pay this much more per read request (0.31 / 0.25).
INFREQUENT_ACCESS_FACTOR = 1.24

_EXTRA_CALLS = {
    "point_in_time_recovery": ("DescribeContinuousBackups", "point-in-time recovery"),
    "ttl": ("DescribeTimeToLive", "time to live"),
    "resource_policy": ("GetResourcePolicy", "the resource policy"),
}


# -- what a read costs ---------------------------------------------------------------------


def read_units(read_bytes: float, consistent: bool) -> tuple[float, int]:
    """Read capacity units and pages for reading ``read_bytes`` with a Scan or Query.

    Each page reads up to 1 MB and is billed by its size rounded up to 4 KB
    (at least one unit); an eventually consistent read is billed half.

    >>> read_units(2_368_700, consistent=True)
    (579.0, 3)
    >>> read_units(0, consistent=False)
    (0.5, 1)
    """
    total = max(0, math.ceil(read_bytes))
    full, rest = divmod(total, PAGE_BYTES)
    pages = full + (1 if rest or not full else 0)
    units = full * (PAGE_BYTES // READ_UNIT_BYTES) + math.ceil(rest / READ_UNIT_BYTES)
    units = max(units, pages)
    return (float(units) if consistent else units / 2), pages


def _usd(amount: float) -> str:
    """``USD 0.000036``: two significant digits below a cent, cents above."""
    if amount <= 0:
        return "USD 0"
    if amount >= 0.01:
        return f"USD {amount:,.2f}"
    return f"USD {amount:.{1 - math.floor(math.log10(amount))}f}"


def _size(n: int | None) -> str:
    if n is None:
        return "unknown size"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _duration(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


@dataclass(frozen=True)
class CostEstimate:
    """What a read is estimated to cost (:meth:`TableInfo.cost`).

    ``rcu`` read capacity units (on demand: read request units), ``dollars``
    at the on-demand price of ``region``, ``pages`` of about 1 MB,
    ``read_bytes`` the bytes read (billed, filters or not), ``seconds`` how
    long the read takes at the provisioned read capacity (``None`` on
    demand), ``explanation`` how it was worked out (also ``str(estimate)``).
    """

    rcu: float
    dollars: float
    pages: int
    read_bytes: int
    region: str
    price_per_million: float
    seconds: float | None
    explanation: str

    def __str__(self) -> str:
        return self.explanation

    def __repr__(self) -> str:
        return (f"CostEstimate(rcu={self.rcu:g}, dollars={self.dollars:.6g}, pages={self.pages}, "
                f"region={self.region!r})")


# -- the facts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexInfo:
    """One secondary index of a table, as DescribeTable reports it."""

    name: str
    kind: str  #: "GSI" or "LSI"
    partition_key: str
    sort_key: str | None
    projection: str  #: "ALL", "KEYS_ONLY" or "INCLUDE"
    non_key_attributes: tuple[str, ...] = ()
    size_bytes: int | None = None
    item_count: int | None = None
    status: str | None = None  #: a GSI's IndexStatus
    read_capacity: int | None = None  #: a provisioned GSI's own RCU (None: on demand, or an LSI)
    write_capacity: int | None = None
    arn: str | None = None

    @classmethod
    def from_description(cls, ix: Mapping[str, Any], kind: str) -> IndexInfo:
        """Build from one entry of DescribeTable's ``GlobalSecondaryIndexes`` / ``LocalSecondaryIndexes``."""
        part, sort = _keys(ix.get("KeySchema") or [])
        projection = ix.get("Projection") or {}
        throughput = ix.get("ProvisionedThroughput") or {}
        return cls(
            name=ix["IndexName"],
            kind=kind,
            partition_key=part,
            sort_key=sort,
            projection=projection.get("ProjectionType", "ALL"),
            non_key_attributes=tuple(projection.get("NonKeyAttributes") or ()),
            size_bytes=ix.get("IndexSizeBytes"),
            item_count=ix.get("ItemCount"),
            status=ix.get("IndexStatus"),
            read_capacity=throughput.get("ReadCapacityUnits") or None,
            write_capacity=throughput.get("WriteCapacityUnits") or None,
            arn=ix.get("IndexArn"),
        )

    def keys_text(self, types: Mapping[str, str]) -> str:
        part = f"{self.partition_key} ({types.get(self.partition_key, '?')})"
        if self.sort_key is None:
            return part
        return f"{part} / {self.sort_key} ({types.get(self.sort_key, '?')})"

    def projection_text(self) -> str:
        if self.projection == "INCLUDE":
            return f"INCLUDE {', '.join(self.non_key_attributes)}"
        return self.projection


def _keys(schema: Any) -> tuple[str, str | None]:
    part = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    sort = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return part, sort


@dataclass(frozen=True)
class TableInfo:
    """What :func:`describe` found out about a table.

    Facts a role was not allowed to ask for (or that the endpoint does not
    answer) are ``None``; :attr:`unknown` maps each such fact
    (``"point_in_time_recovery"``, ``"ttl"``, ``"resource_policy"``) to why.
    Provisioned capacities are ``None`` on demand. ``str(info)`` is a text
    summary; in a notebook it shows as a table.
    """

    name: str
    arn: str
    partition_key: str
    sort_key: str | None
    attribute_types: Mapping[str, str]
    indexes: tuple[IndexInfo, ...]
    item_count: int | None
    size_bytes: int | None
    billing_mode: str  #: "PAY_PER_REQUEST" (on demand) or "PROVISIONED"
    read_capacity: int | None
    write_capacity: int | None
    status: str
    created: _dt.datetime | None
    table_class: str  #: "STANDARD" or "STANDARD_INFREQUENT_ACCESS"
    deletion_protection: bool
    stream_enabled: bool
    stream_view_type: str | None
    point_in_time_recovery: bool | None = None
    ttl_status: str | None = None  #: "ENABLED", "DISABLED", "ENABLING", "DISABLING"
    ttl_attribute: str | None = None
    resource_policy: bool | None = None
    unknown: Mapping[str, str] = field(default_factory=dict)

    #: The on-demand read prices used by :meth:`cost` (the module's :data:`READ_REQUEST_PRICES`,
    #: USD per million read request units by region): edit it to change prices everywhere.
    read_prices: ClassVar[dict[str, float]] = READ_REQUEST_PRICES

    # -- building ----------------------------------------------------------------------

    @classmethod
    def from_description(cls, desc: Mapping[str, Any], **extras: Any) -> TableInfo:
        """Build from DescribeTable's ``Table``; ``extras`` are the other calls' facts."""
        part, sort = _keys(desc["KeySchema"])
        billing = (desc.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
        throughput = desc.get("ProvisionedThroughput") or {}
        on_demand = billing == "PAY_PER_REQUEST"
        stream = desc.get("StreamSpecification") or {}
        indexes = tuple(
            IndexInfo.from_description(ix, kind)
            for kind, entry in (("GSI", "GlobalSecondaryIndexes"), ("LSI", "LocalSecondaryIndexes"))
            for ix in desc.get(entry) or []
        )
        created = desc.get("CreationDateTime")
        if isinstance(created, (int, float)):
            created = _dt.datetime.fromtimestamp(created, tz=_dt.UTC)
        extras.setdefault("unknown", {})
        return cls(
            name=desc["TableName"],
            arn=desc.get("TableArn", ""),
            partition_key=part,
            sort_key=sort,
            attribute_types={
                a["AttributeName"]: a["AttributeType"] for a in desc.get("AttributeDefinitions") or []
            },
            indexes=indexes,
            item_count=desc.get("ItemCount"),
            size_bytes=desc.get("TableSizeBytes"),
            billing_mode=billing,
            read_capacity=None if on_demand else throughput.get("ReadCapacityUnits"),
            write_capacity=None if on_demand else throughput.get("WriteCapacityUnits"),
            status=desc.get("TableStatus", ""),
            created=created,
            table_class=(desc.get("TableClassSummary") or {}).get("TableClass") or "STANDARD",
            deletion_protection=bool(desc.get("DeletionProtectionEnabled", False)),
            stream_enabled=bool(stream.get("StreamEnabled", False)),
            stream_view_type=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
            **extras,
        )

    # -- reading it --------------------------------------------------------------------

    @property
    def region(self) -> str | None:
        """The table's region (from its ARN)."""
        parts = self.arn.split(":")
        return parts[3] if len(parts) > 5 and parts[3] else None

    @property
    def account(self) -> str | None:
        """The account that owns the table (from its ARN)."""
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 5 and parts[4] else None

    def index(self, name: str) -> IndexInfo:
        """Return the index called ``name`` (:class:`~xacct_nb.InvalidArgumentError` if none)."""
        for ix in self.indexes:
            if ix.name == name:
                return ix
        known = ", ".join(ix.name for ix in self.indexes) or "none"
        raise InvalidArgumentError(
            f"Table {self.name!r} has no index {name!r} (its indexes: {known})."
        )

    # -- cost --------------------------------------------------------------------------

    def cost(
        self,
        kind: str = "scan",
        *,
        index: str | None = None,
        consistent: bool = False,
        filtered: bool = False,
        limit: int | None = None,
        segments: int = 1,
        items: int | None = None,
        item_bytes: float | None = None,
        region: str | None = None,
        prices: float | Mapping[str, float] | None = None,
    ) -> CostEstimate:
        """Estimate the read capacity and on-demand dollars of a Scan or Query.

        Parameters
        ----------
        kind
            ``"scan"`` (the whole table or ``index``) or ``"query"``.
        index
            Read a secondary index: its size (``IndexSizeBytes``) is what is read.
        consistent
            Strongly consistent reads cost twice as much (not on a GSI).
        filtered
            A ``filter=`` is given. It does not reduce what is read (and billed):
            the estimate is that of the read without it, and a ``limit`` no
            longer bounds it (matching rows may be rare).
        limit
            At most this many rows; without a filter the read stops after
            ``limit`` items, so it reads about ``limit`` x the average item size.
        segments
            A parallel Scan: each segment's pages are billed (and rounded) on
            their own, at least one page per segment. Faster, not cheaper.
        items
            For a Query: how many items it reads (those matching the key
            condition, before any filter).
        item_bytes
            Average item size; by default the table's (or index's) size / item count.
        region
            Price of this region (default: the table's).
        prices
            USD per million read request units: one number, or ``{region: price}``
            (default :data:`READ_REQUEST_PRICES`, also ``xn.TableInfo.read_prices``).

        Returns
        -------
        CostEstimate
            ``rcu``, ``dollars``, ``pages``, ``seconds`` (provisioned) and ``explanation``.

        Examples
        --------
        >>> info = xn.describe(session, "MyCrossAccountTable")
        >>> info.cost("query", items=25).rcu        # one customer's ~25 orders
        2.5
        >>> round(info.cost(prices=1.0).dollars, 7)  # USD 1 per million RRU
        0.0002895
        """
        check_choice("kind", kind, ("scan", "query"), where="TableInfo.cost")
        check_str("index", index, optional=True, where="TableInfo.cost")
        check_bool("consistent", consistent, where="TableInfo.cost")
        check_bool("filtered", filtered, where="TableInfo.cost")
        check_int("limit", limit, 1, optional=True, where="TableInfo.cost")
        check_int("segments", segments, 1, 1000000, where="TableInfo.cost")
        check_int("items", items, 0, optional=True, where="TableInfo.cost")
        check_number("item_bytes", item_bytes, optional=True, where="TableInfo.cost")
        check_str("region", region, optional=True, where="TableInfo.cost")
        ix = self.index(index) if index is not None else None
        if consistent and ix is not None and ix.kind == "GSI":
            raise InvalidArgumentError(
                f"TableInfo.cost: consistent=True is not possible on global secondary index "
                f"{index!r}: DynamoDB reads GSIs eventually consistently only."
            )
        if kind == "query" and items is None:
            raise InvalidArgumentError(
                "TableInfo.cost: a Query's cost depends on how many items it reads: pass "
                "items= (the items matching the key condition, before any filter)."
            )
        if kind == "scan" and items is not None:
            raise InvalidArgumentError(
                "TableInfo.cost: items= is for kind='query'; a Scan reads the whole "
                "table (or index); pass limit= to bound it."
            )
        target = f"{self.name!r}" + (f" index {index!r}" if index else "")
        notes: list[str] = []
        size, count = self.size_bytes, self.item_count
        if ix is not None:
            size, count = ix.size_bytes, ix.item_count
            if size is None:  # the endpoint does not report index sizes
                size, count = self.size_bytes, self.item_count
                notes.append(f"The index's size is not reported: the table's is used "
                             f"(an upper bound for a {ix.projection} projection).")
        if size is None:
            raise InvalidArgumentError(
                f"TableInfo.cost: DescribeTable reported no size for {target}: the cost "
                "cannot be estimated."
            )
        average = float(item_bytes) if item_bytes is not None else (size / count if count else 0.0)
        if kind == "scan":
            read = float(size)
            what = f"Full Scan of {target}"
            detail = "reads all " + (f"{count:,} items, " if count is not None else "") + _size(size)
            if limit is not None and not filtered and limit * average < read:
                read = limit * average
                what = f"Scan of {target} with limit={limit:,}"
                detail = f"reads about {limit:,} x {average:,.0f} bytes = {_size(math.ceil(read))}"
        else:
            assert items is not None  # checked above
            n = min(items, limit) if (limit is not None and not filtered) else items
            read = n * average
            what = f"Query of {target}"
            detail = f"reads about {n:,} items x {average:,.0f} bytes = {_size(math.ceil(read))}"
        if filtered:
            notes.append("A filter does not reduce what is read and billed"
                         + (f"; with limit={limit:,} the read may still go to the end."
                            if limit is not None else "."))
        if kind == "query":
            segments = 1
        rcu, pages = read_units(read / segments, consistent)
        strong, _ = read_units(read / segments, True)
        rcu, pages, strong = rcu * segments, pages * segments, strong * segments
        if segments > 1:
            notes.append(f"Each of the {segments:,} segments is billed on its own, at least "
                         "one page each.")
        how = (f"{strong:,.0f} RCU strongly consistent" if consistent else
               f"{strong:,.0f} RCU strongly consistent, half for eventually consistent reads: "
               f"{rcu:,.1f} RCU")
        region_used = region or self.region or DEFAULT_REGION
        price, price_note = self._price(region_used, prices)
        dollars = rcu * price / 1e6
        seconds = None
        lines = [
            f"{what}: {detail} in ~{pages:,} page(s) of up to 1 MB, each billed by its size "
            f"rounded up to 4 KB: {how}.",
            f"On demand in {price_note}: {_usd(dollars)}.",
        ]
        capacity = (ix.read_capacity if (ix is not None and ix.kind == "GSI") else self.read_capacity)
        if self.billing_mode == "PROVISIONED" and capacity:
            seconds = rcu / capacity
            lines.append(
                f"The table is provisioned: reads are paid by the hour for {capacity:,} RCU/s, not "
                f"per request (the dollars above are the on-demand equivalent); at {capacity:,} "
                f"RCU/s this read takes at least {_duration(seconds)}, and uses that capacity "
                "meanwhile."
            )
        lines += notes
        lines.append("Sizes come from DescribeTable, which DynamoDB refreshes about every six hours.")
        return CostEstimate(
            rcu=rcu, dollars=dollars, pages=pages, read_bytes=math.ceil(read), region=region_used,
            price_per_million=price, seconds=seconds, explanation=" ".join(lines),
        )

    def _price(self, region: str, prices: Any) -> tuple[float, str]:
        """(USD per million RRU, how it was chosen) for ``region``."""
        source = (f"(on-demand prices of {PRICES_AS_OF}, from {PRICES_SOURCE}; check them there, "
                  "override with prices=)")
        if prices is not None and not isinstance(prices, Mapping):
            price = check_number("prices", prices, where="TableInfo.cost")
            return float(price), f"{region} at USD {price:g} per million read request units (given)"
        table = READ_REQUEST_PRICES if prices is None else prices
        if prices is not None:
            for key, value in prices.items():
                check_str("prices key", key, where="TableInfo.cost")
                check_number(f"prices[{key!r}]", value, where="TableInfo.cost")
            source = "(prices given)"
        if region in table:
            price, note = float(table[region]), f"{region} at USD {table[region]:g}"
        else:
            fallback = table.get(DEFAULT_REGION, READ_REQUEST_PRICES.get(DEFAULT_REGION, 0.125))
            price = float(fallback)
            note = (f"{region} (no price known for it: {DEFAULT_REGION}'s is used) at "
                    f"USD {price:g}")
        note += " per million read request units"
        if self.table_class == "STANDARD_INFREQUENT_ACCESS":
            price *= INFREQUENT_ACCESS_FACTOR
            note += f", x{INFREQUENT_ACCESS_FACTOR:g} for the Standard-IA table class"
        return price, f"{note} {source}"

    # -- display -----------------------------------------------------------------------

    def _facts(self) -> list[tuple[str, str]]:
        types = self.attribute_types

        def key(name: str | None, role: str) -> str:
            return f"{name} ({types.get(name or '', '?')}, {role})" if name else ""

        def unknown(name: str) -> str:
            return f"unknown: {self.unknown.get(name, 'not asked')}"

        if self.billing_mode == "PAY_PER_REQUEST":
            billing = "on demand (PAY_PER_REQUEST)"
        else:
            billing = (f"provisioned: {self.read_capacity} RCU, {self.write_capacity} WCU "
                       "per second")
        created = self.created.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if self.created else "?"
        if self.point_in_time_recovery is None:
            pitr = unknown("point_in_time_recovery")
        else:
            pitr = "enabled" if self.point_in_time_recovery else "disabled"
        if self.ttl_status is None:
            ttl = unknown("ttl")
        else:
            ttl = self.ttl_status.lower() + (f" on {self.ttl_attribute!r}" if self.ttl_attribute else "")
        if self.resource_policy is None:
            policy = unknown("resource_policy")
        else:
            policy = "attached" if self.resource_policy else "none"
        count = f"{self.item_count:,} items" if self.item_count is not None else "? items"
        return [
            ("table", self.name),
            ("ARN", self.arn),
            ("keys", ", ".join(k for k in (key(self.partition_key, "partition"),
                                           key(self.sort_key, "sort")) if k)),
            ("items, size", f"{count}, {_size(self.size_bytes)}"),
            ("billing", billing),
            ("status", f"{self.status}, created {created}"),
            ("table class", self.table_class),
            ("point-in-time recovery", pitr),
            ("time to live", ttl),
            ("stream", f"enabled ({self.stream_view_type})" if self.stream_enabled else "disabled"),
            ("deletion protection", "on" if self.deletion_protection else "off"),
            ("resource policy", policy),
        ]

    def _index_rows(self) -> list[tuple[str, str, str, str, str, str, str]]:
        rows = []
        for ix in self.indexes:
            count = f"{ix.item_count:,}" if ix.item_count is not None else "?"
            capacity = (f"{ix.read_capacity} RCU, {ix.write_capacity} WCU"
                        if ix.read_capacity or ix.write_capacity else "")
            rows.append((ix.name, ix.kind, ix.keys_text(self.attribute_types),
                         ix.projection_text(), count, _size(ix.size_bytes), capacity))
        return rows

    def __str__(self) -> str:
        facts = self._facts()
        width = max(len(label) for label, _ in facts)
        lines = [f"{label:<{width}}  {value}" for label, value in facts]
        if self.indexes:
            lines.append("indexes:")
            for name, kind, keys, projection, count, size, capacity in self._index_rows():
                extra = f", {capacity}" if capacity else ""
                lines.append(f"  {name} ({kind}): {keys}, {projection}, {count} items, {size}{extra}")
        else:
            lines.append("indexes: none")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<TableInfo\n{self}\n>"

    def _repr_html_(self) -> str:
        esc = html.escape
        cell = 'style="text-align:left;padding:1px 8px"'
        rows = "".join(
            f"<tr><th {cell}>{esc(label)}</th><td {cell}>{esc(value)}</td></tr>"
            for label, value in self._facts()
        )
        out = [f'<div class="xacct-table-info"><table>{rows}</table>']
        if self.indexes:
            head = "".join(f"<th {cell}>{esc(h)}</th>" for h in
                           ("index", "kind", "keys", "projection", "items", "size", "provisioned"))
            body = "".join(
                "<tr>" + "".join(f"<td {cell}>{esc(v)}</td>" for v in row) + "</tr>"
                for row in self._index_rows()
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        out.append("</div>")
        return "".join(out)


# -- asking ----------------------------------------------------------------------------------


def _ask(call: Any, fact: str, **params: Any) -> tuple[Any, str | None]:
    """(answer, None), or (None, why) when the call was refused; PolicyNotFound is an answer."""
    action, what = _EXTRA_CALLS[fact]
    try:
        return call(**params), None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")).strip()
        if code == "PolicyNotFoundException":
            return None, None
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            return None, (f"not allowed to ask: dynamodb:{action} was denied ({code}); "
                          f"the table's owner can grant it to see {what}")
        if code in ("UnknownOperationException", "UnrecognizedClientException") or (
                "not support" in message.lower()):
            return None, f"the endpoint does not answer {action} ({code})"
        return None, f"{action} failed: {code}: {message}"


@public
def describe(session: Any, table: str) -> TableInfo:
    """Describe a table: keys, indexes, sizes, billing, status, PITR, TTL, stream, policy.

    DescribeTable is required (:class:`~xacct_nb.AccessDeniedError` if the
    role may not call it, :class:`~xacct_nb.TableNotFoundError` if the table
    is not there). DescribeContinuousBackups, DescribeTimeToLive and
    GetResourcePolicy are asked too; when one is refused its facts are
    ``None`` and :attr:`TableInfo.unknown` says why. The description also
    refreshes the one the readers use for key names.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. from :func:`xacct_nb.assume_role`).
    table
        Table name or table ARN.

    Returns
    -------
    TableInfo
        With :meth:`TableInfo.cost` to estimate what reads cost.

    Examples
    --------
    >>> info = xn.describe(admin, "MyCrossAccountTable")   # the owner may ask everything
    >>> info.unknown, info.point_in_time_recovery, info.ttl_status, info.resource_policy
    ({}, False, 'DISABLED', False)
    >>> info.item_count, info.index("status-index").item_count
    (3000, 3000)
    """
    check_session(session, "xn.describe")
    ref: TableRef = parse_table(table)
    schema = describe_table(session, ref, refresh=True)
    desc = dict(schema.description or {})
    arn = desc.get("TableArn") or ref.arn or ""
    ddb = client(session, "dynamodb")
    extras: dict[str, Any] = {}
    unknown: dict[str, str] = {}

    backups, why = _ask(ddb.describe_continuous_backups, "point_in_time_recovery",
                        TableName=ref.request_name)
    if why:
        unknown["point_in_time_recovery"] = why
    else:
        status = ((backups or {}).get("ContinuousBackupsDescription", {})
                  .get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus"))
        extras["point_in_time_recovery"] = status == "ENABLED"

    ttl, why = _ask(ddb.describe_time_to_live, "ttl", TableName=ref.request_name)
    if why:
        unknown["ttl"] = why
    else:
        ttl_desc = (ttl or {}).get("TimeToLiveDescription", {})
        extras["ttl_status"] = ttl_desc.get("TimeToLiveStatus", "DISABLED")
        extras["ttl_attribute"] = ttl_desc.get("AttributeName")

    if arn:
        policy, why = _ask(ddb.get_resource_policy, "resource_policy", ResourceArn=arn)
        if why:
            unknown["resource_policy"] = why
        else:
            extras["resource_policy"] = bool(policy and policy.get("Policy"))
    else:
        unknown["resource_policy"] = "DescribeTable gave no table ARN to ask GetResourcePolicy with"
    return TableInfo.from_description(desc, unknown=unknown, **extras)


# -- before a Scan ---------------------------------------------------------------------------


def _refuse_unknown(ref: Any, max_cost: float, why: str) -> CostLimitError:
    return CostLimitError(
        f"xn.read_scan of {str(ref)!r} refused before reading: max_cost={max_cost:g} was given "
        f"but the cost cannot be estimated: {why}, so the table's size is unknown and "
        "max_cost cannot be honoured. Ask the table's owner to allow dynamodb:DescribeTable "
        "(xn.policies generates the policy), or drop max_cost= to read without a limit.",
        estimate=None, limit=max_cost,
    )


def scan_guard(session: Any, ref: Any, schema: KeySchema | None, *, filter: Any, index: str | None,  # noqa: A002
               limit: int | None, consistent: bool, max_cost: Any, segments: int = 1) -> None:
    """Warn before a large full Scan; refuse one estimated above ``max_cost`` RCUs.

    Called by :func:`~xacct_nb.read_scan` before any Scan is sent. A full
    Scan (no filter, index or limit) of a table larger than
    :data:`LARGE_SCAN_BYTES` warns with its item count, size and estimated
    cost. With ``max_cost`` (read capacity units, a positive number) a read
    (of ``segments`` parallel segments) estimated above it raises
    :class:`~xacct_nb.CostLimitError`, as does one whose cost cannot be
    estimated (no DescribeTable).

    >>> from xacct_nb._schema import describe as describe_table, parse_table
    >>> ref = parse_table("MyCrossAccountTable")
    >>> scan_guard(session, ref, describe_table(session, ref), filter=None, index=None,
    ...            limit=None, consistent=False, max_cost=100)
    Traceback (most recent call last):
    ...
    xacct_nb._errors.CostLimitError: xn.read_scan of 'MyCrossAccountTable' refused before reading: estimated 289.5 RCU ...
    """
    if max_cost is not None:
        check_number("max_cost", max_cost, where="xn.read_scan")
    full = filter is None and index is None and limit is None
    size = schema.size_bytes if schema is not None else None
    large = full and size is not None and size > LARGE_SCAN_BYTES
    if not large and max_cost is None:
        return
    description = schema.description if schema is not None else None
    if description is None and max_cost is not None:
        if schema is None:
            raise _refuse_unknown(ref, max_cost, "DescribeTable was not allowed to this role")
        try:  # key_schema= was given: the size is still DescribeTable's (cached)
            description = describe_table(session, ref).description
        except XacctError as exc:
            code = getattr(exc, "code", "")
            if code not in ("AccessDeniedException", "AccessDenied"):
                raise
            raise _refuse_unknown(ref, max_cost, "DescribeTable was not allowed to this role") from None
    estimate = None
    if description is not None and (index is None or any(
            ix.get("IndexName") == index
            for entry in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes")
            for ix in description.get(entry) or [])):
        info = TableInfo.from_description(description)
        try:
            estimate = info.cost("scan", index=index, consistent=consistent,
                                 filtered=filter is not None, limit=limit, segments=segments)
        except InvalidArgumentError:
            estimate = None
    if large and schema is not None and size is not None:
        count = schema.item_count
        cost = (f" Estimated cost: {estimate.rcu:,.1f} RCU, {_usd(estimate.dollars)} on demand "
                f"({estimate.region})." if estimate is not None else "")
        warnings.warn(
            f"Scanning all of {str(ref)!r}: {count if count is None else f'{count:,}'} items, "
            f"{size / 2**30:,.1f} GiB. This reads (and is billed for) the whole "
            f"table.{cost} Use read_query, a filter with limit=, or chunksize= to stream it; "
            "max_cost= refuses reads estimated above a number of RCUs.",
            LargeScanWarning,
            stacklevel=4,
        )
    if max_cost is None:
        return
    if estimate is None:
        raise _refuse_unknown(ref, max_cost, "DescribeTable reported no size for it")
    if estimate.rcu > max_cost:
        raise CostLimitError(
            f"xn.read_scan of {str(ref)!r} refused before reading: estimated {estimate.rcu:,.1f} "
            f"RCU ({_usd(estimate.dollars)} on demand in {estimate.region}) is above "
            f"max_cost={max_cost:g} RCU. To read anyway, raise max_cost (or drop it); to read "
            "less, use read_query on the partitions you need, limit= without a filter (a "
            "filter does not reduce what a Scan reads), or a smaller index (index=); "
            "segments= makes a Scan faster, not cheaper. The estimate: "
            f"{estimate.explanation}",
            estimate=estimate, limit=max_cost,
        )

