"""Each request parsed once into a canonical form, and AWS's error formats.

The authorization layer never looks at the raw request again after
:func:`parse`: it decides on the :class:`Parsed` form and forwards to moto a
request rebuilt from it (its own target, path, Host and Authorization). So
nothing downstream can read one request two ways. Whatever cannot be parsed
unambiguously raises :class:`WireError`, answered in the service's own
error format (fail closed).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode
from xml.sax.saxutils import escape

from .._errors import SandboxError

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


class WireError(SandboxError):
    """A request refused before it reaches moto: ``status``, AWS's ``code`` and message.

    ``service`` picks the wire format (JSON for DynamoDB, XML for STS, IAM
    and S3); ``None`` lets the layer choose from what it could parse.
    """

    def __init__(self, status: int, code: str, message: str, service: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.service = status, code, message, service


def validation(message: str) -> WireError:
    """DynamoDB's ``ValidationException`` (400) with AWS's ``message``."""
    return WireError(400, "ValidationException", message, "dynamodb")


def error_response(
    service: str | None, status: int, code: str, message: str
) -> tuple[str, list[tuple[str, str]], bytes]:
    """Return an error in the wire format of ``service`` (JSON for DynamoDB, XML for the others)."""
    request_id = str(uuid.uuid4())
    if service == "dynamodb":
        body = json.dumps(
            {"__type": f"com.amazon.coral.service#{code}", "Message": message}
        ).encode()
        if code == "ValidationException":  # DynamoDB spells this one's key "message"
            body = json.dumps(
                {"__type": f"com.amazon.coral.validate#{code}", "message": message}
            ).encode()
        headers = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("x-amzn-RequestId", request_id),
        ]
    elif service == "s3":  # S3's REST error document
        body = (
            f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    else:
        ns = {"sts": STS_NS, "iam": IAM_NS}.get(service or "", STS_NS)
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    reason = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
              413: "Request Entity Too Large"}.get(status, "Error")
    headers.append(("Content-Length", str(len(body))))
    return f"{status} {reason}", headers, body


# -- the canonical form ----------------------------------------------------------------------

#: Largest body the layer reads: DynamoDB's request limit is 16 MB; S3 parts are bigger.
MAX_BODY = {"dynamodb": 16 * 1024 * 1024 + 65536, "sts": 1024 * 1024, "iam": 1024 * 1024,
            "s3": 64 * 1024 * 1024}
_API_VERSIONS = {"sts": "2011-06-15", "iam": "2010-05-08"}
_DDB_TARGET_PREFIX = "DynamoDB_20120810."
_DDB_CONTENT_TYPES = ("application/x-amz-json-1.0",)
_FORM = "application/x-www-form-urlencoded"
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION_RE = re.compile(r"[a-z]{2}(?:-gov)?-[a-z]+-\d{1,2}")
#: S3 request headers moto may see (besides those the layer sets itself).
_S3_FORWARDED = ("content-type", "content-md5", "content-encoding", "content-disposition",
                 "content-language", "cache-control", "expires", "range", "if-match",
                 "if-none-match", "if-modified-since", "if-unmodified-since", "x-amz-acl",
                 "x-amz-content-sha256", "x-amz-decoded-content-length",
                 "x-amz-expected-bucket-owner", "x-amz-storage-class",
                 "x-amz-server-side-encryption", "x-amz-sdk-checksum-algorithm",
                 "x-amz-checksum-mode", "x-amz-tagging")


@cache
def operations(service: str) -> frozenset[str]:
    """Return the exact operation names of ``service`` in botocore's service model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return frozenset(model.operation_names)


