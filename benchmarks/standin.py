"""A stand-in DynamoDB endpoint that serves pre-built Scan pages, for benchmarks.

The point is to measure *clients*: every Scan response body is built once, at
start, so serving a page costs a dict lookup and a socket write. What a client
spends on top of that is its own (HTTP, signing, parsing, decoding, building
the DataFrame).

Protocol (just enough of DynamoDB's JSON 1.0 protocol for boto3, awswrangler
and xacct_nb to scan a table):

* ``POST /`` with ``X-Amz-Target: DynamoDB_20120810.Scan`` or
  ``DynamoDB_20120810.DescribeTable``; answers carry
  ``Content-Type: application/x-amz-json-1.0``. Signatures are not checked.
  No ``x-amz-crc32`` header is sent (botocore verifies it only if present).
* Data: ``--items`` orders-like items generated deterministically (about ten
  attributes, some of them sparse; see :func:`make_item`), split into pages of
  about 1 MiB of JSON (:data:`PAGE_BYTES`), as DynamoDB pages at 1 MB.
* Pagination: a page's ``LastEvaluatedKey`` is the key of its last item; the
  server maps it back to the page index and continues from there.
* Parallel scan: with ``TotalSegments=T``, segment ``s`` gets pages
  ``s, s+T, s+2T, ...``, so all segments together return every item exactly
  once (a segment with no page answers one empty page). ``T`` from 1 to 16.
* ``--latency-ms`` sleeps that long before each Scan response; the server is a
  :class:`~http.server.ThreadingHTTPServer` speaking HTTP/1.1 keep-alive, so
  concurrent requests wait concurrently.
* ``GET /stats`` returns request counters as JSON (not a DynamoDB API; the
  benchmark uses it to check that every contender really read from here).

Run ``python benchmarks/standin.py --items 200000 --latency-ms 50``: it
prints one line ``READY <port> <pages> <items>`` once it listens on 127.0.0.1
(a free port unless ``--port``), then serves until interrupted.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import socket
import sys
import threading
import time
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
MAX_SEGMENTS = 16
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
    }
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


def _key_of(item: dict[str, Any]) -> dict[str, Any]:
    return {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}


def _key_tuple(key: Any) -> tuple[str, str] | None:
    """``(customer_id, order_ts)`` of an ``ExclusiveStartKey`` (None if malformed)."""
    try:
        return key[PARTITION_KEY]["S"], key[SORT_KEY]["S"]
    except (KeyError, TypeError):
        return None


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Page:
    """One pre-serialized Scan page.

    ``head`` is the complete body up to (not including) the closing brace:
    ``{"Items":[...],"Count":n,"ScannedCount":n``; the bodies are
    ``head + lek + b"}"`` (more pages follow in this segment) and ``head + b"}"``
    (the segment's last page), both built once and kept.
    """

    count: int
    last_key: tuple[str, str]
    body_more: bytes
    body_last: bytes


@dataclass
class Dataset:
    """The generated table: pages of pre-serialized responses and their key index."""

    n_items: int
    pages: list[Page]
    page_of_key: dict[tuple[str, str], int]
    json_bytes: int
    empty_body: bytes = b'{"Items":[],"Count":0,"ScannedCount":0}'

    @classmethod
    def build(cls, n_items: int, *, seed: int = 20260101, page_bytes: int = PAGE_BYTES) -> Dataset:
        rng = random.Random(seed)
        n_customers = max(1, n_items // 20)
        pages: list[Page] = []
        page_of_key: dict[tuple[str, str], int] = {}
        chunk: list[bytes] = []
        chunk_size = 0
        last: dict[str, Any] | None = None
        total = 0

        def close_page() -> None:
            nonlocal chunk, chunk_size
            assert last is not None
            key = _key_of(last)
            head = (
                b'{"Items":['
                + b",".join(chunk)
                + b'],"Count":%d,"ScannedCount":%d' % (len(chunk), len(chunk))
            )
            key_tuple = (key[PARTITION_KEY]["S"], key[SORT_KEY]["S"])
            page_of_key[key_tuple] = len(pages)
            pages.append(
                Page(
                    count=len(chunk),
                    last_key=key_tuple,
                    body_more=head + b',"LastEvaluatedKey":' + _dumps(key) + b"}",
                    body_last=head + b"}",
                )
            )
            chunk, chunk_size = [], 0

        for index in range(n_items):
            item = make_item(index, rng, n_customers)
            raw = _dumps(item)
            if chunk and chunk_size + len(raw) + 1 > page_bytes:
                close_page()
            chunk.append(raw)
            chunk_size += len(raw) + 1
            total += len(raw)
            last = item
        if chunk:
            close_page()
        return cls(n_items=n_items, pages=pages, page_of_key=page_of_key, json_bytes=total)

    def describe_body(self) -> bytes:
        """A DescribeTable response: key schema, counts, ACTIVE."""
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
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": 0,
                "WriteCapacityUnits": 0,
            },
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "TableSizeBytes": self.json_bytes,
            "ItemCount": self.n_items,
            "TableArn": TABLE_ARN,
            "TableId": "00000000-0000-4000-8000-000000000000",
            "DeletionProtectionEnabled": False,
        }
        return _dumps({"Table": table})

    def scan_body(self, request: dict[str, Any]) -> tuple[int, bytes]:
        """(HTTP status, body) of a Scan request."""
        unknown = sorted(set(request) - ACCEPTED_SCAN_PARAMS)
        if unknown:
            return _error(
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
            return _error(
                "ValidationException",
                f"Segment={segment!r}, TotalSegments={total!r}: need 0 <= Segment < "
                f"TotalSegments <= {MAX_SEGMENTS}.",
            )
        start = request.get("ExclusiveStartKey")
        if start is None:
            index = segment
        else:
            previous = self.page_of_key.get(_key_tuple(start))  # type: ignore[arg-type]
            if previous is None or previous % total != segment:
                return _error("ValidationException", "The provided starting key is invalid.")
            index = previous + total
        if index >= len(self.pages):
            return 200, self.empty_body  # a segment with no pages at all
        page = self.pages[index]
        return 200, page.body_more if index + total < len(self.pages) else page.body_last


def _error(code: str, message: str) -> tuple[int, bytes]:
    return 400, _dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message})


@dataclass
class Counters:
    """Requests served, for ``GET /stats``."""

    scan: int = 0
    describe: int = 0
    errors: int = 0
    connections: int = 0
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, n_bytes: int = 0) -> None:
        with self.lock:
            setattr(self, kind, getattr(self, kind) + 1)
            self.bytes_sent += n_bytes

    def snapshot(self) -> dict[str, float]:
        """Counters, and the CPU time (user + system, all threads) this process has used."""
        with self.lock:
            return {
                "scan": self.scan,
                "describe": self.describe,
                "errors": self.errors,
                "connections": self.connections,
                "bytes_sent": self.bytes_sent,
                "cpu_s": time.process_time(),
            }


class StandinServer(ThreadingHTTPServer):
    """A threaded HTTP server holding the dataset, the latency and the counters."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], dataset: Dataset, latency_s: float) -> None:
        super().__init__(address, Handler)
        self.dataset = dataset
        self.latency_s = latency_s
        self.counters = Counters()
        self.describe_body = dataset.describe_body()


class Handler(BaseHTTPRequestHandler):
    """One connection: HTTP/1.1 keep-alive, many requests."""

    protocol_version = "HTTP/1.1"
    server: StandinServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; never let Nagle hold either back.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.counters.add("connections")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass  # one line per request would cost more than serving it

    def _send(self, status: int, body: bytes, content_type: str = JSON_CONTENT_TYPE) -> None:
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Bad Request'}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            "x-amzn-RequestId: BENCHSTANDIN0000000000000000000000000000000000000000\r\n"
            "\r\n"
        ).encode("ascii")
        self.wfile.write(head)
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") == "/stats":
            self._send(200, _dumps(self.server.counters.snapshot()), "application/json")
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
        if not isinstance(request, dict):
            status, body = _error("SerializationException", "The request body is not JSON.")
        elif request.get("TableName") not in (TABLE_NAME, TABLE_ARN):
            status, body = _error("ResourceNotFoundException", "Requested resource not found")
        elif target == TARGET_PREFIX + "Scan":
            status, body = server.dataset.scan_body(request)
            if status == 200 and server.latency_s > 0:
                time.sleep(server.latency_s)
        elif target == TARGET_PREFIX + "DescribeTable":
            status, body = 200, server.describe_body
        else:
            status, body = _error(
                "UnknownOperationException", f"The benchmark stand-in does not serve {target!r}."
            )
        kind = "errors" if status != 200 else ("scan" if target.endswith(".Scan") else "describe")
        server.counters.add(kind, len(body))
        self._send(status, body)


def serve(n_items: int, latency_ms: float, port: int = 0) -> tuple[StandinServer, threading.Thread]:
    """Build the dataset and serve it in a background thread (for in-process use)."""
    server = StandinServer(("127.0.0.1", port), Dataset.build(n_items), latency_ms / 1000.0)
    thread = threading.Thread(target=server.serve_forever, name="standin", daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000, help="items in the table")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sleep per Scan page")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    args = parser.parse_args(argv)
    dataset = Dataset.build(args.items)
    server = StandinServer(("127.0.0.1", args.port), dataset, args.latency_ms / 1000.0)
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
