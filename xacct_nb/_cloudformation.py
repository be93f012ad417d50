"""CloudFormation templates of a setup plan, one per account.

``SetupPlan.to_cloudformation()`` is :func:`templates`; the plan's documents
come from :mod:`xacct_nb._plan_documents`, unchanged.
"""

from __future__ import annotations

import json
from typing import Any

from ._errors import InvalidArgumentError
from ._plan_documents import PlanDocuments

__all__ = ["templates", "templates_json"]

_CFN_VERSION = "2010-09-09"


def templates(
    plan: PlanDocuments, *, table_description: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """CloudFormation templates, one per account: ``{"owner": ..., "requester": ...}``.

    * owner (B), role: an ``AWS::IAM::Role`` with ``AssumeRolePolicyDocument``,
      ``MaxSessionDuration`` and the inline policy in ``Policies``; output
      ``RoleArn``. Deploy with ``CAPABILITY_NAMED_IAM`` (the role is named).
    * owner (B), resource-policy alternative: CloudFormation sets a table's
      resource policy only through the ``ResourcePolicy`` property of an
      ``AWS::DynamoDB::Table`` the stack manages; there is no resource type
      that attaches one to a table managed elsewhere. The table already
      exists, so the template declares it, as it is, with ``ResourcePolicy``
      and ``DeletionPolicy``/``UpdateReplacePolicy: Retain``, ready for a
      **resource import** (a change set of type ``IMPORT`` identified by
      ``TableName``); deleting the stack leaves the table. That needs the
      table's definition: pass ``table_description``, DescribeTable's
      answer (``client.describe_table(TableName=...)``). If the table is
      already managed by a stack, put the ``ResourcePolicy`` shown in the
      template into that stack's table instead; or use :meth:`~xacct_nb.policies.SetupPlan.apply`.
    * requester (A): an ``AWS::IAM::Policy`` (inline policy, the same name
      :meth:`~xacct_nb.policies.SetupPlan.apply` uses) attached to the existing requester role and/or
      user.

    Raises
    ------
    InvalidArgumentError
        The resource-policy alternative without ``table_description``, or
        a description of another table.

    >>> from xacct_nb.policies import setup_plan
    >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
    ...                   table="Orders", region="us-east-1", requester_user="analyst")
    >>> out = templates(plan)
    >>> out["owner"]["Resources"]["OwnerRole"]["Type"]
    'AWS::IAM::Role'
    >>> out["requester"]["Resources"]["RequesterPolicy"]["Properties"]["Users"]
    ['analyst']
    """
    return {"owner": _owner_template(plan, table_description),
            "requester": _requester_template(plan)}

def templates_json(
    plan: PlanDocuments, *, table_description: dict[str, Any] | None = None, indent: int = 2
) -> dict[str, str]:
    """:func:`templates` as JSON text per account (what ``aws cloudformation deploy`` takes).

    >>> from xacct_nb.policies import setup_plan
    >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
    ...                   table="Orders", region="us-east-1")
    >>> sorted(templates_json(plan))
    ['owner', 'requester']
    """
    return {
        side: json.dumps(template, indent=indent)
        for side, template in templates(plan, table_description=table_description).items()
    }

def _owner_template(plan: PlanDocuments, table_description: dict[str, Any] | None) -> dict[str, Any]:
    header = {
        "AWSTemplateFormatVersion": _CFN_VERSION,
        "Description": (
            f"xacct-nb, account B {plan.owner_account}: {plan.access} access to DynamoDB "
            f"table {plan.table} for account {plan.requester_account}"
        ),
    }
    if not plan.use_resource_policy:
        return {
            **header,
            "Resources": {
                "OwnerRole": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "RoleName": plan.role_name,
                        "Description": f"xacct-nb: {plan.access} access to DynamoDB table "
                                       f"{plan.table} for account {plan.requester_account}",
                        "AssumeRolePolicyDocument": plan.trust_policy,
                        "MaxSessionDuration": plan.max_session_duration,
                        "Policies": [{"PolicyName": plan.role_policy_name,
                                      "PolicyDocument": plan.role_policy}],
                    },
                }
            },
            "Outputs": {
                "RoleArn": {
                    "Description": "The role account A assumes (xn.assume_role)",
                    "Value": {"Fn::GetAtt": ["OwnerRole", "Arn"]},
                }
            },
        }
    if table_description is None:
        raise InvalidArgumentError(
            f"CloudFormation sets a table's resource policy only on a table its stack "
            f"manages (AWS::DynamoDB::Table ResourcePolicy), and {plan.table} already "
            "exists. Pass table_description=<DynamoDB DescribeTable answer> for a template "
            "to import the table with its policy, or apply the plan with "
            "plan.apply(...) (or `aws dynamodb put-resource-policy`)."
        )
    properties = _table_properties(table_description)
    if properties["TableName"] != plan.table:
        raise InvalidArgumentError(
            f"table_description describes table {properties['TableName']!r}, but the plan "
            f"is for {plan.table!r}."
        )
    properties["ResourcePolicy"] = {"PolicyDocument": plan.resource_policy}
    return {
        **header,
        "Metadata": {
            "xacct-nb": (
                "Import the existing table into a stack with this template (change set "
                "type IMPORT, identifier TableName); the table is retained if the stack "
                "is deleted. If a stack already manages the table, add the ResourcePolicy "
                "below to its AWS::DynamoDB::Table instead."
            )
        },
        "Resources": {
            "OwnerTable": {
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": properties,
            }
        },
    }

