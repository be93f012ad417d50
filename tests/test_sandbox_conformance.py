"""The sandbox refuses what DynamoDB refuses, with DynamoDB's error code and exact message.

Each case is one request sent with plain boto3 (client-side parameter validation
off, so the server sees exactly what a careless client sends) and the code and
message AWS answers, quoted from AWS's documentation or from a public report of
a real DynamoDB response (the source is given in a comment per case).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import xacct_nb as xn

pytestmark = pytest.mark.sandbox

ORDERS = "MyCrossAccountTable"
KEY = {"customer_id": {"S": "C-0001"}, "order_ts": {"S": "1999-01-01T00:00:00Z"}}
BY_CUSTOMER = {"KeyConditionExpression": "customer_id = :c",
               "ExpressionAttributeValues": {":c": {"S": "C-0001"}}}
OWN = "{own}"  # replaced by the name of the table this module creates for writes
VALIDATION = "ValidationException"

CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    # Source: rebuy-de/aws-nuke#412, airbytehq/airbyte#19739, dynamoose/dynamoose#981
    # ("Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: ...").
    ("reserved word in ProjectionExpression", "scan",
     {"TableName": ORDERS, "ProjectionExpression": "customer_id, status", "Limit": 1},
     VALIDATION,
     "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status"),
    # Source: kestra-io/plugin-aws#358, awspilot/dynamodb-oop#29 (Query / Scan answers).
    ("unused ExpressionAttributeValues", "query",
     {"TableName": ORDERS, "KeyConditionExpression": "customer_id = :c",
      "ExpressionAttributeValues": {":c": {"S": "C-0001"}, ":lastname": {"S": "x"}}},
     VALIDATION, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:lastname}"),
    # Source: AllocZero/EfficientDynamoDb#170.
    ("unused ExpressionAttributeNames", "query",
     {"TableName": ORDERS, "ProjectionExpression": "order_id",
      "ExpressionAttributeNames": {"#f2": "total"}, **BY_CUSTOMER},
     VALIDATION, "Value provided in ExpressionAttributeNames unused in expressions: keys: {#f2}"),
    # Source: nubo-db/dynoxide#13 (real DynamoDB: "Invalid UpdateExpression: An expression
    # attribute value used in expression is not defined; attribute value: :v"); aws/aws-sdk-go#3973.
    ("undefined value placeholder", "update_item",
     {"TableName": OWN, "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}},
      "UpdateExpression": "SET a = :v"},
     VALIDATION,
     "Invalid UpdateExpression: An expression attribute value used in expression is not defined; "
     "attribute value: :v"),
    # Source: neoeinstein/modyne#3 ("Invalid UpdateExpression: An expression attribute name used
    # in the document path is not defined; attribute name: #upd_my_attribute_name").
    ("undefined name placeholder", "update_item",
     {"TableName": OWN, "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}},
      "UpdateExpression": "SET #upd_my_attribute_name = :v",
      "ExpressionAttributeValues": {":v": {"S": "x"}}},
     VALIDATION,
     "Invalid UpdateExpression: An expression attribute name used in the document path is not "
     "defined; attribute name: #upd_my_attribute_name"),
    # Source: boto/boto3#3793, MitocGroup/deep-framework#538 (key missing its sort key element).
    ("missing key schema element", "get_item",
     {"TableName": ORDERS, "Key": {"customer_id": {"S": "C-0001"}}},
     VALIDATION, "The provided key element does not match the schema"),
    # Source: dynamoose/dynamoose#353 ("Query condition missed key schema element: local").
    ("Query condition missed key schema element", "query",
     {"TableName": ORDERS, "KeyConditionExpression": "order_ts = :t",
      "ExpressionAttributeValues": {":t": {"S": "2026"}}},
     VALIDATION, "Query condition missed key schema element: customer_id"),
    # Source: boto/boto#1584 ("1 validation error detected: Value '0' at 'limit' failed to
    # satisfy constraint: Member must have value greater than or equal to 1").
    ("Limit 0", "scan", {"TableName": ORDERS, "Limit": 0},
     VALIDATION,
     "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must "
     "have value greater than or equal to 1"),
    # Source: paritysuite/dynamodb-conformance tests/tier3/error-messages/batchWriteItem.test.ts
    # ("empty-string table key: full empty-value message").
    ("empty string key", "batch_write_item",
     {"RequestItems": {OWN: [{"PutRequest": {"Item": {"pk": {"S": ""}, "sk": {"S": "x"}}}}]}},
     VALIDATION,
     "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
     "contain an empty string value. Key: pk"),
    # Source: API_PutItem (ConditionalCheckFailedException); moto's AWS-verified text;
    # aws-samples answers "The conditional request failed".
    ("ConditionalCheckFailed", "put_item",
     {"TableName": OWN, "Item": {"pk": {"S": "ccf"}, "sk": {"S": "1"}},
      "ConditionExpression": "attribute_exists(pk)"},
     "ConditionalCheckFailedException", "The conditional request failed"),
    # Source: paritysuite batchGetItem.test.ts / batchWriteItem.test.ts ("non-existent table:
    # full ResourceNotFoundException message"); baopham/laravel-dynamodb#198 (Scan).
    ("table not found (Scan)", "scan", {"TableName": "NoSuchTable"},
     "ResourceNotFoundException", "Requested resource not found"),
    ("table not found (BatchGetItem)", "batch_get_item",
     {"RequestItems": {"NoSuchTable": {"Keys": [{"pk": {"S": "a"}}]}}},
     "ResourceNotFoundException", "Requested resource not found"),
    # Source: DescribeTable names the table: "Requested resource not found: Table: <name> not found"
    # (moto's AWS-verified ResourceNotFoundException; AWS CLI describe-table answers).
    ("table not found (DescribeTable)", "describe_table", {"TableName": "NoSuchTable"},
     "ResourceNotFoundException", "Requested resource not found: Table: NoSuchTable not found"),
    # Source: paritysuite indexReads.test.ts ("ConsistentRead on GSI").
    ("consistent read on a GSI", "query",
     {"TableName": ORDERS, "IndexName": "status-index", "ConsistentRead": True,
      "KeyConditionExpression": "#s = :s", "ExpressionAttributeNames": {"#s": "status"},
      "ExpressionAttributeValues": {":s": {"S": "pending"}}},
     VALIDATION, "Consistent reads are not supported on global secondary indexes"),
    # Source: paritysuite tests/tier3/limits/numberByteSize.test.ts (PUT_WORDING).
    ("item too large", "put_item",
     {"TableName": OWN, "Item": {"pk": {"S": "big"}, "sk": {"S": "1"}, "x": {"S": "x" * 410_000}}},
     VALIDATION, "Item size has exceeded the maximum allowed size"),
    # Source: aws/aws-cdk#7591 ("Invalid UpdateExpression: Syntax error; token: \":\", near:
    # \"hits : incr\"").
    ("invalid UpdateExpression syntax", "update_item",
     {"TableName": OWN, "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}},
      "UpdateExpression": "ADD hits : incr", "ExpressionAttributeValues": {":incr": {"N": "1"}}},
     VALIDATION, 'Invalid UpdateExpression: Syntax error; token: ":", near: "hits : incr"'),
    # Source: paritysuite batchGetItem.test.ts ("> 100 keys across all tables").
    ("BatchGetItem with more than 100 keys", "batch_get_item",
     {"RequestItems": {ORDERS: {"Keys": [
         {"customer_id": {"S": f"C-{i}"}, "order_ts": {"S": "x"}} for i in range(101)]}}},
     VALIDATION,
     f"1 validation error detected: Value at 'RequestItems.{ORDERS}.member.Keys' failed to satisfy "
     "constraint: Member must have length less than or equal to 100"),
    # Source: paritysuite batchWriteItem.test.ts ("> 25 requests", the member-path wording).
    ("BatchWriteItem with more than 25 requests", "batch_write_item",
     {"RequestItems": {OWN: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}, "sk": {"S": "1"}}}}
                             for i in range(26)]}},
     VALIDATION,
     f"1 validation error detected: Value at 'RequestItems.{OWN}.member' failed to satisfy "
     "constraint: Member must have length less than or equal to 25"),
    # Source: paritysuite batchWriteItem.test.ts ("same key Put and Delete in one batch").
    ("duplicate keys in BatchWriteItem", "batch_write_item",
     {"RequestItems": {OWN: [{"PutRequest": {"Item": {"pk": {"S": "dup"}, "sk": {"S": "1"}}}},
                             {"DeleteRequest": {"Key": {"pk": {"S": "dup"}, "sk": {"S": "1"}}}}]}},
     VALIDATION, "Provided list of item keys contains duplicates"),
    # Source: paritysuite batchGetItem.test.ts ("duplicate keys in one Keys array").
    ("duplicate keys in BatchGetItem", "batch_get_item",
     {"RequestItems": {ORDERS: {"Keys": [KEY, KEY]}}},
     VALIDATION, "Provided list of item keys contains duplicates"),
    # Source: paritysuite batchGetItem.test.ts / putItem.test.ts ("mixing expression and
    # non-expression").
    ("both expression and non-expression parameters", "get_item",
     {"TableName": ORDERS, "Key": KEY, "ProjectionExpression": "order_id",
      "AttributesToGet": ["order_id"]},
     VALIDATION,
     "Can not use both expression and non-expression parameters in the same request: "
     "Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"),
    # Source: paritysuite/dynamodb-conformance#65 ("Must specify the AttributesToGet or
    # ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES").
    ("Select SPECIFIC_ATTRIBUTES without a projection", "scan",
     {"TableName": ORDERS, "Select": "SPECIFIC_ATTRIBUTES"},
     VALIDATION,
     "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
     "SPECIFIC_ATTRIBUTES"),
    # Source: paritysuite/dynamodb-conformance#48 ("Cannot specify the ProjectionExpression when
    # choosing to get ALL_ATTRIBUTES").
    ("Select ALL_ATTRIBUTES with a projection", "query",
     {"TableName": ORDERS, "Select": "ALL_ATTRIBUTES", "ProjectionExpression": "order_id",
      **BY_CUSTOMER},
     VALIDATION, "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES"),
    # Source: paritysuite batchGetItem.test.ts ("overlapping parent and child paths (a, a.b)").
    ("overlapping projection paths", "get_item",
     {"TableName": ORDERS, "Key": KEY, "ProjectionExpression": "a, a.b"},
     VALIDATION,
     "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or "
     "rewrite one of these paths; path one: [a], path two: [a, b]"),
    # Source: ministackorg/ministack#1432 (real AWS table) and awslabs/dynamodb-document-js-sdk#17.
    ("PutItem key of the wrong type", "put_item",
     {"TableName": ORDERS, "Item": {"customer_id": {"N": "1"}, "order_ts": {"S": "x"}}},
     VALIDATION,
     "One or more parameter values were invalid: Type mismatch for key customer_id expected: S "
     "actual: N"),
    # Source: ministackorg/ministack#1432 (GetItem / UpdateItem / BatchWriteItem with an N key);
    # nubo-db/dynoxide#97 (BatchWriteItem, captured in eu-west-2).
    ("GetItem key of the wrong type", "get_item",
     {"TableName": ORDERS, "Key": {"customer_id": {"N": "1"}, "order_ts": {"S": "x"}}},
     VALIDATION, "The provided key element does not match the schema"),
    ("BatchWriteItem key of the wrong type", "batch_write_item",
     {"RequestItems": {OWN: [{"PutRequest": {"Item": {"pk": {"N": "5"}, "sk": {"S": "1"}}}}]}},
     VALIDATION, "The provided key element does not match the schema"),
    # Source: floci-io/floci#2467, baseprime/dynamodb#25, aws/aws-sdk-js#1736.
    ("Query key condition of the wrong type", "query",
     {"TableName": ORDERS, "KeyConditionExpression": "customer_id = :c",
      "ExpressionAttributeValues": {":c": {"N": "1"}}},
     VALIDATION,
     "One or more parameter values were invalid: Condition parameter type does not match schema type"),
    # Source: dynamoose/dynamoose#382, truora/minidyn#76.
    ("updating a key attribute", "update_item",
     {"TableName": OWN, "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}},
      "UpdateExpression": "SET sk = :v", "ExpressionAttributeValues": {":v": {"S": "c"}}},
     VALIDATION,
     "One or more parameter values were invalid: Cannot update attribute sk. This attribute is "
     "part of the key"),
    # Source: nasa-gcn/gcn.nasa.gov#3349, awsdocs/amazon-dynamodb-developer-guide#274.
    ("Query without a key condition", "query",
     {"TableName": ORDERS, "FilterExpression": "total > :t",
      "ExpressionAttributeValues": {":t": {"N": "1"}}},
     VALIDATION,
     "Either the KeyConditions or KeyConditionExpression parameter must be specified in the "
     "request."),
    # Source: baopham/laravel-dynamodb#200 (Scan: "The provided starting key is invalid: The
    # provided key element does not match the schema"); floci-io/floci#1443.
    ("Scan with an invalid ExclusiveStartKey", "scan",
     {"TableName": ORDERS, "ExclusiveStartKey": {"customer_id": {"S": "C-0001"}}},
     VALIDATION,
     "The provided starting key is invalid: The provided key element does not match the schema"),
    # Source: pynamodb/PynamoDB#50, clarkie/dynogels#184, floci-io/floci#1443 (Query wording).
    ("Query with an invalid ExclusiveStartKey", "query",
     {"TableName": ORDERS, "ExclusiveStartKey": {"customer_id": {"S": "C-0001"}}, **BY_CUSTOMER},
     VALIDATION, "The provided starting key is invalid"),
    # Source: paritysuite putItem.test.ts ("empty string set").
    ("empty string set", "put_item",
     {"TableName": OWN, "Item": {"pk": {"S": "set"}, "sk": {"S": "1"}, "bad": {"SS": []}}},
     VALIDATION, "One or more parameter values were invalid: An string set  may not be empty"),
    # Source: paritysuite putItem.test.ts ("PutItem - request validation envelope", captured in
    # eu-west-2 and us-east-1).
    ("ExpressionAttributeValues without an expression", "put_item",
     {"TableName": OWN, "Item": {"pk": {"S": "eav"}, "sk": {"S": "1"}},
      "ExpressionAttributeValues": {":v": {"S": "x"}}},
     VALIDATION,
     "1 validation error detected: ExpressionAttributeValues can only be specified when using "
     "expressions"),
]


@pytest.fixture(scope="module")
def client(sandbox: xn.sandbox.Sandbox) -> Any:
    """Account B's admin, sending requests exactly as given (no client-side validation)."""
    return sandbox.admin_session("B").client(
        "dynamodb", config=Config(parameter_validation=False, retries={"max_attempts": 1}))


