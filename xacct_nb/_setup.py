"""Setup plans: everything both accounts need, printed, applied idempotently, exported.

A :class:`SetupPlan` (made by :func:`setup_plan`, re-exported as
``xn.policies.setup_plan``) holds the documents of both sides:

* account B (the *owner* of the table): a role with a trust policy naming
  account A (or one principal of it), an ExternalId and/or MFA condition,
  its maximum session duration and one inline permission policy; or,
  instead of a role, a **resource-based policy on the table** that lets A's
  principals call DynamoDB with the table's ARN;
* account A (the *requester*): one inline identity policy on the
  requester's role and/or user: ``sts:AssumeRole`` on B's role, or (for the
  resource-policy alternative) the same DynamoDB access on B's table ARN,
  since across accounts both sides must allow.

``print(plan)`` shows it, :meth:`SetupPlan.apply` makes it so through IAM
(and DynamoDB's ``PutResourcePolicy``) with each account's admin session,
changing only what differs, and :meth:`SetupPlan.to_cloudformation` exports
one template per account.

>>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
...                   table="Orders", region="us-east-1", external_id="shared-secret")
>>> plan.role_arn
'arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA'
>>> sorted(plan.documents())
['requester_policy', 'role_policy', 'trust_policy']
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from . import _clients
from ._errors import AwsError, InvalidArgumentError, XacctError, translate_client_error
from .policies import (
    _ACCOUNT_RE,
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

__all__ = ["ACCESS_MODES", "Change", "SetupPlan", "normalize_policy", "setup_plan"]

#: What a plan can grant: the document each mode puts on the role (or the table).
ACCESS_MODES: dict[str, str] = {
    "read": "read-only: GetItem, BatchGetItem, Query, Scan, DescribeTable on the table and its indexes",
    "read-write": "reads plus item writes (PutItem, UpdateItem, DeleteItem, BatchWriteItem)",
    "leading-keys": "reads plus writes limited to given partition-key values (dynamodb:LeadingKeys)",
    "attributes": "reads limited to given attributes (dynamodb:Attributes, dynamodb:Select)",
}
_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
_CFN_VERSION = "2010-09-09"


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
    """A policy document in a form that compares equal when IAM would treat it the same.

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
        document = json.loads(text)
    return _canonical(document)


