"""IAM policy documents for cross-account DynamoDB access.

Every function returns a plain ``dict`` that ``json.dumps`` turns into a
document AWS accepts. Account B (the *owner*) holds the table and the role;
account A (the *requester*) holds the analyst who assumes it.

>>> import json
>>> doc = read_only_policy("arn:aws:dynamodb:us-east-1:222222222222:table/Orders")
>>> doc["Statement"][0]["Action"][:2]
['dynamodb:BatchGetItem', 'dynamodb:DescribeTable']
>>> json.loads(json.dumps(doc)) == doc
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ._errors import InvalidArgumentError
from ._evaluator import (
    Decision,
    Policy,
    Request,
    evaluate,
    evaluate_cross_account,
    principal_account,
)

__all__ = [
    "Decision",
    "READ_ACTIONS",
    "WRITE_ACTIONS",
    "assume_role_policy",
    "index_arn",
    "leading_keys_write_policy",
    "read_only_policy",
    "read_write_policy",
    "simulate",
    "table_arn",
    "trust_policy",
]

VERSION = "2012-10-17"

#: The seed's four read actions plus DescribeTable (for key names and sizes).
READ_ACTIONS: tuple[str, ...] = (
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
#: Item-level write actions.
WRITE_ACTIONS: tuple[str, ...] = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")


def _check_account(account_id: str) -> str:
    account_id = str(account_id)
    if not _ACCOUNT_RE.match(account_id):
        raise InvalidArgumentError(
            f"{account_id!r} is not an AWS account id: expected 12 digits, e.g. '222222222222'."
        )
    return account_id


def table_arn(region: str, account_id: str, table: str, partition: str = "aws") -> str:
    """The ARN of a DynamoDB table.

    >>> table_arn("us-east-1", "222222222222", "Orders")
    'arn:aws:dynamodb:us-east-1:222222222222:table/Orders'
    """
    if not _TABLE_NAME_RE.match(table):
        raise InvalidArgumentError(
            f"{table!r} is not a valid DynamoDB table name: 3-255 characters of "
            "letters, digits, '_', '-' and '.'."
        )
    return f"arn:{partition}:dynamodb:{region}:{_check_account(account_id)}:table/{table}"


def index_arn(table_arn_: str, index: str = "*") -> str:
    """The ARN of an index of a table (``*`` for all of them).

    >>> index_arn("arn:aws:dynamodb:us-east-1:222222222222:table/Orders")
    'arn:aws:dynamodb:us-east-1:222222222222:table/Orders/index/*'
    """
    return f"{table_arn_}/index/{index}"


def _resources(tables: str | Sequence[str], indexes: bool = True) -> list[str]:
    arns = [tables] if isinstance(tables, str) else list(tables)
    if not arns:
        raise InvalidArgumentError("At least one table ARN is required.")
    for arn in arns:
        if not arn.startswith("arn:") or ":table/" not in arn:
            raise InvalidArgumentError(
                f"{arn!r} is not a table ARN: expected "
                "'arn:aws:dynamodb:REGION:ACCOUNT:table/NAME' (see xn.policies.table_arn)."
            )
    out: list[str] = []
    for arn in arns:
        out.append(arn)
        if indexes:
            out.append(index_arn(arn))
    return out


def trust_policy(
    trusted: str | Iterable[str],
    *,
    external_id: str | None = None,
    require_mfa: bool = False,
) -> dict[str, Any]:
    """Trust policy of the owner's role: who may assume it.

    Parameters
    ----------
    trusted
        An account id (trusts the account's root, i.e. every principal the
        account itself allows), a principal ARN, or several of them.
    external_id
        Require this ``sts:ExternalId`` (guards against the confused deputy).
    require_mfa
        Require ``aws:MultiFactorAuthPresent``.

    >>> trust_policy("111111111111", external_id="xacct-demo")["Statement"][0]["Condition"]
    {'StringEquals': {'sts:ExternalId': 'xacct-demo'}}
    """
    items = [trusted] if isinstance(trusted, str) else list(trusted)
    principals = []
    for item in items:
        if _ACCOUNT_RE.match(str(item)):
            principals.append(f"arn:aws:iam::{item}:root")
        elif str(item).startswith("arn:"):
            principals.append(str(item))
        else:
            raise InvalidArgumentError(
                f"{item!r} is neither an account id nor a principal ARN."
            )
    statement: dict[str, Any] = {
        "Sid": "TrustRequesterAccount",
        "Effect": "Allow",
        "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
        "Action": "sts:AssumeRole",
    }
    condition: dict[str, Any] = {}
    if external_id is not None:
        if not external_id or len(external_id) < 2:
            raise InvalidArgumentError("An ExternalId must have at least 2 characters.")
        condition.setdefault("StringEquals", {})["sts:ExternalId"] = external_id
    if require_mfa:
        condition.setdefault("Bool", {})["aws:MultiFactorAuthPresent"] = "true"
    if condition:
        statement["Condition"] = condition
    return {"Version": VERSION, "Statement": [statement]}


def read_only_policy(tables: str | Sequence[str]) -> dict[str, Any]:
    """Read-only access to the given tables and their indexes.

    >>> doc = read_only_policy("arn:aws:dynamodb:us-east-1:222222222222:table/T1")
    >>> doc["Statement"][0]["Resource"]
    ['arn:aws:dynamodb:us-east-1:222222222222:table/T1', 'arn:aws:dynamodb:us-east-1:222222222222:table/T1/index/*']
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadTables",
                "Effect": "Allow",
                "Action": list(READ_ACTIONS),
                "Resource": _resources(tables),
            }
        ],
    }


