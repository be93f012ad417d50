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
import contextlib
import datetime as _dt
import html
import json
import os
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import pandas as pd
from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import BotoCoreError, ClientError

from ._access import ProbeResult, side_and_fix
from ._clients import client
from ._decode import decode_items
from ._describe import CostEstimate, TableInfo
from ._engine import ReadStats, observe_pages, request_page
from ._errors import (
    AccessDeniedError,
    InvalidArgumentError,
    LargeScanWarning,
    XacctError,
    translate_client_error,
)
from ._export import frame_bytes
from ._partiql import read_partiql
from ._read import read_query, read_scan
from ._schema import KeySchema, describe, parse_table
from ._timeformat import iso_looking
from ._validate import foreign_error

__all__ = [
    "FILTER_OPERATORS",
    "NO_VALUE_OPERATORS",
    "SORT_OPERATORS",
    "VALUE_TYPES",
    "ExplorerLogic",
    "FilterRow",
    "ScanConfirmation",
    "convert_value",
]

#: The sample that suggests partition keys and tells attribute types: one page of
#: SAMPLE_ITEMS_PER_SEGMENT items from each of SAMPLE_SEGMENTS Scan segments.
SAMPLE_SEGMENTS = 10
SAMPLE_ITEMS_PER_SEGMENT = 10
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
    """A Scan that waits for confirmation: the table, its item count, size and cost estimate."""

    table: str
    item_count: int | None
    size_bytes: int | None
    cost: CostEstimate | None = None

    @property
    def message(self) -> str:
        if self.item_count is None and self.size_bytes is None:
            size = "its size is unknown (DescribeTable is not allowed)"
        else:
            size = f"{_count(self.item_count)} items, {_size(self.size_bytes)}"
        cost = f" It costs about {cost_text(self.cost)}." if self.cost is not None else ""
        return (
            f"Scan reads (and is billed for) all of {self.table!r}: {size}.{cost} Confirm to "
            "scan it all, or cancel and set a limit, or Query a partition instead."
        )


class _ReadCancelled(XacctError):
    """The read was stopped between two pages by the one who started it (Cancel)."""


@dataclass(eq=False)
class Read:
    """One read the explorer runs: the call, its source, and (after it ran) its outcome."""

    kind: str  #: "query", "scan" or "partiql"
    function: Callable[..., Any]
    kwargs: dict[str, Any]
    source: str  #: the call, with "{session}" for the session's variable
    generation: int
    inputs: dict[str, Any]
    sort_key: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    items: int = 0
    pages: int = 0
    frame: pd.DataFrame | None = None
    failure: BaseException | None = None
    cancelled: bool = False
    elapsed: float | None = None


#: How many runs the history keeps.
HISTORY_SIZE = 50


def history_path() -> str:
    """Where the explorer keeps its query history by default.

    ``$XACCT_HISTORY_FILE`` if set, else ``explorer-history.json`` in the
    user's data folder (``platformdirs.user_data_dir("xacct-nb")``).
    """
    path = os.environ.get("XACCT_HISTORY_FILE")
    if path:
        return path
    import platformdirs

    return os.path.join(platformdirs.user_data_dir("xacct-nb"), "explorer-history.json")


