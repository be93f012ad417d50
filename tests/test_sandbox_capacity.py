"""The sandbox enforces the read capacity of PROVISIONED tables as DynamoDB does.

Over HTTP with plain boto3 (botocore's retries off, so every refusal is
seen): a token bucket per table and per GSI, filled at ReadCapacityUnits per
second, keeping at most 300 s of unused capacity, charged with each read's
ConsumedCapacity; an empty bucket refuses with
``ProvisionedThroughputExceededException``. Time is moved with the sandbox's
clock (``Sandbox.advance_clock``); nothing here is timed. Tables with a
capacity of 1 RCU keep the real seconds that pass during a test negligible.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb.sandbox import _demo_data as demo
from xacct_nb.sandbox._throughput import (
    BURST_SECONDS,
    INITIAL_SECONDS,
    THROTTLED_MESSAGE,
    Bucket,
)

pytestmark = pytest.mark.sandbox

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})  # one attempt
THROTTLED = "ProvisionedThroughputExceededException"
#: Items of ~3 KB: a strongly consistent Scan of 300 of them is ~220 RCU in one page.
ITEM_BYTES = 3000
ITEMS = 300
#: Real seconds a test may take between two moves of the clock without changing its outcome.
SLACK = 40.0


# -- the bucket on its own (explicit times) --------------------------------------------------
def test_the_bucket_refills_at_its_rate_up_to_300_seconds_and_goes_into_debt():
    bucket = Bucket(tokens=5.0, updated=0.0)
    assert bucket.level(rate=5.0, now=2.0) == 15.0
    assert bucket.charge(40.0, rate=5.0, now=2.0) == -25.0  # admitted reads are served in full
    assert bucket.level(rate=5.0, now=6.0) == -5.0
    assert bucket.level(rate=5.0, now=7.0) == 0.0
    assert bucket.level(rate=5.0, now=10_000.0) == 5.0 * BURST_SECONDS  # burst capped
    assert bucket.level(rate=1.0, now=10_000.0) == BURST_SECONDS  # a lower capacity keeps less
    assert bucket.level(rate=1.0, now=9_000.0) == BURST_SECONDS  # a late clock reading: no change
    assert INITIAL_SECONDS == 1.0


# -- the sandbox ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sb() -> Iterator[xn.sandbox.Sandbox]:
    """A sandbox of this module's own: its clock is moved."""
    with xn.sandbox.start() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def ddb(sb):
    return sb.admin_session("B").client("dynamodb", config=NO_RETRIES)


def _make_table(ddb: Any, *, rcu: int = 1, gsi_rcu: int = 1) -> str:
    """A PROVISIONED table (and GSI ``g-index``) of 300 items of ~3 KB, all in GSI partition 'x'."""
    name = f"Capacity-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": rcu, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[{
            "IndexName": "g-index", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": {"ReadCapacityUnits": gsi_rcu, "WriteCapacityUnits": 5},
        }],
    )
    for start in range(0, ITEMS, 25):
        ddb.batch_write_item(RequestItems={name: [
            {"PutRequest": {"Item": {"pk": {"S": f"k{i:04d}"}, "g": {"S": "x"},
                                     "pad": {"S": "p" * ITEM_BYTES}}}}
            for i in range(start, min(start + 25, ITEMS))
        ]})
    return name


def _scan(ddb: Any, table: str, **kwargs: Any) -> float:
    """Send one Scan; return its ConsumedCapacity (raises ClientError when refused)."""
    answer = ddb.scan(TableName=table, ReturnConsumedCapacity="TOTAL", **kwargs)
    return float(answer["ConsumedCapacity"]["CapacityUnits"])


def _query_gsi(ddb: Any, table: str) -> float:
    answer = ddb.query(TableName=table, IndexName="g-index", KeyConditionExpression="g = :g",
                       ExpressionAttributeValues={":g": {"S": "x"}},
                       ReturnConsumedCapacity="INDEXES")
    return float(answer["ConsumedCapacity"]["CapacityUnits"])


def _refused(call: Any) -> ClientError:
    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["Error"]["Code"] == THROTTLED, err.value.response["Error"]
    return err.value


