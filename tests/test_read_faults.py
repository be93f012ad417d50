"""Reads under fire: throttling bursts, 500s, dropped connections, expired credentials.

A fault-injecting proxy sits between the client and the sandbox; botocore's
own retries are cut to one or two attempts so the reader's resume logic is
what gets exercised.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb._engine import RESUME
from xacct_nb.sandbox import _demo_data as demo

sys.path.insert(0, str(Path(__file__).parent))
from faultproxy import FaultProxy  # noqa: E402

pytestmark = pytest.mark.sandbox


@pytest.fixture
def proxy(sandbox, monkeypatch):
    with FaultProxy(sandbox.endpoint_url) as fp:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fp.endpoint_url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
        monkeypatch.setattr(RESUME, "base", 0.01)
        yield fp


def _assert_complete(df):
    assert len(df) == demo.ORDER_COUNT
    assert not df.duplicated(["customer_id", "order_ts"]).any()


@pytest.mark.parametrize("fault", ["throttle", "throttling", "error500", "drop"])
def test_scan_resumes_from_the_last_key(reader, sandbox, proxy, fault):
    proxy.add("Scan", fault, times=4, after=1)  # page 2 fails four times in a row
    df = xn.read_scan(reader, sandbox.table)
    _assert_complete(df)
    pages = df.attrs["pages"]
    assert proxy.requests["Scan"] == pages + 4  # no page was requested twice after success
    assert df.attrs["resumed"] >= 1  # botocore gave up (2 attempts), the read resumed


def test_query_and_parallel_scan_survive_bursts(reader, sandbox, proxy, full_scan):
    proxy.add("Query", "throttle", times=3)
    df = xn.read_query(reader, sandbox.table, "delivered", index=sandbox.index)
    assert len(df) == (full_scan.status == "delivered").sum()
    proxy.add("Scan", "error500", times=6)
    par = xn.read_scan(reader, sandbox.table, segments=4)
    _assert_complete(par)


def test_permanent_throttling_fails_loudly_and_boundedly(reader, sandbox, proxy, monkeypatch):
    monkeypatch.setattr(RESUME, "retries", 3)
    proxy.add("Scan", "throttle", times=None, after=1)
    with pytest.raises(xn.IncompleteReadError) as err:
        xn.read_scan(reader, sandbox.table)
    text = str(err.value)
    assert "Reading 'MyCrossAccountTable' stopped after 1 pages" in text
    assert "ProvisionedThroughputExceededException" in text
    assert "resumed 3 times before giving up; nothing partial is returned" in text
    assert err.value.last_evaluated_key is not None
    assert proxy.requests["Scan"] == 1 + (3 + 1) * 2  # bounded: resumes x botocore attempts


def test_one_failing_segment_fails_the_parallel_scan(reader, sandbox, proxy, monkeypatch):
    monkeypatch.setattr(RESUME, "retries", 1)
    proxy.add("Scan", "throttle", times=None, after=2)
    with pytest.raises(xn.IncompleteReadError, match="nothing partial is returned"):
        xn.read_scan(reader, sandbox.table, segments=4)


def test_dropped_connections_without_botocore_retries(reader, sandbox, proxy, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    proxy.add("Scan", "drop", times=2, after=2)
    _assert_complete(xn.read_scan(reader, sandbox.table))


def test_chunked_read_resumes_too(reader, sandbox, proxy):
    proxy.add("Scan", "throttling", times=3, after=2)
    chunks = list(xn.read_scan(reader, sandbox.table, chunksize=1000))
    assert sum(map(len, chunks)) == demo.ORDER_COUNT


@pytest.fixture(scope="module")
def full_scan(reader, sandbox):
    return xn.read_scan(reader, sandbox.table)


def test_expired_static_credentials_are_a_clear_error(monkeypatch):
    """The seed's recipe (static keys from one AssumeRole) an hour later: a clear error."""
    with xn.sandbox.start() as sb:
        session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                                 source_session=sb.analyst_session(), duration_seconds=900)
        frozen = session.get_credentials().get_frozen_credentials()
        monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
        static = boto3.Session(
            aws_access_key_id=frozen.access_key, aws_secret_access_key=frozen.secret_key,
            aws_session_token=frozen.token, region_name=sb.region,
        )
        ddb = static.client("dynamodb")
        ddb.describe_table(TableName=sb.table)
        sb.advance_clock(1000)
        with pytest.raises(ClientError, match="ExpiredTokenException"):
            ddb.describe_table(TableName=sb.table)
        with pytest.raises(xn.ExpiredCredentialsError) as err:
            xn.read_scan(static, sb.table, key_schema=("customer_id", "order_ts"))
        assert "The security token included in the request is expired" in str(err.value)
        assert "xn.assume_role" in str(err.value)
        assert frozen.secret_key not in str(err.value) and frozen.token not in str(err.value)
