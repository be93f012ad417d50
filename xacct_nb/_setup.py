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

A plan grants access, not a share of the table's read capacity: no IAM
condition caps it. The printed plan says so to the owner (:data:`CAPACITY_NOTE`):
ask the analysts to read with ``max_rcu=``, which xacct-nb enforces on its
own reads; what the owner can enforce is listed in :mod:`xacct_nb.policies`.

This module plans and applies; the documents are built in
:mod:`xacct_nb._plan_documents` (with :mod:`xacct_nb._documents`' builders)
and the templates in :mod:`xacct_nb._cloudformation`.

>>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
...                   table="Orders", region="us-east-1", external_id="shared-secret")
>>> plan.role_arn
'arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA'
>>> sorted(plan.documents())
['requester_policy', 'role_policy', 'trust_policy']
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from . import _clients
from ._cloudformation import templates, templates_json
from ._errors import AwsError, InvalidArgumentError, XacctError, translate_client_error
from ._plan_documents import ACCESS_MODES, PlanDocuments, normalize_policy, plan_fields
from ._validate import check_bool, public

__all__ = ["ACCESS_MODES", "CAPACITY_NOTE", "Change", "SetupPlan", "normalize_policy", "setup_plan"]

#: The owner's line on read capacity in a printed plan: IAM cannot cap it, max_rcu= can.
CAPACITY_NOTE = (
    "Read capacity: no IAM condition caps it. Ask your analysts to read with max_rcu=... "
    "(xacct-nb caps its own reads; IAM cannot); on your side: provisioned capacity, a table, "
    "GSI or S3 export of their own, CloudWatch alarms (see help(xn.policies))."
)


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


class SetupPlan(PlanDocuments):
    """What both accounts need for cross-account access to one table. Make it with :func:`setup_plan`.

    Its attributes (the accounts, the table, and every document) are those of
    :class:`~xacct_nb._plan_documents.PlanDocuments`; a plan also prints
    itself, applies itself through IAM and exports CloudFormation.

    >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
    ...                   table="Orders", region="us-east-1")
    >>> plan.role_arn
    'arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA'
    """

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
                CAPACITY_NOTE,
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
                CAPACITY_NOTE,
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
        """Return the plan as readable text: per account, what will exist, with the JSON documents.

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
    @public
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
        >>> with xn.sandbox.start() as sb:
        ...     plan = setup_plan(owner_account=sb.account_b, requester_account=sb.account_a,
        ...                       table=sb.table, region=sb.region, role_name="Analytics",
        ...                       requester_user="analyst")
        ...     print(plan.apply(sb.admin_session("B"), sb.admin_session("A"))[0])
        ...     print(plan.apply(sb.admin_session("B"), sb.admin_session("A")))
        owner 222222222222: create-role arn:aws:iam::222222222222:role/Analytics (trust policy, max session 3600 s)
        []
        """
        check_bool("dry_run", dry_run)
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
            get: Callable[[], Any]
            put: Callable[[], Any]
            if kind == "role":
                exists = side.call(f"GetRole of role {name!r}",
                                   partial(iam.get_role, RoleName=name), missing_ok=True)
                get = partial(iam.get_role_policy, RoleName=name, PolicyName=policy_name)
                put = partial(iam.put_role_policy, RoleName=name, PolicyName=policy_name,
                              PolicyDocument=document)
                option = "requester_role_name"
            else:
                exists = side.call(f"GetUser of user {name!r}",
                                   partial(iam.get_user, UserName=name), missing_ok=True)
                get = partial(iam.get_user_policy, UserName=name, PolicyName=policy_name)
                put = partial(iam.put_user_policy, UserName=name, PolicyName=policy_name,
                              PolicyDocument=document)
                option = "requester_user"
            if exists is None:
                raise AwsError(
                    f"The requester's {kind} {name!r} does not exist in account "
                    f"{self.requester_account}: the plan puts a policy on it but does not create "
                    f"it. Create it first, or name an existing one with {option}=... "
                    "(nothing was changed).",
                    code="NoSuchEntity", operation=f"Get{kind.title()}",
                )
            found = side.call(f"Get{kind.title()}Policy {policy_name} of {kind} {name!r}",
                              get, missing_ok=True)
            current = None if found is None else found["PolicyDocument"]
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

        See :func:`xacct_nb._cloudformation.templates` (the resource-policy
        alternative needs ``table_description``, DescribeTable's answer).

        >>> plan = setup_plan(owner_account="222222222222", requester_account="111111111111",
        ...                   table="Orders", region="us-east-1", requester_user="analyst")
        >>> plan.to_cloudformation()["owner"]["Resources"]["OwnerRole"]["Type"]
        'AWS::IAM::Role'
        """
        return templates(self, table_description=table_description)

    def to_cloudformation_json(
        self, *, table_description: dict[str, Any] | None = None, indent: int = 2
    ) -> dict[str, str]:
        """:meth:`to_cloudformation` as JSON text per account (what ``aws cloudformation deploy`` takes)."""
        return templates_json(self, table_description=table_description, indent=indent)


class _Side:
    """One account's admin session during :meth:`SetupPlan.apply`: clients, errors, changes."""

    _MISSING = frozenset({"NoSuchEntity", "PolicyNotFoundException"})

    def __init__(self, plan: SetupPlan, side: str, session: Any, account: str) -> None:
        if session is None or not hasattr(session, "client"):
            raise InvalidArgumentError(
                f"{side}_admin_session (the {side}'s admin session) must be a boto3.Session "
                f"of account {account}, not {type(session).__name__}."
            )
        self.plan, self.side, self.session, self.account = plan, side, session, account
        self._clients: dict[_clients.Service, Any] = {}

    @property
    def label(self) -> str:
        return f"account {'B' if self.side == 'owner' else 'A'} ({self.account})"

    def client(self, service: _clients.Service) -> Any:
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
    return SetupPlan(**plan_fields(
        owner_account=owner_account, requester_account=requester_account, table=table,
        region=region, role_name=role_name, access=access, partition_keys=partition_keys,
        attributes=attributes, key_attributes=key_attributes, external_id=external_id,
        require_mfa=require_mfa, requester_principal=requester_principal,
        requester_role_name=requester_role_name, requester_user=requester_user,
        max_session_duration=max_session_duration, use_resource_policy=use_resource_policy,
    ))
