"""PartiQL ``SELECT`` statements (ExecuteStatement) into pandas DataFrames.

A read travels the same way as a Query or Scan (:mod:`xacct_nb._read`):
session -> pages of raw items -> :class:`~xacct_nb._decode.FrameBuilder` ->
DataFrame, under the same type contract, with the same fast path (the
``Items`` of each answer are taken out before botocore's parser sees them)
and the same request engine: pages follow ``NextToken`` to the end (pages
with no items included), transient faults re-send the same page, and a
read that cannot finish raises and never returns a partial frame.

Only ``SELECT`` is a read: ``INSERT``, ``UPDATE``, ``DELETE`` (and
``EXISTS``, a transaction's condition) are refused before anything is sent.
DynamoDB runs a ``SELECT`` as a Query when its ``WHERE`` clause pins the
partition key with ``=`` or ``IN``, and as a full Scan otherwise: its cost
(``df.attrs["consumed_capacity"]``) is that of the Query or Scan. The role
needs ``dynamodb:PartiQLSelect`` on the table (and on
``TABLE_ARN/index/NAME`` to read an index), which
:func:`xacct_nb.policies.read_only_policy` grants (the seed's read policy
did not).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._budget import check_max_rcu, read_budget
from ._cache import cached_read, check_cache
from ._decode import FrameBuilder
from ._decode_arrow import PageParser
from ._encode import to_condition_value
from ._engine import (
    TOKEN_CURSOR,
    Progress,
    ReadStats,
    check_read_args,
    collect,
    fetcher,
    raw_items_client,
    threaded_stream,
)
from ._errors import AwsError, InvalidArgumentError, XacctError
from ._schema import KeySchema, frame_keys, key_schema_for, parse_table
from ._timeformat import TimeContext, check_time_args
from ._validate import check_bool, check_session, public

__all__ = ["PARTIQL_HINT", "Statement", "parse_statement", "read_partiql"]

#: DynamoDB's longest PartiQL statement, in characters.
MAX_STATEMENT = 8192

_TOKEN = re.compile(
    r"""(?P<space>\s+)|(?P<line_comment>--[^\n]*)|(?P<block_comment>/\*.*?\*/)"""
    r"""|(?P<qident>"(?:[^"]|"")*")|(?P<string>'(?:[^']|'')*')"""
    r"""|(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"""
    r"""|(?P<ident>[A-Za-z_][A-Za-z0-9_$]*)|(?P<param>\?)"""
    r"""|(?P<other>.)""",
    re.DOTALL,
)
_WRITES = ("INSERT", "UPDATE", "DELETE", "UPSERT", "REPLACE", "REMOVE", "EXISTS")

#: What to check when DynamoDB refuses a statement.
PARTIQL_HINT = (
    "Check the PartiQL: table, index and attribute names in double quotes "
    '("MyTable", "MyTable"."my-index", "status"), string literals in single quotes '
    "('C-0001'; a double-quoted value is read as an attribute name), lists as "
    "['a', 'b'], and values passed with parameters=[...] for each ? rather than "
    "pasted into the statement."
)
_ACCESS_HINT = (
    "A PartiQL SELECT needs dynamodb:PartiQLSelect on the table's ARN (and on "
    "TABLE_ARN/index/NAME to read an index), which Query/Scan permissions do not grant: "
    "ask the table's owner to add it, or read with xn.read_query / xn.read_scan, which "
    "need only the usual read actions. xn.verify_access(session, table) shows what the "
    "role may do."
)
_NOT_FOUND_HINT = (
    "The table (or index) in the statement's FROM does not exist in this account and "
    "region: names are case-sensitive, go in double quotes (\"MyTable\", "
    "\"MyTable\".\"my-index\"), and a table of another account is read with its "
    "owner's role."
)


