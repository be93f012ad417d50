"""The sandbox enforces IAM like AWS, seen through plain boto3; verify_access explains it.

This module starts its own sandbox, because some tests change policies.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb import policies

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def sb():
    with xn.sandbox.start() as sandbox:
        yield sandbox


def _role_client(sb, role_arn, service="dynamodb", external_id=None, source=None):
    sts = (source or sb.analyst_session()).client("sts")
    kwargs = {"RoleArn": role_arn, "RoleSessionName": "plain-boto3"}
    if external_id is not None:
        kwargs["ExternalId"] = external_id
    creds = sts.assume_role(**kwargs)["Credentials"]
    return boto3.client(
        service, endpoint_url=sb.endpoint_url, region_name=sb.region,
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def _denied(call):
    with pytest.raises(ClientError) as err:
        call()
    return err.value.response["Error"]["Code"], err.value.response["Error"]["Message"]


KEY = {"customer_id": {"S": "C-0001"}, "order_ts": {"S": "2026-01-08T02:55:00Z"}}


def test_reader_reads_table_and_indexes(sb):
    ddb = _role_client(sb, sb.reader_role_arn, external_id=sb.external_id)
    assert ddb.describe_table(TableName=sb.table)["Table"]["TableName"] == sb.table
    assert "Item" in ddb.get_item(TableName=sb.table, Key=KEY)
    assert ddb.query(TableName=sb.table, KeyConditionExpression="customer_id = :c",
                     ExpressionAttributeValues={":c": {"S": "C-0001"}})["Count"] > 0
    assert ddb.query(TableName=sb.table, IndexName=sb.index, KeyConditionExpression="#s = :s",
                     ExpressionAttributeNames={"#s": "status"},
                     ExpressionAttributeValues={":s": {"S": "returned"}}, Limit=5)["Count"] == 5
    assert ddb.scan(TableName=sb.table, Limit=3)["Count"] == 3
    got = ddb.batch_get_item(RequestItems={sb.table: {"Keys": [KEY]}})
    assert len(got["Responses"][sb.table]) == 1


def test_reader_cannot_write_or_touch_the_other_table(sb):
    ddb = _role_client(sb, sb.reader_role_arn, external_id=sb.external_id)
    code, message = _denied(lambda: ddb.put_item(TableName=sb.table, Item=KEY))
    assert code == "AccessDeniedException"
    assert message == (
        "User: arn:aws:sts::222222222222:assumed-role/DynamoDBReaderRoleForAccountA/plain-boto3 "
        "is not authorized to perform: dynamodb:PutItem on resource: "
        "arn:aws:dynamodb:us-east-1:222222222222:table/MyCrossAccountTable because no "
        "identity-based policy allows the dynamodb:PutItem action"
    )
    for call in (
        lambda: ddb.delete_item(TableName=sb.table, Key=KEY),
        lambda: ddb.batch_write_item(RequestItems={sb.table: [{"DeleteRequest": {"Key": KEY}}]}),
        lambda: ddb.scan(TableName=sb.private_table),
        lambda: ddb.get_item(TableName=sb.private_table, Key={"account": {"S": "ACC-001"}}),
        lambda: ddb.list_tables(),
    ):
        assert _denied(call)[0] == "AccessDeniedException"


def test_external_id_is_required_and_checked(sb):
    sts = sb.analyst_session().client("sts")
    for kwargs in ({}, {"ExternalId": "wrong-external-id"}):
        with pytest.raises(ClientError) as err:
            sts.assume_role(RoleArn=sb.reader_role_arn, RoleSessionName="probe", **kwargs)
        assert err.value.response["Error"]["Code"] == "AccessDenied"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert err.value.response["Error"]["Message"] == (
            "User: arn:aws:iam::111111111111:user/analyst is not authorized to perform: "
            "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA"
        )
    with pytest.raises(xn.AssumeRoleError, match="ExternalId given does not match"):
        xn.assume_role(sb.reader_role_arn, external_id="wrong-external-id",
                       source_session=sb.analyst_session())
    with pytest.raises(xn.AssumeRoleError, match="requires an ExternalId and none was given"):
        xn.assume_role(sb.reader_role_arn, source_session=sb.analyst_session())


def test_writer_writes_only_its_partitions(sb):
    ddb = _role_client(sb, sb.writer_role_arn, external_id=sb.external_id)
    mine = {"customer_id": {"S": "C-0002"}, "order_ts": {"S": "2099-01-01T00:00:00Z"},
            "note": {"S": "written by the writer role"}}
    ddb.put_item(TableName=sb.table, Item=mine)
    ddb.delete_item(TableName=sb.table, Key={k: mine[k] for k in ("customer_id", "order_ts")})
    theirs = dict(mine, customer_id={"S": "C-0003"})
    code, message = _denied(lambda: ddb.put_item(TableName=sb.table, Item=theirs))
    assert code == "AccessDeniedException" and "dynamodb:PutItem" in message
    # A batch is allowed only if every partition in it is.
    code, _ = _denied(lambda: ddb.batch_write_item(RequestItems={sb.table: [
        {"PutRequest": {"Item": mine}}, {"PutRequest": {"Item": theirs}}]}))
    assert code == "AccessDeniedException"
    # The high-level writer reports the denied rows and writes the rest.
    writer = xn.assume_role(sb.writer_role_arn, external_id=sb.external_id,
                            source_session=sb.analyst_session())
    import pandas as pd

    frame = pd.DataFrame({"customer_id": ["C-0001", "C-0004"],
                          "order_ts": ["2099-02-02T00:00:00Z", "2099-02-02T00:00:00Z"]})
    with pytest.raises(xn.IncompleteWriteError) as err:
        xn.write_frame(writer, sb.table, frame)
    report = err.value.report  # one batch, denied as a whole, as AWS does
    assert report.rows_written == 0 and list(report.failed.customer_id) == ["C-0001", "C-0004"]
    assert "AccessDeniedException" in report.failed["_error"].iloc[0]
    assert xn.write_frame(writer, sb.table, frame.iloc[:1]).rows_written == 1
    ddb.delete_item(TableName=sb.table, Key={"customer_id": {"S": "C-0001"},
                                             "order_ts": {"S": "2099-02-02T00:00:00Z"}})


def test_third_account_is_denied(sb):
    sts = sb.outsider_session().client("sts")
    assert sts.get_caller_identity()["Account"] == sb.account_c
    with pytest.raises(ClientError) as err:
        sts.assume_role(RoleArn=sb.reader_role_arn, RoleSessionName="probe",
                        ExternalId=sb.external_id)
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert "arn:aws:iam::333333333333:user/outsider is not authorized" in (
        err.value.response["Error"]["Message"]
    )


def test_analyst_cannot_administer_iam(sb):
    iam = sb.analyst_session().client("iam")
    code, message = _denied(lambda: iam.create_role(
        RoleName="Escalate", AssumeRolePolicyDocument=json.dumps(policies.trust_policy(sb.account_a))))
    assert code == "AccessDenied"
    assert "is not authorized to perform: iam:CreateRole on resource: " in message


def test_explicit_deny_and_mfa_trust(sb):
    iam_b = sb.admin_session("B").client("iam")
    deny_scan = {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoFullScans", "Effect": "Deny", "Action": "dynamodb:Scan", "Resource": "*"}]}
    iam_b.create_role(RoleName="StrictReader",
                      AssumeRolePolicyDocument=json.dumps(
                          policies.trust_policy(sb.account_a, require_mfa=True)))
    iam_b.put_role_policy(RoleName="StrictReader", PolicyName="Read",
                          PolicyDocument=json.dumps(policies.read_only_policy(sb.table_arn)))
    iam_b.put_role_policy(RoleName="StrictReader", PolicyName="NoScans",
                          PolicyDocument=json.dumps(deny_scan))
    iam_a = sb.admin_session("A").client("iam")
    role = f"arn:aws:iam::{sb.account_b}:role/StrictReader"
    iam_a.put_user_policy(UserName="analyst", PolicyName="StrictReader",
                          PolicyDocument=json.dumps(policies.assume_role_policy(role)))
    with pytest.raises(xn.AssumeRoleError, match="not authorized to perform: sts:AssumeRole"):
        xn.assume_role(role, source_session=sb.analyst_session())  # no MFA
    session = xn.assume_role(role, source_session=sb.analyst_session(),
                             mfa_serial=sb.mfa_serial, mfa_token="123456")
    assert len(xn.read_query(session, sb.table, "C-0001")) > 0
    with pytest.raises(xn.AccessDeniedError, match="with an explicit deny in an identity-based"):
        xn.read_scan(session, sb.table)
    report = xn.verify_access(session, sb.table, include_writes=False,
                              policies=sb.role_policies(role))
    assert report.allowed("Query") is True and report.allowed("Scan") is False
    row = report.frame.set_index("action").loc["Scan"]
    assert "explicitly denies dynamodb:Scan" in row.hint
    assert "NoFullScans" in row.statement


def test_table_resource_policy_allows_access_by_arn(sb):
    """The alternative without a role: the table's policy names account A."""
    ledger_arn = sb.table_arn.replace(sb.table, sb.private_table)
    analyst = sb.analyst_session()
    code, message = _denied(lambda: analyst.client("dynamodb").get_item(
        TableName=ledger_arn, Key={"account": {"S": "ACC-001"}}))
    assert "because no identity-based policy allows the dynamodb:GetItem action" in message
    sb.admin_session("A").client("iam").put_user_policy(
        UserName="analyst", PolicyName="ReadLedgerByArn",
        PolicyDocument=json.dumps(policies.read_only_policy(ledger_arn)))
    code, message = _denied(lambda: analyst.client("dynamodb").get_item(
        TableName=ledger_arn, Key={"account": {"S": "ACC-001"}}))
    assert "because no resource-based policy allows the dynamodb:GetItem action" in message
    resource_policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "ShareLedgerWithA", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{sb.account_a}:root"},
        "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable"],
        "Resource": ledger_arn}]}
    sb.admin_session("B").client("dynamodb").put_resource_policy(
        ResourceArn=ledger_arn, Policy=json.dumps(resource_policy))
    item = analyst.client("dynamodb").get_item(TableName=ledger_arn,
                                               Key={"account": {"S": "ACC-001"}})["Item"]
    assert item["balance"] == {"N": "1017"}
    df = xn.read_query(analyst, ledger_arn, "ACC-002")
    assert list(df.balance) == [2017]
    code, message = _denied(lambda: analyst.client("dynamodb").scan(TableName=ledger_arn))
    assert "because no resource-based policy allows the dynamodb:Scan action" in message


