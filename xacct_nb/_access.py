"""``xn.verify_access``: what this session can really do to this table, and why not.

Every probe is a real request that cannot change data:

==================  ==========================================================
DescribeTable       as is
GetItem, Query,     on a probe key (the ``key=`` given, or a key no item has);
BatchGetItem        reads change nothing
Scan                ``Limit=1``
Query on indexes    one per GSI / LSI, ``Limit=1``
PutItem,            with a ``ConditionExpression`` that can never hold
UpdateItem,         (``attribute_exists(pk) AND attribute_not_exists(pk)``):
DeleteItem          AWS authorizes first, so *allowed* shows up as
                    ``ConditionalCheckFailedException`` and nothing is written
BatchWriteItem      a ``DeleteRequest`` for an item that does not exist (the
                    probe key's partition with a random sort key)
==================  ==========================================================

Each denial is explained: which side is the likely cause (the role's own
permission policy in the owner's account, the table's resource policy, a
``dynamodb:LeadingKeys`` condition...) and the smallest policy change that
would allow it. Given the policies (``policies=``: documents, a
:class:`~xacct_nb.policies.SetupPlan`, or read from IAM), ``simulate`` names
the statement that decided.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from ._clients import client
from ._documents import read_role_policies
from ._encode import to_condition_value, to_key
from ._errors import InvalidArgumentError, XacctError
from ._evaluator import Policy, Request, evaluate, evaluate_cross_account
from ._schema import KeySchema, parse_table
from ._sessions import credentials_expiry, role_origin, whoami
from ._validate import (
    CONNECTION_ERRORS,
    check_bool,
    check_key_value,
    check_session,
    endpoint_error,
    public,
)

__all__ = [
    "ALLOWED",
    "CONDITIONAL",
    "DENIED",
    "NOT_TESTED",
    "READ_PROBES",
    "WRITE_PROBES",
    "AccessReport",
    "Grant",
    "ProbeResult",
    "apply_fix",
    "describe_condition",
    "grant",
    "satisfying_context",
    "smallest_fix",
    "read_role_policies",  # moved to _documents (the sandbox reads role policies too)
    "side_and_fix",
    "verify_access",
]

READ_PROBES = ("DescribeTable", "GetItem", "Query", "Scan", "BatchGetItem")
WRITE_PROBES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
_IMPOSSIBLE = "attribute_exists(#xacct_pk) AND attribute_not_exists(#xacct_pk)"
#: the four states of a row's ``status`` column
ALLOWED, CONDITIONAL, DENIED, NOT_TESTED = (
    "allowed", "allowed with conditions", "denied", "not tested")


def _state(allowed: Any) -> bool | None:
    """Return a probe's ``allowed`` cell: True, False, or None when it could not be probed."""
    return None if allowed is None or pd.isna(allowed) else bool(allowed)


@dataclass
class ProbeResult:
    action: str
    allowed: bool | None
    error_code: str = ""
    message: str = ""
    hint: str = ""
    resource: str = ""
    statement: str = ""
    status: str = ""
    condition: str = ""
    fix: dict[str, Any] | None = None


