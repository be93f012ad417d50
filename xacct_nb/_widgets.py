"""``xn.explorer``: an ipywidgets explorer of the tables a role may read.

Two layers, so the behaviour can be tested without a kernel or a browser:

* :class:`ExplorerLogic` holds every input as plain attributes (table, index,
  partition text, sort operator and values, filter rows, columns, limit) and
  does the work: ListTables, DescribeTable, typing the text inputs, building
  and running the :func:`~xacct_nb.read_query` / :func:`~xacct_nb.read_scan`
  call, the "copy as code" text, the Scan confirmation, and turning every
  failure into a message (``error`` and ``hint``), never a traceback. It does
  not import ipywidgets.
* :class:`Explorer` (an ``ipywidgets.VBox``) builds the widgets, copies their
  values into the logic when a button is clicked, and renders the logic's
  state into HTML widgets.

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
import html
import io
import re
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ipywidgets as w
import pandas as pd
from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import BotoCoreError, ClientError

from ._access import ProbeResult, _side_and_fix
from ._clients import client
from ._errors import (
    AccessDeniedError,
    InvalidArgumentError,
    XacctError,
    translate_client_error,
)
from ._read import LargeScanWarning, read_query, read_scan
from ._schema import KeySchema, describe, parse_table

__all__ = [
    "FILTER_OPERATORS",
    "LARGE_SCAN_BYTES",
    "LARGE_SCAN_ITEMS",
    "SORT_OPERATORS",
    "Explorer",
    "ExplorerLogic",
    "FilterRow",
    "ScanConfirmation",
    "explorer",
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
_NO_VALUE = ("exists", "not_exists")
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

    >>> logic = ExplorerLogic(session, tables=["MyCrossAccountTable"])   # doctest: +SKIP
    >>> logic.load_tables(); logic.select_table("MyCrossAccountTable")    # doctest: +SKIP
    >>> logic.partition_text = "C-0001"                                   # doctest: +SKIP
    >>> logic.sort_op, logic.sort_text = "begins_with", "2026-03"         # doctest: +SKIP
    >>> df = logic.run_query()                                            # doctest: +SKIP
    >>> print(logic.code())                                               # doctest: +SKIP
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
        """Placeholder text for a key input, e.g. ``"customer_id (S: text)"``."""
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
        """The ``sort=`` tuple from :attr:`sort_op` and the sort texts (None: no condition)."""
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
                if row.value.strip() or row.operator in _NO_VALUE:
                    raise InvalidArgumentError(f"A filter row has a value but no attribute: {row}.")
                continue  # an empty row, as the editor adds them
            method = FILTER_OPERATORS.get(row.operator)
            if method is None:
                raise InvalidArgumentError(
                    f"Filter on {name!r}: unknown operator {row.operator!r}; use one of "
                    f"{', '.join(FILTER_OPERATORS)}."
                )
            where = f"filter value for {name!r}"
            texts = [] if row.operator in _NO_VALUE else (
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
        """The filter rows joined with ``&`` (None when there are none)."""
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
        """The Python call that reproduces a read.

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
        """What a Scan of the current inputs would need confirming (None: nothing).

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
        """The values of ``column`` as floats, missing values dropped.

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
    """What to do about ``exc``: for a denial, the side and the smallest fix, as verify_access says."""
    if isinstance(exc, AccessDeniedError) and exc.code in (
        "AccessDeniedException", "AccessDenied", "UnauthorizedOperation"
    ):
        match = _RESOURCE_RE.search(exc.aws_message or "")
        resource = match.group(1).rstrip(".,;") if match else (exc.table or table or "the table")
        probe = ProbeResult(exc.operation or "Query", False, exc.code, exc.aws_message)
        return _side_and_fix(probe, resource, None, "")
    return ""


# -- the view ----------------------------------------------------------------------------------


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
        return ip is not None and getattr(ip, "kernel", None) is not None
    except Exception:  # noqa: BLE001 - IPython missing or unusual
        return False


