"""The sandbox's DynamoDB answers as DynamoDB does: plain boto3 over HTTP against the sandbox.

Select=COUNT, filters across types, key types, list indexes in projections,
ConsumedCapacity and 1 MB pages. Writes go only to a table this module
creates (and deletes) with account B's admin session.
"""

from __future__ import annotations

import math
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.conditions import Attr
from botocore.config import Config
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb.sandbox import _demo_data as demo

pytestmark = pytest.mark.sandbox

GSI, LSI = "g-index", "l-index"


# -- DynamoDB's item-size rules, written down independently of the sandbox --------------------
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
# numbers: 1 + ceil(integer digits / 2) + ceil(fraction digits / 2) (+1 if negative), zeros
# trimmed, as measured on DynamoDB (paritysuite/dynamodb-conformance, numberByteSize.test.ts).
def number_bytes(text: str) -> int:
    sign, digits, exponent = Decimal(text).normalize().as_tuple()
    if digits == (0,):
        return 1
    fraction = min(len(digits), -exponent) if exponent < 0 else 0
    whole = len(digits) - fraction
    return 1 + math.ceil(whole / 2) + math.ceil(fraction / 2) + sign


def value_bytes(value: dict[str, Any]) -> int:
    (kind, raw), = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return number_bytes(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(number_bytes(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(1 + value_bytes(v) for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_bytes(v) for k, v in raw.items())
    raise AssertionError(kind)


def item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + value_bytes(value) for name, value in item.items())


def rcu(size: int, consistent: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def wcu(size: int) -> float:
    return float(max(1, math.ceil(size / 1024)))


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ddb(sandbox: xn.sandbox.Sandbox) -> Any:
    return sandbox.admin_session("B").client("dynamodb")


@pytest.fixture(scope="module")
def table(ddb: Any) -> Iterator[str]:
    """A table of our own: key pk/sk, a GSI on g (+sk) and an LSI on l."""
    name = f"xacct-test-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                              for a in ("pk", "sk", "g", "l")],
        GlobalSecondaryIndexes=[{
            "IndexName": GSI, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                          {"AttributeName": "sk", "KeyType": "RANGE"}]}],
        LocalSecondaryIndexes=[{
            "IndexName": LSI, "Projection": {"ProjectionType": "ALL"},
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                          {"AttributeName": "l", "KeyType": "RANGE"}]}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    ddb.delete_table(TableName=name)


def _error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def _padded(pk: str, sk: str, total: int, **extra: dict[str, Any]) -> dict[str, Any]:
    """An item of exactly ``total`` bytes by DynamoDB's rules (padding in attribute 'p')."""
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **extra, "p": {"S": ""}}
    item["p"] = {"S": "x" * (total - item_bytes(item))}
    assert item_bytes(item) == total
    return item


def test_patching_is_idempotent() -> None:
    # In a child process: patching moto here would change it for other in-process tests.
    program = (
        "from moto.dynamodb.responses import DynamoHandler as H\n"
        "from xacct_nb.sandbox._dynamodb import patch_moto_dynamodb as patch\n"
        "patch(); first = (H.query, H.scan, H.get_item, H.call_action)\n"
        "patch(); print(first == (H.query, H.scan, H.get_item, H.call_action))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.strip() == "True", done.stderr


# -- 1. Select=COUNT ---------------------------------------------------------------------------
def _count_items(ddb: Any, table: str) -> int:
    count, kwargs = 0, {}
    while True:
        page = ddb.scan(TableName=table, ProjectionExpression="customer_id", **kwargs)
        count += len(page["Items"])
        if "LastEvaluatedKey" not in page:
            return count
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}



def test_scan_select_count_returns_only_counts_and_pages(ddb: Any, sandbox: Any) -> None:
    total, pages, kwargs = 0, 0, {}
    while True:
        page = ddb.scan(TableName=sandbox.table, Select="COUNT", Limit=700, **kwargs)
        assert "Items" not in page
        assert page["Count"] == page["ScannedCount"] <= 700
        total += page["Count"]
        pages += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    stored = _count_items(ddb, sandbox.table)  # the demo's 3,000, unless a test wrote more
    assert total == stored >= demo.ORDER_COUNT
    assert pages == math.ceil(stored / 700)


def test_query_select_count_matches_the_items_a_query_returns(ddb: Any, sandbox: Any) -> None:
    condition = {"KeyConditionExpression": "customer_id = :c",
                 "ExpressionAttributeValues": {":c": {"S": demo.customer_id(7)}}}
    counted = ddb.query(TableName=sandbox.table, Select="COUNT", **condition)
    items = ddb.query(TableName=sandbox.table, **condition)["Items"]
    assert "Items" not in counted
    assert counted["Count"] == counted["ScannedCount"] == len(items) > 0


def _pages(call: Any, **params: Any) -> list[dict[str, Any]]:
    pages, kwargs = [], {}
    while True:
        page = call(**params, **kwargs)
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_query_pages_forward_backward_and_on_indexes(ddb: Any, sandbox: Any) -> None:
    by_customer = {"TableName": sandbox.table, "KeyConditionExpression": "customer_id = :c",
                   "ExpressionAttributeValues": {":c": {"S": demo.customer_id(9)}}}
    whole = ddb.query(**by_customer)["Items"]
    order = [i["order_ts"]["S"] for i in whole]
    assert order == sorted(order) and len(order) > 4
    forward = [i["order_ts"]["S"] for p in _pages(ddb.query, Limit=3, **by_customer)
               for i in p["Items"]]
    backward = [i["order_ts"]["S"] for p in _pages(ddb.query, Limit=3, ScanIndexForward=False,
                                                  **by_customer) for i in p["Items"]]
    assert forward == order and backward == order[::-1]
    ranged = ddb.query(**{**by_customer, "KeyConditionExpression":
                          "customer_id = :c AND order_ts BETWEEN :a AND :b",
                          "ExpressionAttributeValues": {**by_customer["ExpressionAttributeValues"],
                                                        ":a": {"S": order[1]}, ":b": {"S": order[3]}}})
    assert [i["order_ts"]["S"] for i in ranged["Items"]] == order[1:4]
    assert ranged["ScannedCount"] == 3  # the key condition decides what is read

    on_gsi = {"TableName": sandbox.table, "IndexName": sandbox.index,
              "KeyConditionExpression": "#s = :s", "ExpressionAttributeNames": {"#s": "status"},
              "ExpressionAttributeValues": {":s": {"S": "returned"}}}
    paged = [i for p in _pages(ddb.query, Limit=25, **on_gsi) for i in p["Items"]]
    everything = [i for p in _pages(ddb.scan, TableName=sandbox.table) for i in p["Items"]]
    returned = [i for i in everything if i["status"]["S"] == "returned"]
    assert len(paged) == len(returned) > 25
    assert [i["order_ts"]["S"] for i in paged] == sorted(i["order_ts"]["S"] for i in returned)

    on_lsi = {**by_customer, "IndexName": demo.ORDER_ID_INDEX}
    by_order_id = [i["order_id"]["S"] for p in _pages(ddb.query, Limit=2, **on_lsi)
                   for i in p["Items"]]
    assert by_order_id == sorted(i["order_id"]["S"] for i in whole)


def test_legacy_parameters_still_work(ddb: Any, sandbox: Any) -> None:
    customer = {"S": demo.customer_id(9)}
    modern = ddb.query(TableName=sandbox.table, KeyConditionExpression="customer_id = :c",
                       FilterExpression="express = :t",
                       ExpressionAttributeValues={":c": customer, ":t": {"BOOL": True}})
    legacy = ddb.query(
        TableName=sandbox.table, AttributesToGet=["order_id", "express"],
        KeyConditions={"customer_id": {"ComparisonOperator": "EQ", "AttributeValueList": [customer]}},
        QueryFilter={"express": {"ComparisonOperator": "EQ", "AttributeValueList": [{"BOOL": True}]}})
    assert legacy["Count"] == modern["Count"] and legacy["ScannedCount"] == modern["ScannedCount"]
    assert [set(i) for i in legacy["Items"]] == [{"order_id", "express"}] * legacy["Count"]
    scanned = [i for p in _pages(ddb.scan, TableName=sandbox.table, ScanFilter={
        "gift_message": {"ComparisonOperator": "NOT_NULL"}}) for i in p["Items"]]
    assert scanned and all("gift_message" in i for i in scanned)


# -- 2. filters across types, and no HTML 500 pages ----------------------------------------------
def test_filter_comparing_a_number_with_a_string_matches_nothing(sandbox: Any) -> None:
    orders = sandbox.admin_session("B").resource("dynamodb").Table(sandbox.table)
    page = orders.scan(FilterExpression=Attr("total").gt("abc"), Limit=50)
    assert page["Items"] == []
    assert page["Count"] == 0 and page["ScannedCount"] == 50
    page = orders.scan(FilterExpression=Attr("total").gt("abc") | Attr("total").gt(0), Limit=50)
    assert page["Count"] == 50  # the other branch still decides


def test_a_request_moto_cannot_handle_is_dynamodb_json_not_html(sandbox: Any, table: str) -> None:
    # A malformed map value ({"M": "x"}), which no SDK would send: the body is rewritten
    # just before signing. moto raises on it; the client still gets a DynamoDB JSON error.
    import json

    client = sandbox.admin_session("B").client(
        "dynamodb", config=Config(retries={"max_attempts": 1}))

    def malform(request: Any, **_: Any) -> None:
        body = json.loads(request.data)
        body["Item"]["m"] = {"M": "x"}
        request.data = json.dumps(body).encode()

    client.meta.events.register("before-sign.dynamodb.PutItem", malform)
    with pytest.raises(ClientError) as info:
        client.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "m": {"S": "-"}})
    response = info.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] in (400, 500)
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"].startswith(
        "application/x-amz-json")
    assert response["Error"]["Code"] in (
        "InternalServerError", "SerializationException", "ValidationException")