@dataclass
class Parsed:
    """One request, parsed once: what the layer decides on and what it forwards.

    ``params`` is the JSON object (DynamoDB) or the form (STS, IAM) the
    operation was called with; ``body`` the bytes forwarded to moto, rebuilt
    from ``params`` (S3: the raw body).
    """

    service: str
    region: str
    access_key: str
    token: str | None
    method: str
    raw_path: str
    raw_query: str
    operation: str
    params: dict[str, Any]
    body: bytes
    raw_body: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    signature: Any = field(repr=False)

    def __repr__(self) -> str:
        return f"Parsed({self.service} {self.operation or self.method} {self.raw_path!r})"

    def interpret(self) -> None:
        """Read the operation and its parameters (after the signature is known to hold).

        AWS authenticates a request before it reads its operation, so the
        layer calls this once :func:`._sigv4.verify` has passed. DynamoDB:
        ``POST /`` with no query string, an exact signed
        ``DynamoDB_20120810.<Operation>`` target and a JSON object body (its
        keys unique), forwarded re-serialized; STS and IAM: ``POST /`` with
        a form body holding each parameter once, a known ``Action`` and the
        API ``Version``, forwarded re-encoded; S3: path-style addressing of a
        valid bucket name, the body forwarded as it came.
        """
        headers, sig = self.headers, self.signature
        if self.service == "dynamodb":
            self.operation, self.params = _parse_dynamodb(
                self.method, self.raw_path, self.raw_query, headers, sig, self.raw_body)
            self.body = json.dumps(self.params, separators=(",", ":")).encode()
        elif self.service in ("sts", "iam"):
            self.operation, self.params = _parse_query_api(
                self.service, self.method, self.raw_path, self.raw_query, headers, self.raw_body)
            self.body = urlencode(self.params).encode()
        else:
            _check_s3(self.method, self.raw_path, self.raw_query, headers)

    def forward_environ(self, environ: dict[str, Any], account: str) -> dict[str, Any]:
        """Return a WSGI environ for moto rebuilt from this form alone (nothing of the client's)."""
        out = {k: v for k, v in environ.items() if k.startswith("wsgi.") or k in (
            "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR", "REMOTE_PORT",
            "SCRIPT_NAME", "SERVER_SOFTWARE")}
        host = f"127.0.0.1:{environ.get('SERVER_PORT', '80')}"
        path = self.raw_path if self.service == "s3" else "/"
        query = self.raw_query if self.service == "s3" else ""
        out.update({
            "REQUEST_METHOD": self.method,
            "PATH_INFO": unquote(path),
            "RAW_URI": path + (f"?{query}" if query else ""),
            "REQUEST_URI": path + (f"?{query}" if query else ""),
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(self.body)),
            "wsgi.input": io.BytesIO(self.body),
            "HTTP_HOST": host,
            "HTTP_USER_AGENT": "xacct-sandbox",
            "HTTP_X_AMZ_DATE": self.headers.get("x-amz-date", ""),
            "HTTP_X_MOTO_ACCOUNT_ID": account,
            "HTTP_AUTHORIZATION": (
                f"AWS4-HMAC-SHA256 Credential={self.access_key}/{self.signature.date}/"
                f"{self.region}/{self.service}/aws4_request, SignedHeaders=host, "
                f"Signature={'0' * 64}"
            ),
        })
        if self.service == "dynamodb":
            out["CONTENT_TYPE"] = "application/x-amz-json-1.0"
            out["HTTP_X_AMZ_TARGET"] = _DDB_TARGET_PREFIX + self.operation
        elif self.service in ("sts", "iam"):
            out["CONTENT_TYPE"] = f"{_FORM}; charset=utf-8"
        else:
            for name in _S3_FORWARDED:
                if name in self.headers:
                    key = name.upper().replace("-", "_")
                    out[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = self.headers[name]
        if self.token:
            out["HTTP_X_AMZ_SECURITY_TOKEN"] = self.token
        return out


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """Return the request's headers, lower-cased (WSGI joins repeated headers with commas)."""
    out = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out[key[5:].lower().replace("_", "-")] = str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value != "":
            out[key.lower().replace("_", "-")] = str(value)
    return out


def guess_service(headers: dict[str, str], path: str) -> str:
    """Return the service a request looks meant for, for the format of an early error."""
    auth = headers.get("authorization", "")
    match = re.search(r"Credential=[^/]*/[^/]*/[^/]*/([^/]*)/", auth)
    if match and match.group(1) in ("dynamodb", "sts", "iam", "s3"):
        return match.group(1)
    if "x-amz-target" in headers:
        return "dynamodb"
    if path not in ("", "/"):
        return "s3"
    return "sts"


def read_exact(environ: dict[str, Any], service: str) -> bytes:
    """Return the body, exactly Content-Length bytes; anything else is refused."""
    if "HTTP_TRANSFER_ENCODING" in environ:
        raise WireError(411 if service == "s3" else 400,
                        "MissingContentLength" if service == "s3" else "SerializationException",
                        "Transfer-Encoding is not accepted here: send a Content-Length.", service)
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not text.isdigit():
        raise WireError(400, "SerializationException" if service == "dynamodb" else "InvalidRequest",
                        "Content-Length must be one non-negative integer.", service)
    length = int(text)
    if length > MAX_BODY[service]:
        raise WireError(413, "RequestEntityTooLarge" if service != "dynamodb"
                        else "ValidationException", "Request entity too large.", service)
    body = environ["wsgi.input"].read(length) if length else b""
    if len(body) != length:
        raise WireError(400, "IncompleteBody" if service == "s3" else "SerializationException",
                        "The request body ended before Content-Length bytes.", service)
    return body


def parse(environ: dict[str, Any]) -> Parsed:
    """Parse a request's envelope once, or raise :class:`WireError`.

    One SigV4 ``Authorization`` header scoped to exactly ``dynamodb``,
    ``sts``, ``iam`` or ``s3`` and a valid region, a signed ``X-Amz-Date``
    within 15 minutes, a signed session token if any, and exactly
    Content-Length bytes of body. Whether the signature holds is
    :mod:`._sigv4`'s job; then :meth:`Parsed.interpret` reads the operation.
    """
    from ._sigv4 import check_date, parse_authorization, refusal

    headers = request_headers(environ)
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or
                  environ.get("PATH_INFO", "/"))
    raw_path, _, raw_query = raw_uri.partition("?")
    guess = guess_service(headers, raw_path)
    if not raw_path.startswith("/") or raw_path.startswith("//"):
        raise WireError(400, "InvalidURI", "Couldn't parse the specified URI.", "s3")
    first = unquote(raw_path).lstrip("/").split("/", 1)[0].lower()
    if first.startswith(("moto-api", "favicon.ico")) or first in ("latest", "_xacct"):
        raise WireError(403, "AccessDenied", "Access Denied", "s3")
    if re.search(r"(?:^|&)X-Amz-(?:Credential|Signature|Algorithm)=", raw_query, re.I):
        raise refusal(guess, "incomplete",
                      "Query-string authentication is not accepted by the sandbox: sign the "
                      "Authorization header.")
    auth = headers.get("authorization")
    sig = parse_authorization([auth] if auth is not None else [], guess)
    service = sig.service
    if not _REGION_RE.fullmatch(sig.region) or (service == "iam" and sig.region != "us-east-1"):
        raise refusal(service, "signature",
                      f"Credential should be scoped to a valid region, not '{sig.region}'.")
    token = headers.get("x-amz-security-token")
    if token is not None and "x-amz-security-token" not in sig.signed_headers:
        raise refusal(service, "incomplete", "X-Amz-Security-Token must be signed.")
    if "x-amz-date" not in sig.signed_headers:
        raise refusal(service, "incomplete", "X-Amz-Date must be signed.")
    check_date(sig, headers.get("x-amz-date"), _real_now())
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    body = read_exact(environ, service)
    return Parsed(service=service, region=sig.region, access_key=sig.access_key, token=token,
                  method=method, raw_path=raw_path, raw_query=raw_query, operation="", params={},
                  body=body, raw_body=body, headers=headers, signature=sig)