def _png(series: pd.Series, kind: str, column: str) -> bytes:
    """A small PNG chart (matplotlib's object API: no pyplot, no global backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 2.8), dpi=90)
    ax = fig.add_subplot()
    if kind == "line":
        ax.plot(range(len(series)), series.to_numpy(), marker=".", linewidth=1)
        step = max(1, len(series) // 6)
        ticks = list(range(0, len(series), step))
        ax.set_xticks(ticks, [str(series.index[i])[:19] for i in ticks], rotation=20,
                      fontsize=7, ha="right")
        ax.set_xlabel(str(series.index.name))
    else:
        ax.hist(series.to_numpy(), bins=min(30, max(5, len(series) // 5)))
        ax.set_xlabel(column)
        ax.set_ylabel("rows")
    ax.set_title(f"{column}: {len(series):,} values, mean {series.mean():,.4g}", fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


class Explorer(w.VBox):  # type: ignore[misc]
    """The explorer widget: pickers, inputs, Query/Scan, results, chart, code, errors.

    Every callback goes through :class:`ExplorerLogic` (``explorer.logic``);
    the last frame is ``explorer.result``. Widgets are attributes
    (``table_picker``, ``index_picker``, ``partition``, ``sort_op``,
    ``sort_value``, ``sort_value2``, ``filter_rows``, ``add_filter_button``,
    ``columns``, ``limit``, ``query_button``, ``scan_button``,
    ``confirm_button``, ``cancel_button``, ``results``, ``chart_column``,
    ``chart``, ``code``, ``errors``, ...), so tests can set values and
    ``click()`` buttons without a kernel.

    >>> ex = Explorer(conn.session, tables=[conn.table])   # doctest: +SKIP
    >>> ex                                                 # doctest: +SKIP
    """

    def __init__(self, session: Any, tables: str | Iterable[str] | None = None, *,
                 progress: bool | None = None, **kwargs: Any) -> None:
        if progress is None:
            progress = None if _in_kernel() else False
        logic = ExplorerLogic(session, tables, progress=progress)
        wide = w.Layout(width="auto")
        self.table_picker = w.Dropdown(description="Table", options=[], layout=wide)
        # Dropdowns use "" for "nothing chosen": a None option value deselects the widget.
        self.index_picker = w.Dropdown(description="Index", options=[("table", "")], value="")
        self.table_info = w.HTML()
        self.key_names = w.Text(description="Key names", continuous_update=False,
                                placeholder="partition[, sort] (name:N for numbers)",
                                layout=w.Layout(display="none"))
        self.partition = w.Text(description="Partition")
        self.sort_op = w.Dropdown(description="Sort key",
                                  options=[("(any)", ""), *[(o, o) for o in SORT_OPERATORS]],
                                  value="")
        self.sort_value = w.Text(placeholder="value", layout=w.Layout(width="180px"))
        self.sort_value2 = w.Text(placeholder="and", layout=w.Layout(width="180px",
                                                                      display="none"))
        self.descending = w.Checkbox(description="descending", indent=False,
                                     layout=w.Layout(width="110px"))
        self.filter_rows = w.VBox()
        self.add_filter_button = w.Button(description="+ filter", icon="filter",
                                          layout=w.Layout(width="100px"))
        self.columns = w.TagsInput(allow_duplicates=False)
        self.limit = w.BoundedIntText(description="Limit", value=0, min=0,
                                      max=2**31 - 1, tooltip="0: no limit",
                                      layout=w.Layout(width="200px"))
        self.query_button = w.Button(description="Query", button_style="primary",
                                     icon="search")
        self.scan_button = w.Button(description="Scan", icon="table")
        self.confirm_text = w.HTML()
        self.confirm_button = w.Button(description="Scan it all", button_style="warning")
        self.cancel_button = w.Button(description="Cancel")
        self.confirm_row = w.HBox([self.confirm_text, self.confirm_button,
                                   self.cancel_button], layout=w.Layout(display="none"))
        self.errors = w.HTML()
        self.notice = w.HTML()
        self.progress_output = w.Output()
        self.summary = w.HTML()
        self.results = w.HTML()
        self.chart_column = w.Dropdown(description="Chart", options=[])
        self.chart = w.Image(format="png", layout=w.Layout(display="none"))
        self.chart_message = w.HTML()
        self.code = w.Textarea(
            placeholder="Run a Query or Scan: the call that reproduces it appears here.",
            layout=w.Layout(width="100%", height="90px"),
        )
        self.code_help = w.HTML(
            "<small>Copy as code: <code>session</code> is the session you passed to "
            "<code>xn.explorer</code>.</small>")
        self._filter_widgets: list[dict[str, Any]] = []
        self._syncing = False
        super().__init__(children=[
            w.HBox([self.table_picker, self.index_picker]),
            self.table_info, self.notice, self.key_names,
            w.HBox([self.partition]),
            w.HBox([self.sort_op, self.sort_value, self.sort_value2, self.descending]),
            w.HBox([w.Label("Filters"), self.add_filter_button]), self.filter_rows,
            w.HBox([w.Label("Columns"), self.columns]),
            w.HBox([self.limit, self.query_button, self.scan_button]),
            self.confirm_row, self.errors, self.progress_output, self.summary,
            self.results, w.HBox([self.chart_column, self.chart_message]), self.chart,
            self.code_help, self.code,
        ], **kwargs)
        self.logic = logic
        self.table_picker.observe(self._guard(self._on_table), "value")
        self.index_picker.observe(self._guard(self._on_index), "value")
        self.sort_op.observe(self._guard(self._on_sort_op), "value")
        self.key_names.observe(self._guard(self._on_key_names), "value")
        self.chart_column.observe(self._guard(self._on_chart_column), "value")
        self.add_filter_button.on_click(self._guard(lambda _: self._add_filter_row()))
        self.query_button.on_click(self._guard(self._on_query))
        self.scan_button.on_click(self._guard(self._on_scan))
        self.confirm_button.on_click(self._guard(self._on_confirm))
        self.cancel_button.on_click(self._guard(self._on_cancel))
        self._guard(self._load)()

    # -- plumbing ----------------------------------------------------------------------
    @property
    def result(self) -> pd.DataFrame | None:
        """The DataFrame of the last successful read (None before any)."""
        return self.logic.result

    def _guard(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Run a handler; anything it raises becomes the error message, not a traceback."""

        def guarded(*args: Any) -> None:
            if self._syncing:
                return
            try:
                handler(*args)
            except Exception as exc:  # noqa: BLE001 - a widget never shows a traceback
                self.logic._fail(exc)
                self._render_messages()

        return guarded

    def _load(self) -> None:
        tables = self.logic.load_tables()
        self._syncing = True
        try:
            self.table_picker.options = [(_label(t), t) for t in tables]
            self.table_picker.value = None
        finally:
            self._syncing = False
        if tables:
            self.table_picker.value = tables[0]  # -> _on_table
        else:
            self._render_messages()

    def _push_inputs(self) -> None:
        """Logic -> widgets for what selecting a table or index resets."""
        logic = self.logic
        self._syncing = True
        try:
            self.index_picker.options = [(label, v or "") for label, v in logic.index_options()]
            self.index_picker.value = logic.index or ""
            self.sort_op.value = logic.sort_op or ""
            self.sort_value.value, self.sort_value2.value = logic.sort_text, logic.sort_text2
            self.sort_value2.layout.display = "none"
            part, sort = logic.keys()
            self.partition.placeholder = logic.key_hint("partition")
            self.sort_value.placeholder = logic.key_hint("sort")
            self.sort_op.disabled = sort is None and logic.schema is not None
            known = logic.known_attributes()
            for row in self._filter_widgets:
                row["attribute"].options = known
            self.columns.placeholder = ", ".join(known[:6]) or "attribute names"
        finally:
            self._syncing = False

    def _pull_inputs(self) -> None:
        """Widgets -> logic, before a read."""
        logic = self.logic
        logic.partition_text = self.partition.value
        logic.sort_op = self.sort_op.value or None
        logic.sort_text, logic.sort_text2 = self.sort_value.value, self.sort_value2.value
        logic.ascending = not self.descending.value
        logic.filters = [
            FilterRow(r["attribute"].value, r["operator"].value, r["value"].value,
                      r["value2"].value, r["type"].value)
            for r in self._filter_widgets
        ]
        logic.columns = list(self.columns.value)
        logic.limit = int(self.limit.value) or None

    # -- events -----------------------------------------------------------------------
    def _on_table(self, change: dict[str, Any]) -> None:
        self.logic.select_table(change["new"])
        schema_unknown = self.logic.table is not None and self.logic.schema is None
        self.key_names.layout.display = None if schema_unknown else "none"
        self._syncing = True
        try:
            self.key_names.value = ""
        finally:
            self._syncing = False
        self._push_inputs()
        self._render_messages()
        self._render_confirmation()

    def _on_index(self, change: dict[str, Any]) -> None:
        self.logic.select_index(change["new"] or None)
        self._push_inputs()
        self._render_messages()

    def _on_sort_op(self, change: dict[str, Any]) -> None:
        self.sort_value2.layout.display = None if change["new"] == "between" else "none"

    def _on_key_names(self, change: dict[str, Any]) -> None:
        self.logic.set_key_schema_text(change["new"])
        self._push_inputs()
        self._render_messages()

    def _add_filter_row(self, row: FilterRow | None = None) -> dict[str, Any]:
        row = row or FilterRow("")
        widgets: dict[str, Any] = {
            "attribute": w.Combobox(value=row.attribute, placeholder="attribute",
                                    options=self.logic.known_attributes(),
                                    ensure_option=False, layout=w.Layout(width="160px")),
            "operator": w.Dropdown(options=list(FILTER_OPERATORS), value=row.operator,
                                   layout=w.Layout(width="120px")),
            "value": w.Text(value=row.value, placeholder="value",
                            layout=w.Layout(width="160px")),
            "value2": w.Text(value=row.value2, placeholder="and",
                             layout=w.Layout(width="120px", display="none")),
            "type": w.Dropdown(options=list(VALUE_TYPES), value=row.type,
                               tooltip="how to read the value",
                               layout=w.Layout(width="80px")),
            "remove": w.Button(icon="trash", tooltip="remove this filter",
                               layout=w.Layout(width="40px")),
        }

        def operator_changed(change: dict[str, Any]) -> None:
            widgets["value2"].layout.display = None if change["new"] == "between" else "none"
            widgets["value"].disabled = change["new"] in _NO_VALUE

        widgets["operator"].observe(self._guard(operator_changed), "value")
        widgets["remove"].on_click(self._guard(lambda _: self._remove_filter_row(widgets)))
        widgets["box"] = w.HBox([widgets[k] for k in
                                 ("attribute", "operator", "value", "value2", "type",
                                  "remove")])
        self._filter_widgets.append(widgets)
        self.filter_rows.children = [r["box"] for r in self._filter_widgets]
        return widgets

    def _remove_filter_row(self, widgets: dict[str, Any]) -> None:
        self._filter_widgets.remove(widgets)
        self.filter_rows.children = [r["box"] for r in self._filter_widgets]

    def _read(self, run: Callable[[], pd.DataFrame | None]) -> None:
        self._pull_inputs()
        buttons = (self.query_button, self.scan_button, self.confirm_button)
        for button in buttons:
            button.disabled = True
        try:
            if self.logic.progress is False:
                df = run()
            else:  # tqdm's notebook bar appears inside the explorer while paging
                with self.progress_output:
                    df = run()
                self.progress_output.clear_output()
        finally:
            for button in buttons:
                button.disabled = False
        self._render_messages()
        self._render_confirmation()
        if df is not None:
            self._render_result()

    def _on_query(self, _: Any) -> None:
        self._read(self.logic.run_query)

    def _on_scan(self, _: Any) -> None:
        self._read(self.logic.run_scan)

    def _on_confirm(self, _: Any) -> None:
        self._read(lambda: self.logic.run_scan(confirm=True))

    def _on_cancel(self, _: Any) -> None:
        self.logic.cancel_scan()
        self._render_confirmation()

    def _on_chart_column(self, change: dict[str, Any]) -> None:
        self._render_chart(change["new"] or None)

    # -- rendering ----------------------------------------------------------------------
    def _render_messages(self) -> None:
        logic = self.logic
        self.table_info.value = (
            f"<small>{html.escape(logic.table_info())}</small>" if logic.table else "")
        self.notice.value = (
            f"<small><i>{html.escape(logic.notice)}</i></small>" if logic.notice else "")
        if logic.error:
            hint = (f"<br><b>What to do:</b> {html.escape(logic.hint)}" if logic.hint else "")
            self.errors.value = (
                '<div style="color:#b00020;border-left:3px solid #b00020;padding-left:6px">'
                f"<b>Error:</b> {html.escape(logic.error)}{hint}</div>"
            )
        else:
            self.errors.value = ""

    def _render_confirmation(self) -> None:
        pending = self.logic.pending_scan
        self.confirm_row.layout.display = None if pending else "none"
        self.confirm_text.value = (
            f'<span style="color:#8a5300">{html.escape(pending.message)}</span>'
            if pending else "")

    def _render_result(self) -> None:
        logic = self.logic
        df = logic.result
        if df is None:
            return
        shown = min(len(df), 20)
        self.summary.value = (
            f"<b>{html.escape(logic.summary())}</b>"
            + (f" <small>(first {shown} shown)</small>" if len(df) > shown else ""))
        self.results.value = (
            '<div style="max-height:420px;overflow:auto">'
            + df.head(20).to_html(max_cols=40, border=0, na_rep="")
            + "</div>"
        )
        self.code.value = logic.code(imports=True)
        for row in self._filter_widgets:
            row["attribute"].options = logic.known_attributes()
        numeric = logic.numeric_columns()
        self._syncing = True
        try:
            self.chart_column.options = [("(none)", ""), *[(c, c) for c in numeric]]
            self.chart_column.value = ""
        finally:
            self._syncing = False
        self.chart.layout.display = "none"
        self.chart_message.value = "" if numeric else "<small>no numeric columns</small>"

    def _render_chart(self, column: str | None) -> None:
        if column is None:
            self.chart.layout.display = "none"
            return
        series = self.logic.chart_data(column)
        if series.empty:
            self.chart.layout.display = "none"
            self.chart_message.value = f"<small>{html.escape(column)}: no values</small>"
            return
        try:
            png = _png(series, self.logic.chart_kind(), column)
        except ImportError:
            self.chart_message.value = "<small>charts need matplotlib: pip install " \
                                       "matplotlib</small>"
            return
        self.chart.value = png
        self.chart.layout.display = None
        self.chart_message.value = ""



