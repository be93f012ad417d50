"""What a request asks for, in IAM's terms, and which policies apply to it (sandbox side).

For each DynamoDB call the sandbox works out what AWS would evaluate: the
action (``dynamodb:Query``), the resource (the table or index ARN; one per
table for batch calls) and the request context (``dynamodb:LeadingKeys``,
``dynamodb:Attributes``, ``dynamodb:Select``, ``dynamodb:ReturnValues`` and
the global ``aws:*`` keys). The policies come from moto's IAM and DynamoDB
backends: a user's or role's inline and managed policies (and its groups'),
a role's trust policy, a table's resource policy.

DynamoDB requests are attributed by one explicit rule per served operation
(:data:`SUPPORTED_OPERATIONS`) and fail closed:

* item operations (single, batch, transaction items, PartiQL) must name their
  partition key values, checked against the table's key schema with DynamoDB's
  own ValidationException texts; transactions ask for the item-level actions
  (``dynamodb:GetItem``, ``PutItem``, ..., ``ConditionCheckItem``) and PartiQL
  for ``dynamodb:PartiQLSelect`` / ``Insert`` / ``Update`` / ``Delete`` on each
  table or index a statement names;
* whatever cannot be attributed unambiguously (a malformed or other-region ARN,
  an OR in a key condition, a nested statement, ...) is refused with a
  :class:`~._wire.WireError`, never allowed;
* a condition key that applies but cannot be known (a PartiQL ``SELECT``
  without an equality on the partition key) is :data:`~.._evaluator.UNKNOWN`:
  conditions on it never satisfy an Allow and always satisfy a Deny.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, unquote

from .._evaluator import UNKNOWN, Policy
from ._wire import WireError, validation


@dataclass
class Access:
    """One authorization question: ``action`` on ``resource`` with ``context``."""

    action: str
    resource: str
    account: str
    context: dict[str, Any] = field(default_factory=dict)


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    if not text.lstrip().startswith("{"):
        text = unquote(text)
    return json.loads(text)


def _managed_document(policy: Any) -> dict[str, Any]:
    for version in getattr(policy, "versions", []):
        if getattr(version, "is_default", False):
            return _document(version.document)
    return _document(getattr(policy, "document", "{}"))


def identity_policies(account: str, arn: str, kind: str) -> list[Policy]:
    """Inline and managed policies of the user or role behind ``arn``."""
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    out: list[Policy] = []
    if kind == "role-session":
        role_name = arn.split("/")[1]
        role = next((r for r in list(iam.roles.values()) if r.name == role_name), None)
        if role is None:
            return out
        for name, doc in role.policies.items():
            out.append(Policy(f"role {role_name} inline policy {name}", _document(doc)))
        for policy_arn, policy in role.managed_policies.items():
            out.append(Policy(f"managed policy {policy_arn}", _managed_document(policy)))
        return out
    user_name = arn.rsplit("/", 1)[-1]
    user = iam.users.get(user_name)
    if user is None:
        return out
    for name, doc in user.policies.items():
        out.append(Policy(f"user {user_name} inline policy {name}", _document(doc)))
    for policy_arn, policy in user.managed_policies.items():
        out.append(Policy(f"managed policy {policy_arn}", _managed_document(policy)))
    for group in iam.get_groups_for_user(user_name):
        for name, doc in group.policies.items():
            out.append(Policy(f"group {group.name} inline policy {name}", _document(doc)))
        for policy_arn, policy in group.managed_policies.items():
            out.append(Policy(f"managed policy {policy_arn}", _managed_document(policy)))
    return out


def trust_policy(role_arn: str) -> Policy | None:
    """Return the trust policy of a role, or None if there is no such role."""
    from moto.iam.models import iam_backends

    match = re.match(r"^arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)$", role_arn)
    if not match or match.group(1) not in iam_backends:
        return None
    for role in list(iam_backends[match.group(1)]["aws"].roles.values()):
        if role.name == match.group(2):
            return Policy(f"trust policy of role {role.name}",
                          _document(role.assume_role_policy_document), "trust")
    return None


def table_policy(account: str, region: str, table_arn: str) -> Policy | None:
    """Return a table's resource-based policy, if it has one."""
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[account][region]
    policy = getattr(backend, "resource_policies", {}).get(table_arn)
    if policy is None:
        return None
    return Policy(f"resource policy of {table_arn.split('/')[-1]}", _document(policy.policy_doc),
                  "resource")


# -- DynamoDB ------------------------------------------------------------------------------
#
# Every operation the sandbox serves has one rule below. A rule validates what it needs to
# attribute the request to resources and condition keys, and refuses (WireError, in
# DynamoDB's own wording) whatever it cannot attribute unambiguously: a refusal is never an
# allow. A context key that applies but cannot be known is set to UNKNOWN, which the
# evaluator treats as failing every Allow condition on it and satisfying every Deny.

_KEY_SCHEMA_MISMATCH = "The provided key element does not match the schema"
_ITEM_TYPE_MISMATCH = (
    "One or more parameter values were invalid: Type mismatch for key {name} expected: "
    "{expected} actual: {actual}"
)
_CONDITION_TYPE_MISMATCH = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)
_MORE_THAN_ONE_TYPE = (
    "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
    "supported datatypes"
)
_NO_TYPE = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
_NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
_PARTIQL_KEY = "Where clause does not contain a mandatory equality on all key attributes"
_VALUE_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})
_TABLE_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,255}")
_ARN_RE = re.compile(
    r"arn:aws:dynamodb:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):table/([A-Za-z0-9_.\-]{3,255})"
    r"(?:/(backup|export|stream|index)/([A-Za-z0-9_.:\-]+))?"
)
_LEGACY_PARAMETERS = ("AttributesToGet", "KeyConditions", "QueryFilter", "ScanFilter", "Expected",
                      "AttributeUpdates", "ConditionalOperator")
_EXPRESSION_PARAMETERS = ("ProjectionExpression", "KeyConditionExpression", "FilterExpression",
                          "ConditionExpression", "UpdateExpression")
_SELECT_VALUES = ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
_RETURN_VALUES = ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW")
_RESTORE_ITEM_ACTIONS = ("BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan",
                      "UpdateItem")
LEADING_KEYS = "dynamodb:LeadingKeys"
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_MAX_EXPRESSION = 4096  # bytes, DynamoDB's limit for any expression
_MAX_STATEMENT = 8192  # characters, DynamoDB's limit for a PartiQL statement
_MAX_NESTING = 32  # parentheses in a KeyConditionExpression (deeper is refused, not recursed)


def _serialization() -> WireError:
    """DynamoDB's answer to a member of the wrong JSON type."""
    return WireError(400, "SerializationException", "Unexpected value type in payload", "dynamodb")


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _get(body: dict[str, Any], name: str, kind: type | tuple[type, ...], *, required: bool = False,
         where: str = "") -> Any:
    """``body[name]`` if it has JSON type ``kind``; None if absent (unless ``required``)."""
    value = body.get(name)
    if value is None:
        if required:
            raise validation(
                f"1 validation error detected: Value null at '{where}{_camel(name)}' failed to "
                "satisfy constraint: Member must not be null"
            )
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    ):
        raise _serialization()
    return value


def _length(value: Any, where: str, low: int, high: int) -> None:
    if len(value) < low:
        raise validation(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {low}"
        )
    if len(value) > high:
        raise validation(
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {high}"
        )


@dataclass(frozen=True)
class KeySchema:
    """The partition (HASH) and sort (RANGE) key of a table or index, with their types."""

    hash_key: str
    hash_type: str
    range_key: str | None = None
    range_type: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    def type_of(self, name: str) -> str:
        return self.hash_type if name == self.hash_key else str(self.range_type)


@dataclass(frozen=True)
class TableRef:
    """A table named in a request: its ARN, name, owning account and (if it exists) schema."""

    arn: str
    name: str
    account: str
    schema: KeySchema | None = None
    indexes: dict[str, KeySchema] = field(default_factory=dict)

    def index_arn(self, index: str) -> str:
        return f"{self.arn}/index/{index}"


def _schema_from(key_schema: list[dict[str, Any]], types: dict[str, str]) -> KeySchema | None:
    hashes = [k["AttributeName"] for k in key_schema if k.get("KeyType") == "HASH"]
    ranges = [k["AttributeName"] for k in key_schema if k.get("KeyType") == "RANGE"]
    if len(hashes) != 1 or len(ranges) > 1:
        return None  # multi-attribute keys: not attributable here (the caller fails closed)
    range_key = ranges[0] if ranges else None
    return KeySchema(hashes[0], types.get(hashes[0], "S"), range_key,
                     types.get(range_key) if range_key else None)


def _lookup_table(account: str, region: str, name: str) -> tuple[KeySchema | None, dict[str, KeySchema]]:
    """Return the key schema of a table and its indexes, from moto's backend (None: no such table)."""
    from moto.dynamodb.models import dynamodb_backends

    if account not in dynamodb_backends or region not in dynamodb_backends[account]:
        return None, {}
    table = dynamodb_backends[account][region].tables.get(name)
    if table is None:
        return None, {}
    types = {a["AttributeName"]: a["AttributeType"] for a in getattr(table, "attr", None) or []}
    schema = _schema_from(list(table.schema), types)
    indexes: dict[str, KeySchema] = {}
    for index in list(table.global_indexes) + list(table.indexes):
        found = _schema_from(list(index.schema), types)
        if found is not None:
            indexes[index.name] = found
    return schema, indexes