@dataclass(frozen=True)
class Statement:
    """What :func:`parse_statement` reads from a PartiQL statement (without judging it).

    Attributes
    ----------
    kind : str
        The first keyword, upper case (``"SELECT"``, ``"INSERT"``, ...); ``""`` if none.
    table, index : str or None
        The table (and index) after ``FROM``, unquoted, when there is one.
    columns : tuple of str or None
        The top-level attributes a ``SELECT`` list returns (a path ``a.b``
        returns ``b``); ``None`` for ``SELECT *`` or a list not made of paths.
    placeholders : int
        The number of ``?`` outside quotes.
    has_where : bool
        Whether the statement has a ``WHERE`` clause.
    """

    kind: str
    table: str | None
    index: str | None
    columns: tuple[str, ...] | None
    placeholders: int
    has_where: bool


def parse_statement(statement: str) -> Statement:
    """Read a PartiQL statement's kind, table, index, SELECT list and ``?`` count.

    Quoted names, string literals and comments are skipped as PartiQL
    reads them; nothing here validates the statement (DynamoDB does).

    Examples
    --------
    >>> s = parse_statement('SELECT "order_ts", ship_to.city FROM "Orders"."by-status" '
    ...                     "WHERE status = ? -- 'x?'")
    >>> s.kind, s.table, s.index, s.columns, s.placeholders, s.has_where
    ('SELECT', 'Orders', 'by-status', ('order_ts', 'city'), 1, True)
    """
    tokens: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(statement):
        kind = match.lastgroup or "other"
        text = match.group(kind)
        if kind in ("space", "line_comment", "block_comment"):
            continue
        if kind == "qident":
            tokens.append((kind, text[1:-1].replace('""', '"')))
        else:
            tokens.append((kind, text))
    words = [(k, t.upper() if k == "ident" else "") for k, t in tokens]
    first = words[0][1] if words else ""
    table = index = None
    columns: tuple[str, ...] | None = None
    try:
        f = next(i for i, (_, w) in enumerate(words) if w == "FROM")
    except StopIteration:
        f = -1
    if f >= 0 and f + 1 < len(tokens) and tokens[f + 1][0] in ("ident", "qident"):
        table = tokens[f + 1][1]
        if (f + 3 < len(tokens) and tokens[f + 2] == ("other", ".")
                and tokens[f + 3][0] in ("ident", "qident")):
            index = tokens[f + 3][1]
    if first == "SELECT" and f > 1:
        columns = _select_names(tokens[1:f])
    return Statement(
        kind=first,
        table=table,
        index=index,
        columns=columns,
        placeholders=sum(1 for k, _ in tokens if k == "param"),
        has_where=any(w == "WHERE" for _, w in words),
    )


def _select_names(tokens: list[tuple[str, str]]) -> tuple[str, ...] | None:
    """Top-level names a SELECT list returns (the last name of each path); None for ``*``."""
    names: list[str] = []
    last: str | None = None
    for kind, text in tokens + [("other", ",")]:
        if kind in ("ident", "qident"):
            last = text
        elif kind == "other" and text == ",":
            if last is None:
                return None
            names.append(last)
            last = None
        elif kind == "other" and text in (".", "[", "]"):
            continue
        elif kind in ("number", "string"):
            continue  # list indexes, quoted map keys
        else:
            return None
    return tuple(dict.fromkeys(names))


def _check_statement(statement: Any) -> Statement:
    if not isinstance(statement, str) or not statement.strip():
        raise InvalidArgumentError(
            f"statement must be a PartiQL SELECT statement (a non-empty str), not "
            f"{statement!r:.80}. Example: 'SELECT * FROM \"MyTable\" WHERE pk = ?' with "
            "parameters=['value']."
        )
    if len(statement) > MAX_STATEMENT:
        raise InvalidArgumentError(
            f"statement has {len(statement):,} characters; DynamoDB takes at most "
            f"{MAX_STATEMENT:,}. Pass values with parameters=[...] instead of pasting them in."
        )
    parsed = parse_statement(statement)
    if parsed.kind in _WRITES:
        raise InvalidArgumentError(
            f"read_partiql only reads: {parsed.kind} statements are refused (nothing was "
            "sent). Write rows with xn.write_frame(session, table, df); run other PartiQL "
            "with boto3's execute_statement if your role allows it."
        )
    return parsed


