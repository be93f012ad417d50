"""DynamoDB's behaviour where moto 5.1 differs from it, patched narrowly inside the sandbox.

This module runs inside the sandbox's child process. :func:`patch_moto_dynamodb`
(called from ``_server.patch_moto()``) replaces a few pieces of moto 5.1.22's
DynamoDB so that what analysts touch answers as DynamoDB does:

* **Item sizes** follow DynamoDB's rules (attribute-name bytes plus value
  bytes; numbers by significant digits; binary by raw bytes; 3 bytes of
  overhead per list or map and 1 per element). moto counts a number by its
  string length, binary by its base64 text, and no list/map overhead.
* **Query and Scan** read pages as DynamoDB does: a page ends once ``Limit``
  items have been *evaluated* or once 1 MB of items has been *read* (before
  the filter), with ``LastEvaluatedKey``. ``Select=COUNT`` returns only
  ``Count``/``ScannedCount``. A filter comparing values of different types
  matches nothing (moto raised ``TypeError``, a 500 HTML page).
* **PartiQL SELECT** (ExecuteStatement) runs as the Query (``=`` / ``IN`` on
  the partition key) or Scan DynamoDB would run, with the same pages, Limit,
  ConsistentRead and capacity, and a ``NextToken`` bound to its statement
  (moto returned everything at once and ignored BETWEEN, nested paths,
  begins_with and parameters); writes still go to moto's PartiQL engine.
* **ConsumedCapacity** is computed from item sizes (reads in 4 KB units, writes
  in 1 KB units plus index writes), for ``TOTAL`` and ``INDEXES``; ``NONE``
  omits it.
* **ProjectionExpression** document paths with list indexes (``lines[0].sku``,
  ``#l[1]``) project as DynamoDB does; overlapping paths, reserved words and
  undefined placeholders are refused with DynamoDB's messages.
* **Validation** errors carry DynamoDB's codes and messages (wrong key types,
  missing key elements, undefined or unused expression placeholders, Select
  combinations, Limit, batch sizes, duplicate batch keys, starting keys).
* **DescribeTable** reports ``TableSizeBytes`` and every index's
  ``IndexSizeBytes`` / ``ItemCount`` by the same item-size rules, so a cost
  estimate from them matches the ConsumedCapacity charged (moto: 0 / absent),
  and the ``TableClassSummary`` a table was created or updated with.
* **Read capacity** of PROVISIONED tables is enforced by :mod:`._throughput`
  (token buckets charged with the ConsumedCapacity computed here).
* **Anything else moto cannot handle** comes back as DynamoDB's JSON
  ``InternalServerError`` (HTTP 500), never as an HTML page.

Everything is applied once (idempotent) and only to moto's DynamoDB classes.
"""

from __future__ import annotations

import bisect
import copy
import json
import math
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, cast

#: DynamoDB ends a Query/Scan page once this many bytes of items have been read.
PAGE_BYTES = 1024 * 1024
#: The largest item DynamoDB stores (400 KB, counted by :func:`item_size`).
ITEM_MAX_BYTES = 400 * 1024
#: Read capacity is charged per 4 KB read, write capacity per 1 KB written.
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
#: DynamoDB's limits on batch requests.
BATCH_GET_MAX_KEYS = 100
BATCH_WRITE_MAX_REQUESTS = 25

INTERNAL_ERROR_BODY = json.dumps({
    "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
    "message": "Internal server error",
})

SCHEMA_MISMATCH = "The provided key element does not match the schema"
EMPTY_KEY = (
    "One or more parameter values are not valid. The AttributeValue for a key attribute "
    "cannot contain an empty string value. Key: {}"
)
CONDITION_TYPE_MISMATCH = (
    "One or more parameter values were invalid: Condition parameter type does not match schema type"
)
#: DynamoDB words a bad ExclusiveStartKey differently for Scan and for Query.
INVALID_START_KEY = "The provided starting key is invalid: " + SCHEMA_MISMATCH
INVALID_QUERY_START_KEY = "The provided starting key is invalid"

#: Per request: what the Query/Scan just read (bytes, index), whether only a count is wanted,
#: and (``charges``, while ``_throughput`` admits a read) the capacity each part was charged.
_state = threading.local()
_PATH_ELEMENT = re.compile(r"\s*(#?[A-Za-z0-9_\-]+)((?:\s*\[\s*\d+\s*\])*)\s*")
_PLACEHOLDERS = re.compile(r"[#:][A-Za-z0-9_]+")


# -- item sizes ------------------------------------------------------------------------------
def number_size(text: str) -> int:
    """Bytes DynamoDB counts for a number given as text.

    ``1 + ceil(integer significant digits / 2) + ceil(fraction significant
    digits / 2)``, plus 1 if negative, over the value with leading and
    trailing zeros trimmed (the AWS guide's "1 byte per two significant
    digits, plus 1 byte", refined by public measurements).

    Parameters
    ----------
    text : str
        The number as DynamoDB's wire format carries it (``"12.50"``, ``"-3E5"``).

    Returns
    -------
    int
        The number's size in bytes.

    Examples
    --------
    >>> number_size("123456"), number_size("3.14159"), number_size("1E125"), number_size("0")
    (4, 5, 2, 1)
    """
    text = text.strip()
    negative = text.startswith("-")
    digits = text.lstrip("+-")
    if "e" in digits or "E" in digits:
        from decimal import Decimal, InvalidOperation

        try:
            sign, tup, exponent = Decimal(text).normalize().as_tuple()
        except InvalidOperation:
            return len(text)
        if not isinstance(exponent, int) or tup == (0,):
            return 1
        count = len(tup)
        fraction = min(count, -exponent) if exponent < 0 else 0
        whole = count - fraction
    else:
        whole_text, _, fraction_text = digits.partition(".")
        whole_text = whole_text.lstrip("0")
        fraction_text = fraction_text.rstrip("0")
        if not fraction_text:
            whole_text = whole_text.rstrip("0")
        elif not whole_text:
            fraction_text = fraction_text.lstrip("0")
        whole, fraction = len(whole_text), len(fraction_text)
        if whole == 0 and fraction == 0:
            return 1
    return 1 + (whole + 1) // 2 + (fraction + 1) // 2 + (1 if negative else 0)


def _binary_size(value: Any) -> int:
    if isinstance(value, bytes | bytearray):
        return len(value)
    text = str(value)
    return len(text) * 3 // 4 - text[-2:].count("=")


def value_size(value: Any) -> int:
    """Bytes DynamoDB counts for one attribute value, its name excluded.

    Strings count their UTF-8 bytes, numbers their significant digits (see
    :func:`number_size`), binary values their raw bytes, booleans and nulls
    one byte; sets the sum of their members; lists and maps 3 bytes plus,
    per element, 1 byte and its size (and, in maps, its name's bytes).

    Parameters
    ----------
    value : moto.dynamodb.models.dynamo_type.DynamoType
        The value as moto stores it (binary values base64 text or bytes).

    Returns
    -------
    int
        The size in bytes, as DynamoDB counts it for item sizes and capacity.
    """
    kind = value.type
    raw = value.value
    if kind == "S":
        return len(raw.encode("utf-8")) if not raw.isascii() else len(raw)
    if kind == "N":
        return number_size(raw)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + 1 + value_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return _binary_size(raw)
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in raw)
    if kind == "NS":
        return sum(number_size(s) for s in raw)
    if kind == "BS":
        return sum(_binary_size(b) for b in raw)
    return len(str(raw).encode("utf-8"))


def item_size(item: Any) -> int:
    """Bytes DynamoDB counts for an item: attribute-name bytes plus value sizes.

    Parameters
    ----------
    item : moto.dynamodb.models.dynamo_type.Item
        A stored item (or an index entry projected from one).

    Returns
    -------
    int
        The item's size; 400 KB (409,600 bytes) is the largest DynamoDB stores.
    """
    return sum(
        (len(name) if name.isascii() else len(name.encode("utf-8"))) + value_size(value)
        for name, value in item.attrs.items()
    )


def _limited_setitem(self: Any, key: str, value: Any) -> None:
    """``LimitedSizeDict.__setitem__`` refusing items over 400 KB by DynamoDB's own count.

    moto refuses above 405,000 of its own (different) bytes; DynamoDB above
    409,600 bytes counted as :func:`item_size` counts them.
    """
    from moto.dynamodb.exceptions import ItemSizeTooLarge

    missing = object()
    previous = dict.get(self, key, missing)
    dict.__setitem__(self, key, value)
    total = sum(
        len(name.encode("utf-8")) + (v.size() if hasattr(v, "type") else len(str(v).encode("utf-8")))
        for name, v in dict.items(self)
    )
    if total > ITEM_MAX_BYTES:
        if previous is missing:
            dict.__delitem__(self, key)
        else:
            dict.__setitem__(self, key, previous)
        raise ItemSizeTooLarge


def read_units(size: int, consistent: bool) -> float:
    """Read capacity for ``size`` bytes read at once.

    Parameters
    ----------
    size : int
        Bytes read in one operation (a page, or one item of a batch).
    consistent : bool
        A strongly consistent read costs twice an eventually consistent one.

    Returns
    -------
    float
        4 KB units, at least one, halved for eventually consistent reads.
    """
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> float:
    """Write capacity for writing ``size`` bytes (the larger of the old and new item).

    Parameters
    ----------
    size : int
        Bytes of the item (or index entry) written.

    Returns
    -------
    float
        1 KB units, at least one.
    """
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


# -- errors ----------------------------------------------------------------------------------
def _invalid(message: str) -> Exception:
    from moto.dynamodb.exceptions import MockValidationException

    return MockValidationException(message)


# -- projection expressions ------------------------------------------------------------------
Path = list[str | int]


