"""IAM policy documents for cross-account DynamoDB access.

Every function returns a plain ``dict`` that ``json.dumps`` turns into a
document AWS accepts. Account B (the *owner*) holds the table and the role;
account A (the *requester*) holds the analyst who assumes it. Instead of a
role, B can attach a resource-based policy to the table
(:func:`table_resource_policy`); A then reads by table ARN.
:func:`setup_plan` puts the documents of both accounts together, prints
them, applies them idempotently through IAM and exports CloudFormation.

What the table's owner can and cannot enforce
---------------------------------------------
A policy decides *what* a role may read (which tables, indexes, partitions
with ``dynamodb:LeadingKeys``, attributes with ``dynamodb:Attributes``), not
*how much*: **IAM cannot cap read capacity**. No condition key limits the
read capacity units (or requests) a role consumes, so a granted Scan may
read the whole table as fast as the table serves it. On their own side
the owner can:

* give the table (and each GSI) **provisioned capacity**: reads beyond it are
  throttled (``ProvisionedThroughputExceededException``), with up to 300 s of
  unused capacity kept as burst; an on-demand table can have a maximum
  (``OnDemandThroughput``). Either limit applies to every reader, the owner's
  own application included;
* give analysts **a table or GSI of their own** (a copy, or an index with its
  own throughput, granted by its ARN with :func:`index_arn`), so their reads
  never take capacity from the application;
* **export to S3** (``ExportTableToPointInTime``, point-in-time recovery on;
  :func:`export_policy`, ``xn.export_snapshot``) instead of scans: an export
  consumes no read capacity at all;
* narrow the grant with a **resource-based policy** on the table
  (:func:`table_resource_policy`), for instance without ``dynamodb:Scan``;
* watch with **CloudWatch alarms** on ``ConsumedReadCapacityUnits`` and on
  throttled requests (``ReadThrottleEvents``, ``ThrottledRequests``), per
  table and per GSI; xacct-nb's user agent names it in CloudTrail;
* **ask the analysts to read with** ``max_rcu=`` (``max_rcu=50`` RCU per
  second, or ``"10%"`` of the provisioned capacity; ``XACCT_MAX_RCU`` or
  ``xacct.toml`` for a whole notebook): xacct-nb then caps its own reads. It
  is a promise the analyst keeps, not something IAM enforces; the setup
  plan's text says so (``print(setup_plan(...))``).

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
