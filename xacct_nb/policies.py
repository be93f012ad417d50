"""IAM policy documents for cross-account DynamoDB access.

Every function returns a plain ``dict`` that ``json.dumps`` turns into a
document AWS accepts. Account B (the *owner*) holds the table and the role;
account A (the *requester*) holds the analyst who assumes it. Instead of a
role, B can attach a resource-based policy to the table
(:func:`table_resource_policy`); A then reads by table ARN.
:func:`setup_plan` puts the documents of both accounts together, prints
them, applies them idempotently through IAM and exports CloudFormation.

>>> import json
>>> doc = read_only_policy("arn:aws:dynamodb:us-east-1:222222222222:table/Orders")
>>> doc["Statement"][0]["Action"][:2]
['dynamodb:BatchGetItem', 'dynamodb:DescribeTable']
>>> json.loads(json.dumps(doc)) == doc
True
"""

from __future__ import annotations

from ._documents import (
    EXPORT_ACTIONS,
    EXPORT_S3_WRITE_ACTIONS,
    READ_ACTIONS,
    WRITE_ACTIONS,
    Decision,
    as_resource_policy,
    assume_role_policy,
    attribute_limited_read_policy,
    bucket_arn,
    export_bucket_policy,
    export_policy,
    export_reader_policy,
    index_arn,
    leading_keys_write_policy,
    principal_arns,
    read_only_policy,
    read_write_policy,
    simulate,
    table_arn,
    table_resource_policy,
    trust_policy,
)
from ._setup import Change, SetupPlan, normalize_policy, setup_plan

__all__ = [
    "Change",
    "Decision",
    "EXPORT_ACTIONS",
    "EXPORT_S3_WRITE_ACTIONS",
    "READ_ACTIONS",
    "SetupPlan",
    "WRITE_ACTIONS",
    "as_resource_policy",
    "assume_role_policy",
    "attribute_limited_read_policy",
    "bucket_arn",
    "export_bucket_policy",
    "export_policy",
    "export_reader_policy",
    "index_arn",
    "leading_keys_write_policy",
    "normalize_policy",
    "principal_arns",
    "read_only_policy",
    "read_write_policy",
    "setup_plan",
    "simulate",
    "table_arn",
    "table_resource_policy",
    "trust_policy",
]