def _snapshot(sb):
    ddb = sb.admin_session("B").client("dynamodb")
    items, kwargs = [], {}
    while True:
        page = ddb.scan(TableName=sb.table, **kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(json.dumps(i, sort_keys=True, default=repr) for i in items)


def test_full_probe_changes_nothing(sb):
    before = _snapshot(sb)
    writer = xn.assume_role(sb.writer_role_arn, external_id=sb.external_id,
                            source_session=sb.analyst_session())
    key = {"customer_id": "C-0001", "order_ts": "2026-01-08T02:55:00Z"}  # an existing item
    report = xn.verify_access(writer, sb.table, key=key)
    assert report.ok, str(report)
    assert set(report.frame.action) >= {
        "DescribeTable", "GetItem", "Query", "Scan", "BatchGetItem", "PutItem", "UpdateItem",
        "DeleteItem", "BatchWriteItem", "Query index status-index",
    }
    assert _snapshot(sb) == before  # byte for byte


def test_report_views_and_leading_keys_explanation(sb):
    writer = xn.assume_role(sb.writer_role_arn, external_id=sb.external_id,
                            source_session=sb.analyst_session())
    report = xn.verify_access(writer, sb.table,
                              key={"customer_id": "C-0050", "order_ts": "2026-01-01T00:00:00Z"},
                              policies=sb.role_policies(sb.writer_role_arn))
    assert report.denied == ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]
    put = report.frame.set_index("action").loc["PutItem"]
    assert put.error_code == "AccessDeniedException"
    assert "is not authorized to perform: dynamodb:PutItem" in put.message
    assert put.status == "allowed with conditions"
    assert put.condition == ("every one of the partitions (dynamodb:LeadingKeys) in "
                             "['C-0001', 'C-0002']")
    assert "['C-0001', 'C-0002']" in put.hint and "'C-0050'" in put.hint
    assert put.hint.endswith("(Or, for every action of statement 'WriteOwnPartitions': add "
                             "'C-0050' to its dynamodb:LeadingKeys list.)")
    assert put.fix["op"] == "add_statement"  # PutItem only, on C-0050 only, same condition
    assert put.fix["statement"]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-0050"]}}
    assert "WriteOwnPartitions" in put.statement
    html = report._repr_html_()
    assert "#d4edda" in html and "#f8d7da" in html  # allowed green, denied red
    text = str(report)
    assert "account A: arn:aws:iam::111111111111:user/analyst" in text
    assert "account B: arn:aws:sts::222222222222:assumed-role/DynamoDBWriterRoleForAccountA/" in text
    assert "PutItem" in repr(report) and "expire" in text
    with pytest.raises(xn.InvalidArgumentError, match="was not probed"):
        report.allowed("TransactWriteItems")


def test_report_on_an_ungranted_table(sb):
    reader = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                            source_session=sb.analyst_session())
    report = xn.verify_access(reader, sb.private_table, include_writes=False)
    assert report.allowed("DescribeTable") is False and report.allowed("Scan") is False
    assert report.allowed("GetItem") is None  # key names unknown: not probed
    assert report.status("GetItem") == "not tested"
    assert report.frame.set_index("action").loc["GetItem"].hint == (
        "not tested: DescribeTable is denied, so the key names are unknown; pass "
        "key_schema=('partition_key', 'sort_key') or key= to test it")
    hint = report.frame.set_index("action").loc["Scan"].hint
    assert "does not allow dynamodb:Scan" in hint and '"Action": "dynamodb:Scan"' in hint
