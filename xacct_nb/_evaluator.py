"""An IAM policy evaluator for what cross-account DynamoDB access uses.

It follows AWS's documented evaluation logic (IAM User Guide, "Policy
evaluation logic", "Cross-account policy evaluation logic", "IAM JSON policy
elements: Condition operators", "NotPrincipal", "IAM policy elements:
Variables and tags"):

1. An explicit ``Deny`` in any applicable policy decides: denied.
2. Otherwise, within one account, an ``Allow`` in an identity-based policy
   *or* in the resource's policy allows -- but a resource policy whose
   ``Principal`` names only the *account* (``"111122223333"`` or
   ``arn:aws:iam::111122223333:root``) delegates to the account: "This
   delegates authority to the account. [...] an administrator in that account
   must then grant access to an identity (IAM user or role)". Such a grant
   allows an IAM user or role only together with an identity-based allow.
   A role's trust policy must always allow ("IAM role trust policies [...]
   must explicitly allow access for principals").
3. Across accounts, the caller's identity-based policies *and* the
   resource's policy (a table's resource policy, a role's trust policy)
   must both allow; a resource side without a policy denies.
4. Otherwise: implicitly denied.

A statement applies when its ``Action``/``NotAction``, ``Resource``/
``NotResource`` (and, in resource policies, ``Principal``/``NotPrincipal``)
match and every ``Condition`` holds.

Condition operators: the String, Numeric, Date, Bool, Binary, IpAddress and
Arn families, each with ``IfExists`` (not ``Null``) and the
``ForAllValues:`` / ``ForAnyValue:`` set qualifiers. ``ArnEquals`` and
``ArnLike`` behave identically and match the six colon-separated parts of an
ARN one by one (a ``*`` never crosses a colon); ``ArnNotEquals`` and
``ArnNotLike`` are their negations. A key missing from the request makes a
condition false, except for the negated operators (true), ``...IfExists``
(true), ``Null`` and ``ForAllValues`` (true: "It also returns true if there
are no context keys in the request"); ``ForAnyValue`` on a missing key is
false.

Policy variables (documents of ``"Version": "2012-10-17"`` only; older ones
keep ``${...}`` literally): ``${key}`` and ``${key, 'default'}`` are
replaced from the request context in ``Resource``/``NotResource`` (the
resource part of the ARN, after the fifth colon) and in the values of
String and Arn conditions; ``${*}``, ``${?}`` and ``${$}`` stand for a
literal ``*``, ``?`` and ``$``. A variable whose key is missing (or
multivalued) and has no default makes the whole statement not apply ("any
attempt to match it fails and causes the statement to be invalid").

Keys that apply but whose value cannot be known (``Request.unknown``, or a
context value of :data:`UNKNOWN`) fail closed: a condition on one never
satisfies an Allow and always satisfies a Deny.

Where the guide is silent, the most conservative reading (the one that
never allows more) is taken, and the same fail-closed rule applies -- the
condition never satisfies an Allow and always satisfies a Deny -- when:

* a value cannot be compared: a non-number under a ``Numeric`` operator
  (``NumericNotEquals`` included: "abc" is *not* "not equal to 5"), a
  non-date under ``Date``, a non-boolean under ``Bool``, a non-address under
  ``IpAddress``/``NotIpAddress``, a value or pattern that is not a six-part
  ARN under an Arn operator (the pattern ``"*"`` alone matches any ARN);
* a set operator meets an empty set or an empty string (``[]``, ``""``,
  ``[""]``): the guide only says what a *missing* key does.

A multivalued key under an operator without ``ForAllValues:`` /
``ForAnyValue:`` ("Multivalued context keys require a condition set
operator") is read as ``ForAllValues`` in an Allow (every value must match,
and an empty set never does) and as ``ForAnyValue`` in a Deny (one matching
value denies).

``NotPrincipal`` in a Deny exempts a principal only when the element names it
exactly *and* every principal AWS "might validate" before it: its account
(``arn:aws:iam::ACCOUNT:root`` or ``ACCOUNT``) and, for a role session, its
role. The account's ARN in ``NotPrincipal`` exempts the account principal
itself, never the other users and roles of the account: with
``[".../user/Bob", "...:root"]`` "all principals *except* the user named Bob"
are denied.

The same code decides for ``xn.policies.simulate`` and for the sandbox's
authorization layer, and names the statement that decided.

>>> doc = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow",
...        "Action": "dynamodb:Query", "Resource": "arn:aws:dynamodb:*:*:table/T"}]}
>>> evaluate([Policy("inline", doc)], Request("arn:aws:iam::1:user/u", "dynamodb:Query",
...          "arn:aws:dynamodb:us-east-1:1:table/T")).decision
'Allow'
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._errors import InvalidArgumentError, XacctError

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


def _text(value: Any) -> str:
    """Return a context or policy value as IAM compares it (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- wildcards and ARNs ----------------------------------------------------------------------

#: Stand-ins for a literal ``*`` / ``?`` in a pattern (from ``${*}``, ``${?}`` or a
#: substituted value): they match only themselves, never as wildcards.
_LITERAL_STAR, _LITERAL_QUESTION = "\x00", "\x01"


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = []
    for char in pattern:
        if char == "*":
            regex.append(".*")
        elif char == "?":
            regex.append(".")
        elif char == _LITERAL_STAR:
            regex.append(re.escape("*"))
        elif char == _LITERAL_QUESTION:
            regex.append(re.escape("?"))
        else:
            regex.append(re.escape(char))  # brackets and the rest are literal in IAM
    return re.compile("".join(regex), re.DOTALL | (0 if case_sensitive else re.IGNORECASE))


def _like(value: str, pattern: str, case_sensitive: bool = True) -> bool:
    """IAM wildcards: ``*`` any run of characters, ``?`` one character (no ranges)."""
    return _wildcard(pattern, case_sensitive).fullmatch(value) is not None


def _literal(pattern: str) -> str:
    """``pattern`` with the literal stand-ins turned back into ``*`` and ``?``."""
    return pattern.replace(_LITERAL_STAR, "*").replace(_LITERAL_QUESTION, "?")


def _arn_like(value: str, pattern: str) -> bool | None:
    """ArnLike: each of the six colon-separated parts matched on its own.

    None when ``value`` (or ``pattern``, unless it is ``"*"``) is not a six-part
    ARN: the comparison cannot be made and the condition fails closed.
    """
    parts = value.split(":", 5)
    if len(parts) != 6:
        return None
    if pattern == "*":
        return True
    wanted = pattern.split(":", 5)
    if len(wanted) != 6:
        return None
    return all(_like(part, want) for part, want in zip(parts, wanted, strict=True))


def principal_account(arn: str) -> str | None:
    """Return the account id in a principal ARN (``arn:aws:iam::111:user/x`` -> ``"111"``)."""
    parts = arn.split(":")
    if len(parts) >= 5 and parts[4].isdigit():
        return parts[4]
    return None


# -- policy variables ------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_VARIABLE_BODY = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")


class _Unresolved(XacctError):
    """A policy variable with no value and no default: the statement does not apply.

    Internal: caught where the statement is matched, never raised to a caller.
    """


class _UnknownVariable(XacctError):
    """A policy variable whose key is :data:`UNKNOWN`: the comparison fails closed.

    Internal: caught where the value is compared, never raised to a caller.
    """


def _escape(text: str) -> str:
    return text.replace("*", _LITERAL_STAR).replace("?", _LITERAL_QUESTION)


def _substitute(text: str, context: Mapping[str, Any], unknown: frozenset[str]) -> str:
    """Replace the policy variables in ``text`` from the request context.

    A substituted value (or default) is literal: its ``*`` and ``?`` are not wildcards.
    Raises :class:`_Unresolved` for a key missing from the context (or multivalued:
    "you can't use a multivalued context key as a policy variable") without a default.
    """

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        if body == "*":
            return _LITERAL_STAR
        if body == "?":
            return _LITERAL_QUESTION
        if body == "$":
            return "$"
        parsed = _VARIABLE_BODY.match(body)
        if parsed is None:
            raise _Unresolved(match.group(0))
        name, default = parsed.group(1), parsed.group(2)
        if name.lower() in unknown:
            raise _UnknownVariable(name)
        present, values = _lookup(context, name)
        if present and len(values) == 1:
            return _escape(_text(values[0]))
        if default is not None:
            return _escape(default.replace("''", "'"))
        raise _Unresolved(name)

    return _VARIABLE.sub(replace, text)


def _resource_pattern(pattern: str, request: Request, unknown: frozenset[str]) -> str:
    """Replace the variables of a Resource/NotResource entry (only after the fifth colon)."""
    if "${" not in pattern:
        return pattern
    parts = pattern.split(":", 5)
    if len(parts) != 6:
        return pattern  # no resource part: the variable stays literal and matches nothing
    return ":".join(parts[:5]) + ":" + _substitute(parts[5], request.context, unknown)


# -- principals ------------------------------------------------------------------------------

_SESSION = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([^/]+)/.+$")
_ROLE = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}):role/(?:.*/)?([^/]+)$")
_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):root$")