def test_unexpected_moto_exceptions_become_internal_server_error() -> None:
    from xacct_nb.sandbox._dynamodb import INTERNAL_ERROR_BODY, _safe_call_action

    def broken(self: Any) -> Any:
        raise KeyError("something moto did not expect")

    status, headers, body = _safe_call_action(broken)(object())
    assert status == 500
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert body == INTERNAL_ERROR_BODY
    assert '"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError"' in body


# -- 3. key values of the wrong type -------------------------------------------------------------
WRONG = {"customer_id": {"N": "1"}, "order_ts": {"S": "2026-01-01T00:00:00Z"}}
SCHEMA = "The provided key element does not match the schema"


@pytest.mark.parametrize(("operation", "params", "message"), [
    ("get_item", {"Key": WRONG}, SCHEMA),
    ("delete_item", {"Key": WRONG}, SCHEMA),
    ("update_item", {"Key": WRONG, "UpdateExpression": "SET a = :a",
                     "ExpressionAttributeValues": {":a": {"S": "x"}}}, SCHEMA),
    ("put_item", {"Item": WRONG},
     "One or more parameter values were invalid: Type mismatch for key customer_id "
     "expected: S actual: N"),
    ("query", {"KeyConditionExpression": "customer_id = :c",
               "ExpressionAttributeValues": {":c": {"N": "1"}}},
     "One or more parameter values were invalid: Condition parameter type does not match "
     "schema type"),
])
def test_wrong_key_type_is_a_validation_error(
    ddb: Any, sandbox: Any, operation: str, params: dict[str, Any], message: str
) -> None:
    code, text = _error(getattr(ddb, operation), TableName=sandbox.table, **params)
    assert (code, text) == ("ValidationException", message)