def _parse_arn(value: str, region: str, kind: str | None) -> re.Match[str]:
    """Parse a DynamoDB ARN in ``region``; ``kind`` None: a table, "table|stream": a table or stream.

    "backup" and "export" name those sub-resources; anything else is refused.
    """
    match = _ARN_RE.fullmatch(value)
    allowed = (None, "stream") if kind == "table|stream" else (kind,)
    if match is None or match.group(4) not in allowed:
        what = "table" if kind in (None, "table|stream") else kind
        raise validation(f"Invalid ARN: {value!r} is not a valid DynamoDB {what} ARN")
    if match.group(1) != region:
        raise validation(f"1 validation error detected: Invalid AWS region in '{value}'")
    return match


def table_ref(value: Any, account: str, region: str, *, where: str = "tableName",
              arn_allowed: bool = True) -> TableRef:
    """Resolve a ``TableName`` (a name or a table ARN) to a :class:`TableRef`.

    Parameters
    ----------
    value : Any
        The request's member: a table name, or a table ARN in ``region``.
    account, region : str
        The caller's account (a plain name is in it) and the request's region.
    where : str
        The member's path, for DynamoDB's "1 validation error detected" texts.
    arn_allowed : bool
        False where DynamoDB only takes names (``CreateTable``, restore targets).

    Returns
    -------
    TableRef
        The table's ARN, name, owner and, if the table exists, its key schemas.

    Raises
    ------
    WireError
        ValidationException for a missing, malformed or other-region name or ARN.
    """
    if value is None:
        raise validation(f"1 validation error detected: Value null at '{where}' failed to satisfy "
                         "constraint: Member must not be null")
    if not isinstance(value, str):
        raise _serialization()
    if value.startswith("arn:") and arn_allowed:
        match = _parse_arn(value, region, None)
        owner, name = match.group(2), match.group(3)
    else:
        if not _TABLE_NAME_RE.fullmatch(value):
            raise validation(
                f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
            )
        owner, name = account, value
    schema, indexes = _lookup_table(owner, region, name)
    return TableRef(f"arn:aws:dynamodb:{region}:{owner}:table/{name}", name, owner, schema, indexes)


# -- attribute values and keys -------------------------------------------------------------


def _attribute_value(value: Any) -> tuple[str, Any]:
    """(type, value) of one AttributeValue, which must set exactly one type."""
    if not isinstance(value, dict):
        raise _serialization()
    if len(value) > 1:
        raise validation(_MORE_THAN_ONE_TYPE)
    if not value:
        raise validation(_NO_TYPE)
    ((tag, inner),) = value.items()
    if tag not in _VALUE_TYPES:
        raise validation(_NO_TYPE)
    return tag, inner


def _key_scalar(value: Any, name: str, expected: str, mismatch: str) -> str:
    """Return the text of a key AttributeValue, which must be one value of type ``expected``."""
    tag, inner = _attribute_value(value)
    if tag != expected:
        raise validation(mismatch.format(name=name, expected=expected, actual=tag))
    if not isinstance(inner, str):
        raise _serialization()
    if inner == "":
        raise _empty_key(name, tag)
    if tag == "N":
        return _canonical_number(inner)
    if tag == "B":
        try:
            raw = base64.b64decode(inner, validate=True)
        except (binascii.Error, ValueError):
            raise _serialization() from None
        return base64.b64encode(raw).decode()  # one spelling per value, as DynamoDB keys it
    return inner


def _empty_key(name: str, tag: str) -> WireError:
    kind = "binary" if tag == "B" else "string"
    return validation("One or more parameter values are not valid. The AttributeValue for a key "
                      f"attribute cannot contain an empty {kind} value. Key: {name}")


def _canonical_number(text: str) -> str:
    """DynamoDB's one spelling of a number (``"042"``, ``"42.0"``, ``"4.2E1"`` -> ``"42"``).

    DynamoDB (and moto) key items by the number's value, so conditions must see
    one spelling too, or ``"42.0"`` would slip past a Deny on ``"42"``.
    """
    if not _NUMBER_RE.fullmatch(text):
        raise validation(f"The parameter cannot be converted to a numeric value: {text}")
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise validation(f"The parameter cannot be converted to a numeric value: {text}") from None
    if number.is_zero():
        return "0"
    return format(number.normalize(), "f")


def _key_partition(key: Any, table: TableRef) -> str | None:
    """Return the partition-key value of a ``Key`` (None when the table's schema is unknown)."""
    if not isinstance(key, dict):
        raise _serialization()
    for value in key.values():
        _attribute_value(value)
    schema = table.schema
    if schema is None:
        return None
    for name in schema.names:  # DynamoDB names an empty key value before a schema mismatch
        value = key.get(name)
        if isinstance(value, dict) and len(value) == 1:
            ((tag, inner),) = value.items()
            if tag in ("S", "B") and inner == "":
                raise _empty_key(name, tag)
    if set(key) != set(schema.names):
        raise validation(_KEY_SCHEMA_MISMATCH)
    for name in schema.names:
        _key_scalar(key[name], name, schema.type_of(name), _KEY_SCHEMA_MISMATCH)
    return _key_scalar(key[schema.hash_key], schema.hash_key, schema.hash_type,
                       _KEY_SCHEMA_MISMATCH)


def _item_partition(item: Any, table: TableRef) -> str | None:
    """Return the partition-key value of a whole ``Item`` (None when the schema is unknown)."""
    if not isinstance(item, dict):
        raise _serialization()
    for value in item.values():
        _attribute_value(value)
    schema = table.schema
    if schema is None:
        return None
    for name in schema.names:
        if name not in item:
            raise validation(f"One or more parameter values were invalid: Missing the key {name} "
                             "in the item")
        _key_scalar(item[name], name, schema.type_of(name), _ITEM_TYPE_MISMATCH)
    return _key_scalar(item[schema.hash_key], schema.hash_key, schema.hash_type,
                       _ITEM_TYPE_MISMATCH)


def _batch_item_partition(item: Any, table: TableRef) -> str | None:
    """Return the partition-key value of a BatchWriteItem ``PutRequest`` item.

    Unlike PutItem, DynamoDB answers a batch item whose key attributes are missing,
    of the wrong type or not scalars with "The provided key element does not match
    the schema".
    """
    if not isinstance(item, dict):
        raise _serialization()
    for value in item.values():
        _attribute_value(value)
    if table.schema is None:
        return None
    return _key_partition({n: item[n] for n in table.schema.names if n in item}, table)


def _leading(values: list[str | None], known: bool = True) -> Any:
    """Return the dynamodb:LeadingKeys context value: the distinct values, or UNKNOWN."""
    if not known or any(v is None for v in values):
        return UNKNOWN
    return list(dict.fromkeys(str(v) for v in values))


# -- expressions ---------------------------------------------------------------------------

_EXPRESSION_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<hash>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)"
    r"|(?P<number>\d+)|(?P<op><=|>=|<>|=|<|>)|(?P<punct>[(),.\[\]+\-]))"
)


@dataclass(frozen=True)
class _Tok:
    """One token: ``text`` as written (quotes included), ``value`` unquoted for literals.

    ``space`` is the whitespace written before it (expressions only), so that an error
    can quote the expression as written.
    """

    kind: str
    text: str
    start: int
    value: str | None = None
    space: str = ""

    @property
    def val(self) -> str:
        return self.text if self.value is None else self.value

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind in ("name", "ident") else ""


def _expression_tokens(text: str, what: str) -> list[_Tok]:
    if len(text.encode()) > _MAX_EXPRESSION:
        raise validation(f"Invalid {what}: Expression size has exceeded the maximum allowed size; "
                         f"expression size: {len(text.encode())}")
    tokens: list[_Tok] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _EXPRESSION_TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad_character(text, position, tokens, what)
        kind = match.lastgroup or ""
        tokens.append(_Tok(kind, match.group(kind), match.start(kind),
                           space=text[match.start():match.start(kind)]))
        position = match.end()
    return tokens


def _bad_character(text: str, position: int, tokens: list[_Tok], what: str) -> WireError:
    """DynamoDB's syntax error for a character no token starts with.

    DynamoDB quotes from the previous token to the end of the next one, as written
    (``ADD hits : incr`` -> ``token: ":", near: "hits : incr"``).
    """
    bad_at = position + len(text[position:]) - len(text[position:].lstrip())
    before = text[tokens[-1].start:bad_at] if tokens else ""
    after = re.match(r"\s*\S*", text[bad_at + 1:])
    near = before + text[bad_at] + (after.group(0) if after else "")
    return validation(f'Invalid {what}: Syntax error; token: "{text[bad_at]}", near: "{near}"')


def _syntax(what: str, tokens: list[_Tok], i: int) -> WireError:
    token = tokens[i].text if i < len(tokens) else "<EOF>"
    around = tokens[max(0, i - 1):i + 2]  # DynamoDB quotes these as written
    near = "".join((t.space if j else "") + t.text for j, t in enumerate(around))
    return validation(f'Invalid {what}: Syntax error; token: "{token}", near: "{near}"')