def _real_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _parse_dynamodb(method: str, path: str, query: str, headers: dict[str, str], sig: Any,
                    body: bytes) -> tuple[str, dict[str, Any]]:
    if method != "POST" or path != "/" or query:
        raise WireError(400, "UnknownOperationException", "", "dynamodb")
    target = headers.get("x-amz-target", "")
    operation = target[len(_DDB_TARGET_PREFIX):] if target.startswith(_DDB_TARGET_PREFIX) else ""
    if operation not in operations("dynamodb") or "x-amz-target" not in sig.signed_headers:
        raise WireError(400, "UnknownOperationException", "", "dynamodb")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _DDB_CONTENT_TYPES:
        raise WireError(400, "SerializationException",
                        "Start of structure or map found where not expected.", "dynamodb")
    try:
        params = json.loads(body or b"{}", object_pairs_hook=_unique_keys)
    except (ValueError, UnicodeDecodeError, RecursionError):
        params = None
    if not isinstance(params, dict):
        raise WireError(400, "SerializationException",
                        "Start of structure or map found where not expected.", "dynamodb")
    return operation, params


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_query_api(service: str, method: str, path: str, query: str, headers: dict[str, str],
                     body: bytes) -> tuple[str, dict[str, str]]:
    if method != "POST" or path != "/" or query:
        raise WireError(400, "InvalidAction",
                        "Send STS and IAM calls as POST / with a form body.", service)
    if headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise WireError(400, "InvalidAction",
                        f"Content-Type must be {_FORM}.", service)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (ValueError, UnicodeDecodeError):
        raise WireError(400, "MalformedQueryString", "The form body could not be parsed.",
                        service) from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise WireError(400, "MalformedQueryString", f"Parameter {key} appears twice.", service)
        form[key] = value
    action = form.get("Action", "")
    if action not in operations(service):
        raise WireError(400, "InvalidAction",
                        f"Could not find operation {action} for version "
                        f"{form.get('Version', '')}", service)
    if form.get("Version") != _API_VERSIONS[service]:
        raise WireError(400, "InvalidAction",
                        f"Could not find operation {action} for version "
                        f"{form.get('Version', '')}", service)
    return action, form


def _check_s3(method: str, path: str, query: str, headers: dict[str, str]) -> None:
    if method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        raise WireError(405, "MethodNotAllowed",
                        "The specified method is not allowed against this resource.", "s3")
    bucket = unquote(path.lstrip("/").split("/", 1)[0])
    if bucket and not _BUCKET_RE.fullmatch(bucket):
        raise WireError(400, "InvalidBucketName", "The specified bucket is not valid.", "s3")
    keys = [k for k, _ in parse_qsl(query, keep_blank_values=True)]
    if len(keys) != len(set(keys)):
        raise WireError(400, "InvalidArgument", "A query parameter appears twice.", "s3")
    if any(name.startswith("x-amz-copy-source") for name in headers):
        raise WireError(501, "NotImplemented",
                        "Copying objects is not available in the sandbox.", "s3")
