"""Policy documents: JSON AWS accepts, the right actions and resources, clear errors."""

from __future__ import annotations

import json

import pytest

import xacct_nb as xn
from xacct_nb import policies

TABLE = "arn:aws:dynamodb:us-east-1:222222222222:table/MyCrossAccountTable"


def test_read_only_is_the_seed_plus_describe_and_partiql_select_on_table_and_indexes():
    doc = policies.read_only_policy(TABLE)
    assert json.loads(json.dumps(doc)) == doc
    (stmt,) = doc["Statement"]
    assert stmt["Effect"] == "Allow"
    assert set(stmt["Action"]) == {
        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
        "dynamodb:DescribeTable", "dynamodb:PartiQLSelect",
    }
    assert stmt["Resource"] == [TABLE, TABLE + "/index/*"]


def test_trust_policy_variants():
    plain = policies.trust_policy("111111111111")["Statement"][0]
    assert plain["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
    assert "Condition" not in plain
    strict = policies.trust_policy(
        ["111111111111", "arn:aws:iam::111111111111:user/analyst"],
        external_id="abc123", require_mfa=True,
    )["Statement"][0]
    assert strict["Principal"]["AWS"] == [
        "arn:aws:iam::111111111111:root", "arn:aws:iam::111111111111:user/analyst"
    ]
    assert strict["Condition"] == {
        "StringEquals": {"sts:ExternalId": "abc123"},
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
    }


def test_write_policies():
    rw = policies.read_write_policy(TABLE)
    assert set(rw["Statement"][1]["Action"]) == set(policies.WRITE_ACTIONS)
    lk = policies.leading_keys_write_policy(TABLE, ["C-0001", "C-0002"])
    assert lk["Statement"][1]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-0001", "C-0002"]}
    }


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: policies.read_only_policy("MyTable"), "is not a table ARN"),
        (lambda: policies.read_only_policy([]), "At least one table ARN"),
        (lambda: policies.trust_policy("12345"), "neither an account id nor a principal ARN"),
        (lambda: policies.trust_policy("111111111111", external_id="x"), "at least 2 characters"),
        (lambda: policies.leading_keys_write_policy(TABLE, []), "partition_keys is empty"),
        (lambda: policies.assume_role_policy("Reader"), "is not a role ARN"),
        (lambda: policies.table_arn("us-east-1", "2222", "T123"), "is not an AWS account id"),
        (lambda: policies.table_arn("us-east-1", "222222222222", "a b"), "not a valid DynamoDB"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        call()


# -- attribute-limited reads, table resource policies, setup-plan documents --------------

A = "111111111111"
B = "222222222222"
ANALYST = f"arn:aws:iam::{A}:user/analyst"
INDEX = TABLE + "/index/status-index"
KEYS = ["customer_id", "order_ts"]


def _plan_documents() -> dict[str, dict]:
    """Every document the setup plans generate, named by mode."""
    docs: dict[str, dict] = {}
    variants = {
        "read": {},
        "read-write": {"access": "read-write"},
        "leading-keys": {"access": "leading-keys", "partition_keys": ["C-0001"]},
        "attributes": {"access": "attributes", "attributes": ["total"], "key_attributes": KEYS},
    }
    for label, extra in variants.items():
        for resource in (False, True):
            plan = policies.setup_plan(
                owner_account=B, requester_account=A, table="MyCrossAccountTable",
                region="us-east-1", requester_user="analyst", use_resource_policy=resource,
                require_mfa=True, external_id=None if resource else "ext-123", **extra,
            )
            for name, doc in plan.documents().items():
                docs[f"{label}{' (resource)' if resource else ''} {name}"] = doc
    return docs


def _all_documents() -> dict[str, dict]:
    return {
        "read_only": policies.read_only_policy(TABLE),
        "read_write": policies.read_write_policy(TABLE),
        "leading_keys": policies.leading_keys_write_policy(TABLE, ["C-0001"]),
        "attributes": policies.attribute_limited_read_policy(TABLE, ["total"], key_attributes=KEYS),
        "assume_role": policies.assume_role_policy(f"arn:aws:iam::{B}:role/Reader"),
        "trust": policies.trust_policy(A, external_id="ext-123", require_mfa=True),
        "table_resource": policies.table_resource_policy(TABLE, [A, ANALYST]),
        "table_resource_writes": policies.table_resource_policy(
            TABLE, A, actions=policies.WRITE_ACTIONS, include_indexes=False),
        "as_resource": policies.as_resource_policy(
            policies.read_write_policy(TABLE), A, require_mfa=True),
        **_plan_documents(),
    }


@pytest.mark.parametrize("name", sorted(_all_documents()))
def test_every_document_round_trips_through_json(name):
    doc = _all_documents()[name]
    assert json.loads(json.dumps(doc)) == doc
    assert doc["Version"] == "2012-10-17"


def _parliament_findings(doc: dict) -> list[tuple[str, object]]:
    parliament = pytest.importorskip("parliament")
    doc = json.loads(json.dumps(doc))
    assume_only = all(
        s.get("Action") == "sts:AssumeRole" for s in doc["Statement"]
    )
    for statement in doc["Statement"]:
        # A role's trust policy has no Resource (IAM refuses one: the role is the
        # resource), but parliament checks every statement as if it were in an
        # identity policy and stops at "neither Resource nor NotResource". Lint a copy
        # with the role as Resource, so the rest (action, principal, condition keys
        # and their operators) is still checked.
        if "Principal" in statement and "Resource" not in statement:
            statement["Resource"] = f"arn:aws:iam::{B}:role/Reader"
    policy = parliament.analyze_policy_string(json.dumps(doc), include_community_auditors=True)
    findings = [(f.issue, f.detail) for f in policy.findings]
    # The community auditor CREDENTIALS_EXPOSURE flags every sts:AssumeRole: handing
    # out credentials is the whole purpose of these documents.
    if assume_only:
        findings = [f for f in findings if f[0] != "CREDENTIALS_EXPOSURE"]
    return findings


@pytest.mark.parametrize("name", sorted(_all_documents()))
def test_generated_documents_pass_parliament(name):
    assert _parliament_findings(_all_documents()[name]) == []


def test_parliament_does_report_mistakes():
    """The linter is really checking: a wrong condition key and a wrong resource are found."""
    doc = policies.attribute_limited_read_policy(TABLE, ["total"])
    doc["Statement"][0]["Condition"]["StringEqualsIfExists"] = {"dynamodb:Selects": "X"}
    assert ("UNKNOWN_CONDITION_FOR_ACTION",) in {f[:1] for f in _parliament_findings(doc)}
    wrong = policies.read_only_policy(TABLE)
    wrong["Statement"][0]["Resource"] = ["arn:aws:s3:::bucket"]
    assert "RESOURCE_MISMATCH" in {f[0] for f in _parliament_findings(wrong)}


def test_attribute_limited_read_policy_shape():
    doc = policies.attribute_limited_read_policy(
        TABLE, ["total", "status", "total"], key_attributes=KEYS)
    read, describe = doc["Statement"]
    assert set(read["Action"]) == set(policies.READ_ACTIONS) - {"dynamodb:DescribeTable"}
    assert read["Resource"] == [TABLE, TABLE + "/index/*"]
    assert read["Condition"] == {
        "ForAllValues:StringEquals": {
            "dynamodb:Attributes": ["customer_id", "order_ts", "total", "status"]},
        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
        "Null": {"dynamodb:Attributes": "false"},
    }
    assert describe == {"Sid": "DescribeTables", "Effect": "Allow",
                        "Action": "dynamodb:DescribeTable", "Resource": [TABLE]}


def _attrs(action: str, resource: str = TABLE, **context):
    doc = policies.attribute_limited_read_policy(TABLE, ["total", "status"], key_attributes=KEYS)
    return policies.simulate(doc, action, resource, context=context)


def test_attribute_limited_reads_are_decided_as_intended():
    projection = {"dynamodb:Attributes": ["customer_id", "total"],
                  "dynamodb:Select": "SPECIFIC_ATTRIBUTES"}
    assert _attrs("dynamodb:Query", **projection).allowed
    assert _attrs("dynamodb:Scan", **projection).allowed
    assert _attrs("dynamodb:Query", INDEX, **projection).allowed
    assert _attrs("dynamodb:GetItem", **{"dynamodb:Attributes": ["total"]}).allowed
    assert _attrs("dynamodb:BatchGetItem", **{"dynamodb:Attributes": ["status"]}).allowed
    # one attribute too many
    extra = _attrs("dynamodb:Query", **{"dynamodb:Attributes": ["total", "ledger_ref"],
                                        "dynamodb:Select": "SPECIFIC_ATTRIBUTES"})
    assert extra.decision == "ImplicitDeny"
    assert extra.reason == "no identity-based policy allows the dynamodb:Query action"
    # no projection: every attribute
    assert not _attrs("dynamodb:Query", **{"dynamodb:Select": "ALL_ATTRIBUTES"}).allowed
    assert not _attrs("dynamodb:Scan", **{"dynamodb:Select": "ALL_ATTRIBUTES"}).allowed
    assert not _attrs("dynamodb:Query", INDEX,
                      **{"dynamodb:Select": "ALL_PROJECTED_ATTRIBUTES"}).allowed
    assert not _attrs("dynamodb:GetItem").allowed  # no projection, no Select: the Null condition
    assert not _attrs("dynamodb:BatchGetItem").allowed
    # a projection that lists only allowed names but asks for all of them anyway
    assert not _attrs("dynamodb:Query", **{"dynamodb:Attributes": ["total"],
                                           "dynamodb:Select": "ALL_ATTRIBUTES"}).allowed
    # DescribeTable (the key names) stays allowed, without any condition; writes do not
    assert _attrs("dynamodb:DescribeTable").allowed
    assert not _attrs("dynamodb:PutItem", **{"dynamodb:Attributes": ["total"]}).allowed


def test_table_resource_policy_shape():
    doc = policies.table_resource_policy(TABLE, [A, ANALYST, A])
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{A}:root", ANALYST]}
    assert statement["Action"] == list(policies.READ_ACTIONS)
    assert statement["Resource"] == [TABLE, TABLE + "/index/*"]
    only_table = policies.table_resource_policy(
        TABLE, A, actions=["dynamodb:GetItem"], include_indexes=False)["Statement"][0]
    assert only_table["Resource"] == [TABLE]
    assert only_table["Action"] == ["dynamodb:GetItem"]


def test_as_resource_policy_keeps_conditions_and_adds_mfa():
    doc = policies.as_resource_policy(
        policies.leading_keys_write_policy(TABLE, ["C-0001"]), ANALYST, require_mfa=True)
    write = doc["Statement"][1]
    assert write["Principal"] == {"AWS": ANALYST}
    assert write["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-0001"]},
        "Bool": {"aws:MultiFactorAuthPresent": "true"},
    }
    assert list(write)[:3] == ["Sid", "Effect", "Principal"]