def _requester_template(plan: PlanDocuments) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "PolicyName": plan.requester_policy_name,
        "PolicyDocument": plan.requester_policy,
    }
    if plan.requester_role_name:
        properties["Roles"] = [plan.requester_role_name]
    if plan.requester_user:
        properties["Users"] = [plan.requester_user]
    what = (f"DynamoDB {plan.access} access to {plan.table_arn}" if plan.use_resource_policy
            else f"sts:AssumeRole on {plan.role_arn}")
    return {
        "AWSTemplateFormatVersion": _CFN_VERSION,
        "Description": f"xacct-nb, account A {plan.requester_account}: {what}",
        "Resources": {"RequesterPolicy": {"Type": "AWS::IAM::Policy", "Properties": properties}},
    }


def _table_properties(description: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation ``AWS::DynamoDB::Table`` properties from a DescribeTable answer."""
    table = description.get("Table", description)
    if not isinstance(table, dict) or "KeySchema" not in table or "TableName" not in table:
        raise InvalidArgumentError(
            "table_description must be DynamoDB's DescribeTable answer (with 'Table', or its "
            "'Table' entry): it has no TableName/KeySchema."
        )
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    provisioned = billing == "PROVISIONED"

    def throughput(source: dict[str, Any]) -> dict[str, Any]:
        pt = source.get("ProvisionedThroughput") or {}
        return {"ReadCapacityUnits": int(pt.get("ReadCapacityUnits") or 1),
                "WriteCapacityUnits": int(pt.get("WriteCapacityUnits") or 1)}

    def index(ix: dict[str, Any], with_throughput: bool) -> dict[str, Any]:
        projection = {"ProjectionType": ix["Projection"]["ProjectionType"]}
        if ix["Projection"].get("NonKeyAttributes"):
            projection["NonKeyAttributes"] = list(ix["Projection"]["NonKeyAttributes"])
        out = {"IndexName": ix["IndexName"], "KeySchema": list(ix["KeySchema"]),
               "Projection": projection}
        if with_throughput:
            out["ProvisionedThroughput"] = throughput(ix)
        return out

    props: dict[str, Any] = {
        "TableName": table["TableName"],
        "KeySchema": [{"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]}
                      for k in table["KeySchema"]],
        "AttributeDefinitions": [
            {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
            for a in table.get("AttributeDefinitions", [])
        ],
        "BillingMode": billing,
    }
    if provisioned:
        props["ProvisionedThroughput"] = throughput(table)
    if table.get("GlobalSecondaryIndexes"):
        props["GlobalSecondaryIndexes"] = [
            index(ix, provisioned) for ix in table["GlobalSecondaryIndexes"]
        ]
    if table.get("LocalSecondaryIndexes"):
        props["LocalSecondaryIndexes"] = [
            index(ix, False) for ix in table["LocalSecondaryIndexes"]
        ]
    stream = table.get("StreamSpecification") or {}
    if stream.get("StreamEnabled"):
        props["StreamSpecification"] = {"StreamViewType": stream["StreamViewType"]}
    sse = table.get("SSEDescription") or {}
    if sse.get("Status") in ("ENABLED", "ENABLING"):
        props["SSESpecification"] = {"SSEEnabled": True, "SSEType": sse.get("SSEType", "KMS")}
        if sse.get("KMSMasterKeyArn"):
            props["SSESpecification"]["KMSMasterKeyId"] = sse["KMSMasterKeyArn"]
    table_class = (table.get("TableClassSummary") or {}).get("TableClass")
    if table_class:
        props["TableClass"] = table_class
    if "DeletionProtectionEnabled" in table:
        props["DeletionProtectionEnabled"] = bool(table["DeletionProtectionEnabled"])
    return props