@functools.lru_cache(maxsize=1)
def _reserved_words() -> frozenset[str]:
    """DynamoDB's reserved words (moto ships AWS's list), upper-cased."""
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    return frozenset(w.upper() for w in ReservedKeywords.get_reserved_keywords())


def _resolve_name(token: _Tok, names: dict[str, Any], what: str) -> str:
    """Return the attribute name ``token`` stands for (a ``#placeholder`` or a plain name)."""
    if token.kind == "name" and token.upper in _reserved_words():
        raise validation(f"Invalid {what}: Attribute name is a reserved keyword; reserved keyword: "
                         f"{token.text}")
    if token.kind == "hash":
        if token.text not in names:
            raise validation(f"Invalid {what}: An expression attribute name used in the document "
                             f"path is not defined; attribute name: {token.text}")
        resolved = names[token.text]
        if not isinstance(resolved, str):
            raise _serialization()
        return resolved
    return token.text


def _paths_top_level(expression: Any, names: dict[str, Any], what: str) -> list[str]:
    """Top-level attribute names of a projection (``a.b, #c[0].d`` -> ``a``, value of ``#c``)."""
    if expression is None:
        return []
    if not isinstance(expression, str):
        raise _serialization()
    if not expression.strip():
        raise validation(f"Invalid {what}: The expression can not be empty;")
    tokens = _expression_tokens(expression, what)
    out: list[str] = []
    i, expect_path = 0, True
    while i < len(tokens):
        token = tokens[i]
        if expect_path:
            if token.kind not in ("name", "hash"):
                raise _syntax(what, tokens, i)
            out.append(_resolve_name(token, names, what))
            i += 1
            while i < len(tokens) and tokens[i].text in (".", "["):
                if tokens[i].text == "." and i + 1 < len(tokens) and tokens[i + 1].kind in (
                    "name", "hash"
                ):
                    _resolve_name(tokens[i + 1], names, what)
                    i += 2
                elif (tokens[i].text == "[" and i + 2 < len(tokens) and tokens[i + 1].kind == "number"
                      and tokens[i + 2].text == "]"):
                    i += 3
                else:
                    raise _syntax(what, tokens, i + 1)
            expect_path = False
        elif token.text == ",":
            expect_path, i = True, i + 1
        else:
            raise _syntax(what, tokens, i)
    if expect_path:
        raise _syntax(what, tokens, len(tokens))
    return list(dict.fromkeys(out))


_UPDATE_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
_UPDATE_FUNCTIONS = ("if_not_exists", "list_append")


def _key_update(name: str) -> WireError:
    return validation(f"One or more parameter values were invalid: Cannot update attribute {name}. "
                      "This attribute is part of the key")


def _update_targets(tokens: list[_Tok], clauses: tuple[str, ...], names: dict[str, Any],
                    what: str) -> list[str]:
    """Top-level names of the paths an update writes.

    A written path is the first one after a clause keyword or after a comma outside
    parentheses and brackets.
    """
    out: list[str] = []
    depth, expect = 0, False
    for token in tokens:
        if token.kind in ("punct", "op") and token.text in ("(", "[", "{", "<<"):
            depth += 1
        elif token.kind in ("punct", "op") and token.text in (")", "]", "}", ">>"):
            depth -= 1
        elif depth == 0 and (token.kind in ("name", "ident") and token.upper in clauses
                             or token.kind == "punct" and token.text == ","):
            expect = True
            continue
        if expect:
            if token.kind in ("name", "hash"):
                out.append(_resolve_name(token, names, what))
            elif token.kind in ("ident", "qident"):
                out.append(token.val)
            expect = False
    return out


def _update_attributes(expression: Any, names: dict[str, Any], values: dict[str, Any],
                       key: tuple[str, ...] = ()) -> list[str]:
    """Top-level attribute names an UpdateExpression writes or reads (placeholders resolved).

    A write to a key attribute (``SET customer_id = :x``) is refused, as DynamoDB does.
    """
    what = "UpdateExpression"
    if not isinstance(expression, str):
        raise _serialization()
    if not expression.strip():
        raise validation(f"Invalid {what}: The expression can not be empty;")
    tokens = _expression_tokens(expression, what)
    if tokens[0].upper not in _UPDATE_CLAUSES:
        raise _syntax(what, tokens, 0)
    for target in _update_targets(tokens, _UPDATE_CLAUSES, names, what):
        if target in key:
            raise _key_update(target)
    out: list[str] = []
    for i, token in enumerate(tokens):
        previous = tokens[i - 1].text if i else ""
        following = tokens[i + 1].text if i + 1 < len(tokens) else ""
        if token.kind == "value":
            if token.text not in values:
                raise validation(f"Invalid {what}: An expression attribute value used in "
                                 f"expression is not defined; attribute value: {token.text}")
            continue
        if token.kind not in ("name", "hash"):
            continue
        if token.kind == "name" and token.upper in _UPDATE_CLAUSES and previous != ".":
            continue  # a clause keyword (attributes with these names need placeholders)
        if following == "(":
            if token.text not in _UPDATE_FUNCTIONS:
                raise validation(f"Invalid {what}: Invalid function name; function: {token.text}")
            continue
        name = _resolve_name(token, names, what)
        if previous == ".":
            continue  # a nested segment: only top-level names count
        out.append(name)
    return list(dict.fromkeys(out))


def _no_mixing(body: dict[str, Any]) -> None:
    """Refuse legacy parameters together with expressions, as DynamoDB does."""
    legacy = [n for n in _LEGACY_PARAMETERS if body.get(n) is not None]
    expressions = [n for n in _EXPRESSION_PARAMETERS if body.get(n) is not None]
    if legacy and expressions:
        raise validation(
            "Can not use both expression and non-expression parameters in the same request: "
            f"Non-expression parameters: {{{', '.join(legacy)}}} Expression parameters: "
            f"{{{', '.join(expressions)}}}"
        )
    for placeholders in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if body.get(placeholders) is not None:
            if not isinstance(body[placeholders], dict):
                raise _serialization()
            if not expressions:
                raise validation(f"1 validation error detected: {placeholders} can only be "
                                 "specified when using expressions")


def _names(body: dict[str, Any]) -> dict[str, Any]:
    return _get(body, "ExpressionAttributeNames", dict) or {}


def _values(body: dict[str, Any]) -> dict[str, Any]:
    return _get(body, "ExpressionAttributeValues", dict) or {}


def _read_attributes(body: dict[str, Any]) -> list[str]:
    """dynamodb:Attributes of a read: the projection's top-level names, or AttributesToGet."""
    attributes = _paths_top_level(body.get("ProjectionExpression"), _names(body),
                                  "ProjectionExpression")
    legacy = _get(body, "AttributesToGet", list)
    if legacy is not None:
        if not legacy or not all(isinstance(a, str) for a in legacy):
            raise validation("1 validation error detected: Value at 'attributesToGet' failed to "
                             "satisfy constraint: Member must have length greater than or equal to 1")
        attributes += [a for a in legacy if a not in attributes]
    return attributes


def _select(body: dict[str, Any], index: str | None) -> str:
    """Return the request's dynamodb:Select value, refusing the combinations DynamoDB refuses."""
    select = _get(body, "Select", str)
    if select is not None and select not in _SELECT_VALUES:
        raise validation(f"1 validation error detected: Value '{select}' at 'select' failed to "
                         "satisfy constraint: Member must satisfy enum value set: "
                         f"[{', '.join(_SELECT_VALUES)}]")
    projected = body.get("ProjectionExpression") is not None or body.get("AttributesToGet") is not None
    if select == "SPECIFIC_ATTRIBUTES" and not projected:
        raise validation("Must specify the AttributesToGet or ProjectionExpression when choosing to "
                         "get SPECIFIC_ATTRIBUTES")
    if select is not None and select != "SPECIFIC_ATTRIBUTES" and projected:
        which = ("ProjectionExpression" if body.get("ProjectionExpression") is not None
                 else "AttributesToGet")
        raise validation(f"Cannot specify the {which} when choosing to get {select}")
    if select is not None:
        return select
    if projected:
        return "SPECIFIC_ATTRIBUTES"
    return "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"


def _return_values(body: dict[str, Any], context: dict[str, Any], allowed: tuple[str, ...]) -> None:
    value = _get(body, "ReturnValues", str)
    if value is None:
        return
    if value not in _RETURN_VALUES:
        raise validation(f"1 validation error detected: Value '{value}' at 'returnValues' failed to "
                         "satisfy constraint: Member must satisfy enum value set: "
                         f"[{', '.join(_RETURN_VALUES)}]")
    if value not in allowed:
        raise validation("Return values set to invalid value")
    context["dynamodb:ReturnValues"] = value


def _consumed(body: dict[str, Any], context: dict[str, Any]) -> None:
    value = _get(body, "ReturnConsumedCapacity", str)
    if value is not None:
        context["dynamodb:ReturnConsumedCapacity"] = value


# -- Query key conditions ------------------------------------------------------------------

_CONDITION_FUNCTIONS = ("attribute_exists", "attribute_not_exists", "attribute_type", "contains",
                        "size")


@dataclass(frozen=True)
class _KeyCondition:
    name: str
    operator: str  # =, <, <=, >, >=, BETWEEN, BEGINS_WITH
    values: tuple[Any, ...]