@dataclass
class AccessReport:
    """What a session may do to a table, probed for real.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per probe: ``action``, ``allowed`` (True / False / None when
        it could not be tested; True for an action allowed with conditions
        unless the key you named is outside them), ``status`` (``"allowed"``,
        ``"allowed with conditions"``, ``"denied"``, ``"not tested"``),
        ``condition`` (the conditions, in words), ``error_code``, ``message`` (AWS's own),
        ``hint`` (likely cause and the smallest fix), ``resource``,
        ``statement`` (the deciding policy statement, when policies are known),
        ``fix`` (the smallest change as data: :func:`apply_fix` applies it).
    table : str
    caller_a, caller_b : dict or None
        ``whoami`` of the source identity (account A) and of the session (B).
    expiration : datetime or None
        When the session's current credentials expire (they refresh).
    """

    table: str
    frame: pd.DataFrame
    caller_a: dict[str, Any] | None = None
    caller_b: dict[str, Any] | None = None
    expiration: datetime | None = None
    notes: list[str] = field(default_factory=list)

    def _row(self, action: str) -> dict[Hashable, Any]:
        name = action.split(":")[-1]
        rows = self.frame[self.frame.action == name]
        if rows.empty:
            raise InvalidArgumentError(
                f"{action!r} was not probed; probed: {', '.join(self.frame.action)}."
            )
        return rows.iloc[0].to_dict()

    def allowed(self, action: str) -> bool | None:
        """Whether ``action`` (``"Query"`` or ``"dynamodb:Query"``) was allowed.

        True also for an action *allowed with conditions* (see :meth:`status`),
        unless a key or partition you named is outside them.
        """
        return _state(self._row(action)["allowed"])

    def status(self, action: str) -> str:
        """Return ``"allowed"``, ``"allowed with conditions"``, ``"denied"`` or ``"not tested"``."""
        return str(self._row(action)["status"])

    def condition(self, action: str) -> str:
        """Return the conditions ``action`` is allowed under ("" when unconditional)."""
        return str(self._row(action)["condition"])

    def _rows(self) -> list[dict[Hashable, Any]]:
        """Return the probes, one dict per row of :attr:`frame`."""
        return self.frame.to_dict("records")

    @property
    def denied(self) -> list[str]:
        return [row["action"] for row in self._rows() if row["allowed"] is False]

    @property
    def ok(self) -> bool:
        """Every probe allowed."""
        return not self.denied and all(v is True for v in self.frame.allowed)

    def _who(self) -> list[str]:
        lines = []
        if self.caller_a:
            lines.append(f"account A: {self.caller_a['Arn']}")
        if self.caller_b:
            lines.append(f"account B: {self.caller_b['Arn']}")
        if self.expiration is not None:
            lines.append(
                f"session credentials expire {self.expiration.isoformat(timespec='seconds')}"
                " (refreshed automatically)"
            )
        return lines

    def __str__(self) -> str:
        width = max(len(a) for a in self.frame.action) if len(self.frame) else 10
        lines = [f"Access to {self.table}", *self._who(), ""]
        for row in self._rows():
            mark = str(row["status"]).upper()
            line = f"  {row['action']:<{width}}  {mark:<7}"
            if row["error_code"] and row["status"] == DENIED:
                line += f"  {row['error_code']}"
            lines.append(line)
            if row["condition"]:
                lines.append(f"  {'':<{width}}  if: {row['condition']}")
            quiet = row["status"] == CONDITIONAL and _state(row["allowed"]) and str(
                row["hint"]).startswith("Allowed only when")  # the "if:" line says it all
            if row["hint"] and row["status"] != ALLOWED and not quiet:
                lines.append(f"  {'':<{width}}  -> {row['hint']}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        allowed = sum(v is True for v in self.frame.allowed)
        return (
            f"<AccessReport {self.table}: {allowed} of {len(self.frame)} probes allowed"
            + (f", denied: {', '.join(self.denied)}" if self.denied else "")
            + ">"
        )

    def _repr_html_(self) -> str:
        colours = {ALLOWED: "#d4edda", CONDITIONAL: "#d1ecf1", DENIED: "#f8d7da",
                   NOT_TESTED: "#fff3cd"}
        rows = []
        for row in self._rows():
            status = str(row["status"])
            detail = "" if status == ALLOWED else html.escape(row["hint"] or row["message"])
            if row["condition"]:
                detail = f"<i>if {html.escape(row['condition'])}</i><br>{detail}"
            code = html.escape(row["error_code"]) if status == DENIED else ""
            colour = colours.get(status, "#fff3cd")
            if status == CONDITIONAL and _state(row["allowed"]) is False:
                status, colour = status + " (not for your key)", colours[DENIED]
            rows.append(
                f'<tr style="background:{colour}"><td>'
                f'<code>{html.escape(row["action"])}</code></td><td><b>{status}</b></td>'
                f'<td>{code}</td><td style="text-align:left">{detail}</td></tr>'
            )
        who = "<br>".join(html.escape(line) for line in self._who())
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (
            f"<div><b>Access to {html.escape(self.table)}</b><br><small>{who}</small>"
            '<table><thead><tr><th>action</th><th>result</th><th>error</th>'
            '<th style="text-align:left">why / what to change</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )


def _probe_value(attribute_type: str, nonce: str) -> Any:
    if attribute_type == "N":
        return int(nonce[:12], 16) * -1 - 10**20  # a number no real key has
    if attribute_type == "B":
        return f"xacct-probe-{nonce}".encode()
    return f"xacct-probe-{nonce}"


def _probe_key(schema: KeySchema, key: dict[str, Any] | None, nonce: str) -> dict[str, Any]:
    types = schema.attribute_types
    if key is not None:
        missing = [k for k in schema.key_names if k not in key]
        if missing:
            raise InvalidArgumentError(
                f"key={key!r} lacks {missing}: give the table's full key "
                f"({', '.join(schema.key_names)})."
            )
        return {k: key[k] for k in schema.key_names}
    return {k: _probe_value(types.get(k, "S"), nonce) for k in schema.key_names}


def _outcome(action: str, call: Any, *, write: bool) -> ProbeResult:
    try:
        call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        if write and code == "ConditionalCheckFailedException":
            return ProbeResult(action, True, code, "allowed (the probe's condition failed on "
                               "purpose: nothing was written)")
        if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
            return ProbeResult(action, False, code, message)
        return ProbeResult(action, None, code, message)
    except BotoCoreError as exc:
        return ProbeResult(action, None, type(exc).__name__, str(exc))
    return ProbeResult(action, True)


def side_and_fix(result: ProbeResult, table_arn: str, key: dict[str, Any] | None,
                  partition: str) -> str:
    """Which side is the likely cause of a denial, and the smallest change that allows it."""
    action = f"dynamodb:{result.action.split(' ')[0]}"
    resource = table_arn + ("/index/*" if result.action.startswith("Query index") else "")
    statement = json.dumps({"Effect": "Allow", "Action": action, "Resource": resource})
    message = result.message
    if "explicit deny in an identity-based policy" in message:
        return (f"The role's permission policy (owner's account) explicitly denies {action}; "
                "narrow or remove that Deny statement.")
    if "explicit deny in a resource-based policy" in message:
        return (f"The table's resource policy explicitly denies {action}; narrow or remove "
                "that Deny statement (owner's account).")
    if "no resource-based policy allows" in message:
        return (f"The table's resource policy does not grant {action} to this principal "
                "(cross-account access by table ARN needs both sides): add it there.")
    hint = (f"The role's permission policy (owner's account) does not allow {action} on "
            f"{resource}: add {statement}")
    if result.action in (*WRITE_PROBES, "GetItem", "Query", "BatchGetItem"):
        if partition:
            hint += (f" - or, if the role may use only some partitions (a "
                     f"dynamodb:LeadingKeys condition), {partition} is not among them: then "
                     "ask the owner to add it to that list, keeping the condition")
        else:
            hint += (" - unless the role may use only some partitions (a dynamodb:LeadingKeys "
                     "condition): this probe used a partition no item has, so pass "
                     "partitions=['<your partition>'] (or key=) to test yours, or policies= "
                     "to see the condition")
    return hint + ". With policies= the smallest change that keeps its conditions is named."


# -- reasoning about conditions (the role's policies known) ---------------------------------

STATUSES = (ALLOWED, CONDITIONAL, DENIED, NOT_TESTED)
_SIDES = {"identity": "the role's permission policy (owner's account)",
          "resource": "the table's resource policy (owner's account)"}
_FRIENDLY = {
    "dynamodb:leadingkeys": "partitions (dynamodb:LeadingKeys)",
    "dynamodb:attributes": "attributes (dynamodb:Attributes)",
    "dynamodb:select": "Select (dynamodb:Select)",
    "dynamodb:returnvalues": "ReturnValues (dynamodb:ReturnValues)",
    "aws:multifactorauthpresent": "MFA (aws:MultiFactorAuthPresent)",
    "aws:sourceip": "source IP (aws:SourceIp)",
    "aws:sourcevpc": "source VPC (aws:SourceVpc)",
    "aws:sourcevpce": "VPC endpoint (aws:SourceVpce)",
    "aws:currenttime": "time (aws:CurrentTime)",
    "aws:epochtime": "time (aws:EpochTime)",
    "aws:principaltag": "principal tag",
}


def _describe_block(operator: str, key: str, values: Any) -> str:
    """One condition in words: ``partitions (dynamodb:LeadingKeys) in ['C-0001']``."""
    name = _FRIENDLY.get(key.lower(), key)
    wanted = _as_list(values)
    shown = repr(wanted[0]) if len(wanted) == 1 else repr(wanted)
    base = operator.split(":")[-1]
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base == "Null":
        absent = str(wanted[0]).lower() == "true"
        text = f"{name} {'absent' if absent else 'present'}"
        if key.lower() == "dynamodb:attributes" and not absent:
            text = "a projection (dynamodb:Attributes present: name the attributes read)"
        return text
    if base == "Bool":
        return f"{name} = {shown}"
    words = {
        "StringEquals": "in", "StringLike": "like", "ArnEquals": "in", "ArnLike": "like",
        "StringNotEquals": "not in", "StringNotLike": "not like", "NumericEquals": "=",
        "NumericLessThan": "<", "NumericLessThanEquals": "<=", "NumericGreaterThan": ">",
        "NumericGreaterThanEquals": ">=", "DateLessThan": "before", "DateGreaterThan": "after",
        "DateLessThanEquals": "until", "DateGreaterThanEquals": "from",
    }
    word = words.get(base, base)
    if word in ("in", "not in") and len(wanted) == 1:
        word = "=" if word == "in" else "!="
    text = f"{name} {word} {shown}"
    if operator.startswith("ForAllValues:"):
        text = f"every one of the {text}"
    elif operator.startswith("ForAnyValue:"):
        text = f"any of the {text}"
    return text + (" (when present)" if if_exists else "")


def describe_condition(condition: dict[str, Any] | None) -> str:
    """Return a policy ``Condition`` block in words, every key joined with ``and``.

    >>> describe_condition({"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["C-0001"]}})
    "every one of the partitions (dynamodb:LeadingKeys) = 'C-0001'"
    """
    return " and ".join(
        _describe_block(op, key, values)
        for op, block in (condition or {}).items() for key, values in block.items()
    )


def _without_condition(statement: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in statement.items() if k != "Condition"}


def _matches(policy: Policy, statement: dict[str, Any], action: str, resource: str,
             principal: str) -> bool:
    """Whether ``statement`` applies to ``action`` on ``resource``, its conditions set aside."""
    probe = dict(_without_condition(statement), Effect="Allow")
    return _applies(policy, probe, Request(principal, action, resource))


def _applies(policy: Policy, statement: dict[str, Any], request: Request) -> bool:
    """Whether the Allow ``statement`` alone (of ``policy``'s kind) allows ``request``."""
    doc = {"Version": "2012-10-17", "Statement": [statement]}
    if policy.kind == "identity":
        return evaluate([Policy(policy.name, doc)], request).allowed
    # a resource statement alone: ask across accounts, with an identity side allowing all
    everything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    other = "000000000001" if request.principal.split(":")[4:5] == ["000000000000"] else (
        "000000000000")
    return evaluate_cross_account([Policy("all", everything)],
                                  [Policy(policy.name, doc, policy.kind)], request,
                                  other).allowed


@dataclass
class Grant:
    """What the policies allow for one action on one resource, conditions kept apart.

    ``status`` is one of :data:`STATUSES` (never ``"not tested"`` here);
    ``condition`` says under which conditions (empty when unconditional);
    ``allows`` and ``denies`` list the ``(policy, statement)`` pairs that
    apply once conditions are set aside.
    """

    action: str
    resource: str
    status: str
    condition: str = ""
    allows: list[tuple[Policy, dict[str, Any]]] = field(default_factory=list)
    denies: list[tuple[Policy, dict[str, Any]]] = field(default_factory=list)
    missing_side: str = ""
    #: conditions that do not limit this action (e.g. dynamodb:LeadingKeys on a Scan)
    vacuous: list[str] = field(default_factory=list)
    #: id(statement) -> its Condition as it applies to this action
    effective: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    def condition_of(self, statement: dict[str, Any]) -> dict[str, Any]:
        """Return ``statement``'s Condition as it applies to this action."""
        return self.effective.get(id(statement), statement.get("Condition") or {})

    def key(self) -> tuple[str, str]:
        return self.status, self.condition


def grant(policies: Any, action: str, resource: str, *, principal: str | None = None) -> Grant:
    """Work out when ``action`` on ``resource`` is allowed: always, under conditions, or never.

    ``policies`` as for :func:`verify_access`; :class:`~xacct_nb._evaluator.Policy`
    objects of kind ``"resource"`` are the table's resource policy (across
    accounts both sides must allow, as AWS decides).

    >>> table = "arn:aws:dynamodb:us-east-1:222222222222:table/T"
    >>> from xacct_nb.policies import leading_keys_write_policy
    >>> g = grant(leading_keys_write_policy(table, ["C-0001"]), "dynamodb:PutItem", table)
    >>> g.status, g.condition
    ('allowed with conditions', "every one of the partitions (dynamodb:LeadingKeys) = 'C-0001'")
    """
    known = _policy_list(policies)
    account = resource.split(":")[4] if resource.count(":") >= 5 else "000000000000"
    principal = principal or f"arn:aws:sts::{account}:assumed-role/Role/session"
    allows: list[tuple[Policy, dict[str, Any]]] = []
    denies: list[tuple[Policy, dict[str, Any]]] = []
    vacuous: list[str] = []
    conditions: dict[int, dict[str, Any]] = {}
    for policy in known:
        for statement in _statements(policy):
            if not _matches(policy, statement, action, resource, principal):
                continue
            effective = _effective(policy, statement, action, resource, principal)
            if effective is None:
                continue
            if effective is not statement:
                dropped = {op: {k: v for k, v in block.items()
                                if k not in (effective.get("Condition") or {}).get(op, {})}
                           for op, block in statement["Condition"].items()}
                vacuous.append(describe_condition({o: b for o, b in dropped.items() if b}))
            (denies if statement.get("Effect") == "Deny" else allows).append((policy, statement))
            conditions[id(statement)] = effective.get("Condition") or {}
    result = Grant(action, resource, DENIED, allows=allows, denies=denies,
                   effective=conditions)
    hard = [d for d in denies if not conditions[id(d[1])]]
    if hard:
        return result
    sides = ["identity"]
    if any(p.kind == "resource" for p in known) and principal.split(":")[4:5] != [account]:
        sides.append("resource")
    elif any(p.kind == "resource" for p in known):
        sides = ["either"]
    parts: list[str] = []
    for side in sides:
        mine = [a for a in allows if side == "either" or a[0].kind == side]
        if not mine:
            result.missing_side = "identity" if side == "either" else side
            return result
        if any(not conditions[id(st)] for _, st in mine):
            continue
        options = [describe_condition(conditions[id(st)]) for _, st in mine]
        parts.append(" or ".join(dict.fromkeys(options)))
    parts += [f"not when {describe_condition(conditions[id(st)])}" for _, st in denies]
    result.status = CONDITIONAL if parts else ALLOWED
    result.condition = "; ".join(parts)
    result.vacuous = [v for v in vacuous if v]
    return result


#: condition keys a request of this action never carries (AWS: a Scan has no LeadingKeys)
_NEVER_CARRIED = {
    "dynamodb:scan": ("dynamodb:leadingkeys",),
    "dynamodb:describetable": ("dynamodb:",),
    "dynamodb:deleteitem": ("dynamodb:attributes", "dynamodb:select"),
    "dynamodb:batchwriteitem": ("dynamodb:select",),
    "dynamodb:putitem": ("dynamodb:select",),
    "dynamodb:updateitem": ("dynamodb:select",),
}


def _effective(policy: Policy, statement: dict[str, Any], action: str, resource: str,
               principal: str) -> dict[str, Any] | None:
    """Return the statement as it applies to ``action`` (keys it never carries resolved).

    A block on such a key holds or fails the same for every request of the
    action (``ForAllValues`` over a missing key holds, a plain
    ``StringEquals`` fails): a holding block is dropped, a failing one makes
    the statement never apply to the action (returns None).
    """
    never = _NEVER_CARRIED.get(action.lower(), ())
    condition = statement.get("Condition") or {}
    if not never or not condition:
        return statement
    kept: dict[str, Any] = {}
    for operator, block in condition.items():
        for key, values in block.items():
            if not key.lower().startswith(never):
                kept.setdefault(operator, {})[key] = values
                continue
            alone = dict(_without_condition(statement), Effect="Allow",
                         Condition={operator: {key: values}})
            holds = _applies(policy, alone, Request(principal, action, resource))
            if not holds:
                return None
    if kept == condition:
        return statement
    out = _without_condition(statement)
    if kept:
        out["Condition"] = kept
    return out


def _pick(values: list[Any]) -> str:
    return str(values[0]).replace("*", "x").replace("?", "x") if values else "x"


def satisfying_context(g: Grant) -> dict[str, Any]:
    """Return a request context under which ``g``'s conditions hold (to simulate a conditional grant).

    The first allowing statement's conditions are met with their first
    value; a conditional Deny's are avoided.
    """
    context: dict[str, Any] = {}

    def meet(condition: dict[str, Any], deny: bool) -> None:
        for operator, block in condition.items():
            base = operator.split(":")[-1].removesuffix("IfExists")
            multi = ":" in operator
            for key, values in block.items():
                wanted = _as_list(values)
                if base == "Null":
                    absent = str(wanted[0]).lower() == "true"
                    if absent != deny:
                        context.pop(key, None)
                    else:
                        context.setdefault(key, ["x"] if multi else "x")
                    continue
                if base == "Bool":
                    truth = str(wanted[0]).lower() == "true"
                    context[key] = str(truth != deny).lower()
                    continue
                negated = "Not" in base
                if negated != deny:
                    value: Any = "xacct-other"
                elif base.startswith("Numeric"):
                    number = float(wanted[0])
                    value = str(number + (1 if "Greater" in base else -1 if "Less" in base
                                          else 0))
                elif base.startswith("Date"):
                    value = ("2999-01-01T00:00:00Z" if "Greater" in base
                             else "1970-01-02T00:00:00Z" if "Less" in base else wanted[0])
                else:
                    value = list(wanted) if multi else _pick(wanted)
                    if multi and not deny:
                        value = [_pick([v]) for v in wanted]
                context[key] = value

    allows = [g.condition_of(st) for _, st in g.allows]
    conditional = [c for c in allows if c]
    if conditional and len(conditional) == len(allows):
        meet(conditional[0], deny=False)
    for _, st in g.denies:
        meet(g.condition_of(st), deny=True)
    return context


def _editable(statement: dict[str, Any]) -> bool:
    return "Action" in statement and "NotAction" not in statement


def smallest_fix(policies: Any, g: Grant, *, principal: str | None = None) -> dict[str, Any] | None:
    """Return the smallest change that allows ``g.action``, keeping every condition in the policy.

    Returns ``{"policy": name, "op": ..., ...}`` (see :func:`apply_fix`) or None
    when no mechanical change is safe (a wildcard Deny: narrow it by hand).
    Never widens a conditional grant: the action joins a statement whose
    conditions it then shares, or gets a statement of its own.
    """
    if g.status != DENIED:
        return None
    known = _policy_list(policies)
    action = g.action
    hard = [d for d in g.denies if not g.condition_of(d[1])]
    if hard:
        policy, statement = hard[0]
        listed = _as_list(statement.get("Action"))
        if "Action" in statement and action in listed:
            return {"policy": policy.name, "op": "remove_action", "statement": statement,
                    "action": action}
        return None
    side = g.missing_side or "identity"
    candidates = []
    for policy in known:
        if policy.kind != side:
            continue
        for statement in _statements(policy):
            if statement.get("Effect") != "Allow" or not _editable(statement):
                continue
            covers = any(_matches(policy, statement, a, g.resource, principal or _ANY)
                         for a in _as_list(statement.get("Action")))
            if covers:
                candidates.append((policy, statement))
    family = WRITE_PROBES if action.split(":")[-1] in WRITE_PROBES else READ_PROBES

    def rank(pair: tuple[Policy, dict[str, Any]]) -> tuple[int, int]:
        statement = pair[1]
        same = any(a.split(":")[-1] in family for a in _as_list(statement.get("Action")))
        return (0 if same else 1, 0 if statement.get("Condition") else 1)

    for policy, statement in sorted(candidates, key=rank):
        if rank((policy, statement))[0]:
            break  # only statements of the same family (reads / writes) take the action
        fix = {"policy": policy.name, "op": "add_action", "statement": statement,
               "action": action}
        after = grant(apply_fix(known, fix), action, g.resource, principal=principal)
        if after.status != DENIED:
            return fix
    target = next((p for p in known if p.kind == side), None)
    new: dict[str, Any] = {"Sid": "Allow" + action.split(":")[-1], "Effect": "Allow",
                           "Action": action, "Resource": g.resource}
    if side == "resource":
        new["Principal"] = {"AWS": _role_of(principal or _ANY)}
    return {"policy": target.name if target else "policy", "op": "add_statement",
            "statement": new, "action": action}


_ANY = "arn:aws:sts::000000000000:assumed-role/Role/session"


def _role_of(principal: str) -> str:
    parts = principal.split(":")
    if len(parts) > 5 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        return f"arn:aws:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
    return principal


def apply_fix(policies: Any, fix: dict[str, Any]) -> list[Policy]:
    """Return ``policies`` with ``fix`` (from :func:`smallest_fix`) applied; the input is unchanged."""
    out = []
    for policy in _policy_list(policies):
        document = json.loads(json.dumps(policy.document))
        if policy.name == fix["policy"]:
            statements = _statements(Policy(policy.name, document))
            if fix["op"] == "add_statement":
                statements.append(dict(fix["statement"]))
            else:
                for i, statement in enumerate(statements):
                    if statement != fix["statement"]:
                        continue
                    actions = _as_list(statement.get("Action"))
                    if fix["op"] == "add_value":
                        block = statement["Condition"][fix["operator"]]
                        block[fix["key"]] = [*_as_list(block[fix["key"]]), fix["value"]]
                    elif fix["op"] == "add_action":
                        statement["Action"] = [*actions, fix["action"]]
                    else:
                        rest = [a for a in actions if a != fix["action"]]
                        if rest:
                            statement["Action"] = rest
                        else:
                            statements.pop(i)
                    break
            document["Statement"] = statements
        out.append(Policy(policy.name, document, policy.kind))
    return out


def _fix_text(fix: dict[str, Any] | None) -> str:
    if fix is None:
        return ""
    statement = fix["statement"]
    sid = statement.get("Sid")
    where = f"statement {sid!r}" if sid else f"the statement {json.dumps(statement)}"
    if fix["op"] == "add_action":
        kept = (" (it keeps that statement's conditions: "
                f"{describe_condition(statement['Condition'])})" if statement.get("Condition")
                else "")
        return f"add {fix['action']} to the Action list of {where} in {fix['policy']}{kept}."
    if fix["op"] == "add_value":
        return (f"add {fix['value']!r} to the {fix['key']} list of {where} in "
                f"{fix['policy']}.")
    if fix["op"] == "remove_action":
        return f"remove {fix['action']} from the Deny {where} in {fix['policy']}."
    return f"add {json.dumps(statement)} to {fix['policy']}."


def _policy_list(policies: Any, resource_policy: Any = None) -> list[Policy]:
    """Normalise ``policies=`` (documents, ``{name: doc}``, Policy objects, a setup plan)."""
    out: list[Policy] = []
    if policies is not None:
        documents = getattr(policies, "role_policies", None)
        if callable(documents):  # a SetupPlan
            policies = documents()
        if isinstance(policies, Policy):
            out = [policies]
        elif isinstance(policies, dict) and "Statement" in policies:
            out = [Policy("the policy", policies)]
        elif isinstance(policies, dict):
            out = [Policy(str(name), doc) for name, doc in policies.items()]
        else:
            out = [p if isinstance(p, Policy) else Policy(f"policy {i + 1}", p)
                   for i, p in enumerate(policies)]
    if resource_policy is not None:
        out.append(Policy("table resource policy", resource_policy, "resource"))
    return out


def _discover_schema(ddb: Any, ref: Any, nonce: str) -> tuple[KeySchema | None, str]:
    """Key names without DescribeTable, from what DynamoDB's answers reveal.

    A Scan's ``LastEvaluatedKey`` holds the key attributes (names and
    types); a Query on a name that is no key fails with "Query condition
    missed key schema element: <partition key>".
    """
    types: dict[str, str] = {}
    with contextlib.suppress(ClientError, BotoCoreError):
        page = ddb.scan(TableName=ref.request_name, Limit=1)
        types = {k: next(iter(v)) for k, v in (page.get("LastEvaluatedKey") or {}).items()}
    partition = None
    try:
        ddb.query(TableName=ref.request_name, KeyConditionExpression="#p = :p",
                  ExpressionAttributeNames={"#p": f"xacct_probe_{nonce[:8]}"},
                  ExpressionAttributeValues={":p": {"S": "x"}}, Limit=1)
    except ClientError as exc:
        found = re.search(r"missed key schema element: ([^\s,]+)",
                          str(exc.response.get("Error", {}).get("Message", "")))
        partition = found.group(1) if found else None
    except BotoCoreError:
        pass
    if partition is None and len(types) == 1:
        partition = next(iter(types))
    if partition is None:
        return None, ""
    sort = next((n for n in types if n != partition), None)
    how = ("from the Scan's LastEvaluatedKey" if types else
           "from the Query's ValidationException")
    if not types:  # a sort key may exist: GetItem on the partition key alone tells
        try:
            ddb.get_item(TableName=ref.request_name,
                         Key={partition: {"S": f"xacct-probe-{nonce}"}})
        except ClientError as exc:
            if "does not match the schema" in str(exc.response.get("Error", {}).get("Message")):
                return KeySchema(partition, "?"), how + " (the sort key's name stays unknown)"
        except BotoCoreError:
            pass
    return KeySchema(partition, sort, {}, types), how


def _label(partition: Any, named: bool) -> str:
    return repr(partition) if named else "a partition no item has"


def _leading_key_fix(g: Grant, partition: Any) -> dict[str, Any] | None:
    """Return a statement like the LeadingKeys-limited one, for this action and partition.

    It copies every condition of that statement (only the partition list
    differs), so no other action and no other partition gains anything.
    """
    for policy, statement in g.allows:
        for operator, block in (statement.get("Condition") or {}).items():
            for name in block:
                if name.lower() != "dynamodb:leadingkeys" or "Not" in operator:
                    continue
                condition = json.loads(json.dumps(statement["Condition"]))
                condition[operator][name] = [str(partition)]
                new = dict(statement, Action=g.action, Condition=condition)
                suffix = re.sub(r"[^A-Za-z0-9]", "", str(partition))
                new["Sid"] = f"{statement.get('Sid', 'Allow')}{g.action.split(':')[-1]}{suffix}"
                return {"policy": policy.name, "op": "add_statement", "statement": new,
                        "action": g.action, "like": statement.get("Sid", ""),
                        "partition": str(partition), "key": name}
    return None


@public
def verify_access(
    session: Any,
    table: str,
    *,
    key: dict[str, Any] | None = None,
    include_writes: bool = True,
    key_schema: Any = None,
    policies: Any = None,
    partitions: Sequence[Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
) -> AccessReport:
    """Probe, without changing any data, which DynamoDB actions ``session`` may do on ``table``.

    Each action comes back *allowed*, *allowed with conditions* (which
    partitions, attributes, Select, MFA, source VPC, time...: the
    ``condition`` column names them), *denied* or *not tested* (the hint
    says why and what would test it).

    Parameters
    ----------
    session
        The role session (e.g. ``conn.session`` or from :func:`xacct_nb.assume_role`).
    table
        Table name or ARN.
    key
        A key to probe with (``{"customer_id": "C-0001", "order_ts": "..."}``):
        shows what a ``dynamodb:LeadingKeys`` condition allows for it. Reads
        on it change nothing; writes use conditions that never hold.
    include_writes
        Also probe PutItem, UpdateItem, DeleteItem and BatchWriteItem.
    key_schema
        Key names, when the role may not call DescribeTable (else they are
        taken from probe answers that reveal them, where DynamoDB does).
    policies
        The role's permission policies (documents, ``{name: document}``, or a
        setup plan): conditions are then worked out from them, each denial
        names the deciding statement and the smallest change that keeps
        every condition.
    partitions
        Partition-key values to probe (the ones you mean to read or write).
    resource_policy
        The table's resource policy, when known.

    Returns
    -------
    AccessReport
        ``report.frame`` (one row per probe), an HTML view in notebooks and a
        text view (``print(report)``).

    >>> report = verify_access(conn.session, conn.table)
    >>> report.allowed("Query"), report.allowed("PutItem")
    (True, False)
    """
    check_session(session, "xn.verify_access")
    check_bool("include_writes", include_writes)
    if key is not None and not isinstance(key, dict):
        raise InvalidArgumentError(
            f"key must be a dict of the table's key attributes, e.g. "
            f"{{'customer_id': 'C-0001', 'order_ts': '...'}}, not {key!r}."
        )
    if partitions is not None and (isinstance(partitions, (str, bytes, dict))
                                   or not isinstance(partitions, Sequence)):
        raise InvalidArgumentError(
            f"partitions must be a list of partition-key values, e.g. ['C-0001'], "
            f"not {partitions!r}."
        )
    ref = parse_table(table)
    ddb = client(session, "dynamodb", retries={"total_max_attempts": 2, "mode": "standard"})
    nonce = uuid.uuid4().hex
    notes: list[str] = []
    known = _policy_list(policies, resource_policy)
    seen: dict[str, Any] = {}

    def describe() -> None:
        seen.update(ddb.describe_table(TableName=ref.request_name)["Table"])

    described = _outcome("DescribeTable", describe, write=False)
    if described.allowed is None and described.error_code in CONNECTION_ERRORS:
        raise endpoint_error("xn.verify_access", described.message)
    if described.error_code == "ResourceNotFoundException":
        from ._errors import TableNotFoundError

        raise TableNotFoundError(
            f"Table {str(ref)!r} was not found: {described.message}. Check the name, the "
            "region and the account (a table of another account needs its role or its ARN).",
            code=described.error_code, operation="DescribeTable", table=str(ref),
        )
    results: list[ProbeResult] = [described]
    caller_b = caller_a = None
    try:
        caller_b = whoami(session)
    except XacctError:
        notes.append("GetCallerIdentity failed for the session.")
    table_arn = ref.arn
    schema: KeySchema | None = None
    if described.allowed:
        schema = KeySchema.from_description(seen)
        table_arn = seen.get("TableArn", table_arn)
    if key_schema is not None:
        schema = KeySchema.coerce(key_schema)
    if table_arn is None:
        account = caller_b["Account"] if caller_b else whoami(session)["Account"]
        region = session.region_name or "us-east-1"
        table_arn = f"arn:aws:dynamodb:{region}:{account}:table/{ref.name}"
    if schema is None and key is not None:
        schema = KeySchema.coerce(tuple(key)[:2])
        notes.append("DescribeTable was denied: key names taken from key=.")
    if schema is None:
        schema, how = _discover_schema(ddb, ref, nonce)
        if schema is not None:
            notes.append(f"DescribeTable was denied: key names found {how}; pass "
                         "key_schema= to read (xn.read_query(..., key_schema=...)).")
    sort_unknown = schema is not None and schema.sort == "?"

    named = key is not None or bool(partitions)
    probe_keys: list[tuple[str, dict[str, Any]]] = []
    if schema is not None:
        types = schema.attribute_types
        if key is not None:
            for name in schema.key_names:
                check_key_value("key", name, types.get(name), key.get(name), str(ref))
            probe_keys.append((_label(key[schema.partition], True), _probe_key(schema, key, nonce)))
        for value in partitions or ():
            check_key_value("partitions", schema.partition, types.get(schema.partition),
                            value, str(ref))
            full = _probe_key(schema, None, nonce)
            full[schema.partition] = value
            probe_keys.append((_label(value, True), full))
        if not probe_keys:
            probe_keys.append((_label(None, False), _probe_key(schema, None, nonce)))

    def key_reads(action: str, wire: dict[str, Any], project: bool) -> Any:
        pk = schema.partition if schema else ""
        extra: dict[str, Any] = {}
        if project:
            extra = {"ProjectionExpression": "#xacct_k", "ExpressionAttributeNames":
                     {"#xacct_k": pk}}
        if action == "GetItem":
            return lambda: ddb.get_item(TableName=ref.request_name, Key=wire, **extra)
        if action == "BatchGetItem":
            return lambda: ddb.batch_get_item(
                RequestItems={ref.request_name: {"Keys": [wire], **extra}})
        names = {"#p": pk, **extra.get("ExpressionAttributeNames", {})}
        more = {"ProjectionExpression": "#xacct_k"} if project else {}
        return lambda: ddb.query(
            TableName=ref.request_name, KeyConditionExpression="#p = :p",
            ExpressionAttributeNames=names, ExpressionAttributeValues={":p": wire[pk]},
            Limit=1, **more)

    def scan_call(project: bool) -> Any:
        if not project:
            return lambda: ddb.scan(TableName=ref.request_name, Limit=1)
        pk = schema.partition if schema else ""
        return lambda: ddb.scan(TableName=ref.request_name, Limit=1,
                                ProjectionExpression="#xacct_k",
                                ExpressionAttributeNames={"#xacct_k": pk})

    def writes(action: str, probe: dict[str, Any]) -> Any:
        assert schema is not None
        wire = to_key(probe)
        names = {"#xacct_pk": schema.partition}
        condition = {"ConditionExpression": _IMPOSSIBLE, "ExpressionAttributeNames": names}
        if action == "PutItem":
            return lambda: ddb.put_item(TableName=ref.request_name, Item=wire, **condition)
        if action == "UpdateItem":
            return lambda: ddb.update_item(
                TableName=ref.request_name, Key=wire, UpdateExpression="SET #xacct_probe = :probe",
                ConditionExpression=_IMPOSSIBLE,
                ExpressionAttributeNames={**names, "#xacct_probe": "xacct_probe"},
                ExpressionAttributeValues={":probe": {"S": nonce}})
        if action == "DeleteItem":
            return lambda: ddb.delete_item(TableName=ref.request_name, Key=wire, **condition)
        ghost = dict(probe)
        if schema.sort is not None:  # a sort key no item has: deleting it changes nothing
            ghost[schema.sort] = _probe_value(schema.attribute_types.get(schema.sort, "S"), nonce)
        else:
            ghost[schema.partition] = _probe_value(
                schema.attribute_types.get(schema.partition, "S"), nonce)
            if named:
                notes.append("BatchWriteItem was probed on a random partition (the table "
                             "has no sort key, and deleting the given key would change "
                             "data), so a LeadingKeys condition may deny it where writes "
                             "to your partition are allowed.")
        return lambda: ddb.batch_write_item(RequestItems={ref.request_name: [
            {"DeleteRequest": {"Key": to_key(ghost)}}]})

    def combine(action: str, tries: list[tuple[str, ProbeResult]],
                projected: ProbeResult | None, partitioned: bool) -> ProbeResult:
        """One row from the probes of one action (per partition, with a projection)."""
        ok = [label for label, r in tries if r.allowed is True]
        no = [label for label, r in tries if r.allowed is False]
        first = next((r for _, r in tries if r.allowed is False), tries[0][1])
        if ok and not no:
            row = ProbeResult(action, True, status=ALLOWED)
            if named and partitioned:
                row.condition = ""
            return row
        if ok:
            row = ProbeResult(action, False, first.error_code, first.message,
                              status=CONDITIONAL)
            row.condition = (f"only some partitions (dynamodb:LeadingKeys): allowed for "
                             f"{', '.join(ok)}; denied for {', '.join(no)}")
            return row
        if projected is not None and projected.allowed:
            row = ProbeResult(action, True, first.error_code, first.message, status=CONDITIONAL)
            row.condition = ("only with a projection (dynamodb:Attributes / dynamodb:Select): "
                             f"reading just {schema.partition if schema else 'the key'!r} is "
                             "allowed, a full read is denied; which other attributes are "
                             "allowed is known only from the policies (pass policies=)")
            return row
        if no:
            return ProbeResult(action, False, first.error_code, first.message, status=DENIED)
        return ProbeResult(action, None, first.error_code, first.message, status=NOT_TESTED,
                           hint=f"not tested: the probe failed with {first.error_code}: "
                                f"{first.message}")

    def untested(action: str, why: str) -> ProbeResult:
        return ProbeResult(action, None, "", why, status=NOT_TESTED, hint=f"not tested: {why}")

    no_keys = ("DescribeTable is denied, so the key names are unknown; pass "
               "key_schema=('partition_key', 'sort_key') or key= to test it")
    if schema is not None and sort_unknown:
        no_keys = ("DescribeTable is denied and the sort key's name is unknown; pass "
                   f"key_schema=({schema.partition!r}, 'sort_key') or key= to test it")
    order = ("GetItem", "Query", "Scan", "BatchGetItem") if schema is not None else (
        "GetItem", "Query", "BatchGetItem", "Scan")  # the untested ones first, as before
    for action in order:
        if action == "Scan":
            scanned = _outcome("Scan", scan_call(False), write=False)
            proj = (_outcome("Scan", scan_call(True), write=False)
                    if scanned.allowed is False and schema is not None else None)
            results.append(combine("Scan", [("the table", scanned)], proj, False))
            continue
        if schema is None or (sort_unknown and action != "Query"):
            results.append(untested(action, no_keys))
            continue
        tries = [(label, _outcome(action, key_reads(action, to_key(k), False), write=False))
                 for label, k in probe_keys]
        proj = None
        if not any(r.allowed for _, r in tries) and any(r.allowed is False for _, r in tries):
            proj = _outcome(action, key_reads(action, to_key(probe_keys[0][1]), True),
                            write=False)
        results.append(combine(action, tries, proj, True))
    if schema is not None and not sort_unknown:
        for index, (ipart, _isort, _kind) in sorted(schema.indexes.items()):
            value = _probe_value(schema.attribute_types.get(ipart, "S"), nonce)
            if ipart == schema.partition:
                value = probe_keys[0][1][schema.partition]
            row = _outcome(f"Query index {index}", lambda index=index, ipart=ipart,
                           value=value: ddb.query(
                TableName=ref.request_name, IndexName=index,
                KeyConditionExpression="#p = :p", ExpressionAttributeNames={"#p": ipart},
                ExpressionAttributeValues={":p": to_condition_value(value)}, Limit=1),
                write=False)
            row.status = {True: ALLOWED, False: DENIED, None: NOT_TESTED}[row.allowed]
            row.resource = f"{table_arn}/index/{index}"
            results.append(row)
    if include_writes:
        for action in WRITE_PROBES:
            if schema is None or sort_unknown:
                results.append(untested(action, no_keys))
                continue
            tries = [(label, _outcome(action, writes(action, k), write=True))
                     for label, k in probe_keys]
            results.append(combine(action, tries, None, True))

    principal = caller_b["Arn"] if caller_b else None
    user_partitions = [k[schema.partition] for _, k in probe_keys] if named and schema else []
    for result in results:
        result.resource = result.resource or table_arn
        if result.status == "":
            result.status = {True: ALLOWED, False: DENIED, None: NOT_TESTED}[result.allowed]
        if known:
            _reason(result, known, principal, user_partitions)
        elif result.status == DENIED:
            result.hint = side_and_fix(result, table_arn, key,
                                       ", ".join(map(repr, user_partitions)))
        elif result.status == CONDITIONAL and not result.hint:
            result.hint = (f"Allowed only {result.condition}. Stay within it; the owner can "
                           "confirm the exact condition (pass policies= to see it).")

    origin = role_origin(session)
    if origin is not None:
        with contextlib.suppress(XacctError):
            caller_a = whoami(origin.source_session)
    frame = pd.DataFrame(
        [{name: getattr(r, name) for name in _COLUMNS} for r in results], columns=_COLUMNS)
    frame["allowed"] = frame["allowed"].astype(object)
    frame["fix"] = pd.Series([r.fix for r in results], index=frame.index, dtype=object)
    return AccessReport(str(ref), frame, caller_a, caller_b, credentials_expiry(session), notes)


_COLUMNS = ["action", "allowed", "status", "condition", "error_code", "message", "hint",
            "resource", "statement", "fix"]


def _reason(result: ProbeResult, known: list[Policy], principal: str | None,
            user_partitions: list[Any]) -> None:
    """Fill status, condition, hint and fix of one probe from the known policies."""
    action = f"dynamodb:{result.action.split(' ')[0]}"
    g = grant(known, action, result.resource, principal=principal)
    deciding = g.denies[0] if g.denies and g.status == DENIED else (
        g.allows[0] if g.allows else None)
    if deciding is not None:
        result.statement = f"{deciding[0].name}: {json.dumps(deciding[1])}"
    if result.status == NOT_TESTED:
        said = {ALLOWED: "allow it", DENIED: "deny it",
                CONDITIONAL: f"allow it only when {g.condition}"}[g.status]
        result.condition = g.condition
        result.hint += f" (The given policies {said}.)"
        return
    if g.status == CONDITIONAL:
        result.status, result.condition = CONDITIONAL, g.condition
        excluded = [p for p in user_partitions if not _allowed_for(known, g, p, principal)]
        if result.allowed is False and excluded:
            fix = _leading_key_fix(g, excluded[0])
            result.fix = fix
            result.hint = (f"Allowed only when {g.condition}; your partition "
                           f"{excluded[0]!r} is not among them. Smallest change that keeps "
                           "every condition: " + (_fix_text(fix) if fix else
                                                  "name that partition in the condition."))
            if fix is not None:
                result.hint += (f" (Or, for every action of statement {fix['like']!r}: add "
                                f"{fix['partition']!r} to its {fix['key']} list.)")
        elif result.allowed is False and _session_keys(g):
            result.hint = (f"Allowed only when {g.condition}, and this session does not meet "
                           f"it ({', '.join(_session_keys(g))}): "
                           + _meet_hint(_session_keys(g)))
        else:
            result.allowed = True
            result.hint = f"Allowed only when {g.condition}: stay within it."
        return
    if g.vacuous and result.status == ALLOWED:
        result.hint = (f"Note: the condition {'; '.join(g.vacuous)} does not limit "
                       f"{action} (its requests never carry that key), so {action} is "
                       "allowed whatever it names.")
    if g.status == ALLOWED:
        if result.allowed is False:
            result.hint = (f"The given policies allow {action}, yet AWS denied it: another "
                           "policy decides (the table's resource policy, an SCP, a "
                           "permissions boundary or a session policy).")
        return
    if result.allowed:  # the policies given are not all the role has
        result.hint = f"Allowed, though the given policies do not allow {action}."
        return
    result.status = DENIED
    fix = smallest_fix(known, g, principal=principal)
    result.fix = fix
    if g.denies:
        policy, statement = g.denies[0]
        sid = statement.get("Sid")
        result.hint = (f"{_SIDES.get(policy.kind, policy.name)} explicitly denies {action} "
                       f"({policy.name}{f' statement {sid!r}' if sid else ''}): "
                       + (_fix_text(fix) if fix else "narrow or remove that Deny statement."))
    else:
        side = _SIDES.get(g.missing_side or "identity", "the role's permission policy")
        result.hint = (f"{side[0].upper()}{side[1:]} does not allow {action} on "
                       f"{result.resource}. Smallest change: {_fix_text(fix)}")


def _session_keys(g: Grant) -> list[str]:
    """Condition keys of ``g`` that come from the session or network, not the request's shape."""
    keys = [k for _, st in [*g.allows, *g.denies] for block in g.condition_of(st).values()
            for k in block if not k.lower().startswith("dynamodb:")]
    return list(dict.fromkeys(keys))


def _meet_hint(keys: list[str]) -> str:
    advice = []
    for key in keys:
        lowered = key.lower()
        if lowered == "aws:multifactorauthpresent":
            advice.append("assume the role with MFA (xn.assume_role(...) with mfa_serial= "
                          "and mfa_token=)")
        elif lowered in ("aws:sourceip", "aws:sourcevpc", "aws:sourcevpce"):
            advice.append(f"send the requests from the network the condition names ({key})")
        elif lowered in ("aws:currenttime", "aws:epochtime"):
            advice.append("the grant's time window is not now: ask the owner whether it "
                          "should be")
        else:
            advice.append(f"make the session carry the {key} the condition names")
    return "; ".join(advice) + " (nothing to change in the policy)."


def _allowed_for(known: list[Policy], g: Grant, partition: Any, principal: str | None) -> bool:
    """Whether the conditional grant ``g`` holds for writes/reads of ``partition``."""
    context = satisfying_context(g)
    for name in list(context):
        if name.lower() == "dynamodb:leadingkeys":
            del context[name]
    context["dynamodb:LeadingKeys"] = [str(partition)]
    resource_side = [p for p in known if p.kind == "resource"]
    request = Request(principal or _ANY, g.action, g.resource, context)
    identity = [p for p in known if p.kind != "resource"]
    if resource_side:
        account = g.resource.split(":")[4]
        return evaluate_cross_account(identity, resource_side, request, account).allowed
    return evaluate(identity, request).allowed


def _statements(policy: Policy) -> list[dict[str, Any]]:
    statements = policy.document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
