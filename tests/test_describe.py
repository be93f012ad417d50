"""xn.describe, TableInfo.cost and read_scan's max_cost= against the sandbox over HTTP.

The sandbox charges ConsumedCapacity from item sizes as DynamoDB does and
reports DescribeTable's sizes by the same rules, so estimates are checked
against what a read is really charged.
"""

from __future__ import annotations

import json
import math
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr

import xacct_nb as xn
from xacct_nb import _describe
from xacct_nb.sandbox import _demo_data as demo

pytestmark = pytest.mark.sandbox

TOLERANCE = 0.10


def close(estimate: float, charged: float) -> bool:
    return abs(estimate - charged) <= TOLERANCE * charged


@pytest.fixture(scope="module")
def admin(sandbox) -> boto3.Session:
    """Account B's administrator: may ask every describe call."""
    return sandbox.admin_session("B")


@pytest.fixture(scope="module")
def info(reader, sandbox) -> xn.TableInfo:
    return xn.describe(reader, sandbox.table)


def _scan_counter(session: boto3.Session) -> list[str]:
    """Count the Scan requests clients of ``session`` send from now on."""
    sent: list[str] = []
    session.events.register("before-call.dynamodb.Scan", lambda **kw: sent.append("Scan"))
    return sent


@pytest.fixture(scope="module")
def _counted_session(sandbox) -> tuple[boto3.Session, list[str]]:
    session = xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                             source_session=sandbox.analyst_session())
    return session, _scan_counter(session)


@pytest.fixture
def counted(_counted_session) -> tuple[boto3.Session, list[str]]:
    """A reader session of its own whose Scan requests are counted (from zero)."""
    session, sent = _counted_session
    sent.clear()
    return session, sent


# -- a throwaway table with every feature switched on ----------------------------------------


@pytest.fixture(scope="module")
def featured(sandbox, admin) -> Iterator[dict[str, Any]]:
    """Provisioned, IA class, PITR, TTL, stream, deletion protection, resource policy, GSI + LSI.

    The resource policy lets account A describe and scan it by ARN; the
    analyst's own (temporary) policy allows the same and DescribeTimeToLive.
    """
    ddb = admin.client("dynamodb")
    iam_a = sandbox.admin_session("A").client("iam")
    name = f"describe-{uuid.uuid4().hex[:10]}"
    arn = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "N"},
                              {"AttributeName": "g", "AttributeType": "S"},
                              {"AttributeName": "l", "AttributeType": "N"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
        GlobalSecondaryIndexes=[{
            "IndexName": "g-index", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 1}}],
        LocalSecondaryIndexes=[{
            "IndexName": "l-index",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "l", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        TableClass="STANDARD_INFREQUENT_ACCESS",
        DeletionProtectionEnabled=True,
    )["TableDescription"]["TableArn"]
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"})
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    ddb.put_resource_policy(ResourceArn=arn, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{sandbox.account_a}:root"},
            "Action": ["dynamodb:DescribeTable", "dynamodb:Scan"], "Resource": arn}]}))
    policy_name = f"Describe-{name}"
    iam_a.put_user_policy(UserName="analyst", PolicyName=policy_name, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Resource": arn,
            "Action": ["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:DescribeTimeToLive"]}]}))
    for i in range(120):  # sizes vary: 1-3 KB payloads, a few items outside the GSI
        item = {"pk": {"S": f"p{i % 7}"}, "sk": {"N": str(i)}, "l": {"N": str(i * 2)},
                "a": {"S": "a" * (i % 50)}, "payload": {"S": "z" * (1000 + 17 * i)}}
        if i % 10:
            item["g"] = {"S": f"g{i % 4}"}
        ddb.put_item(TableName=name, Item=item)
    try:
        yield {"name": name, "arn": arn}
    finally:
        iam_a.delete_user_policy(UserName="analyst", PolicyName=policy_name)
        ddb.update_table(TableName=name, DeletionProtectionEnabled=False)
        ddb.delete_table(TableName=name)


# -- describe: the facts -------------------------------------------------------------------


