"""What each DynamoDB request asks of IAM in the sandbox (``dynamodb_accesses``), and refusals.

Unit tests call ``dynamodb_accesses`` directly against moto in-process (tables created
with boto3 in account 123456789012); the end-to-end tests at the bottom start a real
sandbox and use plain boto3.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb._evaluator import UNKNOWN, Policy, Request, evaluate
from xacct_nb.sandbox._accesses import SUPPORTED_OPERATIONS, Access, dynamodb_accesses
from xacct_nb.sandbox._wire import WireError

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "us-east-1"
ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table"
ORDERS = f"{ARN}/Orders"
KEY = {"customer_id": {"S": "C-1"}, "order_ts": {"S": "2026-01-01"}}
LK = "dynamodb:LeadingKeys"


@pytest.fixture(scope="module")
def tables() -> Iterator[None]:
    """Orders (S/S, a GSI and an LSI), Counters (N hash only), Blobs (B) and Other's table."""
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(
            TableName="Orders",
            KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"},
                       {"AttributeName": "order_ts", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                  for n in ("customer_id", "order_ts", "status", "order_id")],
            GlobalSecondaryIndexes=[{
                "IndexName": "status-index",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                              {"AttributeName": "order_ts", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}],
            LocalSecondaryIndexes=[{
                "IndexName": "order-id-index",
                "KeySchema": [{"AttributeName": "customer_id", "KeyType": "HASH"},
                              {"AttributeName": "order_id", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.create_table(
            TableName="Counters", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.create_table(
            TableName="Blobs", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "B"}],
            BillingMode="PAY_PER_REQUEST",
        )
        theirs = boto3.client("dynamodb", region_name=REGION)
        theirs.meta.events.register("before-sign", lambda request, **_: request.headers.__setitem__(
            "x-moto-account-id", OTHER))
        theirs.create_table(
            TableName="Theirs", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield


def accesses(operation: str, body: dict[str, Any]) -> list[Access]:
    return dynamodb_accesses(operation, body, ACCOUNT, REGION)


def one(operation: str, body: dict[str, Any]) -> Access:
    (access,) = accesses(operation, body)
    return access


def refused(operation: str, body: dict[str, Any]) -> WireError:
    with pytest.raises(WireError) as err:
        accesses(operation, body)
    assert err.value.status == 400 and err.value.service == "dynamodb"
    return err.value


def invalid(operation: str, body: dict[str, Any]) -> str:
    error = refused(operation, body)
    assert error.code == "ValidationException", (error.code, error.message)
    return error.message


def query(expression: str, values: dict[str, Any], names: dict[str, str] | None = None,
          **extra: Any) -> dict[str, Any]:
    body = {"TableName": "Orders", "KeyConditionExpression": expression,
            "ExpressionAttributeValues": values, **extra}
    if names:
        body["ExpressionAttributeNames"] = names
    return body


S = {":c": {"S": "C-1"}, ":t": {"S": "2026"}, ":u": {"S": "2027"}}
pytestmark = pytest.mark.usefixtures("tables")


# -- operations ----------------------------------------------------------------------------


def test_supported_operations_are_exact_botocore_names_and_include_the_core_set():
    names = set(botocore.session.get_session().get_service_model("dynamodb").operation_names)
    assert isinstance(SUPPORTED_OPERATIONS, frozenset)
    assert names >= SUPPORTED_OPERATIONS
    assert {
        "CreateTable", "DeleteTable", "DescribeTable", "UpdateTable", "DescribeTimeToLive",
        "UpdateTimeToLive", "DescribeContinuousBackups", "UpdateContinuousBackups", "GetItem",
        "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "CreateBackup",
        "PutResourcePolicy", "GetResourcePolicy", "DeleteResourcePolicy", "TagResource",
        "UntagResource", "ListTagsOfResource", "BatchGetItem", "BatchWriteItem",
        "TransactGetItems", "TransactWriteItems", "ExecuteStatement", "BatchExecuteStatement",
        "ExecuteTransaction", "ListTables", "DescribeLimits", "DescribeEndpoints", "ListBackups",
        "ListExports", "ExportTableToPointInTime", "DescribeExport",
    } <= SUPPORTED_OPERATIONS


@pytest.mark.parametrize("operation", ["Frobnicate", "ImportTable", "CreateGlobalTable",
                                       "UpdateKinesisStreamingDestination", "query", ""])
def test_any_other_operation_is_unknown(operation):
    error = refused(operation, {"TableName": "Orders"})
    assert (error.code, error.message) == ("UnknownOperationException", "")


@pytest.mark.parametrize("operation", ["DescribeTable", "DeleteTable", "UpdateTable",
                                       "DescribeTimeToLive", "UpdateTimeToLive",
                                       "DescribeContinuousBackups", "UpdateContinuousBackups",
                                       "CreateBackup"])
def test_table_scoped_operations(operation):
    assert one(operation, {"TableName": "Orders"}) == Access(f"dynamodb:{operation}", ORDERS,
                                                             ACCOUNT)
    theirs = f"arn:aws:dynamodb:{REGION}:{OTHER}:table/Theirs"
    assert one(operation, {"TableName": theirs}) == Access(f"dynamodb:{operation}", theirs, OTHER)
    assert "Member must not be null" in invalid(operation, {})


def test_create_table_also_asks_for_tags_and_resource_policy():
    assert [a.action for a in accesses("CreateTable", {
        "TableName": "New", "Tags": [{"Key": "a", "Value": "b"}], "ResourcePolicy": "{}"})] == [
        "dynamodb:CreateTable", "dynamodb:TagResource", "dynamodb:PutResourcePolicy"]
    assert "regular expression" in invalid("CreateTable", {"TableName": ORDERS})


@pytest.mark.parametrize("operation", ["ListTables", "DescribeLimits", "DescribeEndpoints",
                                       "ListBackups", "ListExports"])
def test_account_level_operations_are_on_star(operation):
    assert one(operation, {}) == Access(f"dynamodb:{operation}", "*", ACCOUNT)


@pytest.mark.parametrize("operation", ["PutResourcePolicy", "GetResourcePolicy",
                                       "DeleteResourcePolicy", "TagResource", "UntagResource",
                                       "ListTagsOfResource"])
def test_resource_arn_operations(operation):
    assert one(operation, {"ResourceArn": ORDERS}) == Access(f"dynamodb:{operation}", ORDERS,
                                                             ACCOUNT)
    stream = f"{ORDERS}/stream/2026-01-01T00:00:00.000"
    assert one(operation, {"ResourceArn": stream}).resource == stream
    for bad in ("Orders", f"{ORDERS}/index/status-index", "arn:aws:dynamodb:::table/Orders",
                f"arn:aws:s3:::{ACCOUNT}", f"{ORDERS} "):
        assert invalid(operation, {"ResourceArn": bad})
    other_region = ORDERS.replace(REGION, "eu-west-1")
    assert invalid(operation, {"ResourceArn": other_region}) == (
        f"1 validation error detected: Invalid AWS region in '{other_region}'")
    assert "Member must not be null" in invalid(operation, {})


def test_exports_and_backups():
    assert one("ExportTableToPointInTime", {"TableArn": ORDERS, "S3Bucket": "b"}) == Access(
        "dynamodb:ExportTableToPointInTime", ORDERS, ACCOUNT)
    assert invalid("ExportTableToPointInTime", {"TableArn": "Orders", "S3Bucket": "b"})
    export = f"{ORDERS}/export/01764480000000-abcd1234"
    assert one("DescribeExport", {"ExportArn": export}) == Access("dynamodb:DescribeExport", export,
                                                                  ACCOUNT)
    assert invalid("DescribeExport", {"ExportArn": ORDERS})
    backup = f"{ORDERS}/backup/01764480000000-abcd1234"
    for operation in ("DescribeBackup", "DeleteBackup"):
        assert one(operation, {"BackupArn": backup}).resource == backup
    restore = accesses("RestoreTableFromBackup", {"BackupArn": backup, "TargetTableName": "Copy"})
    assert restore[0].resource == backup and restore[1].resource == f"{ARN}/Copy"
    # a restore writes every partition of the target: LeadingKeys conditions fail closed
    assert {a.action for a in restore[2:]} >= {"dynamodb:PutItem", "dynamodb:BatchWriteItem"}
    assert all(a.context[LK] is UNKNOWN for a in restore[2:])
    pitr = accesses("RestoreTableToPointInTime", {"SourceTableName": "Orders",
                                                  "TargetTableName": "Copy"})
    assert pitr[0] == Access("dynamodb:RestoreTableToPointInTime", ORDERS, ACCOUNT)
    assert invalid("RestoreTableToPointInTime", {"TargetTableName": "Copy"})


def test_table_names_and_arns_are_strict():
    assert one("DescribeTable", {"TableName": ORDERS}).resource == ORDERS
    for bad in ("ab", "x" * 256, "Orders/index/status-index", "Or ders", f"{ORDERS}/index/status-index",
                f"arn:aws:dynamodb:{REGION}:12345:table/Orders", "arn:aws:dynamodb:us-east-1::table/T",
                f"arn:aws-cn:dynamodb:{REGION}:{ACCOUNT}:table/Orders"):
        assert invalid("GetItem", {"TableName": bad, "Key": KEY})
    other_region = ORDERS.replace(REGION, "us-west-2")
    assert invalid("GetItem", {"TableName": other_region, "Key": KEY}) == (
        f"1 validation error detected: Invalid AWS region in '{other_region}'")
    assert refused("GetItem", {"TableName": 5, "Key": KEY}).code == "SerializationException"
    assert refused("GetItem", []).code == "SerializationException"  # type: ignore[arg-type]


# -- single items ----------------------------------------------------------------------------


def test_get_item_context():
    access = one("GetItem", {"TableName": "Orders", "Key": KEY,
                             "ProjectionExpression": "#t, basket[0].sku, customer.address.city",
                             "ExpressionAttributeNames": {"#t": "total"}})
    assert access == Access("dynamodb:GetItem", ORDERS, ACCOUNT, {
        LK: ["C-1"], "dynamodb:Attributes": ["total", "basket", "customer"]})
    assert one("GetItem", {"TableName": "Orders", "Key": KEY,
                           "AttributesToGet": ["a", "b"]}).context["dynamodb:Attributes"] == ["a", "b"]
    assert "dynamodb:Select" not in one("GetItem", {"TableName": "Orders", "Key": KEY}).context


@pytest.mark.parametrize(("key", "message"), [
    ({"customer_id": {"S": "C-1"}}, "The provided key element does not match the schema"),
    ({**KEY, "extra": {"S": "x"}}, "The provided key element does not match the schema"),
    ({"customer_id": {"N": "1"}, "order_ts": {"S": "x"}},
     "The provided key element does not match the schema"),
    ({"customer_id": {"S": "C-1", "N": "1"}, "order_ts": {"S": "x"}},
     "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
     "supported datatypes"),
    ({"customer_id": {}, "order_ts": {"S": "x"}},
     "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"customer_id": {"S": ""}, "order_ts": {"S": "x"}},
     "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
     "contain an empty string value. Key: customer_id"),
])
def test_item_keys_must_match_the_schema(key, message):
    for operation in ("GetItem", "DeleteItem", "UpdateItem"):
        assert invalid(operation, {"TableName": "Orders", "Key": key}) == message
    assert "Member must not be null" in invalid("GetItem", {"TableName": "Orders"})


def test_number_and_binary_keys():
    for spelling in ("42", "042", "42.0", "4.2E1", "420e-1", "+42"):
        assert one("GetItem", {"TableName": "Counters", "Key": {"id": {"N": spelling}}}).context[
            LK] == ["42"], spelling
    assert one("GetItem", {"TableName": "Counters", "Key": {"id": {"N": "-0.50"}}}).context[
        LK] == ["-0.5"]
    assert one("ExecuteStatement", {"Statement": "SELECT * FROM Counters WHERE id = 4.20E1"}
               ).context[LK] == ["42"]
    assert one("ExecuteStatement", {"Statement": "SELECT * FROM Counters WHERE id = ?",
                                    "Parameters": [{"N": "0042"}]}).context[LK] == ["42"]
    assert refused("GetItem", {"TableName": "Blobs", "Key": {"k": {"B": "AAE"}}}).code == (
        "SerializationException")
    for bad in ("forty", "1_000", " 1", "NaN", "Infinity", "0x10", "1e"):
        assert invalid("GetItem", {"TableName": "Counters", "Key": {"id": {"N": bad}}}) == (
            f"The parameter cannot be converted to a numeric value: {bad}")
    assert one("PutItem", {"TableName": "Blobs", "Item": {"k": {"B": "AAE="}}}).context[LK] == ["AAE="]
    assert invalid("PutItem", {"TableName": "Blobs", "Item": {"k": {"S": "x"}}}) == (
        "One or more parameter values were invalid: Type mismatch for key k expected: B actual: S")


def test_put_item_context_and_validation():
    item = {**KEY, "total": {"N": "5"}, "basket": {"L": []}}
    assert one("PutItem", {"TableName": "Orders", "Item": item, "ReturnValues": "ALL_OLD"}) == Access(
        "dynamodb:PutItem", ORDERS, ACCOUNT, {
            LK: ["C-1"], "dynamodb:Attributes": ["customer_id", "order_ts", "total", "basket"],
            "dynamodb:ReturnValues": "ALL_OLD"})
    assert invalid("PutItem", {"TableName": "Orders", "Item": {**KEY, "customer_id": {"N": "1"}}}) == (
        "One or more parameter values were invalid: Type mismatch for key customer_id expected: S "
        "actual: N")
    assert invalid("PutItem", {"TableName": "Orders", "Item": {"order_ts": {"S": "x"}}}) == (
        "One or more parameter values were invalid: Missing the key customer_id in the item")
    assert invalid("PutItem", {"TableName": "Orders", "Item": {**KEY, "x": {"S": "a", "N": "1"}}}) == (
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
        "supported datatypes")
    # AWS's text (taoensso/faraday#64 against DynamoDB; boto/boto3#4499; moto's tests).
    assert invalid("PutItem", {"TableName": "Orders", "Item": item, "ReturnValues": "ALL_NEW"}) == (
        "Return values set to invalid value")
    assert invalid("PutItem", {"TableName": "Orders", "Item": item, "Expected": {},
                               "ConditionExpression": "attribute_exists(x)"}) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}")


def test_update_item_attributes():
    access = one("UpdateItem", {
        "TableName": "Orders", "Key": KEY,
        "UpdateExpression": "SET #s = :v, basket[0].qty = if_not_exists(basket[0].qty, :n) "
                            "REMOVE note.memo ADD tags :t DELETE former :t",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":v": {"S": "x"}, ":n": {"N": "1"}, ":t": {"SS": ["a"]}},
        "ReturnValues": "UPDATED_NEW"})
    assert access.context == {
        LK: ["C-1"],
        "dynamodb:Attributes": ["customer_id", "order_ts", "status", "basket", "note", "tags", "former"],
        "dynamodb:ReturnValues": "UPDATED_NEW"}
    legacy = one("UpdateItem", {"TableName": "Orders", "Key": KEY,
                                "AttributeUpdates": {"total": {"Action": "PUT", "Value": {"N": "1"}}}})
    assert legacy.context["dynamodb:Attributes"] == ["customer_id", "order_ts", "total"]
    base = {"TableName": "Orders", "Key": KEY}
    assert invalid("UpdateItem", {**base, "UpdateExpression": "SET #x = :v",
                                  "ExpressionAttributeValues": {":v": {"S": "x"}}}) == (
        "Invalid UpdateExpression: An expression attribute name used in the document path is not "
        "defined; attribute name: #x")
    assert invalid("UpdateItem", {**base, "UpdateExpression": "SET a = :v"}) == (
        "Invalid UpdateExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :v")
    assert invalid("UpdateItem", {**base, "UpdateExpression": "a = :v",
                                  "ExpressionAttributeValues": {":v": {"S": "x"}}}).startswith(
        "Invalid UpdateExpression: Syntax error")
    assert invalid("UpdateItem", {**base, "UpdateExpression": "SET a = size(b)"}) == (
        "Invalid UpdateExpression: Invalid function name; function: size")
    # AWS's envelope, as for ExpressionAttributeValues (paritysuite/dynamodb-conformance
    # putItem.test.ts, "PutItem - request validation envelope", both placeholder kinds).
    assert invalid("UpdateItem", {**base, "ExpressionAttributeNames": {"#a": "a"}}) == (
        "1 validation error detected: ExpressionAttributeNames can only be specified when using "
        "expressions")
    values = {":v": {"S": "C-3"}}
    for expression, names in (("SET customer_id = :v", {}), ("SET a = :v, #k = :v", {"#k": "order_ts"}),
                              ("REMOVE a, order_ts", {}), ("ADD #c :v", {"#c": "customer_id"})):
        body = {**base, "UpdateExpression": expression, "ExpressionAttributeValues": values}
        if names:
            body["ExpressionAttributeNames"] = names
        assert invalid("UpdateItem", body).startswith(
            "One or more parameter values were invalid: Cannot update attribute ")
    reads_key = one("UpdateItem", {**base, "UpdateExpression": "SET a = if_not_exists(customer_id, :v)",
                                   "ExpressionAttributeValues": values})
    assert reads_key.context["dynamodb:Attributes"] == ["customer_id", "order_ts", "a"]
    assert invalid("UpdateItem", {**base, "AttributeUpdates": {"customer_id": {"Action": "DELETE"}}}
                   ) == ("One or more parameter values were invalid: Cannot update attribute "
                         "customer_id. This attribute is part of the key")


def test_delete_item_context():
    assert one("DeleteItem", {"TableName": "Orders", "Key": KEY, "ReturnValues": "ALL_OLD",
                              "ReturnConsumedCapacity": "TOTAL"}).context == {
        LK: ["C-1"], "dynamodb:ReturnValues": "ALL_OLD", "dynamodb:ReturnConsumedCapacity": "TOTAL"}


def test_a_table_that_does_not_exist_has_unknown_leading_keys():
    access = one("GetItem", {"TableName": "Nope", "Key": {"a": {"S": "1"}}})
    assert access.resource == f"{ARN}/Nope" and access.context[LK] is UNKNOWN
    assert invalid("GetItem", {"TableName": "Nope", "Key": {"a": {"S": "1", "N": "1"}}})
    assert one("Query", query("a = :c", S, TableName="Nope")).context[LK] is UNKNOWN


# -- Query and Scan ------------------------------------------------------------------------


@pytest.mark.parametrize(("expression", "names"), [
    ("customer_id = :c", None),
    ("#c = :c", {"#c": "customer_id"}),
    ("customer_id = :c AND order_ts > :t", None),
    ("customer_id=:c and order_ts<=:t", None),
    ("order_ts >= :t AND customer_id = :c", None),
    ("customer_id = :c AND order_ts BETWEEN :t AND :u", None),
    ("customer_id = :c AND begins_with(#o, :t)", {"#o": "order_ts"}),
    ("(customer_id = :c) AND (order_ts < :t)", None),
    ("(customer_id = :c AND order_ts = :t)", None),
])
def test_query_key_conditions_that_pin_the_partition(expression, names):
    body = query(expression, S, names)
    assert one("Query", body) == Access("dynamodb:Query", ORDERS, ACCOUNT, {
        LK: ["C-1"], "dynamodb:Select": "ALL_ATTRIBUTES"})


@pytest.mark.parametrize(("expression", "names", "message"), [
    ("customer_id = :c OR order_ts = :t", None,
     "Invalid operator used in KeyConditionExpression: OR"),
    ("NOT customer_id = :c", None, "Invalid operator used in KeyConditionExpression: NOT"),
    ("customer_id > :c", None, "Query key condition not supported"),
    ("customer_id <> :c", None, "Invalid operator used in KeyConditionExpression: <>"),
    ("begins_with(customer_id, :c)", None, "Query key condition not supported"),
    ("customer_id BETWEEN :c AND :t", None, "Query key condition not supported"),
    ("order_ts = :t", None, "Query condition missed key schema element: customer_id"),
    ("customer_id = :c AND amount = :t", None,
     "Query condition missed key schema element: order_ts"),
    ("customer_id = :c AND customer_id = :t", None,
     "KeyConditionExpressions must only contain one condition per key"),
    ("customer_id = :c AND order_ts > :t AND order_ts < :u", None,
     "KeyConditionExpressions must only contain one condition per key"),
    ("customer_id = :c AND order_ts > :t AND amount < :u", None,
     "Conditions can be of length 1 or 2 only"),
    ("customer_id = :c AND contains(order_ts, :t)", None,
     "Invalid operator used in KeyConditionExpression: contains"),
    ("customer_id = :c AND frob(order_ts, :t)", None,
     "Invalid KeyConditionExpression: Invalid function name; function: frob"),
    ("customer_id = :nope", None,
     "Invalid KeyConditionExpression: An expression attribute value used in expression is not "
     "defined; attribute value: :nope"),
    ("#c = :c", None,
     "Invalid KeyConditionExpression: An expression attribute name used in the document path is "
     "not defined; attribute name: #c"),
    ("customer_id.x = :c", None, "Query key condition not supported"),
    ("customer_id IN (:c, :t)", None, "Invalid operator used in KeyConditionExpression: IN"),
    ("customer_id = :c AND status = :t", None, "Invalid KeyConditionExpression: Attribute name is "
                                               "a reserved keyword; reserved keyword: status"),
])
def test_query_key_conditions_refused(expression, names, message):
    assert invalid("Query", query(expression, S, names)) == message


@pytest.mark.parametrize("expression", [
    "customer_id = :c AND", "(customer_id = :c", "customer_id = :c)", "customer_id = 'C-1'",
    "customer_id = :c, order_ts = :t", "customer_id == :c", ":c = customer_id", "customer_id",
    "customer_id = :c AND order_ts BETWEEN :t", "customer_id = :c ; DROP",
])
def test_query_syntax_errors(expression):
    assert invalid("Query", query(expression, S)).startswith("Invalid KeyConditionExpression: ")


def test_oversized_and_deeply_nested_input_is_refused_quickly():
    deep = "(" * 2000 + "customer_id = :c" + ")" * 2000
    assert invalid("Query", query(deep, S)).startswith("Invalid KeyConditionExpression: ")
    nested = "(" * 40 + "customer_id = :c" + ")" * 40
    assert invalid("Query", query(nested, S)).startswith("Invalid KeyConditionExpression: Syntax")
    assert one("Query", query("(" * 30 + "customer_id = :c" + ")" * 30, S)).context[LK] == ["C-1"]
    long = "SELECT * FROM Orders WHERE " + " AND ".join(["x = 1"] * 2000)
    assert "8192" in invalid("ExecuteStatement", {"Statement": long})
    parens = "SELECT * FROM Orders WHERE " + "(" * 4100 + "customer_id = 'a'" + ")" * 4100
    assert "8192" in invalid("ExecuteStatement", {"Statement": parens})
    ok = "SELECT * FROM Orders WHERE " + "(" * 4000 + "customer_id = 'a'" + ")" * 4000
    assert one("ExecuteStatement", {"Statement": ok}).context[LK] == ["a"]


def test_query_value_types():
    assert invalid("Query", query("customer_id = :n", {":n": {"N": "1"}})) == (
        "One or more parameter values were invalid: Condition parameter type does not match schema "
        "type")
    assert invalid("Query", query("customer_id = :c", {":c": {"S": "a", "N": "1"}})) == (
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
        "supported datatypes")
    assert invalid("Query", query("customer_id = :c AND order_ts > :n",
                                  {**S, ":n": {"N": "1"}})).startswith(
        "One or more parameter values were invalid: Condition parameter type")
    assert one("Query", {"TableName": "Counters", "KeyConditionExpression": "id = :i",
                         "ExpressionAttributeValues": {":i": {"N": "7"}}}).context[LK] == ["7"]


def test_query_on_indexes():
    gsi = one("Query", query("#s = :c AND order_ts > :t", S, {"#s": "status"},
                             IndexName="status-index"))
    assert gsi == Access("dynamodb:Query", f"{ORDERS}/index/status-index", ACCOUNT, {
        LK: ["C-1"], "dynamodb:Select": "ALL_PROJECTED_ATTRIBUTES"})
    assert invalid("Query", query("customer_id = :c", S, IndexName="status-index")) == (
        "Query condition missed key schema element: status")
    lsi = one("Query", query("customer_id = :c AND order_id = :t", S, IndexName="order-id-index"))
    assert lsi.context[LK] == ["C-1"]
    assert one("Query", query("x = :c", S, IndexName="no-such-index")).context[LK] is UNKNOWN


def test_legacy_key_conditions():
    def legacy(conditions: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"TableName": "Orders", "KeyConditions": conditions, **extra}

    eq = {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "C-1"}]}
    assert one("Query", legacy({"customer_id": eq})).context[LK] == ["C-1"]
    assert one("Query", legacy({"customer_id": eq, "order_ts": {
        "ComparisonOperator": "BETWEEN", "AttributeValueList": [{"S": "a"}, {"S": "b"}]}}))
    assert invalid("Query", legacy({"customer_id": {
        "ComparisonOperator": "GT", "AttributeValueList": [{"S": "C-1"}]}})) == (
        "Query key condition not supported")
    assert invalid("Query", legacy({"customer_id": {
        "ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}, {"S": "b"}]}})) == (
        "One or more parameter values were invalid: Invalid number of argument(s) for the EQ "
        "ComparisonOperator")
    assert invalid("Query", legacy({"order_ts": eq})) == (
        "Query condition missed key schema element: customer_id")
    assert invalid("Query", legacy({"customer_id": {
        "ComparisonOperator": "NE", "AttributeValueList": [{"S": "a"}]}})) == (
        "Attempted conditional constraint is not an indexable operation")
    assert invalid("Query", legacy({"customer_id": eq}, KeyConditionExpression="customer_id = :c",
                                   ExpressionAttributeValues=S)) == (
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}")
    assert invalid("Query", {"TableName": "Orders"}) == (
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
        "request.")


def test_query_and_scan_select_and_attributes():
    projected = one("Query", query("customer_id = :c", S, {"#l": "basket"},
                                   ProjectionExpression="#l[0].sku, amount"))
    assert projected.context["dynamodb:Attributes"] == ["basket", "amount"]
    assert projected.context["dynamodb:Select"] == "SPECIFIC_ATTRIBUTES"
    assert one("Query", query("customer_id = :c", S, Select="COUNT")).context[
        "dynamodb:Select"] == "COUNT"
    assert "enum value set" in invalid("Query", query("customer_id = :c", S, Select="EVERYTHING"))
    assert invalid("Query", query("customer_id = :c", S, ProjectionExpression="#x")) == (
        "Invalid ProjectionExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #x")
    scan = one("Scan", {"TableName": "Orders", "ProjectionExpression": "a.b, c[1]"})
    assert scan == Access("dynamodb:Scan", ORDERS, ACCOUNT, {
        "dynamodb:Attributes": ["a", "c"], "dynamodb:Select": "SPECIFIC_ATTRIBUTES"})
    assert LK not in one("Scan", {"TableName": "Orders", "IndexName": "status-index"}).context
    assert invalid("Scan", {"TableName": "Orders", "ScanFilter": {},
                            "FilterExpression": "a = :a"}).startswith("Can not use both")
    assert invalid("Scan", {"TableName": "Orders", "ProjectionExpression": "amount, Status"}) == (
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: "
        "Status")
    assert invalid("UpdateItem", {"TableName": "Orders", "Key": KEY, "UpdateExpression": "SET size = :v",
                                  "ExpressionAttributeValues": {":v": {"N": "1"}}}) == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: size")
    for bad in ("a,", ",a", "a..b", "a[x]", "a b"):
        assert invalid("Scan", {"TableName": "Orders", "ProjectionExpression": bad}).startswith(
            "Invalid ProjectionExpression: Syntax error")


# -- batches and transactions ---------------------------------------------------------------


def test_batch_get_and_write():
    other = {"customer_id": {"S": "C-2"}, "order_ts": {"S": "x"}}
    got = accesses("BatchGetItem", {"RequestItems": {
        "Orders": {"Keys": [KEY, other, KEY], "ProjectionExpression": "amount"},
        "Counters": {"Keys": [{"id": {"N": "1"}}]}}})
    assert got == [
        Access("dynamodb:BatchGetItem", ORDERS, ACCOUNT,
               {LK: ["C-1", "C-2"], "dynamodb:Attributes": ["amount"]}),
        Access("dynamodb:BatchGetItem", f"{ARN}/Counters", ACCOUNT, {LK: ["1"]})]
    wrote = one("BatchWriteItem", {"RequestItems": {"Orders": [
        {"PutRequest": {"Item": {**KEY, "total": {"N": "1"}}}}, {"DeleteRequest": {"Key": other}}]}})
    assert wrote.context == {LK: ["C-1", "C-2"],
                             "dynamodb:Attributes": ["customer_id", "order_ts", "total"]}
    assert invalid("BatchGetItem", {"RequestItems": {"Orders": {"Keys": [{"customer_id": {"S": "a"}}]}}}) == (
        "The provided key element does not match the schema")
    # A batch item missing its key gets the schema-mismatch text, not PutItem's (paritysuite/
    # dynamodb-conformance batchWriteItem.test.ts, "item without the partition key").
    assert invalid("BatchWriteItem", {"RequestItems": {"Orders": [
        {"PutRequest": {"Item": {"order_ts": {"S": "x"}}}}]}}) == (
        "The provided key element does not match the schema")
    assert invalid("BatchWriteItem", {"RequestItems": {"Orders": [
        {"PutRequest": {"Item": KEY}, "DeleteRequest": {"Key": KEY}}]}})
    for empty in ({"RequestItems": {}}, {"RequestItems": {"Orders": {"Keys": []}}}, {}):
        assert invalid("BatchGetItem", empty)
    assert invalid("BatchWriteItem", {"RequestItems": {"Orders": []}})


def test_one_request_names_one_account():
    theirs = f"arn:aws:dynamodb:{REGION}:{OTHER}:table/Theirs"
    assert invalid("BatchGetItem", {"RequestItems": {
        "Orders": {"Keys": [KEY]}, theirs: {"Keys": [{"pk": {"S": "a"}}]}}}).startswith(
        "One request may only name tables of one account")
    (access,) = accesses("BatchGetItem", {"RequestItems": {theirs: {"Keys": [{"pk": {"S": "a"}}]}}})
    assert (access.account, access.context[LK]) == (OTHER, ["a"])


def test_transactions_use_the_item_actions():
    got = accesses("TransactGetItems", {"TransactItems": [
        {"Get": {"TableName": "Orders", "Key": KEY, "ProjectionExpression": "amount"}},
        {"Get": {"TableName": "Counters", "Key": {"id": {"N": "3"}}}}]})
    assert got == [
        Access("dynamodb:GetItem", ORDERS, ACCOUNT, {LK: ["C-1"], "dynamodb:Attributes": ["amount"]}),
        Access("dynamodb:GetItem", f"{ARN}/Counters", ACCOUNT, {LK: ["3"]})]
    other = {"customer_id": {"S": "C-2"}, "order_ts": {"S": "x"}}
    wrote = accesses("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "Orders", "Item": {**KEY, "n": {"N": "1"}}}},
        {"Update": {"TableName": "Orders", "Key": other, "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "2"}}}},
        {"Delete": {"TableName": "Counters", "Key": {"id": {"N": "9"}}}},
        {"ConditionCheck": {"TableName": "Orders", "Key": KEY,
                            "ConditionExpression": "attribute_exists(n)"}}]})
    assert [(a.action, a.context.get(LK), a.context.get("dynamodb:Attributes")) for a in wrote] == [
        ("dynamodb:PutItem", ["C-1"], ["customer_id", "order_ts", "n"]),
        ("dynamodb:UpdateItem", ["C-2"], ["customer_id", "order_ts", "n"]),
        ("dynamodb:DeleteItem", ["9"], None),
        ("dynamodb:ConditionCheckItem", ["C-1"], None)]
    assert invalid("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "Orders", "Item": {"customer_id": {"N": "1"}, "order_ts": {"S": "x"}}}}]}
    ).startswith("One or more parameter values were invalid: Type mismatch for key customer_id")
    for bad in ({"TransactItems": []}, {"TransactItems": [{"Frob": {}}]},
                {"TransactItems": [{"Put": {"TableName": "Orders", "Item": KEY},
                                    "Delete": {"TableName": "Orders", "Key": KEY}}]},
                {"TransactItems": [{"Update": {"TableName": "Orders", "Key": KEY}}]}):
        assert invalid("TransactWriteItems", bad)
    assert invalid("TransactGetItems", {"TransactItems": [{"Put": {}}]})


# -- PartiQL ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("statement", "parameters", "action", "resource", "leading"), [
    ('SELECT * FROM "Orders" WHERE customer_id = \'C-1\'', None, "PartiQLSelect", ORDERS, ["C-1"]),
    ("select * from Orders where \"customer_id\" = ?", [{"S": "C-9"}], "PartiQLSelect", ORDERS,
     ["C-9"]),
    ("SELECT * FROM Orders WHERE 'C-1' = customer_id AND order_ts > '2026'", None,
     "PartiQLSelect", ORDERS, ["C-1"]),
    ("SELECT * FROM Orders WHERE customer_id IN ['a', 'b']", None, "PartiQLSelect", ORDERS,
     ["a", "b"]),
    ("SELECT * FROM Orders WHERE (customer_id = 'a') AND (x = 1 OR y = 2)", None, "PartiQLSelect",
     ORDERS, ["a"]),
    ('SELECT * FROM "Orders"."status-index" WHERE status = \'open\'', None, "PartiQLSelect",
     f"{ORDERS}/index/status-index", ["open"]),
    (f'SELECT * FROM "{ORDERS}" WHERE customer_id = \'C-1\' -- trailing comment', None,
     "PartiQLSelect", ORDERS, ["C-1"]),
    ("/* note */ SELECT * FROM Orders WHERE customer_id = 'it''s'", None, "PartiQLSelect", ORDERS,
     ["it's"]),
    ("SELECT * FROM Counters WHERE id = 7", None, "PartiQLSelect", f"{ARN}/Counters", ["7"]),
    ("SELECT * FROM Orders WHERE customer_id = 'a' ORDER BY order_ts DESC", None,
     "PartiQLSelect", ORDERS, ["a"]),
    ("SELECT * FROM Orders WHERE customer_id = ';' AND note = '(' ", None, "PartiQLSelect",
     ORDERS, [";"]),
    ("SELECT * FROM Orders WHERE customer_id IN [?, 'b']", [{"S": "a"}], "PartiQLSelect", ORDERS,
     ["a", "b"]),
    ("SELECT \"a\"\"b\" FROM Orders WHERE \"customer_id\" = '--'", None, "PartiQLSelect", ORDERS,
     ["--"]),
    ("SELECT * FROM Orders", None, "PartiQLSelect", ORDERS, UNKNOWN),
    ("SELECT * FROM Orders WHERE customer_id IN ['a', x]", None, "PartiQLSelect", ORDERS, UNKNOWN),
    ("SELECT * FROM Orders WHERE customer_id = 'a' OR customer_id = 'b' AND 1 = 1", None,
     "PartiQLSelect", ORDERS, UNKNOWN),
    ("SELECT * FROM orders WHERE customer_id = 'a'", None, "PartiQLSelect", f"{ARN}/orders",
     UNKNOWN),
    ("SELECT * FROM Orders WHERE customer_id = 'a' OR customer_id = 'b'", None, "PartiQLSelect",
     ORDERS, UNKNOWN),
    ("SELECT * FROM Orders WHERE x BETWEEN 'a' AND customer_id = 'b'", None, "PartiQLSelect",
     ORDERS, UNKNOWN),
    ("SELECT * FROM Orders WHERE NOT customer_id = 'a'", None, "PartiQLSelect", ORDERS, UNKNOWN),
    ("SELECT * FROM Orders WHERE customer_id > 'a'", None, "PartiQLSelect", ORDERS, UNKNOWN),
    ("SELECT * FROM Orders WHERE \"Orders\".customer_id = 'a'", None, "PartiQLSelect", ORDERS,
     UNKNOWN),
    ("SELECT * FROM Orders WHERE customer_id = 'a' || 'b'", None, "PartiQLSelect", ORDERS, UNKNOWN),
    ("INSERT INTO \"Orders\" VALUE {'customer_id': 'C-1', 'order_ts': ?, 'total': 5}",
     [{"S": "t"}], "PartiQLInsert", ORDERS, ["C-1"]),
    ("UPDATE Orders SET total = 6 WHERE customer_id = 'C-1' AND order_ts = 't'", None,
     "PartiQLUpdate", ORDERS, ["C-1"]),
    ("UPDATE Orders SET m = {'a': 1, 'b': customer_id} SET l = <<1, order_ts>> "
     "WHERE customer_id = 'C-1' AND order_ts = 't' RETURNING ALL NEW *", None,
     "PartiQLUpdate", ORDERS, ["C-1"]),
    ("DELETE FROM Orders WHERE customer_id = ? AND order_ts = ? RETURNING ALL OLD *",
     [{"S": "C-3"}, {"S": "t"}], "PartiQLDelete", ORDERS, ["C-3"]),
])
def test_partiql_statements(statement, parameters, action, resource, leading):
    body: dict[str, Any] = {"Statement": statement}
    if parameters is not None:
        body["Parameters"] = parameters
    access = one("ExecuteStatement", body)
    assert (access.action, access.resource, access.account) == (f"dynamodb:{action}", resource,
                                                               ACCOUNT)
    assert access.context[LK] == leading if leading is not UNKNOWN else access.context[LK] is UNKNOWN
    if resource == f"{ARN}/orders":  # no such table (names are case-sensitive): nothing known
        assert access.context["dynamodb:FullTableScan"] is UNKNOWN
    elif action == "PartiQLSelect":
        assert access.context["dynamodb:FullTableScan"] is (leading is UNKNOWN)


def test_partiql_attributes():
    def attributes(statement: str) -> Any:
        return one("ExecuteStatement", {"Statement": statement}).context.get("dynamodb:Attributes")

    assert attributes("SELECT amount, basket[0].sku, \"a b\".c FROM Orders") == ["amount", "basket", "a b"]
    assert attributes("SELECT * FROM Orders") is None
    assert attributes('SELECT "a""b", c FROM Orders') == ['a"b', "c"]
    assert attributes("SELECT size(x) FROM Orders") is UNKNOWN
    assert attributes("INSERT INTO Orders VALUE {'customer_id': 'a', 'order_ts': 'b', 'n': {'m': 1}}"
                      ) == ["customer_id", "order_ts", "n"]
    assert attributes("UPDATE Orders SET n = 1 WHERE customer_id = 'a' AND order_ts = 'b'") is UNKNOWN


@pytest.mark.parametrize(("statement", "message"), [
    ("", "Statement wasn't well formed, can't be processed: "),
    ("EXPLAIN SELECT * FROM Orders", "Statement wasn't well formed"),
    ("SELECT 1", "Statement wasn't well formed"),
    ("SELECT * FROM Orders, Private", "Statement wasn't well formed"),
    ("SELECT * FROM Orders WHERE customer_id IN (SELECT pk FROM Private)",
     "Statement wasn't well formed"),
    ("SELECT * FROM Orders; DELETE FROM Orders WHERE customer_id = 'a'",
     "Statement wasn't well formed"),
    ("SELECT * FROM (SELECT * FROM Private)", "Statement wasn't well formed"),
    ("SELECT * FROM \"Orders", "Statement wasn't well formed"),
    ("SELECT * FROM Orders WHERE x = 'a", "Statement wasn't well formed"),
    ("SELECT * FROM Orders /* open", "Statement wasn't well formed"),
    ("SELECT * FROM Orders WHERE (x = 1", "Statement wasn't well formed"),
    ("SELECT * FROM Orders AS o", "Statement wasn't well formed"),
    ("SELECT * FROM Orders WHERE", "Statement wasn't well formed"),
    ("SELECT * FROM Orders WHERE ORDER BY x", "Statement wasn't well formed"),
    ("SELECT * FROM Orders WHERE customer_id = 'a' ORDER x", "Statement wasn't well formed"),
    ("SELECT * FROM WHERE", "Statement wasn't well formed"),
    ("EXISTS(SELECT * FROM Orders)", "Statement wasn't well formed"),
    ("INSERT INTO Orders VALUE {'order_ts': 'a'}",
     "One or more parameter values were invalid: Missing the key customer_id in the item"),
    ("INSERT INTO Orders VALUE {'customer_id': 'a', 'order_ts': 'b'} WHERE x = 1",
     "Statement wasn't well formed"),
    ("INSERT INTO \"Orders\".\"status-index\" VALUE {'a': 1}", "Statement wasn't well formed"),
    ("UPDATE Orders SET a = 1 WHERE customer_id = 'a'",
     "Where clause does not contain a mandatory equality on all key attributes"),
    ("UPDATE Orders SET a = 1 WHERE customer_id > 'a' AND order_ts = 'b'",
     "Where clause does not contain a mandatory equality on all key attributes"),
    ("DELETE FROM Orders WHERE order_ts = 'b'",
     "Where clause does not contain a mandatory equality on all key attributes"),
    ("DELETE FROM Orders", "Statement wasn't well formed"),
    ("UPDATE Orders SET customer_id = 'C-3' WHERE customer_id = 'C-1' AND order_ts = 't'",
     "One or more parameter values were invalid: Cannot update attribute customer_id."),
    ("UPDATE Orders SET a = 1 REMOVE \"order_ts\" WHERE customer_id = 'C-1' AND order_ts = 't'",
     "One or more parameter values were invalid: Cannot update attribute order_ts."),
    (f"SELECT * FROM \"{ORDERS.replace(REGION, 'eu-west-1')}\"",
     f"1 validation error detected: Invalid AWS region in '{ORDERS.replace(REGION, 'eu-west-1')}'"),
    ("SELECT * FROM \"arn:aws:dynamodb:us-east-1:1:table/Orders\"", "Invalid ARN"),
    ("SELECT * FROM Orders WHERE customer_id = ?", "Number of parameters in request and statement "
                                                   "don't match."),
])
def test_partiql_statements_refused(statement, message):
    assert invalid("ExecuteStatement", {"Statement": statement}).startswith(message)


def test_partiql_parameters_must_have_one_type():
    assert invalid("ExecuteStatement", {
        "Statement": "SELECT * FROM Orders WHERE customer_id = ?",
        "Parameters": [{"S": "a", "N": "1"}]}).startswith("Supplied AttributeValue has more than one")
    assert invalid("ExecuteStatement", {"Statement": "SELECT * FROM Orders", "Parameters": [{"S": "a"}]})
    assert invalid("ExecuteStatement", {"Statement": "SELECT * FROM Orders WHERE x = ?",
                                        "Parameters": [{}]}).startswith("Supplied AttributeValue is empty")


def test_partiql_batches_and_transactions_name_each_table():
    got = accesses("BatchExecuteStatement", {"Statements": [
        {"Statement": "SELECT * FROM Orders WHERE customer_id = ? AND order_ts = ?",
         "Parameters": [{"S": "a"}, {"S": "b"}]},
        {"Statement": "UPDATE Counters SET n = 1 WHERE id = 4"},
        {"Statement": "SELECT * FROM \"Orders\".\"status-index\" WHERE status = 'x'"}]})
    assert [(a.action, a.resource, a.context[LK]) for a in got] == [
        ("dynamodb:PartiQLSelect", ORDERS, ["a"]),
        ("dynamodb:PartiQLUpdate", f"{ARN}/Counters", ["4"]),
        ("dynamodb:PartiQLSelect", f"{ORDERS}/index/status-index", ["x"])]
    got = accesses("ExecuteTransaction", {"TransactStatements": [
        {"Statement": "EXISTS (SELECT * FROM Orders WHERE customer_id = 'a' AND order_ts = 'b')"},
        {"Statement": "DELETE FROM Counters WHERE id = 5"}]})
    assert [(a.action, a.context[LK]) for a in got] == [
        ("dynamodb:PartiQLSelect", ["a"]), ("dynamodb:PartiQLDelete", ["5"])]
    assert invalid("BatchExecuteStatement", {"Statements": [
        {"Statement": "EXISTS (SELECT * FROM Orders WHERE customer_id = 'a')"}]})
    assert invalid("BatchExecuteStatement", {"Statements": []})
    assert invalid("ExecuteTransaction", {"TransactStatements": [{"Statement": "SELECT * FROM"}]})
    theirs = f"arn:aws:dynamodb:{REGION}:{OTHER}:table/Theirs"
    assert invalid("BatchExecuteStatement", {"Statements": [
        {"Statement": "SELECT * FROM Orders WHERE customer_id = 'a'"},
        {"Statement": f"SELECT * FROM \"{theirs}\" WHERE pk = 'a'"}]}).startswith(
        "One request may only name tables of one account")


_FUZZ_FIELDS = ("TableName", "Key", "Item", "KeyConditionExpression", "KeyConditions",
                "ExpressionAttributeValues", "ExpressionAttributeNames", "ProjectionExpression",
                "AttributesToGet", "Select", "IndexName", "RequestItems", "TransactItems",
                "Statement", "Parameters", "Statements", "TransactStatements", "UpdateExpression",
                "AttributeUpdates", "ReturnValues", "ResourceArn", "BackupArn", "ExportArn",
                "TableArn", "TargetTableName", "SourceTableName", "Get", "Put", "PutRequest",
                "DeleteRequest", "Keys", "S", "N")
_FUZZ_WORDS = ("customer_id", "=", ":c", "#c", "AND", "OR", "(", ")", "begins_with", ",",
               "BETWEEN", "SELECT", "*", "FROM", '"Orders"', "WHERE", "'a'", "?", "SET", "x", ".",
               "[", "0", "]", "EXISTS", "INSERT", "INTO", "VALUE", "{", "}", ":", "--", "/*", "'",
               '"', "ORDER", "BY", "status")
_FUZZ_ATOMS = (None, True, 0, 1.5, "", "Orders", ORDERS, [], {}, {"S": "a"},
               {"S": "a", "N": "1"}, {"N": "x"}, [{"S": "a"}], KEY, {"customer_id": {"S": "a"}})


def test_random_requests_are_attributed_or_refused_never_crash():
    import random

    rnd = random.Random(20261130)

    def value(depth: int = 0) -> Any:
        roll = rnd.random()
        if depth < 3 and roll < 0.2:
            return {rnd.choice(_FUZZ_FIELDS): value(depth + 1) for _ in range(rnd.randint(0, 3))}
        if depth < 3 and roll < 0.3:
            return [value(depth + 1) for _ in range(rnd.randint(0, 3))]
        if roll < 0.5:
            return " ".join(rnd.choice(_FUZZ_WORDS) for _ in range(rnd.randint(0, 10)))
        return rnd.choice(_FUZZ_ATOMS)

    operations = sorted(SUPPORTED_OPERATIONS)
    for _ in range(5000):
        operation = rnd.choice(operations)
        body = {name: value() for name in rnd.sample(_FUZZ_FIELDS, rnd.randint(0, 5))}
        try:
            got = accesses(operation, body)
        except WireError as exc:
            assert exc.status == 400 and exc.code in ("ValidationException",
                                                      "SerializationException")
            continue
        assert got and all(a.action.startswith("dynamodb:") and a.resource for a in got)


# -- the evaluator on unknown context ------------------------------------------------------

PRINCIPAL = f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s"


def _decide(statements: list[dict[str, Any]], access: Access, unknown: frozenset[str] = frozenset()
            ) -> str:
    doc = {"Version": "2012-10-17", "Statement": statements}
    return evaluate([Policy("p", doc)], Request(PRINCIPAL, access.action, access.resource,
                                                access.context, unknown)).decision


ALLOW_C1 = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
            "Condition": {"ForAllValues:StringEquals": {LK: ["C-1"]}}}
ALLOW_ALL = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}


def test_unknown_context_never_allows_and_always_denies():
    scan = one("ExecuteStatement", {"Statement": "SELECT * FROM Orders"})
    pinned = one("ExecuteStatement", {"Statement": "SELECT * FROM Orders WHERE customer_id = 'C-1'"})
    assert _decide([ALLOW_C1], pinned) == "Allow"
    assert _decide([ALLOW_C1], scan) == "ImplicitDeny"  # an absent key would be vacuously true
    assert _decide([ALLOW_ALL], scan) == "Allow"  # no condition on the key: nothing unknown used
    deny_others = {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
                   "Condition": {"ForAnyValue:StringNotEquals": {LK: ["C-1"]}}}
    assert _decide([ALLOW_ALL, deny_others], pinned) == "Allow"
    assert _decide([ALLOW_ALL, deny_others], scan) == "ExplicitDeny"
    deny_scans = {"Effect": "Deny", "Action": "dynamodb:PartiQLSelect", "Resource": "*",
                  "Condition": {"Bool": {"dynamodb:FullTableScan": "true"}}}
    assert _decide([ALLOW_ALL, deny_scans], scan) == "ExplicitDeny"
    assert _decide([ALLOW_ALL, deny_scans], pinned) == "Allow"
    # the same through Request.unknown, with a context that has no value at all
    get = Access("dynamodb:GetItem", ORDERS, ACCOUNT, {})
    assert _decide([ALLOW_C1], get) == "Allow"  # absent: vacuously true, as in AWS
    assert _decide([ALLOW_C1], get, frozenset({"dynamodb:leadingkeys"})) == "ImplicitDeny"
    null_check = {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*",
                  "Condition": {"Null": {LK: "true"}}}
    assert _decide([null_check], scan) == "ImplicitDeny"
    assert repr(UNKNOWN) == "UNKNOWN" and not UNKNOWN


# -- end to end: a real sandbox, plain boto3 -----------------------------------------------


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with xn.sandbox.start() as sandbox:
        yield sandbox


def _new_role(sb: Any, name: str, statements: list[dict[str, Any]]) -> Any:
    """A role in B trusting account A with ``statements``; a DynamoDB client of its session."""
    iam_b = sb.admin_session("B").client("iam")
    iam_b.create_role(RoleName=name,
                      AssumeRolePolicyDocument=json.dumps(policies.trust_policy(sb.account_a)))
    iam_b.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": statements}))
    return _client(sb, f"arn:aws:iam::{sb.account_b}:role/{name}", sb.admin_session("A"))


def _client(sb: Any, role_arn: str, source: Any, external_id: str | None = None) -> Any:
    kwargs = {"RoleArn": role_arn, "RoleSessionName": "accesses"}
    if external_id is not None:
        kwargs["ExternalId"] = external_id
    creds = source.client("sts").assume_role(**kwargs)["Credentials"]
    return boto3.client(
        "dynamodb", endpoint_url=sb.endpoint_url, region_name=sb.region,
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"])


def _error(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


def _select(table: str, where: str = "") -> str:
    return f'SELECT * FROM {table}' + (f" WHERE {where}" if where else "")


@pytest.mark.sandbox
def test_e2e_execute_statement_permission_does_not_grant_partiql(sb):
    ddb = _new_role(sb, "OnlyExecuteStatement", [
        {"Effect": "Allow", "Action": "dynamodb:ExecuteStatement", "Resource": "*"}])
    code, message = _error(lambda: ddb.execute_statement(
        Statement=_select(f'"{sb.private_table}"', "account = 'ACC-001'")))
    assert code == "AccessDeniedException"
    assert "dynamodb:PartiQLSelect on resource: " in message and sb.private_table in message


@pytest.mark.sandbox
def test_e2e_partiql_select_is_per_table_and_index(sb):
    statements = [{"Effect": "Allow", "Action": "dynamodb:PartiQLSelect", "Resource": sb.table_arn}]
    ddb = _new_role(sb, "PartiQLSelectOrders", statements)
    rows = ddb.execute_statement(Statement=_select(f'"{sb.table}"', "customer_id = ?"),
                                 Parameters=[{"S": "C-0001"}])["Items"]
    assert rows and all(r["customer_id"] == {"S": "C-0001"} for r in rows)
    assert _error(lambda: ddb.execute_statement(
        Statement=_select(f'"{sb.private_table}"', "account = 'ACC-001'")))[0] == (
        "AccessDeniedException")
    index = f'"{sb.table}"."{sb.index}"'
    code, message = _error(lambda: ddb.execute_statement(Statement=_select(index, "status = 'open'")))
    assert code == "AccessDeniedException" and f"{sb.table_arn}/index/{sb.index}" in message
    sb.admin_session("B").client("iam").put_role_policy(
        RoleName="PartiQLSelectOrders", PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{**statements[0], "Resource": [
                sb.table_arn, f"{sb.table_arn}/index/{sb.index}"]}]}))
    try:  # allowed now; moto 5.1 itself cannot serve SELECT ... FROM "table"."index"
        assert "Items" in ddb.execute_statement(Statement=_select(index, "status = 'returned'"))
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.sandbox
def test_e2e_partiql_leading_keys_fail_closed(sb):
    ddb = _new_role(sb, "PartiQLOwnPartition", [{
        "Effect": "Allow", "Action": "dynamodb:PartiQLSelect", "Resource": sb.table_arn,
        "Condition": {"ForAllValues:StringEquals": {LK: ["C-0001"]}}}])
    assert ddb.execute_statement(Statement=_select(f'"{sb.table}"', "customer_id = 'C-0001'"))[
        "Items"]
    for where in ("customer_id = 'C-0002'", "", "customer_id = 'C-0001' OR customer_id = 'C-0002'"):
        assert _error(lambda w=where: ddb.execute_statement(
            Statement=_select(f'"{sb.table}"', w)))[0] == "AccessDeniedException"


