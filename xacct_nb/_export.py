"""Stream a table or a query to one Parquet or CSV file, with memory bounded by a chunk.

DynamoDB has no schema: a column may first appear in the last chunk, or be
integers in one chunk and decimals in the next. So each chunk is written to
a temporary Parquet part as it arrives (memory: one chunk), the union of the
columns and their types is kept, and at the end the parts are streamed into
the output file with that unified schema (missing columns as nulls, integer
columns that met decimals widened to float, columns that met several kinds
of values written as text).

Column types in the file follow the type contract: strings, int64 (nullable),
float64, bool, binary; numbers beyond int64 as exact decimal text; sets,
lists and maps as JSON text (sets sorted), so any Parquet or CSV reader can
load them.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._budget import check_max_rcu
from ._engine import interactive
from ._errors import InvalidArgumentError
from ._read import read_query, read_scan
from ._validate import (
    check_choice,
    check_int,
    check_optional_bool,
    check_session,
    check_str,
    public,
)

FORMATS = ("parquet", "csv")


@dataclass
class ExportReport:
    """What an export wrote."""

    path: Path
    format: str
    rows: int
    columns: list[str]
    consumed_capacity: float
    elapsed_seconds: float

    def __str__(self) -> str:
        return (
            f"{self.rows:,} rows x {len(self.columns)} columns written to {self.path} "
            f"({self.format}, {self.consumed_capacity:g} RCU, {self.elapsed_seconds:.1f} s)"
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=lambda v: (type(v).__name__, v))
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return str(value)


def _as_json(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return json.dumps(value, default=_json_default, sort_keys=True, ensure_ascii=False)


def _column_to_arrow(series: pd.Series) -> pa.Array:
    """One column of a chunk, as the Arrow type the file will hold."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return pa.array(series.astype("boolean"), type=pa.bool_(), from_pandas=True)
    if pd.api.types.is_integer_dtype(dtype):
        return pa.array(series.astype("Int64"), type=pa.int64(), from_pandas=True)
    if pd.api.types.is_float_dtype(dtype):
        return pa.array(series, type=pa.float64(), from_pandas=True)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return pa.array(series, type=pa.string(), from_pandas=True)
    values = [None if v is None or (isinstance(v, float) and v != v) else v for v in series]
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.nulls(len(values), type=pa.null())
    if kinds <= {bytes}:
        return pa.array(values, type=pa.binary())
    if kinds <= {int}:  # Python ints beyond int64: exact, as text
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    if kinds <= {str}:
        return pa.array(values, type=pa.string())
    if kinds <= {Decimal}:
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
    return pa.array([_as_json(v) for v in values], type=pa.string())


def _unify(a: pa.DataType, b: pa.DataType) -> pa.DataType:
    if a == b or pa.types.is_null(b):
        return a
    if pa.types.is_null(a):
        return b
    if {a, b} <= {pa.int64(), pa.float64()}:
        return pa.float64()
    return pa.string()


def _cast(column: pa.ChunkedArray | pa.Array, target: pa.DataType) -> pa.Array:
    if column.type == target:
        return column
    if pa.types.is_string(target) and not pa.types.is_null(column.type):
        values = column.to_pylist()
        return pa.array([None if v is None else (v if isinstance(v, str) else _as_json(v))
                         for v in values], type=pa.string())
    return column.cast(target)


