"""SigV4 signatures and session tokens, checked with botocore's own signer.

The sandbox recomputes each request's signature the way AWS does: botocore's
:class:`~botocore.auth.SigV4Auth` (:class:`~botocore.auth.S3SigV4Auth` for S3)
builds the canonical request from exactly the headers the client says it
signed, the raw path and query string, and the body's SHA-256, then derives
the signing key from the secret the sandbox issued. No cryptography is written
here: only the parsing of the ``Authorization`` header, which is strict (one
form, one value of each part), and the comparison, which is constant-time.

Errors carry AWS's codes per service: DynamoDB answers
``MissingAuthenticationTokenException``, ``IncompleteSignatureException``,
``InvalidSignatureException`` and ``UnrecognizedClientException`` (JSON, 400);
STS and IAM ``MissingAuthenticationToken``, ``IncompleteSignature``,
``SignatureDoesNotMatch`` and ``InvalidClientTokenId`` (XML, 403; 400 for an
incomplete signature); S3 ``AccessDenied``, ``SignatureDoesNotMatch`` and
``InvalidAccessKeyId`` (XML, 403).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from ._wire import WireError

#: How far X-Amz-Date may be from the server's clock, as AWS allows.
MAX_SKEW = timedelta(minutes=15)
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
SERVICES = frozenset({"dynamodb", "sts", "iam", "s3"})

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 "
    r"Credential=(?P<key>[A-Z0-9]{16,128})/(?P<date>\d{8})/(?P<region>[a-z0-9-]{1,32})/"
    r"(?P<service>[A-Za-z0-9 -]{1,32})/aws4_request, ?"
    r"SignedHeaders=(?P<signed>[a-z0-9-]+(?:;[a-z0-9-]+)*), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
_AMZ_DATE_RE = re.compile(r"\d{8}T\d{6}Z")


@dataclass(frozen=True)
class Signature:
    """The parts of one ``Authorization: AWS4-HMAC-SHA256 ...`` header."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str

    def __repr__(self) -> str:  # the signature itself is a secret of the request
        return (f"Signature({self.access_key[:4]}…/{self.date}/{self.region}/{self.service}, "
                f"signed={';'.join(self.signed_headers)})")


def _codes(service: str | None) -> dict[str, tuple[int, str]]:
    if service == "dynamodb":
        return {
            "missing": (400, "MissingAuthenticationTokenException"),
            "incomplete": (400, "IncompleteSignatureException"),
            "signature": (400, "InvalidSignatureException"),
            "token": (400, "UnrecognizedClientException"),
        }
    if service == "s3":
        return {
            "missing": (403, "AccessDenied"),
            "incomplete": (400, "AuthorizationHeaderMalformed"),
            "signature": (403, "SignatureDoesNotMatch"),
            "token": (403, "InvalidAccessKeyId"),
        }
    return {
        "missing": (403, "MissingAuthenticationToken"),
        "incomplete": (400, "IncompleteSignature"),
        "signature": (403, "SignatureDoesNotMatch"),
        "token": (403, "InvalidClientTokenId"),
    }


def refusal(service: str | None, kind: str, message: str) -> WireError:
    """Return a ``service`` :class:`WireError` of ``kind`` (missing, incomplete, signature, token)."""
    status, code = _codes(service)[kind]
    return WireError(status, code, message, service if service in SERVICES else None)


