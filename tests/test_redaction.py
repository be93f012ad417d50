"""No secret reaches a log line, botocore's DEBUG logs included."""

from __future__ import annotations

import io
import logging

import pytest

import xacct_nb as xn
from xacct_nb._redaction import REDACTED, redact


@pytest.mark.parametrize("text, secret", [
    ("<Credentials><SecretAccessKey>wJalr/K7MDENG+bPxRfi</SecretAccessKey>", "wJalr/K7MDENG+bPxRfi"),
    ("<SessionToken>IQoJb3JpZ2luX2VjEJr//////////wEaCXVz</SessionToken>", "IQoJb3JpZ2luX2VjEJr"),
    ("{'X-Amz-Security-Token': b'FwoGZXIvYXdzEJr+abc='}", "FwoGZXIvYXdzEJr+abc="),
    ('{"SecretAccessKey": "abc123secret", "x": 1}', "abc123secret"),
    ("aws_secret_access_key=abcdefSECRET", "abcdefSECRET"),
    ("Authorization: AWS4-HMAC-SHA256 Credential=AKIA/x, SignedHeaders=host, "
     "Signature=" + "ab" * 32, "ab" * 32),
    ("DEBUG:botocore.auth:Signature:\n" + "ef" * 32, "ef" * 32),
    ("https://x/?X-Amz-Signature=" + "cd" * 32 + "&X-Amz-Security-Token=tok%2Fen",
     "tok%2Fen"),
])
def test_redact_removes_each_kind_of_secret(text, secret):
    out = redact(text)
    assert secret not in out
    assert REDACTED in out


def test_redact_keeps_ordinary_text():
    text = "Making request for OperationModel(name=Scan) with params: {'TableName': 'T'}"
    assert redact(text) == text


@pytest.mark.sandbox
def test_botocore_debug_logs_of_a_whole_session_hold_no_secret(sandbox):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        session = xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                                 source_session=sandbox.analyst_session(), duration_seconds=900)
        df = xn.read_query(session, sandbox.table, "C-0001")
        frozen = session.get_credentials().get_frozen_credentials()
        analyst = sandbox.analyst_session().get_credentials().get_frozen_credentials()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    logs = stream.getvalue()
    assert len(df) > 0
    assert "AssumeRole" in logs and "Response body" in logs  # botocore did log at DEBUG
    for secret in (frozen.secret_key, frozen.token, analyst.secret_key):
        assert secret not in logs
    assert REDACTED in logs
    assert "Signature:\n[REDACTED]" in logs  # botocore's own line for each signature