def test_resource_policy_is_decided_as_intended():
    resource_policy = policies.table_resource_policy(TABLE, A)
    identity = policies.read_only_policy(TABLE)  # account A's side: allows Query on B's ARN

    def decide(principal, action="dynamodb:Query", resource=TABLE, identity=identity, rp=None):
        return policies.simulate(identity, action, resource, principal=principal,
                                 resource_policy=rp or resource_policy)

    assert decide(ANALYST).allowed
    assert decide(f"arn:aws:sts::{A}:assumed-role/AssumeDynamoDBAccessRole/me").allowed
    assert decide(ANALYST, resource=INDEX).allowed  # the table's policy covers its indexes
    assert decide(ANALYST, action="dynamodb:DescribeTable").allowed
    other = decide("arn:aws:iam::333333333333:user/mallory")
    assert other.decision == "ImplicitDeny"
    assert other.reason == (
        "the resource-based policy of the resource's account does not allow the "
        "dynamodb:Query action for this principal"
    )
    # across accounts the requester's own identity policy must allow too
    no_identity = decide(ANALYST, identity=[])
    assert no_identity.reason == "no identity-based policy allows the dynamodb:Query action"
    assert not decide(ANALYST, action="dynamodb:PutItem",
                      identity=policies.read_write_policy(TABLE)).allowed
    # a policy for one principal does not let the rest of the account in
    just_analyst = policies.table_resource_policy(TABLE, ANALYST, include_indexes=False)
    assert decide(ANALYST, rp=just_analyst).allowed
    assert not decide(f"arn:aws:iam::{A}:user/intern", rp=just_analyst).allowed
    assert not decide(ANALYST, resource=INDEX, rp=just_analyst).allowed


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: policies.attribute_limited_read_policy(TABLE, []), "attributes is empty"),
        (lambda: policies.attribute_limited_read_policy(TABLE, ["ship_to.city"]),
         "'ship_to.city' is not a top-level attribute name"),
        (lambda: policies.attribute_limited_read_policy("Orders", ["total"]), "is not a table ARN"),
        (lambda: policies.table_resource_policy(TABLE + "/index/*", A),
         "is not the ARN of one table"),
        (lambda: policies.table_resource_policy("MyCrossAccountTable", A),
         "is not the ARN of one table"),
        (lambda: policies.table_resource_policy(TABLE, A, actions=[]), "actions is empty"),
        (lambda: policies.table_resource_policy(TABLE, A, actions=["s3:GetObject"]),
         "'s3:GetObject' is not a DynamoDB action"),
        (lambda: policies.table_resource_policy(TABLE, "analyst"),
         "neither an account id nor a principal ARN"),
        (lambda: policies.table_resource_policy(TABLE, []), "No principal given"),
        (lambda: policies.as_resource_policy({"Statement": []}, A), "has no statements"),
    ],
)
def test_bad_input_to_new_documents(call, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        call()