def _parse_key_condition_expression(expression: str, names: dict[str, Any],
                                    values: dict[str, Any]) -> list[_KeyCondition]:
    """Return a KeyConditionExpression as its top-level AND-ed conditions (strict; else refused)."""
    what = "KeyConditionExpression"
    if not expression.strip():
        raise validation(f"Invalid {what}: The expression can not be empty;")
    tokens = _expression_tokens(expression, what)
    position = 0

    def peek(offset: int = 0) -> _Tok | None:
        return tokens[position + offset] if position + offset < len(tokens) else None

    def take() -> _Tok:
        nonlocal position
        if position >= len(tokens):
            raise _syntax(what, tokens, position)
        position += 1
        return tokens[position - 1]

    def expect(text: str) -> None:
        if take().text != text:
            raise _syntax(what, tokens, position - 1)

    def operand() -> str:
        token = take()
        if token.kind == "name" and token.upper in ("NOT", "OR", "AND", "IN", "BETWEEN"):
            raise validation(f"Invalid operator used in {what}: {token.upper}")
        if token.kind not in ("name", "hash"):
            raise _syntax(what, tokens, position - 1)
        name = _resolve_name(token, names, what)
        following = peek()
        if following is not None and following.text in (".", "["):
            raise validation("Query key condition not supported")  # key attributes are top level
        return name

    def value() -> Any:
        token = take()
        if token.kind != "value":
            raise _syntax(what, tokens, position - 1)
        if token.text not in values:
            raise validation(f"Invalid {what}: An expression attribute value used in expression "
                             f"is not defined; attribute value: {token.text}")
        return values[token.text]

    def condition() -> _KeyCondition:
        first = peek()
        second = peek(1)
        if first is not None and first.kind == "name" and second is not None and second.text == "(":
            if first.text != "begins_with":
                if first.text in _CONDITION_FUNCTIONS:
                    raise validation(f"Invalid operator used in {what}: {first.text}")
                raise validation(f"Invalid {what}: Invalid function name; function: {first.text}")
            take()
            expect("(")
            name = operand()
            expect(",")
            prefix = value()
            expect(")")
            return _KeyCondition(name, "BEGINS_WITH", (prefix,))
        name = operand()
        token = take()
        if token.kind == "op":
            if token.text == "<>":
                raise validation(f"Invalid operator used in {what}: <>")
            return _KeyCondition(name, token.text, (value(),))
        if token.upper == "BETWEEN":
            low = value()
            if take().upper != "AND":
                raise _syntax(what, tokens, position - 1)
            return _KeyCondition(name, "BETWEEN", (low, value()))
        if token.upper in ("IN", "OR", "NOT"):
            raise validation(f"Invalid operator used in {what}: {token.upper}")
        raise _syntax(what, tokens, position - 1)

    def conjunction() -> list[_KeyCondition]:
        out = primary()
        while (following := peek()) is not None and following.upper == "AND":
            take()
            out += primary()
        return out

    depth = 0

    def primary() -> list[_KeyCondition]:
        nonlocal depth
        following = peek()
        if following is not None and following.text == "(":
            depth += 1
            if depth > _MAX_NESTING:
                raise _syntax(what, tokens, position)
            take()
            out = conjunction()
            expect(")")
            depth -= 1
            return out
        if following is not None and following.upper == "NOT":
            raise validation(f"Invalid operator used in {what}: NOT")
        return [condition()]

    conditions = conjunction()
    if position < len(tokens):
        if tokens[position].upper in ("OR", "NOT"):
            raise validation(f"Invalid operator used in {what}: {tokens[position].upper}")
        raise _syntax(what, tokens, position)
    return conditions


def _legacy_key_conditions(conditions: dict[str, Any]) -> list[_KeyCondition]:
    out = []
    operators = {"EQ": "=", "LT": "<", "LE": "<=", "GT": ">", "GE": ">=", "BETWEEN": "BETWEEN",
                 "BEGINS_WITH": "BEGINS_WITH"}
    for name, condition in conditions.items():
        if not isinstance(condition, dict):
            raise _serialization()
        operator = _get(condition, "ComparisonOperator", str, required=True,
                        where=f"keyConditions.{name}.member.")
        arguments = _get(condition, "AttributeValueList", list) or []
        if operator not in operators:
            raise validation("Attempted conditional constraint is not an indexable operation")
        wanted = 2 if operator == "BETWEEN" else 1
        if len(arguments) != wanted:
            raise validation("One or more parameter values were invalid: Invalid number of "
                             f"argument(s) for the {operator} ComparisonOperator")
        out.append(_KeyCondition(name, operators[operator], tuple(arguments)))
    return out


def _query_partition(body: dict[str, Any], schema: KeySchema | None) -> str | None:
    """Return the partition-key value a Query is limited to (validated against ``schema``)."""
    expression = _get(body, "KeyConditionExpression", str)
    legacy = _get(body, "KeyConditions", dict)
    if expression is None and legacy is None:
        raise validation("Either the KeyConditions or KeyConditionExpression parameter must be "
                         "specified in the request.")
    if expression is not None:
        conditions = _parse_key_condition_expression(expression, _names(body), _values(body))
    else:
        conditions = _legacy_key_conditions(legacy or {})
    named = [c.name for c in conditions]
    if len(set(named)) < len(named):
        raise validation("KeyConditionExpressions must only contain one condition per key")
    if len(conditions) > 2 or not conditions:
        raise validation("Conditions can be of length 1 or 2 only")
    if schema is None:
        return None
    on_hash = [c for c in conditions if c.name == schema.hash_key]
    if not on_hash:
        raise validation(f"Query condition missed key schema element: {schema.hash_key}")
    if on_hash[0].operator != "=":
        raise validation("Query key condition not supported")
    for other in conditions:
        if other is on_hash[0]:
            continue
        if other.name != schema.range_key:
            if schema.range_key is not None:
                raise validation(f"Query condition missed key schema element: {schema.range_key}")
            raise validation("Query key condition not supported")
        for argument in other.values:
            _key_scalar(argument, other.name, str(schema.range_type), _CONDITION_TYPE_MISMATCH)
        if other.operator == "BEGINS_WITH" and schema.range_type == "N":
            raise validation("Invalid KeyConditionExpression: Incorrect operand type for operator "
                             "or function; operator or function: begins_with, operand type: N")
    return _key_scalar(on_hash[0].values[0], schema.hash_key, schema.hash_type,
                       _CONDITION_TYPE_MISMATCH)


# -- per-operation rules -------------------------------------------------------------------

Rule = Callable[[dict[str, Any], str, str], list[Access]]


def _on_table(action: str) -> Rule:
    def rule(body: dict[str, Any], account: str, region: str) -> list[Access]:
        table = table_ref(body.get("TableName"), account, region)
        return [Access(f"dynamodb:{action}", table.arn, table.account)]

    return rule


def _on_everything(action: str) -> Rule:
    def rule(body: dict[str, Any], account: str, region: str) -> list[Access]:
        return [Access(f"dynamodb:{action}", "*", account)]

    return rule


def _on_arn(action: str, member: str, kind: str) -> Rule:
    def rule(body: dict[str, Any], account: str, region: str) -> list[Access]:
        value = _get(body, member, str, required=True)
        match = _parse_arn(value, region, kind)
        return [Access(f"dynamodb:{action}", value, match.group(2))]

    return rule


def _create_table(body: dict[str, Any], account: str, region: str) -> list[Access]:
    table = table_ref(body.get("TableName"), account, region, arn_allowed=False)
    out = [Access("dynamodb:CreateTable", table.arn, table.account)]
    if body.get("Tags"):
        out.append(Access("dynamodb:TagResource", table.arn, table.account))
    if body.get("ResourcePolicy") is not None:
        out.append(Access("dynamodb:PutResourcePolicy", table.arn, table.account))
    return out


def _get_item_access(body: dict[str, Any], table: TableRef, action: str) -> Access:
    _no_mixing(body)
    context: dict[str, Any] = {}
    partition = _key_partition(_get(body, "Key", dict, required=True), table)
    context[LEADING_KEYS] = _leading([partition])
    attributes = _read_attributes(body)
    if attributes:
        context["dynamodb:Attributes"] = attributes
    _consumed(body, context)
    return Access(action, table.arn, table.account, context)


def _put_item_access(body: dict[str, Any], table: TableRef, action: str) -> Access:
    _no_mixing(body)
    item = _get(body, "Item", dict, required=True)
    context: dict[str, Any] = {LEADING_KEYS: _leading([_item_partition(item, table)])}
    if item:
        context["dynamodb:Attributes"] = list(item)
    _return_values(body, context, ("NONE", "ALL_OLD"))
    _consumed(body, context)
    return Access(action, table.arn, table.account, context)