def parse_authorization(values: list[str], guess: str | None) -> Signature:
    """Return the one SigV4 ``Authorization`` header of a request, parsed strictly.

    ``guess`` is the service the request looks meant for (for the error format
    when the header itself cannot say).
    """
    if not values:
        raise refusal(guess, "missing", "Request is missing Authentication Token")
    if len(values) != 1:
        raise refusal(guess, "incomplete", "Authorization header must appear exactly once.")
    match = _AUTH_RE.fullmatch(values[0].strip())
    if match is None:
        raise refusal(
            guess, "incomplete",
            "Authorization header requires 'Credential' parameter. Authorization header requires "
            "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    service = match["service"]
    if service not in SERVICES:
        shown = guess if guess in SERVICES else None
        raise refusal(shown, "signature",
                      f"Credential should be scoped to correct service: '{shown or 'dynamodb'}'.")
    signed = tuple(match["signed"].split(";"))
    if list(signed) != sorted(set(signed)) or "host" not in signed:
        raise refusal(service, "incomplete",
                      "SignedHeaders must be sorted, unique and include 'host'.")
    return Signature(match["key"], match["date"], match["region"], service, signed,
                     match["signature"])


def check_date(sig: Signature, amz_date: str | None, now: datetime) -> None:
    """X-Amz-Date must be well formed, match the scope's date and be within 15 minutes."""
    if amz_date is None or not _AMZ_DATE_RE.fullmatch(amz_date):
        raise refusal(sig.service, "incomplete",
                      "Authorization header requires existence of either a 'X-Amz-Date' or a "
                      "'Date' header.")
    if amz_date[:8] != sig.date:
        raise refusal(sig.service, "signature",
                      f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                      f"of date from HTTP: '{sig.date}' != '{amz_date[:8]}', from '{amz_date}'.")
    moment = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    if moment < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise refusal(sig.service, "signature",
                      f"Signature expired: {amz_date} is now earlier than {earliest} "
                      f"({stamp} - 15 min.)")
    if moment > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime("%Y%m%dT%H%M%SZ")
        raise refusal(sig.service, "signature",
                      f"Signature not yet current: {amz_date} is still later than {latest} "
                      f"({stamp} + 15 min.)")


class _Verifier(SigV4Auth):
    """botocore's signer, told exactly which headers the client signed."""

    signed: tuple[str, ...] = ()

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        out = HTTPHeaders()
        for name in self.signed:
            out[name] = request.headers.get(name, "")
        return out


class _S3Verifier(_Verifier, S3SigV4Auth):
    pass


def expected_signature(
    sig: Signature, secret: str, token: str | None, method: str, raw_path: str, raw_query: str,
    headers: dict[str, str], payload_hash: str, amz_date: str,
) -> str:
    """Return the signature AWS would compute for this request with ``secret`` (via botocore)."""
    cls = _S3Verifier if sig.service == "s3" else _Verifier
    auth = cls(Credentials(sig.access_key, secret, token), sig.service, sig.region)
    auth.signed = sig.signed_headers
    url = f"http://{headers.get('host', 'localhost')}{raw_path}"
    if raw_query:
        url += f"?{raw_query}"
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    request.headers["X-Amz-Content-SHA256"] = payload_hash  # what the canonical request uses
    request.context["timestamp"] = amz_date
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))


def payload_hash(sig: Signature, headers: dict[str, str], body: bytes) -> str:
    """Return the payload hash of the canonical request; a declared hash must be the body's."""
    actual = hashlib.sha256(body).hexdigest()
    declared = headers.get("x-amz-content-sha256")
    if declared is None:
        return actual
    if declared == UNSIGNED_PAYLOAD and sig.service == "s3":
        return declared
    if not hmac.compare_digest(declared, actual):
        if sig.service == "s3":
            raise WireError(400, "XAmzContentSHA256Mismatch",
                            "The provided 'x-amz-content-sha256' header does not match what was "
                            "computed.", "s3")
        raise refusal(sig.service, "signature",
                      "The request signature we calculated does not match the signature you "
                      "provided. Check your AWS Secret Access Key and signing method. Consult the "
                      "service documentation for details.")
    return declared


def verify(
    sig: Signature, secret: str, token: str | None, method: str, raw_path: str, raw_query: str,
    headers: dict[str, str], body: bytes,
) -> None:
    """Raise the service's signature error unless the request was signed with ``secret``."""
    missing = [name for name in sig.signed_headers if name not in headers]
    if missing:
        raise refusal(sig.service, "incomplete",
                      f"Signed header(s) {', '.join(missing)} not found in the request.")
    declared = payload_hash(sig, headers, body)
    expected = expected_signature(sig, secret, token, method, raw_path, raw_query, headers,
                                  declared, headers.get("x-amz-date", ""))
    if not hmac.compare_digest(expected, sig.signature):
        if sig.service == "s3":
            message = ("The request signature we calculated does not match the signature you "
                       "provided. Check your key and signing method.")
        else:
            message = ("The request signature we calculated does not match the signature you "
                       "provided. Check your AWS Secret Access Key and signing method. Consult "
                       "the service documentation for details.")
        raise refusal(sig.service, "signature", message)