@public
def export(
    session: Any,
    table: str,
    path: str | Path,
    *,
    partition: Any = None,
    sort: Any = None,
    index: str | None = None,
    filter: Any = None,  # noqa: A002 - the readers' name
    columns: Any = None,
    format: str | None = None,  # noqa: A002 - the natural name
    chunksize: int = 100_000,
    progress: bool | None = None,
    key_schema: Any = None,
    max_rcu: Any = None,
) -> ExportReport:
    """Stream a whole table (Scan) or one partition (``partition=``: Query) to a file.

    Parameters
    ----------
    session, table
        As for :func:`xacct_nb.read_scan`.
    path
        The output file; its suffix (``.parquet``, ``.csv``) picks the format
        unless ``format=`` says. Written atomically: a failed export leaves no
        file behind.
    partition, sort, index, filter, columns, key_schema
        As for :func:`xacct_nb.read_query` (with ``partition``) or
        :func:`xacct_nb.read_scan` (without).
    format
        ``"parquet"`` or ``"csv"``; default: from the file name.
    chunksize
        Rows held in memory at a time.
    progress
        ``None``: a bar when interactive; ``True`` / ``False``.
    max_rcu
        A read-capacity budget for the whole export (RCU per second,
        ``"N%"`` of provisioned, or ``"off"``; see :func:`xacct_nb.read_scan`).

    Returns
    -------
    ExportReport

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     report = export(conn.session, conn.table, f"{folder}/orders.parquet")
    >>> report
    ExportReport(path=PosixPath('.../orders.parquet'), format='parquet', rows=3000, ...)
    """
    check_session(session, "xn.export")
    if not isinstance(path, (str, Path)) or not str(path):
        raise InvalidArgumentError(
            f"path must be a file name (a str or pathlib.Path) such as 'orders.parquet', "
            f"not {path!r}."
        )
    check_str("format", format, optional=True, what="'parquet' or 'csv'")
    check_int("chunksize", chunksize, 1)
    check_optional_bool("progress", progress)
    check_max_rcu(max_rcu)
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise InvalidArgumentError(
            f"Cannot tell the format of {str(path)!r}: use a .parquet or .csv file name, or "
            f"format='parquet' / 'csv'."
        )
    if not path.parent.exists():
        raise InvalidArgumentError(f"The folder {str(path.parent)!r} does not exist.")
    started = time.monotonic()
    kwargs: dict[str, Any] = dict(filter=filter, columns=columns, index=index,
                                  chunksize=chunksize, progress=False, key_schema=key_schema,
                                  max_rcu=max_rcu)
    if partition is not None:
        chunks = read_query(session, table, partition, sort=sort, **kwargs)
    else:
        if sort is not None:
            raise InvalidArgumentError("sort= needs partition= (a Query); a Scan has no sort key.")
        chunks = read_scan(session, table, **kwargs)
    bar = None
    if progress is True or (progress is None and interactive()):
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"Export {table}", unit=" rows", leave=False)
    workdir = Path(tempfile.mkdtemp(prefix="xacct-export-"))
    order: list[str] = []
    types: dict[str, pa.DataType] = {}
    parts: list[Path] = []
    rows = 0
    capacity = 0.0
    # chunksize= is given, so the readers return an iterator of frames, never one frame.
    assert not isinstance(chunks, pd.DataFrame)
    try:
        for chunk in chunks:
            capacity = float(chunk.attrs.get("consumed_capacity", capacity))
            arrays = {name: _column_to_arrow(chunk[name]) for name in chunk.columns}
            for name, array in arrays.items():
                if name not in types:
                    order.append(name)
                    types[name] = array.type
                else:
                    types[name] = _unify(types[name], array.type)
            if len(chunk):
                part = workdir / f"part-{len(parts):05d}.parquet"
                pq.write_table(pa.table(arrays), part)
                parts.append(part)
            rows += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
        schema = pa.schema(
            [(name, pa.string() if pa.types.is_null(types[name]) else types[name])
             for name in order]
        )
        tmp = path.with_name(f".{path.name}.partial")
        _merge(parts, schema, tmp, fmt)
        tmp.replace(path)
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(workdir, ignore_errors=True)
        leftover = path.with_name(f".{path.name}.partial")
        leftover.unlink(missing_ok=True)
    return ExportReport(path, fmt, rows, order, capacity, time.monotonic() - started)


def frame_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """Return ``df`` as the bytes of a ``"parquet"`` or ``"csv"`` file, encoded as :func:`export` does.

    (Numbers beyond int64 and decimals as exact text, lists/maps/sets as
    JSON, binary as base64 in CSV.) Used by the explorer's downloads.
    """
    check_choice("fmt", fmt, FORMATS, where="frame_bytes")
    arrays = {str(name): _column_to_arrow(df[name]) for name in df.columns}
    schema = pa.schema([(name, pa.string() if pa.types.is_null(a.type) else a.type)
                        for name, a in arrays.items()])
    with tempfile.TemporaryDirectory(prefix="xacct-download-") as folder:
        part, out = Path(folder) / "part.parquet", Path(folder) / f"out.{fmt}"
        parts = []
        if len(df):
            pq.write_table(pa.table(arrays), part)
            parts.append(part)
        _merge(parts, schema, out, fmt)
        return out.read_bytes()


def _merge(parts: list[Path], schema: pa.Schema, out: Path, fmt: str) -> None:
    if fmt == "parquet":
        with pq.ParquetWriter(out, schema) as writer:
            for part in parts:
                writer.write_table(_conform(pq.read_table(part), schema))
            if not parts:
                writer.write_table(schema.empty_table())
        return
    import pyarrow.csv as pacsv

    # CSV is text: binary values go as base64.
    text_schema = pa.schema(
        [pa.field(f.name, pa.string() if pa.types.is_binary(f.type) else f.type) for f in schema]
    )
    with out.open("wb") as handle:
        writer = pacsv.CSVWriter(handle, text_schema)
        for part in parts:
            table = _conform(pq.read_table(part), schema)
            for i, field in enumerate(schema):
                if pa.types.is_binary(field.type):
                    encoded = pa.array(
                        [None if v is None else base64.b64encode(v).decode()
                         for v in table.column(i).to_pylist()], type=pa.string())
                    table = table.set_column(i, field.name, encoded)
            writer.write_table(table.cast(text_schema))
        if not parts:
            writer.write_table(text_schema.empty_table())
        writer.close()


def _conform(part: pa.Table, schema: pa.Schema) -> pa.Table:
    columns = []
    for field in schema:
        if field.name in part.column_names:
            columns.append(_cast(part.column(field.name), field.type))
        else:
            columns.append(pa.nulls(part.num_rows, type=field.type))
    return pa.table(columns, schema=schema)