def _update_item_access(body: dict[str, Any], table: TableRef, action: str,
                        expression_required: bool = False) -> Access:
    _no_mixing(body)
    key = _get(body, "Key", dict, required=True)
    context: dict[str, Any] = {LEADING_KEYS: _leading([_key_partition(key, table)])}
    attributes = list(key)
    expression = body.get("UpdateExpression")
    key_names = table.schema.names if table.schema is not None else tuple(key)
    if expression is not None:
        written = _update_attributes(expression, _names(body), _values(body), key_names)
        attributes += [a for a in written if a not in attributes]
    elif expression_required:
        _get(body, "UpdateExpression", str, required=True)
    updates = _get(body, "AttributeUpdates", dict)
    if updates:
        for name in updates:
            if name in key_names:
                raise _key_update(name)
        attributes += [a for a in updates if a not in attributes]
    context["dynamodb:Attributes"] = attributes
    _return_values(body, context, _RETURN_VALUES)
    _consumed(body, context)
    return Access(action, table.arn, table.account, context)


def _delete_item_access(body: dict[str, Any], table: TableRef, action: str) -> Access:
    _no_mixing(body)
    context: dict[str, Any] = {
        LEADING_KEYS: _leading([_key_partition(_get(body, "Key", dict, required=True), table)])
    }
    _return_values(body, context, ("NONE", "ALL_OLD"))
    _consumed(body, context)
    return Access(action, table.arn, table.account, context)


def _item_rule(build: Callable[[dict[str, Any], TableRef, str], Access], action: str) -> Rule:
    def rule(body: dict[str, Any], account: str, region: str) -> list[Access]:
        table = table_ref(body.get("TableName"), account, region)
        return [build(body, table, f"dynamodb:{action}")]

    return rule


def _index(body: dict[str, Any], table: TableRef) -> tuple[str | None, str, KeySchema | None]:
    index = _get(body, "IndexName", str)
    if index is None:
        return None, table.arn, table.schema
    if not _TABLE_NAME_RE.fullmatch(index):
        raise validation(f"1 validation error detected: Value '{index}' at 'indexName' failed to "
                         "satisfy constraint: Member must satisfy regular expression pattern: "
                         "[a-zA-Z0-9_.-]+")
    return index, table.index_arn(index), table.indexes.get(index)


def _query(body: dict[str, Any], account: str, region: str) -> list[Access]:
    _no_mixing(body)
    table = table_ref(body.get("TableName"), account, region)
    index, resource, schema = _index(body, table)
    select = _select(body, index)  # DynamoDB refuses a bad Select before it reads the key condition
    partition = _query_partition(body, schema)
    attributes = _read_attributes(body)
    context: dict[str, Any] = {LEADING_KEYS: _leading([partition])}
    if attributes:
        context["dynamodb:Attributes"] = attributes
    context["dynamodb:Select"] = select
    _consumed(body, context)
    return [Access("dynamodb:Query", resource, table.account, context)]


def _scan(body: dict[str, Any], account: str, region: str) -> list[Access]:
    _no_mixing(body)
    table = table_ref(body.get("TableName"), account, region)
    index, resource, _ = _index(body, table)
    select = _select(body, index)
    attributes = _read_attributes(body)
    context: dict[str, Any] = {}  # as in AWS: a Scan carries no dynamodb:LeadingKeys
    if attributes:
        context["dynamodb:Attributes"] = attributes
    context["dynamodb:Select"] = select
    _consumed(body, context)
    return [Access("dynamodb:Scan", resource, table.account, context)]


def _request_items(body: dict[str, Any]) -> dict[str, Any]:
    items = _get(body, "RequestItems", dict, required=True)
    _length(items, "RequestItems", 1, 100)
    return items


# A batch is checked as DynamoDB checks it: first its shape (table names, the number of keys
# or requests per table and in all), then each key against its table's schema.


def _batch_get(body: dict[str, Any], account: str, region: str) -> list[Access]:
    entries: list[tuple[TableRef, dict[str, Any], list[Any]]] = []
    total = 0
    for name, entry in _request_items(body).items():
        table = table_ref(name, account, region, where="requestItems")
        if not isinstance(entry, dict):
            raise _serialization()
        where = f"RequestItems.{name}.member.Keys"
        if entry.get("Keys") is None:
            raise validation(f"1 validation error detected: Value null at '{where}' failed to "
                             "satisfy constraint: Member must not be null")
        keys = _get(entry, "Keys", list)
        _length(keys, where, 1, 100)
        total += len(keys)
        entries.append((table, entry, keys))
    if total > 100:
        raise validation("Too many items requested for the BatchGetItem call")
    out = []
    for table, entry, keys in entries:
        _no_mixing(entry)
        partitions = [_key_partition(key, table) for key in keys]
        context: dict[str, Any] = {LEADING_KEYS: _leading(partitions)}
        attributes = _read_attributes(entry)
        if attributes:
            context["dynamodb:Attributes"] = attributes
        _consumed(body, context)
        out.append(Access("dynamodb:BatchGetItem", table.arn, table.account, context))
    return out


def _batch_write(body: dict[str, Any], account: str, region: str) -> list[Access]:
    entries: list[tuple[TableRef, list[tuple[str, dict[str, Any]]]]] = []
    total = 0
    for name, writes in _request_items(body).items():
        table = table_ref(name, account, region, where="requestItems")
        if not isinstance(writes, list):
            raise _serialization()
        _length(writes, f"RequestItems.{name}.member", 1, 25)
        total += len(writes)
        requests: list[tuple[str, dict[str, Any]]] = []
        for write in writes:
            if not isinstance(write, dict):
                raise _serialization()
            present = [k for k in ("PutRequest", "DeleteRequest") if write.get(k) is not None]
            if len(present) != 1 or len(write) != 1:
                raise validation("1 validation error detected: A WriteRequest must contain "
                                 "exactly one of PutRequest or DeleteRequest")
            request = write[present[0]]
            if not isinstance(request, dict):
                raise _serialization()
            requests.append((present[0], request))
        entries.append((table, requests))
    if total > 25:
        raise validation("Too many items requested for the BatchWriteItem call")
    out = []
    for table, requests in entries:
        partitions: list[str | None] = []
        attributes: list[str] = []
        for kind, request in requests:
            if kind == "PutRequest":
                item = _get(request, "Item", dict, required=True)
                partitions.append(_batch_item_partition(item, table))
                attributes += [a for a in item if a not in attributes]
            else:
                partitions.append(_key_partition(_get(request, "Key", dict, required=True), table))
        context: dict[str, Any] = {LEADING_KEYS: _leading(partitions)}
        if attributes:
            context["dynamodb:Attributes"] = attributes
        _consumed(body, context)
        out.append(Access("dynamodb:BatchWriteItem", table.arn, table.account, context))
    return out


def _transact_items(body: dict[str, Any]) -> list[Any]:
    items = _get(body, "TransactItems", list, required=True)
    _length(items, "transactItems", 1, 100)
    return items


def _transact_get(body: dict[str, Any], account: str, region: str) -> list[Access]:
    out = []
    for entry in _transact_items(body):
        if not isinstance(entry, dict) or set(entry) != {"Get"} or not isinstance(entry["Get"], dict):
            raise validation("1 validation error detected: TransactGetItem must contain exactly "
                             "one Get")
        get = entry["Get"]
        table = table_ref(get.get("TableName"), account, region)
        out.append(_get_item_access(get, table, "dynamodb:GetItem"))
    return out


def _condition_check_access(body: dict[str, Any], table: TableRef, action: str) -> Access:
    _get(body, "ConditionExpression", str, required=True)
    return _delete_item_access(body, table, action)


_TRANSACT_WRITES: dict[str, tuple[str, Callable[..., Access]]] = {
    "Put": ("PutItem", _put_item_access),
    "Update": ("UpdateItem", lambda b, t, a: _update_item_access(b, t, a, True)),
    "Delete": ("DeleteItem", _delete_item_access),
    "ConditionCheck": ("ConditionCheckItem", _condition_check_access),
}


def _transact_write(body: dict[str, Any], account: str, region: str) -> list[Access]:
    out = []
    for entry in _transact_items(body):
        if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in _TRANSACT_WRITES:
            raise validation("TransactItems can only contain one of Check, Put, Update or Delete")
        kind, request = next(iter(entry.items()))
        if not isinstance(request, dict):
            raise _serialization()
        action, build = _TRANSACT_WRITES[kind]
        table = table_ref(request.get("TableName"), account, region)
        out.append(build(request, table, f"dynamodb:{action}"))
    return out


def _restore_item_accesses(table: TableRef) -> list[Access]:
    """List the item actions a restore asks for on the target table it fills, for all keys."""
    return [Access(f"dynamodb:{action}", table.arn, table.account, {LEADING_KEYS: UNKNOWN})
            for action in _RESTORE_ITEM_ACTIONS]


def _restore_from_backup(body: dict[str, Any], account: str, region: str) -> list[Access]:
    backup = _get(body, "BackupArn", str, required=True)
    match = _parse_arn(backup, region, "backup")
    target = table_ref(body.get("TargetTableName"), account, region, where="targetTableName",
                       arn_allowed=False)
    return [Access("dynamodb:RestoreTableFromBackup", backup, match.group(2)),
            Access("dynamodb:RestoreTableFromBackup", target.arn, target.account),
            *_restore_item_accesses(target)]