class History:
    """The last runs of the explorer, newest first, kept in a JSON file.

    Each entry holds the inputs (to run it again), the code and a summary;
    never a credential. ``path=False`` keeps the history in memory only.
    """

    def __init__(self, path: str | os.PathLike[str] | bool | None = None) -> None:
        if path is False:
            self.path: str | None = None
        elif path is None or path is True:
            self.path = history_path()
        else:
            self.path = os.fspath(path)
        self.entries: list[dict[str, Any]] = []
        self.problem = ""
        if self.path and os.path.exists(self.path):
            try:
                with open(self.path, encoding="utf-8") as f:
                    entries = json.load(f)
                self.entries = [e for e in entries if isinstance(e, dict) and "code" in e]
            except (OSError, ValueError, TypeError) as exc:
                self.problem = f"The history file {self.path} could not be read ({exc})."

    def add(self, read: Read, code: str, summary: str) -> None:
        entry = {
            "when": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "kind": read.kind, "inputs": read.inputs, "code": code, "summary": summary,
        }
        self.entries = [entry] + [e for e in self.entries
                                  if (e.get("code"), e.get("inputs", {}).get("table"))
                                  != (code, read.inputs.get("table"))]
        del self.entries[HISTORY_SIZE:]
        if not self.path:
            return
        try:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            tmp = f"{self.path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.entries, f, indent=1, default=str)
            os.replace(tmp, self.path)
            self.problem = ""
        except OSError as exc:
            self.problem = f"The history could not be saved to {self.path} ({exc})."

    def labels(self) -> list[str]:
        """One line per entry: when, what, and its summary."""
        out = []
        for entry in self.entries:
            code = entry["code"].split("xn.", 1)[-1]
            short = code if len(code) <= 90 else code[:87] + "..."
            out.append(f"{entry['when']}  {short}  [{entry.get('summary', '')}]")
        return out


def _utc(value: _dt.datetime) -> _dt.datetime:
    """Return a picked time in UTC (a naive one is UTC)."""
    return value.replace(tzinfo=_dt.UTC) if value.tzinfo is None else value.astimezone(_dt.UTC)


