"""IAM policy documents for cross-account DynamoDB access, and the offline evaluator's face.

The document builders behind :mod:`xacct_nb.policies` (which re-exports
them with the setup plans): every function returns a plain ``dict`` that
``json.dumps`` turns into a document AWS accepts. Account B (the *owner*)
holds the table and the role; account A (the *requester*) holds the analyst
who assumes it. Instead of a role, B can attach a resource-based policy to
the table (:func:`table_resource_policy`); A then reads by table ARN.
:func:`simulate` evaluates documents offline, as the sandbox does.

A foundation: imports nothing of the package but errors, input checks and the
evaluator. The public names are re-exported by :mod:`xacct_nb.policies`, whose
docstring shows them at work.
"""

from __future__ import annotations

import json
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
from ._validate import check_bool, check_str, check_strings

__all__ = [
    "ACCOUNT_RE",
    "Decision",
    "EXPORT_ACTIONS",
    "EXPORT_S3_WRITE_ACTIONS",
    "READ_ACTIONS",
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
    "principal_arns",
    "read_only_policy",
    "read_role_policies",
    "read_write_policy",
    "simulate",
    "table_arn",
    "table_resource_policy",
    "trust_policy",
]

VERSION = "2012-10-17"

#: The seed's four read actions plus DescribeTable (for key names and sizes).
READ_ACTIONS: tuple[str, ...] = (
    "dynamodb:BatchGetItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PartiQLSelect",
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

ACCOUNT_RE = re.compile(r"^\d{12}$")
_TABLE_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,255}$")
_TABLE_ARN_RE = re.compile(r"^arn:aws[\w-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.\-]{3,255}$")
_PRINCIPAL_RE = re.compile(r"^arn:aws[\w-]*:(iam|sts)::\d{12}:\S+$")


def _check_account(account_id: str) -> str:
    account_id = str(account_id)
    if not ACCOUNT_RE.match(account_id):
        raise InvalidArgumentError(
            f"{account_id!r} is not an AWS account id: expected 12 digits, e.g. '222222222222'."
        )
    return account_id


def table_arn(region: str, account_id: str, table: str, partition: str = "aws") -> str:
    """Return the ARN of a DynamoDB table.

    >>> table_arn("us-east-1", "222222222222", "Orders")
    'arn:aws:dynamodb:us-east-1:222222222222:table/Orders'
    """
    check_str("region", region, pattern=r"[a-z0-9-]+", what="a region name such as 'us-east-1'")
    check_str("table", table, what="a table name")
    check_str("partition", partition, pattern=r"aws[a-z-]*", what="'aws', 'aws-cn' or 'aws-us-gov'")
    if not _TABLE_NAME_RE.match(table):
        raise InvalidArgumentError(
            f"{table!r} is not a valid DynamoDB table name: 3-255 characters of "
            "letters, digits, '_', '-' and '.'."
        )
    return f"arn:{partition}:dynamodb:{region}:{_check_account(account_id)}:table/{table}"


def index_arn(table_arn_: str, index: str = "*") -> str:
    """Return the ARN of an index of a table (``*`` for all of them).

    >>> index_arn("arn:aws:dynamodb:us-east-1:222222222222:table/Orders")
    'arn:aws:dynamodb:us-east-1:222222222222:table/Orders/index/*'
    """
    check_str("table_arn", table_arn_, pattern=r"arn:.+:table/.+", what="a table ARN")
    check_str("index", index, what="an index name or '*'")
    return f"{table_arn_}/index/{index}"


def _resources(tables: str | Sequence[str], indexes: bool = True) -> list[str]:
    check_strings("tables", tables, optional=False)
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


def principal_arns(trusted: str | Iterable[str]) -> list[str]:
    """Principal ARNs for a policy's ``Principal``: account ids become the account's root.

    Parameters
    ----------
    trusted
        An account id, a principal ARN (user, role, account root), or several.

    Returns
    -------
    list of str
        ARNs in the order given, duplicates removed.

    >>> principal_arns(["111111111111", "arn:aws:iam::111111111111:user/analyst"])
    ['arn:aws:iam::111111111111:root', 'arn:aws:iam::111111111111:user/analyst']
    """
    return _principals(trusted, "trusted")


