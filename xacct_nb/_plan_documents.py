"""The documents of a setup plan: what each account needs, checked and built.

:func:`plan_fields` checks the options of :func:`~xacct_nb.policies.setup_plan`
and builds both accounts' documents with the builders of
:mod:`xacct_nb._documents`; :class:`PlanDocuments` holds them. Printing and
applying a plan are :mod:`xacct_nb._setup`'s, its CloudFormation templates
:mod:`xacct_nb._cloudformation`'s. :func:`normalize_policy` compares
documents the way IAM does.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from ._documents import (
    ACCOUNT_RE,
    as_resource_policy,
    assume_role_policy,
    attribute_limited_read_policy,
    leading_keys_write_policy,
    principal_arns,
    read_only_policy,
    read_write_policy,
    table_arn,
    trust_policy,
)
from ._errors import InvalidArgumentError

__all__ = ["ACCESS_MODES", "PlanDocuments", "normalize_policy", "plan_fields"]

#: What a plan can grant: the document each mode puts on the role (or the table).
ACCESS_MODES: dict[str, str] = {
    "read": ("read-only: GetItem, BatchGetItem, Query, Scan, DescribeTable, PartiQLSelect on the "
             "table and its indexes"),
    "read-write": "reads plus item writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem)",
    "leading-keys": "reads plus writes limited to given partition-key values (dynamodb:LeadingKeys)",
    "attributes": "reads limited to given attributes (dynamodb:Attributes, dynamodb:Select)",
}
_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")

# -- comparing documents -------------------------------------------------------------------

_SET_VALUED = ("Action", "NotAction", "Resource", "NotResource")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple, set)) else [value]
    return sorted({_text(v) for v in items})


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "Statement":
                statements = [_canonical(s) for s in (item if isinstance(item, list) else [item])]
                out[key] = sorted(statements, key=lambda s: json.dumps(s, sort_keys=True))
            elif key in ("Principal", "NotPrincipal") and isinstance(item, dict):
                out[key] = {kind: _values(v) for kind, v in item.items()}
            elif key == "Condition" and isinstance(item, dict):
                out[key] = {
                    op: {k: _values(v) for k, v in block.items()} for op, block in item.items()
                }
            elif key in _SET_VALUED:
                out[key] = _values(item)
            else:
                out[key] = _canonical(item)
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def normalize_policy(document: Any) -> Any:
    """Return a policy document in a form that compares equal when IAM would treat it the same.

    Single values and one-element lists, the order of actions, resources,
    principals, condition values and statements, and ``true`` vs ``"true"``
    make no difference.

    Parameters
    ----------
    document
        A dict, a JSON string, or the URL-encoded JSON that IAM's query API
        returns (boto3 decodes it; other clients may not).

    Returns
    -------
    dict or None
        The canonical form; only meant to be compared.

    >>> a = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ...      "Action": "sts:AssumeRole", "Resource": ["arn:aws:iam::1:role/R"]}]}
    >>> b = '%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%2C%22Resource%22%3A%22arn%3Aaws%3Aiam%3A%3A1%3Arole%2FR%22%7D%7D'
    >>> normalize_policy(a) == normalize_policy(b)
    True
    """
    if document is None:
        return None
    if isinstance(document, bytes):
        document = document.decode()
    if isinstance(document, str):
        text = document.strip()
        if not text.startswith("{"):
            text = unquote(text)
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(
                f"document is not a JSON policy document: {exc} (in {text[:60]!r})."
            ) from None
    if not isinstance(document, dict):
        raise InvalidArgumentError(
            f"document must be a policy document (a dict or its JSON), not {document!r}."
        )
    return _canonical(document)


# -- the documents ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanDocuments:
    """What both accounts need for cross-account access to one table: names and documents.

    The data of a :class:`~xacct_nb.policies.SetupPlan` (which adds printing,
    applying and CloudFormation); made by :func:`plan_fields` through
    :func:`~xacct_nb.policies.setup_plan`.

    Attributes
    ----------
    owner_account, requester_account, table, region, table_arn, access : str
    role_name : str or None
        B's role (None with ``use_resource_policy``).
    external_id : str or None
    require_mfa : bool
    max_session_duration : int
    use_resource_policy : bool
    trusted : list of str
        The principals of A that B trusts (the role's trust policy, or the
        table's resource policy).
    requester_role_name, requester_user : str or None
        Who in account A gets the requester policy.
    trust_policy, role_policy, resource_policy : dict or None
        Account B's documents (the first two for a role, the last for the
        resource-policy alternative).
    role_policy_name : str or None
        Name of the role's inline policy.
    requester_policy : dict
        Account A's identity policy.
    requester_policy_name : str
        Its name (an inline policy of the requester role and/or user).
    """

    owner_account: str
    requester_account: str
    table: str
    region: str
    table_arn: str
    access: str
    role_name: str | None
    external_id: str | None
    require_mfa: bool
    max_session_duration: int
    use_resource_policy: bool
    trusted: list[str]
    requester_role_name: str | None
    requester_user: str | None
    trust_policy: dict[str, Any] | None
    role_policy: dict[str, Any] | None
    role_policy_name: str | None
    resource_policy: dict[str, Any] | None
    requester_policy: dict[str, Any]
    requester_policy_name: str
    partition_keys: list[str] | None = field(default=None)
    attributes: list[str] | None = field(default=None)

    # -- derived ------------------------------------------------------------------------
    @property
    def role_arn(self) -> str | None:
        """The ARN of B's role, or None for the resource-policy alternative."""
        if self.role_name is None:
            return None
        return f"arn:aws:iam::{self.owner_account}:role/{self.role_name}"

    @property
    def requester_arns(self) -> list[str]:
        """ARNs of account A's role and/or user that get the requester policy."""
        out = []
        if self.requester_role_name:
            out.append(f"arn:aws:iam::{self.requester_account}:role/{self.requester_role_name}")
        if self.requester_user:
            out.append(f"arn:aws:iam::{self.requester_account}:user/{self.requester_user}")
        return out

    def documents(self) -> dict[str, dict[str, Any]]:
        """Return every document of the plan, by role.

        The roles are ``trust_policy``, ``role_policy``, ``resource_policy``
        (whichever apply) and ``requester_policy``.

        >>> from xacct_nb.policies import setup_plan
        >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
        ...                   table="Orders", region="us-east-1", use_resource_policy=True,
        ...                   requester_user="analyst")
        >>> sorted(plan.documents())
        ['requester_policy', 'resource_policy']
        """
        docs = {
            "trust_policy": self.trust_policy,
            "role_policy": self.role_policy,
            "resource_policy": self.resource_policy,
            "requester_policy": self.requester_policy,
        }
        return {name: doc for name, doc in docs.items() if doc is not None}