def _wire_parameters(parameters: Any, placeholders: int) -> list[dict[str, Any]] | None:
    """Encode the request's ``Parameters``: each value through the one value encoder."""
    if parameters is None:
        if placeholders:
            raise InvalidArgumentError(
                f"The statement has {placeholders} ? placeholder"
                f"{'' if placeholders == 1 else 's'} but no parameters were given: pass "
                "parameters=[value, ...], one value per ?, in order."
            )
        return None
    if isinstance(parameters, (str, bytes, dict)) or not isinstance(parameters, (list, tuple)):
        raise InvalidArgumentError(
            f"parameters must be a list of values, one per ? in the statement (in order), "
            f"not {type(parameters).__name__}: e.g. parameters=['C-0001', '2026-03-01']."
        )
    if len(parameters) != placeholders:
        raise InvalidArgumentError(
            f"The statement has {placeholders} ? placeholder{'' if placeholders == 1 else 's'} "
            f"but {len(parameters)} parameter{'' if len(parameters) == 1 else 's'} were given: "
            "pass one value per ?, in order (a ? inside quotes is text, not a placeholder)."
        )
    wire = []
    for i, value in enumerate(parameters):
        try:
            wire.append(to_condition_value(value, where=f"parameters[{i}]"))
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(
                f"{exc} Parameters take str, numbers (int, float, Decimal), bool, None, bytes, "
                "datetimes (sent as ISO-8601 UTC text), lists, dicts and sets."
            ) from None
    return wire or None


def _hinted(err: XacctError, what: str, table: str) -> XacctError:
    """Return ``err`` with a PartiQL-specific hint (same class and attributes)."""
    code = str(getattr(err, "code", "") or "")
    aws_message = str(getattr(err, "aws_message", "") or "")
    if code == "ValidationException":
        if "global secondary index" in aws_message.lower() and "consistent" in aws_message.lower():
            hint = ("A global secondary index is read eventually consistently only: drop "
                    "consistent=True, or select from the table itself.")
        elif "mandatory equality" in aws_message:
            hint = ("Pin every key attribute with = in the WHERE clause (partition and sort "
                    "key), or leave consistent=True out.")
        elif "NextToken" in aws_message:
            hint = "Start the read again: a NextToken only continues the statement that returned it."
        else:
            hint = PARTIQL_HINT
        cls: type[XacctError] = InvalidArgumentError
    elif isinstance(err, AwsError) and code in ("AccessDeniedException", "AccessDenied"):
        hint, cls = _ACCESS_HINT, type(err)
    elif code == "ResourceNotFoundException":
        hint, cls = _NOT_FOUND_HINT, type(err)
    else:
        return err
    message = f"{what} on {table!r} failed: {code}: {aws_message.rstrip('.')}. {hint}"
    if cls is InvalidArgumentError:
        out: XacctError = InvalidArgumentError(message)
        for name in ("code", "aws_message", "operation", "table"):
            setattr(out, name, getattr(err, name, None))
        return out
    if not isinstance(err, AwsError):  # pragma: no cover - AWS codes come as AwsError
        return err
    new = type(err)(message, code=code, operation=err.operation, aws_message=aws_message,
                    table=err.table, role_arn=err.role_arn)
    new.last_evaluated_key = err.last_evaluated_key
    return new


def _hinted_chunks(frames: Iterator[pd.DataFrame], what: str, table: str) -> Iterator[pd.DataFrame]:
    try:
        yield from frames
    except XacctError as exc:
        raise _hinted(exc, what, table) from None
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


