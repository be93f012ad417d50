"""The sandbox's request parsing and signature checks, on requests built in memory.

These tests sign with botocore exactly as a client does, turn the signed
request into a WSGI environ, and check what :func:`_wire.parse` and
:func:`_sigv4.verify` make of it: the canonical form, what is forwarded to
moto, and the refusals (each with AWS's code for the service).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from rawaws import signing_at

from xacct_nb.sandbox import _sigv4, _wire

KEY, SECRET = "AKIAEXAMPLEKEY000001", "secret-of-the-example-key"
TOKEN_KEY, TOKEN = "ASIAEXAMPLEKEY000002", "the-session-token"
HOST = "127.0.0.1:4566"


def environ(method, url, body=b"", headers=None, *, service="dynamodb", region="us-east-1",
            creds=(KEY, SECRET, None), sign=True, after=None, when=None):
    """A WSGI environ for a request signed by botocore's signer (as clients sign)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if sign:
        signer = (S3SigV4Auth if service == "s3" else SigV4Auth)(Credentials(*creds), service,
                                                                  region)
        if when is not None:
            with signing_at(when):
                signer.add_auth(request)
        else:
            signer.add_auth(request)
    for name, value in (after or {}).items():
        request.headers[name] = value
    parts = urlsplit(url)
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "4566",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": HOST,
    }
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            env[key] = value
        else:
            env[f"HTTP_{key}"] = value
    return env


def ddb(operation, params, **kwargs):
    headers = {"X-Amz-Target": f"DynamoDB_20120810.{operation}",
               "Content-Type": "application/x-amz-json-1.0"}
    headers.update(kwargs.pop("headers", {}))
    body = params if isinstance(params, bytes) else json.dumps(params).encode()
    return environ("POST", f"http://{HOST}/", body, headers, **kwargs)


def form(service, text, **kwargs):
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return environ("POST", f"http://{HOST}/", text.encode(), headers, service=service, **kwargs)


def refused(env, status, code):
    with pytest.raises(_wire.WireError) as info:
        parsed = _wire.parse(env)
        _sigv4.verify(parsed.signature, SECRET, parsed.token, parsed.method, parsed.raw_path,
                      parsed.raw_query, parsed.headers, parsed.raw_body)
        parsed.interpret()
    assert (info.value.status, info.value.code) == (status, code), info.value.message
    return info.value


def test_a_botocore_signed_dynamodb_request_parses_and_verifies():
    parsed = _wire.parse(ddb("Scan", {"TableName": "T", "Limit": 5}))
    parsed.interpret()
    assert (parsed.service, parsed.region, parsed.operation) == ("dynamodb", "us-east-1", "Scan")
    assert parsed.params == {"TableName": "T", "Limit": 5}
    _sigv4.verify(parsed.signature, SECRET, None, parsed.method, parsed.raw_path,
                  parsed.raw_query, parsed.headers, parsed.raw_body)


def test_the_wrong_secret_is_an_invalid_signature():
    parsed = _wire.parse(ddb("Scan", {"TableName": "T"}))
    with pytest.raises(_wire.WireError) as info:
        _sigv4.verify(parsed.signature, "another-secret", None, parsed.method, parsed.raw_path,
                      parsed.raw_query, parsed.headers, parsed.raw_body)
    assert info.value.code == "InvalidSignatureException"
    assert info.value.message.startswith("The request signature we calculated does not match")


@pytest.mark.parametrize("header, value", [
    ("X-Amz-Target", "DynamoDB_20120810.DeleteTable"),
    ("Host", "dynamodb.eu-west-1.amazonaws.com"),
])
def test_a_signed_header_changed_after_signing_is_refused(header, value):
    env = ddb("DescribeTable", {"TableName": "T"}, after={header: value})
    refused(env, 400, "InvalidSignatureException")


