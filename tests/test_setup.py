"""Setup plans: printed, applied idempotently through IAM on the sandbox, exported to CloudFormation.

The sandbox enforces IAM like AWS (identity policies, trust policies with
ExternalId, table resource policies), so "it works" here means the applied
documents really grant what the plan says, and nothing more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import pandas as pd
import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb._errors import translate_client_error

A = "111111111111"
B = "222222222222"
TABLE = "MyCrossAccountTable"
REGION = "us-east-1"
EXT = "analytics-ext-42"


def _plan(**overrides):
    options = {"owner_account": B, "requester_account": A, "table": TABLE, "region": REGION}
    return policies.setup_plan(**{**options, **overrides})


@pytest.fixture(scope="module")
def sb() -> Iterator[xn.sandbox.Sandbox]:
    """A sandbox of this module's own: the tests change IAM and the table's policy."""
    with xn.sandbox.start() as sandbox:
        yield sandbox


def _sandbox_plan(sb, **overrides):
    options = {"owner_account": sb.account_b, "requester_account": sb.account_a,
               "table": sb.table, "region": sb.region}
    return policies.setup_plan(**{**options, **overrides})


def _apply(sb, plan, **kwargs):
    return plan.apply(sb.admin_session("B"), sb.admin_session("A"), **kwargs)


def _actions(changes):
    return [(c.side, c.action, c.target.rsplit("/", 1)[-1]) for c in changes]


# -- offline: the plan itself ---------------------------------------------------------------


def test_role_plan_documents():
    plan = _plan(role_name="AnalyticsReader", external_id=EXT, requester_user="analyst",
                 max_session_duration=7200)
    assert plan.role_arn == f"arn:aws:iam::{B}:role/AnalyticsReader"
    assert plan.table_arn == f"arn:aws:dynamodb:{REGION}:{B}:table/{TABLE}"
    assert plan.trust_policy == policies.trust_policy(A, external_id=EXT)
    assert plan.role_policy == policies.read_only_policy(plan.table_arn)
    assert plan.requester_policy == policies.assume_role_policy(plan.role_arn)
    assert plan.requester_arns == [f"arn:aws:iam::{A}:role/AssumeDynamoDBAccessRole",
                                   f"arn:aws:iam::{A}:user/analyst"]
    assert plan.resource_policy is None
    assert set(plan.documents()) == {"trust_policy", "role_policy", "requester_policy"}
    assert json.loads(json.dumps(plan.documents())) == plan.documents()


def test_access_modes_choose_the_permission_document():
    arn = f"arn:aws:dynamodb:{REGION}:{B}:table/{TABLE}"
    assert _plan(access="read-write").role_policy == policies.read_write_policy(arn)
    assert _plan(access="leading-keys", partition_keys="C-0001").role_policy == (
        policies.leading_keys_write_policy(arn, ["C-0001"]))
    assert _plan(access="attributes", attributes=["total"], key_attributes=["customer_id"]
                 ).role_policy == policies.attribute_limited_read_policy(
                     arn, ["total"], key_attributes=["customer_id"])


def test_specific_principal_and_mfa():
    analyst = f"arn:aws:iam::{A}:user/analyst"
    plan = _plan(requester_principal=analyst, require_mfa=True)
    (statement,) = plan.trust_policy["Statement"]
    assert statement["Principal"] == {"AWS": analyst}
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def test_resource_policy_plan_documents():
    plan = _plan(use_resource_policy=True, requester_role_name=None, requester_user="analyst",
                 require_mfa=True)
    assert plan.role_arn is None and plan.trust_policy is None and plan.role_policy is None
    assert plan.requester_policy == policies.read_only_policy(plan.table_arn)
    (statement,) = plan.resource_policy["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{A}:root"}
    assert statement["Resource"] == [plan.table_arn, plan.table_arn + "/index/*"]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert set(plan.documents()) == {"resource_policy", "requester_policy"}


def test_table_arn_is_accepted_for_the_table():
    plan = _plan(table=f"arn:aws:dynamodb:{REGION}:{B}:table/{TABLE}")
    assert plan.table == TABLE


def test_describe_and_markdown_show_both_accounts_with_json():
    plan = _plan(role_name="AnalyticsReader", external_id=EXT, requester_user="analyst")
    text = str(plan)
    assert text == plan.describe()
    assert text.startswith(
        f"Setup plan: read access to DynamoDB table {TABLE} "
        f"(arn:aws:dynamodb:{REGION}:{B}:table/{TABLE}) for account {A} by role")
    assert f"Account B {B} (owner of table {TABLE})" in text
    assert (f"Role AnalyticsReader (arn:aws:iam::{B}:role/AnalyticsReader), max session 3600 s, "
            f"trusted: arn:aws:iam::{A}:root with ExternalId '{EXT}'.") in text
    assert f"Account A {A} (requester)" in text
    assert ("Inline policy xacct-nb-assume-AnalyticsReader on role AssumeDynamoDBAccessRole and "
            "user analyst") in text
    assert (f"Then: session = xn.assume_role('arn:aws:iam::{B}:role/AnalyticsReader', "
            f"external_id='{EXT}')") in text
    assert '"sts:ExternalId": "analytics-ext-42"' in text
    # The owner learns that IAM cannot cap read capacity, and what can.
    assert ("Ask your analysts to read with max_rcu=... (xacct-nb caps its own reads; "
            "IAM cannot)") in text
    markdown = plan._repr_markdown_()
    assert "- Read capacity: no IAM condition caps it." in markdown
    assert f"#### Account B {B} (owner of table {TABLE})" in markdown
    assert markdown.count("```json") == 3
    assert repr(plan) == (f"<SetupPlan read access to {TABLE} ({B}) for {A} via role "
                          "AnalyticsReader>")
    rp = _plan(use_resource_policy=True, requester_user="analyst")
    assert "Resource-based policy on table" in str(rp)
    assert "max_rcu=" in str(rp)
    assert f"xn.read_query(session, 'arn:aws:dynamodb:{REGION}:{B}:table/{TABLE}', ...)" in str(rp)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"owner_account": "2222"}, "owner_account='2222' is not an AWS account id"),
        ({"requester_account": B}, f"owner_account and requester_account are both {B}"),
        ({"region": "Europe"}, "region='Europe' is not an AWS region"),
        ({"table": "a b"}, "is not a valid DynamoDB table name"),
        ({"table": f"arn:aws:dynamodb:eu-west-1:{B}:table/{TABLE}"},
         f"is not a table ARN of account {B} in {REGION}"),
        ({"access": "admin"}, "access='admin' is not one of 'read', 'read-write', "
                              "'leading-keys', 'attributes'"),
        ({"access": "leading-keys"}, "access='leading-keys' needs partition_keys"),
        ({"partition_keys": ["C-0001"]},
         "partition_keys applies to access='leading-keys' only, not access='read'"),
        ({"access": "attributes"}, "access='attributes' needs attributes"),
        ({"attributes": ["total"]}, "attributes and key_attributes apply to access='attributes'"),
        ({"access": "leading-keys", "partition_keys": []},
         "partition_keys must name at least one non-empty value"),
        ({"external_id": "x"}, "external_id='x' is not a valid ExternalId"),
        ({"external_id": EXT, "use_resource_policy": True},
         "external_id applies to a role's trust policy"),
        ({"max_session_duration": 60}, "max_session_duration=60 is out of range"),
        ({"max_session_duration": 50000}, "IAM allows 3600 to 43200 seconds"),
        ({"requester_principal": f"arn:aws:iam::{B}:user/bob"},
         f"requester_principal 'arn:aws:iam::{B}:user/bob' is not in the requester account {A}"),
        ({"requester_principal": "bob"}, "'bob' is neither an account id nor a principal ARN"),
        ({"role_name": "has space"}, "role_name='has space' is not a valid IAM role name"),
        ({"requester_user": "a/b"}, "requester_user='a/b' is not a valid IAM user name"),
        ({"requester_role_name": None}, "Nobody in the requester account would be allowed in"),
    ],
)
def test_invalid_plans_are_refused_with_clear_messages(overrides, message):
    with pytest.raises(xn.InvalidArgumentError, match=_escaped(message)):
        _plan(**overrides)


def _escaped(text: str) -> str:
    return re.escape(text)


def test_long_names_give_valid_policy_names():
    plan = _plan(table="T" * 200, role_name="R" * 64)
    assert len(plan.role_policy_name) == 128
    assert len(plan.requester_policy_name) == len("xacct-nb-assume-") + 64
    assert plan.role_policy_name != _plan(table="T" * 199 + "U").role_policy_name


def test_policy_comparison_is_semantic():
    doc = policies.read_only_policy(f"arn:aws:dynamodb:{REGION}:{B}:table/{TABLE}")
    shuffled = json.loads(json.dumps(doc))
    shuffled["Statement"] = shuffled["Statement"][0]
    shuffled["Statement"]["Action"] = list(reversed(shuffled["Statement"]["Action"]))
    normalize_policy = policies.normalize_policy
    assert normalize_policy(doc) == normalize_policy(shuffled)
    assert normalize_policy(doc) == normalize_policy(quote(json.dumps(shuffled)))
    trust = policies.trust_policy(A, require_mfa=True)
    as_bool = json.loads(json.dumps(trust))
    as_bool["Statement"][0]["Condition"]["Bool"]["aws:MultiFactorAuthPresent"] = True
    assert normalize_policy(trust) == normalize_policy(as_bool)
    assert normalize_policy(trust) != normalize_policy(policies.trust_policy(A))


# -- CloudFormation -------------------------------------------------------------------------


def _lint(template: dict) -> list[str]:
    api = pytest.importorskip("cfnlint.api")
    return [str(m) for m in api.lint(json.dumps(template),
                                     config=api.ManualArgs(regions=[REGION]))]


def test_cloudformation_for_a_role():
    plan = _plan(role_name="AnalyticsReader", external_id=EXT, requester_user="analyst",
                 max_session_duration=7200)
    templates = plan.to_cloudformation()
    assert set(templates) == {"owner", "requester"}
    owner = templates["owner"]
    role = owner["Resources"]["OwnerRole"]
    assert role["Type"] == "AWS::IAM::Role"
    assert role["Properties"]["RoleName"] == "AnalyticsReader"
    assert role["Properties"]["AssumeRolePolicyDocument"] == plan.trust_policy
    assert role["Properties"]["MaxSessionDuration"] == 7200
    assert role["Properties"]["Policies"] == [
        {"PolicyName": plan.role_policy_name, "PolicyDocument": plan.role_policy}]
    assert owner["Outputs"]["RoleArn"]["Value"] == {"Fn::GetAtt": ["OwnerRole", "Arn"]}
    requester = templates["requester"]["Resources"]["RequesterPolicy"]
    assert requester["Type"] == "AWS::IAM::Policy"
    assert requester["Properties"] == {
        "PolicyName": "xacct-nb-assume-AnalyticsReader",
        "PolicyDocument": plan.requester_policy,
        "Roles": ["AssumeDynamoDBAccessRole"],
        "Users": ["analyst"],
    }
    as_json = plan.to_cloudformation_json()
    assert {k: json.loads(v) for k, v in as_json.items()} == templates
    assert _lint(owner) == []
    assert _lint(templates["requester"]) == []


def test_cloudformation_resource_policy_needs_the_table_definition():
    plan = _plan(use_resource_policy=True, requester_user="analyst", requester_role_name=None)
    with pytest.raises(xn.InvalidArgumentError, match=_escaped(
        "CloudFormation sets a table's resource policy only on a table its stack manages "
        f"(AWS::DynamoDB::Table ResourcePolicy), and {TABLE} already exists. Pass "
        "table_description=<DynamoDB DescribeTable answer>"
    )):
        plan.to_cloudformation()
    with pytest.raises(xn.InvalidArgumentError, match="describes table 'Other'"):
        plan.to_cloudformation(table_description={
            "Table": {"TableName": "Other", "KeySchema": []}})
    with pytest.raises(xn.InvalidArgumentError, match="must be DynamoDB's DescribeTable answer"):
        plan.to_cloudformation(table_description={"TableName": TABLE})


def test_cloudformation_resource_policy_provisioned_table():
    plan = _plan(use_resource_policy=True, requester_user="analyst", requester_role_name=None,
                 access="leading-keys", partition_keys=["C-0001"])
    description = {"Table": {
        "TableName": TABLE,
        "KeySchema": [{"AttributeName": "customer_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "customer_id", "AttributeType": "S"},
                                 {"AttributeName": "status", "AttributeType": "S"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2,
                                  "NumberOfDecreasesToday": 0},
        "GlobalSecondaryIndexes": [{
            "IndexName": "by-status", "IndexStatus": "ACTIVE",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]},
            "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        }],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        "ItemCount": 3,
    }}
    templates = plan.to_cloudformation(table_description=description)
    table = templates["owner"]["Resources"]["OwnerTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PROVISIONED"
    assert props["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 2}
    assert props["GlobalSecondaryIndexes"][0]["Projection"] == {
        "ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert props["ResourcePolicy"] == {"PolicyDocument": plan.resource_policy}
    requester = templates["requester"]["Resources"]["RequesterPolicy"]["Properties"]
    assert requester["Users"] == ["analyst"] and "Roles" not in requester
    assert requester["PolicyDocument"] == plan.requester_policy
    assert _lint(templates["owner"]) == []
    assert _lint(templates["requester"]) == []


# -- on the sandbox: applied for real -------------------------------------------------------

@pytest.mark.sandbox
def test_role_plan_end_to_end(sb):
    plan = _sandbox_plan(sb, role_name="AnalyticsReader", external_id=EXT,
                         requester_user="analyst")
    analyst = sb.analyst_session()
    # Before: account A does not let the analyst assume a role that does not exist yet.
    with pytest.raises(xn.AssumeRoleError):
        xn.assume_role(plan.role_arn, external_id=EXT, source_session=analyst)

    expected = [
        ("owner", "create-role", "AnalyticsReader"),
        ("owner", "put-role-policy", "AnalyticsReader"),
        ("requester", "put-role-policy", "AssumeDynamoDBAccessRole"),
        ("requester", "put-user-policy", "analyst"),
    ]
    assert _actions(_apply(sb, plan, dry_run=True)) == expected
    iam_b = sb.admin_session("B").client("iam")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam_b.get_role(RoleName="AnalyticsReader")  # the dry run changed nothing

    changes = _apply(sb, plan)
    assert _actions(changes) == expected
    assert str(changes[0]) == (
        f"owner {B}: create-role arn:aws:iam::{B}:role/AnalyticsReader "
        "(trust policy, max session 3600 s)")
    assert changes[3].detail == "xacct-nb-assume-AnalyticsReader, new"
    assert _apply(sb, plan) == []  # idempotent

    session = xn.assume_role(plan.role_arn, external_id=EXT, source_session=analyst)
    assert xn.whoami(session)["Arn"].startswith(f"arn:aws:sts::{B}:assumed-role/AnalyticsReader/")
    df = xn.read_query(session, sb.table, "C-0001")
    assert len(df) > 0 and set(df["customer_id"]) == {"C-0001"}
    # read-only: a write is denied by the role's policy
    with pytest.raises(xn.IncompleteWriteError, match=(
        "AccessDeniedException: User: arn:aws:sts::222222222222:assumed-role/AnalyticsReader/"
        ".* is not authorized to perform: dynamodb:BatchWriteItem")):
        xn.write_frame(session, sb.table, pd.DataFrame(
            [{"customer_id": "C-0001", "order_ts": "2099-01-01T00:00:00Z"}]))
    ddb = session.client("dynamodb")
    with pytest.raises(ClientError) as denied:
        ddb.put_item(TableName=sb.table, Item={"customer_id": {"S": "C-0001"},
                                               "order_ts": {"S": "2099-01-01T00:00:00Z"}})
    error = translate_client_error(denied.value, table=sb.table)
    assert isinstance(error, xn.AccessDeniedError)
    assert "is not authorized to perform: dynamodb:PutItem" in str(error)
    # the trust policy's ExternalId is enforced
    with pytest.raises(xn.AssumeRoleError):
        xn.assume_role(plan.role_arn, external_id="wrong-id", source_session=analyst)


@pytest.mark.sandbox
def test_changed_plan_applies_only_the_changes(sb):
    base = _sandbox_plan(sb, role_name="AnalyticsWriter", external_id=EXT,
                         requester_user="analyst", requester_role_name=None)
    assert len(_apply(sb, base)) == 3

    writer = _sandbox_plan(sb, role_name="AnalyticsWriter", external_id=EXT,
                           requester_user="analyst", requester_role_name=None,
                           access="leading-keys", partition_keys=["C-0003"])
    changes = _apply(sb, writer)
    assert _actions(changes) == [("owner", "put-role-policy", "AnalyticsWriter")]
    assert changes[0].detail == f"xacct-nb-{sb.table}, changed"
    assert _apply(sb, writer) == []
    session = xn.assume_role(writer.role_arn, external_id=EXT,
                             source_session=sb.analyst_session())
    row = {"customer_id": "C-0003", "order_ts": "2099-01-01T00:00:00Z", "note": "setup test"}
    assert xn.write_frame(session, sb.table, pd.DataFrame([row])).rows_written == 1
    with pytest.raises(xn.IncompleteWriteError, match="AccessDeniedException"):
        xn.write_frame(session, sb.table, pd.DataFrame([{**row, "customer_id": "C-0004"}]))

    # trust policy and session length: updated in place, the policies left alone
    stricter = _sandbox_plan(sb, role_name="AnalyticsWriter", external_id="rotated-ext-id",
                             requester_user="analyst", requester_role_name=None,
                             access="leading-keys", partition_keys=["C-0003"],
                             max_session_duration=7200)
    changes = _apply(sb, stricter)
    assert _actions(changes) == [
        ("owner", "update-trust-policy", "AnalyticsWriter"),
        ("owner", "update-max-session-duration", "AnalyticsWriter"),
    ]
    assert changes[1].detail == "3600 s -> 7200 s"
    role = sb.admin_session("B").client("iam").get_role(RoleName="AnalyticsWriter")["Role"]
    assert role["MaxSessionDuration"] == 7200
    assert _apply(sb, stricter) == []
    with pytest.raises(xn.AssumeRoleError):
        xn.assume_role(stricter.role_arn, external_id=EXT, source_session=sb.analyst_session())
    xn.assume_role(stricter.role_arn, external_id="rotated-ext-id",
                   source_session=sb.analyst_session(), duration_seconds=7200)


@pytest.mark.sandbox
def test_dry_run_reports_without_changing(sb):
    base = _sandbox_plan(sb, role_name="DryRunReader", requester_user="analyst",
                         requester_role_name=None)
    _apply(sb, base)
    iam_b = sb.admin_session("B").client("iam")
    before = iam_b.get_role_policy(RoleName="DryRunReader",
                                   PolicyName=base.role_policy_name)["PolicyDocument"]
    changed = _sandbox_plan(sb, role_name="DryRunReader", requester_user="analyst",
                            requester_role_name=None, access="read-write", require_mfa=True)
    planned = _apply(sb, changed, dry_run=True)
    assert _actions(planned) == [("owner", "update-trust-policy", "DryRunReader"),
                                 ("owner", "put-role-policy", "DryRunReader")]
    assert _apply(sb, changed, dry_run=True) == planned
    after = iam_b.get_role_policy(RoleName="DryRunReader",
                                  PolicyName=base.role_policy_name)["PolicyDocument"]
    assert after == before
    assert _apply(sb, changed) == planned
    assert _apply(sb, changed) == []


@pytest.mark.sandbox
def test_attribute_limited_role_end_to_end(sb):
    plan = _sandbox_plan(sb, role_name="ColumnsReader", requester_user="analyst",
                         requester_role_name=None, access="attributes",
                         attributes=["total", "status"],
                         key_attributes=["customer_id", "order_ts"])
    _apply(sb, plan)
    session = xn.assume_role(plan.role_arn, source_session=sb.analyst_session())
    df = xn.read_query(session, sb.table, "C-0001", columns=["total", "status"])
    assert len(df) > 0
    assert set(df.columns) <= {"customer_id", "order_ts", "total", "status"}
    with pytest.raises(xn.AccessDeniedError, match="not authorized to perform: dynamodb:Query"):
        xn.read_query(session, sb.table, "C-0001")  # no projection: every attribute
    with pytest.raises(xn.AccessDeniedError, match="not authorized to perform: dynamodb:Query"):
        xn.read_query(session, sb.table, "C-0001", columns=["total", "ledger_ref"])


@pytest.mark.sandbox
def test_resource_policy_alternative_end_to_end(sb):
    plan = _sandbox_plan(sb, use_resource_policy=True, requester_user="analyst",
                         requester_role_name=None)
    analyst = sb.analyst_session()
    with pytest.raises(xn.AccessDeniedError, match="is not authorized to perform"):
        xn.read_query(analyst, sb.table_arn, "C-0001")

    changes = _apply(sb, plan)
    assert _actions(changes) == [("owner", "put-resource-policy", sb.table),
                                 ("requester", "put-user-policy", "analyst")]
    assert changes[0].target == sb.table_arn
    assert _apply(sb, plan) == []
    stored = sb.admin_session("B").client("dynamodb").get_resource_policy(
        ResourceArn=sb.table_arn)["Policy"]
    assert json.loads(stored) == plan.resource_policy

    # the analyst reads B's table by ARN with A's own credentials: no role assumed
    df = xn.read_query(analyst, sb.table_arn, "C-0001")
    assert len(df) > 0 and set(df["customer_id"]) == {"C-0001"}
    assert xn.whoami(analyst)["Arn"] == f"arn:aws:iam::{sb.account_a}:user/analyst"
    with pytest.raises(ClientError, match="AccessDeniedException"):
        analyst.client("dynamodb").put_item(
            TableName=sb.table_arn, Item={"customer_id": {"S": "C-0001"},
                                          "order_ts": {"S": "2099-01-01T00:00:00Z"}})

    # a changed access mode replaces the table's policy (guarded by its revision)
    narrower = _sandbox_plan(sb, use_resource_policy=True, requester_user="analyst",
                             requester_role_name=None, access="attributes",
                             attributes=["total"], key_attributes=["customer_id", "order_ts"])
    assert _actions(_apply(sb, narrower)) == [
        ("owner", "put-resource-policy", sb.table), ("requester", "put-user-policy", "analyst")]
    with pytest.raises(xn.AccessDeniedError):
        xn.read_query(analyst, sb.table_arn, "C-0001")
    assert len(xn.read_query(analyst, sb.table_arn, "C-0001", columns=["total"])) == len(df)
    _apply(sb, plan)  # back to plain reads for the tests after this one

    description = sb.admin_session("B").client("dynamodb").describe_table(TableName=sb.table)
    templates = plan.to_cloudformation(table_description=description)
    props = templates["owner"]["Resources"]["OwnerTable"]["Properties"]
    assert props["TableName"] == sb.table
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert {ix["IndexName"] for ix in props["GlobalSecondaryIndexes"]} == {sb.index}
    assert props["ResourcePolicy"]["PolicyDocument"] == plan.resource_policy
    assert _lint(templates["owner"]) == []
    assert _lint(templates["requester"]) == []


@pytest.mark.sandbox
def test_sessions_of_the_wrong_account_are_refused(sb):
    plan = _sandbox_plan(sb, role_name="NeverCreated", requester_user="analyst")
    with pytest.raises(xn.InvalidArgumentError, match=_escaped(
        f"owner_admin_session is a session of account {sb.account_a} "
        f"(arn:aws:iam::{sb.account_a}:user/admin), but the plan's owner account is "
        f"{sb.account_b}: pass an administrator session of account {sb.account_b}."
    )):
        plan.apply(sb.admin_session("A"), sb.admin_session("A"))
    with pytest.raises(xn.InvalidArgumentError, match="must be a boto3.Session of account"):
        plan.apply(None, sb.admin_session("A"))


@pytest.mark.sandbox
def test_missing_requester_role_fails_before_anything_changes(sb):
    plan = _sandbox_plan(sb, role_name="NeverCreated", requester_role_name="NoSuchRole")
    with pytest.raises(xn.AwsError, match=_escaped(
        f"The requester's role 'NoSuchRole' does not exist in account {sb.account_a}: the plan "
        "puts a policy on it but does not create it. Create it first, or name an existing one "
        "with requester_role_name=... (nothing was changed)."
    )) as err:
        _apply(sb, plan)
    assert err.value.code == "NoSuchEntity"
    with pytest.raises(ClientError, match="NoSuchEntity"):
        sb.admin_session("B").client("iam").get_role(RoleName="NeverCreated")


@pytest.mark.sandbox
def test_iam_errors_are_translated(sb):
    # A session of account B without IAM permissions (the reader role) as "admin".
    reader = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                            source_session=sb.analyst_session())
    plan = _sandbox_plan(sb, role_name="NeverCreated", requester_user="analyst")
    with pytest.raises(xn.AccessDeniedError, match=_escaped(
        f"GetRole of role 'NeverCreated' in account B ({sb.account_b}) failed: AccessDenied: "
        f"User: arn:aws:sts::{sb.account_b}:assumed-role/DynamoDBReaderRoleForAccountA/"
    )) as err:
        plan.apply(reader, sb.admin_session("A"))
    assert err.value.code == "AccessDenied"
    assert "is not authorized to perform: iam:GetRole" in str(err.value)