def _principal_forms(principal: str) -> set[str]:
    """Every way a policy may name ``principal`` (an assumed-role session is also its role)."""
    forms = {principal}
    match = _SESSION.match(principal)
    if match:
        forms.add(f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}")
    return forms


def _names_role_of(value: str, forms: set[str]) -> bool:
    """Whether ``value`` is a role ARN (with or without a path) among ``forms``."""
    role = _ROLE.match(value)
    return bool(role) and (
        f"arn:{role.group(1)}:iam::{role.group(2)}:role/{role.group(3)}" in forms  # type: ignore[union-attr]
    )


def _principal_match(spec: Any, principal: str) -> str | None:
    """How a ``Principal`` element names ``principal``.

    ``"direct"`` when it names the principal itself (its ARN, its role for a
    session, ``"*"``), ``"account"`` when it names only the principal's account
    (which delegates to the account's IAM policies), None when it does not.
    """
    if spec == "*":
        return "direct"
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(f"A Principal must be '*' or a mapping, not {spec!r}.")
    account = principal_account(principal)
    forms = _principal_forms(principal)
    found = None
    for kind, values in spec.items():
        for raw in _as_list(values):
            value = str(raw)
            if kind == "AWS":
                if value == "*" or value in forms or _names_role_of(value, forms):
                    return "direct"
                root = _ROOT.match(value)
                named = value if re.fullmatch(r"\d{12}", value) else (root.group(1) if root else None)
                if named is not None and named == account:
                    found = "account"
            elif kind == "Service" and value == principal:
                return "direct"
    return found


