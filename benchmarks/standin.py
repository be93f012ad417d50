"""A stand-in DynamoDB endpoint that serves pre-built Scan pages, for benchmarks.

The point is to measure *clients*: every Scan response body is built once, at
start, so serving a page costs a dict lookup and a socket write. What a client
spends on top of that is its own (HTTP, signing, parsing, decoding, building
the DataFrame).

Protocol (just enough of DynamoDB's JSON 1.0 protocol for boto3, awswrangler
and xacct_nb to scan a table):

* ``POST /`` with ``X-Amz-Target: DynamoDB_20120810.Scan``,
  ``DynamoDB_20120810.Query`` (one partition: ``KeyConditionExpression``
  ``customer_id = :v`` only, read forward; see :meth:`Dataset.query`) or
  ``DynamoDB_20120810.DescribeTable``; answers carry
  ``Content-Type: application/x-amz-json-1.0``. Signatures are not checked.
  No ``x-amz-crc32`` header is sent (botocore verifies it only if present).
* Data: ``--items`` orders-like items generated deterministically (about ten
  attributes, some of them sparse; see :func:`make_item`), split into pages of
  about 1 MiB of JSON (:data:`PAGE_BYTES`), as DynamoDB pages at 1 MB.
  ``--pad-bytes N`` adds a string attribute ``note`` of N ASCII characters to
  every item (bigger items: more capacity per item, fewer items to generate).
* Pagination: a page's ``LastEvaluatedKey`` is the key of its last item; the
  server maps any item's key back to its position and continues after it.
* Parallel scan: with ``TotalSegments=T``, segment ``s`` gets pages
  ``s, s+T, s+2T, ...``, so all segments together return every item exactly
  once (a segment with no page answers one empty page). ``T`` from 1 to
  1,000,000, as DynamoDB allows.
* ``Limit``: a page of at most ``Limit`` items (never past the end of the
  pre-built page it starts in, as DynamoDB never passes 1 MB); the next
  request continues after the last of them. Without ``Limit`` and from a page
  boundary, the pre-built page is sent as it is.
* Capacity: every Scan page is charged DynamoDB's read units (see
  :func:`item_size` and :func:`read_units`): the sizes of the items read,
  summed over the page, rounded up to 4 KB, halved unless ``ConsistentRead``.
  With ``ReturnConsumedCapacity`` ``TOTAL`` (or ``INDEXES``) the answer
  carries ``ConsumedCapacity`` (``INDEXES`` adds ``Table``).
* ``--rcu R`` provisions R read units per second: a token bucket that fills
  at R per second and holds at most ``R x --burst-seconds`` (DynamoDB keeps up
  to 300 s of unused capacity: the default). It starts empty (a table with no
  unused capacity yet). A Scan is admitted while the bucket holds more than
  zero units, then its whole cost is taken (a page's cost is known only once
  it is read, so the bucket may go negative: later requests wait until the
  refill has paid that back); otherwise the answer is
  ``ProvisionedThroughputExceededException`` (HTTP 400, at once, without the
  page latency). DescribeTable then reports the provisioned throughput and
  ``BillingMode: PROVISIONED``; without ``--rcu``, ``PAY_PER_REQUEST`` and
  nothing is ever throttled.
* ``--latency-ms`` sleeps that long before each Scan page; the server is a
  :class:`~http.server.ThreadingHTTPServer` speaking HTTP/1.1 keep-alive, so
  concurrent requests wait concurrently.
* ``GET /stats`` returns counters as JSON (not a DynamoDB API): requests,
  connections, bytes, CPU, throttled requests, read units consumed and, per
  second (Unix time), ``consumed_by_second``: ``[[second, units, throttled],
  ...]`` (units charged to the pages admitted in that second, requests
  throttled in it).

Run ``python benchmarks/standin.py --items 200000 --latency-ms 50``: it
prints one line ``READY <port> <pages> <items>`` once it listens on 127.0.0.1
(a free port unless ``--port``), then serves until interrupted.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import calendar
import json
import math
import random
import re
import signal
import socket
import sys
import threading
import time
from array import array
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TABLE_NAME = "BenchOrders"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{TABLE_NAME}"
PARTITION_KEY = "customer_id"
SORT_KEY = "order_ts"
#: Target size of one page's JSON (DynamoDB stops a Scan page at 1 MB of data).
PAGE_BYTES = 1 << 20
#: DynamoDB's limit on TotalSegments (a segment past the last page answers an empty page).
MAX_SEGMENTS = 1_000_000
TARGET_PREFIX = "DynamoDB_20120810."
JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
#: Scan parameters the stand-in accepts; anything else is refused (400), so
#: a client can never silently get a result that ignored what it asked for.
ACCEPTED_SCAN_PARAMS = frozenset(
    {
        "TableName",
        "Segment",
        "TotalSegments",
        "ExclusiveStartKey",
        "ConsistentRead",
        "ReturnConsumedCapacity",
        "Limit",
    }
)
#: Query parameters the stand-in accepts (one partition, read forward).
ACCEPTED_QUERY_PARAMS = frozenset(
    {
        "TableName",
        "KeyConditionExpression",
        "ExpressionAttributeNames",
        "ExpressionAttributeValues",
        "ExclusiveStartKey",
        "ConsistentRead",
        "ReturnConsumedCapacity",
        "Limit",
        "ScanIndexForward",
    }
)
_KEY_CONDITION = re.compile(r"\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*")
#: Read capacity is charged per 4 KB read (halved for eventually consistent reads).
READ_UNIT_BYTES = 4096
#: DynamoDB keeps up to five minutes of unused capacity for bursts.
DEFAULT_BURST_SECONDS = 300.0
THROTTLED_MESSAGE = (
    "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API."
)
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_PAD_SOURCE = (
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud "
    "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. "
)

_STATUSES = ("PENDING", "PAID", "SHIPPED", "DELIVERED", "CANCELLED", "RETURNED")
_CITIES = (
    ("Berlin", "DE"),
    ("Paris", "FR"),
    ("Lyon", "FR"),
    ("Madrid", "ES"),
    ("Lisbon", "PT"),
    ("Seattle", "US"),
    ("Austin", "US"),
    ("Toronto", "CA"),
    ("Osaka", "JP"),
    ("Milan", "IT"),
    ("Dublin", "IE"),
    ("Warsaw", "PL"),
    ("Vienna", "AT"),
    ("Oslo", "NO"),
    ("Sydney", "AU"),
)
_TAGS = ("gift", "bulk", "fragile", "priority", "promo", "reorder", "b2b", "eco", "vip")
_MESSAGES = (
    "Happy birthday!",
    "Congratulations on the new job",
    "With love from all of us",
    "Enjoy, and see you soon",
    "Thank you for everything",
    "Merry Christmas",
)
#: 2026-01-01T00:00:00Z as a Unix time; order timestamps start there.
_EPOCH_2026 = 1767225600


def make_item(index: int, rng: random.Random, n_customers: int) -> dict[str, Any]:
    """Item ``index`` in DynamoDB wire form (``{"attr": {"S": ...}, ...}``).

    ``(customer_id, order_ts)`` is unique: ``order_ts`` grows strictly with
    ``index``. Sparse attributes: ``loyalty_points`` (missing in ~40%),
    ``gift_message`` (~85%), ``tags`` (~55%).
    """
    ts = time.gmtime(_EPOCH_2026 + index * 7 + rng.randrange(7))
    item: dict[str, Any] = {
        "customer_id": {"S": f"C-{rng.randrange(n_customers):06d}"},
        "order_ts": {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ", ts)},
        "order_id": {"S": f"O-{index:09d}"},
        "status": {"S": rng.choice(_STATUSES)},
        "total": {"N": f"{rng.randrange(99, 250000) / 100:.2f}"},
        "item_count": {"N": str(rng.randint(1, 12))},
        "express": {"BOOL": rng.random() < 0.3},
    }
    if rng.random() >= 0.40:
        item["loyalty_points"] = {"N": str(rng.randrange(0, 5000))}
    if rng.random() >= 0.85:
        item["gift_message"] = {"S": rng.choice(_MESSAGES)}
    city, country = rng.choice(_CITIES)
    item["ship_to"] = {"M": {"city": {"S": city}, "country": {"S": country}}}
    if rng.random() >= 0.55:
        item["tags"] = {"SS": sorted(rng.sample(_TAGS, rng.randint(1, 3)))}
    return item


def pad_item(item: dict[str, Any], index: int, pad_bytes: int) -> None:
    """Add ``note``: ``pad_bytes`` ASCII characters, different for every item."""
    if pad_bytes <= 0:
        return
    text = f"N-{index:09d} "
    while len(text) < pad_bytes:
        text += _PAD_SOURCE[(index + len(text)) % 97 :] + _PAD_SOURCE
    item["note"] = {"S": text[:pad_bytes]}


# --------------------------------------------------------------------------- item sizes


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def number_size(text: str) -> int:
    """Bytes DynamoDB counts for a number: ``1 + ceil(int digits / 2) + ceil(fraction digits / 2)``.

    Over the significant digits (leading and trailing zeros trimmed), plus 1
    if negative: AWS's "about one byte per two significant digits, plus one
    byte", as ``xacct_nb.sandbox`` counts it.

    >>> number_size("123456"), number_size("3.14159"), number_size("669.63"), number_size("0")
    (4, 5, 4, 1)
    """
    text = text.strip()
    negative = text.startswith("-")
    digits = text.lstrip("+-")
    if "e" in digits or "E" in digits:
        from decimal import Decimal, InvalidOperation

        try:
            _, tup, exponent = Decimal(text).normalize().as_tuple()
        except InvalidOperation:
            return len(text)
        if not isinstance(exponent, int) or tup == (0,):
            return 1
        fraction = min(len(tup), -exponent) if exponent < 0 else 0
        whole = len(tup) - fraction
    else:
        whole_text, _, fraction_text = digits.partition(".")
        whole_text = whole_text.lstrip("0")
        fraction_text = fraction_text.rstrip("0")
        if not fraction_text:
            whole_text = whole_text.rstrip("0")
        elif not whole_text:
            fraction_text = fraction_text.lstrip("0")
        whole, fraction = len(whole_text), len(fraction_text)
        if whole == 0 and fraction == 0:
            return 1
    return 1 + (whole + 1) // 2 + (fraction + 1) // 2 + (1 if negative else 0)


def _binary_size(text: str) -> int:
    return len(base64.b64decode(text))


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value in wire form (its name excluded).

    S: UTF-8 bytes; N: :func:`number_size`; B: raw (base64-decoded) bytes;
    BOOL and NULL: 1; SS/NS/BS: the sum of their members; M: 3 + per entry
    (name bytes + 1 + value); L: 3 + per element (1 + value).
    """
    ((kind, raw),) = value.items()
    if kind == "S":
        return _utf8_len(raw)
    if kind == "N":
        return number_size(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(_utf8_len(k) + 1 + value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "SS":
        return sum(_utf8_len(s) for s in raw)
    if kind == "NS":
        return sum(number_size(s) for s in raw)
    if kind == "B":
        return _binary_size(raw)
    if kind == "BS":
        return sum(_binary_size(b) for b in raw)
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for an item: its attribute names' UTF-8 bytes plus value sizes.

    >>> item_size({"id": {"S": "abc"}, "n": {"N": "12.5"}, "ok": {"BOOL": True}})
    12
    """
    return sum(_utf8_len(name) + value_size(value) for name, value in item.items())


def read_units(size: int, consistent: bool) -> float:
    """Read units of one page that read ``size`` bytes: 4 KB units (at least one), halved
    unless strongly consistent.

    >>> read_units(1_000_000, False), read_units(1_000_000, True), read_units(0, False)
    (122.5, 245.0, 0.5)
    """
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


# --------------------------------------------------------------------------- the table


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}


def _key_tuple(key: Any) -> tuple[str, str] | None:
    """``(customer_id, order_ts)`` of an ``ExclusiveStartKey`` (None if malformed)."""
    try:
        customer, ts = key[PARTITION_KEY]["S"], key[SORT_KEY]["S"]
    except (KeyError, TypeError):
        return None
    if not isinstance(customer, str) or not isinstance(ts, str):
        return None
    return customer, ts


def _parse_ts(text: str) -> int:
    """Unix time of ``YYYY-MM-DDTHH:MM:SSZ`` (faster than ``strptime``)."""
    if len(text) != 20 or text[4] != "-" or text[10] != "T" or text[19] != "Z":
        raise ValueError(text)
    return calendar.timegm(
        (int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
         int(text[17:19]), 0, 0, 0)
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Page:
    """One pre-serialized Scan page.

    ``head`` is the complete body up to (not including) the closing brace:
    ``{"Items":[...],"Count":n,"ScannedCount":n``; ``lek`` is
    ``,"LastEvaluatedKey":{...}`` (its last item's key). A whole page goes out
    as ``head [+ capacity] [+ lek] + "}"``, without copying ``head``.
    ``offsets[k]`` is where item ``k`` starts in ``head`` (``offsets[count]``:
    one past the last item's end, where its comma would be): a part of the page
    is a slice of ``head``.
    """

    first: int
    count: int
    head: bytes
    lek: bytes
    offsets: array

    @property
    def end(self) -> int:
        """Index (in the table) one past this page's last item."""
        return self.first + self.count


@dataclass
class ScanAnswer:
    """What a Scan request gets: status, body parts and the read units it costs."""

    status: int
    parts: list[Any]
    units: float = 0.0
    #: where ReturnConsumedCapacity asked for it ("TOTAL"/"INDEXES"), else None
    capacity_mode: str | None = None

    def body(self) -> bytes:
        return b"".join(bytes(part) for part in self.parts)


@dataclass
class Dataset:
    """The generated table: pre-serialized pages, item sizes and the key of every item."""

    n_items: int
    pages: list[Page]
    json_bytes: int
    #: prefix sums of DynamoDB item sizes: items i..j-1 weigh sizes[j] - sizes[i]
    sizes: array
    #: per item: its customer number and its order_ts offset (0..6 s) from index * 7 s
    customers: array
    ts_offsets: bytearray
    pad_bytes: int = 0
    empty_body: bytes = b'{"Items":[],"Count":0,"ScannedCount":0}'
    page_starts: list[int] = field(default_factory=list)
    _partition_index: dict[int, array] | None = field(default=None, repr=False)
    _partition_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.page_starts = [page.first for page in self.pages]

    @property
    def item_bytes(self) -> int:
        """The table's size as DynamoDB counts it (:func:`item_size` summed)."""
        return int(self.sizes[-1])

    @classmethod
    def build(
        cls,
        n_items: int,
        *,
        seed: int = 20260101,
        page_bytes: int = PAGE_BYTES,
        pad_bytes: int = 0,
    ) -> Dataset:
        rng = random.Random(seed)
        n_customers = max(1, n_items // 20)
        pages: list[Page] = []
        sizes = array("q", [0])
        customers = array("I")
        ts_offsets = bytearray()
        chunk: list[bytes] = []
        chunk_size = 0
        first = 0
        last: dict[str, Any] | None = None
        total = 0

        def close_page() -> None:
            nonlocal chunk, chunk_size, first
            assert last is not None
            opening = b'{"Items":['
            offsets = array("I")
            position = len(opening)
            for raw in chunk:
                offsets.append(position)
                position += len(raw) + 1
            offsets.append(position)
            head = (
                opening
                + b",".join(chunk)
                + b'],"Count":%d,"ScannedCount":%d' % (len(chunk), len(chunk))
            )
            lek = b',"LastEvaluatedKey":' + _dumps(_key_of(last))
            pages.append(Page(first, len(chunk), head, lek, offsets))
            first += len(chunk)
            chunk, chunk_size = [], 0

        for index in range(n_items):
            item = make_item(index, rng, n_customers)
            pad_item(item, index, pad_bytes)
            raw = _dumps(item)
            if chunk and chunk_size + len(raw) + 1 > page_bytes:
                close_page()
            chunk.append(raw)
            chunk_size += len(raw) + 1
            total += len(raw)
            sizes.append(sizes[-1] + item_size(item))
            customers.append(int(item[PARTITION_KEY]["S"][2:]))
            ts_offsets.append(_parse_ts(item[SORT_KEY]["S"]) - _EPOCH_2026 - index * 7)
            last = item
        if chunk:
            close_page()
        return cls(
            n_items=n_items,
            pages=pages,
            json_bytes=total,
            sizes=sizes,
            customers=customers,
            ts_offsets=ts_offsets,
            pad_bytes=pad_bytes,
        )

    # -- keys

    def key_at(self, index: int) -> dict[str, Any]:
        """The key of item ``index``."""
        ts = _EPOCH_2026 + index * 7 + self.ts_offsets[index]
        return {
            PARTITION_KEY: {"S": f"C-{self.customers[index]:06d}"},
            SORT_KEY: {"S": time.strftime(_TIME_FORMAT, time.gmtime(ts))},
        }

    def index_of(self, key: Any) -> int | None:
        """The position of the item with this key, None if there is none.

        ``order_ts`` grows strictly with the position (``index * 7`` seconds
        plus 0 to 6), so it gives the position; the customer must match too.
        """
        parts = _key_tuple(key)
        if parts is None:
            return None
        customer, ts_text = parts
        try:
            ts = _parse_ts(ts_text)
        except ValueError:
            return None
        index, offset = divmod(ts - _EPOCH_2026, 7)
        if not 0 <= index < self.n_items or self.ts_offsets[index] != offset:
            return None
        if customer != f"C-{self.customers[index]:06d}":
            return None
        return index

    def page_of(self, index: int) -> int:
        return bisect.bisect_right(self.page_starts, index) - 1

    # -- DescribeTable

    def describe_body(self, rcu: float | None = None, wcu: float | None = None) -> bytes:
        """A DescribeTable response: key schema, counts, ACTIVE; provisioned if ``rcu``."""
        if rcu is None:
            throughput: dict[str, Any] = {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
            }
            billing = "PAY_PER_REQUEST"
        else:
            throughput = {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": _unit_number(rcu),
                "WriteCapacityUnits": _unit_number(rcu if wcu is None else wcu),
            }
            billing = "PROVISIONED"
        table = {
            "AttributeDefinitions": [
                {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
                {"AttributeName": SORT_KEY, "AttributeType": "S"},
            ],
            "TableName": TABLE_NAME,
            "KeySchema": [
                {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
                {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
            ],
            "TableStatus": "ACTIVE",
            "CreationDateTime": 1767225600.0,
            "ProvisionedThroughput": throughput,
            "BillingModeSummary": {"BillingMode": billing},
            "TableSizeBytes": self.item_bytes,
            "ItemCount": self.n_items,
            "TableArn": TABLE_ARN,
            "TableId": "00000000-0000-4000-8000-000000000000",
            "DeletionProtectionEnabled": False,
        }
        return _dumps({"Table": table})

    # -- Scan

    def scan_body(self, request: dict[str, Any]) -> tuple[int, bytes]:
        """(HTTP status, body) of a Scan request (one joined body; the server sends parts)."""
        answer = self.scan(request)
        return answer.status, answer.body()

    def scan(self, request: dict[str, Any]) -> ScanAnswer:
        """A Scan request's answer, as parts to send, and what it costs."""
        unknown = sorted(set(request) - ACCEPTED_SCAN_PARAMS)
        if unknown:
            return _error_answer(
                "ValidationException",
                f"The benchmark stand-in does not support {', '.join(unknown)}.",
            )
        total = request.get("TotalSegments")
        segment = request.get("Segment")
        if total is None and segment is None:
            total, segment = 1, 0
        if (
            not isinstance(total, int)
            or not isinstance(segment, int)
            or not 1 <= total <= MAX_SEGMENTS
            or not 0 <= segment < total
        ):
            return _error_answer(
                "ValidationException",
                f"Segment={segment!r}, TotalSegments={total!r}: need 0 <= Segment < "
                f"TotalSegments <= {MAX_SEGMENTS}.",
            )
        problem = _check_common(request)
        if problem is not None:
            return problem
        limit = request.get("Limit")
        mode = request.get("ReturnConsumedCapacity", "NONE")
        consistent = request.get("ConsistentRead") is True
        n_pages = len(self.pages)
        start = request.get("ExclusiveStartKey")
        if start is None:
            page_index = segment
            position = self.pages[page_index].first if page_index < n_pages else None
        else:
            previous = self.index_of(start)
            if previous is None:
                return _error_answer("ValidationException", "The provided starting key is invalid.")
            page_index = self.page_of(previous)
            if page_index % total != segment:
                return _error_answer("ValidationException", "The provided starting key is invalid.")
            position = previous + 1
            if position == self.pages[page_index].end:
                page_index += total
                position = self.pages[page_index].first if page_index < n_pages else None
        capacity_mode = mode if mode != "NONE" else None
        if position is None:  # a segment with no (more) pages
            units = read_units(0, consistent)
            return ScanAnswer(
                200,
                [self.empty_body[:-1], self._capacity(units, capacity_mode), b"}"],
                units,
                capacity_mode,
            )
        page = self.pages[page_index]
        end = page.end if limit is None else min(page.end, position + limit)
        more = end < page.end or page_index + total < n_pages
        units = read_units(self.sizes[end] - self.sizes[position], consistent)
        parts: list[Any]
        if position == page.first and end == page.end:  # the pre-built page, as it is
            parts = [page.head]
            lek = page.lek
        else:
            view = memoryview(page.head)
            count = end - position
            parts = [
                b'{"Items":[',
                view[page.offsets[position - page.first] : page.offsets[end - page.first] - 1],
                b'],"Count":%d,"ScannedCount":%d' % (count, count),
            ]
            lek = b',"LastEvaluatedKey":' + _dumps(self.key_at(end - 1))
        parts += [self._capacity(units, capacity_mode), lek if more else b"", b"}"]
        return ScanAnswer(200, parts, units, capacity_mode)

    # -- Query (one partition)

    def _partitions(self) -> dict[int, array]:
        """Customer number -> positions of its items (built at the first Query)."""
        with self._partition_lock:
            if self._partition_index is None:
                index: dict[int, array] = {}
                for position, customer in enumerate(self.customers):
                    index.setdefault(customer, array("I")).append(position)
                self._partition_index = index
            return self._partition_index

    def _item_view(self, position: int) -> memoryview:
        page = self.pages[self.page_of(position)]
        k = position - page.first
        return memoryview(page.head)[page.offsets[k] : page.offsets[k + 1] - 1]

    def query(self, request: dict[str, Any]) -> ScanAnswer:
        """A Query of one partition (``customer_id = :v``), in sort-key order.

        A page holds the partition's items after ``ExclusiveStartKey``, at
        most ``Limit`` of them and at most 1 MB of item sizes; it costs their
        sizes rounded up to 4 KB (halved unless consistent), as a Scan page.
        """
        unknown = sorted(set(request) - ACCEPTED_QUERY_PARAMS)
        if unknown:
            return _error_answer(
                "ValidationException",
                f"The benchmark stand-in does not support {', '.join(unknown)} on Query.",
            )
        problem = _check_common(request)
        if problem is not None:
            return problem
        match = _KEY_CONDITION.fullmatch(str(request.get("KeyConditionExpression", "")))
        names = request.get("ExpressionAttributeNames") or {}
        values = request.get("ExpressionAttributeValues") or {}
        name = match and (names.get(match[1]) if match[1].startswith("#") else match[1])
        value = match and values.get(match[2])
        if name != PARTITION_KEY or not isinstance(value, dict) or "S" not in value:
            return _error_answer(
                "ValidationException",
                "The benchmark stand-in serves only KeyConditionExpression "
                f"'{PARTITION_KEY} = :value' (a string), read forward.",
            )
        if request.get("ScanIndexForward", True) is not True:
            return _error_answer(
                "ValidationException", "The benchmark stand-in reads partitions forward only."
            )
        customer = value["S"]
        number = int(customer[2:]) if re.fullmatch(r"C-\d{6}", customer) else -1
        positions = self._partitions().get(number, array("I"))
        start = 0
        if request.get("ExclusiveStartKey") is not None:
            previous = self.index_of(request["ExclusiveStartKey"])
            if previous is None or self.customers[previous] != number:
                return _error_answer("ValidationException", "The provided starting key is invalid")
            start = bisect.bisect_right(positions, previous)
        limit = request.get("Limit")
        end = len(positions) if limit is None else min(len(positions), start + limit)
        size = 0
        chosen: list[int] = []
        for position in positions[start:end]:
            weight = self.sizes[position + 1] - self.sizes[position]
            if chosen and size + weight > PAGE_BYTES:
                break
            chosen.append(position)
            size += weight
        consistent = request.get("ConsistentRead") is True
        mode = request.get("ReturnConsumedCapacity", "NONE")
        capacity_mode = mode if mode != "NONE" else None
        units = read_units(size, consistent)
        parts: list[Any] = [b'{"Items":[']
        for k, position in enumerate(chosen):
            if k:
                parts.append(b",")
            parts.append(self._item_view(position))
        parts.append(b'],"Count":%d,"ScannedCount":%d' % (len(chosen), len(chosen)))
        parts.append(self._capacity(units, capacity_mode))
        if start + len(chosen) < len(positions):
            parts.append(b',"LastEvaluatedKey":' + _dumps(self.key_at(chosen[-1])))
        parts.append(b"}")
        return ScanAnswer(200, [b"".join(bytes(p) for p in parts)], units, capacity_mode)

    @staticmethod
    def _capacity(units: float, mode: str | None) -> bytes:
        if mode is None:
            return b""
        cc: dict[str, Any] = {"TableName": TABLE_NAME, "CapacityUnits": units}
        if mode == "INDEXES":
            cc["Table"] = {"CapacityUnits": units}
        return b',"ConsumedCapacity":' + _dumps(cc)


def _check_common(request: dict[str, Any]) -> ScanAnswer | None:
    """``Limit`` and ``ReturnConsumedCapacity`` as DynamoDB validates them (None if fine)."""
    limit = request.get("Limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        return _error_answer(
            "ValidationException",
            f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1",
        )
    mode = request.get("ReturnConsumedCapacity", "NONE")
    if mode not in ("NONE", "TOTAL", "INDEXES"):
        return _error_answer(
            "ValidationException",
            f"1 validation error detected: Value '{mode}' at 'returnConsumedCapacity' "
            "failed to satisfy constraint: Member must satisfy enum value set: "
            "[INDEXES, TOTAL, NONE]",
        )
    return None


def _unit_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _error(code: str, message: str) -> tuple[int, bytes]:
    return 400, _dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})


def _error_answer(code: str, message: str) -> ScanAnswer:
    status, body = _error(code, message)
    return ScanAnswer(status, [body])


# --------------------------------------------------------------------------- capacity


class TokenBucket:
    """Provisioned read capacity: ``rate`` units per second, at most ``rate x burst_s`` saved.

    Starts empty. :meth:`admit` lets a request in while the bucket holds more
    than zero units and then takes its whole cost (which may leave it negative).
    """

    def __init__(self, rate: float, burst_s: float) -> None:
        if rate <= 0 or burst_s < 0:
            raise ValueError("need rcu > 0 and burst seconds >= 0")
        self.rate = rate
        self.burst_s = burst_s
        self.capacity = rate * burst_s
        self.tokens = 0.0
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def admit(self, cost: float) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens <= 0:
                return False
            self.tokens -= cost
            return True

    def level(self) -> float:
        with self.lock:
            now = time.monotonic()
            return min(self.capacity, self.tokens + (now - self.updated) * self.rate)


@dataclass
class Counters:
    """Requests served and capacity consumed, for ``GET /stats``."""

    scan: int = 0
    query: int = 0
    describe: int = 0
    errors: int = 0
    throttled: int = 0
    connections: int = 0
    bytes_sent: int = 0
    consumed_units: float = 0.0
    #: Unix second -> [units consumed, requests throttled]
    by_second: dict[int, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, n_bytes: int = 0) -> None:
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            self.bytes_sent += n_bytes

    def consume(self, units: float) -> None:
        second = int(time.time())
        with self.lock:
            self.consumed_units += units
            self.by_second.setdefault(second, [0.0, 0])[0] += units

    def throttle(self) -> None:
        second = int(time.time())
        with self.lock:
            self.by_second.setdefault(second, [0.0, 0])[1] += 1

    def snapshot(self) -> dict[str, Any]:
        """Counters, and the CPU time (user + system, all threads) this process has used."""
        with self.lock:
            return {
                "scan": self.scan,
                "query": self.query,
                "describe": self.describe,
                "errors": self.errors,
                "throttled": self.throttled,
                "connections": self.connections,
                "bytes_sent": self.bytes_sent,
                "cpu_s": time.process_time(),
                "consumed_units": self.consumed_units,
                "consumed_by_second": [
                    [second, units, int(throttled)]
                    for second, (units, throttled) in sorted(self.by_second.items())
                ],
            }


class StandinServer(ThreadingHTTPServer):
    """A threaded HTTP server holding the dataset, the latency, the capacity and the counters."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        dataset: Dataset,
        latency_s: float,
        *,
        rcu: float | None = None,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
    ) -> None:
        super().__init__(address, Handler)
        self.dataset = dataset
        self.latency_s = latency_s
        self.counters = Counters()
        self.rcu = rcu
        self.burst_seconds = burst_seconds
        self.bucket = TokenBucket(rcu, burst_seconds) if rcu else None
        self.describe_body = dataset.describe_body(rcu)
        # A subclass that overrides scan_body (bench_dask.py did) is served through it.
        self.legacy_scan = type(dataset).scan_body is not Dataset.scan_body

    def stats(self) -> dict[str, Any]:
        out = self.counters.snapshot()
        out["rcu"] = self.rcu
        out["burst_seconds"] = self.burst_seconds if self.rcu else None
        out["bucket_units"] = self.bucket.level() if self.bucket else None
        return out

    def answer_scan(self, request: dict[str, Any]) -> ScanAnswer:
        if self.legacy_scan:
            status, body = self.dataset.scan_body(request)
            return ScanAnswer(status, [body])
        return self.dataset.scan(request)


_THROTTLED = _error("ProvisionedThroughputExceededException", THROTTLED_MESSAGE)[1]


class Handler(BaseHTTPRequestHandler):
    """One connection: HTTP/1.1 keep-alive, many requests."""

    protocol_version = "HTTP/1.1"
    server: StandinServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in a few writes; never let Nagle hold any back.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.counters.add("connections")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # one line per request would cost more than serving it

    def _send(self, status: int, body: Any, content_type: str = JSON_CONTENT_TYPE) -> int:
        parts = body if isinstance(body, list) else [body]
        length = sum(len(part) for part in parts)
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Bad Request'}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n"
            "x-amzn-RequestId: BENCHSTANDIN0000000000000000000000000000000000000000\r\n"
            "\r\n"
        ).encode("ascii")
        small = head
        for part in parts:  # coalesce small parts; big ones (a page) go out without a copy
            if len(part) < 4096:
                small += part
            else:
                self.wfile.write(small)
                self.wfile.write(part)
                small = b""
        if small:
            self.wfile.write(small)
        return length

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") == "/stats":
            self._send(200, _dumps(self.server.stats()), "application/json")
        else:
            self._send(400, b"{}", "application/json")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        target = self.headers.get("X-Amz-Target", "")
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            request = None
        server = self.server
        kind = "errors"
        body: Any
        if not isinstance(request, dict):
            status, body = _error("SerializationException", "The request body is not JSON.")
        elif request.get("TableName") not in (TABLE_NAME, TABLE_ARN):
            status, body = _error("ResourceNotFoundException", "Requested resource not found")
        elif target in (TARGET_PREFIX + "Scan", TARGET_PREFIX + "Query"):
            is_scan = target.endswith(".Scan")
            answer = server.answer_scan(request) if is_scan else server.dataset.query(request)
            status, body = answer.status, answer.parts
            if status == 200:
                if server.bucket is not None and not server.bucket.admit(answer.units):
                    server.counters.throttle()
                    status, body, kind = 400, _THROTTLED, "throttled"
                else:
                    server.counters.consume(answer.units)
                    kind = "scan" if is_scan else "query"
                    if server.latency_s > 0:
                        time.sleep(server.latency_s)
        elif target == TARGET_PREFIX + "DescribeTable":
            status, body, kind = 200, server.describe_body, "describe"
        else:
            status, body = _error(
                "UnknownOperationException", f"The benchmark stand-in does not serve {target!r}."
            )
        sent = self._send(status, body)
        server.counters.add(kind, sent)


def serve(
    n_items: int,
    latency_ms: float,
    port: int = 0,
    *,
    rcu: float | None = None,
    burst_seconds: float = DEFAULT_BURST_SECONDS,
    pad_bytes: int = 0,
) -> tuple[StandinServer, threading.Thread]:
    """Build the dataset and serve it in a background thread (for in-process use)."""
    server = StandinServer(
        ("127.0.0.1", port),
        Dataset.build(n_items, pad_bytes=pad_bytes),
        latency_ms / 1000.0,
        rcu=rcu,
        burst_seconds=burst_seconds,
    )
    thread = threading.Thread(target=server.serve_forever, name="standin", daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000, help="items in the table")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sleep per Scan page")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument(
        "--rcu",
        type=float,
        default=None,
        help="provisioned read units per second (default: on demand, never throttled)",
    )
    parser.add_argument(
        "--burst-seconds",
        type=float,
        default=DEFAULT_BURST_SECONDS,
        help="with --rcu: the bucket holds at most rcu x this many units (DynamoDB: 300)",
    )
    parser.add_argument(
        "--pad-bytes", type=int, default=0, help="add a string attribute of this many bytes"
    )
    args = parser.parse_args(argv)
    if args.rcu is not None and args.rcu <= 0:
        parser.error("--rcu must be positive")
    if args.burst_seconds < 0 or args.pad_bytes < 0:
        parser.error("--burst-seconds and --pad-bytes must not be negative")
    dataset = Dataset.build(args.items, pad_bytes=args.pad_bytes)
    server = StandinServer(
        ("127.0.0.1", args.port),
        dataset,
        args.latency_ms / 1000.0,
        rcu=args.rcu,
        burst_seconds=args.burst_seconds,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"READY {server.server_address[1]} {len(dataset.pages)} {dataset.n_items}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