def parse_projection(
    expression: str, names: dict[str, str], found: list[str] | None = None
) -> list[Path]:
    """Document paths of a ProjectionExpression, placeholders resolved, as DynamoDB checks them.

    Parameters
    ----------
    expression : str
        For example ``"customer_id, lines[0].sku, #l[1]"``.
    names : dict
        ``ExpressionAttributeNames``.
    found : list, optional
        Receives each placeholder the expression uses.

    Returns
    -------
    list of list
        One path per comma-separated element; map keys as ``str``, list
        indexes as ``int``.

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        With DynamoDB's message for a reserved word, an undefined placeholder,
        a syntax error or two overlapping paths.
    """
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    reserved = _reserved_words(ReservedKeywords)
    paths: list[Path] = []
    for raw in expression.split(","):
        path: Path = []
        for part in raw.split("."):
            match = _PATH_ELEMENT.fullmatch(part)
            if match is None:
                token = part.strip() or "<EOF>"
                raise _invalid(
                    f'Invalid ProjectionExpression: Syntax error; token: "{token}", near: "{raw.strip()}"'
                )
            name, indexes = match.group(1), match.group(2)
            if name.startswith("#"):
                if name not in names:
                    raise _invalid(
                        "Invalid ProjectionExpression: An expression attribute name used in the "
                        f"document path is not defined; attribute name: {name}"
                    )
                if found is not None:
                    found.append(name)
                name = names[name]
            elif name.upper() in reserved:
                raise _invalid(
                    "Invalid ProjectionExpression: Attribute name is a reserved keyword; "
                    f"reserved keyword: {name}"
                )
            elif name[0].isdigit() or "-" in name:
                raise _invalid(
                    f'Invalid ProjectionExpression: Syntax error; token: "{name}", near: "{raw.strip()}"'
                )
            path.append(name)
            path.extend(int(i) for i in re.findall(r"\d+", indexes))
        paths.append(path)
    for i, first in enumerate(paths):
        for second in paths[i + 1:]:
            shorter = min(len(first), len(second))
            if first[:shorter] == second[:shorter]:
                raise _invalid(
                    "Invalid ProjectionExpression: Two document paths overlap with each other; "
                    "must remove or rewrite one of these paths; "
                    f"path one: {_show_path(first)}, path two: {_show_path(second)}"
                )
    return paths


def _show_path(path: Path) -> str:
    return "[" + ", ".join(f"[{p}]" if isinstance(p, int) else p for p in path) + "]"


_RESERVED: frozenset[str] | None = None


def _reserved_words(keywords: Any) -> frozenset[str]:
    global _RESERVED
    if _RESERVED is None:
        _RESERVED = frozenset(k.upper() for k in keywords.get_reserved_keywords())
    return _RESERVED


def project_item(item: Any, paths: Iterable[list[Any]]) -> Any:
    """Return a new moto ``Item`` holding only the document paths, as DynamoDB projects them.

    List elements named by index come back in index order, compacted (the
    second and fourth element of a list become a two-element list); paths
    the item does not have are left out.

    Parameters
    ----------
    item : moto.dynamodb.models.dynamo_type.Item
        The stored item (not modified).
    paths : iterable of list
        Document paths as :func:`parse_projection` returns them.

    Returns
    -------
    moto.dynamodb.models.dynamo_type.Item
        The projection, sharing unmodified values with ``item``.
    """
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    tree: dict[Any, Any] = {}
    for path in paths:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs)
    for name, sub in tree.items():
        if isinstance(name, str) and name in item.attrs:
            picked = _pick(item.attrs[name], sub)
            if picked is not None:
                dict.__setitem__(attrs, name, picked)
    result = cast("Item", Item.__new__(Item))  # moto's BaseModel.__new__ says BaseModel
    result.hash_key, result.range_key, result.attrs = item.hash_key, item.range_key, attrs
    return result


def _pick(value: Any, tree: dict[Any, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not tree:
        return value
    out: Any
    if value.type == "M":
        out = {}
        for key, sub in tree.items():
            if isinstance(key, str) and key in value.value:
                picked = _pick(value.value[key], sub)
                if picked is not None:
                    out[key] = picked
    elif value.type == "L":
        out = []
        for index in sorted(k for k in tree if isinstance(k, int)):
            if index < len(value.value):
                picked = _pick(value.value[index], tree[index])
                if picked is not None:
                    out.append(picked)
    else:
        return None
    if not out:
        return None
    result = DynamoType.__new__(DynamoType)
    result.type, result.value = value.type, out
    return result


# -- Query and Scan --------------------------------------------------------------------------
def _sort_value(value: Any) -> Any:
    return value.cast_value


def _start_position(keys: list[tuple[Any, ...]], start: tuple[Any, ...], forward: bool) -> int:
    """Index of the first key strictly after ``start`` in the read order (ascending if forward)."""
    if forward:
        return bisect.bisect_right(keys, start)
    for position, key in enumerate(keys):
        if (key > start) if forward else (key < start):
            return position
    return len(keys)


def _start_tuple(
    table: Any, exclusive_start_key: dict[str, Any], attrs: list[str],
    message: str = INVALID_START_KEY,
) -> tuple[Any, ...]:
    """Return the read-order position of ``ExclusiveStartKey`` (DynamoDB's error if not a key)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    types = {d["AttributeName"]: d["AttributeType"] for d in table.attr}
    try:
        values = [DynamoType(exclusive_start_key[a]) for a in attrs]
        if any(v.type != types.get(a, v.type) for a, v in zip(attrs, values, strict=True)):
            raise ValueError("type")
        return tuple(_sort_value(v) for v in values)
    except (KeyError, TypeError, ValueError, IndexError, ArithmeticError, AttributeError):
        raise _invalid(message) from None


def _passes_legacy(item: Any, conditions: dict[str, Any]) -> bool:
    """``ScanFilter`` / ``QueryFilter`` conditions (``{attr: (operator, [DynamoType])}``), all ANDed."""
    for name, (operator, operands) in conditions.items():
        attribute = item.attrs.get(name)
        if attribute is None:
            if operator != "NULL":
                return False
            continue
        if operator == "NULL":
            return False
        if operator == "NOT_NULL":
            continue
        try:
            if not attribute.compare(operator, operands):
                return False
        except (TypeError, ArithmeticError):
            return False
    return True


def _matches(filter_expression: Any, item: Any) -> bool:
    if filter_expression is None:
        return True
    try:
        return bool(filter_expression.expr(item))
    except (TypeError, ArithmeticError):  # comparisons across types match nothing
        return False


def _read_page(
    table: Any,
    candidates: list[Any],
    limit: int | None,
    index: Any,
    legacy: dict[str, Any],
    filter_expression: Any,
    projection: list[list[Any]] | None,
) -> tuple[list[Any], int, Any]:
    """Evaluate ``candidates`` in order until ``Limit`` or 1 MB read; keep what passes the filters.

    Records the bytes read in the request's state for ConsumedCapacity.
    Returns (items, scanned count, last evaluated item or None).
    """
    from moto.dynamodb.models.dynamo_type import Item

    count_only = getattr(_state, "count_only", False)
    projection = projection or getattr(_state, "attributes_to_get", None)
    partial = index is not None and (index.projection or {}).get("ProjectionType", "ALL") != "ALL"
    results: list[Any] = []
    read = 0
    scanned = 0
    last = None
    for item in candidates:
        if (limit is not None and scanned >= limit) or read >= PAGE_BYTES:
            break
        entry = index.project(item) if partial else item
        read += item_size(entry)
        scanned += 1
        last = item
        if legacy and not _passes_legacy(entry, legacy):
            continue
        if not _matches(filter_expression, entry):
            continue
        if count_only:
            results.append(Item.__new__(Item))
            results[-1].attrs = {}
        elif projection:
            results.append(project_item(entry, projection))
        else:
            results.append(entry)
    more = last is not None and last is not candidates[-1]
    _state.read = (read, index)
    return results, scanned, (last if more else None)


def _index_order(table: Any, index: Any) -> tuple[list[str], list[str]]:
    """(attributes an index's items must have, attributes that order them)."""
    index_hash = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
    index_range = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
    table_keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    order = index_hash + index_range + [a for a in table_keys if a not in index_hash + index_range]
    return index_hash + index_range, order


def _index_pool(table: Any, index_name: str, consistent_read: bool) -> tuple[Any, list[str], list[Any]]:
    """(index, sort order, items that carry the index's keys) for a read of an index."""
    index = _get_index(table, index_name, consistent_read)
    required, order = _index_order(table, index)
    items = [
        item for hash_set in list(table.items.values())
        for item in (list(hash_set.values()) if table.range_key_attr else [hash_set])
        if all(a in item.attrs for a in required)
    ]
    return index, order, items


def _get_index(table: Any, index_name: str, consistent_read: bool) -> Any:
    indexes = {i.name: i for i in table.all_indexes()}
    if index_name not in indexes:
        raise _invalid(f"The table does not have the specified index: {index_name}")
    index = indexes[index_name]
    if consistent_read and index in (table.global_indexes or []):
        raise _invalid("Consistent reads are not supported on global secondary indexes")
    return index


def scan(
    self: Any,
    filters: dict[str, Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    filter_expression: Any = None,
    index_name: str | None = None,
    consistent_read: bool = False,
    projection_expression: list[list[Any]] | None = None,
    segments: tuple[Any, Any] = (None, None),
) -> tuple[list[Any], int, dict[str, Any] | None]:
    """``Table.scan`` as DynamoDB pages it (replaces moto's; same signature and result).

    Items are read in a stable order (by key), a page ends after ``limit``
    evaluated items or once 1 MB has been read, and the filters apply after
    the read. Unlike moto's, no item is copied unless it is projected.

    Parameters
    ----------
    self : moto.dynamodb.models.table.Table
        The table scanned.
    filters : dict
        Legacy ``ScanFilter`` conditions, ``{name: (operator, [DynamoType])}``.
    limit : int or None
        ``Limit``: items evaluated (read), not items returned.
    exclusive_start_key : dict or None
        ``ExclusiveStartKey`` (wire format).
    filter_expression, index_name, consistent_read, projection_expression, segments
        As moto's backend passes them.

    Returns
    -------
    tuple
        (items passing the filters, ScannedCount, LastEvaluatedKey or None).

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        For an unknown index, a consistent read on a GSI, or an invalid start key.
    """
    index = None
    if index_name:
        index, order, items = _index_pool(self, index_name, consistent_read)
    else:
        order = [self.hash_key_attr] + ([self.range_key_attr] if self.range_key_attr else [])
        items = [
            item for hash_set in list(self.items.values())
            for item in (list(hash_set.values()) if self.range_key_attr else [hash_set])
        ]
    if segments != (None, None):
        items = [item for item in items if item.is_within_segment(segments)]
    keyed = sorted(
        ((tuple(_sort_value(item.attrs[a]) for a in order), item) for item in items),
        key=lambda pair: pair[0],
    )
    keys = [k for k, _ in keyed]
    candidates = [item for _, item in keyed]
    if exclusive_start_key:
        start = _start_position(keys, _start_tuple(self, exclusive_start_key, order), True)
        candidates = candidates[start:]
    results, scanned, last = _read_page(
        self, candidates, limit, index, filters, filter_expression, projection_expression
    )
    return results, scanned, (self._get_last_evaluated_key(last, index_name) if last else None)


def query(
    self: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: list[list[Any]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, Any]] | None = None,
    range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Any], int, dict[str, Any] | None]:
    """``Table.query`` as DynamoDB pages it (replaces moto's; same signature and result).

    The key condition selects what is read (a partition is looked up
    directly, not found by scanning the table); ``Limit`` counts evaluated
    items; a page ends once 1 MB has been read; the filters apply after the
    read.

    Parameters
    ----------
    self : moto.dynamodb.models.table.Table
        The table queried.
    hash_key, range_comparison, range_objs
        moto's single-condition form of the key condition.
    limit : int or None
        ``Limit``: items evaluated (read), not items returned.
    exclusive_start_key : dict or None
        ``ExclusiveStartKey`` (wire format).
    scan_index_forward : bool
        Ascending (True) or descending sort-key order.
    projection_expressions, index_name, consistent_read, filter_expression
        As moto's backend passes them.
    hash_key_conditions, range_key_conditions
        moto's multi-attribute form of the key condition (DynamoType values).
    **filter_kwargs
        Legacy ``QueryFilter`` / non-key ``KeyConditions`` conditions.

    Returns
    -------
    tuple
        (items passing the filters, ScannedCount, LastEvaluatedKey or None).

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        For key-condition values of the wrong type, an unknown index, a
        consistent read on a GSI, or an invalid start key.
    """
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_conditions = dict(hash_key_conditions or [])
    if not hash_conditions and hash_key is not None:
        hash_conditions = {self.hash_key_attr: hash_key}
    range_conditions = list(range_key_conditions or [])
    if not range_conditions and range_comparison:
        range_name = self.range_key_attr
        if index_name:
            index_range = [
                k["AttributeName"] for k in self.get_index(index_name).schema
                if k["KeyType"] == "RANGE"
            ]
            range_name = index_range[0] if index_range else range_name
        range_conditions = [(range_name, range_comparison, range_objs)]
    types = {d["AttributeName"]: d["AttributeType"] for d in self.attr}
    for name, value in hash_conditions.items():
        if name in types and value.type != types[name]:
            raise _invalid(CONDITION_TYPE_MISMATCH)
    for name, _, values in range_conditions:
        if name in types and any(v.type != types[name] for v in values):
            raise _invalid(CONDITION_TYPE_MISMATCH)

    index = None
    if index_name:
        index, order, pool = _index_pool(self, index_name, consistent_read)
    else:
        order = [self.range_key_attr] if self.range_key_attr else [self.hash_key_attr]
        found = self.items.get(hash_conditions.get(self.hash_key_attr)) if hash_conditions else None
        if found is None:
            pool = []
        elif self.range_key_attr:
            pool = list(found.values())
        else:
            pool = [found]

    def selected(item: Any) -> bool:
        for name, value in hash_conditions.items():
            attribute = item.attrs.get(name)
            if attribute is None or attribute != value:
                return False
        for name, comparison, values in range_conditions:
            attribute = item.attrs.get(name)
            if attribute is None:
                return False
            try:
                if not attribute.compare(comparison, values):
                    return False
            except (TypeError, ArithmeticError):
                return False
        return True

    keyed = sorted(
        ((tuple(_sort_value(item.attrs[a]) for a in order), item) for item in pool if selected(item)),
        key=lambda pair: pair[0],
        reverse=not scan_index_forward,
    )
    keys = [k for k, _ in keyed]
    candidates = [item for _, item in keyed]
    if exclusive_start_key:
        start_attrs = order if index_name else (
            [self.hash_key_attr] + ([self.range_key_attr] if self.range_key_attr else []))
        start = _start_tuple(self, exclusive_start_key, start_attrs, INVALID_QUERY_START_KEY)
        if not index_name:
            start = start[1:] if self.range_key_attr else start
        candidates = candidates[_start_position(keys, start, scan_index_forward):]
    legacy = {
        name: (c["ComparisonOperator"], [DynamoType(v) for v in c.get("AttributeValueList", [])])
        for name, c in filter_kwargs.items()
    }
    results, scanned, last = _read_page(
        self, candidates, limit, index, legacy, filter_expression, projection_expressions
    )
    return results, scanned, (self._get_last_evaluated_key(last, index_name) if last else None)


# -- request validation ----------------------------------------------------------------------
def _check_key(table: Any, key: Any) -> dict[str, Any]:
    """``key``, refused unless it is exactly the table's key attributes, with their types."""
    if not isinstance(key, dict):
        raise _invalid(SCHEMA_MISMATCH)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    for name in names:
        value = key.get(name)
        if (isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "B")
                and next(iter(value.values())) == ""):
            raise _invalid(EMPTY_KEY.format(name))
    if set(key) != set(names):
        raise _invalid(SCHEMA_MISMATCH)
    expected = {table.hash_key_attr: table.hash_key_type, table.range_key_attr: table.range_key_type}
    for name in names:
        value = key[name]
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) != expected[name]:
            raise _invalid(SCHEMA_MISMATCH)
    return key