# -- making a plan -------------------------------------------------------------------------


def _name(value: Any, what: str, option: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise InvalidArgumentError(
            f"{option}={value!r} is not a valid IAM {what} name: 1-64 letters, digits and "
            "'+=,.@_-'."
        )
    return value


def _policy_name(prefix: str, name: str) -> str:
    """Return an IAM policy name (at most 128 characters) from a prefix and a table or role name."""
    full = f"{prefix}-{name}"
    if len(full) <= 128:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:10]
    return f"{full[:117]}-{digest}"


def _strings(value: str | Iterable[Any] | None, option: str) -> list[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, (str, int)) else list(value)
    out = [str(v) for v in items]
    if not out or any(not v for v in out):
        raise InvalidArgumentError(f"{option} must name at least one non-empty value, not {value!r}.")
    return list(dict.fromkeys(out))


def plan_fields(
    *,
    owner_account: str,
    requester_account: str,
    table: str,
    region: str,
    role_name: str,
    access: str,
    partition_keys: Sequence[str] | None,
    attributes: Sequence[str] | None,
    key_attributes: Sequence[str] | None,
    external_id: str | None,
    require_mfa: bool,
    requester_principal: str | Sequence[str] | None,
    requester_role_name: str | None,
    requester_user: str | None,
    max_session_duration: int,
    use_resource_policy: bool,
) -> dict[str, Any]:
    """Check a setup plan's options and build its documents: the fields of a :class:`PlanDocuments`.

    Parameters and errors as in :func:`~xacct_nb.policies.setup_plan`, which
    holds the defaults (every option is required here).

    >>> from xacct_nb.policies import setup_plan
    >>> fields = vars(setup_plan(owner_account="222222222222", requester_account="111111111111",
    ...                          table="Orders", region="us-east-1"))
    >>> fields["role_policy_name"], fields["requester_policy_name"]
    ('xacct-nb-Orders', 'xacct-nb-assume-DynamoDBReaderRoleForAccountA')
    """
    for option, account in (("owner_account", owner_account),
                            ("requester_account", requester_account)):
        if not ACCOUNT_RE.match(str(account)):
            raise InvalidArgumentError(
                f"{option}={account!r} is not an AWS account id: expected 12 digits, "
                "e.g. '222222222222'."
            )
    owner_account, requester_account = str(owner_account), str(requester_account)
    if owner_account == requester_account:
        raise InvalidArgumentError(
            f"owner_account and requester_account are both {owner_account}: a setup plan is "
            "for access across two accounts (within one account, an identity policy such as "
            "xn.policies.read_only_policy is enough)."
        )
    if not isinstance(region, str) or not _REGION_RE.match(region):
        raise InvalidArgumentError(f"region={region!r} is not an AWS region, e.g. 'us-east-1'.")
    if isinstance(table, str) and table.startswith("arn:"):
        match = re.match(r"^arn:aws[\w-]*:dynamodb:([\w-]+):(\d{12}):table/([^/]+)$", table)
        if not match or match.group(1) != region or match.group(2) != owner_account:
            raise InvalidArgumentError(
                f"table={table!r} is not a table ARN of account {owner_account} in {region}: "
                "pass the table's name, or its ARN in the owner's account and region."
            )
        table = match.group(3)
    arn = table_arn(region, owner_account, table)
    if access not in ACCESS_MODES:
        raise InvalidArgumentError(
            f"access={access!r} is not one of {', '.join(map(repr, ACCESS_MODES))}."
        )
    keys = _strings(partition_keys, "partition_keys")
    attrs = _strings(attributes, "attributes")
    key_attrs = _strings(key_attributes, "key_attributes")
    if access == "leading-keys" and keys is None:
        raise InvalidArgumentError(
            "access='leading-keys' needs partition_keys: the partition-key values the role "
            "may write, e.g. partition_keys=['C-0001']."
        )
    if access != "leading-keys" and keys is not None:
        raise InvalidArgumentError(
            f"partition_keys applies to access='leading-keys' only, not access={access!r}."
        )
    if access == "attributes" and attrs is None:
        raise InvalidArgumentError(
            "access='attributes' needs attributes: the attribute names the reader may see, "
            "e.g. attributes=['order_ts', 'total'] (plus key_attributes=[...] for the keys)."
        )
    if access != "attributes" and (attrs is not None or key_attrs is not None):
        raise InvalidArgumentError(
            f"attributes and key_attributes apply to access='attributes' only, not "
            f"access={access!r}."
        )
    if external_id is not None:
        if use_resource_policy:
            raise InvalidArgumentError(
                "external_id applies to a role's trust policy (sts:ExternalId on AssumeRole); "
                "with use_resource_policy=True there is no role to assume: leave it out."
            )
        if not isinstance(external_id, str) or not _EXTERNAL_ID_RE.match(external_id):
            raise InvalidArgumentError(
                f"external_id={external_id!r} is not a valid ExternalId: 2-1224 characters of "
                "letters, digits and '+=,.@:/-_'."
            )
    if isinstance(max_session_duration, bool) or not isinstance(max_session_duration, int) or not (
        3600 <= max_session_duration <= 43200
    ):
        raise InvalidArgumentError(
            f"max_session_duration={max_session_duration!r} is out of range: IAM allows "
            "3600 to 43200 seconds (1 to 12 hours)."
        )
    if requester_principal is None:
        trusted = principal_arns(requester_account)
    else:
        trusted = principal_arns(requester_principal)
        for principal in trusted:
            if principal.split(":")[4] != requester_account:
                raise InvalidArgumentError(
                    f"requester_principal {principal!r} is not in the requester account "
                    f"{requester_account}."
                )
    if requester_role_name is not None:
        _name(requester_role_name, "role", "requester_role_name")
    if requester_user is not None:
        _name(requester_user, "user", "requester_user")
    if not requester_role_name and not requester_user:
        raise InvalidArgumentError(
            "Nobody in the requester account would be allowed in: pass requester_role_name "
            "and/or requester_user (an existing role or user of account "
            f"{requester_account})."
        )

    if access == "read":
        permissions = read_only_policy(arn)
    elif access == "read-write":
        permissions = read_write_policy(arn)
    elif access == "leading-keys":
        permissions = leading_keys_write_policy(arn, keys or [])
    else:
        permissions = attribute_limited_read_policy(arn, attrs or [], key_attributes=key_attrs)

    common: dict[str, Any] = {
        "owner_account": owner_account,
        "requester_account": requester_account,
        "table": table,
        "region": region,
        "table_arn": arn,
        "access": access,
        "require_mfa": bool(require_mfa),
        "max_session_duration": max_session_duration,
        "use_resource_policy": bool(use_resource_policy),
        "trusted": trusted,
        "requester_role_name": requester_role_name,
        "requester_user": requester_user,
        "partition_keys": keys,
        "attributes": attrs,
    }
    if use_resource_policy:
        return dict(
            **common,
            role_name=None,
            external_id=None,
            trust_policy=None,
            role_policy=None,
            role_policy_name=None,
            resource_policy=as_resource_policy(permissions, trusted, require_mfa=require_mfa),
            requester_policy=permissions,
            requester_policy_name=_policy_name("xacct-nb-dynamodb", table),
        )
    _name(role_name, "role", "role_name")
    role_arn = f"arn:aws:iam::{owner_account}:role/{role_name}"
    return dict(
        **common,
        role_name=role_name,
        external_id=external_id,
        trust_policy=trust_policy(trusted, external_id=external_id, require_mfa=require_mfa),
        role_policy=permissions,
        role_policy_name=_policy_name("xacct-nb", table),
        resource_policy=None,
        requester_policy=assume_role_policy(role_arn),
        requester_policy_name=_policy_name("xacct-nb-assume", role_name),
    )
