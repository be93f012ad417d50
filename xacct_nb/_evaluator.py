"""An IAM policy evaluator for what cross-account DynamoDB access uses.

It follows AWS's documented evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):

1. An explicit ``Deny`` in any applicable policy decides: denied.
2. Otherwise, within one account, an ``Allow`` in an identity-based policy
   *or* in the resource's policy allows.
3. Across accounts, the caller's identity-based policies *and* the
   resource's policy (a table's resource policy, a role's trust policy)
   must both allow.
4. Otherwise: implicitly denied.

A statement applies when its ``Action``/``NotAction``, ``Resource``/
``NotResource`` (and, in resource policies, ``Principal``/``NotPrincipal``)
match and every ``Condition`` holds. Supported condition operators: the
String, Numeric, Date, Bool, Null and Arn families, each with ``IfExists``
and the ``ForAllValues:`` / ``ForAnyValue:`` set qualifiers; keys missing
from the request follow AWS's rule (false, except for negated operators,
``...IfExists``, ``Null`` and ``ForAllValues``). Keys that apply but whose
value cannot be known (``Request.unknown``, or a context value of
:data:`UNKNOWN`) fail closed: a condition on one never satisfies an Allow and
always satisfies a Deny.

The same code decides for ``xn.policies.simulate`` and for the sandbox's
authorization layer, and names the statement that decided.

>>> doc = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
...        "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:*:*:table/T"}]}
>>> evaluate([Policy("inline", doc)], Request("arn:aws:iam::1:user/u", "dynamodb:Query",
...          "arn:aws:dynamodb:us-east-1:1:table/T")).decision
'Allow'
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._errors import InvalidArgumentError

__all__ = [
    "UNKNOWN", "Decision", "Policy", "Request", "evaluate", "evaluate_cross_account",
    "principal_account",
]

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "Allow", "ExplicitDeny", "ImplicitDeny"


class _Unknown:
    """The type of :data:`UNKNOWN` (a single, falsy, immutable marker)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "UNKNOWN"


#: A request-context value saying "this key applies to the request but its value cannot
#: be known" (a PartiQL ``SELECT`` without an equality on the partition key has
#: ``dynamodb:LeadingKeys`` = UNKNOWN). A condition on an unknown key fails closed: it
#: never satisfies an ``Allow`` and always satisfies a ``Deny``.
UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Policy:
    """A policy document with a name saying where it came from.

    ``kind`` is ``"identity"`` (inline or managed policies of a user or role),
    ``"resource"`` (a table's resource policy) or ``"trust"`` (a role's trust
    policy, which is a resource policy on the role).
    """

    name: str
    document: Mapping[str, Any]
    kind: str = "identity"


@dataclass(frozen=True)
class Request:
    """One API call to decide: who, which action, on which resource, with which context."""

    principal: str
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    #: condition keys whose values cannot be known (also: a context value of ``UNKNOWN``);
    #: a condition on one of them never satisfies an Allow and always satisfies a Deny
    unknown: frozenset[str] = frozenset()

    def unknown_keys(self) -> frozenset[str]:
        """Lower-cased names of the unknown keys (``unknown`` plus ``UNKNOWN`` values)."""
        names = {k.lower() for k in self.unknown}
        names.update(k.lower() for k, v in self.context.items() if v is UNKNOWN)
        return frozenset(names)