def test_wrong_key_type_in_batches_is_a_validation_error(ddb: Any, sandbox: Any) -> None:
    assert _error(ddb.batch_get_item, RequestItems={sandbox.table: {"Keys": [WRONG]}}) == (
        "ValidationException", SCHEMA)
    assert _error(ddb.batch_write_item,
                  RequestItems={sandbox.table: [{"PutRequest": {"Item": WRONG}}]}) == (
        "ValidationException", SCHEMA)


# -- 4. list indexes in ProjectionExpression -----------------------------------------------------
def test_projection_with_list_indexes(ddb: Any, sandbox: Any) -> None:
    condition = {"KeyConditionExpression": "customer_id = :c",
                 "ExpressionAttributeValues": {":c": {"S": demo.customer_id(3)}}}
    full = ddb.query(TableName=sandbox.table, **condition)["Items"]
    projected = ddb.query(
        TableName=sandbox.table, ProjectionExpression="#l[0].sku, #l[1], order_id",
        ExpressionAttributeNames={"#l": "lines"}, **condition)["Items"]
    assert len(projected) == len(full) > 0
    for whole, part in zip(full, projected, strict=True):
        lines = whole["lines"]["L"]
        expected = [{"M": {"sku": lines[0]["M"]["sku"]}}] + lines[1:2]
        assert part == {"order_id": whole["order_id"], "lines": {"L": expected}}