def test_the_signature_is_checked_before_the_operation_is_read():
    # AWS authenticates first: a content type changed after signing is a bad signature,
    # not a serialization error.
    env = ddb("Scan", {"TableName": "T"}, after={"Content-Type": "application/json"})
    refused(env, 400, "InvalidSignatureException")


def test_a_body_changed_after_signing_is_refused():
    env = ddb("DescribeTable", {"TableName": "T"})
    body = json.dumps({"TableName": "PrivateLedgerTable"}).encode()
    env["wsgi.input"], env["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    refused(env, 400, "InvalidSignatureException")


@pytest.mark.parametrize("target", [
    "DynamoDB_20120810.putItem", "DynamoDB_20120810.PUTITEM", "DynamoDB_20120810.PutItem ",
    "DynamoDB_20111205.PutItem", "PutItem", "DynamoDB_20120810.", "DynamoDBStreams_20120810.ListStreams",
])
def test_targets_that_are_not_exact_operation_names_are_unknown(target):
    env = ddb("PutItem", {"TableName": "T"}, headers={"X-Amz-Target": target})
    refused(env, 400, "UnknownOperationException")


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"{", b"null", b'{"a": 1, "a": 2}', b"\xff"])
def test_bodies_that_are_not_one_json_object_are_serialization_errors(body):
    refused(ddb("Scan", body), 400, "SerializationException")


def test_a_query_string_on_dynamodb_is_refused_not_executed():
    env = environ("POST", f"http://{HOST}/?Action=DeleteTable",
                  json.dumps({"TableName": "T"}).encode(),
                  {"X-Amz-Target": "DynamoDB_20120810.DescribeTable",
                   "Content-Type": "application/x-amz-json-1.0"})
    refused(env, 400, "UnknownOperationException")


@pytest.mark.parametrize("scope", ["DynamoDB", "IAM", "S3", "Sts", "execute-api", "dynamodb "])
def test_scopes_that_are_not_exactly_a_served_service_are_refused(scope):
    env = ddb("Scan", {"TableName": "T"}, service=scope)
    error = refused(env, 400, "InvalidSignatureException")
    assert "scoped to correct service" in error.message


def test_an_unsigned_request_is_missing_its_token():
    refused(ddb("Scan", {"TableName": "T"}, sign=False), 400,
            "MissingAuthenticationTokenException")
    refused(form("sts", "Action=GetCallerIdentity&Version=2011-06-15", sign=False), 403,
            "MissingAuthenticationToken")


@pytest.mark.parametrize("mangle", [
    lambda a: a.replace("AWS4-HMAC-SHA256", "aws4-hmac-sha256"),
    lambda a: a + ", Signature=" + "0" * 64,
    lambda a: a + "," + a,
    lambda a: a.replace("SignedHeaders=", "SignedHeaders=zzz;"),
    lambda a: a.replace("/aws4_request", "/aws4_request/extra"),
])
def test_malformed_authorization_headers_are_incomplete_signatures(mangle):
    env = ddb("Scan", {"TableName": "T"})
    env["HTTP_AUTHORIZATION"] = mangle(env["HTTP_AUTHORIZATION"])
    refused(env, 400, "IncompleteSignatureException")


@pytest.mark.parametrize("minutes", [-20, 20])
def test_signatures_more_than_15_minutes_off_are_expired(minutes):
    when = datetime.now(UTC) + timedelta(minutes=minutes)
    env = ddb("Scan", {"TableName": "T"}, when=when.replace(tzinfo=None))
    error = refused(env, 400, "InvalidSignatureException")
    assert error.message.startswith("Signature expired" if minutes < 0 else "Signature not yet")


def test_a_session_token_is_part_of_the_signature():
    env = ddb("Scan", {"TableName": "T"}, creds=(TOKEN_KEY, SECRET, TOKEN))
    parsed = _wire.parse(env)
    parsed.interpret()
    assert parsed.token == TOKEN
    assert "x-amz-security-token" in parsed.signature.signed_headers
    env = ddb("Scan", {"TableName": "T"}, creds=(TOKEN_KEY, SECRET, TOKEN),
              after={"X-Amz-Security-Token": "forged"})
    refused(env, 400, "InvalidSignatureException")