def _restore_to_point_in_time(body: dict[str, Any], account: str, region: str) -> list[Access]:
    arn, name = _get(body, "SourceTableArn", str), _get(body, "SourceTableName", str)
    if (arn is None) == (name is None):
        raise validation("Exactly one of SourceTableArn or SourceTableName must be specified")
    source = table_ref(arn if arn is not None else name, account, region, where="sourceTableName",
                       arn_allowed=arn is not None)
    if arn is not None and not arn.startswith("arn:"):
        raise validation(f"Invalid ARN: {arn!r} is not a valid DynamoDB table ARN")
    target = table_ref(body.get("TargetTableName"), account, region, where="targetTableName",
                       arn_allowed=False)
    return [Access("dynamodb:RestoreTableToPointInTime", source.arn, source.account),
            Access("dynamodb:RestoreTableToPointInTime", target.arn, target.account),
            *_restore_item_accesses(target)]


def _export(body: dict[str, Any], account: str, region: str) -> list[Access]:
    value = _get(body, "TableArn", str, required=True)
    match = _parse_arn(value, region, None)
    return [Access("dynamodb:ExportTableToPointInTime", value, match.group(2))]


# -- PartiQL -------------------------------------------------------------------------------

_PARTIQL_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<line_comment>--[^\n]*)|(?P<block_comment>/\*.*?\*/)"""
    r"""|(?P<qident>"(?:[^"]|"")*")|(?P<string>'(?:[^']|'')*')"""
    r"""|(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"""
    r"""|(?P<ident>[A-Za-z_][A-Za-z0-9_$]*)|(?P<param>\?)"""
    r"""|(?P<op><<|>>|<=|>=|<>|!=|\|\||[=<>+\-*/%])|(?P<punct>[.,()\[\]{}:;])""",
    re.DOTALL,
)
_STATEMENT_KEYWORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "EXISTS")
_PARTIQL_ACTIONS = {"SELECT": "PartiQLSelect", "INSERT": "PartiQLInsert",
                    "UPDATE": "PartiQLUpdate", "DELETE": "PartiQLDelete"}


def _ill_formed(detail: str) -> WireError:
    return validation(_NOT_WELL_FORMED + detail)