def test_projection_indexes_come_back_in_order_and_compacted(ddb: Any, table: str) -> None:
    key = {"pk": {"S": "proj"}, "sk": {"S": "1"}}
    ddb.put_item(TableName=table, Item={**key, "a": {"L": [{"S": c} for c in "abcde"]},
                                        "m": {"M": {"x": {"L": [{"N": "1"}, {"N": "2"}]}}}})
    got = ddb.get_item(TableName=table, Key=key, ProjectionExpression="a[3], a[1], a[9], m.x[1]")
    assert got["Item"] == {"a": {"L": [{"S": "b"}, {"S": "d"}]},
                           "m": {"M": {"x": {"L": [{"N": "2"}]}}}}


# -- 6. ConsumedCapacity and 1 MB pages ----------------------------------------------------------
def test_get_item_capacity_follows_the_item_size(ddb: Any, table: str) -> None:
    item = _padded("get", "1", 9000)  # 3 x 4 KB
    ddb.put_item(TableName=table, Item=item)
    key = {"pk": item["pk"], "sk": item["sk"]}
    strong = ddb.get_item(TableName=table, Key=key, ConsistentRead=True,
                          ReturnConsumedCapacity="TOTAL")
    eventual = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    missing = ddb.get_item(TableName=table, Key={"pk": {"S": "none"}, "sk": {"S": "0"}},
                           ReturnConsumedCapacity="TOTAL")
    silent = ddb.get_item(TableName=table, Key=key, ReturnConsumedCapacity="NONE")
    assert strong["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 3.0}
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == 1.5
    assert missing["ConsumedCapacity"]["CapacityUnits"] == 0.5
    assert "ConsumedCapacity" not in silent


@pytest.mark.parametrize("number", ["123456", "3.14159", "-7", "1E125", "0.000123", "1200"])
def test_item_size_counts_numbers_by_significant_digits(ddb: Any, table: str, number: str) -> None:
    # An item of exactly 1024 bytes costs 1 WCU, one byte more costs 2: the boundary shows
    # the size the sandbox computes, to the byte.
    at = _padded("num", "at", 1024, n={"N": number})
    over = _padded("num", "over", 1025, n={"N": number})
    for item, expected in ((at, 1.0), (over, 2.0)):
        out = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
        assert out["ConsumedCapacity"]["CapacityUnits"] == expected


def test_items_up_to_400_kb_are_stored_and_larger_ones_refused(ddb: Any, table: str) -> None:
    # 409,600 bytes by DynamoDB's count is the largest item DynamoDB stores
    # (paritysuite/dynamodb-conformance, tests/tier3/limits/numberByteSize.test.ts).
    at = _padded("limit", "at", 409_600, n={"N": "3.14159"}, l={"L": [{"S": "x"}]})
    ddb.put_item(TableName=table, Item=at)
    over = _padded("limit", "over", 409_601, n={"N": "3.14159"}, l={"L": [{"S": "x"}]})
    assert _error(ddb.put_item, TableName=table, Item=over) == (
        "ValidationException", "Item size has exceeded the maximum allowed size")


def test_item_size_counts_list_and_map_overhead(ddb: Any, table: str) -> None:
    nested = {"L": [{"S": "ab"}, {"M": {"k": {"BOOL": True}, "z": {"NULL": True}}}]}
    assert value_bytes(nested) == 3 + (1 + 2) + 1 + (3 + (1 + 1 + 1) + (1 + 1 + 1))
    for total, expected in ((1024, 1.0), (1025, 2.0)):
        item = _padded("nest", str(total), total, nested=nested, b={"B": b"\x00" * 30})
        out = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="TOTAL")
        assert out["ConsumedCapacity"]["CapacityUnits"] == expected