def test_describe_table_shows_the_provisioned_throughput(sb, ddb):
    assert sb.provisioned_table == demo.PROVISIONED_TABLE == "MyProvisionedTable"
    table = ddb.describe_table(TableName=sb.provisioned_table)["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    throughput = table["ProvisionedThroughput"]
    assert (throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]) == (100, 25)
    (gsi,) = table["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == sb.index
    assert (gsi["ProvisionedThroughput"]["ReadCapacityUnits"],
            gsi["ProvisionedThroughput"]["WriteCapacityUnits"]) == (50, 25)
    assert table["ItemCount"] == demo.ORDER_COUNT
    orders = ddb.describe_table(TableName=sb.table)["Table"]
    assert orders["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TableSizeBytes"] == orders["TableSizeBytes"]  # the same orders
    assert sb.provisioned_table in sb.instructions()


def test_the_reader_role_can_read_the_provisioned_table(sb):
    sb.advance_clock(BURST_SECONDS)  # whatever ran before, the buckets hold a burst
    policies = sb.role_policies(sb.reader_role_arn)
    resources = policies["ReadMyCrossAccountTable"]["Statement"][0]["Resource"]
    arn = xn.policies.table_arn(sb.region, sb.account_b, sb.provisioned_table)
    assert arn in resources and f"{arn}/index/*" in resources
    credentials = sb.analyst_session().client("sts").assume_role(
        RoleArn=sb.reader_role_arn, RoleSessionName="capacity", ExternalId=sb.external_id,
        DurationSeconds=43200)["Credentials"]
    reader = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"], region_name=sb.region,
    ).client("dynamodb", endpoint_url=sb.endpoint_url, config=NO_RETRIES)
    name = sb.provisioned_table
    key = {"customer_id": {"S": "C-0001"}}
    orders = reader.query(TableName=name, KeyConditionExpression="customer_id = :c",
                          ExpressionAttributeValues={":c": key["customer_id"]})["Items"]
    assert orders
    first = {"customer_id": orders[0]["customer_id"], "order_ts": orders[0]["order_ts"]}
    assert reader.get_item(TableName=name, Key=first)["Item"] == orders[0]
    assert reader.batch_get_item(RequestItems={name: {"Keys": [first]}})["Responses"][name]
    assert len(reader.scan(TableName=name, Limit=5)["Items"]) == 5
    assert reader.query(TableName=name, IndexName=sb.index,
                        KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
                        ExpressionAttributeValues={":s": {"S": "returned"}})["Items"]
    assert reader.execute_statement(
        Statement=f'SELECT * FROM "{name}" WHERE customer_id = ?',
        Parameters=[key["customer_id"]])["Items"]
    with pytest.raises(ClientError, match="AccessDenied"):
        reader.put_item(TableName=name, Item={**first, "note": {"S": "no"}})


def test_consumed_capacity_of_admitted_reads_is_unchanged(sb, ddb):
    sb.advance_clock(BURST_SECONDS)
    requests = [
        ("query", {"KeyConditionExpression": "customer_id = :c",
                   "ExpressionAttributeValues": {":c": {"S": "C-0007"}}}),
        ("query", {"IndexName": sb.index, "KeyConditionExpression": "#s = :s",
                   "ExpressionAttributeNames": {"#s": "status"},
                   "ExpressionAttributeValues": {":s": {"S": "cancelled"}}}),
        ("query", {"IndexName": demo.ORDER_ID_INDEX, "ConsistentRead": True,
                   "KeyConditionExpression": "customer_id = :c",
                   "ExpressionAttributeValues": {":c": {"S": "C-0003"}}}),
        ("scan", {"Limit": 200, "ConsistentRead": True}),
        ("scan", {"Segment": 3, "TotalSegments": 8}),
    ]
    for operation, kwargs in requests:
        on_demand = getattr(ddb, operation)(TableName=sb.table, ReturnConsumedCapacity="INDEXES",
                                            **kwargs)["ConsumedCapacity"]
        provisioned = getattr(ddb, operation)(TableName=sb.provisioned_table,
                                              ReturnConsumedCapacity="INDEXES",
                                              **kwargs)["ConsumedCapacity"]
        assert provisioned == {**on_demand, "TableName": sb.provisioned_table}, (operation, kwargs)
    key = ddb.scan(TableName=sb.table, Limit=1)["Items"][0]
    key = {"customer_id": key["customer_id"], "order_ts": key["order_ts"]}
    for name in (sb.table, sb.provisioned_table):
        assert ddb.get_item(TableName=name, Key=key, ReturnConsumedCapacity="TOTAL")[
            "ConsumedCapacity"] == {"TableName": name, "CapacityUnits": 0.5}
    statement = 'SELECT * FROM "{}" WHERE customer_id = ?'
    on_demand, provisioned = (
        ddb.execute_statement(Statement=statement.format(name), Parameters=[key["customer_id"]],
                              ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
        for name in (sb.table, sb.provisioned_table))
    assert provisioned == {**on_demand, "TableName": sb.provisioned_table}


def test_reads_beyond_the_bucket_are_refused_until_it_refills_at_its_rate(sb, ddb):
    table = _make_table(ddb)
    cost = _scan(ddb, table, ConsistentRead=True)  # admitted: the bucket held ~1 RCU
    assert cost > 3 * SLACK
    err = _refused(lambda: _scan(ddb, table))
    assert err.response["Error"]["Message"] == THROTTLED_MESSAGE
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err.response["ResponseMetadata"].get("RetryAttempts", 0) == 0
    key = {"pk": {"S": "k0001"}}
    _refused(lambda: ddb.get_item(TableName=table, Key=key))
    _refused(lambda: ddb.query(TableName=table, KeyConditionExpression="pk = :k",
                               ExpressionAttributeValues={":k": key["pk"]}))
    _refused(lambda: ddb.batch_get_item(RequestItems={table: {"Keys": [key]}}))
    _refused(lambda: ddb.execute_statement(Statement=f'SELECT * FROM "{table}" WHERE pk = ?',
                                           Parameters=[key["pk"]]))
    _refused(lambda: ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table,
                                                                    "Key": key}}]))
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})  # writes are not throttled
    # 1 RCU per second: the debt (cost - ~1) is paid back after about `cost` seconds.
    sb.advance_clock(cost - SLACK)
    _refused(lambda: ddb.get_item(TableName=table, Key=key))
    sb.advance_clock(2 * SLACK)
    assert ddb.get_item(TableName=table, Key=key)["Item"]["pk"] == key["pk"]


