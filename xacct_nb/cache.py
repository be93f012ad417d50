"""The opt-in result cache of the readers: where it is, what it holds, and clearing it.

Pass ``cache=`` to :func:`~xacct_nb.read_query`, :func:`~xacct_nb.read_scan`
or :func:`~xacct_nb.read_items`: ``True`` (any age), or a maximum age
(seconds, a ``timedelta``, ``"30s"``, ``"15m"``, ``"1h"``, ``"2d"``). The
first read stores its frame; an identical read by the same role (same
account, region, table, request, ``numbers=`` and ``flatten=``) within the
maximum age is served from disk, costing no read capacity.
``df.attrs["cache"]`` says what happened: ``"hit"``, ``"stored"``,
``"not cacheable: <reason>"`` or ``"not stored: <reason>"``;
``df.attrs["cache_age"]`` is the entry's age in seconds. Entries are
Parquet files only the user can read, under :func:`path`
(``$XACCT_CACHE_DIR``, else the platform's user cache folder).

>>> import os, tempfile
>>> os.environ["XACCT_CACHE_DIR"] = folder = tempfile.mkdtemp()
>>> df = xn.read_query(session, "MyCrossAccountTable", "C-0001", cache="1h")
>>> df.attrs["cache"]
'stored'
>>> again = xn.read_query(session, "MyCrossAccountTable", "C-0001", cache="1h")
>>> again.attrs["cache"], again.attrs["consumed_capacity"], again.equals(df)
('hit', 0.0, True)
>>> info().entries
1
>>> clear(table="MyCrossAccountTable")
1
>>> del os.environ["XACCT_CACHE_DIR"]; os.rmdir(folder)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ._cache import (
    CacheInfo,
    cache_dir,
    clear_entries,
    entries_frame,
    list_entries,
    summarize,
)
from ._validate import public

__all__ = ["CacheInfo", "clear", "entries", "info", "path"]


def path() -> Path:
    """Return the cache folder (it may not exist yet).

    ``$XACCT_CACHE_DIR`` if set, else ``platformdirs.user_cache_dir("xacct-nb")``
    (``~/.cache/xacct-nb`` on Linux).
    """
    return cache_dir()


@public
def info() -> CacheInfo:
    """Return what the cache holds: ``folder``, ``entries``, ``bytes``, ``oldest``, ``newest``.

    ``oldest`` / ``newest`` are the UTC creation times of the oldest and newest
    entries (None when empty); ``unreadable`` counts entries whose metadata
    could not be read (a read that meets one removes it, as does :func:`clear`).
    Only each file's footer is read.
    """
    folder = cache_dir()
    return summarize(list_entries(folder), folder)


@public
def entries() -> pd.DataFrame:
    """Return one row per entry.

    Columns: ``table``, ``operation``, ``rows``, ``bytes``, ``created`` (UTC),
    ``age_seconds``, ``account``, ``principal``, ``region``, ``numbers``,
    ``flatten``, ``file``.
    """
    return entries_frame(list_entries(cache_dir()))


@public
def clear(table: str | None = None, older_than: Any = None) -> int:
    """Remove entries; return how many were removed.

    ``table``: only the entries read from this table (its name or its ARN);
    ``older_than``: only entries older than this age (seconds, a ``timedelta``
    or ``"30s"``/``"15m"``/``"1h"``/``"2d"``). Both together: both must hold.
    With neither, every entry goes. Temporary files a crash left behind (older
    than an hour) go too; no other file of the folder is touched.
    """
    return clear_entries(table=table, older_than=older_than)
