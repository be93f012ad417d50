"""A fault-injecting HTTP proxy for DynamoDB traffic, used by the tests.

It sits on 127.0.0.1 in front of the sandbox and forwards every request,
except where a rule says otherwise:

* ``throttle``: answer ``ProvisionedThroughputExceededException`` (HTTP 400)
* ``throttling``: answer ``ThrottlingException`` (HTTP 400)
* ``error500``: answer ``InternalServerError`` (HTTP 500)
* ``drop``: close the connection without answering
* ``partial``: forward only part of a BatchWriteItem / BatchGetItem and
  return the rest as ``UnprocessedItems`` / ``UnprocessedKeys``, as DynamoDB
  does under load. The sandbox verifies signatures, so the shortened request
  is signed again with the credentials of ``proxy.session`` (set it to the
  session whose clients talk through the proxy).

Faults in the answer (the request is forwarded, so it did happen):

* ``truncate``: send the full ``Content-Length`` and the body's true
  ``x-amz-crc32``, then only the first ``fraction`` of the body, then close
  the connection (FIN)
* ``truncate_nocrc``: the same without ``x-amz-crc32``
* ``corrupt_crc``: the whole body with a wrong ``x-amz-crc32``
* ``no_items``: a 200 without ``Items`` / ``Responses`` / ``UnprocessedItems``,
  with a correct ``x-amz-crc32``: ``{}`` (``variant="empty"``) or the real
  body minus that key (``variant="strip"``, the default)
* ``reset``: send the headers and the first ``fraction`` of the body, then
  reset the connection (RST: ``SO_LINGER`` 0)

Used as (tests/test_faults.py has the runnable cases)::

    with FaultProxy(sandbox.endpoint_url) as proxy:
        proxy.add("Scan", "throttle", times=3)
        client = boto3.client("dynamodb", endpoint_url=proxy.endpoint_url, ...)
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

ERRORS = {
    "throttle": (400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                 "The level of configured provisioned throughput for the table was exceeded."),
    "throttling": (400, "com.amazon.coral.availability#ThrottlingException",
                   "Rate of requests exceeds the allowed throughput."),
    "error500": (500, "com.amazon.coral.service#InternalServerError",
                 "Internal server error"),
}


#: Actions that forward the request and spoil its (200) answer.
ANSWER_FAULTS = frozenset({"truncate", "truncate_nocrc", "corrupt_crc", "no_items", "reset"})
#: Every action a rule may name.
ACTIONS = frozenset({*ERRORS, "drop", "partial", *ANSWER_FAULTS})
#: The key a complete answer of each operation holds.
ANSWER_KEYS = {"Query": "Items", "Scan": "Items", "BatchGetItem": "Responses",
               "BatchWriteItem": "UnprocessedItems"}


@dataclass
class Rule:
    operation: str
    action: str
    times: int | None = 1  # how many matching requests to hit (None: all)
    after: int = 0  # let this many matching requests through first
    keep: int = 1  # for "partial": how many write/get requests to forward
    fraction: float = 0.5  # for "truncate*" / "reset": how much of the body is sent
    variant: str = "strip"  # for "no_items": "strip" (the real body minus the key) or "empty"
    seen: int = 0
    hit: int = 0

    def applies(self) -> bool:
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.times is not None and self.hit >= self.times:
            return False
        self.hit += 1
        return True


class FaultProxy:
    """Forward to ``target`` (the sandbox's endpoint URL) with injected faults."""

    def __init__(self, target: str) -> None:
        parsed = urlparse(target)
        self.target = (parsed.hostname or "127.0.0.1", parsed.port or 80)
        self.rules: list[Rule] = []
        self.requests: dict[str, int] = {}
        self.injected: list[tuple[str, str]] = []
        #: the boto3 session whose credentials re-sign requests the proxy changes
        self.session: Any = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, operation: str, action: str, **kw: Any) -> Rule:
        if action not in ACTIONS:
            raise ValueError(f"unknown fault action {action!r}; known: {sorted(ACTIONS)}")
        rule = Rule(operation, action, **kw)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.requests.clear()
            self.injected.clear()

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _pick(self, operation: str) -> Rule | None:
        with self._lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            for rule in self.rules:
                if rule.operation in (operation, "*") and rule.applies():
                    self.injected.append((operation, rule.action))
                    return rule
        return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                self._original = body
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                rule = proxy._pick(operation)
                if rule is not None and rule.action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if rule is not None and rule.action in ERRORS:
                    status, kind, message = ERRORS[rule.action]
                    self._reply(status, json.dumps({"__type": kind, "message": message}).encode())
                    return
                held: dict[str, Any] = {}
                forwarded: bytes | None = body
                if rule is not None and rule.action == "partial":
                    forwarded, held = _split_batch(operation, body, rule.keep)
                if forwarded is None:  # everything held back
                    status, headers, data = 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}"
                else:
                    status, headers, data = self._forward(forwarded)
                if held and status == 200:
                    data = _merge_unprocessed(operation, data, held)
                if rule is not None and rule.action in ANSWER_FAULTS and status == 200:
                    self._faulty_reply(rule, operation, data, headers)
                    return
                self._reply(status, data, headers)

            def _faulty_reply(self, rule: Rule, operation: str, data: bytes,
                              headers: dict[str, str]) -> None:
                action = rule.action
                crc: int | None = zlib.crc32(data) & 0xFFFFFFFF
                if action == "no_items":
                    data = _without_answer(operation, data, rule.variant)
                    crc = zlib.crc32(data) & 0xFFFFFFFF
                elif action == "corrupt_crc":
                    crc = (crc + 1) & 0xFFFFFFFF  # type: ignore[operator]
                elif action == "truncate_nocrc":
                    crc = None
                sent = data
                if action in ("truncate", "truncate_nocrc", "reset"):
                    sent = data[: min(len(data) - 1, int(len(data) * rule.fraction))]
                self.send_response(200)
                for key, value in headers.items():
                    if key.lower() not in ("x-amz-crc32", "content-length"):
                        self.send_header(key, value)
                if crc is not None:
                    self.send_header("x-amz-crc32", str(crc))
                self.send_header("Content-Length", str(len(data)))  # always the full length
                self.end_headers()
                self.wfile.write(sent)
                if sent is data:
                    return
                self.close_connection = True
                if action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()  # RST instead of FIN
                else:
                    self.connection.shutdown(socket.SHUT_RDWR)

            def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
                conn = http.client.HTTPConnection(*proxy.target, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
                headers["Content-Length"] = str(len(body))
                if proxy.session is not None and body != self._original:
                    headers = _resign(proxy.session, self.path, headers, body)
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                keep = {k: v for k, v in response.getheaders()
                        if k.lower() in ("content-type", "x-amzn-requestid", "x-amz-crc32")}
                conn.close()
                return response.status, keep, data

            def _reply(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                headers = dict(headers or {"Content-Type": "application/x-amz-json-1.0"})
                headers.pop("x-amz-crc32", None)  # the body may have changed
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _resign(session: Any, path: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
    """``headers`` for ``body``, signed again as the client would have signed it."""
    import re

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/", headers["Authorization"])
    assert scope, headers["Authorization"]
    dropped = ("authorization", "x-amz-date", "x-amz-security-token", "content-length")
    kept = {k: v for k, v in headers.items() if k.lower() not in dropped}
    request = AWSRequest(method="POST", url=f"http://{kept.get('Host', 'localhost')}{path}",
                         data=body, headers=kept)
    credentials = session.get_credentials().get_frozen_credentials()
    SigV4Auth(credentials, scope.group(2), scope.group(1)).add_auth(request)
    out = dict(request.headers.items())
    out["Content-Length"] = str(len(body))
    return out


def _split_batch(operation: str, body: bytes, keep: int) -> tuple[bytes | None, dict[str, Any]]:
    """Forward the first ``keep`` requests of a batch; hold the rest back."""
    request = json.loads(body)
    held: dict[str, Any] = {}
    kept = 0
    for table, entry in list(request["RequestItems"].items()):
        if operation == "BatchWriteItem":
            items = entry
            forward, rest = items[: max(0, keep - kept)], items[max(0, keep - kept):]
            kept += len(forward)
            if rest:
                held[table] = rest
            if forward:
                request["RequestItems"][table] = forward
            else:
                del request["RequestItems"][table]
        else:  # BatchGetItem
            keys = entry["Keys"]
            forward, rest = keys[: max(0, keep - kept)], keys[max(0, keep - kept):]
            kept += len(forward)
            if rest:
                held[table] = dict(entry, Keys=rest)
            if forward:
                request["RequestItems"][table] = dict(entry, Keys=forward)
            else:
                del request["RequestItems"][table]
    if not request["RequestItems"]:
        return None, held  # nothing forwarded: everything comes back unprocessed
    return json.dumps(request).encode(), held


def _without_answer(operation: str, data: bytes, variant: str) -> bytes:
    """``data`` without the key a complete answer holds (or ``{}``)."""
    if variant == "empty":
        return b"{}"
    response = json.loads(data)
    response.pop(ANSWER_KEYS.get(operation, "Items"), None)
    return json.dumps(response).encode()


def _merge_unprocessed(operation: str, data: bytes, held: dict[str, Any]) -> bytes:
    response = json.loads(data) if data else {}
    key = "UnprocessedItems" if operation == "BatchWriteItem" else "UnprocessedKeys"
    merged = response.get(key) or {}
    for table, entry in held.items():
        if operation == "BatchWriteItem":
            merged[table] = merged.get(table, []) + entry
        else:
            if table in merged:
                merged[table]["Keys"] += entry["Keys"]
            else:
                merged[table] = entry
    response[key] = merged
    if operation == "BatchGetItem":
        response.setdefault("Responses", {})
    return json.dumps(response).encode()