def _check_item_key(table: Any, item: Any) -> dict[str, Any]:
    """BatchWriteItem's PutRequest: the item's key, which it must hold with its types."""
    if not isinstance(item, dict):
        raise _invalid(SCHEMA_MISMATCH)
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return _check_key(table, {n: item[n] for n in names if n in item})


_EXPRESSIONS = (
    ("KeyConditionExpression", "KeyCondition"),
    ("FilterExpression", "Filter"),
    ("ConditionExpression", "Condition"),
    ("UpdateExpression", "Update"),
    ("ProjectionExpression", "Projection"),
)


def check_placeholders(body: dict[str, Any]) -> None:
    """DynamoDB's checks on ``#name`` / ``:value`` placeholders across a request's expressions.

    Undefined placeholders name the expression they appear in; unused ones
    are listed; placeholders without any expression are refused.

    Parameters
    ----------
    body : dict
        The request (or one ``RequestItems`` entry of a BatchGetItem).

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        With DynamoDB's message for the first problem found.
    """
    names = body.get("ExpressionAttributeNames")
    values = body.get("ExpressionAttributeValues")
    used: set[str] = set()
    present = False
    for field, kind in _EXPRESSIONS:
        text = body.get(field)
        if not isinstance(text, str) or not text.strip():
            continue
        present = True
        for token in _PLACEHOLDERS.findall(text):
            used.add(token)
            if token.startswith("#") and token not in (names or {}):
                raise _invalid(
                    f"Invalid {kind}Expression: An expression attribute name used in the document "
                    f"path is not defined; attribute name: {token}"
                )
            if token.startswith(":") and kind != "Projection" and token not in (values or {}):
                raise _invalid(
                    f"Invalid {kind}Expression: An expression attribute value used in expression "
                    f"is not defined; attribute value: {token}"
                )
    if not present:
        if values:
            raise _invalid(
                "1 validation error detected: "
                "ExpressionAttributeValues can only be specified when using expressions"
            )
        if names:
            raise _invalid(
                "1 validation error detected: "
                "ExpressionAttributeNames can only be specified when using expressions"
            )
        return
    for provided, label in ((names, "Names"), (values, "Values")):
        unused = [k for k in (provided or {}) if k not in used]
        if unused:
            raise _invalid(
                f"Value provided in ExpressionAttribute{label} unused in expressions: "
                f"keys: {{{', '.join(unused)}}}"
            )


def _check_limit(body: dict[str, Any]) -> None:
    """Refuse a ``Limit`` that is not a positive integer, with DynamoDB's message."""
    if "Limit" in body:
        limit = body["Limit"]
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise _invalid(
                f"1 validation error detected: Value '{limit}' at 'limit' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1"
            )