@dataclass(frozen=True)
class Decision:
    """The outcome: ``decision`` is ``"Allow"``, ``"ExplicitDeny"`` or ``"ImplicitDeny"``.

    ``policy`` and ``statement`` name what decided (the denying statement,
    or the first allowing one); both are None for an implicit deny.
    """

    decision: str
    policy: str | None = None
    statement: Mapping[str, Any] | None = None
    reason: str = ""
    #: which side decided or is missing an allow: "identity", "resource" or "trust"
    side: str = "identity"

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    @property
    def sid(self) -> str | None:
        return None if self.statement is None else self.statement.get("Sid")

    def __str__(self) -> str:
        where = f" by {self.policy}" + (f" statement {self.sid!r}" if self.sid else "") if self.policy else ""
        return f"{self.decision}{where}: {self.reason}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = fnmatch.translate(pattern).replace("(?s:", "(?s:", 1)
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)


def _like(value: str, pattern: str, case_sensitive: bool = True) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character (no ranges)."""
    pattern = pattern.replace("[", "[[]")  # brackets are literal in IAM
    return bool(_wildcard(pattern, case_sensitive).match(value))


def principal_account(arn: str) -> str | None:
    """Return the account id in a principal ARN (``arn:aws:iam::111:user/x`` -> ``"111"``)."""
    parts = arn.split(":")
    if len(parts) >= 5 and parts[4].isdigit():
        return parts[4]
    return None


def _principal_forms(principal: str) -> set[str]:
    """Every way a policy may name ``principal`` (an assumed-role session is also its role)."""
    forms = {principal}
    match = re.match(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$", principal)
    if match:
        forms.add(f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}")
    return forms


def _principal_matches(spec: Any, principal: str) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(f"A Principal must be '*' or a mapping, not {spec!r}.")
    account = principal_account(principal)
    forms = _principal_forms(principal)
    for kind, values in spec.items():
        for value in _as_list(values):
            if kind == "AWS":
                if value == "*":
                    return True
                if re.fullmatch(r"\d{12}", value) and value == account:
                    return True
                if re.fullmatch(r"arn:aws[\w-]*:iam::(\d{12}):root", value) and (
                    value.split(":")[4] == account
                ):
                    return True
                if value in forms:
                    return True
                # Role ARNs with a path: arn:aws:iam::1:role/path/Name names sessions of Name.
                role = re.match(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$", value)
                if role and f"arn:{role.group(1)}:iam::{role.group(2)}:role/{role.group(3)}" in forms:
                    return True
            elif kind == "Service" and value == principal:
                return True
    return False


# -- conditions ----------------------------------------------------------------------------


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _to_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _to_date(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            if value.isdigit():
                return datetime.fromtimestamp(int(value), UTC)
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _compare(base: str, context_value: Any, policy_value: Any) -> bool:
    """Return the positive form of ``base`` (negated operators are handled by the caller)."""
    if base in ("StringEquals", "ArnEquals"):
        return str(context_value) == str(policy_value)
    if base == "StringEqualsIgnoreCase":
        return str(context_value).lower() == str(policy_value).lower()
    if base in ("StringLike", "ArnLike"):
        return _like(str(context_value), str(policy_value))
    if base.startswith("Numeric"):
        a, b = _to_number(context_value), _to_number(policy_value)
        if a is None or b is None:
            return False
        return {
            "NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b,
        }[base]
    if base.startswith("Date"):
        da, db = _to_date(context_value), _to_date(policy_value)
        if da is None or db is None:
            return False
        return {
            "DateEquals": da == db, "DateLessThan": da < db, "DateLessThanEquals": da <= db,
            "DateGreaterThan": da > db, "DateGreaterThanEquals": da >= db,
        }[base]
    if base == "Bool":
        a, b = _to_bool(context_value), _to_bool(policy_value)
        return a is not None and a == b
    raise InvalidArgumentError(f"Unsupported condition operator {base!r}.")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_POSITIVE = {
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "NumericEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool",
    "ArnEquals", "ArnLike", "BinaryEquals",
}


def _lookup(context: Mapping[str, Any], key: str) -> tuple[bool, list[Any]]:
    """(present, values) of a condition key; keys are case-insensitive, as in IAM."""
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            if value is None:
                return False, []
            return True, _as_list(value)
    return False, []


def _operator_holds(
    operator: str,
    block: Mapping[str, Any],
    context: Mapping[str, Any],
    unknown: frozenset[str] = frozenset(),
    effect: str = "Allow",
) -> bool:
    qualifier = None
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            raise InvalidArgumentError(f"Unknown set qualifier {qualifier!r} in a Condition.")
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    for key, wanted in block.items():
        if key.lower() in unknown:
            # Fail closed: an unknown value never satisfies an Allow, always a Deny.
            if effect == "Deny":
                continue
            return False
        policy_values = _as_list(wanted)
        present, values = _lookup(context, key)
        if base == "Null":
            expect_absent = _to_bool(policy_values[0]) if policy_values else None
            if expect_absent is None:
                raise InvalidArgumentError(f"Null condition on {key!r} needs 'true' or 'false'.")
            if expect_absent != (not present or not values):
                return False
            continue
        negated = base in _NEGATED
        positive = _NEGATED.get(base, base)
        if positive not in _POSITIVE:
            raise InvalidArgumentError(f"Unsupported condition operator {operator!r}.")
        if positive == "BinaryEquals":
            positive = "StringEquals"

        def value_matches(value: Any, positive: str = positive, negated: bool = negated,
                          policy_values: Sequence[Any] = policy_values) -> bool:
            hit = any(_compare(positive, value, p) for p in policy_values)
            return not hit if negated else hit

        if qualifier == "ForAllValues":
            if not present or not values:
                continue  # vacuously true
            if not all(value_matches(v) for v in values):
                return False
        elif qualifier == "ForAnyValue":
            if not present or not values:
                return False
            if not any(value_matches(v) for v in values):
                return False
        else:
            if not present:
                if if_exists or negated:
                    continue
                return False
            if len(values) > 1:
                # A multivalued key without a set qualifier: AWS treats it as a set
                # and needs every value to match (the safe reading).
                if not all(value_matches(v) for v in values):
                    return False
            elif not value_matches(values[0]):
                return False
    return True


def _conditions_hold(
    condition: Mapping[str, Any] | None,
    context: Mapping[str, Any],
    unknown: frozenset[str] = frozenset(),
    effect: str = "Allow",
) -> bool:
    if not condition:
        return True
    return all(
        _operator_holds(op, block, context, unknown, effect) for op, block in condition.items()
    )


# -- statements and decisions ---------------------------------------------------------------


def _statement_applies(statement: Mapping[str, Any], request: Request, kind: str) -> bool:
    if "NotAction" in statement:
        if any(_like(request.action, a, case_sensitive=False) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(
        _like(request.action, a, case_sensitive=False) for a in _as_list(statement.get("Action"))
    ):
        return False
    if "NotResource" in statement:
        if any(_like(request.resource, r) for r in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement:
        if not any(_like(request.resource, r) for r in _as_list(statement["Resource"])):
            return False
    elif kind == "identity":
        return False  # an identity statement without Resource matches nothing
    if kind in ("resource", "trust"):
        if "NotPrincipal" in statement:
            if _principal_matches(statement["NotPrincipal"], request.principal):
                return False
        elif not _principal_matches(statement.get("Principal"), request.principal):
            return False
    return _conditions_hold(statement.get("Condition"), request.context, request.unknown_keys(),
                            "Deny" if statement.get("Effect") == "Deny" else "Allow")


def _statements(policy: Policy) -> list[Mapping[str, Any]]:
    doc = policy.document
    if not isinstance(doc, Mapping) or "Statement" not in doc:
        raise InvalidArgumentError(f"Policy {policy.name!r} has no Statement.")
    statements = doc["Statement"]
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _scan(policies: Iterable[Policy], request: Request) -> tuple[Decision | None, Decision | None]:
    """(first explicit deny, first allow) among ``policies`` for ``request``."""
    deny = allow = None
    for policy in policies:
        for statement in _statements(policy):
            if not _statement_applies(statement, request, policy.kind):
                continue
            effect = statement.get("Effect")
            if effect == "Deny" and deny is None:
                deny = Decision(EXPLICIT_DENY, policy.name, statement,
                                f"explicit deny in {policy.kind} policy {policy.name}", policy.kind)
            elif effect == "Allow" and allow is None:
                allow = Decision(ALLOW, policy.name, statement,
                                 f"allowed by {policy.kind} policy {policy.name}", policy.kind)
    return deny, allow


def evaluate(policies: Iterable[Policy], request: Request) -> Decision:
    """Decide ``request`` against policies of one account (identity and/or resource).

    Explicit deny first; then any allow; else an implicit deny.
    """
    policies = list(policies)
    deny, allow = _scan(policies, request)
    if deny is not None:
        return deny
    if allow is not None:
        return allow
    kinds = {p.kind for p in policies} or {"identity"}
    what = " or ".join(sorted(f"{k}-based" for k in kinds))
    return Decision(IMPLICIT_DENY, reason=f"no {what} policy allows the {request.action} action",
                    side=min(kinds))


def evaluate_cross_account(
    identity_policies: Iterable[Policy],
    resource_policies: Iterable[Policy],
    request: Request,
    resource_account: str | None,
) -> Decision:
    """Decide with both sides: the caller's account and the resource's account.

    Same account: an allow on either side suffices. Different accounts:
    both sides must allow. An explicit deny on either side always wins.
    """
    identity_policies, resource_policies = list(identity_policies), list(resource_policies)
    id_deny, id_allow = _scan(identity_policies, request)
    res_deny, res_allow = _scan(resource_policies, request)
    for deny in (id_deny, res_deny):
        if deny is not None:
            return deny
    same_account = resource_account is not None and principal_account(request.principal) == (
        resource_account
    )
    if same_account:
        if id_allow or res_allow:
            return id_allow or res_allow  # type: ignore[return-value]
        return Decision(
            IMPLICIT_DENY,
            reason=f"no identity-based or resource-based policy allows the {request.action} action",
        )
    if id_allow and res_allow:
        return id_allow
    if not id_allow:
        return Decision(
            IMPLICIT_DENY,
            reason=f"no identity-based policy allows the {request.action} action",
        )
    side = "trust" if any(p.kind == "trust" for p in resource_policies) else "resource"
    label = "trust" if side == "trust" else "resource-based"
    return Decision(
        IMPLICIT_DENY,
        reason=(
            f"the {label} policy of the resource's account does not allow the "
            f"{request.action} action for this principal"
        ),
        side=side,
    )