@pytest.mark.sandbox
def test_e2e_transact_get_items_needs_get_item(sb):
    ddb = _new_role(sb, "GetItemOnly", [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": sb.table_arn}])
    key = {"customer_id": {"S": "C-0001"}, "order_ts": {"S": "2026-01-08T02:55:00Z"}}
    got = ddb.transact_get_items(TransactItems=[{"Get": {"TableName": sb.table, "Key": key}}])
    assert got["Responses"][0]["Item"]["customer_id"] == {"S": "C-0001"}
    code, message = _error(lambda: ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": sb.private_table, "Key": {"account": {"S": "ACC-001"}}}}]))
    assert code == "AccessDeniedException" and "dynamodb:GetItem" in message


@pytest.mark.sandbox
def test_e2e_transact_write_items_by_the_writer_role(sb):
    ddb = _client(sb, sb.writer_role_arn, sb.analyst_session(), sb.external_id)

    def put(customer: str) -> Any:
        return ddb.transact_write_items(TransactItems=[{"Put": {"TableName": sb.table, "Item": {
            "customer_id": {"S": customer}, "order_ts": {"S": "2099-03-03T00:00:00Z"},
            "note": {"S": "transaction"}}}}])

    put("C-0001")
    key = {"customer_id": {"S": "C-0001"}, "order_ts": {"S": "2099-03-03T00:00:00Z"}}
    ddb.delete_item(TableName=sb.table, Key=key)
    code, message = _error(lambda: put("C-0003"))
    assert code == "AccessDeniedException" and "dynamodb:PutItem" in message


@pytest.mark.sandbox
def test_e2e_unattributable_requests_are_refused_in_dynamodb_wording(sb):
    ddb = _client(sb, sb.reader_role_arn, sb.analyst_session(), sb.external_id)
    code, message = _error(lambda: ddb.query(
        TableName=sb.table, KeyConditionExpression="customer_id = :a OR customer_id = :b",
        ExpressionAttributeValues={":a": {"S": "C-0001"}, ":b": {"S": "C-0003"}}))
    assert (code, message) == ("ValidationException",
                               "Invalid operator used in KeyConditionExpression: OR")
    code, message = _error(lambda: ddb.get_item(TableName=sb.table, Key={
        "customer_id": {"S": "C-0001"}, "order_ts": {"N": "1"}}))
    assert (code, message) == ("ValidationException",
                               "The provided key element does not match the schema")
    code, message = _error(lambda: ddb.execute_statement(
        Statement=f"SELECT * FROM \"{sb.table}\" WHERE customer_id IN "
                  f"(SELECT account FROM \"{sb.private_table}\")"))
    assert code == "ValidationException"
    assert message.startswith("Statement wasn't well formed, can't be processed: ")


@pytest.mark.sandbox
def test_a_caller_without_access_learns_nothing_of_the_key_schema(sandbox):
    """AWS authorizes before it validates: no key names or types leak to outsiders."""
    import boto3  # noqa: F401 - plain boto3 through the sandbox's sessions

    sts = sandbox.analyst_session().client("sts")
    creds = sts.assume_role(RoleArn=sandbox.reader_role_arn, RoleSessionName="probe",
                            ExternalId=sandbox.external_id)["Credentials"]
    ddb = sandbox.analyst_session().client(
        "dynamodb", aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
    for call in (
        lambda: ddb.get_item(TableName=sandbox.private_table, Key={"wrong": {"N": "1"}}),
        lambda: ddb.query(TableName=sandbox.private_table, KeyConditionExpression="a > :v",
                          ExpressionAttributeValues={":v": {"S": "x"}}),
    ):
        with pytest.raises(ClientError) as info:
            call()
        error = info.value.response["Error"]
        assert error["Code"] == "AccessDeniedException", error
        assert "account" not in error["Message"].replace("Account", "")  # the key's name
    # The same mistakes on a table the role may read get DynamoDB's validation message.
    with pytest.raises(ClientError) as info:
        ddb.get_item(TableName=sandbox.table, Key={"wrong": {"N": "1"}})
    assert info.value.response["Error"]["Code"] == "ValidationException"
