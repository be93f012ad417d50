"""The logic of ``xn.explorer``, without a widget: every input, every action, every message.

The explorer has two layers, so the behaviour can be tested without a kernel
or a browser:

* :class:`ExplorerLogic` holds every input as plain attributes (table, index,
  partition text, sort operator and values, filter rows, columns, limit) and
  does the work: ListTables, DescribeTable, typing the text inputs, building
  and running the :func:`~xacct_nb.read_query` / :func:`~xacct_nb.read_scan`
  call, the "copy as code" text, the Scan confirmation, and turning every
  failure into a message (``error`` and ``hint``), never a traceback. This
  module; it does not import ipywidgets.
* :class:`~xacct_nb.Explorer` (an ``ipywidgets.VBox``, in
  :mod:`xacct_nb._explorer`) builds the widgets, copies their values into
  the logic when a button is clicked, and renders the logic's state into
  HTML widgets.

Text inputs become typed values as follows:

==================  ==========================================================
key attributes      by the key's type from DescribeTable: S -> ``str`` (as
                    typed), N -> ``int``, else ``float`` when it round-trips
                    exactly, else ``Decimal``; B -> ``bytes`` from base64
                    (as the AWS console and CLI show binary)
filter values       ``type="auto"`` (default): the attribute's type when
                    DescribeTable knows it, else ``int``, then ``float``, else
                    ``str``; text in quotes (``"123"``) is always a ``str``;
                    ``begins_with`` and ``contains`` take a ``str``. Pick
                    ``"S"``, ``"N"``, ``"BOOL"`` or ``"B"`` to force a type
                    (``BOOL``: true/false, yes/no, 1/0)
==================  ==========================================================
"""

from __future__ import annotations

import base64
import binascii
import re
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import BotoCoreError, ClientError

from ._access import ProbeResult, side_and_fix
from ._clients import client
from ._errors import (
    AccessDeniedError,
    InvalidArgumentError,
    LargeScanWarning,
    XacctError,
    translate_client_error,
)
from ._read import read_query, read_scan
from ._schema import KeySchema, describe, parse_table
from ._validate import foreign_error

__all__ = [
    "FILTER_OPERATORS",
    "LARGE_SCAN_BYTES",
    "LARGE_SCAN_ITEMS",
    "NO_VALUE_OPERATORS",
    "SORT_OPERATORS",
    "VALUE_TYPES",
    "ExplorerLogic",
    "FilterRow",
    "ScanConfirmation",
    "convert_value",
]

#: A full Scan of a table with more items than this asks for confirmation first.
LARGE_SCAN_ITEMS = 100_000
#: ... or larger than this many bytes (both from DescribeTable).
LARGE_SCAN_BYTES = 100 * 2**20
#: Operators of the sort-key condition (``None``: no condition).
SORT_OPERATORS = ("=", "<", "<=", ">", ">=", "between", "begins_with")
#: Operators of a filter row, and the boto3 ``Attr`` method each one calls.
FILTER_OPERATORS: dict[str, str] = {
    "=": "eq",
    "!=": "ne",
    "<": "lt",
    "<=": "lte",
    ">": "gt",
    ">=": "gte",
    "begins_with": "begins_with",
    "contains": "contains",
    "exists": "exists",
    "not_exists": "not_exists",
    "between": "between",
}
#: Filter operators that take no value.
NO_VALUE_OPERATORS = ("exists", "not_exists")
_STRING_ONLY = ("begins_with", "contains")
VALUE_TYPES = ("auto", "S", "N", "BOOL", "B")
_TYPE_NAMES = {"S": "text", "N": "number", "B": "base64 bytes", "BOOL": "true/false"}
_INT_RE = re.compile(r"[+-]?\d+")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RESOURCE_RE = re.compile(r"on resource: (arn:\S+?)(?:\s|$)")
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


