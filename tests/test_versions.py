"""The type contract on the installed pandas, as the README's table of string dtypes states it.

``make test-matrix`` runs this on pandas 2.2 (lowest), the pinned 3.x and the
newest: each reads the sandbox's table and finds the dtypes the README gives
for its pandas.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from versions import PANDAS, STR

import xacct_nb as xn
from xacct_nb import _decode_arrow as da

README = (Path(__file__).parent.parent / "README.md").read_text()


def _documented_string_dtype_name() -> str:
    """``str(dtype)`` of string columns for this pandas, from the README's table."""
    rows = re.findall(r"^\| (\d\.\w) \| [^|]+ \| `([^`]+)` \|$", README, re.MULTILINE)
    assert rows, "the README's table of string dtypes is missing"
    table = dict(rows)
    key = "3.x" if PANDAS[0] >= 3 else f"{PANDAS[0]}.{PANDAS[1]}"
    assert key in table, f"the README does not say which string dtype pandas {key} gets"
    return table[key]


@pytest.mark.sandbox
def test_the_sandbox_table_reads_with_the_documented_dtypes(reader, sandbox):
    df = xn.read_query(reader, sandbox.table, "C-0001")
    assert len(df) > 0
    dtypes = {name: str(dtype) for name, dtype in df.dtypes.items()}
    string_name = _documented_string_dtype_name()
    assert dtypes["customer_id"] == dtypes["order_ts"] == string_name
    assert df["customer_id"].dtype == STR
    # the numbers, booleans and nested values do not depend on pandas' version
    assert dtypes["total"] == "float64" and dtypes["item_count"] == "int64"
    assert dtypes["express"] == "bool"
    assert dtypes["lines"] == "object" and isinstance(df["lines"].iloc[0], list)
    # missing strings are NaN on every pandas: the same missing-ness
    if "gift_message" in df:
        gift = df["gift_message"]
        assert str(gift.dtype) == string_name
        assert gift.isna().any() and all(v is np.nan or isinstance(v, str) for v in gift.tolist())


@pytest.mark.sandbox
def test_strings_have_the_same_values_and_missingness_on_both_read_paths(reader, sandbox):
    # the fast lane (pyarrow) and the exact path give the same dtype, values and NaNs
    fast = xn.read_scan(reader, sandbox.table).sort_values(["customer_id", "order_ts"])
    assert da.fast_lane_works()
    raw = reader.client("dynamodb").scan(TableName=sandbox.table, Limit=50)["Items"]
    exact = xn._decode.decode_items(raw)
    for column in ("customer_id", "order_ts"):
        assert exact[column].dtype == fast[column].dtype == STR
    keys = set(zip(exact["customer_id"], exact["order_ts"], strict=True))
    assert keys <= set(zip(fast["customer_id"], fast["order_ts"], strict=True))


def test_the_string_dtype_holds_nan_for_missing_on_this_pandas():
    frame = xn._decode.decode_items([{"s": {"S": "a"}}, {}, {"s": {"NULL": True}}])
    series = frame["s"]
    assert series.dtype == STR and str(series.dtype) == _documented_string_dtype_name()
    assert series.isna().tolist() == [False, True, True]
    assert series.iloc[1] is np.nan or pd.isna(series.iloc[1])