def _not_principal_exempts(spec: Any, principal: str) -> bool:
    """Whether a ``NotPrincipal`` element leaves ``principal`` out of its statement.

    Only a principal named exactly, together with its account and (for a role
    session) its role -- what AWS "might validate" first -- is left out. The
    account's ARN exempts the account principal, not the account's users and roles.
    """
    if spec == "*":
        return True
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(f"A NotPrincipal must be '*' or a mapping, not {spec!r}.")
    named_aws = {str(v) for v in _as_list(spec.get("AWS"))}
    others = {str(v) for kind, values in spec.items() if kind != "AWS" for v in _as_list(values)}
    if "*" in named_aws or principal in others:
        return True
    if principal not in named_aws:
        return False
    account = principal_account(principal)
    if account is None:
        return True
    partition = principal.split(":")[1]
    if not {account, f"arn:{partition}:iam::{account}:root"} & named_aws:
        return False
    session = _SESSION.match(principal)
    if session:
        forms = _principal_forms(principal)
        return any(_names_role_of(value, forms) for value in named_aws)
    return True


# -- conditions ----------------------------------------------------------------------------


def _to_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _to_number(value: Any) -> float | None:
    """Return an integer or decimal, else None (booleans, ``"nan"``, ``"abc"`` are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
    return None


def _to_date(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
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
        except (ValueError, OverflowError):
            return None
    return None


def _in_network(value: Any, network: Any) -> bool | None:
    """IpAddress: ``value`` (an address) inside ``network`` (CIDR; a bare address is /32, /128)."""
    try:
        address = ipaddress.ip_address(str(value).strip())
        cidr = ipaddress.ip_network(str(network).strip(), strict=False)
    except ValueError:
        return None
    return address in cidr


def _compare(base: str, context_value: Any, policy_value: Any) -> bool | None:
    """Compare with the positive form of ``base``; None when the values cannot be compared."""
    if base == "StringEquals":
        return _text(context_value) == _literal(_text(policy_value))
    if base == "BinaryEquals":  # base-64 text compared as written (no policy variables)
        return _text(context_value) == _text(policy_value)
    if base == "StringEqualsIgnoreCase":
        return _text(context_value).lower() == _literal(_text(policy_value)).lower()
    if base == "StringLike":
        return _like(_text(context_value), _text(policy_value))
    if base == "ArnLike":
        return _arn_like(_text(context_value), _text(policy_value))
    if base == "IpAddress":
        return _in_network(context_value, policy_value)
    if base.startswith("Numeric"):
        a, b = _to_number(context_value), _to_number(policy_value)
        if a is None or b is None:
            return None
        return {
            "NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
            "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b,
        }[base]
    if base.startswith("Date"):
        da, db = _to_date(context_value), _to_date(policy_value)
        if da is None or db is None:
            return None
        return {
            "DateEquals": da == db, "DateLessThan": da < db, "DateLessThanEquals": da <= db,
            "DateGreaterThan": da > db, "DateGreaterThanEquals": da >= db,
        }[base]
    if base == "Bool":
        a_bool, b_bool = _to_bool(context_value), _to_bool(policy_value)
        if a_bool is None or b_bool is None:
            return None
        return a_bool == b_bool
    raise InvalidArgumentError(f"Unsupported condition operator {base!r}.")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "ArnNotEquals": "ArnLike",  # "The ArnNotEquals and ArnNotLike condition operators behave identically"
    "ArnNotLike": "ArnLike",
    "NotIpAddress": "IpAddress",
}
_ALIASES = {"ArnEquals": "ArnLike"}  # "The ArnEquals and ArnLike condition operators behave identically"
_POSITIVE = {
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "NumericEquals", "NumericLessThan",
    "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals",
    "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool",
    "ArnLike", "IpAddress", "BinaryEquals",
}
#: operators whose policy values may hold policy variables ("string operators or the ARN operators")
_WITH_VARIABLES = {"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnLike"}


def _lookup(context: Mapping[str, Any], key: str) -> tuple[bool, list[Any]]:
    """(present, values) of a condition key; keys are case-insensitive, as in IAM."""
    lowered = key.lower()
    for name, value in context.items():
        if name.lower() == lowered:
            if value is None:
                return False, []
            return True, _as_list(value)
    return False, []


def _is_empty(values: Sequence[Any]) -> bool:
    """Tell whether ``values`` is an empty set, or only empty strings."""
    return all(isinstance(v, str) and v == "" for v in values)


def _all(outcomes: Iterable[bool | None]) -> bool | None:
    outcomes = list(outcomes)
    if False in outcomes:
        return False
    return None if None in outcomes else True


def _any(outcomes: Iterable[bool | None]) -> bool | None:
    outcomes = list(outcomes)
    if True in outcomes:
        return True
    return None if None in outcomes else False


def _key_holds(
    qualifier: str | None,
    if_exists: bool,
    base: str,
    key: str,
    wanted: Any,
    context: Mapping[str, Any],
    unknown: frozenset[str],
    effect: str,
    variables: bool,
) -> bool | None:
    """One key of one operator: True, False, or None (cannot be decided: fails closed)."""
    policy_values = _as_list(wanted)
    present, values = _lookup(context, key)
    if base == "Null":
        expect_absent = _to_bool(policy_values[0]) if len(policy_values) == 1 else None
        if expect_absent is None:
            raise InvalidArgumentError(f"Null condition on {key!r} needs 'true' or 'false'.")
        # "context keys with empty values" count as null, as a missing key does
        return expect_absent == (not present or _is_empty(values))
    if not present:
        if if_exists:
            return True  # "If the key is not present, evaluate the condition element as true."
        if qualifier == "ForAllValues":
            return True  # "It also returns true if there are no context keys in the request."
        if qualifier == "ForAnyValue":
            return False  # "If there are no context keys in the request, the condition returns false."
        return base in _NEGATED  # negated operators are true on a missing key
    negated = base in _NEGATED
    positive = _NEGATED.get(base, base)
    if variables and positive in _WITH_VARIABLES:
        policy_values = [_substitute(_text(p), context, unknown) for p in policy_values]

    def one(value: Any) -> bool | None:
        hit = _any(_compare(positive, value, p) for p in policy_values)
        return hit if hit is None or not negated else not hit

    if qualifier is not None:
        if _is_empty(values):
            return None  # undocumented: an empty set or empty string under a set operator
        outcomes = [one(v) for v in values]
        return _all(outcomes) if qualifier == "ForAllValues" else _any(outcomes)
    if len(values) == 1:
        return one(values[0])
    if not values:
        return None
    # A multivalued key without a set operator: every value must match to allow,
    # one matching value is enough to deny (the conservative reading).
    outcomes = [one(v) for v in values]
    return _all(outcomes) if effect == "Allow" else _any(outcomes)


def _operator_holds(
    operator: str,
    block: Mapping[str, Any],
    context: Mapping[str, Any],
    unknown: frozenset[str] = frozenset(),
    effect: str = "Allow",
    variables: bool = False,
) -> bool:
    qualifier = None
    name = operator
    if ":" in operator:
        qualifier, name = operator.split(":", 1)
        if qualifier not in ("ForAllValues", "ForAnyValue"):
            raise InvalidArgumentError(f"Unknown set qualifier {qualifier!r} in a Condition.")
    if_exists = name.endswith("IfExists")
    base = name[: -len("IfExists")] if if_exists else name
    base = _ALIASES.get(base, base)
    if base == "Null":
        if if_exists:
            raise InvalidArgumentError(
                "IfExists cannot be added to the Null condition operator; use Null alone."
            )
    elif _NEGATED.get(base, base) not in _POSITIVE:
        raise InvalidArgumentError(f"Unsupported condition operator {name!r}.")
    if not isinstance(block, Mapping):
        raise InvalidArgumentError(
            f"Condition operator {operator!r} needs a mapping of keys to values, not {block!r}."
        )
    for key, wanted in block.items():
        outcome: bool | None
        if key.lower() in unknown:
            outcome = None
        else:
            try:
                outcome = _key_holds(qualifier, if_exists, base, key, wanted, context, unknown,
                                     effect, variables)
            except _UnknownVariable:
                outcome = None
        if outcome is None:
            # Fail closed: never satisfies an Allow, always satisfies a Deny.
            outcome = effect == "Deny"
        if not outcome:
            return False
    return True


def _conditions_hold(
    condition: Mapping[str, Any] | None,
    context: Mapping[str, Any],
    unknown: frozenset[str] = frozenset(),
    effect: str = "Allow",
    variables: bool = False,
) -> bool:
    if not condition:
        return True
    if not isinstance(condition, Mapping):
        raise InvalidArgumentError(f"A Condition must be a mapping, not {condition!r}.")
    return all(
        _operator_holds(op, block, context, unknown, effect, variables)
        for op, block in condition.items()
    )


# -- statements and decisions ---------------------------------------------------------------


def _resource_matches(patterns: Any, request: Request, unknown: frozenset[str], variables: bool,
                      when_unknown: bool) -> bool:
    for pattern in _as_list(patterns):
        text = str(pattern)
        if variables:
            try:
                text = _resource_pattern(text, request, unknown)
            except _UnknownVariable:
                if when_unknown:
                    return True
                continue
        if _like(request.resource, text):
            return True
    return False


def _statement_match(statement: Mapping[str, Any], request: Request, kind: str,
                     variables: bool = False, unknown: frozenset[str] | None = None) -> str | None:
    """None when ``statement`` does not apply to ``request``; else how it names the principal.

    ``"direct"`` (identity policies, or a resource policy naming the principal
    itself) or ``"account"`` (a resource policy naming only the principal's account).
    """
    try:
        return _statement_match_or_raise(statement, request, kind, variables,
                                         request.unknown_keys() if unknown is None else unknown)
    except _Unresolved:
        return None  # "any attempt to match it fails and causes the statement to be invalid"


def _statement_match_or_raise(statement: Mapping[str, Any], request: Request, kind: str,
                              variables: bool, unknown: frozenset[str]) -> str | None:
    deny = statement.get("Effect") == "Deny"
    if "NotAction" in statement:
        if any(_like(request.action, str(a), case_sensitive=False)
               for a in _as_list(statement["NotAction"])):
            return None
    elif not any(
        _like(request.action, str(a), case_sensitive=False) for a in _as_list(statement.get("Action"))
    ):
        return None
    if "NotResource" in statement:
        # an unknown variable in NotResource: a Deny still applies, an Allow does not
        if _resource_matches(statement["NotResource"], request, unknown, variables, not deny):
            return None
    elif "Resource" in statement:
        if not _resource_matches(statement["Resource"], request, unknown, variables, deny):
            return None
    elif kind == "identity":
        return None  # an identity statement without Resource matches nothing
    match: str | None = "direct"
    if kind in ("resource", "trust"):
        if "NotPrincipal" in statement:
            if not deny:
                return None  # "Using it with "Effect":"Allow" is not supported."
            if _not_principal_exempts(statement["NotPrincipal"], request.principal):
                return None
        else:
            match = _principal_match(statement.get("Principal"), request.principal)
            if match is None:
                return None
    if not _conditions_hold(statement.get("Condition"), request.context, unknown,
                            "Deny" if deny else "Allow", variables):
        return None
    return match


def _statement_applies(statement: Mapping[str, Any], request: Request, kind: str,
                       variables: bool = False) -> bool:
    return _statement_match(statement, request, kind, variables) is not None


def _statements(policy: Policy) -> list[Mapping[str, Any]]:
    doc = policy.document
    if not isinstance(doc, Mapping) or "Statement" not in doc:
        raise InvalidArgumentError(f"Policy {policy.name!r} has no Statement.")
    statements = doc["Statement"]
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _uses_variables(policy: Policy) -> bool:
    """Policy variables exist from ``"Version": "2012-10-17"`` on; before, ``${...}`` is literal."""
    return isinstance(policy.document, Mapping) and policy.document.get("Version") == "2012-10-17"


@dataclass
class _Scan:
    """What one side's policies say: the first deny, and the first allows by kind."""

    deny: Decision | None = None
    #: an allow of an identity policy, or of a resource policy naming the principal itself
    allow: Decision | None = None
    #: an allow of a resource policy naming only the principal's account (delegation)
    delegated: Decision | None = None


def _scan(policies: Iterable[Policy], request: Request) -> _Scan:
    found = _Scan()
    unknown = request.unknown_keys()
    for policy in policies:
        variables = _uses_variables(policy)
        for statement in _statements(policy):
            match = _statement_match(statement, request, policy.kind, variables, unknown)
            if match is None:
                continue
            effect = statement.get("Effect")
            if effect == "Deny" and found.deny is None:
                found.deny = Decision(EXPLICIT_DENY, policy.name, statement,
                                      f"explicit deny in {policy.kind} policy {policy.name}",
                                      policy.kind)
            elif effect == "Allow":
                decision = Decision(ALLOW, policy.name, statement,
                                    f"allowed by {policy.kind} policy {policy.name}", policy.kind)
                if match == "direct" and found.allow is None:
                    found.allow = decision
                elif match == "account" and found.delegated is None:
                    found.delegated = decision
    return found


def _same_account(identity: _Scan, resource: _Scan, trust: bool) -> Decision | None:
    """Return the allow that decides within one account, or None (implicitly denied)."""
    if trust:
        # "IAM role trust policies [...] must explicitly allow access for principals"
        if resource.allow is not None:
            return resource.allow
        if resource.delegated is not None and identity.allow is not None:
            return identity.allow
        return None
    if identity.allow is not None:
        return identity.allow
    return resource.allow  # a grant to the account alone delegates to the identity side


def _delegation_note(resource: _Scan, request: Request) -> str:
    if resource.delegated is None:
        return ""
    return (
        f" (the {resource.delegated.side} policy {resource.delegated.policy} grants the account "
        f"{principal_account(request.principal)}, which delegates to the account's IAM policies: "
        "an identity-based policy must allow too)"
    )


def evaluate(policies: Iterable[Policy], request: Request) -> Decision:
    """Decide ``request`` against policies of one account (identity and/or resource).

    Explicit deny first; then an allow (a resource policy that names only the
    account needs an identity-based allow too); else an implicit deny.

    >>> doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ...        "Action": "dynamodb:GetItem", "Resource": "*"}]}
    >>> evaluate([Policy("p", doc)], Request("arn:aws:iam::1:user/u", "dynamodb:Scan",
    ...          "arn:aws:dynamodb:us-east-1:1:table/T")).reason
    'no identity-based policy allows the dynamodb:Scan action'
    """
    policies = list(policies)
    others = [p for p in policies if p.kind != "identity"]
    identity = _scan([p for p in policies if p.kind == "identity"], request)
    resource = _scan(others, request)
    for deny in (identity.deny, resource.deny):
        if deny is not None:
            return deny
    allow = _same_account(identity, resource, any(p.kind == "trust" for p in others))
    if allow is not None:
        return allow
    kinds = {p.kind for p in policies} or {"identity"}
    what = " or ".join(sorted(f"{k}-based" for k in kinds))
    return Decision(
        IMPLICIT_DENY,
        reason=f"no {what} policy allows the {request.action} action"
        + _delegation_note(resource, request),
        side=min(kinds),
    )


def evaluate_cross_account(
    identity_policies: Iterable[Policy],
    resource_policies: Iterable[Policy],
    request: Request,
    resource_account: str | None,
) -> Decision:
    """Decide with both sides: the caller's account and the resource's account.

    Same account: an allow on either side suffices (a resource policy naming
    only the account needs an identity-based allow too; a trust policy must
    always allow). Different accounts: both sides must allow, and a resource
    side without a policy denies. An explicit deny on either side always wins.

    >>> table = "arn:aws:dynamodb:us-east-1:222222222222:table/T"
    >>> doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    ...        "Action": "dynamodb:*", "Resource": table}]}
    >>> evaluate_cross_account([Policy("p", doc)], [], Request(
    ...     "arn:aws:iam::111111111111:user/u", "dynamodb:Query", table), "222222222222").decision
    'ImplicitDeny'
    """
    identity_policies, resource_policies = list(identity_policies), list(resource_policies)
    identity = _scan(identity_policies, request)
    resource = _scan(resource_policies, request)
    for deny in (identity.deny, resource.deny):
        if deny is not None:
            return deny
    trust = any(p.kind == "trust" for p in resource_policies)
    side = "trust" if trust else "resource"
    label = "trust" if trust else "resource-based"
    same_account = resource_account is not None and principal_account(request.principal) == (
        resource_account
    )
    if same_account:
        allow = _same_account(identity, resource, trust)
        if allow is not None:
            return allow
        if trust and identity.allow is not None:
            return Decision(
                IMPLICIT_DENY,
                reason=(f"the trust policy of the role does not allow the {request.action} "
                        "action for this principal"),
                side="trust",
            )
        return Decision(
            IMPLICIT_DENY,
            reason=f"no identity-based or resource-based policy allows the {request.action} action"
            + _delegation_note(resource, request),
        )
    if identity.allow is not None and (resource.allow or resource.delegated):
        return identity.allow
    if identity.allow is None:
        return Decision(
            IMPLICIT_DENY,
            reason=f"no identity-based policy allows the {request.action} action",
        )
    if not any(_statements(p) for p in resource_policies):
        reason = (
            f"the resource's account has no {label} policy that allows the {request.action} "
            "action for this principal: across accounts both sides must allow"
        )
    else:
        reason = (
            f"the {label} policy of the resource's account does not allow the "
            f"{request.action} action for this principal"
        )
    return Decision(IMPLICIT_DENY, reason=reason, side=side)