def test_write_capacity_counts_each_index_the_item_is_in(ddb: Any, table: str) -> None:
    item = _padded("w", "1", 2500, g={"S": "G1"}, l={"S": "L1"})  # 3 x 1 KB
    out = ddb.put_item(TableName=table, Item=item, ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"] == {
        "TableName": table, "CapacityUnits": 9.0, "Table": {"CapacityUnits": 3.0},
        "GlobalSecondaryIndexes": {GSI: {"CapacityUnits": 3.0}},
        "LocalSecondaryIndexes": {LSI: {"CapacityUnits": 3.0}},
    }
    # Changing the GSI key: a delete and a put in the index; the LSI entry is rewritten once.
    key = {"pk": item["pk"], "sk": item["sk"]}
    out = ddb.update_item(TableName=table, Key=key, UpdateExpression="SET g = :g",
                          ExpressionAttributeValues={":g": {"S": "G2"}},
                          ReturnConsumedCapacity="INDEXES")
    assert out["ConsumedCapacity"]["Table"] == {"CapacityUnits": 3.0}
    assert out["ConsumedCapacity"]["GlobalSecondaryIndexes"] == {GSI: {"CapacityUnits": 6.0}}
    assert out["ConsumedCapacity"]["LocalSecondaryIndexes"] == {LSI: {"CapacityUnits": 3.0}}
    assert out["ConsumedCapacity"]["CapacityUnits"] == 12.0
    out = ddb.delete_item(TableName=table, Key=key, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == {"TableName": table, "CapacityUnits": 9.0}
    out = ddb.put_item(TableName=table, Item=_padded("w", "2", 100), ReturnConsumedCapacity="NONE")
    assert "ConsumedCapacity" not in out


def test_query_and_scan_charge_what_they_read_before_the_filter(ddb: Any, table: str) -> None:
    sizes = [3000, 5000, 7000]
    for i, size in enumerate(sizes):
        ddb.put_item(TableName=table, Item=_padded("q", f"{i}", size, g={"S": "QG"}))
    read = sum(sizes)  # 15000 bytes: 4 x 4 KB
    common = {"TableName": table, "KeyConditionExpression": "pk = :p",
              "ExpressionAttributeValues": {":p": {"S": "q"}, ":none": {"S": "nothing"}},
              "FilterExpression": "p = :none"}
    eventual = ddb.query(ReturnConsumedCapacity="TOTAL", **common)
    strong = ddb.query(ReturnConsumedCapacity="TOTAL", ConsistentRead=True, **common)
    assert eventual["Count"] == 0 and eventual["ScannedCount"] == 3
    assert eventual["ConsumedCapacity"]["CapacityUnits"] == rcu(read) == 2.0
    assert strong["ConsumedCapacity"]["CapacityUnits"] == rcu(read, True) == 4.0
    on_gsi = ddb.query(TableName=table, IndexName=GSI, KeyConditionExpression="g = :g",
                       ExpressionAttributeValues={":g": {"S": "QG"}},
                       ReturnConsumedCapacity="INDEXES")
    assert on_gsi["ConsumedCapacity"] == {
        "TableName": table, "CapacityUnits": 2.0, "Table": {"CapacityUnits": 0.0},
        "GlobalSecondaryIndexes": {GSI: {"CapacityUnits": 2.0}}}
    empty = ddb.query(TableName=table, KeyConditionExpression="pk = :p",
                      ExpressionAttributeValues={":p": {"S": "nobody"}},
                      ReturnConsumedCapacity="TOTAL")
    assert empty["ConsumedCapacity"]["CapacityUnits"] == 0.5


def test_batch_get_rounds_each_item_separately(ddb: Any, table: str) -> None:
    keys = []
    for i in range(3):
        item = _padded("bg", f"{i}", 100)
        ddb.put_item(TableName=table, Item=item)
        keys.append({"pk": item["pk"], "sk": item["sk"]})
    keys.append({"pk": {"S": "bg"}, "sk": {"S": "missing"}})
    out = ddb.batch_get_item(RequestItems={table: {"Keys": keys}}, ReturnConsumedCapacity="TOTAL")
    assert len(out["Responses"][table]) == 3
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 2.0}]  # 4 x 0.5


