"""The installed versions the tests depend on, and the string dtype the README documents.

The suite runs on the lowest declared versions, the pinned ones and the newest
(``make test-matrix``): what differs between them is written out here, once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: pandas' (major, minor) version.
PANDAS = tuple(int(part) for part in pd.__version__.split(".")[:2])

#: String columns, as the README's type contract writes it (not read from the package):
#: pandas' ``str`` dtype, Arrow storage where pyarrow is installed, NaN for missing. pandas 2.2
#: has the same dtype under its first name.
STR = pd.StringDtype(na_value=np.nan) if PANDAS >= (2, 3) else pd.StringDtype("pyarrow_numpy")

#: ``str(dtype)`` of a string column: ``"str"``, or ``"string[pyarrow_numpy]"`` on pandas 2.2.
STR_NAME = str(STR)


def strings(values: list[str | None]) -> pd.Series:
    """A Series of the documented string dtype (``pd.Series(values, dtype="str")`` in pandas 3)."""
    return pd.Series(values, dtype=STR)
