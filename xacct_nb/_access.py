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
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError

from ._clients import client
from ._documents import read_role_policies, simulate
from ._encode import to_condition_value, to_key
from ._errors import InvalidArgumentError, XacctError
from ._evaluator import Policy
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
    "READ_PROBES",
    "WRITE_PROBES",
    "AccessReport",
    "ProbeResult",
    "read_role_policies",  # moved to _documents (the sandbox reads role policies too)
    "side_and_fix",
    "verify_access",
]

READ_PROBES = ("DescribeTable", "GetItem", "Query", "Scan", "BatchGetItem")
WRITE_PROBES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")
_IMPOSSIBLE = "attribute_exists(#xacct_pk) AND attribute_not_exists(#xacct_pk)"


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


@dataclass
class AccessReport:
    """What a session may do to a table, probed for real.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per probe: ``action``, ``allowed`` (True / False / None when
        it could not be probed), ``error_code``, ``message`` (AWS's own),
        ``hint`` (likely cause and the smallest fix), ``resource``,
        ``statement`` (the deciding policy statement, when policies are known).
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

    def allowed(self, action: str) -> bool | None:
        """Whether ``action`` (``"Query"`` or ``"dynamodb:Query"``) was allowed."""
        name = action.split(":")[-1]
        rows = self.frame[self.frame.action == name]
        if rows.empty:
            raise InvalidArgumentError(
                f"{action!r} was not probed; probed: {', '.join(self.frame.action)}."
            )
        return _state(rows.iloc[0]["allowed"])

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
            mark = {True: "ALLOWED", False: "DENIED", None: "UNKNOWN"}[_state(row["allowed"])]
            line = f"  {row['action']:<{width}}  {mark:<7}"
            if row["error_code"] and mark != "ALLOWED":
                line += f"  {row['error_code']}"
            lines.append(line)
            if row["hint"] and mark != "ALLOWED":
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
        colours = {True: "#d4edda", False: "#f8d7da", None: "#fff3cd"}
        labels = {True: "allowed", False: "denied", None: "unknown"}
        rows = []
        for row in self._rows():
            state = _state(row["allowed"])
            detail = "" if state else html.escape(row["hint"] or row["message"])
            code = "" if state else html.escape(row["error_code"])
            rows.append(
                f'<tr style="background:{colours[state]}"><td><code>{html.escape(row["action"])}'
                f"</code></td><td><b>{labels[state]}</b></td><td>{code}</td>"
                f'<td style="text-align:left">{detail}</td></tr>'
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
    if result.action in WRITE_PROBES and key is not None:
        hint += (f" - or, if the role may write only some partitions (a dynamodb:LeadingKeys "
                 f"condition), {partition!r} is not among them")
    return hint + "."


def _policy_list(policies: Any) -> list[Policy]:
    if policies is None:
        return []
    documents = getattr(policies, "role_policies", None)
    if callable(documents):  # a SetupPlan
        policies = documents()
    if isinstance(policies, dict) and "Statement" in policies:
        return [Policy("policy", policies)]
    if isinstance(policies, dict):
        return [Policy(str(name), doc) for name, doc in policies.items()]
    return [Policy(f"policy {i + 1}", p) for i, p in enumerate(policies)]


@public
def verify_access(
    session: Any,
    table: str,
    *,
    key: dict[str, Any] | None = None,
    include_writes: bool = True,
    key_schema: Any = None,
    policies: Any = None,
) -> AccessReport:
    """Probe, without changing any data, which DynamoDB actions ``session`` may do on ``table``.

    Parameters
    ----------
    session
        The role session (e.g. ``conn.session`` or from :func:`xacct_nb.assume_role`).
    table
        Table name or ARN.
    key
        A key to probe with (``{"customer_id": "C-0001", "order_ts": "..."}``):
        needed to see what a ``dynamodb:LeadingKeys`` condition allows. Reads
        on it change nothing; writes use conditions that never hold.
    include_writes
        Also probe PutItem, UpdateItem, DeleteItem and BatchWriteItem.
    key_schema
        Key names, when the role may not call DescribeTable.
    policies
        The role's permission policies (documents, ``{name: document}``, or a
        setup plan): each denial then names the deciding statement.

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
    ref = parse_table(table)
    ddb = client(session, "dynamodb", retries={"total_max_attempts": 2, "mode": "standard"})
    nonce = uuid.uuid4().hex
    results: list[ProbeResult] = []
    notes: list[str] = []

    schema: KeySchema | None = None
    seen: dict[str, Any] = {}

    def describe() -> None:
        seen.update(ddb.describe_table(TableName=ref.request_name)["Table"])

    described = _outcome("DescribeTable", describe, write=False)
    results.append(described)
    if described.allowed is None and described.error_code in CONNECTION_ERRORS:
        raise endpoint_error("xn.verify_access", described.message)
    table_arn = ref.arn
    if described.allowed:
        desc = seen
        schema = KeySchema.from_description(desc)
        table_arn = desc.get("TableArn", table_arn)
    elif described.error_code == "ResourceNotFoundException":
        from ._errors import TableNotFoundError

        raise TableNotFoundError(
            f"Table {str(ref)!r} was not found: {described.message}. Check the name, the "
            "region and the account (a table of another account needs its role or its ARN).",
            code=described.error_code, operation="DescribeTable", table=str(ref),
        )
    if key_schema is not None:
        schema = KeySchema.coerce(key_schema)
    if table_arn is None:
        who = whoami(session)
        region = session.region_name or "us-east-1"
        table_arn = f"arn:aws:dynamodb:{region}:{who['Account']}:table/{ref.name}"
    if schema is None and key is not None:
        schema = KeySchema.coerce(tuple(key)[:2])
        notes.append("DescribeTable was denied: key names taken from key=.")

    if schema is None:
        notes.append("DescribeTable was denied and no key= / key_schema= was given: the "
                     "key-based probes could not run.")
        for action in ("GetItem", "Query", "BatchGetItem"):
            results.append(ProbeResult(action, None, "", "not probed: key names unknown"))
        results.append(_outcome("Scan", lambda: ddb.scan(TableName=ref.request_name, Limit=1),
                                write=False))
        probe_key: dict[str, Any] | None = None
    else:
        for name in schema.key_names if key is not None else ():
            value = None if key is None else key.get(name)
            check_key_value("key", name, schema.attribute_types.get(name), value, str(ref))
        probe_key = _probe_key(schema, key, nonce)
        wire_key = to_key(probe_key)
        pk = schema.partition
        results.append(_outcome("GetItem", lambda: ddb.get_item(
            TableName=ref.request_name, Key=wire_key), write=False))
        results.append(_outcome("Query", lambda: ddb.query(
            TableName=ref.request_name, KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": pk},
            ExpressionAttributeValues={":p": wire_key[pk]}, Limit=1), write=False))
        results.append(_outcome("Scan", lambda: ddb.scan(TableName=ref.request_name, Limit=1),
                                write=False))
        results.append(_outcome("BatchGetItem", lambda: ddb.batch_get_item(
            RequestItems={ref.request_name: {"Keys": [wire_key]}}), write=False))
        for index, (ipart, _isort, _kind) in sorted(schema.indexes.items()):
            value = _probe_value(schema.attribute_types.get(ipart, "S"), nonce)
            if ipart == pk:
                value = probe_key[pk]
            results.append(_outcome(f"Query index {index}", lambda index=index, ipart=ipart,
                                    value=value: ddb.query(
                TableName=ref.request_name, IndexName=index,
                KeyConditionExpression="#p = :p", ExpressionAttributeNames={"#p": ipart},
                ExpressionAttributeValues={":p": to_condition_value(value)}, Limit=1),
                write=False))
            results[-1].resource = f"{table_arn}/index/{index}"
        if include_writes:
            names = {"#xacct_pk": pk}
            condition = {"ConditionExpression": _IMPOSSIBLE, "ExpressionAttributeNames": names}
            results.append(_outcome("PutItem", lambda: ddb.put_item(
                TableName=ref.request_name, Item=wire_key, **condition), write=True))
            results.append(_outcome("UpdateItem", lambda: ddb.update_item(
                TableName=ref.request_name, Key=wire_key,
                UpdateExpression="SET #xacct_probe = :probe",
                ConditionExpression=_IMPOSSIBLE,
                ExpressionAttributeNames={**names, "#xacct_probe": "xacct_probe"},
                ExpressionAttributeValues={":probe": {"S": nonce}}), write=True))
            results.append(_outcome("DeleteItem", lambda: ddb.delete_item(
                TableName=ref.request_name, Key=wire_key, **condition), write=True))
            ghost = dict(probe_key)
            if schema.sort is not None:
                ghost[schema.sort] = _probe_value(
                    schema.attribute_types.get(schema.sort, "S"), nonce)
            else:
                ghost[pk] = _probe_value(schema.attribute_types.get(pk, "S"), nonce)
                if key is not None:
                    notes.append("BatchWriteItem was probed on a random partition (the table "
                                 "has no sort key, and deleting the given key would change "
                                 "data), so a LeadingKeys condition may deny it where writes "
                                 "to your partition are allowed.")
            results.append(_outcome("BatchWriteItem", lambda: ddb.batch_write_item(
                RequestItems={ref.request_name: [
                    {"DeleteRequest": {"Key": to_key(ghost)}}]}), write=True))

    partition = "" if probe_key is None or schema is None else str(probe_key[schema.partition])
    known = _policy_list(policies)
    for result in results:
        result.resource = result.resource or (table_arn or str(ref))
        if result.allowed is False:
            result.hint = side_and_fix(result, table_arn or str(ref), key, partition)
            if known:
                action = f"dynamodb:{result.action.split(' ')[0]}"
                context = (
                    {"dynamodb:LeadingKeys": [partition]}
                    if partition and result.action not in ("Scan", "DescribeTable") else {}
                )
                decision = simulate(
                    {p.name: p.document for p in known}, action, result.resource,
                    context=context,
                )
                if decision.statement is not None:
                    result.statement = f"{decision.policy}: {json.dumps(decision.statement)}"
                    result.hint += f" Decided by {decision.policy} ({decision.decision})."
                    continue
                conditional = [
                    (p.name, st) for p in known for st in _statements(p)
                    if st.get("Effect") == "Allow" and "Condition" in st
                    and action in _as_list(st.get("Action"))
                ]
                for name, st in conditional:
                    keys = st["Condition"].get("ForAllValues:StringEquals", {}).get(
                        "dynamodb:LeadingKeys")
                    if keys:
                        result.statement = f"{name}: {json.dumps(st)}"
                        result.hint = (
                            f"A dynamodb:LeadingKeys condition: statement {st.get('Sid', '')!r} "
                            f"of {name} (owner's account) allows {action} only for partitions "
                            f"{keys}, and {partition!r} is not one of them. To allow it, add "
                            f"{partition!r} to that statement's dynamodb:LeadingKeys list."
                        )
                        break
                else:
                    result.hint += f" (simulate with the given policies: {decision.reason}.)"

    caller_b = caller_a = None
    try:
        caller_b = whoami(session)
    except XacctError:
        notes.append("GetCallerIdentity failed for the session.")
    origin = role_origin(session)
    if origin is not None:
        with contextlib.suppress(XacctError):
            caller_a = whoami(origin.source_session)
    frame = pd.DataFrame(
        [
            {
                "action": r.action,
                "allowed": r.allowed,
                "error_code": r.error_code,
                "message": r.message,
                "hint": r.hint,
                "resource": r.resource,
                "statement": r.statement,
            }
            for r in results
        ],
        columns=["action", "allowed", "error_code", "message", "hint", "resource", "statement"],
    )
    frame["allowed"] = frame["allowed"].astype(object)
    return AccessReport(str(ref), frame, caller_a, caller_b, credentials_expiry(session), notes)


def _statements(policy: Policy) -> list[dict[str, Any]]:
    statements = policy.document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