def _principals(trusted: Any, name: str) -> list[str]:
    """Run :func:`principal_arns`, with the caller's argument ``name`` in its messages."""
    if isinstance(trusted, (str, int)) and not isinstance(trusted, bool):
        items = [trusted]
    elif isinstance(trusted, Iterable) and not isinstance(trusted, (bytes, dict)):
        items = list(trusted)
    else:
        raise InvalidArgumentError(
            f"{name} must be an account id, a principal ARN or a list of them, "
            f"not {trusted!r}."
        )
    principals: list[str] = []
    for item in items:
        if ACCOUNT_RE.match(str(item)):
            principals.append(f"arn:aws:iam::{item}:root")
        elif _PRINCIPAL_RE.match(str(item)):
            principals.append(str(item))
        else:
            raise InvalidArgumentError(
                f"{name}: {item!r} is neither an account id nor a principal ARN."
            )
    if not principals:
        raise InvalidArgumentError(
            f"No principal given in {name}: name an account id or a principal ARN, e.g. '111111111111'."
        )
    return list(dict.fromkeys(principals))


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
    check_str("external_id", external_id, optional=True, min_len=0)
    check_bool("require_mfa", require_mfa)
    principals = principal_arns(trusted)
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

    The seed's read actions (GetItem, Query, Scan, BatchGetItem) plus
    DescribeTable (key names and types, sizes) and PartiQLSelect
    (:func:`xacct_nb.read_partiql`).

    It limits what the role may read, not how fast: no IAM condition key
    caps the read capacity a role consumes, so a granted Scan may read the
    whole table as fast as the table serves it. To protect the table, its
    owner can give it (and each GSI) provisioned capacity, or an on-demand
    maximum, so that reads beyond it are throttled (for every reader, the
    owner's application included); give analysts a table or GSI of their own
    (granted by :func:`index_arn`); offer S3 exports (:func:`export_policy`,
    point-in-time recovery, no read capacity consumed) instead of scans;
    narrow the grant with a resource-based policy (:func:`table_resource_policy`,
    e.g. without Scan); alarm in CloudWatch on ``ConsumedReadCapacityUnits``
    and throttled requests; and ask the analysts to read with ``max_rcu=``,
    which xacct-nb enforces on its own reads (a promise, not a permission).

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
    """Allow reads, plus writes limited to items whose partition key is one of ``partition_keys``.

    Uses the ``dynamodb:LeadingKeys`` condition key with ``ForAllValues``, as
    AWS documents for fine-grained access control.

    >>> doc = leading_keys_write_policy(
    ...     "arn:aws:dynamodb:us-east-1:222222222222:table/T1", ["C-0001"])
    >>> doc["Statement"][1]["Condition"]
    {'ForAllValues:StringEquals': {'dynamodb:LeadingKeys': ['C-0001']}}
    """
    if isinstance(partition_keys, (str, bytes)) or not isinstance(partition_keys, Iterable):
        raise InvalidArgumentError(
            f"partition_keys must be a list of partition-key values, e.g. ['C-0001'], "
            f"not {partition_keys!r}."
        )
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
    """Return the requester's identity policy: may call ``sts:AssumeRole`` on these roles.

    >>> assume_role_policy("arn:aws:iam::222222222222:role/Reader")["Statement"][0]["Resource"]
    ['arn:aws:iam::222222222222:role/Reader']
    """
    check_strings("role_arns", role_arns, optional=False)
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


def attribute_limited_read_policy(
    tables: str | Sequence[str],
    attributes: Sequence[str],
    *,
    key_attributes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Allow reads limited to the given attributes (fine-grained access control).

    Built the way AWS documents it ("Allows access to specific attributes"):
    the reads are allowed only when every requested attribute is in the
    list (``ForAllValues:StringEquals`` on ``dynamodb:Attributes``) and a
    Query or Scan asks for specific attributes
    (``StringEqualsIfExists`` ``dynamodb:Select: SPECIFIC_ATTRIBUTES``), so a
    read without a projection, or of an index's projected attributes, is
    denied. One condition more than AWS's example: ``Null``
    ``dynamodb:Attributes: false``. GetItem and BatchGetItem carry no
    ``dynamodb:Select``, and ``ForAllValues`` over a request without
    attributes is vacuously true, so without it a GetItem with no
    projection would return every attribute. ``DescribeTable`` stays
    allowed in a separate statement without conditions: readers call it for
    the key names.

    Parameters
    ----------
    tables
        Table ARN(s); their indexes are included.
    attributes
        Top-level attribute names the reader may see.
    key_attributes
        The table's (and indexes') key attribute names, added to
        ``attributes``: AWS requires the key attributes in the list.

    Returns
    -------
    dict
        The identity-based policy document.

    >>> doc = attribute_limited_read_policy(
    ...     "arn:aws:dynamodb:us-east-1:222222222222:table/T1", ["total"],
    ...     key_attributes=["customer_id", "order_ts"])
    >>> doc["Statement"][0]["Condition"]["ForAllValues:StringEquals"]
    {'dynamodb:Attributes': ['customer_id', 'order_ts', 'total']}
    >>> [s["Sid"] for s in doc["Statement"]]
    ['ReadAllowedAttributes', 'DescribeTables']
    """
    if isinstance(attributes, str):
        attributes = [attributes]
    if isinstance(key_attributes, str):
        key_attributes = [key_attributes]
    check_strings("attributes", attributes, optional=False)
    check_strings("key_attributes", key_attributes)
    names = [str(a) for a in (*(key_attributes or ()), *attributes)]
    if not attributes:
        raise InvalidArgumentError(
            "attributes is empty: name at least one attribute the reader may see."
        )
    for name in names:
        if not name or len(name) > 255 or "." in name or "[" in name:
            raise InvalidArgumentError(
                f"{name!r} is not a top-level attribute name: dynamodb:Attributes lists "
                "top-level names only (1-255 characters, no '.' or '[')."
            )
    resources = _resources(tables)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadAllowedAttributes",
                "Effect": "Allow",
                "Action": [a for a in READ_ACTIONS if a != "dynamodb:DescribeTable"],
                "Resource": resources,
                "Condition": {
                    "ForAllValues:StringEquals": {"dynamodb:Attributes": list(dict.fromkeys(names))},
                    "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
                    "Null": {"dynamodb:Attributes": "false"},
                },
            },
            {
                "Sid": "DescribeTables",
                "Effect": "Allow",
                "Action": "dynamodb:DescribeTable",
                "Resource": _resources(tables, indexes=False),
            },
        ],
    }


def _single_table_arn(table_arn_: str) -> str:
    if not isinstance(table_arn_, str) or not _TABLE_ARN_RE.match(table_arn_):
        raise InvalidArgumentError(
            f"{table_arn_!r} is not the ARN of one table: a table's resource policy is "
            "attached to one table, 'arn:aws:dynamodb:REGION:ACCOUNT:table/NAME'."
        )
    return table_arn_


def as_resource_policy(
    identity_policy: dict[str, Any],
    principals: str | Iterable[str],
    *,
    require_mfa: bool = False,
) -> dict[str, Any]:
    """Turn an identity-based policy into a resource-based one for ``principals``.

    Every statement keeps its actions, resources and conditions and gains a
    ``Principal``. Used for a table's resource policy that grants the same
    access a role would (attach it to the table the statements name).

    Parameters
    ----------
    identity_policy
        E.g. :func:`read_only_policy` or :func:`leading_keys_write_policy` of one table.
    principals
        Account ids (the account's root) or principal ARNs.
    require_mfa
        Add ``aws:MultiFactorAuthPresent`` to every statement.

    Returns
    -------
    dict
        The resource-based policy document.

    >>> doc = as_resource_policy(
    ...     read_only_policy("arn:aws:dynamodb:us-east-1:222222222222:table/T1"), "111111111111")
    >>> doc["Statement"][0]["Principal"]
    {'AWS': 'arn:aws:iam::111111111111:root'}
    """
    check_bool("require_mfa", require_mfa)
    if not isinstance(identity_policy, dict):
        raise InvalidArgumentError(
            f"identity_policy must be a policy document (a dict), not {type(identity_policy).__name__}."
        )
    arns = _principals(principals, "principals")
    principal = {"AWS": arns[0] if len(arns) == 1 else arns}
    statements = []
    for statement in identity_policy.get("Statement", []):
        out = {k: v for k, v in statement.items() if k not in ("Principal", "NotPrincipal")}
        out = {
            **{k: out[k] for k in ("Sid", "Effect") if k in out},
            "Principal": principal,
            **{k: v for k, v in out.items() if k not in ("Sid", "Effect")},
        }
        if require_mfa:
            condition = {op: dict(block) for op, block in out.get("Condition", {}).items()}
            condition.setdefault("Bool", {})["aws:MultiFactorAuthPresent"] = "true"
            out["Condition"] = condition
        statements.append(out)
    if not statements:
        raise InvalidArgumentError("The identity policy has no statements to turn into a resource policy.")
    return {"Version": VERSION, "Statement": statements}


def table_resource_policy(
    table_arn_: str,
    principals: str | Iterable[str],
    *,
    actions: Sequence[str] = READ_ACTIONS,
    include_indexes: bool = True,
) -> dict[str, Any]:
    """Return a DynamoDB resource-based policy for one table: access by table ARN, no role.

    Attach it to the table (``PutResourcePolicy``); the requester then
    calls DynamoDB with the table's **ARN** as ``TableName``. Across
    accounts both sides must allow: the requester's own identity policy must
    allow the same actions on the same ARNs (see :func:`read_only_policy`).

    A table's policy governs the table *and its indexes*: AWS documents
    putting the index ARNs in the ``Resource`` of the table's policy (an index
    has no policy of its own), and a statement applies only to ARNs of the
    table it is attached to. So ``Resource`` is the table ARN and, with
    ``include_indexes``, ``TABLE_ARN/index/*``. All of :data:`READ_ACTIONS`
    (``DescribeTable`` included) work across accounts through a resource
    policy.

    Parameters
    ----------
    table_arn_
        The table's ARN.
    principals
        Account ids (meaning the account's root: any principal that account's
        own policies allow) or principal ARNs.
    actions
        DynamoDB actions to allow; default :data:`READ_ACTIONS`.
    include_indexes
        Also allow the actions on every index of the table.

    >>> doc = table_resource_policy(
    ...     "arn:aws:dynamodb:us-east-1:222222222222:table/Orders", "111111111111")
    >>> statement = doc["Statement"][0]
    >>> statement["Principal"]
    {'AWS': 'arn:aws:iam::111111111111:root'}
    >>> statement["Resource"][1]
    'arn:aws:dynamodb:us-east-1:222222222222:table/Orders/index/*'
    """
    arn = _single_table_arn(table_arn_)
    acts = [actions] if isinstance(actions, str) else list(actions)
    if not acts:
        raise InvalidArgumentError("actions is empty: name at least one DynamoDB action.")
    for action in acts:
        if not re.fullmatch(r"dynamodb:[A-Za-z*]+", action):
            raise InvalidArgumentError(
                f"{action!r} is not a DynamoDB action: a table's resource policy grants "
                "'dynamodb:...' actions only, e.g. 'dynamodb:Query'."
            )
    identity = {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "CrossAccountTableAccess",
                "Effect": "Allow",
                "Action": acts,
                "Resource": _resources(arn, indexes=include_indexes),
            }
        ],
    }
    return as_resource_policy(identity, principals)


# -- snapshot exports (ExportTableToPointInTime into S3) ------------------------------------

#: What the owner's role needs on the table to start and follow exports.
EXPORT_ACTIONS: tuple[str, ...] = (
    "dynamodb:DescribeExport",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:ListExports",
)
#: What the export writes into the bucket with (AWS's documented set).
EXPORT_S3_WRITE_ACTIONS: tuple[str, ...] = (
    "s3:AbortMultipartUpload",
    "s3:PutObject",
    "s3:PutObjectAcl",
)
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def bucket_arn(bucket: str, prefix: str | None = None) -> str:
    """Return the ARN of an S3 bucket, or of its objects under ``prefix`` (``""``: all objects).

    >>> bucket_arn("analyst-exports")
    'arn:aws:s3:::analyst-exports'
    >>> bucket_arn("analyst-exports", "orders/")
    'arn:aws:s3:::analyst-exports/orders/*'
    """
    if not isinstance(bucket, str) or not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise InvalidArgumentError(
            f"bucket={bucket!r} is not an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit."
        )
    if prefix is None:
        return f"arn:aws:s3:::{bucket}"
    return f"arn:aws:s3:::{bucket}/{_export_prefix(prefix)}*"


def _export_prefix(prefix: str | None) -> str:
    """``"orders"`` -> ``"orders/"``; ``None`` / ``""`` -> ``""`` (the whole bucket)."""
    if prefix is None:
        return ""
    if not isinstance(prefix, str) or "*" in prefix or prefix.startswith("/"):
        raise InvalidArgumentError(
            f"prefix={prefix!r} must be a key prefix such as 'exports/orders' (no '*', no "
            "leading '/')."
        )
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def export_policy(
    tables: str | Sequence[str], bucket: str, *, prefix: str | None = None
) -> dict[str, Any]:
    """Return the owner role's policy to export ``tables`` into ``bucket`` and follow the export.

    Attach it to the role in the table's account (B), next to its read
    policy. ``ExportTableToPointInTime`` is authorized on the table,
    ``DescribeExport`` on the table's exports (``TABLE/export/*``),
    ``ListExports`` has no resource (``*``), and the export writes the files
    with the role's permissions (``s3:PutObject``, ``s3:AbortMultipartUpload``,
    ``s3:PutObjectAcl``). When the bucket belongs to another account (A), the
    bucket's own policy must allow the role as well: see
    :func:`export_bucket_policy`. The table also needs point-in-time recovery
    (``UpdateContinuousBackups``, done once by the owner).

    >>> doc = export_policy("arn:aws:dynamodb:us-east-1:222222222222:table/Orders",
    ...                     "analyst-exports", prefix="orders")
    >>> [s["Sid"] for s in doc["Statement"]]
    ['ExportTables', 'FollowExports', 'ListExports', 'WriteExportFiles']
    >>> doc["Statement"][1]["Resource"]
    ['arn:aws:dynamodb:us-east-1:222222222222:table/Orders/export/*']
    >>> doc["Statement"][3]["Resource"]
    'arn:aws:s3:::analyst-exports/orders/*'
    """
    arns = _resources(tables, indexes=False)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ExportTables",
                "Effect": "Allow",
                "Action": "dynamodb:ExportTableToPointInTime",
                "Resource": arns,
            },
            {
                "Sid": "FollowExports",
                "Effect": "Allow",
                "Action": "dynamodb:DescribeExport",
                "Resource": [f"{arn}/export/*" for arn in arns],
            },
            {
                "Sid": "ListExports",
                "Effect": "Allow",
                "Action": "dynamodb:ListExports",
                "Resource": "*",
            },
            {
                "Sid": "WriteExportFiles",
                "Effect": "Allow",
                "Action": list(EXPORT_S3_WRITE_ACTIONS),
                "Resource": bucket_arn(bucket, prefix or ""),
            },
        ],
    }


def export_bucket_policy(
    bucket: str, writers: str | Iterable[str], *, prefix: str | None = None
) -> dict[str, Any]:
    """Return the bucket's policy (account A): lets the owner's role write exports into it.

    Across accounts S3 needs both sides: the role's own policy
    (:func:`export_policy`) *and* this bucket policy. Put it on the bucket
    with ``PutBucketPolicy`` (merge the statement into an existing policy).
    With S3 Object Ownership "bucket owner enforced" (the default for new
    buckets) the files then belong to the bucket's account, so the analyst
    reads them with account A's own permissions (:func:`export_reader_policy`).

    Parameters
    ----------
    bucket
        The bucket name.
    writers
        The owner's role ARN(s) (or account ids, meaning any principal that
        account allows).
    prefix
        Limit writes to keys under this prefix.

    >>> doc = export_bucket_policy(
    ...     "analyst-exports", "arn:aws:iam::222222222222:role/Reader", prefix="orders")
    >>> statement = doc["Statement"][0]
    >>> statement["Principal"], statement["Resource"]
    ({'AWS': 'arn:aws:iam::222222222222:role/Reader'}, 'arn:aws:s3:::analyst-exports/orders/*')
    """
    arns = _principals(writers, "writers")
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AllowDynamoDBExportsFromOwner",
                "Effect": "Allow",
                "Principal": {"AWS": arns[0] if len(arns) == 1 else arns},
                "Action": list(EXPORT_S3_WRITE_ACTIONS),
                "Resource": bucket_arn(bucket, prefix or ""),
            }
        ],
    }


def export_reader_policy(bucket: str, *, prefix: str | None = None) -> dict[str, Any]:
    """Return the analyst's identity policy (account A): may read the exported files.

    ``s3:GetObject`` on the objects under ``prefix`` is all
    :func:`xacct_nb.read_snapshot` needs when it is handed the export (its
    manifest names every file); ``s3:ListBucket`` (limited to the prefix)
    lets it find an export from an ``s3://bucket/prefix/`` URL alone.

    >>> doc = export_reader_policy("analyst-exports", prefix="orders")
    >>> [s["Action"] for s in doc["Statement"]]
    ['s3:GetObject', 's3:ListBucket']
    >>> doc["Statement"][1]["Condition"]
    {'StringLike': {'s3:prefix': ['orders/*']}}
    """
    listing: dict[str, Any] = {
        "Sid": "ListExports",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": bucket_arn(bucket),
    }
    folder = _export_prefix(prefix)
    if folder:
        listing["Condition"] = {"StringLike": {"s3:prefix": [f"{folder}*"]}}
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadExportFiles",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": bucket_arn(bucket, prefix or ""),
            },
            listing,
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
    """Decide whether ``principal``, holding ``policies``, may do ``action`` on ``resource``.

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
        ``sts:AssumeRole``, the role's trust policy. Left out for a
        ``principal`` of another account than the resource's, the resource
        side has no policy and the request is denied: across accounts "the
        resource-based policy in AccountB must allow the requester in AccountA
        to access the resource" (IAM User Guide, "Cross-account policy
        evaluation logic").

    >>> table = "arn:aws:dynamodb:us-east-1:222222222222:table/Orders"
    >>> simulate(read_only_policy(table), "dynamodb:Query", table).allowed
    True
    >>> decision = simulate(read_only_policy(table), "dynamodb:PutItem", table)
    >>> decision.decision, decision.reason
    ('ImplicitDeny', 'no identity-based policy allows the dynamodb:PutItem action')
    >>> simulate(read_only_policy(table), "dynamodb:Query", table,
    ...          principal="arn:aws:iam::111111111111:user/analyst").decision
    'ImplicitDeny'
    """
    if not isinstance(action, str) or ":" not in action:
        raise InvalidArgumentError(f"action must look like 'dynamodb:Query', not {action!r}.")
    if not isinstance(resource, str) or not resource.startswith("arn:"):
        raise InvalidArgumentError(f"resource must be an ARN, not {resource!r}.")
    account = principal_account(resource)
    if principal is None:
        principal = f"arn:aws:sts::{account or '000000000000'}:assumed-role/SimulatedRole/simulate"
    if context is not None and not isinstance(context, dict):
        raise InvalidArgumentError(f"context must be a dict of condition keys, not {context!r}.")
    request = Request(principal, action, resource, dict(context or {}))
    for name, value in (("policies", policies), ("resource_policy", resource_policy)):
        if value is not None and not isinstance(value, (dict, list, tuple, Policy)):
            raise InvalidArgumentError(
                f"{name} must be a policy document (a dict), a list of them or "
                f"{{name: document}}, not {type(value).__name__}."
            )
    identity = _named(policies, "identity")
    caller = principal_account(principal)
    if resource_policy is None and caller is not None and account is not None \
            and caller != account:
        # Across accounts both sides must allow: a resource side left out has no policy.
        resource_policy = {"Version": "2012-10-17", "Statement": []}
    if resource_policy is None:
        return evaluate(identity, request)
    kind = "trust" if action.lower() == "sts:assumerole" else "resource"
    return evaluate_cross_account(identity, _named(resource_policy, kind), request, account)


# -- reading documents back -----------------------------------------------------------


def read_role_policies(iam_client: Any, role_name: str) -> dict[str, dict[str, Any]]:
    """Read a role's inline and attached managed policies through IAM (needs iam:Get*/List*).

    >>> read_role_policies(admin.client("iam"), "DynamoDBReaderRoleForAccountA")
    {'ReadMyCrossAccountTable': {'Version': '2012-10-17', 'Statement': [...]}}
    """

    def doc(raw: Any) -> dict[str, Any]:
        if isinstance(raw, dict):
            return raw
        from urllib.parse import unquote

        return json.loads(unquote(raw))

    out: dict[str, dict[str, Any]] = {}
    for name in iam_client.list_role_policies(RoleName=role_name)["PolicyNames"]:
        out[name] = doc(iam_client.get_role_policy(RoleName=role_name, PolicyName=name)[
            "PolicyDocument"])
    for attached in iam_client.list_attached_role_policies(RoleName=role_name)[
        "AttachedPolicies"
    ]:
        arn = attached["PolicyArn"]
        version = iam_client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        out[attached["PolicyName"]] = doc(
            iam_client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"][
                "Document"]
        )
    return out