def test_batch_write_capacity_per_table(ddb: Any, table: str) -> None:
    puts = [{"PutRequest": {"Item": _padded("bw", f"{i}", 1500)}} for i in range(4)]
    out = ddb.batch_write_item(RequestItems={table: puts}, ReturnConsumedCapacity="TOTAL")
    assert out["ConsumedCapacity"] == [{"TableName": table, "CapacityUnits": 8.0}]
    out = ddb.batch_write_item(RequestItems={table: puts[:1]})
    assert "ConsumedCapacity" not in out


def test_pages_end_once_a_megabyte_is_read(ddb: Any, table: str) -> None:
    for i in range(5):
        ddb.put_item(TableName=table, Item=_padded("big", f"{i}", 300_000))
    query = {"TableName": table, "KeyConditionExpression": "pk = :p",
             "ExpressionAttributeValues": {":p": {"S": "big"}}, "ReturnConsumedCapacity": "TOTAL"}
    first = ddb.query(**query)
    assert first["Count"] == 4  # 1.2 MB read: the page ends after the item that passes 1 MB
    assert first["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": {"S": "3"}}
    assert first["ConsumedCapacity"]["CapacityUnits"] == rcu(4 * 300_000)
    second = ddb.query(ExclusiveStartKey=first["LastEvaluatedKey"], **query)
    assert [i["sk"]["S"] for i in second["Items"]] == ["4"]
    assert "LastEvaluatedKey" not in second
    limited = ddb.query(Limit=2, **query)
    assert limited["Count"] == 2 and "LastEvaluatedKey" in limited


def test_full_scan_of_the_demo_table_costs_what_its_items_weigh(ddb: Any, sandbox: Any) -> None:
    pages, charged, expected, kwargs = 0, 0.0, 0.0, {}
    while True:
        page = ddb.scan(TableName=sandbox.table, ReturnConsumedCapacity="TOTAL", **kwargs)
        pages += 1
        charged += page["ConsumedCapacity"]["CapacityUnits"]
        expected += rcu(sum(item_bytes(i) for i in page["Items"]))
        if "LastEvaluatedKey" not in page:
            break
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
    assert charged == expected
    assert charged > 100  # about 1.2 MB of orders, eventually consistent


def test_partiql_engine_sees_only_the_authorized_tables(monkeypatch):
    """One reading of a statement: moto's engine gets exactly what the layer authorized."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

    from xacct_nb.sandbox import _auth, _dynamodb

    monkeypatch.setattr(DynamoDBBackend, "execute_statement", DynamoDBBackend.execute_statement)
    monkeypatch.setattr(DynamoDBBackend, "_xacct_partiql_scoped", False, raising=False)
    _dynamodb.scope_partiql()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        for name in ("Open", "Secret"):
            ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                             KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                             AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
            ddb.put_item(TableName=name, Item={"k": {"S": f"{name}-1"}})
        backend = dynamodb_backends["123456789012"]["us-east-1"]
        try:
            _auth.partiql_scope.tables = {("Open", None)}
            assert backend.execute_statement('SELECT * FROM "Open"', []) == [
                {"k": {"S": "Open-1"}}]
            with pytest.raises(Exception):  # noqa: B017 - moto's own "not found" error
                backend.execute_statement('SELECT * FROM "Secret"', [])
            _auth.partiql_scope.tables = None  # not forwarded by the layer: nothing at all
            with pytest.raises(Exception):  # noqa: B017
                backend.execute_statement('SELECT * FROM "Open"', [])
        finally:
            _auth.partiql_scope.tables = None
