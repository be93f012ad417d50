"""Exports to Parquet and CSV: complete, typed, atomic, memory bounded by a chunk."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

import xacct_nb as xn
from xacct_nb.sandbox import _demo_data as demo

pytestmark = pytest.mark.sandbox


def test_parquet_export_of_the_whole_table(reader, sandbox, tmp_path):
    out = tmp_path / "orders.parquet"
    report = xn.export(reader, sandbox.table, out, chunksize=400)
    assert report.rows == demo.ORDER_COUNT and report.format == "parquet"
    table = pq.read_table(out)
    assert table.num_rows == demo.ORDER_COUNT
    full = xn.read_scan(reader, sandbox.table)
    assert set(table.column_names) == set(full.columns)
    assert table.column_names[:2] == ["customer_id", "order_ts"]
    schema = {f.name: str(f.type) for f in table.schema}
    assert schema["item_count"] == "int64" and schema["total"] == "double"
    assert schema["express"] == "bool" and schema["loyalty_points"] == "int64"
    assert schema["receipt_png"] == "binary"  # present in a few chunks only
    back = table.to_pandas().sort_values(["customer_id", "order_ts"]).reset_index(drop=True)
    ref = full.sort_values(["customer_id", "order_ts"]).reset_index(drop=True)
    assert list(back.order_id) == list(ref.order_id)
    assert back.ledger_ref.map(int).tolist() == ref.ledger_ref.tolist()  # exact beyond int64
    assert back.loyalty_points.isna().sum() == ref.loyalty_points.isna().sum()
    assert back.total.tolist() == ref.total.tolist()
    assert '"city"' in back.ship_to.iloc[0]  # maps as JSON text


def test_csv_export_of_a_query(reader, sandbox, tmp_path):
    out = tmp_path / "c0001.csv"
    report = xn.export(reader, sandbox.table, out, partition="C-0001",
                       sort=("begins_with", "2026-0"), columns=["customer_id", "order_ts", "total"])
    df = pd.read_csv(out)
    expected = xn.read_query(reader, sandbox.table, "C-0001", sort=("begins_with", "2026-0"))
    assert report.rows == len(df) == len(expected) > 0
    assert list(df.columns) == ["customer_id", "order_ts", "total"]
    assert df.total.tolist() == expected.total.tolist()


def test_failed_export_leaves_no_file(reader, tmp_path):
    out = tmp_path / "nothing.parquet"
    with pytest.raises(xn.AccessDeniedError):
        xn.export(reader, "SomeoneElsesTable", out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "kwargs", "message"),
    [
        ("out.xlsx", {}, "Cannot tell the format"),
        ("missing/out.csv", {}, "does not exist"),
        ("out.csv", {"sort": ("=", "x")}, "sort= needs partition="),
    ],
)
def test_bad_export_arguments(reader, sandbox, tmp_path, path, kwargs, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        xn.export(reader, sandbox.table, tmp_path / path, **kwargs)


def test_export_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    out = tmp_path / "returned.csv"
    result = subprocess.run(
        [sys.executable, "-m", "xacct_nb._cli", "export", "MyCrossAccountTable", str(out),
         "--index", "status-index", "--partition", "returned", "--no-progress"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "rows x" in result.stdout and str(out) in result.stdout
    assert set(pd.read_csv(out).status) == {"returned"}
