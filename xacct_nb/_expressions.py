"""Key conditions, filters and projections as low-level DynamoDB request parameters.

This is the mechanism layer between boto3's condition objects
(:class:`~boto3.dynamodb.conditions.Key`, :class:`~boto3.dynamodb.conditions.Attr`)
and the *low-level client* API (``client.query(**params)``,
``client.scan(**params)``), which wants expression strings plus
``ExpressionAttributeNames`` / ``ExpressionAttributeValues`` maps with values
in wire form (``{"S": "..."}``, ``{"N": "..."}``, ...).

Rules applied by :func:`build_expressions`:

* every attribute name becomes a placeholder (``#n0``, ``#n1``, ...), in the
  key condition, the filter and the projection alike, so reserved words
  (``status``, ``name``, ``date``, ``size``, ...) and names with dashes or
  spaces need no care from the caller; one name used several times (in the
  key and in the filter, say) has one placeholder;
* values become placeholders ``:v0``, ``:v1``, ... encoded by the package's
  one value encoder (:func:`xacct_nb._encode.to_condition_value`), the one
  ``write_frame`` uses: a value written with ``write_frame`` (a float, a
  ``Decimal``, a set, a ``datetime`` or ``pd.Timestamp`` stored as
  ``"2026-03-01T12:00:00Z"``) matches when compared as the same Python
  value; values of key conditions must encode to S, N or B;
* in filters and projections a dotted name is a *document path*:
  ``address.city`` is the ``city`` entry of the map ``address`` and
  ``items[0].sku`` indexes a list. In key conditions a name is always one
  top-level attribute (key attributes cannot be nested), dots included.

boto3's :class:`~boto3.dynamodb.conditions.ConditionExpressionBuilder` renders
the conditions. It numbers its placeholders per builder instance (the counters
carry over between calls until ``reset()``), so separate calls never collide,
but it gives every *occurrence* of a name its own placeholder and splits
dotted names even in key conditions. The conditions are therefore rewritten
before rendering so that each attribute object carries the final,
shared placeholder ids, and the builder's own placeholders are mapped onto
them afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from boto3.dynamodb.conditions import (
    And,
    Attr,
    AttributeBase,
    BeginsWith,
    Between,
    ConditionBase,
    ConditionExpressionBuilder,
    Equals,
    GreaterThan,
    GreaterThanEquals,
    In,
    Key,
    LessThan,
    LessThanEquals,
    Not,
    Or,
    Size,
)
from boto3.exceptions import (
    DynamoDBNeedsConditionError,
    DynamoDBNeedsKeyConditionError,
    DynamoDBOperationNotSupportedError,
)

from xacct_nb._encode import to_condition_value, to_key_value
from xacct_nb._errors import InvalidArgumentError

__all__ = [
    "build_expressions",
    "key_condition",
    "sort_condition",
]

# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def _key_value(value: Any, where: str, *, empty_ok: bool = True) -> dict[str, Any]:
    """Encode a value compared with a key attribute: it must come out as S, N or B."""
    if isinstance(value, AttributeBase):
        raise InvalidArgumentError(
            f"{where}: got the attribute {type(value).__name__}({value.name!r}) where a "
            "value was expected; key values are str, numbers or bytes"
        )
    if isinstance(value, ConditionBase):
        raise InvalidArgumentError(
            f"{where}: got a condition where a value was expected; key values are "
            "str, numbers or bytes"
        )
    return to_key_value(value, where=where, empty_ok=empty_ok)


# ---------------------------------------------------------------------------
# Key conditions
# ---------------------------------------------------------------------------

_SORT_OPERATORS: dict[str, str] = {
    "=": "eq",
    "==": "eq",
    "eq": "eq",
    "<": "lt",
    "lt": "lt",
    "<=": "lte",
    "lte": "lte",
    ">": "gt",
    "gt": "gt",
    ">=": "gte",
    "gte": "gte",
    "between": "between",
    "begins_with": "begins_with",
}
_SORT_FORMS = (
    "accepted: a bare value (equality); ('=', v), ('==', v) or ('eq', v); "
    "('<', v) or ('lt', v); ('<=', v) or ('lte', v); ('>', v) or ('gt', v); "
    "('>=', v) or ('gte', v); ('between', low, high); ('begins_with', prefix); "
    "or a boto3 condition such as Key('sk').gt(v)"
)
# The comparisons DynamoDB allows in a KeyConditionExpression.
_KEY_COMPARISONS: tuple[type[ConditionBase], ...] = (
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
    Between,
    BeginsWith,
)


def _describe(condition: Any) -> str:
    if isinstance(condition, ConditionBase):
        return f"{type(condition).__name__} condition"
    return f"{type(condition).__name__} {condition!r}"


def _check_key_comparison(condition: ConditionBase, where: str) -> None:
    """One key comparison: Key(name) <op> value(s) with S/N/B values."""
    if not isinstance(condition, _KEY_COMPARISONS):
        raise InvalidArgumentError(
            f"{where}: {type(condition).__name__} is not allowed in a key condition; "
            "key conditions use =, <, <=, >, >=, between and begins_with on Key(...) "
            "attributes, joined by & (OR, NOT, <>, IN, contains, size, exists are "
            "filter-only: pass them as filter=Attr(...)...)"
        )
    attribute, *values = condition.get_expression()["values"]
    if isinstance(attribute, Attr) or (
        isinstance(attribute, AttributeBase) and not isinstance(attribute, Key)
    ):
        raise InvalidArgumentError(
            f"{where}: Attr({attribute.name!r}) is not allowed in a key condition; "
            f"use Key({attribute.name!r}) there, and pass Attr(...) conditions as filter="
        )
    if isinstance(attribute, ConditionBase) or not isinstance(attribute, Key):
        raise InvalidArgumentError(
            f"{where}: a key condition compares a Key(name) attribute with values, "
            f"e.g. Key('sk').gt(5); got {_describe(attribute)}"
        )
    if not isinstance(attribute.name, str) or not attribute.name:
        raise InvalidArgumentError(
            f"{where}: attribute names must be non-empty str; got {attribute.name!r}"
        )
    for value in values:
        wire = _key_value(value, f"{where} on {attribute.name!r}")
        if isinstance(condition, BeginsWith) and "N" in wire:
            raise InvalidArgumentError(
                f"{where} on {attribute.name!r}: begins_with needs a str or bytes "
                f"prefix; got {value!r}"
            )


def sort_condition(sort_name: str | None, sort: Any) -> ConditionBase | None:
    """Build the sort-key part of a key condition from a short form.

    Parameters
    ----------
    sort_name : str or None
        The table's (or index's) sort key attribute; None when there is none.
    sort : Any
        None (no sort condition); a boto3 ``Key(...)`` comparison (returned as
        is, even if it names another attribute than ``sort_name``); a tuple
        ``(op, value)`` with op one of ``"="``/``"=="``/``"eq"``, ``"<"``/``"lt"``,
        ``"<="``/``"lte"``, ``">"``/``"gt"``, ``">="``/``"gte"``,
        ``"begins_with"``, or ``("between", low, high)`` (operators are
        case-insensitive); any other single value means equality. Values
        are what a key holds: str, numbers, bytes, and datetimes / dates /
        ``pd.Timestamp`` / ``np.datetime64``, encoded as ``write_frame``
        stores them (``"2026-03-01T12:00:00Z"``, see ``xacct_nb._encode``).

    Returns
    -------
    ConditionBase or None
        e.g. ``Key(sort_name).gt(value)``; None when ``sort`` is None.

    Raises
    ------
    InvalidArgumentError
        ``sort`` is given but ``sort_name`` is None; unknown operator; wrong
        number of tuple items; an ``Attr(...)`` or non-key condition; a value
        that does not encode to a str, a number or bytes.

    Examples
    --------
    >>> sort_condition("ts", ("between", "2024-01", "2024-06")) == Key("ts").between(
    ...     "2024-01", "2024-06")
    True
    >>> sort_condition("ts", "2024-01-01") == Key("ts").eq("2024-01-01")
    True
    >>> sort_condition("ts", None) is None
    True
    """
    if sort is None:
        return None
    if sort_name is None:
        raise InvalidArgumentError(
            f"sort={sort!r} was given but the table (or index) has no sort key; "
            "query by the partition key alone, or use filter=Attr(...) to narrow "
            "on other attributes"
        )
    if not isinstance(sort_name, str) or not sort_name:
        raise InvalidArgumentError(f"sort_name must be a non-empty str or None; got {sort_name!r}")
    if isinstance(sort, ConditionBase):
        if isinstance(sort, And):
            raise InvalidArgumentError(
                "sort takes one comparison on the sort key, e.g. Key('sk').between(a, b); "
                f"got an & of conditions; {_SORT_FORMS}"
            )
        _check_key_comparison(sort, "sort condition")
        return sort
    if isinstance(sort, AttributeBase):
        raise InvalidArgumentError(
            f"sort={type(sort).__name__}({sort.name!r}) has no comparison, e.g. "
            f"Key({sort.name!r}).gte(v); {_SORT_FORMS}"
        )
    if isinstance(sort, list):
        raise InvalidArgumentError(
            f"sort={sort!r} is a list; the operator forms are tuples, e.g. "
            f"('between', 1, 5); {_SORT_FORMS}"
        )
    if not isinstance(sort, tuple):
        _key_value(sort, f"sort value for {sort_name!r}")
        return Key(sort_name).eq(sort)
    if not sort or not isinstance(sort[0], str):
        raise InvalidArgumentError(
            f"sort={sort!r}: a tuple must start with an operator string; {_SORT_FORMS}"
        )
    op = _SORT_OPERATORS.get(sort[0].strip().lower())
    if op is None:
        raise InvalidArgumentError(f"sort={sort!r}: unknown operator {sort[0]!r}; {_SORT_FORMS}")
    arity = 3 if op == "between" else 2
    if len(sort) != arity:
        expected = "('between', low, high)" if op == "between" else f"({sort[0]!r}, value)"
        raise InvalidArgumentError(
            f"sort={sort!r}: {sort[0]!r} takes {arity - 1} value(s), written "
            f"{expected}; got {len(sort) - 1}; {_SORT_FORMS}"
        )
    condition: ConditionBase = getattr(Key(sort_name), op)(*sort[1:])
    _check_key_comparison(condition, "sort condition")
    return condition


def key_condition(
    partition_name: str,
    partition_value: Any,
    sort_name: str | None = None,
    sort: Any = None,
) -> ConditionBase:
    """Build ``Key(partition_name).eq(partition_value) & <sort condition>``.

    Parameters
    ----------
    partition_name : str
        The partition key attribute of the table (or index).
    partition_value : Any
        Its value: a non-empty str, a number or bytes (or a datetime / date,
        stored as str).
    sort_name : str or None
        The sort key attribute, None when the table has none.
    sort : Any
        Any form accepted by :func:`sort_condition`.

    Returns
    -------
    ConditionBase
        A boto3 key condition.

    Raises
    ------
    InvalidArgumentError
        ``partition_value`` is None, empty or not a str / number / bytes, or
        ``sort`` is invalid (see :func:`sort_condition`).

    Examples
    --------
    >>> cond = key_condition("customer_id", "c1", "order_ts", (">=", "2024"))
    >>> cond == Key("customer_id").eq("c1") & Key("order_ts").gte("2024")
    True
    """
    if not isinstance(partition_name, str) or not partition_name:
        raise InvalidArgumentError(
            f"partition_name must be a non-empty str; got {partition_name!r}"
        )
    if partition_value is None:
        raise InvalidArgumentError(
            f"a value for the partition key {partition_name!r} is required (got None); "
            "a query reads one partition: pass its key value (str, number or bytes), "
            "or scan the table instead"
        )
    _key_value(partition_value, f"partition key {partition_name!r}", empty_ok=False)
    condition: ConditionBase = Key(partition_name).eq(partition_value)
    rest = sort_condition(sort_name, sort)
    return condition if rest is None else condition & rest


# ---------------------------------------------------------------------------
# Placeholders, document paths, rendering
# ---------------------------------------------------------------------------

_SEGMENT = r"[^.\[\]]+(?:\[\d+\])*"
_PATH_RE = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_PATH_TOKEN_RE = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_BUILDER_TOKEN_RE = re.compile(r"#n\d+|:v\d+")
_PATH_HELP = (
    "accepted: attribute names separated by '.' for nested maps, each optionally "
    "followed by list indexes like [0] (e.g. 'status', 'address.city', "
    "'items[0].sku'); names cannot be empty or contain '[' or ']'"
)

PathElement = str | int


def _parse_path(path: Any, where: str) -> tuple[PathElement, ...]:
    """``'a.b[0].c'`` -> ``('a', 'b', 0, 'c')`` (names are str, indexes int)."""
    if not isinstance(path, str):
        raise InvalidArgumentError(
            f"{where}: attribute names must be str; got {type(path).__name__} {path!r}"
        )
    if not _PATH_RE.fullmatch(path):
        raise InvalidArgumentError(f"{where}: {path!r} is not a valid document path; {_PATH_HELP}")
    return tuple(name if name else int(index) for name, index in _PATH_TOKEN_RE.findall(path))


class _Placeholders:
    """Shared ``#nK`` / ``:vK`` placeholders of one request."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}  # placeholder -> attribute name
        self._by_name: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}

    def name(self, attribute: str) -> str:
        placeholder = self._by_name.get(attribute)
        if placeholder is None:
            placeholder = f"#n{len(self._by_name)}"
            self._by_name[attribute] = placeholder
            self.names[placeholder] = attribute
        return placeholder

    def value(self, wire: dict[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = wire
        return placeholder

    def path(self, elements: tuple[PathElement, ...]) -> str:
        out = ""
        for element in elements:
            if isinstance(element, int):
                out += f"[{element}]"
            else:
                out += ("." if out else "") + self.name(element)
        return out


class _Wire:
    """A value already in wire form, carried through the builder untouched."""

    __slots__ = ("wire",)

    def __init__(self, wire: dict[str, Any]) -> None:
        self.wire = wire


def _attribute_label(condition: ConditionBase) -> str:
    values = condition.get_expression()["values"]
    first = values[0] if values else None
    return repr(first.name) if isinstance(first, AttributeBase) else "?"


def _rewrite(
    condition: Any, *, is_key: bool, reg: _Placeholders, where: str, top: bool = True
) -> ConditionBase:
    """Copy ``condition`` with shared placeholder ids and wire values.

    Attribute names become the shared placeholder ids (``n3``, ``n0.n4[2]``),
    values their wire form.
    """
    if isinstance(condition, Size) and top:
        raise InvalidArgumentError(
            f"{where}: Attr({condition.name!r}).size() must be compared to a number, "
            f"e.g. Attr({condition.name!r}).size().gt(3)"
        )
    if not isinstance(condition, ConditionBase):
        if isinstance(condition, AttributeBase):
            raise InvalidArgumentError(
                f"{where}: {type(condition).__name__}({condition.name!r}) has no "
                f"comparison; e.g. {type(condition).__name__}({condition.name!r}).eq(value)"
            )
        raise InvalidArgumentError(
            f"{where} must be a boto3 condition built with "
            f"{'Key' if is_key else 'Attr'}(...) (from boto3.dynamodb.conditions); "
            f"got {_describe(condition)}"
        )
    boolean = isinstance(condition, (And, Or, Not))
    new_values: list[Any] = []
    for value in condition.get_expression()["values"]:
        if isinstance(value, ConditionBase):
            new_values.append(_rewrite(value, is_key=is_key, reg=reg, where=where, top=boolean))
        elif isinstance(value, AttributeBase):
            if is_key:
                # Key attributes are top level: the whole name, dots included.
                new_values.append(Key(reg.name(value.name)[1:]))
            else:
                if isinstance(value, Key):
                    raise InvalidArgumentError(
                        f"{where}: Key({value.name!r}) is not allowed in a filter; "
                        f"use Attr({value.name!r}) there, and pass Key(...) "
                        "conditions as key="
                    )
                elements = _parse_path(value.name, where)
                alias = reg.path(elements).replace("#", "")
                new_values.append(Attr(alias))
        elif isinstance(condition, In):
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
                raise InvalidArgumentError(
                    f"{where}: is_in() on {_attribute_label(condition)} takes a list of "
                    f"values; got {value!r}"
                )
            items = list(value)
            if not items:
                raise InvalidArgumentError(
                    f"{where}: is_in() on {_attribute_label(condition)} needs at least one value"
                )
            new_values.append(
                [
                    _Wire(to_condition_value(v, where=f"{where} on {_attribute_label(condition)}"))
                    for v in items
                ]
            )
        else:
            new_values.append(
                _Wire(to_condition_value(value, where=f"{where} on {_attribute_label(condition)}"))
            )
    return type(condition)(*new_values)


def _render(condition: Any, *, is_key: bool, reg: _Placeholders) -> str:
    where = "key" if is_key else "filter"
    if is_key:
        if not isinstance(condition, ConditionBase):
            _rewrite(condition, is_key=True, reg=reg, where=where)  # raises
        parts = [condition]
        if isinstance(condition, And):
            parts = list(condition.get_expression()["values"])
        if len(parts) > 2 or any(isinstance(p, And) for p in parts):
            raise InvalidArgumentError(
                "key: a key condition has at most two parts, the partition key "
                "equality and one sort key condition, e.g. "
                "Key('pk').eq(v) & Key('sk').gt(w)"
            )
        for part in parts:
            _check_key_comparison(part, where)
        if not any(isinstance(p, Equals) for p in parts):
            raise InvalidArgumentError(
                "key: a key condition needs an equality on the partition key, e.g. "
                "Key('pk').eq(v) or key_condition('pk', v, 'sk', ('>', w))"
            )
    rewritten = _rewrite(condition, is_key=is_key, reg=reg, where=where)
    try:
        built = ConditionExpressionBuilder().build_expression(rewritten, is_key_condition=is_key)
    except (
        DynamoDBNeedsConditionError,
        DynamoDBNeedsKeyConditionError,
        DynamoDBOperationNotSupportedError,
    ) as exc:  # pragma: no cover - _rewrite rejects these first
        raise InvalidArgumentError(f"{where}: {exc}") from exc
    names = built.attribute_name_placeholders
    values = built.attribute_value_placeholders

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith("#"):
            return "#" + names[token]
        wire = values[token]
        return reg.value(
            wire.wire if isinstance(wire, _Wire) else to_condition_value(wire, where=where)
        )

    return _BUILDER_TOKEN_RE.sub(replace, built.condition_expression)


def _projection(columns: Any, reg: _Placeholders) -> str:
    if isinstance(columns, str):
        columns = [columns]
    elif isinstance(columns, (bytes, bytearray, Mapping)) or not isinstance(columns, Iterable):
        raise InvalidArgumentError(
            f"columns must be a list or tuple of attribute names (or one name as a "
            f"str); got {type(columns).__name__} {columns!r}"
        )
    columns = list(columns)
    if not columns:
        raise InvalidArgumentError(
            "columns=[] selects nothing; pass at least one attribute name, or "
            "columns=None for every attribute"
        )
    paths: list[tuple[PathElement, ...]] = []
    for position, column in enumerate(columns):
        if not isinstance(column, str):
            raise InvalidArgumentError(
                f"columns[{position}]: attribute names must be str; got "
                f"{type(column).__name__} {column!r}"
            )
        path = _parse_path(column, f"columns[{position}]")
        if path not in paths:  # an exact repeat is dropped
            paths.append(path)
    for a in paths:
        for b in paths:
            if a != b and b[: len(a)] == a:
                raise InvalidArgumentError(
                    f"columns: {_unparse(a)!r} already contains {_unparse(b)!r}; "
                    "DynamoDB rejects overlapping document paths, keep only one"
                )
    return ", ".join(reg.path(p) for p in paths)


def _unparse(path: tuple[PathElement, ...]) -> str:
    out = ""
    for element in path:
        out += f"[{element}]" if isinstance(element, int) else ("." if out else "") + element
    return out


def build_expressions(
    *, key: ConditionBase | None = None, filter: ConditionBase | None = None, columns: Any = None
) -> dict[str, Any]:
    """Request parameters for ``client.query(**params)`` / ``client.scan(**params)``.

    Parameters
    ----------
    key : ConditionBase, optional
        A key condition built with ``Key(...)`` (see :func:`key_condition`):
        the partition key equality, optionally ``&`` one sort key comparison.
        Names are top-level attributes, even with dots in them.
    filter : ConditionBase, optional
        A filter built with ``Attr(...)``; dotted names are nested paths.
    columns : list or tuple of str, or str, optional
        Attributes to return (``ProjectionExpression``); ``"a.b"`` and
        ``"items[0]"`` are document paths; one str means one column.

    Returns
    -------
    dict
        Any of ``KeyConditionExpression``, ``FilterExpression``,
        ``ProjectionExpression``, ``ExpressionAttributeNames`` and
        ``ExpressionAttributeValues`` (wire form); only those that apply, an
        empty dict when nothing is given. Every name is a ``#nK`` placeholder
        shared across the three expressions; values are ``:vK``.

    Raises
    ------
    InvalidArgumentError
        ``Attr`` in the key or ``Key`` in the filter, a key condition DynamoDB
        would reject (OR, NOT, no equality, more than two parts), a value that
        cannot be serialized, an invalid path, empty ``columns`` or a
        non-str column.

    Examples
    --------
    >>> from boto3.dynamodb.conditions import Attr, Key
    >>> p = build_expressions(key=Key("id").eq("a"), filter=Attr("status").ne("x"),
    ...                       columns=["id", "address.city"])
    >>> p["KeyConditionExpression"], p["FilterExpression"], p["ProjectionExpression"]
    ('#n0 = :v0', '#n1 <> :v1', '#n0, #n2.#n3')
    >>> p["ExpressionAttributeNames"]
    {'#n0': 'id', '#n1': 'status', '#n2': 'address', '#n3': 'city'}
    >>> p["ExpressionAttributeValues"]
    {':v0': {'S': 'a'}, ':v1': {'S': 'x'}}
    >>> build_expressions()
    {}
    """
    reg = _Placeholders()
    params: dict[str, Any] = {}
    if key is not None:
        params["KeyConditionExpression"] = _render(key, is_key=True, reg=reg)
    if filter is not None:
        params["FilterExpression"] = _render(filter, is_key=False, reg=reg)
    if columns is not None:
        params["ProjectionExpression"] = _projection(columns, reg)
    if reg.names:
        params["ExpressionAttributeNames"] = dict(reg.names)
    if reg.values:
        params["ExpressionAttributeValues"] = dict(reg.values)
    return params