def test_burst_capacity_is_kept_for_300_seconds_at_most(sb, ddb):
    table = _make_table(ddb)
    sb.advance_clock(3 * BURST_SECONDS)  # 900 s unused at 1 RCU: 300 kept
    admitted, page = 0.0, 0.0
    while True:
        try:
            page = _scan(ddb, table, Limit=20)  # 20 items of ~3 KB: 7.5 RCU
        except ClientError as err:
            assert err.response["Error"]["Code"] == THROTTLED
            break
        admitted += page
        assert admitted < 10 * BURST_SECONDS  # (not kept without bound)
    # Refused once the bucket was empty: what was admitted is the burst, give or take
    # the last page and the real seconds the loop took.
    assert BURST_SECONDS <= admitted < BURST_SECONDS + page + SLACK


def test_a_global_secondary_index_has_a_bucket_and_a_rate_of_its_own(sb, ddb):
    table = _make_table(ddb, rcu=1, gsi_rcu=2)
    table_cost = _scan(ddb, table, ConsistentRead=True)
    _refused(lambda: _scan(ddb, table))
    gsi_cost = _query_gsi(ddb, table)  # the table's bucket is empty, the index's is not
    assert gsi_cost > SLACK
    _refused(lambda: _query_gsi(ddb, table))
    _refused(lambda: _scan(ddb, table, IndexName="g-index"))
    wait = gsi_cost / 2 + SLACK / 2  # the index's debt is paid at 2 RCU/s...
    assert wait + SLACK < table_cost
    sb.advance_clock(wait)
    assert _query_gsi(ddb, table) == gsi_cost
    _refused(lambda: _scan(ddb, table))  # ...the table's, at 1 RCU/s, is not


def test_batch_get_item_returns_the_throttled_tables_keys_unprocessed(sb, ddb):
    table = _make_table(ddb)
    _scan(ddb, table, ConsistentRead=True)
    mine = {"Keys": [{"pk": {"S": "k0002"}}], "ConsistentRead": True}
    order = ddb.scan(TableName=sb.table, Limit=1)["Items"][0]
    theirs = {"Keys": [{"customer_id": order["customer_id"], "order_ts": order["order_ts"]}]}
    answer = ddb.batch_get_item(RequestItems={table: mine, sb.table: theirs},
                                ReturnConsumedCapacity="TOTAL")
    assert answer["Responses"][sb.table] == [order]
    assert table not in answer["Responses"]
    assert answer["UnprocessedKeys"] == {table: mine}
    assert [c["TableName"] for c in answer["ConsumedCapacity"]] == [sb.table]
    _refused(lambda: ddb.batch_get_item(RequestItems={table: mine}))  # all throttled


def test_an_on_demand_table_is_never_throttled(sb, ddb):
    consumed = sum(_scan(ddb, sb.table, ConsistentRead=True) for _ in range(12))
    assert consumed > 3000
    errors = _parallel_scan(ddb, sb.table)
    assert errors == []


def _parallel_scan(ddb: Any, table: str, segments: int = 8) -> list[str]:
    """Send the first page of every segment at once (consistent reads); return the error codes."""
    errors: list[str] = []
    barrier = threading.Barrier(segments)

    def one(segment: int) -> None:
        barrier.wait()
        try:
            ddb.scan(TableName=table, Segment=segment, TotalSegments=segments, ConsistentRead=True)
        except ClientError as err:
            errors.append(err.response["Error"]["Code"])

    threads = [threading.Thread(target=one, args=(s,)) for s in range(segments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_spend_burst_makes_a_parallel_scan_of_the_demo_table_throttled(sb, ddb):
    sb.advance_clock(BURST_SECONDS)
    assert _parallel_scan(ddb, sb.provisioned_table) == []  # within its burst
    assert sb.spend_burst(sb.provisioned_table) == [sb.provisioned_table]
    # One second of capacity (100 RCU) against ~580 RCU asked at once.
    errors = _parallel_scan(ddb, sb.provisioned_table)
    assert errors and set(errors) == {THROTTLED} and len(errors) < 8
    assert sb.provisioned_table in sb.spend_burst()  # every provisioned table
    with pytest.raises(xn.InvalidArgumentError, match="not a provisioned table"):
        sb.spend_burst(sb.table)
    with pytest.raises(xn.InvalidArgumentError, match="not a provisioned table"):
        sb.spend_burst("NoSuchTable")