def _type_of(column: pd.Series) -> str:
    """Return the DynamoDB type a result column holds ("" when it cannot be told)."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOL"
    if pd.api.types.is_numeric_dtype(dtype):
        return "N"
    if isinstance(dtype, pd.StringDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        return "S"
    present = column.dropna()
    if present.empty:
        return ""
    first = present.iloc[0]
    for type_, kinds in (("S", str), ("B", (bytes, bytearray)), ("BOOL", bool),
                         ("N", (int, float, Decimal)), ("M", dict), ("L", list)):
        if isinstance(first, kinds):
            return type_
    if isinstance(first, (set, frozenset)):
        return "SS"
    return ""


#: The grid shows at most this many rows (all of them below it).
GRID_MAX_ROWS = 100_000
#: A nested value is one line of at most this many characters, expandable to all of it.
SUMMARY_CHARS = 60


def _cell_html(value: Any) -> str:
    """One cell of the grid as HTML: escaped text; nested values one line, expandable."""
    if value is None or value is pd.NA or value is pd.NaT or (
            isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (dict, list, set, frozenset, tuple)):
        text = json.dumps(_jsonable(value), ensure_ascii=False, default=str)
        if len(text) > SUMMARY_CHARS:
            text = text[:SUMMARY_CHARS - 1] + "\u2026"
        full = json.dumps(_jsonable(value), ensure_ascii=False, default=str, indent=2)
        # Newlines as character references: the grid's data travels as JSON text.
        lines = html.escape(full).replace("\n", "&#10;")
        return (f'<details class="xacct-json"><summary>{html.escape(text)}</summary>'
                f'<pre style="margin:0;font-size:90%">{lines}</pre></details>')
    if isinstance(value, (bytes, bytearray)):
        return html.escape(base64.b64encode(bytes(value)).decode("ascii"))
    if isinstance(value, pd.Timestamp):
        return html.escape(value.isoformat())
    return html.escape(str(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def display_frame(df: pd.DataFrame, max_rows: int = GRID_MAX_ROWS) -> pd.DataFrame:
    """Return the frame the grid shows: every cell as safe HTML, missing cells blank.

    Text from the table is escaped (it is data, never markup); lists, maps
    and sets are one line of JSON that expands into an indented view; bytes
    are base64. Numbers stay numbers in the text, so the grid still sorts
    them as numbers. Column headers are ``name`` with its dtype below.

    >>> shown = display_frame(pd.DataFrame({"n": pd.array([1, None], "Int64"),
    ...                                     "m": [{"a": 1}, None]}))
    >>> list(shown.columns)
    ['n<br><small>Int64</small>', 'm<br><small>object</small>']
    >>> shown.iloc[1].tolist()
    ['', '']
    """
    shown = df.head(max_rows)
    out = {}
    for name, column in shown.items():
        header = f"{html.escape(str(name))}<br><small>{html.escape(str(column.dtype))}</small>"
        out[header] = [_cell_html(v) for v in column.tolist()]
    return pd.DataFrame(out, index=shown.index, dtype=object)


def cost_text(cost: CostEstimate) -> str:
    """Return a read's estimated cost in one short line (``str(cost)`` explains it)."""
    text = f"{cost.rcu:,.1f} RCU (USD {cost.dollars:.6f} on demand), {cost.pages:,} " \
           f"page{'s' if cost.pages != 1 else ''}"
    if cost.seconds is not None:
        text += f", ~{cost.seconds:,.0f} s at the provisioned capacity"
    return text


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
    """Python source of a value (``Decimal`` needs ``from decimal import Decimal``).

    A datetime is written in UTC, ``datetime(2026, 3, 1, 0, 0, tzinfo=UTC)``
    (``from datetime import UTC, datetime``); a naive one is taken as UTC.
    """
    if isinstance(value, Decimal):
        return f"Decimal({str(value)!r})"
    if isinstance(value, _dt.datetime):
        utc = (value.replace(tzinfo=_dt.UTC) if value.tzinfo is None
               else value.astimezone(_dt.UTC))
        fields = [utc.year, utc.month, utc.day, utc.hour, utc.minute]
        if utc.second or utc.microsecond:
            fields.append(utc.second)
        if utc.microsecond:
            fields.append(utc.microsecond)
        return f"datetime({', '.join(map(str, fields))}, tzinfo=UTC)"
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
                 progress: bool | None = False, session_name: str = "session",
                 history: str | os.PathLike[str] | bool | None = None) -> None:
        self.session = session
        self.session_name = session_name
        self.history = History(history)
        self.info: TableInfo | None = None
        self.sample: pd.DataFrame | None = None
        self.sample_note = ""
        self.statement = ""
        self.sort_times: tuple[_dt.datetime | None, _dt.datetime | None] = (None, None)
        self.running: Read | None = None
        self.cancel_note = ""
        self._generation = 0
        self._lock = threading.RLock()
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
        self.max_rcu: float | None = None
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
        self.clear_result()
        self.pending_scan = None
        self.table, self.schema, self.described, self.info = table, None, False, None
        self.index, self.sort_op, self.sort_text, self.sort_text2 = None, None, "", ""
        self.sort_times = (None, None)
        self.sample, self.sample_note = None, ""
        if table is None:
            return None
        try:
            self.schema = describe(self.session, parse_table(table))
            self.described = True
            if self.schema.description:
                self.info = TableInfo.from_description(self.schema.description)
            self.take_sample()
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
        if index != self.index:
            self.clear_result()
        self.index = index
        self.sort_op, self.sort_text, self.sort_text2 = None, "", ""
        self.sort_times = (None, None)
        self.take_sample()

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
        if self.sort_times[0] is not None and self.sort_op != "begins_with":
            times = self.sort_times[:2] if self.sort_op == "between" else self.sort_times[:1]
            if any(t is None for t in times):
                raise InvalidArgumentError(
                    f"Pick both times for the sort condition {sort} between ..., or clear it.")
            return (self.sort_op, *(_utc(t) for t in times if t is not None))
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
        known = self.attribute_types().get(name)
        if known not in _TYPE_NAMES:
            known = None  # a list, map or set: compared as typed
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
        for frame in (self.sample, self.result):
            if frame is not None:
                names += [str(c) for c in frame.columns]
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
        if self.max_rcu:
            kwargs["max_rcu"] = self._max_rcu()
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
        if kind == "partiql":
            args = [session_name, _literal(kwargs["statement"])]
            for name in ("limit", "max_rcu"):
                if name in kwargs:
                    args.append(f"{name}={kwargs[name]!r}")
            return f"xn.read_partiql({', '.join(args)})"
        args = [session_name, _literal(kwargs["table"])]
        if kind == "query":
            args.append(_literal(kwargs["partition"]))
        order = ("sort", "index", "filter", "columns", "limit", "ascending", "max_rcu",
                 "key_schema")
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

    def code(self, kind: str | None = None, *, session_name: str | None = None,
             imports: bool = False) -> str:
        """Return the Python call that reproduces a read.

        Parameters
        ----------
        kind
            ``None``: the call that produced :attr:`result` ('' before any
            read); ``"query"`` or ``"scan"``: the call the current inputs make.
        session_name
            The variable that holds the session in your notebook (default
            :attr:`session_name`, the one the explorer was made from).
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
        elif kind in ("query", "scan", "partiql"):
            _, kwargs = {"query": self.build_query_call, "scan": self.build_scan_call,
                         "partiql": self.build_partiql_call}[kind]()
            text = self._source(kind, kwargs, "{session}")
        else:
            raise InvalidArgumentError(
                f"kind must be None, 'query', 'scan' or 'partiql', not {kind!r}.")
        text = text.replace("{session}", session_name or self.session_name, 1)
        if imports and text:
            lines = ["import xacct_nb as xn"]
            if "Attr(" in text:
                lines.append("from boto3.dynamodb.conditions import Attr")
            if "Decimal(" in text:
                lines.append("from decimal import Decimal")
            if "tzinfo=UTC)" in text:
                lines.append("from datetime import UTC, datetime")
            text = "\n".join(lines) + "\n\n" + text
        return text

    # -- running ---------------------------------------------------------------------------------
    def prepare(self, kind: str, *, confirm: bool = False) -> Read | None:
        """Build the read of the current inputs, to :meth:`execute` (in any thread).

        ``kind`` is ``"query"``, ``"scan"`` or ``"partiql"``. Returns None when
        an input is wrong (``error`` says which) or when an unbounded Scan
        waits for confirmation (:attr:`pending_scan`, with its cost), unless
        ``confirm``. A new read makes any running one stale: its result will
        not be kept.
        """
        self.clear_error()
        self.pending_scan = None
        self.cancel_note = ""
        builders = {"query": self.build_query_call, "scan": self.build_scan_call,
                    "partiql": self.build_partiql_call}
        try:
            if kind not in builders:
                raise InvalidArgumentError(
                    f"kind must be 'query', 'scan' or 'partiql', not {kind!r}.")
            function, kwargs = builders[kind]()
            if kind == "scan" and not confirm:
                pending = self.needs_confirmation()
                if pending is not None:
                    self.pending_scan = pending
                    return None
            source = self._source(kind, kwargs, "{session}")
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            self._fail(exc)
            return None
        with self._lock:
            self._generation += 1
            read = Read(kind, function, kwargs, source, self._generation, self.inputs(),
                        self.keys()[1] if kind == "query" else None)
            self.running = read
        return read

    def execute(self, read: Read, on_page: Callable[[Read], None] | None = None) -> None:
        """Run ``read`` (blocking; the explorer calls it in a background thread).

        ``on_page(read)`` is called after each page (``read.items``,
        ``read.pages``). :meth:`cancel` stops the read at its next page.
        Never raises: the outcome is in ``read.frame`` / ``read.failure``.
        """

        def page(n_items: int, more: bool) -> None:
            if read.cancel.is_set():
                raise _ReadCancelled(f"Cancelled after {read.items:,} items.")
            read.items += n_items
            read.pages += 1
            if on_page is not None:
                on_page(read)

        start = time.perf_counter()
        try:
            with observe_pages(page), warnings.catch_warnings():
                # The explorer asked for confirmation itself (ScanConfirmation).
                warnings.simplefilter("ignore", LargeScanWarning)
                read.frame = cast("pd.DataFrame", read.function(**read.kwargs,
                                                                 progress=self.progress))
        except _ReadCancelled:
            read.cancelled = True
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
            read.failure = exc
        read.elapsed = time.perf_counter() - start

    def finish(self, read: Read) -> pd.DataFrame | None:
        """Keep the outcome of ``read``, unless it was cancelled or a newer read replaced it.

        Returns the frame (also :attr:`result`), or None.
        """
        with self._lock:
            if read.generation != self._generation or read.cancelled:
                return None  # stale: the user moved on (cancel, another table, another read)
            self.running = None
            if read.failure is not None:
                self._fail(read.failure)
                return None
            df = read.frame
            assert df is not None
            self.clear_error()
            self.result, self.result_kind, self.result_code = df, read.kind, read.source
            self.result_sort_key = read.sort_key
            self.elapsed = read.elapsed
            self.consumed_capacity = df.attrs.get("consumed_capacity")
            self.history.add(read, self.code(), self.summary())
            return df

    def cancel(self) -> bool:
        """Stop the running read (at its next page); True if one was running.

        The explorer shows the inputs and the last result again at once; the
        read's threads end by themselves and what they read is dropped.
        """
        with self._lock:
            read, self.running = self.running, None
            self._generation += 1
        if read is None:
            return False
        read.cancel.set()
        self.cancel_note = f"Cancelled: the {read.kind} was stopped, nothing it read was kept."
        return True

    def run(self, kind: str, *, confirm: bool = False) -> pd.DataFrame | None:
        """Prepare, execute and finish a read in this thread (the frame, or None)."""
        read = self.prepare(kind, confirm=confirm)
        if read is None:
            return None
        self.execute(read)
        return self.finish(read)

    def run_query(self) -> pd.DataFrame | None:
        """Query the chosen partition; the frame (also in :attr:`result`), or None on failure."""
        return self.run("query")

    def run_partiql(self) -> pd.DataFrame | None:
        """Run :attr:`statement` (a PartiQL SELECT) with :func:`~xacct_nb.read_partiql`."""
        return self.run("partiql")

    def build_partiql_call(self) -> tuple[Callable[..., Any], dict[str, Any]]:
        """``(xn.read_partiql, kwargs)`` for :attr:`statement` and the limit."""
        statement = self.statement.strip()
        if not statement:
            raise InvalidArgumentError(
                'Enter a PartiQL statement, e.g. SELECT * FROM "MyTable" WHERE pk = \'x\'.')
        kwargs: dict[str, Any] = {"session": self.session, "statement": statement}
        if self.limit:
            kwargs["limit"] = self.limit
        if self.max_rcu:
            kwargs["max_rcu"] = self._max_rcu()
        return read_partiql, kwargs

    def _max_rcu(self) -> float | int:
        value = self.max_rcu
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise InvalidArgumentError(
                f"max RCU must be a positive number (0: no cap), not {value!r}.")
        return int(value) if float(value).is_integer() else float(value)

    def needs_confirmation(self) -> ScanConfirmation | None:
        """Return what a Scan of the current inputs would need confirming (None: nothing).

        Every unbounded Scan (no ``limit``, or a filter, which may read
        everything to find ``limit`` rows): its item count, size and cost
        estimate (from DescribeTable), or that they are unknown.
        """
        if self.limit and not self._filter_parts():
            return None
        schema = self.schema if self.described else None
        items, size = (schema.item_count, schema.size_bytes) if schema else (None, None)
        if schema is not None and self.index is not None and self.info is not None:
            index = self.info.index(self.index)
            items, size = index.item_count, index.size_bytes
        return ScanConfirmation(str(self.table), items, size, self.scan_cost())

    def scan_cost(self) -> CostEstimate | None:
        """Estimate a Scan of the current inputs (None when DescribeTable was denied)."""
        if self.info is None:
            return None
        try:
            return self.info.cost("scan", index=self.index, filtered=bool(self._filter_parts()),
                                  limit=self.limit or None)
        except XacctError:
            return None

    def run_scan(self, confirm: bool = False) -> pd.DataFrame | None:
        """Scan the table (or index); an unbounded one waits in :attr:`pending_scan` unless confirmed.

        Returns the frame, or None when it failed or needs confirmation
        (``pending_scan`` then holds the item count, size and cost).
        """
        return self.run("scan", confirm=confirm)

    def clear_result(self) -> None:
        """Forget the last result and its code (and stop a running read)."""
        self.cancel()
        self.result, self.result_kind, self.result_code = None, None, ""
        self.result_sort_key, self.elapsed, self.consumed_capacity = None, None, None

    def cancel_scan(self) -> None:
        self.pending_scan = None

    # -- what the explorer offers to choose from -------------------------------------------------
    def take_sample(self) -> pd.DataFrame | None:
        """Read a few items of the table or index: one page of each of a few Scan segments.

        :data:`SAMPLE_SEGMENTS` segments of :data:`SAMPLE_ITEMS_PER_SEGMENT`
        items each, so the sample spreads over the key space (for a GSI, over
        its key values) at the cost of a handful of items. They give the
        partition key suggestions and the types of the attributes filters
        can use. A role that may not Scan gets no suggestions
        (:attr:`sample_note` says why), not an error.
        """
        self.sample, self.sample_note = None, ""
        if self.table is None:
            return None
        ref = parse_table(self.table)
        params: dict[str, Any] = {"TableName": ref.request_name, "Limit": SAMPLE_ITEMS_PER_SEGMENT,
                                  "TotalSegments": SAMPLE_SEGMENTS}
        if self.index:
            params["IndexName"] = self.index
        items: list[dict[str, Any]] = []
        try:
            ddb = client(self.session, "dynamodb")
            stats = ReadStats()
            for segment in range(SAMPLE_SEGMENTS):
                page = request_page(ddb.scan, {**params, "Segment": segment},
                                    table=ref.name, stats=stats)
                items += page["Items"]
        except XacctError as exc:  # the engine translated botocore's errors
            what = "denied" if isinstance(exc, AccessDeniedError) else "failed"
            self.sample_note = (f"No suggestions: a sample Scan of a few items was {what}; "
                                "type the key.")
            return None
        part = self.keys()[0]
        self.sample = decode_items(items, key_names=(part,) if part else ())
        return self.sample

    def _texts(self, name: str | None, limit: int) -> list[str]:
        if name is None:
            return []
        type_ = self.key_type(name)
        values: list[Any] = []
        for frame in (self.result, self.sample):
            if frame is not None and name in frame.columns:
                values += frame[name].dropna().tolist()
        texts = []
        for value in values:
            if type_ == "B" and isinstance(value, (bytes, bytearray)):
                texts.append(base64.b64encode(bytes(value)).decode("ascii"))
            elif isinstance(value, pd.Timestamp):
                texts.append(value.isoformat())
            else:
                texts.append(str(value))
        unique = list(dict.fromkeys(texts))
        try:
            unique.sort(key=Decimal if type_ == "N" else str)
        except ArithmeticError:
            unique.sort()
        return unique[:limit]

    def partition_suggestions(self, limit: int = 200) -> list[str]:
        """Partition key values seen in the sample and the results, sorted (of the index, if any)."""
        return self._texts(self.keys()[0], limit)

    def sort_is_time(self) -> bool:
        """Whether the sort key holds timestamps (ISO-8601 text in the sample): pick times then."""
        sort = self.keys()[1]
        if sort is None or self.key_type(sort) != "S":
            return False
        for frame in (self.sample, self.result):
            if frame is not None and sort in frame.columns and frame[sort].notna().any():
                return iso_looking(frame[sort])
        return False

    def attribute_types(self) -> dict[str, str]:
        """DynamoDB type of each attribute known: keys (DescribeTable), then sample and results."""
        types = dict(self.schema.attribute_types) if self.schema is not None else {}
        for frame in (self.sample, self.result):
            if frame is None:
                continue
            for name, column in frame.items():
                if str(name) not in types:
                    type_ = _type_of(column)
                    if type_:
                        types[str(name)] = type_
        return types

    def check_filter(self, row: FilterRow) -> str:
        """Why ``row``'s value is wrong for its attribute ('' when it is fine), without reading."""
        name = row.attribute.strip()
        if not name or row.operator in NO_VALUE_OPERATORS:
            return ""
        texts = [row.value, row.value2] if row.operator == "between" else [row.value]
        try:
            for text in texts:
                if text.strip():
                    self._filter_value(text, row, name, f"filter value for {name!r}")
        except XacctError as exc:
            return str(exc)
        return ""

    # -- inputs, saved and restored (the history) ------------------------------------------------
    def inputs(self) -> dict[str, Any]:
        """Return the current inputs as plain JSON values (what the history keeps)."""
        return {
            "table": self.table, "index": self.index, "partition": self.partition_text,
            "sort_op": self.sort_op, "sort": [self.sort_text, self.sort_text2],
            "sort_times": [t.isoformat() if t else None for t in self.sort_times],
            "filters": [vars(FilterRow(*r)) if not isinstance(r, FilterRow) else vars(r)
                        for r in self.filters],
            "columns": list(self.columns), "limit": self.limit, "max_rcu": self.max_rcu,
            "ascending": self.ascending,
            "statement": self.statement,
        }

    def restore(self, inputs: dict[str, Any]) -> None:
        """Set the inputs saved by :meth:`inputs` (choosing the table and index first)."""
        if inputs.get("table") != self.table:
            self.select_table(inputs.get("table"))
        if inputs.get("index") != self.index:
            self.select_index(inputs.get("index"))
        self.partition_text = inputs.get("partition") or ""
        self.sort_op = inputs.get("sort_op") or None
        self.sort_text, self.sort_text2 = (list(inputs.get("sort") or []) + ["", ""])[:2]
        times = (list(inputs.get("sort_times") or []) + [None, None])[:2]
        self.sort_times = (
            _dt.datetime.fromisoformat(times[0]) if times[0] else None,
            _dt.datetime.fromisoformat(times[1]) if times[1] else None,
        )
        self.filters = [FilterRow(**f) for f in inputs.get("filters") or []]
        self.columns = list(inputs.get("columns") or [])
        self.limit = inputs.get("limit") or None
        self.max_rcu = inputs.get("max_rcu") or None
        self.ascending = bool(inputs.get("ascending", True))
        self.statement = inputs.get("statement") or ""

    # -- the table's overview, downloads -------------------------------------------------------
    def overview(self) -> list[tuple[str, str]]:
        """(label, text) lines about the chosen table, from DescribeTable, with a Scan's cost."""
        if self.table is None:
            return []
        ref = None
        with contextlib.suppress(XacctError):
            ref = parse_table(self.table)
        lines = [("Table", _name_of(self.table) + (
            f" (account {ref.account}, {ref.region})" if ref is not None and ref.account
            else ""))]
        if self.schema is None:
            lines.append(("Keys", "unknown: DescribeTable is not allowed (name them to Query)"))
            return lines
        types = self.schema.attribute_types
        keys = f"{self.schema.partition} ({types.get(self.schema.partition, '?')}, partition)"
        if self.schema.sort:
            keys += f", {self.schema.sort} ({types.get(self.schema.sort, '?')}, sort)"
        lines.append(("Keys", keys + ("" if self.described else " (as given)")))
        info = self.info
        if info is None:
            return lines
        lines.append(("Items", f"{_count(info.item_count)} items, {_size(info.size_bytes)}"))
        if info.indexes:
            lines.append(("Indexes", "; ".join(
                f"{ix.name} ({ix.kind}: {ix.keys_text(types)}, {ix.projection_text()})"
                for ix in info.indexes)))
        billing = ("on demand" if info.billing_mode == "PAY_PER_REQUEST"
                   else f"provisioned, {info.read_capacity} RCU")
        lines.append(("Capacity", billing))
        cost = self.scan_cost()
        if cost is not None:
            lines.append(("Scan", f"{'the index' if self.index else 'the whole table'}: "
                                  f"about {cost_text(cost)}"))
        if self.sample_note:
            lines.append(("Suggestions", self.sample_note))
        return lines

    def download(self, fmt: str) -> tuple[str, bytes]:
        """``(file name, bytes)`` of :attr:`result` as ``"csv"`` or ``"parquet"``.

        Encoded as :func:`~xacct_nb.export` writes files: numbers beyond
        int64 and decimals as exact text, lists, maps and sets as JSON.
        """
        if self.result is None:
            raise InvalidArgumentError("Run a Query, Scan or PartiQL statement first.")
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", _name_of(self.table or "result")) or "result"
        if fmt not in ("csv", "parquet"):
            raise InvalidArgumentError(f"fmt must be 'csv' or 'parquet', not {fmt!r}.")
        return f"{stem}.{fmt}", frame_bytes(self.result, fmt)

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