@dataclass
class FilterRow:
    """One filter condition: ``attribute operator value`` (``value2`` for between).

    ``operator`` is one of :data:`FILTER_OPERATORS`; ``type`` is ``"auto"``
    or a DynamoDB type (``"S"``, ``"N"``, ``"BOOL"``, ``"B"``) to read the
    value text as.

    >>> FilterRow("total", ">", "100")
    FilterRow(attribute='total', operator='>', value='100', value2='', type='auto')
    """

    attribute: str
    operator: str = "="
    value: str = ""
    value2: str = ""
    type: str = "auto"


@dataclass(frozen=True)
class ScanConfirmation:
    """A Scan that waits for confirmation: the table, its item count and size."""

    table: str
    item_count: int | None
    size_bytes: int | None

    @property
    def message(self) -> str:
        if self.item_count is None and self.size_bytes is None:
            size = "its size is unknown (DescribeTable is not allowed)"
        else:
            size = f"{_count(self.item_count)} items, {_size(self.size_bytes)}"
        return (
            f"Scan reads (and is billed for) all of {self.table!r}: {size}. Confirm to scan "
            "it all, or cancel and set a limit, or Query a partition instead."
        )


def _count(n: int | None) -> str:
    return "unknown" if n is None else f"{n:,}"


def _size(n: int | None) -> str:
    if n is None:
        return "size unknown"
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:,.1f} {unit}"
    return f"{n} bytes"


# -- typing the text inputs ------------------------------------------------------------------


def _number(text: str, where: str) -> int | float | Decimal:
    """``"12"`` -> 12, ``"1.5"`` -> 1.5, digits a float cannot hold exactly -> Decimal."""
    text = text.strip()
    if _INT_RE.fullmatch(text):
        return int(text)
    if _NUMBER_RE.fullmatch(text):
        exact = Decimal(text)
        as_float = float(exact)
        # The read path sends a float as Decimal(str(x)): keep floats only when that is exact.
        return as_float if Decimal(str(as_float)) == exact else exact
    raise InvalidArgumentError(f"{where} is a number (N): {text!r} is not a number.")


def convert_value(text: str, type_: str, where: str = "value") -> Any:
    """Turn the text of an input into a typed value (see the module docstring).

    Parameters
    ----------
    text
        What the user typed.
    type_
        ``"S"``, ``"N"``, ``"B"`` (base64), ``"BOOL"`` or ``"auto"``.
    where
        What the value is, for the error message.

    Raises
    ------
    InvalidArgumentError
        The text is not of that type.

    >>> convert_value("42", "N"), convert_value("0.5", "auto"), convert_value('"42"', "auto")
    (42, 0.5, '42')
    """
    if type_ == "S":
        return text
    if type_ == "N":
        return _number(text, where)
    if type_ == "B":
        try:
            return base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidArgumentError(
                f"{where} is binary (B): {text!r} is not base64 (e.g. 'AAE=')."
            ) from None
    if type_ == "BOOL":
        low = text.strip().lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise InvalidArgumentError(f"{where} is a boolean: {text!r} is not true or false.")
    if type_ == "auto":
        stripped = text.strip()
        if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\"":
            return stripped[1:-1]
        if _NUMBER_RE.fullmatch(stripped):
            return _number(stripped, where)
        return text
    raise InvalidArgumentError(
        f"{where}: unknown type {type_!r}; use one of {', '.join(VALUE_TYPES)}."
    )


def _literal(value: Any) -> str:
    """Python source of a value (``Decimal`` needs ``from decimal import Decimal``)."""
    if isinstance(value, Decimal):
        return f"Decimal({str(value)!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) and len(value) == 1 else (
            f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
        )
    return repr(value)


# -- the logic -----------------------------------------------------------------------------


