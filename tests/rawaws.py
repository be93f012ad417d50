"""Hand-signed raw AWS requests, for tests that play someone who wants in.

Requests are signed with botocore's own SigV4 signer, then sent byte for byte
with :mod:`http.client` (or a bare socket), so a test controls the method,
path, query string, every header (duplicates included) and the body. Signed
headers may be changed after signing (tampering), and headers may be forged
without any signature at all.
"""

from __future__ import annotations

import contextlib
import datetime as datetime_module
import json
import socket
import types
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from http.client import HTTPConnection
from unittest import mock
from urllib.parse import urlsplit

import botocore.auth
from botocore.auth import S3SigV4Auth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
DDB_PREFIX = "DynamoDB_20120810."
JSON_TYPE = "application/x-amz-json-1.0"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


class Creds:
    """An access key, its secret and (for temporary credentials) the session token."""

    def __init__(self, key: str, secret: str, token: str | None = None) -> None:
        self.key, self.secret, self.token = key, secret, token

    def botocore(self) -> Credentials:
        return Credentials(self.key, self.secret, self.token)

    def __repr__(self) -> str:  # never print secrets in test output
        return f"Creds({self.key[:8]}...)"


def _as_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else body


def signed(
    method: str,
    url: str,
    body: bytes | str | None = b"",
    headers: Mapping[str, str] | None = None,
    creds: Creds | None = None,
    service_scope: str = "dynamodb",
    region_scope: str = "us-east-1",
    *,
    when: datetime | None = None,
    auth_class: type[SigV4Auth] | None = None,
) -> dict[str, str]:
    """The headers of ``method url`` with ``body`` and ``headers``, signed with SigV4.

    ``service_scope`` / ``region_scope`` go into the credential scope exactly
    as given (any spelling). ``when`` signs as of another moment (to test
    clock skew). ``auth_class`` replaces botocore's signer (a subclass that,
    for example, leaves ``host`` out of the signed headers); by default S3
    requests use ``S3SigV4Auth`` (which signs ``X-Amz-Content-SHA256``) as
    every S3 client does.
    """
    assert creds is not None, "signed() needs credentials"
    request = AWSRequest(method=method, url=url, data=_as_bytes(body), headers=dict(headers or {}))
    cls = auth_class or (S3SigV4Auth if service_scope == "s3" else SigV4Auth)
    signer = cls(creds.botocore(), service_scope, region_scope)
    with signing_at(when or datetime.now(UTC)):
        signer.add_auth(request)
    return dict(request.headers.items())


@contextlib.contextmanager
def signing_at(moment: datetime) -> Iterator[None]:
    """Make botocore's signer date what it signs ``moment`` (any botocore from the floor)."""
    if hasattr(botocore.auth, "get_current_datetime"):
        with mock.patch("botocore.auth.get_current_datetime", return_value=moment):
            yield
        return
    # older botocore reads datetime.datetime.utcnow() in botocore.auth
    naive = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

    class Moment(datetime):
        @classmethod
        def utcnow(cls) -> datetime:  # type: ignore[override]
            return naive

    shim = types.SimpleNamespace(**vars(datetime_module))
    shim.datetime = Moment
    with mock.patch.object(botocore.auth, "datetime", shim):
        yield


def presigned_url(
    method: str,
    url: str,
    creds: Creds,
    service_scope: str = "dynamodb",
    region_scope: str = "us-east-1",
    headers: Mapping[str, str] | None = None,
) -> str:
    """``url`` with SigV4 query-string authentication (``X-Amz-Credential``...) added."""
    request = AWSRequest(method=method, url=url, headers=dict(headers or {}))
    SigV4QueryAuth(creds.botocore(), service_scope, region_scope, expires=300).add_auth(request)
    return request.url


def _pairs(headers: Headers | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def send(
    method: str,
    url: str,
    headers: Headers | None = None,
    body: bytes | str | None = b"",
    *,
    timeout: float = 5.0,
    content_length: bool = True,
) -> tuple[int, dict[str, str], bytes]:
    """Send exactly these headers and body; return (status, headers, body bytes).

    ``headers`` may be a list of pairs (duplicates are sent as given). A Host
    header given by the caller is sent instead of the URL's; Content-Length
    is added (unsigned, as SDKs do) unless the caller gives one or
    ``content_length`` is False.
    """
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    data = _as_bytes(body)
    pairs = _pairs(headers)
    names = {k.lower() for k, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("Host", parts.netloc))
    if content_length and "content-length" not in names and "transfer-encoding" not in names:
        pairs.append(("Content-Length", str(len(data))))
    conn = HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in pairs:
            conn.putheader(name, value)
        conn.endheaders(data or None)
        response = conn.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        conn.close()


def send_raw(url: str, raw: bytes, *, timeout: float = 5.0, half_close: bool = True) -> bytes:
    """Write ``raw`` bytes to the server of ``url`` and return all it answers (until close/timeout).

    With ``half_close`` the write side is shut after sending, so a server
    waiting for body bytes that never come sees the end of the stream.
    """
    parts = urlsplit(url)
    chunks: list[bytes] = []
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def raw_request(method: str, url: str, headers: Headers, body: bytes = b"") -> bytes:
    """An HTTP/1.1 request as bytes: request line, headers in the order given, body as is."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1"]
    pairs = _pairs(headers)
    if "host" not in {k.lower() for k, _ in pairs}:
        pairs.insert(0, ("Host", parts.netloc))
    lines += [f"{k}: {v}" for k, v in pairs]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def parse_raw_response(raw: bytes) -> tuple[int | None, bytes]:
    """(status, body) of the first HTTP response in ``raw``; (None, b"") if there is none."""
    if not raw.startswith(b"HTTP/"):
        return None, b""
    head, _, rest = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, rest if length is None else rest[:length]


# -- conveniences for the three wire formats ------------------------------------------


def ddb_headers(operation: str, *, target: str | None = None, extra: Mapping[str, str] | None = None
                ) -> dict[str, str]:
    """Headers of a DynamoDB JSON request (``target`` overrides the whole X-Amz-Target)."""
    headers = {"Content-Type": JSON_TYPE, "X-Amz-Target": target or DDB_PREFIX + operation}
    headers.update(extra or {})
    return headers


def ddb_call(
    endpoint: str,
    creds: Creds,
    operation: str,
    payload: object,
    *,
    target: str | None = None,
    service_scope: str = "dynamodb",
    region_scope: str = "us-east-1",
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """Sign and send one DynamoDB JSON call (``payload`` is JSON-encoded unless bytes/str)."""
    body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
    url = endpoint.rstrip("/") + "/"
    headers = signed("POST", url, body, ddb_headers(operation, target=target), creds,
                     service_scope, region_scope)
    return send("POST", url, headers, body, timeout=timeout)


def query_call(
    endpoint: str,
    creds: Creds,
    params: str,
    *,
    service_scope: str,
    region_scope: str = "us-east-1",
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """Sign and send one query-protocol (STS / IAM) call with a form-encoded body."""
    url = endpoint.rstrip("/") + "/"
    headers = signed("POST", url, params, {"Content-Type": FORM_TYPE}, creds,
                     service_scope, region_scope)
    return send("POST", url, headers, params, timeout=timeout)
