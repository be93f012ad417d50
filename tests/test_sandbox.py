"""The sandbox, seen from outside: plain boto3 over HTTP, as any client would see it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import boto3
import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb.sandbox import _demo_data as demo

pytestmark = pytest.mark.sandbox


INDEPENDENT_PROGRAM = textwrap.dedent(
    """
    # Written against boto3 only: endpoint and keys come from the environment.
    import sys
    import boto3

    role_arn, external_id, table = sys.argv[1:4]
    sts = boto3.client("sts")
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="independent",
                            ExternalId=external_id)["Credentials"]
    ddb = boto3.client("dynamodb", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    count, pages, kwargs = 0, 0, {}
    while True:
        page = ddb.scan(TableName=table, **kwargs)
        count += len(page["Items"])
        pages += 1
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    who = boto3.client("sts", aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"]).get_caller_identity()
    print(who["Account"], count, pages)
    """
)


def test_independent_boto3_program_assumes_reader_and_scans(sandbox, tmp_path):
    script = tmp_path / "independent.py"
    script.write_text(INDEPENDENT_PROGRAM)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(sandbox.env(with_role=False))
    out = subprocess.run(
        [sys.executable, str(script), sandbox.reader_role_arn, sandbox.external_id, sandbox.table],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    ).stdout.split()
    assert out[0] == sandbox.account_b
    assert int(out[1]) == demo.ORDER_COUNT
    assert int(out[2]) > 1  # DynamoDB-like paging, not one giant page


def test_aws_config_profile_points_boto3_at_the_sandbox(sandbox, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(sandbox.aws_config_file))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(sandbox.aws_credentials_file))
    session = boto3.Session(profile_name=xn.sandbox.PROFILE)
    arn = session.client("sts").get_caller_identity()["Arn"]
    assert arn == f"arn:aws:iam::{sandbox.account_a}:user/analyst"


def test_accounts_roles_and_policies_are_the_real_documents(sandbox):
    iam_b = sandbox.admin_session("B").client("iam")
    reader = iam_b.get_role(RoleName="DynamoDBReaderRoleForAccountA")["Role"]
    assert reader["Arn"] == sandbox.reader_role_arn
    trust = reader["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust == policies.trust_policy(sandbox.account_a, external_id=sandbox.external_id)
    doc = iam_b.get_role_policy(
        RoleName="DynamoDBReaderRoleForAccountA", PolicyName="ReadMyCrossAccountTable"
    )["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    provisioned_arn = policies.table_arn(sandbox.region, sandbox.account_b,
                                         sandbox.provisioned_table)
    assert doc == policies.read_only_policy([sandbox.table_arn, provisioned_arn])
    assert set(doc["Statement"][0]["Action"]) >= {
        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
        "dynamodb:DescribeTable",
    }
    writer = iam_b.get_role_policy(
        RoleName="DynamoDBWriterRoleForAccountA", PolicyName="WriteOwnPartitions"
    )["PolicyDocument"]
    writer = json.loads(writer) if isinstance(writer, str) else writer
    condition = writer["Statement"][1]["Condition"]["ForAllValues:StringEquals"]
    assert condition["dynamodb:LeadingKeys"] == sandbox.writer_partitions

    iam_a = sandbox.admin_session("A").client("iam")
    assert iam_a.get_role(RoleName="AssumeDynamoDBAccessRole")["Role"]["Arn"] == (
        sandbox.requester_role_arn
    )
    analyst = iam_a.get_user_policy(UserName="analyst", PolicyName="AssumeCrossAccountRoles")
    analyst_doc = analyst["PolicyDocument"]
    analyst_doc = json.loads(analyst_doc) if isinstance(analyst_doc, str) else analyst_doc
    assert analyst_doc["Statement"][0]["Resource"] == [
        sandbox.reader_role_arn, sandbox.writer_role_arn, sandbox.requester_role_arn
    ]


def test_tables_index_and_second_table(sandbox):
    ddb = sandbox.admin_session("B").client("dynamodb")
    assert sorted(ddb.list_tables()["TableNames"]) == sorted(
        [sandbox.table, sandbox.private_table, sandbox.provisioned_table])
    desc = ddb.describe_table(TableName=sandbox.table)["Table"]
    assert [k["AttributeName"] for k in desc["KeySchema"]] == ["customer_id", "order_ts"]
    gsi = desc["GlobalSecondaryIndexes"][0]
    assert gsi["IndexName"] == sandbox.index == "status-index"
    assert gsi["KeySchema"][0]["AttributeName"] == "status"
    # Account A has no tables: the owner's data lives only in B.
    assert sandbox.admin_session("A").client("dynamodb").list_tables()["TableNames"] == []


def _scan_all(client, table):
    items, kwargs = [], {}
    while True:
        page = client.scan(TableName=table, **kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_demo_data_is_deterministic_and_covers_every_type(sandbox):
    assert demo.order_items() == demo.order_items()
    items = _scan_all(sandbox.admin_session("B").client("dynamodb"), sandbox.table)
    assert len(items) == demo.ORDER_COUNT
    tags = {tag for item in items for value in item.values() for tag in value}
    assert tags == {"S", "N", "BOOL", "NULL", "SS", "NS", "BS", "L", "M", "B"}
    # Sparse attributes: present in some items, absent from others.
    with_points = sum("loyalty_points" in item for item in items)
    assert 0 < with_points < len(items)
    # Numbers beyond int64 are stored exactly.
    assert max(int(item["ledger_ref"]["N"]) for item in items) > 2**63
    # What is served equals what was generated (B values come back as bytes).
    expected = {(i["customer_id"]["S"], i["order_ts"]["S"]): i for i in demo.order_items()}
    served = {(i["customer_id"]["S"], i["order_ts"]["S"]): i for i in items}
    assert served.keys() == expected.keys()
    key = next(k for k, v in expected.items() if "lines" in v and "tags" in v)
    assert served[key]["lines"] == expected[key]["lines"]
    assert served[key]["tags"] == expected[key]["tags"]


def test_unknown_access_key_is_refused_in_aws_wire_format(sandbox):
    bogus = boto3.Session(
        aws_access_key_id="AKIAUNKNOWN000000000", aws_secret_access_key="nope",
        region_name=sandbox.region,
    )
    with pytest.raises(ClientError) as ddb_err:
        bogus.client("dynamodb", endpoint_url=sandbox.endpoint_url).list_tables()
    assert ddb_err.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert ddb_err.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )
    with pytest.raises(ClientError) as sts_err:
        bogus.client("sts", endpoint_url=sandbox.endpoint_url).get_caller_identity()
    assert sts_err.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert sts_err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_callers_cannot_pick_their_account_with_motos_header(sandbox):
    ddb = sandbox.admin_session("A").client("dynamodb")

    def spoof(request, **_):
        request.headers["x-moto-account-id"] = sandbox.account_b

    ddb.meta.events.register("before-sign", spoof)
    # Account A's administrator stays in account A, which owns no tables.
    assert ddb.list_tables()["TableNames"] == []


def test_scan_pages_like_dynamodb(sandbox):
    ddb = sandbox.admin_session("B").client("dynamodb")
    page = ddb.scan(TableName=sandbox.table)
    assert 0 < len(page["Items"]) < demo.ORDER_COUNT
    assert "LastEvaluatedKey" in page
    small = ddb.scan(TableName=sandbox.table, Limit=10)
    assert len(small["Items"]) == 10


def test_port_in_use_is_a_clear_error(sandbox):
    port = int(sandbox.endpoint_url.rsplit(":", 1)[1])
    with pytest.raises(xn.SandboxError, match=f"127.0.0.1:{port}.*in use.*port=0"):
        xn.sandbox.start(port=port)


@pytest.mark.parametrize("port", [-1, 70000, "80"])
def test_bad_port_is_rejected_before_starting(port):
    with pytest.raises(xn.InvalidArgumentError, match="port must be an integer"):
        xn.sandbox.start(port=port)


def test_lifecycle_repr_and_expiring_credentials():
    with xn.sandbox.start() as sb:
        assert sb.running
        text = repr(sb) + str(sb) + sb.instructions()
        for secret in ("secret_access_key",):
            for who in sb._credentials.values():
                assert who[secret] not in text
        session = xn.assume_role(
            sb.reader_role_arn, external_id=sb.external_id, source_session=sb.analyst_session(),
            duration_seconds=900,
        )
        creds = session.get_credentials().get_frozen_credentials()
        static = boto3.Session(
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            aws_session_token=creds.token, region_name=sb.region,
        )
        ddb = static.client("dynamodb", endpoint_url=sb.endpoint_url)
        ddb.describe_table(TableName=sb.table)
        sb.advance_clock(901)
        with pytest.raises(ClientError) as err:
            ddb.describe_table(TableName=sb.table)
        assert err.value.response["Error"]["Code"] == "ExpiredTokenException"
        with pytest.raises(xn.InvalidArgumentError, match="Unknown sandbox account"):
            sb.admin_session("C")
    assert not sb.running
    sb.stop()  # idempotent
    with pytest.raises(xn.SandboxError, match="not running"):
        sb.analyst_session()
