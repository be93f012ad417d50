"""Policy documents: JSON AWS accepts, the right actions and resources, clear errors."""

from __future__ import annotations

import json

import pytest

import xacct_nb as xn
from xacct_nb import policies

TABLE = "arn:aws:dynamodb:us-east-1:222222222222:table/MyCrossAccountTable"


def test_read_only_is_the_seed_plus_describe_on_table_and_indexes():
    doc = policies.read_only_policy(TABLE)
    assert json.loads(json.dumps(doc)) == doc
    (stmt,) = doc["Statement"]
    assert stmt["Effect"] == "Allow"
    assert set(stmt["Action"]) == {
        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
        "dynamodb:DescribeTable",
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