# -- changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change :meth:`SetupPlan.apply` made (or, with ``dry_run``, would make).

    Attributes
    ----------
    side : str
        ``"owner"`` (account B) or ``"requester"`` (account A).
    account : str
        The account id.
    action : str
        ``"create-role"``, ``"update-trust-policy"``,
        ``"update-max-session-duration"``, ``"put-role-policy"``,
        ``"put-user-policy"`` or ``"put-resource-policy"``.
    target : str
        The ARN of the role, user or table changed.
    detail : str
        What exactly, e.g. the policy name.
    """

    side: str
    account: str
    action: str
    target: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.side} {self.account}: {self.action} {self.target}{detail}"


# -- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupPlan:
    """What both accounts need for cross-account access to one table. Make it with :func:`setup_plan`.

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
        """Every document of the plan, by role: ``trust_policy``, ``role_policy``,
        ``resource_policy`` (whichever apply) and ``requester_policy``.

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

    # -- showing it ---------------------------------------------------------------------
    def _sections(self) -> list[tuple[str, list[str], list[tuple[str, dict[str, Any]]]]]:
        """(heading, lines, [(caption, document)]) per account, for text and Markdown."""
        who = " and ".join(
            f"{kind} {name}"
            for kind, name in (("role", self.requester_role_name), ("user", self.requester_user))
            if name
        )
        owner_heading = f"Account B {self.owner_account} (owner of table {self.table})"
        requester_heading = f"Account A {self.requester_account} (requester)"
        trusted = ", ".join(self.trusted)
        if self.use_resource_policy:
            owner_lines = [
                f"Resource-based policy on table {self.table_arn} (no role): "
                f"{self.access} access for {trusted}"
                + (", with MFA" if self.require_mfa else "") + ".",
                "Set with DynamoDB PutResourcePolicy; it also covers the table's indexes.",
            ]
            owner_docs = [("table resource policy", self.resource_policy or {})]
            requester_lines = [
                f"Inline policy {self.requester_policy_name} on {who}: the same DynamoDB "
                f"actions on {self.table_arn} (across accounts both sides must allow).",
                f"Then read with the table ARN: xn.read_query(session, {self.table_arn!r}, ...).",
            ]
        else:
            condition = []
            if self.external_id:
                condition.append(f"ExternalId {self.external_id!r}")
            if self.require_mfa:
                condition.append("MFA")
            owner_lines = [
                f"Role {self.role_name} ({self.role_arn}), max session "
                f"{self.max_session_duration} s, trusted: {trusted}"
                + (f" with {' and '.join(condition)}" if condition else "") + ".",
                f"Inline policy {self.role_policy_name}: {ACCESS_MODES[self.access]}.",
            ]
            owner_docs = [
                ("trust policy", self.trust_policy or {}),
                (f"inline policy {self.role_policy_name}", self.role_policy or {}),
            ]
            args = [repr(self.role_arn)]
            if self.external_id:
                args.append(f"external_id={self.external_id!r}")
            if self.require_mfa:
                args.append("mfa_serial=...")
            requester_lines = [
                f"Inline policy {self.requester_policy_name} on {who}: sts:AssumeRole on "
                f"{self.role_arn}.",
                f"Then: session = xn.assume_role({', '.join(args)})",
            ]
        requester_docs = [(f"inline policy {self.requester_policy_name}", self.requester_policy)]
        return [
            (owner_heading, owner_lines, owner_docs),
            (requester_heading, requester_lines, requester_docs),
        ]

    def describe(self) -> str:
        """The plan as readable text: per account, what will exist, with the JSON documents.

        ``print(plan)`` shows the same; in a notebook the plan renders as Markdown.

        >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
        ...                   table="Orders", region="us-east-1", role_name="OrdersReader")
        >>> print(plan.describe().splitlines()[3])
          Role OrdersReader (arn:aws:iam::222222222222:role/OrdersReader), max session 3600 s, trusted: arn:aws:iam::111111111111:root.
        """
        out = [
            f"Setup plan: {self.access} access to DynamoDB table {self.table} "
            f"({self.table_arn}) for account {self.requester_account}"
            + (" by table resource policy" if self.use_resource_policy else " by role"),
        ]
        for heading, lines, docs in self._sections():
            out += ["", heading]
            out += [f"  {line}" for line in lines]
            for caption, doc in docs:
                out.append(f"  {caption}:")
                out += [f"    {line}" for line in json.dumps(doc, indent=2).splitlines()]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        how = "resource policy" if self.use_resource_policy else f"role {self.role_name}"
        return (
            f"<SetupPlan {self.access} access to {self.table} ({self.owner_account}) for "
            f"{self.requester_account} via {how}>"
        )

    def _repr_markdown_(self) -> str:
        out = [
            f"**Setup plan**: `{self.access}` access to DynamoDB table `{self.table}` "
            f"for account `{self.requester_account}`"
            + (" by table resource policy" if self.use_resource_policy else " by role"),
        ]
        for heading, lines, docs in self._sections():
            out += ["", f"#### {heading}", ""]
            out += [f"- {line}" for line in lines]
            for caption, doc in docs:
                out += ["", f"*{caption}*", "", "```json", json.dumps(doc, indent=2), "```"]
        return "\n".join(out)

    # -- applying it --------------------------------------------------------------------
    def apply(
        self, owner_admin_session: Any, requester_admin_session: Any, *, dry_run: bool = False
    ) -> list[Change]:
        """Make both accounts match the plan, changing only what differs.

        Reads first, then writes: B's role is created if missing; otherwise
        its trust policy (``UpdateAssumeRolePolicy``) and its maximum
        session duration (``UpdateRole``) are updated only if they differ;
        each inline policy is put only if missing or different (documents are
        compared semantically, see :func:`normalize_policy`); the table's
        resource policy likewise (``PutResourcePolicy``, guarded by the
        revision read). Nothing is ever deleted. A second ``apply`` returns
        an empty list.

        Parameters
        ----------
        owner_admin_session, requester_admin_session
            ``boto3.Session`` objects of administrators of account B and of
            account A; each is checked to be of the plan's account.
        dry_run
            Only report what would change.

        Returns
        -------
        list of Change
            What changed (or would change), in order.

        Raises
        ------
        InvalidArgumentError
            A session belongs to another account than the plan says.
        AwsError
            An IAM or DynamoDB call failed (``AccessDeniedError`` if the
            session may not make it), or the requester's role or user does not
            exist; the message lists what was already changed. Re-running
            after fixing the cause is safe. (DynamoDB refuses another change
            of a table's policy for 15 seconds after one.)

        >>> import xacct_nb as xn
        >>> with xn.sandbox.start() as sb:                              # doctest: +SKIP
        ...     plan = setup_plan(owner_account=sb.account_b, requester_account=sb.account_a,
        ...                       table=sb.table, region=sb.region, role_name="Analytics",
        ...                       requester_user="analyst")
        ...     print(plan.apply(sb.admin_session("B"), sb.admin_session("A"))[0])
        ...     print(plan.apply(sb.admin_session("B"), sb.admin_session("A")))
        owner 222222222222: create-role arn:aws:iam::222222222222:role/Analytics (trust policy, max session 3600 s)
        []
        """
        owner = _Side(self, "owner", owner_admin_session, self.owner_account)
        requester = _Side(self, "requester", requester_admin_session, self.requester_account)
        owner.check_account()
        requester.check_account()
        steps: list[tuple[Change, Callable[[], Any]]] = []
        if self.use_resource_policy:
            steps += self._resource_policy_steps(owner)
        else:
            steps += self._role_steps(owner)
        steps += self._requester_steps(requester)
        changes = [change for change, _ in steps]
        if dry_run:
            return changes
        done: list[Change] = []
        for change, step in steps:
            try:
                step()
            except XacctError as exc:
                if done:
                    exc.args = (
                        f"{exc.args[0]} Already changed: {'; '.join(map(str, done))}. "
                        "Re-running apply after fixing the cause is safe.",
                    )
                raise
            done.append(change)
        return changes

    def _role_steps(self, side: _Side) -> list[tuple[Change, Callable[[], Any]]]:
        assert self.role_name and self.trust_policy is not None and self.role_policy is not None
        iam, name, arn = side.client("iam"), self.role_name, self.role_arn or ""
        steps: list[tuple[Change, Callable[[], Any]]] = []
        role = side.call(f"GetRole of role {name!r}", lambda: iam.get_role(RoleName=name)["Role"],
                         missing_ok=True)
        trust, policy = json.dumps(self.trust_policy), json.dumps(self.role_policy)
        current_policy = None
        if role is None:
            steps.append((
                side.change("create-role", arn,
                            f"trust policy, max session {self.max_session_duration} s"),
                side.step(f"CreateRole of role {name!r}", lambda: iam.create_role(
                    RoleName=name, AssumeRolePolicyDocument=trust,
                    MaxSessionDuration=self.max_session_duration,
                    Description=f"xacct-nb: {self.access} access to DynamoDB table "
                                f"{self.table} for account {self.requester_account}"[:1000],
                )),
            ))
        else:
            if normalize_policy(role.get("AssumeRolePolicyDocument")) != normalize_policy(
                self.trust_policy
            ):
                steps.append((
                    side.change("update-trust-policy", arn),
                    side.step(f"UpdateAssumeRolePolicy of role {name!r}",
                              lambda: iam.update_assume_role_policy(
                                  RoleName=name, PolicyDocument=trust)),
                ))
            current = int(role.get("MaxSessionDuration") or 3600)
            if current != self.max_session_duration:
                steps.append((
                    side.change("update-max-session-duration", arn,
                                f"{current} s -> {self.max_session_duration} s"),
                    side.step(f"UpdateRole of role {name!r}", lambda: iam.update_role(
                        RoleName=name, MaxSessionDuration=self.max_session_duration)),
                ))
            current_policy = side.call(
                f"GetRolePolicy {self.role_policy_name} of role {name!r}",
                lambda: iam.get_role_policy(
                    RoleName=name, PolicyName=self.role_policy_name)["PolicyDocument"],
                missing_ok=True,
            )
        if normalize_policy(current_policy) != normalize_policy(self.role_policy):
            steps.append((
                side.change("put-role-policy", arn, f"{self.role_policy_name}, "
                            + ("new" if current_policy is None else "changed")),
                side.step(f"PutRolePolicy {self.role_policy_name} of role {name!r}",
                          lambda: iam.put_role_policy(
                              RoleName=name, PolicyName=self.role_policy_name,
                              PolicyDocument=policy)),
            ))
        return steps

    def _resource_policy_steps(self, side: _Side) -> list[tuple[Change, Callable[[], Any]]]:
        assert self.resource_policy is not None
        ddb, arn = side.client("dynamodb"), self.table_arn
        found = side.call(f"GetResourcePolicy of table {arn}",
                          lambda: ddb.get_resource_policy(ResourceArn=arn), missing_ok=True,
                          table=self.table)
        current = None if found is None else found.get("Policy")
        if normalize_policy(current) == normalize_policy(self.resource_policy):
            return []
        kwargs = {"ResourceArn": arn, "Policy": json.dumps(self.resource_policy)}
        revision = (found or {}).get("RevisionId")
        kwargs["ExpectedRevisionId"] = revision or "NO_POLICY"
        return [(
            side.change("put-resource-policy", arn, "new" if current is None else "changed"),
            side.step(f"PutResourcePolicy of table {arn}",
                      lambda: ddb.put_resource_policy(**kwargs), table=self.table),
        )]

    def _requester_steps(self, side: _Side) -> list[tuple[Change, Callable[[], Any]]]:
        iam, policy_name = side.client("iam"), self.requester_policy_name
        document = json.dumps(self.requester_policy)
        steps: list[tuple[Change, Callable[[], Any]]] = []
        for kind, name in (("role", self.requester_role_name), ("user", self.requester_user)):
            if not name:
                continue
            arn = f"arn:aws:iam::{self.requester_account}:{kind}/{name}"
            if kind == "role":
                exists = side.call(f"GetRole of role {name!r}",
                                   lambda n=name: iam.get_role(RoleName=n), missing_ok=True)
                get = lambda n=name: iam.get_role_policy(RoleName=n, PolicyName=policy_name)  # noqa: E731
                put = lambda n=name: iam.put_role_policy(  # noqa: E731
                    RoleName=n, PolicyName=policy_name, PolicyDocument=document)
                option = "requester_role_name"
            else:
                exists = side.call(f"GetUser of user {name!r}",
                                   lambda n=name: iam.get_user(UserName=n), missing_ok=True)
                get = lambda n=name: iam.get_user_policy(UserName=n, PolicyName=policy_name)  # noqa: E731
                put = lambda n=name: iam.put_user_policy(  # noqa: E731
                    UserName=n, PolicyName=policy_name, PolicyDocument=document)
                option = "requester_user"
            if exists is None:
                raise AwsError(
                    f"The requester's {kind} {name!r} does not exist in account "
                    f"{self.requester_account}: the plan puts a policy on it but does not create "
                    f"it. Create it first, or name an existing one with {option}=... "
                    "(nothing was changed).",
                    code="NoSuchEntity", operation=f"Get{kind.title()}",
                )
            current = side.call(f"Get{kind.title()}Policy {policy_name} of {kind} {name!r}",
                                lambda g=get: g()["PolicyDocument"], missing_ok=True)
            if normalize_policy(current) != normalize_policy(self.requester_policy):
                steps.append((
                    side.change(f"put-{kind}-policy", arn,
                                f"{policy_name}, " + ("new" if current is None else "changed")),
                    side.step(f"Put{kind.title()}Policy {policy_name} of {kind} {name!r}", put),
                ))
        return steps

    # -- CloudFormation -----------------------------------------------------------------
    def to_cloudformation(
        self, *, table_description: dict[str, Any] | None = None
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
          template into that stack's table instead; or use :meth:`apply`.
        * requester (A): an ``AWS::IAM::Policy`` (inline policy, the same name
          :meth:`apply` uses) attached to the existing requester role and/or
          user.

        Raises
        ------
        InvalidArgumentError
            The resource-policy alternative without ``table_description``, or
            a description of another table.

        >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
        ...                   table="Orders", region="us-east-1", requester_user="analyst")
        >>> templates = plan.to_cloudformation()
        >>> templates["owner"]["Resources"]["OwnerRole"]["Type"]
        'AWS::IAM::Role'
        >>> templates["requester"]["Resources"]["RequesterPolicy"]["Properties"]["Users"]
        ['analyst']
        """
        return {"owner": self._owner_template(table_description),
                "requester": self._requester_template()}

    def to_cloudformation_json(
        self, *, table_description: dict[str, Any] | None = None, indent: int = 2
    ) -> dict[str, str]:
        """:meth:`to_cloudformation` as JSON text per account (what ``aws cloudformation deploy`` takes).

        >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
        ...                   table="Orders", region="us-east-1")
        >>> sorted(plan.to_cloudformation_json())
        ['owner', 'requester']
        """
        return {
            side: json.dumps(template, indent=indent)
            for side, template in self.to_cloudformation(
                table_description=table_description).items()
        }

    def _owner_template(self, table_description: dict[str, Any] | None) -> dict[str, Any]:
        header = {
            "AWSTemplateFormatVersion": _CFN_VERSION,
            "Description": (
                f"xacct-nb, account B {self.owner_account}: {self.access} access to DynamoDB "
                f"table {self.table} for account {self.requester_account}"
            ),
        }
        if not self.use_resource_policy:
            return {
                **header,
                "Resources": {
                    "OwnerRole": {
                        "Type": "AWS::IAM::Role",
                        "Properties": {
                            "RoleName": self.role_name,
                            "Description": f"xacct-nb: {self.access} access to DynamoDB table "
                                           f"{self.table} for account {self.requester_account}",
                            "AssumeRolePolicyDocument": self.trust_policy,
                            "MaxSessionDuration": self.max_session_duration,
                            "Policies": [{"PolicyName": self.role_policy_name,
                                          "PolicyDocument": self.role_policy}],
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
                f"manages (AWS::DynamoDB::Table ResourcePolicy), and {self.table} already "
                "exists. Pass table_description=<DynamoDB DescribeTable answer> for a template "
                "to import the table with its policy, or apply the plan with "
                "plan.apply(...) (or `aws dynamodb put-resource-policy`)."
            )
        properties = _table_properties(table_description)
        if properties["TableName"] != self.table:
            raise InvalidArgumentError(
                f"table_description describes table {properties['TableName']!r}, but the plan "
                f"is for {self.table!r}."
            )
        properties["ResourcePolicy"] = {"PolicyDocument": self.resource_policy}
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

    def _requester_template(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "PolicyName": self.requester_policy_name,
            "PolicyDocument": self.requester_policy,
        }
        if self.requester_role_name:
            properties["Roles"] = [self.requester_role_name]
        if self.requester_user:
            properties["Users"] = [self.requester_user]
        what = (f"DynamoDB {self.access} access to {self.table_arn}" if self.use_resource_policy
                else f"sts:AssumeRole on {self.role_arn}")
        return {
            "AWSTemplateFormatVersion": _CFN_VERSION,
            "Description": f"xacct-nb, account A {self.requester_account}: {what}",
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


class _Side:
    """One account's admin session during :meth:`SetupPlan.apply`: clients, errors, changes."""

    _MISSING = frozenset({"NoSuchEntity", "PolicyNotFoundException"})

    def __init__(self, plan: SetupPlan, side: str, session: Any, account: str) -> None:
        if session is None or not hasattr(session, "client"):
            raise InvalidArgumentError(
                f"The {side}'s admin session must be a boto3.Session of account {account}, "
                f"not {type(session).__name__}."
            )
        self.plan, self.side, self.session, self.account = plan, side, session, account
        self._clients: dict[str, Any] = {}

    @property
    def label(self) -> str:
        return f"account {'B' if self.side == 'owner' else 'A'} ({self.account})"

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = _clients.client(
                self.session, service, region_name=self.plan.region)
        return self._clients[service]

    def check_account(self) -> None:
        identity = self.call("GetCallerIdentity",
                             lambda: self.client("sts").get_caller_identity())
        if str(identity.get("Account")) != self.account:
            name = f"{self.side}_admin_session"
            raise InvalidArgumentError(
                f"{name} is a session of account {identity.get('Account')} "
                f"({identity.get('Arn')}), but the plan's {self.side} account is {self.account}: "
                f"pass an administrator session of account {self.account}."
            )

    def call(self, what: str, fn: Callable[[], Any], *, missing_ok: bool = False,
             table: str | None = None) -> Any:
        """Run a read; None if the thing is missing and ``missing_ok``; errors translated."""
        try:
            return fn()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if missing_ok and code in self._MISSING:
                return None
            raise translate_client_error(exc, table=table, what=f"{what} in {self.label}") from None

    def step(self, what: str, fn: Callable[[], Any], *, table: str | None = None) -> Callable[[], Any]:
        return lambda: self.call(what, fn, table=table)

    def change(self, action: str, target: str, detail: str = "") -> Change:
        return Change(self.side, self.account, action, target, detail)


# -- making a plan -------------------------------------------------------------------------


def _name(value: Any, what: str, option: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise InvalidArgumentError(
            f"{option}={value!r} is not a valid IAM {what} name: 1-64 letters, digits and "
            "'+=,.@_-'."
        )
    return value


def _policy_name(prefix: str, name: str) -> str:
    """An IAM policy name (at most 128 characters) from a prefix and a table or role name."""
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


def setup_plan(
    *,
    owner_account: str,
    requester_account: str,
    table: str,
    region: str,
    role_name: str = "DynamoDBReaderRoleForAccountA",
    access: str = "read",
    partition_keys: Sequence[str] | None = None,
    attributes: Sequence[str] | None = None,
    key_attributes: Sequence[str] | None = None,
    external_id: str | None = None,
    require_mfa: bool = False,
    requester_principal: str | Sequence[str] | None = None,
    requester_role_name: str | None = "AssumeDynamoDBAccessRole",
    requester_user: str | None = None,
    max_session_duration: int = 3600,
    use_resource_policy: bool = False,
) -> SetupPlan:
    """Plan cross-account access to one table: B's role (or table policy) and A's policy.

    Parameters
    ----------
    owner_account
        Account B, which holds the table.
    requester_account
        Account A, whose principals read the table.
    table
        The table's name (or its ARN, which must match ``owner_account`` and ``region``).
    region
        The table's region.
    role_name
        B's role (created if missing); ignored with ``use_resource_policy``.
    access
        ``"read"``, ``"read-write"``, ``"leading-keys"`` (writes limited to
        ``partition_keys``) or ``"attributes"`` (reads limited to
        ``attributes``); see :data:`ACCESS_MODES`.
    partition_keys
        Partition-key values the role may write (``access="leading-keys"``).
    attributes, key_attributes
        Attributes the reader may see, and the table's key attributes
        (``access="attributes"``; AWS requires the keys in the list, so
        either pass ``key_attributes`` or include them in ``attributes``).
    external_id
        The ``sts:ExternalId`` the trust policy requires (role only).
    require_mfa
        Require MFA (``aws:MultiFactorAuthPresent``) in the trust policy, or
        in the table's resource policy.
    requester_principal
        Trust only this principal ARN of account A (or several); default: the
        account's root, i.e. whoever A's own policies allow.
    requester_role_name, requester_user
        The existing role and/or user in A that get the requester policy
        (``sts:AssumeRole`` on B's role, or DynamoDB access by table ARN).
        At least one is needed.
    max_session_duration
        The role's maximum session, 3600-43200 seconds.
    use_resource_policy
        Grant access with a resource-based policy on the table instead of a
        role: A's principals then call DynamoDB with the table's ARN, no
        AssumeRole.

    Returns
    -------
    SetupPlan

    Raises
    ------
    InvalidArgumentError
        With what is wrong and how to fix it.

    >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
    ...                   table="Orders", region="us-east-1", access="leading-keys",
    ...                   partition_keys=["C-0001"], role_name="OrdersWriter")
    >>> plan.role_policy["Statement"][1]["Condition"]
    {'ForAllValues:StringEquals': {'dynamodb:LeadingKeys': ['C-0001']}}
    >>> setup_plan(owner_account="222222222222", requester_account="111111111111",
    ...            table="Orders", region="us-east-1", access="leading-keys")
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: access='leading-keys' needs partition_keys: the partition-key values the role may write, e.g. partition_keys=['C-0001'].
    """
    for option, account in (("owner_account", owner_account),
                            ("requester_account", requester_account)):
        if not _ACCOUNT_RE.match(str(account)):
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
        return SetupPlan(
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
    return SetupPlan(
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