def check_read_request(body: dict[str, Any], operation: str) -> None:
    """Query/Scan parameters DynamoDB refuses before reading: Limit, Select combinations.

    Parameters
    ----------
    body : dict
        The Query or Scan request.
    operation : str
        ``"Query"`` or ``"Scan"``.

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        With DynamoDB's message.
    """
    _check_limit(body)
    select = body.get("Select")
    projected = body.get("ProjectionExpression") or body.get("AttributesToGet")
    if select == "SPECIFIC_ATTRIBUTES" and not projected:
        raise _invalid(
            "Must specify the AttributesToGet or ProjectionExpression when choosing to get "
            "SPECIFIC_ATTRIBUTES"
        )
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projected:
        which = "ProjectionExpression" if body.get("ProjectionExpression") else "AttributesToGet"
        raise _invalid(f"Cannot specify the {which} when choosing to get {select}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and not body.get("IndexName"):
        raise _invalid("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
    if operation == "Query" and not (
        body.get("KeyConditionExpression") or body.get("KeyConditions")
    ):
        raise _invalid(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in "
            "the request."
        )


def check_filter_on_keys(table: Any, body: dict[str, Any]) -> None:
    """Refuse a Query whose FilterExpression names the key attributes of what it reads."""
    text = body.get("FilterExpression")
    if not isinstance(text, str):
        return
    names = body.get("ExpressionAttributeNames") or {}
    keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    index_name = body.get("IndexName")
    if index_name:
        index = {i.name: i for i in table.all_indexes()}.get(index_name)
        if index is None:
            return
        keys = [k["AttributeName"] for k in index.schema]
    words: set[str] = set()
    for token in re.findall(r"#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*(?:\s*\()?", text):
        if token.startswith("#"):
            words.add(names.get(token, token))
        elif not token.startswith(":") and not token.endswith("(") and token.upper() not in (
                "AND", "OR", "NOT", "BETWEEN", "IN"):
            words.add(token)
    for key in keys:
        if key in words:
            raise _invalid(
                "Filter Expression can only contain non-primary key attributes: "
                f"Primary key attribute: {key}"
            )


# -- consumed capacity -----------------------------------------------------------------------
def _capacity(
    table_name: str, mode: str, table_units: float, gsi: dict[str, float], lsi: dict[str, float]
) -> dict[str, Any] | None:
    charges = getattr(_state, "charges", None)  # a read of a provisioned table: ``_throughput``
    if charges is not None:
        charges.append((table_name, table_units, gsi, lsi))
    if mode not in ("TOTAL", "INDEXES"):
        return None
    total = table_units + sum(gsi.values()) + sum(lsi.values())
    out: dict[str, Any] = {"TableName": table_name, "CapacityUnits": total}
    if mode == "INDEXES":
        out["Table"] = {"CapacityUnits": table_units}
        if gsi:
            out["GlobalSecondaryIndexes"] = {k: {"CapacityUnits": v} for k, v in gsi.items()}
        if lsi:
            out["LocalSecondaryIndexes"] = {k: {"CapacityUnits": v} for k, v in lsi.items()}
    return out


def _read_capacity(table: Any, mode: str, read: tuple[int, Any], consistent: bool) -> Any:
    size, index = read
    units = read_units(size, consistent)
    if index is None:
        return _capacity(table.name, mode, units, {}, {})
    if index in (table.global_indexes or []):
        return _capacity(table.name, mode, 0.0, {index.name: units}, {})
    return _capacity(table.name, mode, 0.0, {}, {index.name: units})


def _snapshot(table: Any, key: dict[str, Any]) -> Any:
    """Return a copy of the item stored under ``key`` (None if none), before a write changes it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        item = table.get_item(hash_value, range_value)
    except Exception:  # noqa: BLE001 - the write itself reports what is wrong
        return None
    return copy.deepcopy(item) if item is not None else None


def _lookup(table: Any, key: dict[str, Any]) -> Any:
    """Return the item stored under ``key`` (None if none or the key is malformed), not copied."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        return table.get_item(hash_value, range_value)
    except Exception:  # noqa: BLE001 - the read itself reports what is wrong
        return None


def _key_of(table: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {n: attrs[n] for n in names if n in attrs}


def _write_capacity(table: Any, old: Any, new: Any) -> tuple[float, dict[str, float], dict[str, float]]:
    """(table units, GSI units, LSI units) for replacing ``old`` by ``new`` (either may be None)."""
    sizes = [item_size(i) for i in (old, new) if i is not None]
    table_units = write_units(max(sizes) if sizes else 0)
    gsi: dict[str, float] = {}
    lsi: dict[str, float] = {}
    for index in table.all_indexes():
        key_names = [k["AttributeName"] for k in index.schema]
        old_in = old is not None and all(n in old.attrs for n in key_names)
        new_in = new is not None and all(n in new.attrs for n in key_names)
        units = 0.0
        if old_in and new_in:
            old_entry, new_entry = index.project(old), index.project(new)
            same_key = all(old.attrs[n] == new.attrs[n] for n in key_names)
            if not same_key:
                units = write_units(item_size(old_entry)) + write_units(item_size(new_entry))
            elif old_entry.to_json() != new_entry.to_json():
                units = write_units(max(item_size(old_entry), item_size(new_entry)))
        elif old_in or new_in:
            units = write_units(item_size(index.project(old if old_in else new)))
        if units or old_in or new_in:
            target = gsi if index in (table.global_indexes or []) else lsi
            target[index.name] = units
    return table_units, gsi, lsi


def _sum_capacity(parts: list[tuple[float, dict[str, float], dict[str, float]]]) -> tuple[
        float, dict[str, float], dict[str, float]]:
    table_units = sum(p[0] for p in parts)
    gsi: dict[str, float] = {}
    lsi: dict[str, float] = {}
    for _, g, local in parts:
        for k, v in g.items():
            gsi[k] = gsi.get(k, 0.0) + v
        for k, v in local.items():
            lsi[k] = lsi.get(k, 0.0) + v
    return table_units, gsi, lsi


# -- table and index sizes (DescribeTable) ---------------------------------------------------
def index_entries(table: Any, index: Any) -> list[Any]:
    """Return the entries of a secondary index: items carrying its key attributes, projected.

    The same entries (and sizes) a Query or Scan of the index reads and is
    charged for (see :func:`_read_page`).
    """
    required = [k["AttributeName"] for k in index.schema]
    partial = (index.projection or {}).get("ProjectionType", "ALL") != "ALL"
    return [
        index.project(item) if partial else item
        for item in table.all_items()
        if all(a in item.attrs for a in required)
    ]


def describe_sizes(table: Any, description: dict[str, Any]) -> dict[str, Any]:
    """Fill DescribeTable's sizes and counts as DynamoDB reports them; return ``description``.

    ``TableSizeBytes`` / ``ItemCount`` of the table and ``IndexSizeBytes`` /
    ``ItemCount`` / ``IndexArn`` of every secondary index, counted with
    :func:`item_size`, the rule capacity is charged by: a full Scan of a
    table or index is charged about ``size / 4 KB`` read units. (DynamoDB
    refreshes these figures every six hours or so; the sandbox's are current.)
    moto reports a size of 0 and no index sizes at all.

    Parameters
    ----------
    table : moto.dynamodb.models.table.Table
        The table described.
    description : dict
        The ``Table`` / ``TableDescription`` object moto built for it.

    Returns
    -------
    dict
        ``description``, completed in place.
    """
    items = list(table.all_items())
    description["TableSizeBytes"] = sum(item_size(item) for item in items)
    description["ItemCount"] = len(items)
    indexes = {index.name: index for index in table.all_indexes()}
    for entry in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        for ix in description.get(entry) or []:
            index = indexes.get(ix.get("IndexName"))
            if index is None:
                continue
            entries = index_entries(table, index)
            ix["IndexSizeBytes"] = sum(item_size(e) for e in entries)
            ix["ItemCount"] = len(entries)
            ix.setdefault("IndexArn", f"{table.table_arn}/index/{index.name}")
    table_class = getattr(table, "xacct_table_class", None)
    if table_class:
        description["TableClassSummary"] = {"TableClass": table_class}
    return description


def _keeps_table_class(original: Handler) -> Handler:
    """CreateTable / UpdateTable: remember ``TableClass`` (moto drops it) for DescribeTable."""
    raw = _unwrap(original)

    def handler(self: Any) -> str:
        table_class = self.body.get("TableClass")
        if table_class is not None and table_class not in ("STANDARD", "STANDARD_INFREQUENT_ACCESS"):
            raise _invalid(
                f"1 validation error detected: Value '{table_class}' at 'tableClass' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                "[STANDARD_INFREQUENT_ACCESS, STANDARD]"
            )
        text = raw(self)
        if table_class is None:
            return str(text)
        table = self.dynamodb_backend.get_table(self.body["TableName"])
        table.xacct_table_class = table_class
        result = json.loads(text)
        result["TableDescription"]["TableClassSummary"] = {"TableClass": table_class}
        return json.dumps(result)

    handler.__name__ = raw.__name__
    return handler


def _describe_with_sizes(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def describe(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result = original(self, base_key)
        describe_sizes(self, result[base_key])
        return result

    describe.__wrapped__ = original  # type: ignore[attr-defined]
    return describe


# -- handler wrappers ------------------------------------------------------------------------
Handler = Callable[[Any], Any]


def _unwrap(method: Handler) -> Handler:
    return getattr(method, "__wrapped__", method)


def _check_capacity_mode(body: dict[str, Any]) -> str:
    mode = body.get("ReturnConsumedCapacity", "NONE")
    if mode not in ("NONE", "TOTAL", "INDEXES"):
        raise _invalid(
            f"1 validation error detected: Value '{mode}' at 'returnConsumedCapacity' failed to "
            "satisfy constraint: Member must satisfy enum value set: [INDEXES, TOTAL, NONE]"
        )
    return mode


def _with_capacity(text: str, capacity: dict[str, Any] | None) -> str:
    """Append ``ConsumedCapacity`` to a JSON object's text (no re-encoding of the items)."""
    if capacity is None:
        return text
    stripped = text.rstrip()
    glue = "" if stripped == "{}" else ", "
    return stripped[:-1] + glue + '"ConsumedCapacity": ' + json.dumps(capacity) + "}"


def _reader(original: Handler, operation: str) -> Handler:
    """Query/Scan: validation, Select=COUNT, ConsumedCapacity from the bytes the page read."""
    raw = _unwrap(original)

    def handler(self: Any) -> str:
        body = self.body
        mode = _check_capacity_mode(body)
        check_read_request(body, operation)
        check_placeholders(body)
        table = self.dynamodb_backend.get_table(body.get("TableName", ""))
        index_name = body.get("IndexName")
        if index_name and index_name not in {i.name for i in table.all_indexes()}:
            raise _invalid(f"The table does not have the specified index: {index_name}")
        if operation == "Query":
            check_filter_on_keys(table, body)
        _state.read = None
        _state.count_only = body.get("Select") == "COUNT"
        legacy_names = body.get("AttributesToGet")  # moto ignores it on Query and Scan
        _state.attributes_to_get = [[n] for n in legacy_names] if legacy_names else None
        try:
            text = raw(self)
        finally:
            _state.count_only = False
            _state.attributes_to_get = None
        read = getattr(_state, "read", None) or (0, None)
        _state.read = None
        if body.get("Select") == "COUNT":
            result = json.loads(text)
            result.pop("Items", None)
            text = json.dumps(result)
        consistent = bool(body.get("ConsistentRead"))
        return _with_capacity(text, _read_capacity(table, mode, read, consistent))

    handler.__name__ = raw.__name__
    return handler


def _get_item(original: Handler) -> Handler:
    raw = _unwrap(original)

    def get_item(self: Any) -> str:
        body = self.body
        mode = _check_capacity_mode(body)
        table = self.dynamodb_backend.get_table(body.get("TableName", ""))
        _check_key(table, body.get("Key"))
        check_placeholders(body)
        result = json.loads(raw(self))
        stored = _lookup(table, body["Key"])
        units = read_units(item_size(stored) if stored is not None else 0,
                           bool(body.get("ConsistentRead")))
        capacity = _capacity(table.name, mode, units, {}, {})
        if capacity:
            result["ConsumedCapacity"] = capacity
        return json.dumps(result)

    return get_item


def _writer(original: Handler, key_field: str) -> Handler:
    """PutItem/UpdateItem/DeleteItem: key checks and write capacity (table and indexes)."""
    raw = _unwrap(original)

    def handler(self: Any) -> str:
        body = self.body
        mode = _check_capacity_mode(body)
        table = self.dynamodb_backend.get_table(body.get("TableName", ""))
        if key_field == "Key":
            _check_key(table, body.get("Key"))
            key = body["Key"]
        else:
            key = _key_of(table, body.get("Item") or {})
        update = body.get("UpdateExpression")
        if isinstance(update, str) and update.strip():
            from moto.dynamodb.parsing.expressions import UpdateExpressionParser

            UpdateExpressionParser.make(update)  # syntax errors come before placeholder checks
        check_placeholders(body)
        old = _snapshot(table, key)
        result = json.loads(raw(self))
        new = _snapshot(table, key)
        result.pop("ConsumedCapacity", None)
        result.pop("ConsumedCapacityUnits", None)
        if not result.get("Attributes"):
            result.pop("Attributes", None)
        capacity = _capacity(table.name, mode, *_write_capacity(table, old, new))
        if capacity:
            result["ConsumedCapacity"] = capacity
        return json.dumps(result)

    handler.__name__ = raw.__name__
    return handler


def _batch_get(original: Handler) -> Handler:
    raw = _unwrap(original)

    def batch_get_item(self: Any) -> str:
        body = self.body
        mode = _check_capacity_mode(body)
        requests = body.get("RequestItems") or {}
        total = 0
        for name, request in requests.items():
            keys = request.get("Keys") or []
            if len(keys) > BATCH_GET_MAX_KEYS:
                raise _invalid(
                    f"1 validation error detected: Value at 'RequestItems.{name}.member.Keys' "
                    "failed to satisfy constraint: Member must have length less than or equal to 100"
                )
            total += len(keys)
        if total > BATCH_GET_MAX_KEYS:
            raise _invalid("Too many items requested for the BatchGetItem call")
        tables = {}
        for name, request in requests.items():
            table = tables[name] = self.dynamodb_backend.get_table(name)
            for key in request.get("Keys") or []:
                _check_key(table, key)
            if request.get("ProjectionExpression") and request.get("AttributesToGet"):
                raise _invalid(
                    "Can not use both expression and non-expression parameters in the same "
                    "request: Non-expression parameters: {AttributesToGet} Expression parameters: "
                    "{ProjectionExpression}"
                )
            check_placeholders(request)
        result = json.loads(raw(self))
        result.pop("ConsumedCapacity", None)
        capacities = []
        for name, request in requests.items():
            table = tables[name]
            consistent = bool(request.get("ConsistentRead"))
            units = 0.0
            for key in request.get("Keys") or []:
                stored = _lookup(table, key)
                units += read_units(item_size(stored) if stored is not None else 0, consistent)
            capacity = _capacity(table.name, mode, units, {}, {})
            if capacity:
                capacities.append(capacity)
        if capacities:
            result["ConsumedCapacity"] = capacities
        return json.dumps(result)

    return batch_get_item


def _batch_write(original: Handler) -> Handler:
    raw = _unwrap(original)

    def batch_write_item(self: Any) -> str:
        body = self.body
        mode = _check_capacity_mode(body)
        requests = body.get("RequestItems") or {}
        for name, writes in requests.items():
            if len(writes) > BATCH_WRITE_MAX_REQUESTS:
                raise _invalid(
                    f"1 validation error detected: Value at 'RequestItems.{name}.member' failed "
                    "to satisfy constraint: Member must have length less than or equal to 25"
                )
        plan: list[tuple[Any, dict[str, Any]]] = []
        seen: set[tuple[str, str]] = set()
        for name, writes in requests.items():
            table = self.dynamodb_backend.get_table(name)
            for write in writes:
                if "PutRequest" in write:
                    key = _check_item_key(table, (write["PutRequest"] or {}).get("Item"))
                else:
                    key = _check_key(table, (write.get("DeleteRequest") or {}).get("Key"))
                marker = (table.name, json.dumps(key, sort_keys=True))
                if marker in seen:
                    raise _invalid("Provided list of item keys contains duplicates")
                seen.add(marker)
                plan.append((table, key))
        before = [_snapshot(table, key) for table, key in plan]
        result = json.loads(raw(self))
        result.pop("ConsumedCapacity", None)
        per_table: dict[str, list[Any]] = {}
        for (table, key), old in zip(plan, before, strict=True):
            per_table.setdefault(table.name, []).append(
                _write_capacity(table, old, _snapshot(table, key)))
        capacities = [
            c for name, parts in per_table.items()
            if (c := _capacity(name, mode, *_sum_capacity(parts))) is not None
        ]
        if capacities:
            result["ConsumedCapacity"] = capacities
        return json.dumps(result)

    return batch_write_item


def _safe_call_action(original: Handler) -> Handler:
    """Wrap moto's ``call_action`` to answer DynamoDB's JSON errors, not HTML 500 pages."""

    def call_action(self: Any) -> Any:
        try:
            return original(self)
        except json.JSONDecodeError:  # the body is not JSON: DynamoDB cannot deserialize it
            body = json.dumps({"__type": "com.amazon.coral.service#SerializationException"})
            return 400, {"Content-Type": "application/x-amz-json-1.0", "status": "400"}, body
        except NotImplementedError as exc:
            if "action has not been implemented" not in str(exc):
                return _internal_error(exc)
            body = json.dumps({"__type": "com.amazon.coral.service#UnknownOperationException"})
            return 400, {"Content-Type": "application/x-amz-json-1.0", "status": "400"}, body
        except Exception as exc:
            from werkzeug.exceptions import HTTPException

            if isinstance(exc, HTTPException):
                raise
            return _internal_error(exc)

    call_action.__wrapped__ = original  # type: ignore[attr-defined]
    return call_action


def _internal_error(exc: BaseException) -> tuple[int, dict[str, str], str]:
    """DynamoDB's ``InternalServerError`` (HTTP 500, JSON), logging what moto raised."""
    import logging

    logging.getLogger(__name__).error("moto failed on a DynamoDB request", exc_info=exc)
    return 500, {"Content-Type": "application/x-amz-json-1.0", "status": "500"}, INTERNAL_ERROR_BODY


def _tolerant(op_class: Any) -> None:
    """Make a comparison operator evaluate to False for operands of different types."""
    original = op_class.expr

    def expr(self: Any, item: Any) -> bool:
        try:
            return bool(original(self, item))
        except (TypeError, ArithmeticError):
            return False

    op_class.expr = expr


def _unexpected_token(self: Any) -> None:
    """Raise moto's tokenizer error, with DynamoDB's ``near``: the tokens around the bad one.

    DynamoDB quotes the previous token, the offending one and the next one
    (``token: ":", near: "hits : incr"``).
    """
    from moto.dynamodb.exceptions import InvalidTokenException
    from moto.dynamodb.parsing.tokens import Token

    tokens = self.token_list
    before = ""
    if tokens:
        before = tokens[-1].value
        if tokens[-1].type == Token.WHITESPACE and len(tokens) > 1:
            before = tokens[-2].value + before
    consumed = sum(len(t.value) for t in tokens) + len(self.staged_characters)
    after = re.match(r"\s*\S*", self.input_expression_str[consumed:])
    bad = self.staged_characters[0] if self.staged_characters else "<EOF>"
    raise InvalidTokenException(bad, before + self.staged_characters + (after.group(0) if after else ""))


def _parse_projection(self: Any) -> list[Path]:
    """``ProjectionExpressionParser.parse`` with list indexes and DynamoDB's messages."""
    if not self.projection_expression:
        return []
    return parse_projection(
        self.projection_expression, self.expression_attribute_names, self.expr_attr_names_found
    )


def patch_moto_dynamodb() -> None:
    """Make moto's DynamoDB answer as DynamoDB does for what analysts touch (idempotent).

    Replaces, in moto 5.1.22: ``Item.size`` / ``DynamoType.size`` (DynamoDB's
    item-size rules) and the 400 KB item limit that uses them, ``Item.project`` and the projection parser (list
    indexes), ``Table.query`` / ``Table.scan`` (1 MB pages, Limit on evaluated
    items), the comparison operators (different types compare false), the
    DynamoDB handler's Query, Scan, GetItem, BatchGetItem, PutItem,
    UpdateItem, DeleteItem and BatchWriteItem (validation and
    ConsumedCapacity), its ExecuteStatement (a SELECT is paged by
    :func:`execute_select`), its ``call_action`` (JSON ``InternalServerError``
    instead of an HTML 500 page), and ``Table.describe`` (table and index
    sizes and counts by the same item-size rules, :func:`describe_sizes`; and
    ``TableClassSummary``, which moto's CreateTable / UpdateTable drop).
    """
    from moto.dynamodb import comparisons
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.tokens import ExpressionTokenizer
    from moto.dynamodb.responses import DynamoHandler, ProjectionExpressionParser

    if getattr(DynamoHandler, "_xacct_dynamodb", False):
        return
    Item.size = item_size  # type: ignore[method-assign, assignment]
    LimitedSizeDict.__setitem__ = _limited_setitem  # type: ignore[method-assign]
    DynamoType.size = value_size  # type: ignore[method-assign, assignment]
    Item.project = project_item  # type: ignore[method-assign, assignment]
    ProjectionExpressionParser.parse = _parse_projection  # type: ignore[method-assign, assignment]
    Table.scan = scan  # type: ignore[method-assign]
    ExpressionTokenizer.raise_unexpected_token = _unexpected_token  # type: ignore[method-assign]
    ExpressionTokenizer.is_expression_attribute_value = classmethod(  # type: ignore[method-assign, assignment]
        lambda cls, text: re.fullmatch(r":[a-zA-Z0-9_]+", text) is not None)
    Table.query = query  # type: ignore[method-assign]
    for name in ("OpLessThan", "OpGreaterThan", "OpLessThanOrEqual", "OpGreaterThanOrEqual",
                 "FuncBetween", "FuncBeginsWith", "FuncContains"):
        _tolerant(getattr(comparisons, name))
    DynamoHandler.query = _reader(DynamoHandler.query, "Query")  # type: ignore[method-assign]
    DynamoHandler.scan = _reader(DynamoHandler.scan, "Scan")  # type: ignore[method-assign]
    DynamoHandler.get_item = _get_item(DynamoHandler.get_item)  # type: ignore[method-assign]
    DynamoHandler.batch_get_item = _batch_get(DynamoHandler.batch_get_item)  # type: ignore[method-assign, assignment]
    DynamoHandler.put_item = _writer(DynamoHandler.put_item, "Item")  # type: ignore[method-assign]
    DynamoHandler.update_item = _writer(DynamoHandler.update_item, "Key")  # type: ignore[method-assign, assignment]
    DynamoHandler.delete_item = _writer(DynamoHandler.delete_item, "Key")  # type: ignore[method-assign]
    DynamoHandler.batch_write_item = _batch_write(DynamoHandler.batch_write_item)  # type: ignore[method-assign, assignment]
    DynamoHandler.execute_statement = _execute_statement(DynamoHandler.execute_statement)  # type: ignore[method-assign, assignment]
    DynamoHandler.call_action = _safe_call_action(DynamoHandler.call_action)  # type: ignore[method-assign]
    Table.describe = _describe_with_sizes(Table.describe)  # type: ignore[method-assign]
    DynamoHandler.create_table = _keeps_table_class(DynamoHandler.create_table)  # type: ignore[method-assign, assignment]
    DynamoHandler.update_table = _keeps_table_class(DynamoHandler.update_table)  # type: ignore[method-assign, assignment]
    DynamoHandler._xacct_dynamodb = True  # type: ignore[attr-defined]


def scope_partiql() -> None:
    """Moto's PartiQL sees only the tables and indexes the layer authorized for the request.

    moto hands *every* table of the account to its PartiQL engine and lets
    the statement pick; the layer authorizes the tables its own parser found
    in the statement. Were the two parsers ever to read a statement
    differently, a statement could reach a table nobody authorized. So the
    engine is given exactly the authorized tables (the layer puts them in
    :data:`._auth.partiql_scope` while it forwards the request), and AWS's
    ``"Table"."Index"`` spelling is given to moto as the ``"Table.Index"`` it
    knows.
    """
    import re

    from moto.dynamodb.models import DynamoDBBackend, DynamoType
    from moto.dynamodb.parsing import partiql

    from ._auth import partiql_scope

    if getattr(DynamoDBBackend, "_xacct_partiql_scoped", False):
        return

    def execute_statement(self: Any, statement: str, parameters: list[dict[str, Any]]) -> Any:
        allowed: set[tuple[str, str | None]] = getattr(partiql_scope, "tables", None) or set()
        source: dict[str, list[Any]] = {}
        for table in list(self.tables.values()):
            if (table.name, None) in allowed:
                source[table.name] = [item.to_json()["Attributes"] for item in table.all_items()]
            for index in table.all_indexes():
                if (table.name, index.name) in allowed:
                    source[f"{table.name}.{index.name}"] = [
                        item.to_json()["Attributes"] for item in table.all_items()
                        if all(a["AttributeName"] in item.attrs for a in index.schema)
                    ]
        for table_name, index_name in allowed:
            if index_name is not None:
                statement = re.sub(
                    rf'"{re.escape(table_name)}"\s*\.\s*"{re.escape(index_name)}"',
                    f'"{table_name}.{index_name}"', statement)
        returned, updates_per_table = partiql.query(statement, source, parameters)
        for table_name, updates in updates_per_table.items():
            if (table_name, None) not in allowed:  # never: the engine only had these
                raise RuntimeError(f"PartiQL wrote to {table_name}, which was not authorized")
            table = self.tables[table_name]
            for before, after in updates:
                if after is None and before is not None:
                    hash_key = DynamoType(before[table.hash_key_attr])
                    range_key = (DynamoType(before[table.range_key_attr])
                                 if table.range_key_attr else None)
                    table.delete_item(hash_key, range_key)
                elif after is not None:
                    table.put_item(after)
        return returned

    DynamoDBBackend.execute_statement = execute_statement  # type: ignore[method-assign]
    DynamoDBBackend._xacct_partiql_scoped = True  # type: ignore[attr-defined]


# -- PartiQL SELECT (ExecuteStatement) -------------------------------------------------------
#
# moto 5.1's PartiQL engine (py-partiql-parser) returns every matching item in one answer
# (no Limit, no 1 MB pages, no NextToken, no ConsumedCapacity), ignores ConsistentRead,
# drops nested paths from the SELECT list, matches nothing for BETWEEN or nested paths in
# WHERE, ignores begins_with(), and fails with a 500 on ``?`` parameters. A SELECT is
# therefore served here the way DynamoDB serves it: translated into a Query (an equality or
# IN on the partition key) or a Scan of the table or index, run by this module's paging
# Query/Scan (1 MB pages, Limit on evaluated items, read capacity from the bytes read),
# with the WHERE clause as a condition expression evaluated by moto's own condition
# evaluator. INSERT/UPDATE/DELETE still go to moto's engine (``scope_partiql``).

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "
#: DynamoDB's PartiQL functions, as the condition-expression functions they are.
_PQ_FUNCTIONS = {"BEGINS_WITH": "begins_with", "CONTAINS": "contains", "SIZE": "size",
                 "ATTRIBUTE_TYPE": "attribute_type"}
_PQ_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "IS", "TRUE", "FALSE", "NULL", "MISSING",
                "SELECT", "FROM", "WHERE", "ORDER", "BY", "ASC", "DESC"}
_PQ_COMPARISONS = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}
_PQ_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}


class _PqToken:
    __slots__ = ("kind", "text", "value")

    def __init__(self, kind: str, text: str, value: str) -> None:
        self.kind, self.text, self.value = kind, text, value

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


def _pq_invalid(detail: str) -> Exception:
    return _invalid(NOT_WELL_FORMED + detail)


def partiql_tokens(statement: str) -> list[_PqToken]:
    """Tokens of a PartiQL statement, comments and whitespace dropped, a final ``;`` too.

    The authorization layer's tokenizer (:func:`._accesses.partiql_tokens`),
    so that the statement executed is read exactly as the one authorized.

    Parameters
    ----------
    statement : str
        The statement as sent.

    Returns
    -------
    list
        Tokens with ``kind`` (``ident``, ``qident``, ``string``, ``number``,
        ``param``, ``op``, ``punct``), ``text`` and ``value`` (quotes removed).

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        "Statement wasn't well formed" for a character no token starts with.
    """
    from ._accesses import partiql_tokens as authorized_tokens
    from ._wire import WireError

    try:
        read = authorized_tokens(statement)
    except WireError as exc:
        raise _invalid(str(exc)) from None
    tokens = [_PqToken(t.kind, t.text, t.value if t.value is not None else t.text) for t in read]
    if tokens and tokens[-1].text == ";":
        tokens.pop()
    return tokens


def is_partiql_select(statement: Any) -> bool:
    """Whether a statement is a SELECT (the only PartiQL statement served by this module)."""
    if not isinstance(statement, str):
        return False
    try:
        tokens = partiql_tokens(statement)
    except Exception:  # noqa: BLE001 - moto's engine reports it
        return False
    return bool(tokens) and tokens[0].upper == "SELECT"


class _Translation:
    """A PartiQL SELECT as the pieces of a Query or Scan request."""

    def __init__(self) -> None:
        self.table = ""
        self.index: str | None = None
        self.paths: list[list[str | int]] | None = None  # None: SELECT *
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.condition: str | None = None
        self.conjuncts: list[list[_PqToken]] = []
        self.descending = False
        self.order_by: str | None = None

    def name(self, text: str) -> str:
        for placeholder, known in self.names.items():
            if known == text:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = text
        return placeholder

    def value(self, wire: dict[str, Any]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = wire
        return placeholder


def _pq_path(tokens: list[_PqToken], i: int) -> tuple[list[str | int], int]:
    """Read the document path starting at ``tokens[i]``; return (path, index after it)."""
    if i >= len(tokens) or tokens[i].kind not in ("ident", "qident") or (
            tokens[i].upper in _PQ_KEYWORDS):
        raise _pq_invalid(f"Unexpected token {tokens[i].text if i < len(tokens) else '<EOF>'!r}")
    path: list[str | int] = [tokens[i].value]
    i += 1
    while i < len(tokens) and tokens[i].kind == "punct" and tokens[i].text in (".", "["):
        if tokens[i].text == "." and i + 1 < len(tokens) and tokens[i + 1].kind in (
                "ident", "qident"):
            path.append(tokens[i + 1].value)
            i += 2
        elif (tokens[i].text == "[" and i + 2 < len(tokens) and tokens[i + 1].kind == "number"
              and tokens[i + 1].text.isdigit() and tokens[i + 2].text == "]"):
            path.append(int(tokens[i + 1].text))
            i += 3
        elif (tokens[i].text == "[" and i + 2 < len(tokens) and tokens[i + 1].kind == "string"
              and tokens[i + 2].text == "]"):
            path.append(tokens[i + 1].value)
            i += 3
        else:
            raise _pq_invalid(f"Unexpected token {tokens[i].text!r} in a document path")
    return path, i


def _pq_literal(tokens: list[_PqToken], i: int, parameters: list[Any],
                used: list[int]) -> tuple[dict[str, Any], int] | None:
    """Return the literal at ``tokens[i]`` as an AttributeValue (and the next index), else None."""
    token = tokens[i]
    if token.kind == "string":
        return {"S": token.value}, i + 1
    if token.kind == "number":
        return {"N": token.text}, i + 1
    if token.kind == "op" and token.text == "-" and i + 1 < len(tokens) and (
            tokens[i + 1].kind == "number"):
        return {"N": "-" + tokens[i + 1].text}, i + 2
    if token.kind == "param":
        if used[0] >= len(parameters):
            raise _invalid("Number of parameters in request and statement don't match.")
        value = parameters[used[0]]
        used[0] += 1
        return value, i + 1
    if token.upper in ("TRUE", "FALSE"):
        return {"BOOL": token.upper == "TRUE"}, i + 1
    if token.upper == "NULL":
        return {"NULL": True}, i + 1
    return None


def _pq_condition(tokens: list[_PqToken], out: _Translation, parameters: list[Any],
                  used: list[int]) -> str:
    """Translate a WHERE clause into a DynamoDB condition expression (placeholders in ``out``)."""
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == "ident" and nxt is not None and nxt.text == "(" and (
                token.upper in _PQ_FUNCTIONS):
            parts.append(_PQ_FUNCTIONS[token.upper] + "(")
            i += 2
            continue
        if token.kind == "ident" and token.upper in ("AND", "OR", "NOT", "BETWEEN"):
            parts.append(token.upper)
            i += 1
            continue
        if token.kind == "ident" and token.upper == "IN":
            if nxt is None or nxt.text not in ("[", "("):
                raise _pq_invalid("Expected a list after IN")
            parts.append("IN (")
            closing = "]" if nxt.text == "[" else ")"
            i += 2
            first = True
            while i < len(tokens) and tokens[i].text != closing:
                if not first:
                    if tokens[i].text != ",":
                        raise _pq_invalid(f"Unexpected token {tokens[i].text!r} in an IN list")
                    parts.append(",")
                    i += 1
                literal = _pq_literal(tokens, i, parameters, used)
                if literal is None:
                    raise _invalid("Unsupported operation: IN lists of values other than literals "
                                   "and parameters")
                wire, i = literal
                parts.append(out.value(wire))
                first = False
            if i >= len(tokens) or first:
                raise _pq_invalid("Unterminated or empty IN list")
            parts.append(")")
            i += 1
            continue
        literal = _pq_literal(tokens, i, parameters, used)
        if literal is not None:
            wire, i = literal
            parts.append(out.value(wire))
            continue
        if token.kind in ("ident", "qident"):
            path, i = _pq_path(tokens, i)
            text = out.name(str(path[0]))
            for step in path[1:]:
                text += f"[{step}]" if isinstance(step, int) else "." + out.name(step)
            if i < len(tokens) and tokens[i].upper == "IS":  # path IS [NOT] MISSING
                negate = i + 1 < len(tokens) and tokens[i + 1].upper == "NOT"
                what = tokens[i + 2] if negate and i + 2 < len(tokens) else (
                    tokens[i + 1] if i + 1 < len(tokens) else None)
                if what is None or what.upper != "MISSING":
                    raise _invalid("Unsupported operation: IS "
                                   + (what.text if what is not None else "")
                                   + " (the sandbox supports IS [NOT] MISSING)")
                text = ("attribute_exists(" if negate else "attribute_not_exists(") + text + ")"
                i += 3 if negate else 2
            parts.append(text)
            continue
        if token.kind == "op" and token.text in ("=", "<", "<=", ">", ">=", "<>", "!="):
            parts.append("<>" if token.text == "!=" else token.text)
            i += 1
            continue
        if token.kind == "punct" and token.text in ("(", ")", ","):
            parts.append(token.text)
            i += 1
            continue
        raise _pq_invalid(f"Unexpected token {token.text!r}")
    return " ".join(parts)


def _pq_conjuncts(tokens: list[_PqToken]) -> list[list[_PqToken]]:
    """Top-level AND-ed parts of a WHERE clause ([] if it has a top-level OR)."""
    depth, between = 0, False
    out: list[list[_PqToken]] = [[]]
    for token in tokens:
        if token.text in ("(", "["):
            depth += 1
        elif token.text in (")", "]"):
            depth -= 1
        if depth == 0 and token.kind == "ident":
            if token.upper == "OR":
                return []
            if token.upper == "BETWEEN":
                between = True
            elif token.upper == "AND":
                if between:
                    between = False
                else:
                    out.append([])
                    continue
        out[-1].append(token)
    if len(out) == 1 and len(out[0]) > 2 and out[0][0].text == "(" and _pq_closes(out[0]):
        return _pq_conjuncts(out[0][1:-1])  # ((a = 1 AND b = 2)) -> a = 1, b = 2
    return out


def _pq_closes(tokens: list[_PqToken]) -> bool:
    """Whether the parenthesis opening ``tokens`` is closed by its last token."""
    depth = 0
    for j, token in enumerate(tokens):
        if token.kind == "punct" and token.text == "(":
            depth += 1
        elif token.kind == "punct" and token.text == ")":
            depth -= 1
            if depth == 0:
                return j == len(tokens) - 1
    return False


def translate_select(statement: str, parameters: list[Any]) -> _Translation:
    """Translate a PartiQL SELECT into a table/index, a projection and a condition expression.

    Parameters
    ----------
    statement : str
        ``SELECT * | path, ... FROM "table"[."index"] [WHERE ...] [ORDER BY key [ASC|DESC]]``.
    parameters : list
        The request's ``Parameters`` (AttributeValues for the ``?`` in order).

    Returns
    -------
    _Translation
        Table, index, projected paths, condition expression with its placeholders,
        top-level conjuncts and the order.

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        DynamoDB's "Statement wasn't well formed" (or "Unsupported operation")
        for what it cannot translate, and a parameter count that does not match.
    """
    tokens = partiql_tokens(statement)
    out = _Translation()
    if not tokens or tokens[0].upper != "SELECT":
        raise _pq_invalid("Expected SELECT")
    depth = 0
    froms = []
    for i, token in enumerate(tokens):
        depth += token.text in ("(", "[", "{") and token.kind == "punct"
        depth -= token.text in (")", "]", "}") and token.kind == "punct"
        if depth == 0 and token.upper == "FROM":
            froms.append(i)
    if len(froms) != 1:
        raise _pq_invalid("a SELECT needs exactly one FROM")
    f = froms[0]
    select = tokens[1:f]
    if len(select) == 1 and select[0].text == "*":
        out.paths = None
    else:
        out.paths = []
        i = 0
        while i < len(select):
            path, i = _pq_path(select, i)
            out.paths.append(path)
            if i < len(select):
                if select[i].text != ",":
                    raise _pq_invalid(f"Unexpected token {select[i].text!r} in the SELECT list")
                i += 1
                if i == len(select):
                    raise _pq_invalid("Unexpected end of the SELECT list")
        if not out.paths:
            raise _pq_invalid("Expected a SELECT list")
    rest = f + 1
    if rest >= len(tokens) or tokens[rest].kind not in ("ident", "qident"):
        raise _pq_invalid("Expected a table name after FROM")
    out.table = tokens[rest].value
    rest += 1
    if rest + 1 < len(tokens) and tokens[rest].text == "." and tokens[rest + 1].kind in (
            "ident", "qident"):
        out.index = tokens[rest + 1].value
        rest += 2
    where: list[_PqToken] = []
    if rest < len(tokens):
        if tokens[rest].upper != "WHERE":
            raise _pq_invalid(f"Unexpected token {tokens[rest].text!r} after the table name")
        where = tokens[rest + 1:]
        order = next((j for j, t in enumerate(where) if t.upper == "ORDER"), None)
        if order is not None:
            tail = where[order:]
            where = where[:order]
            if len(tail) < 3 or tail[1].upper != "BY" or tail[2].kind not in ("ident", "qident"):
                raise _pq_invalid("Expected ORDER BY key [ASC|DESC]")
            out.order_by = tail[2].value
            if len(tail) > 4 or (len(tail) == 4 and tail[3].upper not in ("ASC", "DESC")):
                raise _pq_invalid("Expected ORDER BY key [ASC|DESC]")
            out.descending = len(tail) == 4 and tail[3].upper == "DESC"
        if not where:
            raise _pq_invalid("Unexpected end of statement")
    used = [0]
    if where:
        out.condition = _pq_condition(where, out, parameters, used)
        out.conjuncts = _pq_conjuncts(where)
    if used[0] != len(parameters):
        raise _invalid("Number of parameters in request and statement don't match.")
    return out


def _pq_key_conditions(out: _Translation, hash_name: str, range_name: str | None,
                       parameters: list[Any]) -> tuple[list[dict[str, Any]] | None, Any]:
    """(partition values pinned by ``=`` / ``IN``, or None; the sort-key condition, or None)."""
    partitions: list[dict[str, Any]] | None = None
    sort: Any = None
    used = [0]  # parameters are consumed in statement order: count them as conjuncts pass

    def literals(tokens: list[_PqToken]) -> list[dict[str, Any]] | None:
        values = []
        i = 0
        while i < len(tokens):
            if tokens[i].text == ",":
                i += 1
                continue
            literal = _pq_literal(tokens, i, parameters, used)
            if literal is None:
                return None
            values.append(literal[0])
            i = literal[1]
        return values

    def is_name(token: _PqToken, name: str | None) -> bool:
        return name is not None and token.kind in ("ident", "qident") and token.value == name and (
            token.upper not in _PQ_KEYWORDS)

    for conjunct in out.conjuncts:
        before = used[0]
        c = conjunct
        if len(c) >= 3 and c[1].kind == "op" and c[1].text in _PQ_COMPARISONS and is_name(
                c[0], hash_name) and c[1].text == "=":
            values = literals(c[2:])
            if values is not None and len(values) == 1 and partitions is None:
                partitions = values
        elif len(c) >= 3 and c[-2].kind == "op" and c[-2].text == "=" and is_name(c[-1], hash_name):
            values = literals(c[:-2])
            if values is not None and len(values) == 1 and partitions is None:
                partitions = values
        elif (len(c) >= 4 and is_name(c[0], hash_name) and c[1].upper == "IN"
              and c[2].text in ("[", "(") and c[-1].text in ("]", ")")):
            values = literals(c[3:-1])
            if values is not None and partitions is None:
                partitions = values
        elif range_name is not None and sort is None and len(c) >= 3 and is_name(c[0], range_name):
            if c[1].kind == "op" and c[1].text in _PQ_COMPARISONS:
                values = literals(c[2:])
                if values is not None and len(values) == 1:
                    sort = (_PQ_COMPARISONS[c[1].text], values)
            elif c[1].upper == "BETWEEN":
                and_at = next((j for j, t in enumerate(c) if t.upper == "AND"), None)
                if and_at is not None:
                    low, high = literals(c[2:and_at]), literals(c[and_at + 1:])
                    if low is not None and high is not None and len(low) == len(high) == 1:
                        sort = ("BETWEEN", low + high)
        elif (range_name is not None and sort is None and len(c) >= 6
              and c[0].upper == "BEGINS_WITH" and c[1].text == "(" and is_name(c[2], range_name)
              and c[3].text == "," and c[-1].text == ")"):
            values = literals(c[4:-1])
            if values is not None and len(values) == 1:
                sort = ("BEGINS_WITH", values)
        # Count the parameters of this conjunct whatever matched (``literals`` stops early).
        used[0] = before + sum(1 for t in conjunct if t.kind == "param")
    return partitions, sort


def _next_token_digest(body: dict[str, Any]) -> str:
    import hashlib

    what = json.dumps([body.get("Statement"), body.get("Parameters") or [],
                       bool(body.get("ConsistentRead"))], sort_keys=True)
    return hashlib.sha256(what.encode()).hexdigest()[:32]


def encode_next_token(body: dict[str, Any], partition: int, last_key: dict[str, Any]) -> str:
    """Make an opaque NextToken: where the statement's read stopped, bound to the statement.

    Parameters
    ----------
    body : dict
        The ExecuteStatement request (its Statement, Parameters and ConsistentRead
        are bound into the token).
    partition : int
        For an ``IN`` list: the position of the partition being read (0 otherwise).
    last_key : dict
        The LastEvaluatedKey of the page.

    Returns
    -------
    str
        Base64 text.
    """
    import base64

    payload = {"d": _next_token_digest(body), "p": partition, "k": last_key}
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode()


def decode_next_token(body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """(partition position, ExclusiveStartKey) of a request's NextToken; (0, None) without one.

    Raises
    ------
    moto.dynamodb.exceptions.MockValidationException
        A token that is not one of ours, or that another statement (or other
        parameters, or another ConsistentRead) returned.
    """
    import base64

    token = body.get("NextToken")
    if token is None:
        return 0, None
    try:
        payload = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        digest, partition, key = payload["d"], payload["p"], payload["k"]
        if not (isinstance(partition, int) and isinstance(key, dict) and isinstance(digest, str)):
            raise ValueError("shape")
    except Exception:  # noqa: BLE001 - anything but our own token
        raise _invalid("Invalid NextToken") from None
    if digest != _next_token_digest(body):
        raise _invalid("Invalid NextToken: the NextToken was returned for another statement "
                       "(or other parameters); send it with the statement that returned it")
    return partition, key


def _pq_output(item: Any, paths: list[list[str | int]] | None) -> dict[str, Any]:
    """Shape an item as PartiQL returns it: whole, or one attribute per path (its last name)."""
    attributes: dict[str, Any] = item.to_json()["Attributes"]
    if paths is None:
        return attributes
    out: dict[str, Any] = {}
    for path in paths:
        value: Any = {"M": attributes}
        for step in path:
            if isinstance(step, int):
                inner = value.get("L") if isinstance(value, dict) else None
                value = inner[step] if isinstance(inner, list) and step < len(inner) else None
            else:
                inner = value.get("M") if isinstance(value, dict) else None
                value = inner.get(step) if isinstance(inner, dict) else None
            if value is None:
                break
        if value is not None:
            name = next((s for s in reversed(path) if isinstance(s, str)), str(path[0]))
            out[name] = value
    return out


def execute_select(backend: Any, body: dict[str, Any], allowed: set[tuple[str, str | None]]) -> str:
    """Answer an ExecuteStatement SELECT as DynamoDB does: one page of a Query or a Scan.

    A WHERE clause with an equality (or ``IN``) on the partition key reads
    those partitions (a Query each, in the order listed, sort-key conditions
    narrowing the read); any other reads the whole table or index (a Scan).
    A page ends after ``Limit`` evaluated items or 1 MB read, with a
    ``NextToken`` bound to the statement and its parameters;
    ``ConsumedCapacity`` as for the Query/Scan of the same items.

    Parameters
    ----------
    backend : moto.dynamodb.models.DynamoDBBackend
        The account's backend.
    body : dict
        The ExecuteStatement request.
    allowed : set
        ``(table, index or None)`` pairs the authorization layer allowed.

    Returns
    -------
    str
        The JSON answer.
    """
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.models.dynamo_type import DynamoType

    mode = _check_capacity_mode(body)
    _check_limit(body)
    limit = body.get("Limit")
    parameters = body.get("Parameters") or []
    if not isinstance(parameters, list) or not all(
            isinstance(p, dict) and len(p) == 1 for p in parameters):
        raise _invalid("Parameters must be a list of AttributeValues")
    out = translate_select(str(body.get("Statement", "")), parameters)
    if (out.table, out.index) not in allowed:  # fail closed: the layer read another table
        raise _invalid(f"The sandbox did not authorize {out.table!r}"
                       + (f" index {out.index!r}" if out.index else "") + " for this statement")
    table = backend.get_table(out.table)
    consistent = bool(body.get("ConsistentRead"))
    if out.index is not None:
        index = _get_index(table, out.index, consistent)
        hash_name = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
        range_name = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"),
                          None)
    else:
        hash_name, range_name = table.hash_key_attr, table.range_key_attr
    try:
        condition = (get_filter_expression(out.condition, out.names, out.values)
                     if out.condition else None)
    except Exception as exc:  # moto's parser: the translated condition does not parse
        if getattr(exc, "error_type", "").endswith("ValidationException"):
            raise _pq_invalid(getattr(exc, "message", str(exc))) from None
        raise _pq_invalid(str(exc)) from None
    partitions, sort = _pq_key_conditions(out, hash_name, range_name, parameters)
    if out.order_by is not None and (
            partitions is None or out.order_by not in (hash_name, range_name)):
        raise _invalid("Must have WHERE clause in the statement when using ORDER BY clause."
                       if partitions is None else
                       f"ORDER BY is supported only on key attributes: {out.order_by}")
    position, start = decode_next_token(body)
    _state.read = None
    if partitions is None:
        if position != 0:
            raise _invalid("Invalid NextToken")
        items, scanned, last = scan(table, {}, limit, start, condition, out.index, consistent)
    else:
        if not 0 <= position < len(partitions):
            raise _invalid("Invalid NextToken")
        hash_type = table_attribute_type(table, hash_name)
        partition = partitions[position]
        if not (isinstance(partition, dict) and len(partition) == 1) or (
                hash_type and next(iter(partition)) != hash_type):
            items, scanned, last = [], 0, None  # a value of another type matches nothing
            _state.read = (0, None)
        else:
            comparison, values = sort if sort is not None else (None, [])
            range_type = table_attribute_type(table, range_name) if range_name else None
            if any(next(iter(v)) != range_type for v in values if isinstance(v, dict)):
                comparison, values = None, []  # the filter decides (and matches nothing)
            items, scanned, last = query(
                table, DynamoType(partition), comparison, [DynamoType(v) for v in values],
                limit, start, not out.descending, None, index_name=out.index,
                consistent_read=consistent, filter_expression=condition,
                hash_key_conditions=[(hash_name, DynamoType(partition))],
                range_key_conditions=(
                    [(str(range_name), str(comparison), [DynamoType(v) for v in values])]
                    if comparison else None),
            )
        if last is None and position + 1 < len(partitions):
            position, last = position + 1, {}
    read = getattr(_state, "read", None) or (0, None)
    _state.read = None
    result: dict[str, Any] = {"Items": [_pq_output(item, out.paths) for item in items]}
    if last is not None:
        from moto.dynamodb.models.utilities import dynamo_json_dump

        result["NextToken"] = encode_next_token(body, position, json.loads(dynamo_json_dump(last)))
    capacity = _read_capacity(table, mode, read, consistent)
    if capacity:
        result["ConsumedCapacity"] = capacity
    return json.dumps(result)


def table_attribute_type(table: Any, name: str | None) -> str | None:
    """Return the declared type (S, N, B) of a key attribute of a table or its indexes."""
    return {d["AttributeName"]: d["AttributeType"] for d in table.attr}.get(name or "")


def _execute_statement(original: Handler) -> Handler:
    """ExecuteStatement: a SELECT is paged here (:func:`execute_select`); writes go to moto."""
    raw = _unwrap(original)

    def execute_statement(self: Any) -> Any:
        body = self.body
        if not is_partiql_select(body.get("Statement")):
            return raw(self)
        from ._auth import partiql_scope

        allowed: set[tuple[str, str | None]] = getattr(partiql_scope, "tables", None) or set()
        return execute_select(self.dynamodb_backend, body, allowed)

    execute_statement.__name__ = raw.__name__
    return execute_statement
