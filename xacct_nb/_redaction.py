"""No secret in any log line: redaction of botocore's (and our) log records.

botocore logs at DEBUG the request headers (``X-Amz-Security-Token``, the
``Authorization`` signature) and the raw response bodies, among them
AssumeRole's and GetSessionToken's ``SecretAccessKey`` and ``SessionToken``.
Whoever turns DEBUG on (``boto3.set_stream_logger('')``, a notebook's
``logging.basicConfig(level=logging.DEBUG)``) would see them.

A filter on a logger sees only the records logged to that very logger, not
to its children, and the handlers are the user's. So :func:`install` wraps
the process's log-record factory instead: every record of the ``botocore``,
``boto3``, ``s3transfer``, ``urllib3`` and ``xacct_nb`` loggers is
formatted once and its secrets replaced by ``[REDACTED]`` before any
handler sees it. Records are only made for enabled levels, so this costs
nothing while DEBUG is off.

>>> redact('<SecretAccessKey>abc/def</SecretAccessKey>')
'<SecretAccessKey>[REDACTED]</SecretAccessKey>'
>>> redact("{'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr'}")
"{'X-Amz-Security-Token': b'[REDACTED]'}"
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

__all__ = ["REDACTED", "install", "redact"]

REDACTED = "[REDACTED]"
#: Loggers whose records are redacted (and their children).
LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3", "xacct_nb")
_SECRET_NAMES = (r"SecretAccessKey|SessionToken|aws_secret_access_key|aws_session_token|"
                 r"secret_key|session_token|X-Amz-Security-Token|x-amz-security-token|"
                 r"SecretKey|Token")
_PATTERNS = (
    # XML elements: <SecretAccessKey>...</SecretAccessKey>
    re.compile(rf"(<(?:{_SECRET_NAMES})>)[^<]*(</)"),
    # JSON / Python reprs: "SecretAccessKey": "...", 'X-Amz-Security-Token': b'...'
    re.compile(rf"""((?:["']?)(?:{_SECRET_NAMES})["']?\s*[:=]\s*b?["'])[^"']*(["'])"""),
    # key=value and header:value forms (query strings, ini files, canonical requests)
    re.compile(rf"((?:{_SECRET_NAMES})\s*[=:]\s*)([^&\s,'\"<]+)()"),
    # SigV4: Signature=<hex> in an Authorization header or a presigned URL
    re.compile(r"((?:Signature|X-Amz-Signature)\s*[=:]\s*)[0-9a-fA-F]{16,}()"),
)
_installed = False
_lock = threading.Lock()


def redact(text: str) -> str:
    """``text`` with every secret key, session token and signature replaced."""
    for pattern in _PATTERNS:
        if pattern.groups == 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(3)}", text)
        else:
            text = pattern.sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2)}", text)
    return text


def _needs_redaction(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in LOGGERS)


def install() -> None:
    """Redact the records of botocore, boto3, s3transfer, urllib3 and xacct_nb (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if _needs_redaction(record.name):
                try:
                    message = record.getMessage()
                except Exception:  # noqa: BLE001 - a broken record is logging's to report
                    return record
                record.msg, record.args = redact(message), None
                if record.exc_text:
                    record.exc_text = redact(record.exc_text)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