def _label(table: str) -> str:
    """Picker label: the name, and for an ARN its account and region."""
    try:
        ref = parse_table(table)
    except XacctError:
        return table
    return f"{ref.name} (account {ref.account}, {ref.region})" if ref.account else ref.name


def explorer(session: Any, tables: str | Sequence[str] | None = None) -> Any:
    """An ipywidgets explorer of DynamoDB tables, for a notebook.

    Pick a table (ListTables when the role may, else the ``tables`` given)
    and an index, type a partition key and an optional sort-key condition,
    add filters, choose columns and a limit, and Query or Scan (a Scan of a
    large table asks first, with its item count and size). Results show the
    first rows with the row count, consumed capacity and time, a quick chart
    of a numeric column, and the exact ``xn.read_query(...)`` call that
    reproduces them. Errors (denied, throttled, bad input) appear in the
    widget with a hint, never as a traceback.

    Parameters
    ----------
    session
        The role session, e.g. ``conn.session`` or ``xn.assume_role(...)``.
    tables
        Table names or ARNs to offer; needed when the role may not ListTables.

    Returns
    -------
    Explorer
        An ``ipywidgets.VBox``: display it (last expression of a cell).
        ``.result`` is the last DataFrame, ``.logic`` the
        :class:`ExplorerLogic` behind it.

    >>> ex = xn.explorer(conn.session, tables=[conn.table])   # doctest: +SKIP
    >>> ex                                                    # doctest: +SKIP
    >>> ex.result.describe()                                  # doctest: +SKIP
    """
    return Explorer(session, tables)
