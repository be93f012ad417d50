"""BatchGetItem into a pandas DataFrame: many items by their keys.

A read travels one way: keys (dicts, tuples, scalars or a DataFrame) ->
validated and encoded (:func:`~xacct_nb._encode.to_key`) ->
distinct keys in first-asked order -> batches of 100 -> ``UnprocessedKeys``
re-sent with exponential backoff and full jitter (bounded) -> items matched
back to their keys -> :class:`~xacct_nb._decode.FrameBuilder` -> DataFrame,
one row per distinct key found, in the order the keys were asked for.

Keys not found are not an error: they are listed in
``df.attrs["missing_keys"]``. A key is "missing" only when a complete
answer (one with ``Responses``) to a request that held it neither returned
it nor gave it back as unprocessed; a key without an answer (throttled, a
dropped connection, an answer cut short) is asked again by the request
engine (:func:`~xacct_nb._engine.request`). A read that cannot finish
raises :class:`~xacct_nb.IncompleteReadError` (``unread_keys`` says which
keys are left) and never returns a partial frame.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from ._budget import check_max_rcu, consumed_capacity, read_budget
from ._cache import cached_read, check_cache
from ._decode import FrameBuilder
from ._encode import is_missing, to_key
from ._engine import UNPROCESSED, ReadStats, dynamodb_client, request, throttling_to_engine
from ._errors import IncompleteReadError, InvalidArgumentError
from ._expressions import build_expressions
from ._schema import KeySchema, key_schema_for, parse_table
from ._timeformat import TimeContext, check_time_args
from ._validate import check_bool, check_choice, check_session, public

__all__ = ["canonical_key", "read_items"]

#: Keys per BatchGetItem request (DynamoDB's maximum).
BATCH_SIZE = 100

_TYPE_NAMES = {"S": "string", "N": "number", "B": "binary"}


def canonical_key(item: Mapping[str, Any], names: Sequence[str]) -> tuple[Any, ...]:
    """Return a hashable form of an item's key in which equal DynamoDB keys are equal.

    Numbers compare by value (``"1"`` and ``"1.0"`` are one key, as in
    DynamoDB); binary values are bytes whether given as bytes or base64 text.

    >>> canonical_key({"pk": {"S": "a"}, "sk": {"N": "1.0"}}, ["pk", "sk"]) == (
    ...     canonical_key({"pk": {"S": "a"}, "sk": {"N": "1"}}, ["pk", "sk"]))
    True
    """
    out: list[Any] = []
    for name in names:
        ((tag, value),) = item[name].items()
        if tag == "N":
            value = Decimal(value)
        elif tag == "B":
            value = base64.b64decode(value) if isinstance(value, str) else bytes(value)
        out.append((tag, value))
    return tuple(out)


def _key_rows(keys: Any, names: tuple[str, ...], table: str) -> list[tuple[Any, ...]]:
    """Return the keys as tuples of values in key-schema order (no serialization yet)."""
    shape = " and ".join(repr(n) for n in names)
    if isinstance(keys, pd.DataFrame):
        absent = [n for n in names if n not in keys.columns]
        if absent:
            raise InvalidArgumentError(
                f"keys has no column {absent[0]!r}, a key attribute of table {table!r} "
                f"(its key: {', '.join(names)})."
            )
        return list(zip(*(keys[n].tolist() for n in names), strict=True))
    if isinstance(keys, (Mapping, str, bytes)) or not isinstance(keys, Iterable):
        raise InvalidArgumentError(
            f"keys must be a list of keys (dicts like {{{', '.join(f'{n!r}: ...' for n in names)}}}"
            + (", or values of the partition key" if len(names) == 1 else ", or tuples")
            + f") or a DataFrame with the key columns, not {type(keys).__name__}. "
            "To read one key, pass a list of one."
        )
    rows: list[tuple[Any, ...]] = []
    for i, key in enumerate(keys):
        if isinstance(key, Mapping):
            unknown = [k for k in key if k not in names]
            if unknown:
                raise InvalidArgumentError(
                    f"keys[{i}]: {unknown[0]!r} is not a key attribute of table {table!r}; "
                    f"its key is {shape}."
                )
            absent = [n for n in names if n not in key]
            if absent:
                raise InvalidArgumentError(
                    f"keys[{i}] has no {absent[0]!r}: every key of table {table!r} needs {shape}."
                )
            rows.append(tuple(key[n] for n in names))
        elif isinstance(key, (tuple, list)):
            if len(key) != len(names):
                raise InvalidArgumentError(
                    f"keys[{i}] = {key!r} has {len(key)} value{'' if len(key) == 1 else 's'}; "
                    f"keys of table {table!r} have {len(names)}: {shape}, in that order."
                )
            rows.append(tuple(key))
        elif len(names) == 1:
            rows.append((key,))
        else:
            raise InvalidArgumentError(
                f"keys[{i}] = {key!r} is a single value, but table {table!r} has a composite key "
                f"({shape}): give each key as a dict {{{names[0]!r}: ..., {names[1]!r}: ...}} or "
                f"a tuple in that order."
            )
    return rows


def _serialize_keys(
    rows: list[tuple[Any, ...]], schema: KeySchema, table: str
) -> list[dict[str, dict[str, Any]]]:
    names = schema.key_names
    wire_keys: list[dict[str, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        for name, value in zip(names, row, strict=True):
            if is_missing(value):
                raise InvalidArgumentError(
                    f"keys[{i}] has no value for {name!r} ({value!r}); every key of table "
                    f"{table!r} needs a value for each key attribute."
                )
        try:
            wire = to_key(dict(zip(names, row, strict=True)))
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"keys[{i}]: {exc}") from None
        for name in names:
            expected = schema.attribute_types.get(name)
            tag = next(iter(wire[name]))
            if expected and tag != expected:
                raise InvalidArgumentError(
                    f"keys[{i}]: {name!r} of table {table!r} is a "
                    f"{_TYPE_NAMES.get(expected, expected)} ({expected}), got "
                    f"{type(row[names.index(name)]).__name__} {row[names.index(name)]!r}."
                )
        wire_keys.append(wire)
    return wire_keys


def _projection(columns: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """Build the ProjectionExpression of the key attributes (always) and ``columns``."""
    if columns is None:
        return {}
    wanted = [columns] if isinstance(columns, str) else columns
    if not isinstance(wanted, (list, tuple)) or not all(isinstance(c, str) for c in wanted):
        raise InvalidArgumentError(
            f"columns must be a list of attribute names (str), not {columns!r}."
        )
    rest = [c for c in dict.fromkeys(wanted) if c not in names]
    params = build_expressions(columns=rest) if rest else {}
    key_placeholders = {f"#k{i}": name for i, name in enumerate(names)}
    parts = list(key_placeholders)
    if rest:
        parts.append(params["ProjectionExpression"])
    return {
        "ProjectionExpression": ", ".join(parts),
        "ExpressionAttributeNames": {**key_placeholders, **params.get("ExpressionAttributeNames", {})},
    }


@public
def read_items(
    session: Any,
    table: str,
    keys: Any,
    *,
    columns: Any = None,
    consistent: bool = False,
    numbers: str = "auto",
    flatten: bool = False,
    key_schema: Any = None,
    parse_dates: Any = None,
    cache: Any = None,
    max_rcu: Any = None,
) -> pd.DataFrame:
    """Read items by their keys (BatchGetItem) into a typed DataFrame.

    Any number of keys: they are sent 100 to a request, and keys DynamoDB
    returns as ``UnprocessedKeys`` are asked again with exponential backoff
    and jitter (at most ``UNPROCESSED.retries + 1`` requests per batch, :mod:`xacct_nb._engine`).

    Rows come back in the order the keys were asked for, one row per
    **distinct** key (a key asked twice gives one row, at its first
    position; DynamoDB refuses duplicates in one request). Keys that do not
    exist are not an error: they have no row and are listed in
    ``df.attrs["missing_keys"]``.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. from :func:`xacct_nb.assume_role`).
    table
        Table name or table ARN.
    keys
        A list of dicts ``{"customer_id": "C-0001", "order_ts": "..."}``; a
        list of tuples in key-schema order; for a table with a partition
        key only, a list of its values; or a DataFrame with the key columns
        (other columns are ignored, so a frame read earlier can be passed).
    columns
        Attributes to return (``ProjectionExpression``; ``"a.b"`` is a
        document path). The key attributes are always returned, as the
        first columns, so that every row says which key it answers.
    consistent
        Strongly consistent reads.
    numbers
        ``"auto"``, ``"decimal"`` or ``"float"`` (see the type contract).
    flatten
        Turn maps into ``parent.child`` columns.
    key_schema
        Key names, to skip DescribeTable: ``"pk"`` or ``("pk", "sk")``.
    max_rcu
        A read-capacity budget (RCU per second, ``"N%"`` of provisioned, or
        ``"off"``; see :func:`xacct_nb.read_query`): batches are then sized
        to about one second of budget (1 to 100 keys) from what the keys
        asked so far cost.

    Returns
    -------
    pandas.DataFrame
        Key columns first. ``df.attrs``: ``requested`` (keys given),
        ``duplicate_keys`` (of those, repeats), ``found``, ``missing_keys``
        (the keys not found, as dicts), ``consumed_capacity``, ``pages``
        (BatchGetItem requests answered), ``retries`` (requests sent again:
        for ``UnprocessedKeys``, botocore's own retries of throttled or failed
        requests, and ``resumed``: requests sent again after those gave up or
        after an answer that was cut short), ``count``, ``scanned_count``,
        ``segments``, ``max_rcu``, ``throttled``, ``waited_seconds``.

    Raises
    ------
    InvalidArgumentError
        A key lacks a key attribute, names another attribute, has a value
        of the wrong type or a missing value; nothing was sent.
    IncompleteReadError
        Keys were still unprocessed after every attempt, or throttling, a
        failing connection or answers cut short outlasted every re-send;
        no partial frame is returned, ``err.unread_keys`` lists the keys
        not read.

    Examples
    --------
    >>> df = read_items(session, "MyCrossAccountTable",
    ...                 [{"customer_id": "C-0001", "order_ts": "2026-03-05T19:55:00Z"},
    ...                  ("C-0002", "2026-04-01T08:30:00Z")], columns=["total"])
    >>> df.columns.tolist(), len(df)
    (['customer_id', 'order_ts', 'total'], 1)
    >>> df.attrs["missing_keys"]
    [{'customer_id': 'C-0002', 'order_ts': '2026-04-01T08:30:00Z'}]
    """
    check_session(session, "xn.read_items")
    if not isinstance(consistent, (bool, np.bool_)):
        raise InvalidArgumentError(f"consistent must be True or False, not {consistent!r}.")
    check_bool("flatten", flatten)
    check_choice("numbers", numbers, ("auto", "decimal", "float"))
    check_time_args(None, parse_dates)
    check_cache(cache)
    check_max_rcu(max_rcu)
    ref = parse_table(table)
    name = str(ref)
    schema = key_schema_for(session, ref, key_schema)
    names = schema.key_names
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=names)
    projection = _projection(columns, names)
    rows = _key_rows(keys, names, name)
    wire_keys = _serialize_keys(rows, schema, name)

    # Distinct keys, in first-asked order.
    distinct: dict[tuple[Any, ...], int] = {}
    for i, wire in enumerate(wire_keys):
        distinct.setdefault(canonical_key(wire, names), i)
    order = list(distinct)

    budget = read_budget(max_rcu, table=name,
                         describe=lambda: schema.description or key_schema_for(session, ref).description)

    def run() -> pd.DataFrame:
        ddb = throttling_to_engine(dynamodb_client(session))
        stats = ReadStats(budget=budget)
        # A key's answer: its item, or None when a complete answer (one with
        # Responses) to a request that held the key neither returned it nor
        # gave it back as unprocessed. Nothing else makes a key "missing":
        # a key without an answer is re-sent, or the read raises.
        answered: dict[tuple[Any, ...], dict[str, Any] | None] = {}
        capacity = 0.0
        retries = 0
        entry_base: dict[str, Any] = dict(projection)
        if consistent:
            entry_base["ConsistentRead"] = True

        def unread() -> list[dict[str, Any]]:
            return [dict(zip(names, rows[distinct[k]], strict=True)) for k in order
                    if k not in answered]

        start = 0
        while start < len(order):
            size = min(BATCH_SIZE, budget.batch_size())
            pending = order[start : start + size]
            start += size
            attempt = 0
            while pending:
                attempt += 1
                response = request(
                    ddb.batch_get_item,
                    {
                        "RequestItems": {ref.request_name: {
                            **entry_base, "Keys": [wire_keys[distinct[k]] for k in pending],
                        }},
                        "ReturnConsumedCapacity": "TOTAL",
                    },
                    table=name, stats=stats, operation="BatchGetItem", unread_keys=unread,
                    cost=budget.expected_cost(len(pending)),
                )
                stats.pages += 1
                retries += int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
                capacity += consumed_capacity(response)
                returned = {
                    canonical_key(item, names): item
                    for items in response["Responses"].values()
                    for item in items
                }
                unprocessed = {
                    canonical_key(key, names)
                    for entry in (response.get("UnprocessedKeys") or {}).values()
                    for key in entry.get("Keys", [])
                }
                # DynamoDB lists every table it answered in Responses (an empty list when
                # nothing was found); a table missing there answered none of its keys.
                table_answered = isinstance(response["Responses"].get(ref.request_name), list)
                still: list[tuple[Any, ...]] = []
                for k in pending:
                    if k in returned:
                        answered[k] = returned[k]
                    elif k in unprocessed or not table_answered:
                        still.append(k)  # no answer for this key yet: ask again
                    else:
                        answered[k] = None  # answered: not found
                budget.learn(consumed_capacity(response), len(pending) - len(still))
                pending = still
                if not pending:
                    break
                if attempt > UNPROCESSED.retries:
                    remaining = len(order) - len(answered)
                    raise IncompleteReadError(
                        f"BatchGetItem on table {name!r}: {len(pending):,} keys were still "
                        f"unprocessed after {attempt} requests ({remaining:,} of the "
                        f"{len(order):,} distinct keys unread). DynamoDB returns UnprocessedKeys "
                        "when the table's read capacity is exhausted: retry later, ask for fewer "
                        "keys at a time, or ask the owner for more capacity. Nothing partial is "
                        "returned.",
                        operation="BatchGetItem",
                        table=name,
                        unread_keys=unread(),
                    )
                retries += 1
                UNPROCESSED.sleep(attempt)

        if len(answered) != len(order):  # pragma: no cover - every batch ends answered or raises
            raise IncompleteReadError(
                f"BatchGetItem on table {name!r}: {len(order) - len(answered):,} keys got no "
                "answer. Nothing partial is returned; retry the call.",
                operation="BatchGetItem", table=name, unread_keys=unread(),
            )
        ordered = [item for k in order if (item := answered[k]) is not None]
        missing = [dict(zip(names, rows[distinct[k]], strict=True)) for k in order
                   if answered[k] is None]
        builder.add_items(ordered)
        df = builder.to_frame()
        if columns is not None and len(df.columns):
            wanted = [columns] if isinstance(columns, str) else list(columns)
            first = list(names) + [c for c in dict.fromkeys(wanted) if c in df.columns and c not in names]
            df = df[first + [c for c in df.columns if c not in first]]
        df.attrs.update(
            {
                "consumed_capacity": capacity,
                "scanned_count": len(ordered),
                "count": len(ordered),
                "pages": stats.pages,
                "segments": 1,
                "retries": retries + stats.resumed,
                "resumed": stats.resumed,
                "requested": len(rows),
                "duplicate_keys": len(rows) - len(order),
                "found": len(ordered),
                "missing_keys": missing,
                "max_rcu": budget.rate,
                "throttled": stats.throttled,
                "waited_seconds": round(stats.waited_seconds, 6),
            }
        )
        return df

    times = TimeContext(session, ref, schema, parse_dates=parse_dates)
    frame = cached_read(
        session, operation="BatchGetItem", table=name,
        request={"Keys": [wire_keys[distinct[k]] for k in order], "Consistent": bool(consistent),
                 **projection},
        numbers=numbers, flatten=flatten, cache=cache, run=run,
    )
    return times.parse(frame)