def partiql_tokens(statement: str) -> list[_Tok]:
    """Tokens of a PartiQL statement (comments and whitespace dropped); strict.

    The one reading of a statement: the authorization here and the executor
    (``_dynamodb.translate_select``) both tokenize with it.
    """
    tokens: list[_Tok] = []
    position = 0
    while position < len(statement):
        match = _PARTIQL_TOKEN.match(statement, position)
        if match is None:
            if statement.startswith("/*", position):
                raise _ill_formed("Unterminated comment")
            if statement[position] in "\"'":
                raise _ill_formed("Unterminated quoted text")
            raise _ill_formed(f"Unexpected character: {statement[position]!r}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "qident":
            tokens.append(_Tok("qident", text, match.start(), text[1:-1].replace('""', '"')))
        elif kind == "string":
            tokens.append(_Tok("string", text, match.start(), text[1:-1].replace("''", "'")))
        elif kind not in ("space", "line_comment", "block_comment"):
            tokens.append(_Tok(kind, text, match.start()))
        position = match.end()
    return tokens


def _closing(tokens: list[_Tok], i: int) -> int:
    """Index of the bracket closing the one at ``i``."""
    pairs = {"(": ")", "[": "]", "{": "}", "<<": ">>"}
    stack: list[str] = []
    for j in range(i, len(tokens)):
        text = tokens[j].text if tokens[j].kind in ("punct", "op") else ""
        if text in pairs:
            stack.append(pairs[text])
        elif text in pairs.values():
            if not stack or stack.pop() != text:
                raise _ill_formed(f"Unbalanced {text!r}")
            if not stack:
                return j
    raise _ill_formed("Unbalanced brackets")


def _depth_zero(tokens: list[_Tok]) -> list[int]:
    """Nesting depth of each token (brackets of every kind)."""
    depth, out = 0, []
    for token in tokens:
        text = token.text if token.kind in ("punct", "op") else ""
        if text in (")", "]", "}", ">>"):
            depth -= 1
            if depth < 0:
                raise _ill_formed(f"Unbalanced {text!r}")
        out.append(depth)
        if text in ("(", "[", "{", "<<"):
            depth += 1
    if depth:
        raise _ill_formed("Unbalanced brackets")
    return out


@dataclass
class _Statement:
    """A PartiQL statement attributed to one table (or index) and, if pinned, its partitions."""

    kind: str  # SELECT, INSERT, UPDATE, DELETE
    table: TableRef
    index: str | None
    partitions: list[str] | None  # None: not pinned by an equality
    attributes: list[str] | None  # None: unknown
    schema: KeySchema | None


def _identifier(token: _Tok | None) -> str:
    if token is None or token.kind not in ("ident", "qident"):
        raise _ill_formed("Expected identifier")
    if token.kind == "ident" and token.upper in (
        "WHERE", "SET", "REMOVE", "VALUE", "FROM", "INTO", "RETURNING", "AND", "OR", "NOT"
    ):
        raise _ill_formed(f"Expected identifier, found keyword {token.text}")
    return token.val


def _literal(tokens: list[_Tok], parameters: list[Any], positions: dict[int, int]) -> tuple[bool, str | None]:
    """(is a literal, its key text) for a one-value token run (``'a'``, ``5``, ``-5``, ``?``)."""
    if len(tokens) == 2 and tokens[0].text == "-" and tokens[1].kind == "number":
        return True, _canonical_number("-" + tokens[1].text)
    if len(tokens) != 1:
        return False, None
    token = tokens[0]
    if token.kind == "number":
        return True, _canonical_number(token.text)
    if token.kind == "string":
        return True, token.val
    if token.kind == "param":
        value = parameters[positions[token.start]]
        tag, inner = _attribute_value(value)
        if tag in ("S", "N", "B") and isinstance(inner, str) and inner:
            return True, _key_scalar(value, "?", tag, "")
        return True, None  # a parameter that cannot be a key value: matches nothing
    return False, None


def _strip_parentheses(tokens: list[_Tok]) -> list[_Tok]:
    """``tokens`` without the parentheses that wrap all of them (``((a = 1))`` -> ``a = 1``)."""
    partner: dict[int, int] = {}
    stack: list[int] = []
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text == "(":
            stack.append(i)
        elif token.kind == "punct" and token.text == ")" and stack:
            partner[stack.pop()] = i
    low, high = 0, len(tokens) - 1
    while low < high and tokens[low].text == "(" and partner.get(low) == high:
        low, high = low + 1, high - 1
    return tokens[low:high + 1]


def _pinned(where: list[_Tok], key: str, parameters: list[Any],
            positions: dict[int, int]) -> list[str] | None:
    """Values a WHERE clause pins ``key`` to with ``=`` / ``IN`` at the top level, else None.

    Only top-level conjuncts of exactly ``key = value``, ``value = key`` or ``key IN
    [values]`` count; any top-level OR makes the clause unattributable.
    """
    if not where:
        return None
    depths = _depth_zero(where)
    conjuncts: list[list[_Tok]] = [[]]
    pending_between = False
    for token, depth in zip(where, depths, strict=True):
        if depth == 0 and token.kind == "ident":
            if token.upper == "OR":
                return None
            if token.upper == "BETWEEN":
                pending_between = True
            elif token.upper == "AND":
                if pending_between:
                    pending_between = False
                else:
                    conjuncts.append([])
                    continue
        conjuncts[-1].append(token)
    found: list[str] | None = None

    def is_key(token: _Tok) -> bool:
        return token.kind in ("ident", "qident") and token.val == key and not (
            token.kind == "ident" and token.upper in ("NOT", "AND", "OR", "IN", "BETWEEN"))

    for raw in conjuncts:
        conjunct = _strip_parentheses(raw)
        values: list[str | None] | None = None
        if len(conjunct) >= 3 and conjunct[1].text == "=" and conjunct[1].kind == "op":
            if is_key(conjunct[0]):
                ok, value = _literal(conjunct[2:], parameters, positions)
                values = [value] if ok else None
            elif is_key(conjunct[-1]):
                ok, value = _literal(conjunct[:-2], parameters, positions)
                values = [value] if ok else None
        elif (len(conjunct) >= 4 and is_key(conjunct[0]) and conjunct[1].upper == "IN"
              and conjunct[2].text in ("[", "(") and _closing(conjunct, 2) == len(conjunct) - 1):
            inner = conjunct[3:-1]
            items: list[list[_Tok]] = [[]]
            for token in inner:
                if token.text == "," and token.kind == "punct":
                    items.append([])
                else:
                    items[-1].append(token)
            literals = [_literal(item, parameters, positions) for item in items]
            if all(ok for ok, _ in literals):
                values = [value for _, value in literals]
        if values is None:
            continue
        kept = [v for v in values if v is not None]
        found = kept if found is None else list(dict.fromkeys(found + kept))
    return found


def _projection(tokens: list[_Tok]) -> list[str] | None:
    """Top-level names of a SELECT list; [] for ``*``; None if not plain paths."""
    if len(tokens) == 1 and tokens[0].text == "*":
        return []
    out: list[str] = []
    i, expect_path = 0, True
    while i < len(tokens):
        token = tokens[i]
        if expect_path:
            if token.kind not in ("ident", "qident"):
                return None
            out.append(token.val)
            i += 1
            while i < len(tokens) and tokens[i].text in (".", "["):
                if tokens[i].text == "." and i + 1 < len(tokens) and tokens[i + 1].kind in (
                    "ident", "qident"
                ):
                    i += 2
                elif (tokens[i].text == "[" and i + 2 < len(tokens)
                      and tokens[i + 1].kind in ("number", "string") and tokens[i + 2].text == "]"):
                    i += 3
                else:
                    return None
            expect_path = False
        elif token.text == "," and token.kind == "punct":
            expect_path, i = True, i + 1
        else:
            return None
    return list(dict.fromkeys(out)) if not expect_path else None


def _keyword_at(tokens: list[_Tok], depths: list[int], word: str, start: int = 0) -> int | None:
    for i in range(start, len(tokens)):
        if depths[i] == 0 and tokens[i].kind == "ident" and tokens[i].upper == word:
            return i
    return None


def _parse_statement(statement: Any, parameters: Any, account: str, region: str, *,
                     allow_exists: bool) -> _Statement:
    """Attribute one PartiQL statement to its table, or refuse it."""
    if not isinstance(statement, str):
        raise _serialization() if statement is not None else validation(
            "1 validation error detected: Value null at 'statement' failed to satisfy "
            "constraint: Member must not be null")
    if parameters is not None and not isinstance(parameters, list):
        raise _serialization()
    parameters = parameters or []
    if len(statement) > _MAX_STATEMENT:
        raise validation("1 validation error detected: Value at 'statement' failed to satisfy "
                         f"constraint: Member must have length less than or equal to {_MAX_STATEMENT}")
    for parameter in parameters:
        _attribute_value(parameter)
    tokens = partiql_tokens(statement)
    params = [t for t in tokens if t.kind == "param"]
    if len(params) != len(parameters):
        raise validation("Number of parameters in request and statement don't match.")
    positions = {t.start: i for i, t in enumerate(params)}
    if tokens and tokens[-1].text == ";":
        tokens = tokens[:-1]
    if not tokens:
        raise _ill_formed("Unexpected end of statement")
    if any(t.text == ";" for t in tokens):
        raise _ill_formed("Unexpected token ';': one statement per request")
    if tokens[0].upper == "EXISTS":
        if not allow_exists:
            raise _ill_formed("Unexpected keyword EXISTS")
        if len(tokens) < 3 or tokens[1].text != "(" or _closing(tokens, 1) != len(tokens) - 1:
            raise _ill_formed("EXISTS must wrap one SELECT")
        tokens = tokens[2:-1]
        if not tokens or tokens[0].upper != "SELECT":
            raise _ill_formed("EXISTS must wrap one SELECT")
    kind = tokens[0].upper
    if kind not in _PARTIQL_ACTIONS:
        raise _ill_formed(f"Unexpected keyword {tokens[0].text}" if tokens[0].kind == "ident"
                          else f"Unexpected token {tokens[0].text!r}")
    if any(t.kind == "ident" and t.upper in _STATEMENT_KEYWORDS for t in tokens[1:]):
        raise _ill_formed("nested statements are not supported")
    depths = _depth_zero(tokens)
    froms = [i for i, t in enumerate(tokens) if t.kind == "ident" and t.upper == "FROM"]
    index: str | None = None
    attributes: list[str] | None = []
    where: list[_Tok] = []
    if kind == "SELECT":
        if len(froms) != 1 or depths[froms[0]] != 0:
            raise _ill_formed("a SELECT needs exactly one FROM")
        f = froms[0]
        attributes = _projection(tokens[1:f])
        name = _identifier(tokens[f + 1] if f + 1 < len(tokens) else None)
        rest = f + 2
        if rest < len(tokens) and tokens[rest].text == ".":
            index = _identifier(tokens[rest + 1] if rest + 1 < len(tokens) else None)
            rest += 2
        if rest < len(tokens):
            if tokens[rest].upper != "WHERE":
                raise _ill_formed(f"Unexpected token {tokens[rest].text!r} after the table name")
            where = tokens[rest + 1:]
            order = _keyword_at(where, _depth_zero(where), "ORDER")
            if order is not None:  # WHERE ... ORDER BY sort [ASC|DESC]
                if order + 1 >= len(where) or where[order + 1].upper != "BY":
                    raise _ill_formed("Expected BY after ORDER")
                where = where[:order]
            if not where:
                raise _ill_formed("Unexpected end of statement")
    elif kind == "INSERT":
        if froms or len(tokens) < 5 or tokens[1].upper != "INTO":
            raise _ill_formed("Expected INSERT INTO table VALUE {...}")
        name = _identifier(tokens[2])
        if tokens[3].upper != "VALUE" or tokens[4].text != "{" or _closing(tokens, 4) != len(tokens) - 1:
            raise _ill_formed("Expected INSERT INTO table VALUE {...}")
        attributes = []
        entries: dict[str, list[_Tok]] = {}
        body, body_depths = tokens[5:-1], depths[5:-1]
        current: list[_Tok] = []
        for token, depth in zip(body + [_Tok("punct", ",", -1)], body_depths + [1], strict=True):
            if depth == 1 and token.kind == "punct" and token.text == ",":
                if not current:
                    raise _ill_formed("Empty entry in the item")
                if len(current) < 3 or current[0].kind != "string" or current[1].text != ":":
                    raise _ill_formed("Expected 'name': value in the item")
                if current[0].val in entries:
                    raise _ill_formed(f"Duplicate attribute {current[0].val!r} in the item")
                entries[current[0].val] = current[2:]
                attributes.append(current[0].val)
                current = []
            else:
                current.append(token)
    elif kind == "UPDATE":
        if froms:
            raise _ill_formed("Unexpected FROM in an UPDATE")
        name = _identifier(tokens[1] if len(tokens) > 1 else None)
        if len(tokens) < 3 or tokens[2].upper not in ("SET", "REMOVE"):
            raise _ill_formed("Expected SET or REMOVE after the table name")
        attributes = None  # the written paths are not reduced here: conditions on them fail closed
        w = _keyword_at(tokens, depths, "WHERE", 3)
        end = _keyword_at(tokens, depths, "RETURNING", 3) or len(tokens)
        where = tokens[w + 1:end] if w is not None else []
        targets = _update_targets(tokens[2:w if w is not None else end], ("SET", "REMOVE"), {},
                                  "UpdateExpression")
    else:  # DELETE
        if len(froms) != 1 or froms[0] != 1:
            raise _ill_formed("Expected DELETE FROM table WHERE ...")
        name = _identifier(tokens[2] if len(tokens) > 2 else None)
        attributes = []
        if len(tokens) < 4 or tokens[3].upper != "WHERE":
            raise _ill_formed("Expected WHERE after the table name")
        end = _keyword_at(tokens, depths, "RETURNING", 4) or len(tokens)
        where = tokens[4:end]
    table = table_ref(name, account, region)
    schema = table.schema if index is None else table.indexes.get(index)
    if kind == "UPDATE" and schema is not None:  # no such table: DynamoDB answers not found
        for target in targets:
            if target in schema.names:
                raise _key_update(target)
    partitions: list[str] | None = None
    if schema is not None:
        if kind == "INSERT":
            for key in schema.names:
                value = entries.get(key)
                ok, text = _literal(value or [], parameters, positions)
                if value is None or not ok or text is None:
                    raise validation(f"One or more parameter values were invalid: Missing the key "
                                     f"{key} in the item")
                if key == schema.hash_key:
                    partitions = [text]
        else:
            partitions = _pinned(where, schema.hash_key, parameters, positions)
            if kind in ("UPDATE", "DELETE") and (partitions is None or (
                schema.range_key is not None
                and _pinned(where, schema.range_key, parameters, positions) is None
            )):
                raise validation(_PARTIQL_KEY)
    return _Statement(kind, table, index, partitions, attributes, schema)


def _statement_access(parsed: _Statement) -> Access:
    resource = parsed.table.arn if parsed.index is None else parsed.table.index_arn(parsed.index)
    context: dict[str, Any] = {
        LEADING_KEYS: UNKNOWN if parsed.partitions is None else list(parsed.partitions)
    }
    if parsed.attributes is None:
        context["dynamodb:Attributes"] = UNKNOWN
    elif parsed.attributes:
        context["dynamodb:Attributes"] = parsed.attributes
    if parsed.kind == "SELECT":
        context["dynamodb:FullTableScan"] = (
            UNKNOWN if parsed.schema is None else parsed.partitions is None
        )
    return Access(f"dynamodb:{_PARTIQL_ACTIONS[parsed.kind]}", resource, parsed.table.account,
                  context)


def _execute_statement(body: dict[str, Any], account: str, region: str) -> list[Access]:
    parsed = _parse_statement(body.get("Statement"), body.get("Parameters"), account, region,
                              allow_exists=False)
    return [_statement_access(parsed)]


def _statements(body: dict[str, Any], member: str, high: int, account: str, region: str,
                allow_exists: bool) -> list[Access]:
    statements = _get(body, member, list, required=True)
    _length(statements, _camel(member), 1, high)
    out = []
    for entry in statements:
        if not isinstance(entry, dict):
            raise _serialization()
        parsed = _parse_statement(entry.get("Statement"), entry.get("Parameters"), account, region,
                                  allow_exists=allow_exists)
        out.append(_statement_access(parsed))
    return out


def _batch_execute_statement(body: dict[str, Any], account: str, region: str) -> list[Access]:
    return _statements(body, "Statements", 25, account, region, False)


def _execute_transaction(body: dict[str, Any], account: str, region: str) -> list[Access]:
    return _statements(body, "TransactStatements", 100, account, region, True)


#: Every DynamoDB operation the sandbox serves, with the rule that authorizes it.
_RULES: dict[str, Rule] = {
    # account level: no resource-level permissions in IAM
    "ListTables": _on_everything("ListTables"),
    "DescribeLimits": _on_everything("DescribeLimits"),
    "DescribeEndpoints": _on_everything("DescribeEndpoints"),
    "ListBackups": _on_everything("ListBackups"),
    "ListExports": _on_everything("ListExports"),
    # control plane, on the table
    "CreateTable": _create_table,
    "DeleteTable": _on_table("DeleteTable"),
    "DescribeTable": _on_table("DescribeTable"),
    "UpdateTable": _on_table("UpdateTable"),
    "DescribeTimeToLive": _on_table("DescribeTimeToLive"),
    "UpdateTimeToLive": _on_table("UpdateTimeToLive"),
    "DescribeContinuousBackups": _on_table("DescribeContinuousBackups"),
    "UpdateContinuousBackups": _on_table("UpdateContinuousBackups"),
    "CreateBackup": _on_table("CreateBackup"),
    "DescribeBackup": _on_arn("DescribeBackup", "BackupArn", "backup"),
    "DeleteBackup": _on_arn("DeleteBackup", "BackupArn", "backup"),
    "RestoreTableFromBackup": _restore_from_backup,
    "RestoreTableToPointInTime": _restore_to_point_in_time,
    "ExportTableToPointInTime": _export,
    "DescribeExport": _on_arn("DescribeExport", "ExportArn", "export"),
    # on the ResourceArn (a table or its stream)
    "PutResourcePolicy": _on_arn("PutResourcePolicy", "ResourceArn", "table|stream"),
    "GetResourcePolicy": _on_arn("GetResourcePolicy", "ResourceArn", "table|stream"),
    "DeleteResourcePolicy": _on_arn("DeleteResourcePolicy", "ResourceArn", "table|stream"),
    "TagResource": _on_arn("TagResource", "ResourceArn", "table|stream"),
    "UntagResource": _on_arn("UntagResource", "ResourceArn", "table|stream"),
    "ListTagsOfResource": _on_arn("ListTagsOfResource", "ResourceArn", "table|stream"),
    # items
    "GetItem": _item_rule(_get_item_access, "GetItem"),
    "PutItem": _item_rule(_put_item_access, "PutItem"),
    "UpdateItem": _item_rule(_update_item_access, "UpdateItem"),
    "DeleteItem": _item_rule(_delete_item_access, "DeleteItem"),
    "Query": _query,
    "Scan": _scan,
    "BatchGetItem": _batch_get,
    "BatchWriteItem": _batch_write,
    "TransactGetItems": _transact_get,
    "TransactWriteItems": _transact_write,
    # PartiQL: the PartiQL* actions on each table or index a statement names
    "ExecuteStatement": _execute_statement,
    "BatchExecuteStatement": _batch_execute_statement,
    "ExecuteTransaction": _execute_transaction,
}

#: The DynamoDB operations the sandbox serves; any other is an UnknownOperationException.
SUPPORTED_OPERATIONS: frozenset[str] = frozenset(_RULES)


def dynamodb_accesses(operation: str, body: dict[str, Any], account: str, region: str) -> list[Access]:
    """Return the authorization questions of one DynamoDB request, as AWS asks them.

    Parameters
    ----------
    operation : str
        The exact DynamoDB operation name (``"Query"``).
    body : dict
        The request's parsed JSON object.
    account : str
        The caller's account (tables named without an ARN are in it).
    region : str
        The request's region (a table ARN must name the same one).

    Returns
    -------
    list of Access
        One question per action and resource (never empty); every one must be allowed.
        A context value of :data:`~xacct_nb._evaluator.UNKNOWN` marks a key that applies
        but cannot be known: conditions on it fail closed.

    Raises
    ------
    WireError
        ``UnknownOperationException`` for an operation the sandbox does not serve;
        DynamoDB's ``ValidationException`` (or ``SerializationException``) for a request
        that cannot be attributed unambiguously to tables, keys and context.
    """
    rule = _RULES.get(operation)
    if rule is None:
        raise WireError(400, "UnknownOperationException", "", "dynamodb")
    if not isinstance(body, dict):
        raise _serialization()
    accesses = rule(body, account, region)
    if not accesses:  # never: each rule names at least one resource; fail closed regardless
        raise validation("The request names no resource")
    owners = {a.account for a in accesses}
    if len(owners) > 1:
        raise validation("One request may only name tables of one account; this one names "
                         f"tables of accounts {', '.join(sorted(owners))}")
    return accesses


def iam_access(action: str, form: dict[str, str], account: str) -> Access:
    """Return the resource an IAM call is about (a role, a user, a policy, or '*')."""
    if "RoleName" in form:
        resource = f"arn:aws:iam::{account}:role/{form['RoleName']}"
    elif "UserName" in form:
        resource = f"arn:aws:iam::{account}:user/{form['UserName']}"
    elif "PolicyArn" in form:
        resource = form["PolicyArn"]
    else:
        resource = "*"
    return Access(f"iam:{action}", resource, account)


# -- S3 (the buckets that table exports are written to) -----------------------------------

#: Bucket-level subresources whose IAM action is not just Get/Put/Delete + "Bucket" + name.
_S3_BUCKET_ACTIONS = {
    ("GET", "uploads"): "s3:ListBucketMultipartUploads",
    ("GET", "location"): "s3:GetBucketLocation",
    ("GET", "versions"): "s3:ListBucketVersions",
    ("POST", "delete"): "s3:DeleteObject",
    ("GET", "encryption"): "s3:GetEncryptionConfiguration",
    ("PUT", "encryption"): "s3:PutEncryptionConfiguration",
}


def s3_access(method: str, path: str, query: str, headers: dict[str, str], account: str) -> Access:
    """Return the IAM action and resource of one S3 REST request (path-style addressing).

    ``GET /bucket`` is ``s3:ListBucket`` (with ``s3:prefix``), ``GET
    /bucket/key`` ``s3:GetObject``, ``PUT /bucket/key`` ``s3:PutObject``,
    ``DELETE /bucket/key?uploadId=`` ``s3:AbortMultipartUpload``, and a bucket
    subresource ``?policy`` / ``?acl`` / ... ``s3:{Get,Put,Delete}Bucket<Name>``.
    """
    params = {k: v[0] if v else "" for k, v in parse_qs(query, keep_blank_values=True).items()}
    bucket, _, key = path.lstrip("/").partition("/")
    method = method.upper()
    if not bucket:
        return Access("s3:ListAllMyBuckets", "*", account)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    context: dict[str, Any] = {}
    if headers.get("x-amz-acl"):
        context["s3:x-amz-acl"] = headers["x-amz-acl"]
    if not key:
        for sub in params:
            action = _S3_BUCKET_ACTIONS.get((method, sub))
            if action is None and sub[:1].isalpha() and method in ("GET", "PUT", "DELETE") and sub not in (
                "list-type", "prefix", "delimiter", "max-keys", "marker", "continuation-token",
                "start-after", "encoding-type", "fetch-owner",
            ):
                verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}[method]
                action = f"s3:{verb}Bucket{sub[:1].upper()}{sub[1:]}"
            if action is not None:
                return Access(action, bucket_arn, account, context)
        if method == "PUT":
            return Access("s3:CreateBucket", bucket_arn, account, context)
        if method == "DELETE":
            return Access("s3:DeleteBucket", bucket_arn, account)
        if "prefix" in params:
            context["s3:prefix"] = params["prefix"]
        return Access("s3:ListBucket", bucket_arn, account, context)  # GET, HEAD
    object_arn = f"{bucket_arn}/{key}"
    if "acl" in params:
        action = "s3:GetObjectAcl" if method == "GET" else "s3:PutObjectAcl"
    elif "tagging" in params:
        action = {"GET": "s3:GetObjectTagging", "DELETE": "s3:DeleteObjectTagging"}.get(
            method, "s3:PutObjectTagging")
    elif method == "DELETE":
        action = "s3:AbortMultipartUpload" if "uploadId" in params else "s3:DeleteObject"
    elif method in ("GET", "HEAD"):
        action = "s3:ListMultipartUploadParts" if "uploadId" in params else "s3:GetObject"
    else:  # PUT, POST: uploads, parts, completion
        action = "s3:PutObject"
    return Access(action, object_arn, account, context)


def bucket_owner_and_policy(bucket: str) -> tuple[str | None, Policy | None]:
    """Return the account that owns ``bucket`` (None if there is no such bucket) and its policy."""
    from moto.s3.models import s3_backends

    found = s3_backends.bucket_accounts.get(bucket)
    if found is None:
        return None, None
    partition, owner = found
    try:
        policy = s3_backends[owner][partition].buckets[bucket].policy
    except KeyError:
        return owner, None
    if not policy:
        return owner, None
    text = policy.decode() if isinstance(policy, bytes) else str(policy)
    return owner, Policy(f"bucket policy of {bucket}", _document(text), "resource")