def read_write_policy(tables: str | Sequence[str]) -> dict[str, Any]:
    """Read and item-level write access to the given tables.

    >>> doc = read_write_policy("arn:aws:dynamodb:us-east-1:222222222222:table/T1")
    >>> [s["Sid"] for s in doc["Statement"]]
    ['ReadTables', 'WriteItems']
    """
    doc = read_only_policy(tables)
    arns = [tables] if isinstance(tables, str) else list(tables)
    doc["Statement"].append(
        {
            "Sid": "WriteItems",
            "Effect": "Allow",
            "Action": list(WRITE_ACTIONS),
            "Resource": arns,
        }
    )
    return doc


def leading_keys_write_policy(
    tables: str | Sequence[str], partition_keys: Sequence[str]
) -> dict[str, Any]:
    """Reads, plus writes limited to items whose partition key is one of ``partition_keys``.

    Uses the ``dynamodb:LeadingKeys`` condition key with ``ForAllValues``, as
    AWS documents for fine-grained access control.

    >>> doc = leading_keys_write_policy(
    ...     "arn:aws:dynamodb:us-east-1:222222222222:table/T1", ["C-0001"])
    >>> doc["Statement"][1]["Condition"]
    {'ForAllValues:StringEquals': {'dynamodb:LeadingKeys': ['C-0001']}}
    """
    keys = [str(k) for k in partition_keys]
    if not keys:
        raise InvalidArgumentError(
            "partition_keys is empty: name at least one partition-key value the role may write."
        )
    doc = read_only_policy(tables)
    arns = [tables] if isinstance(tables, str) else list(tables)
    doc["Statement"].append(
        {
            "Sid": "WriteOwnPartitions",
            "Effect": "Allow",
            "Action": list(WRITE_ACTIONS),
            "Resource": arns,
            "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": keys}},
        }
    )
    return doc


def assume_role_policy(role_arns: str | Sequence[str]) -> dict[str, Any]:
    """The requester's identity policy: may call ``sts:AssumeRole`` on these roles.

    >>> assume_role_policy("arn:aws:iam::222222222222:role/Reader")["Statement"][0]["Resource"]
    ['arn:aws:iam::222222222222:role/Reader']
    """
    arns = [role_arns] if isinstance(role_arns, str) else list(role_arns)
    for arn in arns:
        if not re.match(r"^arn:aws[\w-]*:iam::(\d{12}|\*):role/.+", arn):
            raise InvalidArgumentError(
                f"{arn!r} is not a role ARN: expected 'arn:aws:iam::ACCOUNT:role/NAME'."
            )
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AssumeCrossAccountRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": arns,
            }
        ],
    }


def _named(policies: Any, kind: str) -> list[Policy]:
    if policies is None:
        return []
    if isinstance(policies, Policy):
        return [policies]
    if isinstance(policies, dict) and "Statement" in policies:
        return [Policy("policy", policies, kind)]
    if isinstance(policies, dict):
        return [Policy(str(name), doc, kind) for name, doc in policies.items()]
    return [
        p if isinstance(p, Policy) else Policy(f"policy {i + 1}", p, kind)
        for i, p in enumerate(policies)
    ]


def simulate(
    policies: Any,
    action: str,
    resource: str,
    *,
    principal: str | None = None,
    context: dict[str, Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
) -> Decision:
    """Would ``principal``, holding ``policies``, be allowed ``action`` on ``resource``?

    Decided offline by the evaluator the sandbox enforces with (AWS's
    documented logic: explicit deny, then allow; both accounts must allow
    across accounts). The :class:`Decision` names the deciding policy and
    statement.

    Parameters
    ----------
    policies
        The caller's identity-based policies: one document, a list, or a
        ``{name: document}`` mapping.
    action
        E.g. ``"dynamodb:Query"`` or ``"sts:AssumeRole"``.
    resource
        The table / index / role ARN.
    principal
        The caller's ARN; default: a session of a role in the resource's account.
    context
        Condition keys of the request, e.g. ``{"dynamodb:LeadingKeys": ["C-0001"]}``,
        ``{"sts:ExternalId": "..."}``, ``{"aws:MultiFactorAuthPresent": True}``.
    resource_policy
        The resource's own policy: a table's resource policy or, for
        ``sts:AssumeRole``, the role's trust policy.

    >>> table = "arn:aws:dynamodb:us-east-1:222222222222:table/Orders"
    >>> simulate(read_only_policy(table), "dynamodb:Query", table).allowed
    True
    >>> decision = simulate(read_only_policy(table), "dynamodb:PutItem", table)
    >>> decision.decision, decision.reason
    ('ImplicitDeny', 'no identity-based policy allows the dynamodb:PutItem action')
    """
    if not isinstance(action, str) or ":" not in action:
        raise InvalidArgumentError(f"action must look like 'dynamodb:Query', not {action!r}.")
    if not isinstance(resource, str) or not resource.startswith("arn:"):
        raise InvalidArgumentError(f"resource must be an ARN, not {resource!r}.")
    account = principal_account(resource)
    if principal is None:
        principal = f"arn:aws:sts::{account or '000000000000'}:assumed-role/SimulatedRole/simulate"
    request = Request(principal, action, resource, dict(context or {}))
    identity = _named(policies, "identity")
    if resource_policy is None:
        return evaluate(identity, request)
    kind = "trust" if action.lower() == "sts:assumerole" else "resource"
    return evaluate_cross_account(identity, _named(resource_policy, kind), request, account)