@dataclass
class _StatementStats(ReadStats):
    """ExecuteStatement's answers say no ``ScannedCount``: ``scanned_count`` is None."""

    def as_attrs(self) -> dict[str, Any]:
        """Return the cost as ``df.attrs`` entries (``scanned_count`` unknown)."""
        attrs = super().as_attrs()
        attrs["scanned_count"] = None
        return attrs


@public
def read_partiql(
    session: Any,
    statement: str,
    parameters: Any = None,
    *,
    consistent: bool = False,
    limit: int | None = None,
    numbers: str = "auto",
    flatten: bool = False,
    progress: bool | None = None,
    chunksize: int | None = None,
    parse_dates: Any = None,
    cache: Any = None,
    max_rcu: Any = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Run a PartiQL ``SELECT`` (ExecuteStatement) into a typed DataFrame.

    Every page is read (``NextToken`` followed to the end); columns and
    dtypes follow the same type contract as :func:`xacct_nb.read_query` and
    :func:`xacct_nb.read_scan`, key attributes first. A ``WHERE`` clause
    with ``=`` or ``IN`` on the partition key makes DynamoDB run a Query
    (per partition); any other ``SELECT`` is a full Scan of the table or
    index, and costs as much.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. from :func:`xacct_nb.assume_role`); the role
        needs ``dynamodb:PartiQLSelect`` on the table (and its index).
    statement
        One ``SELECT``: ``SELECT * | path, ... FROM "table"[."index"] [WHERE ...]
        [ORDER BY key [ASC|DESC]]``. Names in double quotes, string literals
        in single quotes. ``INSERT``/``UPDATE``/``DELETE`` are refused.
    parameters
        Values for the ``?`` placeholders, in order: ``str``, numbers, ``bool``,
        ``None``, ``bytes``, datetimes (sent as ISO-8601 UTC text ending in
        ``Z``), lists, dicts, sets; encoded as for ``filter=`` values.
    consistent
        Strongly consistent read (not possible on a global secondary index).
    limit
        At most this many rows are returned; without a ``WHERE`` clause it is
        also each request's ``Limit`` (items evaluated), so no more is read.
    numbers
        ``"auto"``, ``"decimal"`` or ``"float"`` (see the type contract).
    flatten
        Turn maps into ``parent.child`` columns.
    progress
        ``None``: a bar for multi-page reads when interactive; ``True``/``False``.
    chunksize
        Return an iterator of DataFrames of at most this many rows.
    parse_dates
        Columns to convert to datetimes.
    cache
        Opt-in result cache (see :data:`xacct_nb.cache`).
    max_rcu
        A read-capacity budget (RCU per second, ``"N%"`` of the table's or
        index's provisioned read capacity, or ``"off"``), as in
        :func:`xacct_nb.read_query`; pages are then sized with ``Limit``.

    Returns
    -------
    pandas.DataFrame or iterator of DataFrames
        Cost in ``df.attrs``: ``consumed_capacity`` (read capacity units,
        summed over pages), ``pages``, ``count``, ``resumed``, ``segments``,
        ``max_rcu``, ``throttled``, ``waited_seconds``;
        ``scanned_count`` is ``None`` (ExecuteStatement does not report it).
        A path ``a.b`` in the ``SELECT`` list is a column ``b``, as DynamoDB
        names it.

    Raises
    ------
    InvalidArgumentError
        A malformed argument, a write statement, parameters that do not fit
        the placeholders (nothing was sent), or a statement DynamoDB refuses
        (a syntax error...), with what to check.
    AccessDeniedError
        The role may not ``PartiQLSelect`` the table or index.
    TableNotFoundError
        No such table or index.

    Examples
    --------
    The role needs ``dynamodb:PartiQLSelect`` on the table (and its
    indexes), as :func:`xacct_nb.policies.read_only_policy` grants:

    >>> df = read_partiql(session,
    ...     'SELECT customer_id, order_ts, total FROM "MyCrossAccountTable" '
    ...     "WHERE customer_id = ? AND begins_with(order_ts, ?)", ["C-0001", "2026-03"])
    >>> df
      customer_id              order_ts  total
    0      C-0001  2026-03-05T19:55:00Z    ...
    1      C-0001  2026-03-14T04:14:00Z    ...
    >>> df.attrs["count"], df.attrs["pages"]
    (2, 1)

    An index, and a nested attribute:

    >>> df = read_partiql(session, 'SELECT order_id, ship_to.city '
    ...     'FROM "MyCrossAccountTable"."status-index" WHERE status = ?', ["cancelled"])
    >>> df.columns.tolist()
    ['order_id', 'city']

    >>> read_partiql(session, 'DELETE FROM "MyCrossAccountTable" WHERE customer_id = ?',
    ...              ["C-0001"])
    Traceback (most recent call last):
    ...
    xacct_nb._errors.InvalidArgumentError: read_partiql only reads: DELETE statements ...
    """
    check_session(session, "xn.read_partiql")
    parsed = _check_statement(statement)
    check_read_args(numbers, limit, chunksize, progress)
    for flag, value in (("consistent", consistent), ("flatten", flatten)):
        check_bool(flag, value)
    check_time_args(None, parse_dates)
    check_cache(cache, chunksize)
    check_max_rcu(max_rcu)
    wire = _wire_parameters(parameters, parsed.placeholders)
    table = parsed.table or statement
    schema: KeySchema | None = None
    if parsed.table is not None and parsed.kind == "SELECT":
        try:
            schema = key_schema_for(session, parse_table(parsed.table), None)
        except XacctError as exc:
            # Keys only order the columns: a table the role may not describe (or a name
            # DescribeTable refuses) gets the statement's own error; a down endpoint,
            # missing credentials... are reported now.
            if not (isinstance(exc, InvalidArgumentError) or getattr(exc, "code", "") in (
                    "AccessDeniedException", "ResourceNotFoundException")):
                raise
            schema = None
    keys: tuple[str, ...] = ()
    if schema is not None:
        try:
            keys = frame_keys(schema, parsed.index, parsed.columns)
        except Exception:  # noqa: BLE001 - an unknown index: the statement's error comes later
            keys = ()
    params: dict[str, Any] = {"Statement": statement}
    if wire is not None:
        params["Parameters"] = wire
    if consistent:
        params["ConsistentRead"] = True
    what = "read_partiql: ExecuteStatement"
    gsi = parsed.index if (schema is not None and parsed.index is not None and schema.indexes.get(
        parsed.index, ("", None, ""))[2] == "GSI") else None
    stats = _StatementStats(budget=read_budget(
        max_rcu, table=table, index=gsi,
        describe=lambda: (schema.description if schema is not None else None)
        or (key_schema_for(session, parse_table(parsed.table)).description
            if parsed.table else None)))
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=keys)
    bar = Progress(progress, f"PartiQL {table}"[:60], None)
    ddb = raw_items_client(session)
    fetch = fetcher(
        ddb.execute_statement, params, table=table, stats=stats, limit=limit,
        can_limit_requests=not parsed.has_where, cursor=TOKEN_CURSOR,
    )
    parser = PageParser(numbers=numbers, flatten=flatten)

    def run() -> Any:
        frames = collect(threaded_stream([fetch], parser), builder, stats, chunksize, bar)
        if isinstance(frames, pd.DataFrame):
            return frames
        return _hinted_chunks(frames, what, table)

    try:
        frames = cached_read(
            session, operation="ExecuteStatement", table=table,
            request=dict(params, ConsistentRead=bool(consistent), Limit=limit),
            numbers=numbers, flatten=flatten, cache=cache, run=run,
        )
    except XacctError as exc:
        raise _hinted(exc, what, table) from None
    return TimeContext(session, None, None, parse_dates=parse_dates).parse(frames)