def test_describe_agrees_with_raw_describe_table(admin, sandbox, info):
    raw = admin.client("dynamodb").describe_table(TableName=sandbox.table)["Table"]
    assert info.name == raw["TableName"] == demo.ORDERS_TABLE
    assert info.arn == raw["TableArn"] == sandbox.table_arn
    assert (info.region, info.account) == (sandbox.region, sandbox.account_b)
    assert (info.partition_key, info.sort_key) == ("customer_id", "order_ts")
    assert dict(info.attribute_types) == {
        a["AttributeName"]: a["AttributeType"] for a in raw["AttributeDefinitions"]}
    assert info.item_count == raw["ItemCount"] == demo.ORDER_COUNT
    assert info.size_bytes == raw["TableSizeBytes"]
    assert info.billing_mode == raw["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert info.read_capacity is None and info.write_capacity is None  # on demand
    assert info.status == raw["TableStatus"] == "ACTIVE"
    assert info.created == raw["CreationDateTime"]
    assert info.deletion_protection is raw["DeletionProtectionEnabled"] is False
    assert info.stream_enabled is False and info.stream_view_type is None
    assert info.table_class == "STANDARD"
    raw_indexes = {ix["IndexName"]: (kind, ix) for kind, entry in (
        ("GSI", "GlobalSecondaryIndexes"), ("LSI", "LocalSecondaryIndexes"))
        for ix in raw.get(entry, [])}
    assert {ix.name for ix in info.indexes} == set(raw_indexes) == {
        demo.STATUS_INDEX, demo.ORDER_ID_INDEX}
    for ix in info.indexes:
        kind, rix = raw_indexes[ix.name]
        assert ix.kind == kind
        keys = {k["KeyType"]: k["AttributeName"] for k in rix["KeySchema"]}
        assert (ix.partition_key, ix.sort_key) == (keys["HASH"], keys.get("RANGE"))
        assert ix.projection == rix["Projection"]["ProjectionType"]
        assert ix.size_bytes == rix["IndexSizeBytes"] and ix.item_count == rix["ItemCount"]
        assert ix.arn == rix["IndexArn"] == f"{info.arn}/index/{ix.name}"
        assert ix.read_capacity is None  # on demand
    assert info.index(demo.STATUS_INDEX).kind == "GSI"


def test_owner_sees_every_fact(admin, sandbox):
    ddb = admin.client("dynamodb")
    full = xn.describe(admin, sandbox.table)
    assert full.unknown == {}
    pitr = ddb.describe_continuous_backups(TableName=sandbox.table)[
        "ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert full.point_in_time_recovery is (pitr["PointInTimeRecoveryStatus"] == "ENABLED")
    ttl = ddb.describe_time_to_live(TableName=sandbox.table)["TimeToLiveDescription"]
    assert (full.ttl_status, full.ttl_attribute) == (ttl["TimeToLiveStatus"],
                                                     ttl.get("AttributeName"))
    with pytest.raises(ddb.exceptions.PolicyNotFoundException):
        ddb.get_resource_policy(ResourceArn=sandbox.table_arn)
    assert full.resource_policy is False


def test_reader_role_gets_none_and_reasons(info):
    """The reader role may DescribeTable but not the other calls: unknown, never an error."""
    assert info.point_in_time_recovery is None
    assert info.ttl_status is None and info.ttl_attribute is None
    assert info.resource_policy is None
    assert set(info.unknown) == {"point_in_time_recovery", "ttl", "resource_policy"}
    for fact, action in (("point_in_time_recovery", "DescribeContinuousBackups"),
                         ("ttl", "DescribeTimeToLive"), ("resource_policy", "GetResourcePolicy")):
        assert info.unknown[fact].startswith("not allowed to ask")
        assert f"dynamodb:{action}" in info.unknown[fact]
    assert "unknown: not allowed to ask" in str(info)


def test_every_feature_of_a_throwaway_table(admin, featured):
    name, arn = featured["name"], featured["arn"]
    ddb = admin.client("dynamodb")
    raw = ddb.describe_table(TableName=name)["Table"]
    got = xn.describe(admin, name)
    assert got.unknown == {}
    assert got.arn == arn
    assert got.billing_mode == "PROVISIONED"
    assert (got.read_capacity, got.write_capacity) == (5, 3)
    assert got.table_class == "STANDARD_INFREQUENT_ACCESS"
    assert got.deletion_protection is True
    assert (got.stream_enabled, got.stream_view_type) == (True, "NEW_AND_OLD_IMAGES")
    assert got.point_in_time_recovery is True
    assert (got.ttl_status, got.ttl_attribute) == ("ENABLED", "expires")
    assert got.resource_policy is True
    gsi, lsi = got.index("g-index"), got.index("l-index")
    assert (gsi.kind, gsi.partition_key, gsi.sort_key) == ("GSI", "g", None)
    assert (gsi.projection, gsi.non_key_attributes) == ("INCLUDE", ("a", "b"))
    assert (gsi.read_capacity, gsi.write_capacity, gsi.status) == (2, 1, "ACTIVE")
    assert (lsi.kind, lsi.partition_key, lsi.sort_key, lsi.projection) == (
        "LSI", "pk", "l", "KEYS_ONLY")
    assert got.item_count == raw["ItemCount"] == 120
    assert gsi.item_count == 108  # items without "g" are not in the GSI
    # A projection is smaller than the items: the index sizes are the projected entries'.
    assert lsi.size_bytes < gsi.size_bytes < got.size_bytes == raw["TableSizeBytes"]
    text = str(got)
    for fragment in ("provisioned: 5 RCU, 3 WCU", "STANDARD_INFREQUENT_ACCESS",
                     "point-in-time recovery  enabled", "enabled on 'expires'",
                     "enabled (NEW_AND_OLD_IMAGES)", "deletion protection     on",
                     "resource policy         attached", "INCLUDE a, b", "2 RCU, 1 WCU"):
        assert fragment in text


def test_cross_account_by_arn_with_a_resource_policy(sandbox, featured):
    """Account A's analyst, by ARN: DescribeTable is granted, the rest only partly."""
    got = xn.describe(sandbox.analyst_session(), featured["arn"])
    assert got.name == featured["name"] and got.account == sandbox.account_b
    # Identity policy allows DescribeTimeToLive, but the table's policy does not: denied.
    assert set(got.unknown) == {"point_in_time_recovery", "ttl", "resource_policy"}
    assert got.ttl_status is None


def test_sizes_follow_the_capacity_rules(sandbox, admin):
    """DescribeTable's size is the sum of the item sizes DynamoDB's rules give."""
    from xacct_nb.sandbox import _dynamodb

    class _Value:  # what value_size takes: moto's DynamoType shape
        def __init__(self, av: dict[str, Any]) -> None:
            (self.type, value), = av.items()
            if self.type == "M":
                value = {k: _Value(v) for k, v in value.items()}
            elif self.type == "L":
                value = [_Value(v) for v in value]
            self.value = value

    expected = sum(
        sum(len(name.encode()) + _dynamodb.value_size(_Value(av)) for name, av in item.items())
        for item in demo.order_items()
    )
    raw = admin.client("dynamodb").describe_table(TableName=sandbox.table)["Table"]
    assert raw["TableSizeBytes"] == expected
    assert 2_000_000 < expected < 2_600_000  # ~2.3 MB, ~790 bytes an item
    for ix in raw["GlobalSecondaryIndexes"] + raw["LocalSecondaryIndexes"]:
        assert ix["ItemCount"] == demo.ORDER_COUNT  # every order has a status and an order_id
        assert ix["IndexSizeBytes"] == expected  # projection ALL


# -- estimates against what the sandbox charges ----------------------------------------------


@pytest.mark.parametrize("consistent", [False, True])
def test_full_scan_estimate_matches_the_charge(reader, sandbox, info, consistent):
    estimate = info.cost(consistent=consistent)
    df = xn.read_scan(reader, sandbox.table, consistent=consistent)
    charged = df.attrs["consumed_capacity"]
    assert close(estimate.rcu, charged), (estimate.rcu, charged)
    assert estimate.pages == df.attrs["pages"] == 3
    assert estimate.read_bytes == info.size_bytes
    assert estimate.dollars == pytest.approx(estimate.rcu * 0.125 / 1e6)
    assert estimate.seconds is None  # on demand


@pytest.mark.parametrize("segments", [4, 50])
def test_parallel_scan_estimate_matches_the_charge(reader, sandbox, info, segments):
    estimate = info.cost(segments=segments)
    df = xn.read_scan(reader, sandbox.table, segments=segments)
    assert close(estimate.rcu, df.attrs["consumed_capacity"]), (
        estimate.rcu, df.attrs["consumed_capacity"])
    assert estimate.rcu >= info.cost().rcu  # faster, never cheaper


def test_filtered_scan_reads_and_costs_the_same(reader, sandbox, info):
    estimate = info.cost(filtered=True)
    df = xn.read_scan(reader, sandbox.table, filter=Attr("status").eq("returned"))
    assert len(df) < demo.ORDER_COUNT
    assert close(estimate.rcu, df.attrs["consumed_capacity"])
    assert estimate.rcu == info.cost().rcu
    assert "A filter does not reduce what is read" in estimate.explanation


def test_gsi_scan_estimate_matches_the_charge(reader, sandbox, info):
    estimate = info.cost(index=demo.STATUS_INDEX)
    df = xn.read_scan(reader, sandbox.table, index=demo.STATUS_INDEX)
    assert close(estimate.rcu, df.attrs["consumed_capacity"])


@pytest.mark.parametrize("index", [None, "g-index", "l-index"])
def test_projected_index_estimates_match_the_charge(admin, featured, index):
    got = xn.describe(admin, featured["name"])
    for consistent in ([False] if index == "g-index" else [False, True]):
        estimate = got.cost(index=index, consistent=consistent)
        df = xn.read_scan(admin, featured["name"], index=index, consistent=consistent)
        charged = df.attrs["consumed_capacity"]
        assert close(estimate.rcu, charged), (index, consistent, estimate.rcu, charged)


def test_limit_bounds_the_estimate(reader, sandbox, info):
    estimate = info.cost(limit=40)
    df = xn.read_scan(reader, sandbox.table, limit=40)
    average = info.size_bytes / info.item_count
    assert estimate.read_bytes == math.ceil(40 * average)
    assert abs(estimate.rcu - df.attrs["consumed_capacity"]) <= 1
    # With a filter the limit bounds nothing: matching rows may be rare.
    assert info.cost(limit=40, filtered=True).rcu == info.cost().rcu


def test_query_estimate(reader, sandbox, info):
    df = xn.read_query(reader, sandbox.table, "C-0001")
    estimate = info.cost("query", items=df.attrs["scanned_count"])
    assert abs(estimate.rcu - df.attrs["consumed_capacity"]) <= 1
    strong = info.cost("query", items=df.attrs["scanned_count"], consistent=True)
    assert strong.rcu == 2 * estimate.rcu
    assert info.cost("query", items=10, item_bytes=4096, consistent=True).rcu == 10


def test_provisioned_table_says_how_long(admin, featured):
    got = xn.describe(admin, featured["name"])
    estimate = got.cost()
    assert estimate.seconds == pytest.approx(estimate.rcu / 5)
    assert "provisioned" in estimate.explanation and "5 RCU/s" in estimate.explanation
    gsi = got.cost(index="g-index")
    assert gsi.seconds == pytest.approx(gsi.rcu / 2)  # the GSI's own capacity
    assert "Standard-IA" in estimate.explanation
    assert estimate.price_per_million == pytest.approx(0.125 * _describe.INFREQUENT_ACCESS_FACTOR)


def test_prices_override_per_call_and_globally(info, monkeypatch):
    base = info.cost()
    assert base.region == "us-east-1" and base.price_per_million == 0.125
    assert _describe.PRICES_SOURCE in base.explanation and "override with prices=" in (
        base.explanation)
    one = info.cost(prices=1.0)
    assert one.dollars == pytest.approx(base.rcu / 1e6)
    mapped = info.cost(prices={"eu-west-1": 2.0}, region="eu-west-1")
    assert mapped.dollars == pytest.approx(base.rcu * 2.0 / 1e6)
    unknown = info.cost(region="xx-nowhere-9")
    assert unknown.price_per_million == 0.125
    assert "no price known for it: us-east-1's is used" in unknown.explanation
    assert xn.TableInfo.read_prices is _describe.READ_REQUEST_PRICES
    monkeypatch.setitem(xn.TableInfo.read_prices, "us-east-1", 0.5)
    assert info.cost().dollars == pytest.approx(base.rcu * 0.5 / 1e6)


# -- max_cost and the warning --------------------------------------------------------------


def test_max_cost_refuses_before_any_scan(counted, sandbox, info):
    session, sent = counted
    with pytest.raises(xn.CostLimitError) as caught:
        xn.read_scan(session, sandbox.table, max_cost=100)
    assert sent == []
    message = str(caught.value)
    assert "estimated 289.5 RCU" in message and "max_cost=100" in message
    assert "raise max_cost" in message and "read_query" in message and "limit=" in message
    assert caught.value.limit == 100 and caught.value.estimate.rcu == info.cost().rcu
    assert isinstance(caught.value, xn.XacctError)
    # A filter does not make a Scan cheaper: refused too.
    with pytest.raises(xn.CostLimitError):
        xn.read_scan(session, sandbox.table, filter=Attr("status").eq("returned"), max_cost=100)
    with pytest.raises(xn.CostLimitError):
        xn.read_scan(session, sandbox.table, consistent=True, max_cost=300)  # 579 RCU
    assert sent == []


def test_max_cost_allows_reads_below_it(counted, sandbox):
    session, sent = counted
    df = xn.read_scan(session, sandbox.table, max_cost=300)
    assert len(df) == demo.ORDER_COUNT and df.attrs["consumed_capacity"] <= 300
    small = xn.read_scan(session, sandbox.table, limit=40, max_cost=5)
    assert len(small) == 40 and small.attrs["consumed_capacity"] <= 5
    assert len(sent) >= 4


@pytest.mark.parametrize("bad", ["100", True, 0, -1, float("nan"), [100]])
def test_max_cost_must_be_a_positive_number(counted, sandbox, bad):
    session, sent = counted
    with pytest.raises(xn.InvalidArgumentError, match="max_cost must be a positive number"):
        xn.read_scan(session, sandbox.table, max_cost=bad)
    assert sent == []


def test_max_cost_without_describe_table_refuses(sandbox, featured):
    """A caller denied DescribeTable: the cost cannot be estimated, so max_cost refuses."""
    session = sandbox.analyst_session()
    iam_a = sandbox.admin_session("A").client("iam")
    deny = f"DenyDescribe-{uuid.uuid4().hex[:6]}"
    iam_a.put_user_policy(UserName="analyst", PolicyName=deny, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Deny", "Action": "dynamodb:DescribeTable", "Resource": "*"}]}))
    try:
        sent = _scan_counter(session)
        with pytest.raises(xn.CostLimitError, match="cannot be estimated: DescribeTable was not "
                                                    "allowed") as caught:
            xn.read_scan(session, featured["arn"], max_cost=1000)
        assert "max_cost cannot be honoured" in str(caught.value)
        assert caught.value.estimate is None
        with pytest.raises(xn.CostLimitError, match="cannot be estimated"):
            xn.read_scan(session, featured["arn"], key_schema=("pk", "sk"), max_cost=1000)
        assert sent == []
        # Without max_cost the Scan goes ahead (it needs no key names).
        assert len(xn.read_scan(session, featured["arn"])) == 120
    finally:
        iam_a.delete_user_policy(UserName="analyst", PolicyName=deny)


def test_large_scan_warning_has_the_estimate(reader, sandbox, monkeypatch):
    monkeypatch.setattr("xacct_nb._describe.LARGE_SCAN_BYTES", 1000)
    with pytest.warns(xn.LargeScanWarning) as record:
        xn.read_scan(reader, sandbox.table, limit=None)
    text = str(record[0].message)
    assert text.startswith("Scanning all of 'MyCrossAccountTable': 3,000 items")
    assert "Estimated cost: 289.5 RCU, USD 0.000036 on demand (us-east-1)" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xn.read_scan(reader, sandbox.table, limit=5)  # not a full Scan: no warning


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("table", [123, None, "a", "bad name!", "arn:aws:s3:::bucket"])
def test_describe_bad_table(reader, table):
    with pytest.raises(xn.InvalidArgumentError):
        xn.describe(reader, table)


@pytest.mark.parametrize("session", [None, "default", object()])
def test_describe_bad_session(sandbox, session):
    with pytest.raises(xn.InvalidArgumentError, match="session must be a boto3.Session"):
        xn.describe(session, sandbox.table)


def test_describe_unknown_table(reader, admin):
    with pytest.raises(xn.XacctError) as caught:  # the reader may not even ask
        xn.describe(reader, "NoSuchTable")
    assert isinstance(caught.value, (xn.AccessDeniedError, xn.TableNotFoundError))
    with pytest.raises(xn.TableNotFoundError, match="Check the table name"):
        xn.describe(admin, "NoSuchTable")


@pytest.mark.parametrize("kwargs, match", [
    ({"kind": "get"}, "kind must be one of"),
    ({"kind": "query"}, "pass items="),
    ({"items": 5}, "items= is for kind='query'"),
    ({"index": "nope"}, "has no index 'nope'"),
    ({"index": demo.STATUS_INDEX, "consistent": True}, "not possible on global secondary"),
    ({"consistent": "yes"}, "consistent must be True or False"),
    ({"limit": 0}, "limit must be a positive integer"),
    ({"prices": "cheap"}, "prices must be a positive number"),
    ({"prices": {"us-east-1": -1}}, "must be a positive number"),
    ({"item_bytes": -3, "kind": "query", "items": 1}, "item_bytes must be a positive number"),
])
def test_cost_bad_arguments(info, kwargs, match):
    with pytest.raises(xn.InvalidArgumentError, match=match):
        info.cost(**kwargs)


# -- display -------------------------------------------------------------------------------


def test_text_and_html(info):
    text = str(info)
    assert "keys" in text and "customer_id (S, partition), order_ts (S, sort)" in text
    assert "3,000 items" in text and "on demand (PAY_PER_REQUEST)" in text
    assert "status-index (GSI): status (S) / order_ts (S), ALL, 3,000 items" in text
    assert repr(info).startswith("<TableInfo\n")
    page = info._repr_html_()
    assert page.count("<table>") == 2 and "status-index" in page
    for secret in ("AccessKeyId", "SecretAccessKey", "SessionToken", "ASIA", "AKIA"):
        assert secret not in text and secret not in page


def test_html_escapes_everything():
    desc = {
        "TableName": "t<script>alert(1)</script>",
        "TableArn": "arn:aws:dynamodb:us-east-1:222222222222:table/x&y",
        "KeySchema": [{"AttributeName": "<b>pk</b>", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "<b>pk</b>", "AttributeType": "S"}],
        "TableStatus": "ACTIVE", "ItemCount": 1, "TableSizeBytes": 10,
        "GlobalSecondaryIndexes": [{
            "IndexName": "i\"><img src=x onerror=alert(1)>",
            "KeySchema": [{"AttributeName": "<i>g</i>", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["<u>n</u>"]}}],
    }
    got = xn.TableInfo.from_description(desc, unknown={"ttl": "<denied & why>"})
    page = got._repr_html_()
    for raw in ("<script>", "<b>", "<img", "<i>", "<u>", "<denied", "x&y"):
        assert raw not in page
    for escaped in ("&lt;script&gt;", "&lt;b&gt;pk&lt;/b&gt;", "&lt;img src=x", "&quot;",
                    "&lt;u&gt;n&lt;/u&gt;", "&lt;denied &amp; why&gt;", "x&amp;y"):
        assert escaped in page
    assert got.billing_mode == "PROVISIONED"  # no BillingModeSummary: an old provisioned table