@pytest.fixture(scope="module")
def own_table(client: Any) -> Iterator[str]:
    name = f"xacct-conformance-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield name
    client.delete_table(TableName=name)


def _substitute(value: Any, table: str) -> Any:
    if isinstance(value, str):
        return value.replace(OWN, table)
    if isinstance(value, dict):
        return {_substitute(k, table): _substitute(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, table) for v in value]
    return value


def test_the_table_has_at_least_25_cases() -> None:
    assert len(CASES) >= 25
    assert len({name for name, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize(("operation", "params", "code", "message"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_dynamodb_error(
    client: Any, own_table: str, operation: str, params: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(ClientError) as info:
        getattr(client, operation)(**_substitute(params, own_table))
    error = info.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, _substitute(message, own_table))
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


BEHIND_THE_LAYER = r'''
import json, sys
from werkzeug.test import Client
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from xacct_nb.sandbox._server import _put_all, patch_moto
from xacct_nb.sandbox import _demo_data as demo

patch_moto()
client = Client(DomainDispatcherApplication(create_backend_app))
ACCOUNT = "222222222222"

def call(operation, body):
    target = "".join(p.capitalize() for p in operation.split("_"))
    response = client.post("/", data=json.dumps(body), headers={
        "X-Amz-Target": f"DynamoDB_20120810.{target}",
        "Content-Type": "application/x-amz-json-1.0", "x-moto-account-id": ACCOUNT,
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/"
                         "aws4_request, SignedHeaders=host, Signature=0"})
    return response.status_code, json.loads(response.get_data(as_text=True) or "{}")

key = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
call("create_table", {"TableName": "own", "KeySchema": key, "BillingMode": "PAY_PER_REQUEST",
     "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")]})
call("create_table", {"TableName": demo.ORDERS_TABLE, "BillingMode": "PAY_PER_REQUEST",
     "KeySchema": [{"AttributeName": "customer_id", "KeyType": "HASH"},
                   {"AttributeName": "order_ts", "KeyType": "RANGE"}],
     "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"}
                              for n in ("customer_id", "order_ts", "status")],
     "GlobalSecondaryIndexes": [{"IndexName": demo.STATUS_INDEX,
         "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                       {"AttributeName": "order_ts", "KeyType": "RANGE"}],
         "Projection": {"ProjectionType": "ALL"}}]})
_put_all(ACCOUNT, demo.ORDERS_TABLE, demo.order_items(200))
answers = []
for operation, params in json.loads(sys.stdin.read()):
    status, body = call(operation, params)
    answers.append([status, body.get("__type", "").rsplit("#", 1)[-1],
                    body.get("message", body.get("Message"))])
print(json.dumps(answers))
'''


def test_moto_behind_the_layer_answers_every_case_as_dynamodb() -> None:
    """The same table against the patched moto alone (no authorization layer), in a child.

    What the layer refuses itself never reaches moto in the sandbox; this shows
    that what moto answers, once reached, is DynamoDB's answer too.
    """
    import json
    import subprocess
    import sys

    requests = [[operation, _substitute(params, "own")] for _, operation, params, _, _ in CASES]
    done = subprocess.run([sys.executable, "-c", BEHIND_THE_LAYER], input=json.dumps(requests),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = json.loads(done.stdout)
    expected = [[400, code, _substitute(message, "own")] for _, _, _, code, message in CASES]
    assert answers == expected
