"""Each request parsed once into a canonical form, and AWS's error formats.

The authorization layer never looks at the raw request again after
:func:`parse`: it decides on the :class:`Parsed` form and forwards to moto a
request rebuilt from it (its own target, path, Host and Authorization). So
nothing downstream can read one request two ways. Whatever cannot be parsed
unambiguously raises :class:`WireError`, answered in the service's own
error format (fail closed).
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


class WireError(Exception):
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
    """An error in the wire format of ``service`` (JSON for DynamoDB, XML for the others)."""
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