class ExplorerLogic:
    """What the explorer does, with its state in plain attributes.

    Set the inputs (``partition_text``, ``sort_op``, ``sort_text``,
    ``sort_text2``, ``filters``, ``columns``, ``limit``, ``ascending``), then
    call :meth:`run_query` or :meth:`run_scan`. After a read, ``result``
    (the DataFrame), ``elapsed`` (seconds), ``consumed_capacity`` and
    :meth:`code` describe it; after a failure, ``error`` and ``hint`` say
    what went wrong and what to do. ``load_tables``, ``select_*``,
    ``run_query`` and ``run_scan`` never raise (not even for a bug: that
    becomes an "Unexpected error" message); ``build_*_call``,
    ``code("query" | "scan")`` and ``chart_data`` raise
    :class:`~xacct_nb.InvalidArgumentError` for bad input.

    Parameters
    ----------
    session
        The role session (``conn.session``, ``xn.assume_role(...)``).
    tables
        Table names or ARNs to offer (one name is fine too); tables from
        ListTables are added when the role may list them.
    progress
        Passed to the readers: ``False`` (default) never shows a bar, ``None``
        shows one for multi-page reads when interactive, ``True`` always.

    Attributes
    ----------
    tables : list of str
        What the table picker offers (names or ARNs), after :meth:`load_tables`.
    table : str or None
        The chosen table; ``schema`` its :class:`~xacct_nb._schema.KeySchema`
        (None when DescribeTable was denied and no ``key_schema`` was set).
    index : str or None
        The chosen index (None: the table itself).
    result : pandas.DataFrame or None
        The frame of the last successful read (kept when a later read fails).
    pending_scan : ScanConfirmation or None
        A Scan waiting for ``run_scan(confirm=True)`` or :meth:`cancel_scan`.
    error, hint, notice : str
        The last failure, what to do about it, and informational notes.

    >>> logic = ExplorerLogic(session, tables=["MyCrossAccountTable"])
    >>> logic.load_tables()
    ['MyCrossAccountTable']
    >>> logic.select_table("MyCrossAccountTable").partition
    'customer_id'
    >>> logic.partition_text = "C-0001"
    >>> logic.sort_op, logic.sort_text = "begins_with", "2026-03"
    >>> df = logic.run_query()
    >>> print(logic.code())
    xn.read_query(session, 'MyCrossAccountTable', 'C-0001', sort=('begins_with', '2026-03'))
    """

    def __init__(self, session: Any, tables: str | Iterable[str] | None = None, *,
                 progress: bool | None = False) -> None:
        self.session = session
        if isinstance(tables, str):
            tables = [tables]
        self.given_tables: list[str] = list(tables or [])
        self.progress = progress
        self.tables: list[str] = []
        self.can_list_tables: bool | None = None
        self.table: str | None = None
        self.schema: KeySchema | None = None
        self.described = False  # the schema came from DescribeTable (not key_schema=)
        self.index: str | None = None
        self.partition_text = ""
        self.sort_op: str | None = None
        self.sort_text = ""
        self.sort_text2 = ""
        self.filters: list[FilterRow] = []
        self.columns: list[str] = []
        self.limit: int | None = None
        self.ascending = True
        self.result: pd.DataFrame | None = None
        self.result_kind: str | None = None  # "query" or "scan"
        self.result_code = ""
        self.result_sort_key: str | None = None
        self.elapsed: float | None = None
        self.consumed_capacity: float | None = None
        self.pending_scan: ScanConfirmation | None = None
        self.error = ""
        self.hint = ""
        self.notice = ""

    # -- messages ---------------------------------------------------------------------------
    def clear_error(self) -> None:
        self.error = self.hint = ""

    def _fail(self, exc: BaseException) -> None:
        """Store ``exc`` as a message and a hint (never re-raised)."""
        if not isinstance(exc, XacctError):  # botocore's, urllib3's, json's: ours, with a hint
            exc = foreign_error(exc, f"The request for {self.table or 'the tables'}") or exc
        if isinstance(exc, XacctError):
            self.error = str(exc)
            self.hint = _hint_for(exc, self.table)
        else:  # a bug or an unexpected library error: still a message, not a traceback
            self.error = f"Unexpected error ({type(exc).__name__}): {exc}"
            self.hint = "This is likely a bug in xacct-nb: please report it with these inputs."

    # -- tables -------------------------------------------------------------------------------
    def load_tables(self) -> list[str]:
        """Fill :attr:`tables`: the given tables, then those ListTables returns.

        A role that may not ListTables (the common case for cross-account
        roles) gets the given tables, and a message asking for ``tables=``
        when none were given.
        """
        self.clear_error()
        self.notice = ""
        listed: list[str] = []
        problem = ""
        try:
            paginator = client(self.session, "dynamodb").get_paginator("list_tables")
            for page in paginator.paginate():
                listed.extend(page.get("TableNames", []))
            self.can_list_tables = True
        except ClientError as exc:
            self.can_list_tables = False
            err = translate_client_error(exc, what="ListTables")
            problem = (
                "this role may not list tables (dynamodb:ListTables is denied)"
                if isinstance(err, AccessDeniedError) else f"ListTables failed: {err}"
            )
        except (XacctError, BotoCoreError) as exc:
            self.can_list_tables = False
            problem = f"ListTables failed: {exc}"
        given_names = {_name_of(t) for t in self.given_tables}
        self.tables = list(self.given_tables) + [t for t in listed if t not in given_names]
        if not self.tables:
            if problem:
                self.error = (
                    f"No tables to show: {problem}. Pass the tables to explore: "
                    "xn.explorer(session, tables=['MyTable']) (names or table ARNs)."
                )
            else:
                self.error = (
                    "No tables to show: ListTables found none in this account and region. "
                    "Pass the tables to explore: xn.explorer(session, tables=['MyTable']) "
                    "(names or table ARNs)."
                )
            self.hint = (
                "A cross-account role usually may not call ListTables; ask the table's owner "
                "for its name or ARN."
            )
        elif problem:
            self.notice = f"Showing the tables you passed: {problem}."
        return self.tables

    def select_table(self, table: str | None) -> KeySchema | None:
        """Choose a table and DescribeTable it (key names and types, indexes, size).

        If DescribeTable is denied, ``error``/``hint`` say so and
        :meth:`set_key_schema` lets you name the keys and query anyway.
        Resets the index and the sort condition.
        """
        self.clear_error()
        self.pending_scan = None
        self.table, self.schema, self.described = table, None, False
        self.index, self.sort_op, self.sort_text, self.sort_text2 = None, None, "", ""
        if table is None:
            return None
        try:
            self.schema = describe(self.session, parse_table(table))
            self.described = True
        except XacctError as exc:
            self._fail(exc)
            if isinstance(exc, AccessDeniedError):
                self.hint += (
                    " Scan works without it; to Query, name the keys (key names: "
                    "'partition' or 'partition, sort', with ':N' or ':B' after a "
                    "number or binary key)."
                )
        return self.schema

    def set_key_schema(self, partition: str, sort: str | None = None, *,
                       partition_type: str = "S", sort_type: str = "S") -> KeySchema:
        """Name the keys of a table whose DescribeTable is denied (passed as ``key_schema=``)."""
        types = {partition: partition_type}
        if sort:
            types[sort] = sort_type
        self.schema = KeySchema(partition=partition, sort=sort or None, attribute_types=types)
        self.described = False
        self.index = None
        return self.schema

    def set_key_schema_text(self, text: str) -> KeySchema | None:
        """:meth:`set_key_schema` from ``"pk"``, ``"pk, sk"`` or ``"pk:N, sk:S"``; '' clears it."""
        self.clear_error()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            if not self.described:
                self.schema = None
            return self.schema
        if len(parts) > 2:
            self.error = f"key names {text!r}: give one or two names, e.g. 'pk' or 'pk, sk'."
            return self.schema
        names, types = [], []
        for part in parts:
            name, _, type_ = part.partition(":")
            type_ = (type_.strip() or "S").upper()
            if type_ not in ("S", "N", "B") or not name.strip():
                self.error = f"key names {text!r}: {part!r} is not 'name' or 'name:S|N|B'."
                return self.schema
            names.append(name.strip())
            types.append(type_)
        return self.set_key_schema(
            names[0], names[1] if len(names) > 1 else None,
            partition_type=types[0], sort_type=types[1] if len(types) > 1 else "S",
        )

    def index_options(self) -> list[tuple[str, str | None]]:
        """(label, index) pairs for the index picker; the table itself is ``None``."""
        options: list[tuple[str, str | None]] = [("table", None)]
        if self.schema is not None:
            for name, (part, sort, kind) in self.schema.indexes.items():
                keys = part + (f", {sort}" if sort else "")
                options.append((f"{name} ({kind}: {keys})", name))
        return options

    def select_index(self, index: str | None) -> None:
        """Choose an index (``None``: the table); resets the sort condition."""
        self.clear_error()
        if index is not None and (self.schema is None or index not in self.schema.indexes):
            known = ", ".join(self.schema.indexes) if self.schema else "none known"
            self.error = f"Table {self.table!r} has no index {index!r} (its indexes: {known})."
            return
        self.index = index
        self.sort_op, self.sort_text, self.sort_text2 = None, "", ""

    # -- keys ---------------------------------------------------------------------------------
    def keys(self) -> tuple[str | None, str | None]:
        """Partition and sort key names of the table or chosen index (None when unknown)."""
        if self.schema is None:
            return None, None
        if self.index is None:
            return self.schema.partition, self.schema.sort
        part, sort, _ = self.schema.indexes[self.index]
        return part, sort

    def key_type(self, name: str | None) -> str:
        """DynamoDB type of a key attribute (``"S"`` when unknown)."""
        if self.schema is None or name is None:
            return "S"
        return self.schema.attribute_types.get(name, "S")

    def key_hint(self, which: str = "partition") -> str:
        """Return the placeholder text for a key input, e.g. ``"customer_id (S: text)"``."""
        part, sort = self.keys()
        name = part if which == "partition" else sort
        if name is None:
            return "key names unknown" if self.schema is None else "no sort key"
        type_ = self.key_type(name)
        return f"{name} ({type_}: {_TYPE_NAMES[type_]})"

    def partition_value(self) -> Any:
        """:attr:`partition_text` typed as the partition key."""
        part, _ = self.keys()
        if part is None:
            raise InvalidArgumentError(
                f"The key names of {self.table!r} are unknown (DescribeTable is denied): "
                "enter them (key names) to Query, or Scan."
            )
        text = self.partition_text
        if not text.strip():
            raise InvalidArgumentError(
                f"Enter a value for the partition key {part!r} to Query, or Scan instead."
            )
        return convert_value(text, self.key_type(part), f"partition key {part!r}")

    def sort_value(self) -> tuple[Any, ...] | None:
        """Return the ``sort=`` tuple of :attr:`sort_op` and the sort texts (None: no condition)."""
        if not self.sort_op:
            return None
        if self.sort_op not in SORT_OPERATORS:
            raise InvalidArgumentError(
                f"Unknown sort operator {self.sort_op!r}: use one of {', '.join(SORT_OPERATORS)}."
            )
        _, sort = self.keys()
        if sort is None:
            raise InvalidArgumentError(
                f"{'Index ' + repr(self.index) if self.index else 'Table ' + repr(self.table)} "
                "has no sort key: clear the sort condition, or filter instead."
            )
        type_ = "S" if self.sort_op == "begins_with" and self.key_type(sort) == "S" \
            else self.key_type(sort)
        where = f"sort key {sort!r}"
        texts = [self.sort_text] + ([self.sort_text2] if self.sort_op == "between" else [])
        for text in texts:
            if not text.strip():
                raise InvalidArgumentError(
                    f"Enter {'both values' if self.sort_op == 'between' else 'a value'} for the "
                    f"sort condition {sort} {self.sort_op} ..., or clear it."
                )
        return (self.sort_op, *(convert_value(t, type_, where) for t in texts))

    # -- filters and columns -------------------------------------------------------------------
    def add_filter(self, attribute: str = "", operator: str = "=", value: str = "",
                   value2: str = "", type: str = "auto") -> FilterRow:  # noqa: A002
        row = FilterRow(attribute, operator, value, value2, type)
        self.filters.append(row)
        return row

    def remove_filter(self, position: int) -> None:
        del self.filters[position]

    def _filter_parts(self) -> list[tuple[ConditionBase, str]]:
        """Each complete filter row as (boto3 condition, its Python source)."""
        parts = []
        for raw in self.filters:
            row = raw if isinstance(raw, FilterRow) else FilterRow(*raw)
            name = row.attribute.strip()
            if not name:
                if row.value.strip() or row.operator in NO_VALUE_OPERATORS:
                    raise InvalidArgumentError(f"A filter row has a value but no attribute: {row}.")
                continue  # an empty row, as the editor adds them
            method = FILTER_OPERATORS.get(row.operator)
            if method is None:
                raise InvalidArgumentError(
                    f"Filter on {name!r}: unknown operator {row.operator!r}; use one of "
                    f"{', '.join(FILTER_OPERATORS)}."
                )
            where = f"filter value for {name!r}"
            texts = [] if row.operator in NO_VALUE_OPERATORS else (
                [row.value, row.value2] if row.operator == "between" else [row.value])
            values = [self._filter_value(t, row, name, where) for t in texts]
            condition = getattr(Attr(name), method)(*values)
            source = f"Attr({name!r}).{method}({', '.join(_literal(v) for v in values)})"
            parts.append((condition, source))
        return parts

    def _filter_value(self, text: str, row: FilterRow, name: str, where: str) -> Any:
        if row.type != "auto":
            return convert_value(text, row.type, where)
        stripped = text.strip()
        if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\"":
            return stripped[1:-1]  # quoted: always a string
        known = self.schema.attribute_types.get(name) if self.schema else None
        type_ = known or ("S" if row.operator in _STRING_ONLY else "auto")
        return convert_value(text, type_, where)

    def filter_condition(self) -> ConditionBase | None:
        """Return the filter rows joined with ``&`` (None when there are none)."""
        condition = None
        for part, _ in self._filter_parts():
            condition = part if condition is None else condition & part
        return condition

    def known_attributes(self) -> list[str]:
        """Attribute names seen so far: keys of the table and its indexes, then result columns."""
        names: list[str] = []
        if self.schema is not None:
            names += list(self.schema.key_names)
            for part, sort, _ in self.schema.indexes.values():
                names += [part] + ([sort] if sort else [])
        if self.result is not None:
            names += [str(c) for c in self.result.columns]
        return list(dict.fromkeys(names))

    # -- calls ----------------------------------------------------------------------------------
    def _common(self) -> dict[str, Any]:
        if self.table is None:
            raise InvalidArgumentError("Choose a table first.")
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 0
        ):
            raise InvalidArgumentError(f"limit must be a positive whole number, not {self.limit!r}.")
        kwargs: dict[str, Any] = {}
        if self.index is not None:
            kwargs["index"] = self.index
        parts = self._filter_parts()
        if parts:
            kwargs["filter"] = self.filter_condition()
        columns = [c.strip() for c in self.columns if c and c.strip()]
        if columns:
            kwargs["columns"] = columns
        if self.limit:
            kwargs["limit"] = self.limit
        if self.schema is not None and not self.described:
            kwargs["key_schema"] = tuple(self.schema.key_names)
        return kwargs

    def build_query_call(self) -> tuple[Callable[..., Any], dict[str, Any]]:
        """``(xn.read_query, kwargs)`` for the current inputs; ``func(**kwargs)`` runs it.

        Raises
        ------
        InvalidArgumentError
            An input is missing or malformed (the message says which).
        """
        common = self._common()
        kwargs: dict[str, Any] = {
            "session": self.session, "table": self.table, "partition": self.partition_value(),
        }
        sort = self.sort_value()
        if sort is not None:
            kwargs["sort"] = sort
        kwargs.update(common)
        if not self.ascending:
            kwargs["ascending"] = False
        return read_query, kwargs

    def build_scan_call(self) -> tuple[Callable[..., Any], dict[str, Any]]:
        """``(xn.read_scan, kwargs)`` for the current inputs (the key inputs are ignored)."""
        return read_scan, {"session": self.session, "table": self.table, **self._common()}

    def _source(self, kind: str, kwargs: dict[str, Any], session_name: str) -> str:
        args = [session_name, _literal(kwargs["table"])]
        if kind == "query":
            args.append(_literal(kwargs["partition"]))
        order = ("sort", "index", "filter", "columns", "limit", "ascending", "key_schema")
        for name in order:
            if name not in kwargs:
                continue
            if name == "filter":
                text = " & ".join(source for _, source in self._filter_parts())
            else:
                text = _literal(kwargs[name])
            args.append(f"{name}={text}")
        function = "read_query" if kind == "query" else "read_scan"
        return f"xn.{function}({', '.join(args)})"

    def code(self, kind: str | None = None, *, session_name: str = "session",
             imports: bool = False) -> str:
        """Return the Python call that reproduces a read.

        Parameters
        ----------
        kind
            ``None``: the call that produced :attr:`result` ('' before any
            read); ``"query"`` or ``"scan"``: the call the current inputs make.
        session_name
            The variable that holds the session in your notebook.
        imports
            Start with the imports the call needs (``xn``, ``Attr``, ``Decimal``).

        The call alone runs after ``import xacct_nb as xn`` and
        ``from boto3.dynamodb.conditions import Attr`` (and ``from decimal
        import Decimal`` for a number a float cannot hold exactly).

        Raises
        ------
        InvalidArgumentError
            ``kind`` is given and an input is missing or malformed.
        """
        if kind is None:
            text = self.result_code
        elif kind in ("query", "scan"):
            _, kwargs = self.build_query_call() if kind == "query" else self.build_scan_call()
            text = self._source(kind, kwargs, "{session}")
        else:
            raise InvalidArgumentError(f"kind must be None, 'query' or 'scan', not {kind!r}.")
        text = text.replace("{session}", session_name, 1)
        if imports and text:
            lines = ["import xacct_nb as xn"]
            if "Attr(" in text:
                lines.append("from boto3.dynamodb.conditions import Attr")
            if "Decimal(" in text:
                lines.append("from decimal import Decimal")
            text = "\n".join(lines) + "\n\n" + text
        return text

    # -- running ---------------------------------------------------------------------------------
    def _run(self, kind: str, build: Callable[[], tuple[Callable[..., Any], dict[str, Any]]]
             ) -> pd.DataFrame | None:
        self.clear_error()
        self.pending_scan = None
        try:
            function, kwargs = build()
            source = self._source(kind, kwargs, "{session}")
            start = time.perf_counter()
            with warnings.catch_warnings():
                # The explorer asked for confirmation itself (ScanConfirmation).
                warnings.simplefilter("ignore", LargeScanWarning)
                df = function(**kwargs, progress=self.progress)
            elapsed = time.perf_counter() - start
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self._fail(exc)
            return None
        self.result, self.result_kind, self.result_code = df, kind, source
        self.result_sort_key = self.keys()[1] if kind == "query" else None
        self.elapsed = elapsed
        self.consumed_capacity = df.attrs.get("consumed_capacity")
        return df

    def run_query(self) -> pd.DataFrame | None:
        """Query the chosen partition; the frame (also in :attr:`result`), or None on failure."""
        return self._run("query", self.build_query_call)

    def needs_confirmation(self) -> ScanConfirmation | None:
        """Return what a Scan of the current inputs would need confirming (None: nothing).

        An unbounded Scan (no ``limit``, or a filter, which may read
        everything to find ``limit`` rows) of a table over
        :data:`LARGE_SCAN_ITEMS` items or :data:`LARGE_SCAN_BYTES` bytes, or of
        unknown size.
        """
        if self.limit and not self._filter_parts():
            return None
        schema = self.schema if self.described else None
        items = schema.item_count if schema else None
        size = schema.size_bytes if schema else None
        if items is None and size is None:
            return ScanConfirmation(str(self.table), None, None)
        if (items or 0) > LARGE_SCAN_ITEMS or (size or 0) > LARGE_SCAN_BYTES:
            return ScanConfirmation(str(self.table), items, size)
        return None

    def run_scan(self, confirm: bool = False) -> pd.DataFrame | None:
        """Scan the table (or index); a large one waits in :attr:`pending_scan` unless confirmed.

        Returns the frame, or None when it failed or needs confirmation
        (``pending_scan`` then holds the item count and size).
        """
        self.clear_error()
        if not confirm:
            try:
                self.build_scan_call()  # bad inputs are reported before asking anything
                pending = self.needs_confirmation()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)
                return None
            if pending is not None:
                self.pending_scan = pending
                return None
        return self._run("scan", self.build_scan_call)

    def cancel_scan(self) -> None:
        self.pending_scan = None

    # -- results ----------------------------------------------------------------------------------
    def numeric_columns(self) -> list[str]:
        """Columns of :attr:`result` that can be charted (numbers, not booleans)."""
        if self.result is None:
            return []
        return [
            str(name) for name, dtype in self.result.dtypes.items()
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        ]

    def chart_data(self, column: str) -> pd.Series:
        """Return the values of ``column`` as floats, missing values dropped.

        Indexed by the sort key after a Query that returned it (the chart
        then follows the sort order), else by row number.
        """
        if self.result is None or column not in self.numeric_columns():
            raise InvalidArgumentError(
                f"{column!r} is not a numeric column of the result; numeric columns: "
                f"{', '.join(self.numeric_columns()) or 'none'}."
            )
        series = self.result[column].astype("float64")
        sort = self.result_sort_key
        if sort is not None and sort in self.result.columns:
            series.index = pd.Index(self.result[sort].astype(str), name=sort)
        return series.dropna()

    def chart_kind(self) -> str:
        """``"line"`` along the sort key after a Query, else ``"hist"``."""
        if self.result_sort_key and self.result is not None and \
                self.result_sort_key in self.result.columns and len(self.result) > 1:
            return "line"
        return "hist"

    def summary(self) -> str:
        """One line about the last result: rows, capacity, time."""
        if self.result is None:
            return ""
        parts = [f"{len(self.result):,} rows"]
        if self.consumed_capacity is not None:
            parts.append(f"{self.consumed_capacity:g} read capacity units")
        if self.elapsed is not None:
            parts.append(f"{self.elapsed:.2f} s")
        pages = self.result.attrs.get("pages")
        if pages:
            parts.append(f"{pages} page{'s' if pages != 1 else ''}")
        scanned = self.result.attrs.get("scanned_count")
        if scanned is not None and scanned != len(self.result):
            parts.append(f"{scanned:,} items read")
        return ", ".join(parts)

    def table_info(self) -> str:
        """Keys, indexes and size of the chosen table, in one line."""
        if self.table is None:
            return ""
        if self.schema is None:
            return f"{self.table}: key names unknown (DescribeTable is not allowed)."
        keys = ", ".join(
            f"{n} ({self.schema.attribute_types.get(n, '?')})" for n in self.schema.key_names)
        text = f"{_name_of(self.table)}: key {keys}"
        if self.schema.indexes:
            text += f"; {len(self.schema.indexes)} index" + ("es" if len(self.schema.indexes) > 1
                                                              else "")
        if self.described:
            text += f"; {_count(self.schema.item_count)} items, {_size(self.schema.size_bytes)}"
        else:
            text += " (key names as given)"
        return text


def _name_of(table: str) -> str:
    try:
        return parse_table(table).name
    except XacctError:
        return table


def _hint_for(exc: XacctError, table: str | None) -> str:
    """Say what to do about ``exc``: for a denial, the side and the smallest fix (as verify_access)."""
    if isinstance(exc, AccessDeniedError) and exc.code in (
        "AccessDeniedException", "AccessDenied", "UnauthorizedOperation"
    ):
        match = _RESOURCE_RE.search(exc.aws_message or "")
        resource = match.group(1).rstrip(".,;") if match else (exc.table or table or "the table")
        probe = ProbeResult(exc.operation or "Query", False, exc.code, exc.aws_message)
        return side_and_fix(probe, resource, None, "")
    return ""