def test_sts_forms_are_parsed_once_and_strictly():
    parsed = _wire.parse(form("sts", "Action=AssumeRole&Version=2011-06-15&RoleArn=r"))
    parsed.interpret()
    assert (parsed.operation, parsed.params["RoleArn"]) == ("AssumeRole", "r")
    refused(form("sts", "Action=AssumeRole&Action=GetSessionToken&Version=2011-06-15"), 400,
            "MalformedQueryString")
    refused(form("iam", "Action=putRolePolicy&Version=2010-05-08"), 400, "InvalidAction")
    refused(form("iam", "Action=PutRolePolicy&Version=2099-01-01"), 400, "InvalidAction")


def test_iam_is_scoped_to_us_east_1_only():
    env = form("iam", "Action=ListRoles&Version=2010-05-08", region="eu-west-1")
    refused(env, 403, "SignatureDoesNotMatch")


def test_moto_api_paths_are_never_parsed():
    for path in ("/moto-api/data.json", "/moto-api/reset", "/MOTO-API/", "/favicon.ico", "/%6Doto-api/reset",
                 "/latest/meta-data/"):
        env = environ("GET", f"http://{HOST}{path}", service="s3")
        refused(env, 403, "AccessDenied")


def test_s3_keys_with_escapes_verify_and_reach_moto_unchanged():
    url = f"http://{HOST}/bucket-1/dir/a%20b%2Bc.json?list-type=2&prefix=a%20b"
    parsed = _wire.parse(environ("GET", url, service="s3"))
    parsed.interpret()
    _sigv4.verify(parsed.signature, SECRET, None, parsed.method, parsed.raw_path,
                  parsed.raw_query, parsed.headers, parsed.raw_body)
    forwarded = parsed.forward_environ({"SERVER_PORT": "4566"}, "222222222222")
    assert forwarded["RAW_URI"] == "/bucket-1/dir/a%20b%2Bc.json?list-type=2&prefix=a%20b"
    assert forwarded["PATH_INFO"] == "/bucket-1/dir/a b+c.json"


def test_what_moto_sees_is_rebuilt_from_the_parsed_form_alone():
    env = ddb("Scan", {"TableName": "T", "x": "a&Action=DeleteTable&"},
              headers={"User-Agent": "Boto3 region/eu-west-1", "X-Moto-Account-Id": "333333333333",
                       "X-Custom": "1"})
    parsed = _wire.parse(env)
    parsed.interpret()
    out = parsed.forward_environ(env, "222222222222")
    assert out["HTTP_X_AMZ_TARGET"] == "DynamoDB_20120810.Scan"
    assert out["HTTP_X_MOTO_ACCOUNT_ID"] == "222222222222"
    assert out["HTTP_USER_AGENT"] == "xacct-sandbox"
    assert out["HTTP_HOST"] == "127.0.0.1:4566"
    assert out["QUERY_STRING"] == "" and out["PATH_INFO"] == "/"
    assert "/us-east-1/dynamodb/aws4_request" in out["HTTP_AUTHORIZATION"]
    assert "HTTP_X_CUSTOM" not in out
    assert json.loads(out["wsgi.input"].read()) == parsed.params


def test_reprs_hold_no_signature_or_token():
    env = ddb("Scan", {"TableName": "T"}, creds=(TOKEN_KEY, SECRET, TOKEN))
    parsed = _wire.parse(env)
    parsed.interpret()
    text = repr(parsed) + repr(parsed.signature)
    assert TOKEN not in text and parsed.signature.signature not in text and SECRET not in text


def test_a_body_shorter_than_its_content_length_is_refused():
    env = ddb("Scan", {"TableName": "T"})
    env["CONTENT_LENGTH"] = str(int(env["CONTENT_LENGTH"]) + 10)
    refused(env, 400, "SerializationException")
