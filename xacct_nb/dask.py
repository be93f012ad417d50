"""Tables bigger than one machine: reads as Dask DataFrames (``pip install 'xacct-nb[dask]'``).

:func:`read_scan`, :func:`read_query` and :func:`read_snapshot` are the
counterparts of :func:`xacct_nb.read_scan`, :func:`xacct_nb.read_query` and
:func:`xacct_nb.read_snapshot` that return a ``dask.dataframe.DataFrame``:
one partition per scan segment, per query, or per exported data file. No
cluster code of our own: Dask schedules the partitions on whatever runs
them, the local threaded scheduler, a ``distributed.LocalCluster``, or any
``distributed.Client`` the user has connected.

Credentials never travel
------------------------
Each partition is read by a worker with its **own** session, built from a
:class:`RoleSpec`: a small frozen description of how to obtain the session
(role ARN, ExternalId, region, and how to find the source identity: an AWS
profile, config file paths, or the default chain), and no key, secret or
token. A worker builds the session once per process (``xn.assume_role``,
self-refreshing) and keeps it. The workers therefore need the same way to
the source identity as the notebook: the same profile and files (an SSO
profile works once ``aws sso login`` has run), environment variables, or an
instance / container role. A session opened with MFA cannot be rebuilt
without a prompt: it is refused with a clear error, before anything is
scheduled.

Metadata before any partition is read
-------------------------------------
DynamoDB has no schema, so the frame's metadata (columns and dtypes, as
the type contract decides them) comes from, in order of precedence:

1. ``meta=``: a DataFrame (its columns and dtypes) or ``{column: dtype}``.
   Exact; columns a partition has beyond it are **dropped** (you said
   which columns you want).
2. Otherwise a **sample**: the first ``sample`` items (default 1,000; one
   request with ``Limit``, at most a few pages when a filter drops items)
   decoded with the type contract. A Scan returns items in the order of the
   hashed partition key, so the first page is spread over the whole table,
   not its oldest items. ``dtypes={column: dtype}`` overrides or adds
   columns; ``columns=`` (a projection) names the columns exactly (a
   requested attribute the sample lacks becomes an ``object`` column).

Every partition is decoded on its own with the type contract, then
**conformed** to the metadata, by lossless steps only:

* a column the partition lacks is added, all missing;
* ``int64`` -> ``Int64`` / ``float64``; ``bool`` -> ``boolean``;
  Python ``int`` beyond int64 -> ``float64`` (as the contract does when a
  column mixes them with fractions); anything -> ``object`` (values as
  decoded, missing as ``None``); a dtype of your own (``"category"``,
  ``"string"``, ...) by ``astype``;
* anything else (missing values in an ``int64`` / ``bool`` column,
  fractions in an integer column, mixed types in a ``str`` column) raises
  :class:`MetadataMismatchError`, naming the column, the partition and the
  ``dtypes=`` that fixes it, and so does a column that is not in a
  *sampled* metadata: nothing is silently dropped or coerced.

When the sample is representative (every attribute and the absence of
values seen), the Dask frame's dtypes are exactly the pandas reader's. The
index of each partition is a ``RangeIndex`` from 0; divisions are unknown.
Dask's automatic conversion of object columns to Arrow strings is turned
off for these frames: it would turn sets, lists and maps into strings.

On a cluster (without one, Dask's default scheduler runs the partitions
in this process's threads):

>>> import xacct_nb.dask as xd
>>> from distributed import Client, LocalCluster                    # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2, dashboard_address=None))   # doctest: +SKIP
>>> ddf = xd.read_scan(conn.session, conn.table, segments=16)
>>> ddf.groupby("status")["total"].sum().compute().round(2).sort_index()
status
cancelled     33512.87
delivered    291402.71
pending       45831.40
returned      17093.17
shipped      126207.99
Name: total, dtype: float64
"""

from __future__ import annotations

import math
import os
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._budget import Budget, check_max_rcu, resolve_max_rcu
from ._decode import FrameBuilder, string_dtype
from ._decode_arrow import PageParser
from ._engine import (
    ReadStats,
    check_read_args,
    fetcher,
    page_stream,
    raw_items_client,
    threaded_stream,
)
from ._errors import (
    ConfigurationError,
    InvalidArgumentError,
    MetadataMismatchError,
    XacctError,
)
from ._expressions import build_expressions, key_condition
from ._schema import KeySchema, frame_keys, key_schema_for, parse_table
from ._sessions import ROLE_ARN_RE, assume_role, is_mfa_session, role_origin
from ._snapshot import (
    Snapshot,
    SnapshotFile,
    check_columns,
    read_snapshot_file,
    snapshot_files,
    snapshot_key_names,
)
from ._validate import check_bool, check_key_value, check_session, check_sort_values, public

__all__ = ["MetadataMismatchError", "RoleSpec", "conform", "read_query", "read_scan", "read_snapshot"]

#: ``segments=None``: one segment per this many bytes of the table (DescribeTable's size).
SEGMENT_BYTES = 64 * 2**20
#: The sample that gives the metadata reads at most this many pages.
SAMPLE_PAGES = 5
_CONTRACT_DTYPES = frozenset({"int64", "Int64", "float64", "bool", "boolean", "str", "object"})


def _dask() -> Any:
    try:
        import dask
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "xacct_nb.dask needs Dask: pip install 'xacct-nb[dask]' (dask[dataframe] and "
            "distributed)."
        ) from None
    return dask, dd


# -- sessions on workers -------------------------------------------------------------------

_sessions: dict[RoleSpec, Any] = {}
_sessions_lock = threading.RLock()
_clients: dict[RoleSpec, Any] = {}


@dataclass(frozen=True)
class RoleSpec:
    """How a worker obtains its own session: a picklable description, never credentials.

    Attributes
    ----------
    role_arn : str or None
        The role to assume; ``None`` for a plain identity (profile or default chain).
    external_id : str or None
        The role's ExternalId (an agreed identifier, not a credential).
    session_name, duration_seconds : optional
        Passed to :func:`xacct_nb.assume_role` (defaults as there).
    region : str or None
    profile : str or None
        AWS profile of the source identity; ``None``: the default chain.
    config_file, credentials_file : str or None
        Paths of the AWS config / shared credentials files (paths, not their content).
    endpoint_env : tuple of (name, value)
        ``AWS_ENDPOINT_URL*`` variables of the driver, set on workers that lack them.
    source : RoleSpec or None
        Where the role is assumed from: an identity, or another role (chaining).

    Examples
    --------
    >>> spec = RoleSpec("arn:aws:iam::222222222222:role/Reader", external_id="ext-1",
    ...                 region="us-east-1", source=RoleSpec(profile="analyst"))
    >>> spec
    RoleSpec(role_arn='arn:aws:iam::222222222222:role/Reader', region='us-east-1', source=RoleSpec(profile='analyst'))
    >>> import pickle
    >>> pickle.loads(pickle.dumps(spec)) == spec
    True
    """

    role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)
    session_name: str | None = None
    duration_seconds: int | None = None
    region: str | None = None
    profile: str | None = None
    config_file: str | None = field(default=None, repr=False)
    credentials_file: str | None = field(default=None, repr=False)
    endpoint_env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    source: RoleSpec | None = None

    def __post_init__(self) -> None:
        """Reject a ``role_arn`` that is not a role ARN."""
        if self.role_arn is not None and not ROLE_ARN_RE.match(str(self.role_arn)):
            raise InvalidArgumentError(
                f"{self.role_arn!r} is not a role ARN: expected 'arn:aws:iam::ACCOUNT:role/NAME'."
            )

    def __repr__(self) -> str:
        """Show only what was set: short, and never more than the ARN."""
        shown = [
            f"{name}={getattr(self, name)!r}"
            for name in ("role_arn", "session_name", "duration_seconds", "region", "profile",
                         "source")
            if getattr(self, name) is not None
        ]
        return f"RoleSpec({', '.join(shown)})"

    @classmethod
    def from_session(cls, session: Any) -> RoleSpec:
        """Describe ``session`` so that any process can build it again.

        ``session`` is a session from :func:`xacct_nb.assume_role` (its role,
        ExternalId and source are described), or a plain identity session.

        Raises
        ------
        ConfigurationError
            The session (or its source) holds credentials that exist only in
            this process: an MFA session, or keys passed to ``boto3.Session``.
        """
        if isinstance(session, RoleSpec):
            return session
        if session is None or not hasattr(session, "_session"):
            raise InvalidArgumentError(
                f"Expected a boto3.Session (e.g. from xn.assume_role) or a RoleSpec, not "
                f"{type(session).__name__}."
            )
        origin = role_origin(session)
        if origin is None:
            spec = cls._identity(session)
        else:
            source = cls.from_session(origin.source_session)
            spec = cls(role_arn=origin.role_arn, external_id=origin.external_id,
                       region=session.region_name, source=source)
        with _sessions_lock:
            _sessions.setdefault(spec, session)  # this process already has it
        return spec

    @classmethod
    def _identity(cls, session: Any) -> RoleSpec:
        core = session._session
        credentials = core.get_credentials()
        method = getattr(credentials, "method", None)
        temporary = method == "explicit" and bool(getattr(credentials, "token", None))
        if temporary or is_mfa_session(session):
            raise ConfigurationError(
                "This session was opened with MFA (xn.assume_role(..., mfa_serial=...)), or "
                "holds temporary credentials of its own: a Dask worker would have to ask for "
                "a new MFA code to rebuild it, and nobody can answer there; credentials are "
                "never shipped to workers. Read in this process "
                "(xn.read_scan), export a snapshot (xn.export_snapshot), or assume the role "
                "from an identity workers can use without a prompt (an SSO or role profile, "
                "an instance or container role)."
            )
        if method == "explicit":
            raise ConfigurationError(
                "This session holds keys passed to boto3.Session(...) directly: Dask workers "
                "cannot rebuild it without shipping the keys, which xacct_nb never does. Use a "
                "profile (boto3.Session(profile_name=...)), environment variables, or an "
                "instance / container role, which every worker can reach by itself."
            )
        variables = core.instance_variables()

        def setting(name: str, env: str) -> str | None:
            value = variables.get(name) or os.environ.get(env)
            return str(value) if value else None

        return cls(
            region=session.region_name,
            profile=setting("profile", "AWS_PROFILE"),
            config_file=setting("config_file", "AWS_CONFIG_FILE"),
            credentials_file=setting("credentials_file", "AWS_SHARED_CREDENTIALS_FILE"),
            endpoint_env=tuple(sorted(
                (k, v) for k, v in os.environ.items() if k.startswith("AWS_ENDPOINT_URL") and v
            )),
        )

    def session(self) -> Any:
        """Return the session this describes, built once per process (roles refresh themselves)."""
        with _sessions_lock:
            found = _sessions.get(self)
            if found is not None:
                return found
            for name, value in self.endpoint_env:
                os.environ.setdefault(name, value)
            if self.role_arn is None:
                import boto3
                import botocore.session
                from botocore.exceptions import BotoCoreError

                core = botocore.session.Session()
                for variable, setting in (("config_file", self.config_file),
                                          ("credentials_file", self.credentials_file),
                                          ("profile", self.profile), ("region", self.region)):
                    if setting:
                        core.set_config_variable(variable, setting)
                try:
                    built = boto3.Session(botocore_session=core)
                except BotoCoreError as exc:
                    raise ConfigurationError(
                        f"Cannot build the source session of {self!r} in process {os.getpid()}: "
                        f"{exc}. Every Dask worker needs the notebook's way to account A's "
                        "identity: the same profile in the same AWS config files (paths: "
                        f"{self.config_file or 'default'}, {self.credentials_file or 'default'}), "
                        "the same environment variables, or an instance / container role."
                    ) from None
            else:
                source = (self.source or RoleSpec(region=self.region)).session()
                built = assume_role(
                    self.role_arn, external_id=self.external_id, session_name=self.session_name,
                    duration_seconds=self.duration_seconds, source_session=source,
                    region_name=self.region or source.region_name,
                )
            _sessions[self] = built
            return built


def _raw_client(spec: RoleSpec) -> Any:
    with _sessions_lock:
        ddb = _clients.get(spec)
        if ddb is None:
            ddb = _clients[spec] = raw_items_client(spec.session())
        return ddb


def _driver(session: Any) -> tuple[RoleSpec, Any]:
    """Describe ``session``, and return a function giving the session here.

    The session is built lazily: with ``meta=`` and ``key_schema=`` a frame is
    described without any request.
    """
    if not isinstance(session, RoleSpec):
        check_session(session, "xacct_nb.dask")
    spec = RoleSpec.from_session(session)
    if isinstance(session, RoleSpec):
        return spec, spec.session
    return spec, lambda: session


# -- metadata ------------------------------------------------------------------------------


def _dtype(value: Any, name: str) -> Any:
    if value is str or (isinstance(value, str) and value == "str"):
        # pandas 3's alias of the string dtype; pandas 2.x reads it as object
        return string_dtype()
    try:
        return pd.Series([], dtype=value).dtype
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"dtype {value!r} for column {name!r} is not a dtype: {exc}") from None


def _empty(columns: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.Series([], dtype=dtype) for name, dtype in columns.items()},
        index=pd.RangeIndex(0),
    )


def _make_meta(
    sample: pd.DataFrame | None, meta: Any, dtypes: Any, columns: Sequence[str] | None,
    flatten: bool,
) -> tuple[pd.DataFrame, bool]:
    """(metadata frame, explicit): from ``meta=``, else the sample (see the module doc)."""
    if dtypes is not None and not isinstance(dtypes, Mapping):
        raise InvalidArgumentError(f"dtypes must be a mapping {{column: dtype}}, not {dtypes!r}.")
    if meta is not None:
        if isinstance(meta, pd.DataFrame):
            found = {name: meta[name].dtype for name in meta.columns}
        elif isinstance(meta, Mapping):
            found = {str(name): _dtype(d, str(name)) for name, d in meta.items()}
        else:
            raise InvalidArgumentError(
                f"meta must be a DataFrame or a mapping {{column: dtype}}, not {type(meta).__name__}."
            )
        explicit = True
    else:
        assert sample is not None
        found = {name: sample[name].dtype for name in sample.columns}
        if columns is not None and not flatten:
            for name in columns:
                top = name.split(".")[0].split("[")[0]
                if top not in found and name == top:
                    found[name] = np.dtype(object)
        explicit = False
    for name, value in (dtypes or {}).items():
        found[str(name)] = _dtype(value, str(name))
    return _empty(found), explicit


# -- conforming partitions -----------------------------------------------------------------


def _mismatch(name: str, where: str, holds: str, target: Any, fix: str) -> MetadataMismatchError:
    err = MetadataMismatchError(
        f"Column {name!r} in {where} holds {holds}, which the frame's metadata ({target}) "
        f"cannot hold without loss. Pass dtypes={{{name!r}: {fix!r}}} (or meta= for every "
        "column); the metadata came from a sample of the data, and this partition differs."
    )
    err.column, err.partition = name, where
    return err


def _missing(n: int, dtype: Any, name: str, where: str) -> Any:
    kind = str(dtype)
    if n == 0:
        return pd.Series([], dtype=dtype)
    if kind == "object":
        return pd.Series(np.full(n, None, dtype=object), dtype=object)
    if kind == "float64":
        return pd.Series(np.full(n, np.nan))
    if kind in ("int64", "bool"):
        raise _mismatch(name, where, f"{n} row(s) without a value", kind,
                        "Int64" if kind == "int64" else "boolean")
    try:
        return pd.Series(np.full(n, None, dtype=object)).astype(dtype)
    except (TypeError, ValueError):
        raise _mismatch(name, where, f"{n} row(s) without a value", kind, "object") from None


def _to_object(series: pd.Series) -> pd.Series:
    values = series.astype(object).to_numpy(dtype=object, copy=True)
    values[pd.isna(values)] = None
    return pd.Series(values, dtype=object)


def _all(series: pd.Series, kinds: tuple[type, ...]) -> bool:
    return all(v is None or (isinstance(v, kinds) and not isinstance(v, bool)) for v in series)


def _kind(dtype: Any) -> str:
    """Return the dtype's name; the type contract's string dtype is ``"str"`` on every pandas."""
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is not pd.NA:
        return "str"
    return str(dtype)


def _cast(series: pd.Series, dtype: Any, name: str, where: str) -> pd.Series:
    source, target = _kind(series.dtype), _kind(dtype)
    if series.dtype == dtype:
        return series.reset_index(drop=True)
    n = len(series)
    if n == 0 or series.isna().all():
        return _missing(n, dtype, name, where)
    if target == "object":
        return _to_object(series)
    if target not in _CONTRACT_DTYPES:
        try:
            return series.astype(dtype).reset_index(drop=True)
        except (TypeError, ValueError) as exc:
            raise _mismatch(name, where, f"{source} values ({exc})", target, "object") from None
    missing = bool(series.isna().any())
    if target == "float64":
        if source in ("int64", "Int64"):
            return pd.Series(series.to_numpy(dtype="float64", na_value=np.nan))
        if source == "object" and _all(series, (int,)):  # integers beyond int64
            return pd.Series(np.array([np.nan if v is None else float(v) for v in series]))
    if target == "Int64" and source == "int64":
        return series.astype("Int64").reset_index(drop=True)
    if target == "int64" and source == "Int64" and not missing:
        return series.astype("int64").reset_index(drop=True)
    if target == "boolean" and source == "bool":
        return series.astype("boolean").reset_index(drop=True)
    if target == "bool" and source == "boolean" and not missing:
        return series.astype(bool).reset_index(drop=True)
    if target == "str" and source == "object" and _all(series, (str,)):
        return series.astype(dtype).reset_index(drop=True)
    # Not without loss: say what the partition holds and what fits both.
    if target in ("int64", "bool") and source in ("Int64", "boolean"):
        raise _mismatch(name, where, "rows without a value", target,
                        "Int64" if target == "int64" else "boolean")
    if target in ("int64", "Int64") and source == "float64":
        raise _mismatch(name, where, "numbers with fractions", target, "float64")
    holds = {"object": "values of mixed types (or integers beyond int64)", "str": "strings",
             "float64": "numbers with fractions", "int64": "integers", "Int64": "integers",
             "bool": "booleans", "boolean": "booleans"}.get(source, f"{source} values")
    raise _mismatch(name, where, holds, target, "object")


def conform(df: pd.DataFrame, meta: pd.DataFrame, *, drop_extra: bool = False,
            where: str = "a partition") -> pd.DataFrame:
    """``df`` with exactly ``meta``'s columns and dtypes (the rules in the module doc).

    Parameters
    ----------
    df
        A frame decoded with the type contract.
    meta
        The metadata (an empty frame).
    drop_extra
        Drop columns ``meta`` does not have, instead of raising.
    where
        Names the partition in error messages.

    Raises
    ------
    MetadataMismatchError
        A value cannot be held by ``meta``'s dtype without loss, or (unless
        ``drop_extra``) ``df`` has a column ``meta`` lacks.

    Examples
    --------
    >>> meta = pd.DataFrame({"id": pd.Series([], dtype=object),
    ...                      "n": pd.Series([], dtype="Int64")})
    >>> part = pd.DataFrame({"id": ["a", "b"], "n": [1, 2]})
    >>> conform(part, meta).dtypes.astype(str).tolist()
    ['object', 'Int64']
    >>> conform(pd.DataFrame({"id": ["c"]}), meta)["n"].tolist()
    [<NA>]
    """
    extra = [c for c in df.columns if c not in meta.columns]
    if extra and not drop_extra:
        shown = ", ".join(map(repr, extra[:8])) + (" ..." if len(extra) > 8 else "")
        err = MetadataMismatchError(
            f"{where} has attributes the frame's metadata does not: {shown}. The metadata came "
            "from a sample of the data, which did not meet them. Name them with dtypes= "
            "(e.g. dtypes={" + f"{extra[0]!r}: 'object'" + "}), choose the attributes with "
            "columns=, or pass meta= (columns not in meta= are then dropped)."
        )
        err.column, err.partition = extra[0], where
        raise err
    n = len(df)
    data = {
        name: (_cast(df[name], dtype, str(name), where) if name in df.columns
               else _missing(n, dtype, str(name), where))
        for name, dtype in meta.dtypes.items()
    }
    if not data:
        return pd.DataFrame(index=pd.RangeIndex(n))
    return pd.DataFrame(data, index=pd.RangeIndex(n), copy=False)


# -- partitions (run on the workers) -------------------------------------------------------


class _Partitions:
    """Base of the callables Dask maps over the partitions: a description, never a session."""

    def __init__(self, spec: RoleSpec, meta: pd.DataFrame, drop_extra: bool, numbers: str,
                 flatten: bool, key_names: tuple[str, ...], max_rcu: float | None = None) -> None:
        self.spec = spec
        self.max_rcu = max_rcu  # this task's share of the read's budget (RCU/s), or None
        self.meta = meta
        self.drop_extra = drop_extra
        self.numbers = numbers
        self.flatten = flatten
        self.key_names = key_names
        self.nonce = uuid.uuid4().hex  # every read is new data: never reuse an old result

    def __dask_tokenize__(self) -> Any:
        return (type(self).__name__, self.nonce)

    def _pages(self, call: Any, params: dict[str, Any], table: str, segments: int) -> pd.DataFrame:
        stats = ReadStats(segments=segments, budget=Budget(self.max_rcu))
        worker = fetcher(call, params, table=table, stats=stats)
        parser = PageParser(numbers=self.numbers, flatten=self.flatten)
        builder = FrameBuilder(numbers=self.numbers, flatten=self.flatten,
                               key_names=self.key_names)
        for items, _ in threaded_stream([worker], parser):
            builder.add_items(items)
        return builder.to_frame()


class _ScanSegment(_Partitions):
    def __init__(self, table: str, params: dict[str, Any], segments: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.table, self.params, self.segments = table, params, segments

    def __call__(self, segment: int) -> pd.DataFrame:
        params = dict(self.params)
        if self.segments > 1:
            params.update(Segment=segment, TotalSegments=self.segments)
        df = self._pages(_raw_client(self.spec).scan, params, self.table, self.segments)
        where = f"Scan segment {segment} of {self.segments} of {self.table!r}"
        return conform(df, self.meta, drop_extra=self.drop_extra, where=where)


class _QueryPartition(_Partitions):
    def __init__(self, table: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.table = table

    def __call__(self, query: tuple[Any, dict[str, Any]]) -> pd.DataFrame:
        value, params = query
        df = self._pages(_raw_client(self.spec).query, params, self.table, 1)
        where = f"the Query of partition {value!r} of {self.table!r}"
        return conform(df, self.meta, drop_extra=self.drop_extra, where=where)


class _SnapshotPartition(_Partitions):
    def __init__(self, columns: list[str] | None, **kw: Any) -> None:
        super().__init__(**kw)
        self.columns = columns

    def __call__(self, file: SnapshotFile) -> pd.DataFrame:
        df = read_snapshot_file(self.spec.session(), file, columns=self.columns,
                                numbers=self.numbers, flatten=self.flatten,
                                key_names=self.key_names)
        if file.item_count is not None and len(df) != file.item_count:
            from ._errors import IncompleteReadError

            raise IncompleteReadError(
                f"s3://{file.bucket}/{file.key} held {len(df)} items; its manifest says "
                f"{file.item_count}. Nothing partial is returned: was the file replaced?"
            )
        where = f"export file s3://{file.bucket}/{file.key}"
        return conform(df, self.meta, drop_extra=self.drop_extra, where=where)


# -- the readers ---------------------------------------------------------------------------


def _check_sample(sample: Any) -> int:
    if isinstance(sample, bool) or not isinstance(sample, int) or sample < 1:
        raise InvalidArgumentError(f"sample must be a positive integer, not {sample!r}.")
    return sample


def _sample(call: Any, requests: Iterable[dict[str, Any]], *, table: str, sample: int,
            numbers: str, flatten: bool, key_names: tuple[str, ...],
            filtered: bool) -> pd.DataFrame:
    """Decode the first ``sample`` items of the requests, in order (at most a few pages)."""
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=key_names)
    parser = PageParser(numbers=numbers, flatten=flatten)
    stats = ReadStats()
    pages = 0
    for params in requests:
        for items, _ in page_stream(call, params, table=table, stats=stats,
                                     limit=sample - len(builder), can_limit_requests=not filtered):
            builder.add_items(parser.parse(items, seq=pages))
            pages += 1
            if len(builder) >= sample or pages >= SAMPLE_PAGES:
                return builder.to_frame()
    return builder.to_frame()


def _from_map(func: Any, items: list[Any], meta: pd.DataFrame, label: str) -> Any:
    dask, dd = _dask()
    with dask.config.set({"dataframe.convert-string": False}):
        if not items:
            return dd.from_pandas(meta, npartitions=1)
        return dd.from_map(func, items, meta=meta, divisions=None, label=label,
                           enforce_metadata=False)


@public
def read_scan(
    session: Any,
    table: str,
    *,
    segments: int | str | None = None,
    filter: Any = None,  # noqa: A002 - the documented name
    columns: Any = None,
    index: str | None = None,
    consistent: bool = False,
    numbers: str = "auto",
    flatten: bool = False,
    meta: Any = None,
    dtypes: Mapping[str, Any] | None = None,
    sample: int = 1000,
    key_schema: Any = None,
    max_rcu: Any = None,
) -> Any:
    """Read a parallel Scan as a Dask DataFrame: one partition per scan segment.

    Nothing is read but a sample (for the metadata, see the module
    documentation) until the frame is computed; each partition is then one
    segment of a parallel Scan, read by a worker with its own session
    (:class:`RoleSpec`) through the same fast path as :func:`xacct_nb.read_scan`.

    Parameters
    ----------
    session
        A ``boto3.Session`` (e.g. ``conn.session``), or a :class:`RoleSpec`.
    table
        Table name or table ARN.
    segments
        Partitions (``TotalSegments``, up to 1,000,000); default: one per
        64 MiB of the table (DescribeTable's size); ``"auto"`` is the same
        (Dask's scheduler decides how many are read at once). Each worker holds the
        partitions it is computing: choose them small enough for its memory.
    filter, columns, index, consistent, numbers, flatten, key_schema
        As in :func:`xacct_nb.read_scan`.
    meta, dtypes, sample
        The metadata: explicit, overridden per column, or sampled from the
        first ``sample`` items (see the module documentation).
    max_rcu
        A read-capacity budget (RCU per second, ``"N%"`` of provisioned, or
        ``"off"``; ``None``: ``XACCT_MAX_RCU`` / ``xacct.toml``, else none), as
        in :func:`xacct_nb.read_scan`, enforced **per task**: each partition's
        task gets an equal share, ``max_rcu / segments``, and enforces it on
        its own (tasks may run on other machines). The whole read stays within
        ``max_rcu`` however many tasks run at once; with fewer workers than
        partitions it reads slower than ``max_rcu`` allows.

    Returns
    -------
    dask.dataframe.DataFrame
        Columns and dtypes known before any partition is read.

    Raises
    ------
    MetadataMismatchError
        At compute time, from a partition that does not fit the metadata.

    Examples
    --------
    >>> ddf = read_scan(conn.session, conn.table, segments=8)
    >>> ddf.npartitions, ddf.dtypes["total"]
    (8, dtype('float64'))
    >>> len(ddf)
    3000
    """
    _dask()
    check_read_args(numbers, None, None, None)
    for flag, value in (("consistent", consistent), ("flatten", flatten)):
        check_bool(flag, value)
    checked_rcu = check_max_rcu(max_rcu)
    sample = _check_sample(sample)
    names = check_columns(columns)
    spec, driver = _driver(session)
    ref = parse_table(table)
    try:
        schema: KeySchema | None = key_schema_for(
            driver() if key_schema is None else None, ref, key_schema)
    except XacctError as exc:
        if getattr(exc, "code", "") != "AccessDeniedException":
            raise
        schema = None
    if schema is not None and index is not None:
        kind = schema.for_index(index, str(ref))[2]
        if consistent and kind == "GSI":
            raise InvalidArgumentError(
                f"consistent=True is not possible on global secondary index {index!r}."
            )
    if segments is None or (isinstance(segments, str) and segments == "auto"):
        if schema is None or schema.size_bytes is None:
            raise InvalidArgumentError(
                f"segments= is needed: the size of {str(ref)!r} is unknown (no DescribeTable)."
            )
        segments = max(1, min(1_000_000, math.ceil(schema.size_bytes / SEGMENT_BYTES)))
    if isinstance(segments, bool) or not isinstance(segments, int) or not 1 <= segments <= 1_000_000:
        raise InvalidArgumentError(
            f'segments must be an integer from 1 to 1000000, "auto" or None, not {segments!r}.')
    params: dict[str, Any] = {"TableName": ref.request_name}
    params.update(build_expressions(filter=filter, columns=names))
    if index is not None:
        params["IndexName"] = index
    if consistent:
        params["ConsistentRead"] = True
    keys = frame_keys(schema, index, names) if schema else ()
    sampled = None
    if meta is None:
        sampled = _sample(raw_items_client(driver()).scan, [params], table=str(ref), sample=sample,
                          numbers=numbers, flatten=flatten, key_names=keys,
                          filtered=filter is not None)
    frame_meta, explicit = _make_meta(sampled, meta, dtypes, names, flatten)
    gsi = index if (schema is not None and index is not None
                    and schema.for_index(index, str(ref))[2] == "GSI") else None
    rate = resolve_max_rcu(checked_rcu, table=str(ref), index=gsi, describe=lambda: (
        schema.description if schema is not None else None)
        or key_schema_for(driver(), ref).description)
    func = _ScanSegment(str(ref), params, segments, spec=spec, meta=frame_meta,
                        drop_extra=explicit, numbers=numbers, flatten=flatten, key_names=keys,
                        max_rcu=None if rate is None else rate / segments)
    return _from_map(func, list(range(segments)), frame_meta, "dynamodb-scan")


@public
def read_query(
    session: Any,
    table: str,
    partitions: Any,
    *,
    sort: Any = None,
    index: str | None = None,
    columns: Any = None,
    filter: Any = None,  # noqa: A002 - the documented name
    ascending: bool = True,
    consistent: bool = False,
    numbers: str = "auto",
    flatten: bool = False,
    meta: Any = None,
    dtypes: Mapping[str, Any] | None = None,
    sample: int = 1000,
    key_schema: Any = None,
    max_rcu: Any = None,
) -> Any:
    """Query many partition keys as a Dask DataFrame: one partition per query.

    Parameters
    ----------
    session
        A ``boto3.Session`` or a :class:`RoleSpec`.
    table
        Table name or table ARN.
    partitions
        Partition-key values (of the table, or of ``index``), one query each;
        a single value means one query.
    sort, index, columns, filter, ascending, consistent, numbers, flatten, key_schema
        As in :func:`xacct_nb.read_query`, the same for every query.
    meta, dtypes, sample
        The metadata (see the module documentation); the sample is taken
        from the first queries.
    max_rcu
        A read-capacity budget, as in :func:`read_scan`: each query's task
        gets ``max_rcu / len(partitions)`` RCU per second.

    Returns
    -------
    dask.dataframe.DataFrame

    Examples
    --------
    >>> ddf = read_query(conn.session, conn.table, ["C-0001", "C-0002"],
    ...                  sort=("begins_with", "2026-03"))
    >>> ddf.npartitions
    2
    >>> ddf["customer_id"].value_counts().compute().sort_index()
    customer_id
    C-0001    2
    C-0002    1
    Name: count, dtype: int64
    """
    _dask()
    check_read_args(numbers, None, None, None)
    for flag, given in (("ascending", ascending), ("consistent", consistent), ("flatten", flatten)):
        check_bool(flag, given)
    checked_rcu = check_max_rcu(max_rcu)
    sample = _check_sample(sample)
    names = check_columns(columns)
    if isinstance(partitions, (str, bytes, int, float)) or not isinstance(partitions, Iterable):
        values = [partitions]
    elif isinstance(partitions, Mapping):
        raise InvalidArgumentError(
            "partitions must be partition-key values (a list), not a mapping: the key's name "
            "comes from DescribeTable or key_schema=."
        )
    else:
        values = list(partitions)
    if not values:
        raise InvalidArgumentError("partitions is empty: give at least one partition-key value.")
    spec, driver = _driver(session)
    ref = parse_table(table)
    schema = key_schema_for(driver() if key_schema is None else None, ref, key_schema)
    part_name, sort_name, kind = schema.for_index(index, str(ref))
    for value in values:
        check_key_value("partition", part_name, schema.attribute_types.get(part_name), value,
                        str(ref))
    check_sort_values(sort_name, schema.attribute_types.get(sort_name or ""), sort, str(ref))
    if consistent and kind == "GSI":
        raise InvalidArgumentError(
            f"consistent=True is not possible on global secondary index {index!r}."
        )
    queries = []
    for value in values:
        params: dict[str, Any] = {"TableName": ref.request_name, "ScanIndexForward": bool(ascending)}
        params.update(build_expressions(
            key=key_condition(part_name, value, sort_name, sort), filter=filter, columns=names))
        if index is not None:
            params["IndexName"] = index
        if consistent:
            params["ConsistentRead"] = True
        queries.append((value, params))
    keys = frame_keys(schema, index, names)
    sampled = None
    if meta is None:
        sampled = _sample(raw_items_client(driver()).query, [p for _, p in queries], table=str(ref),
                          sample=sample, numbers=numbers, flatten=flatten, key_names=keys,
                          filtered=filter is not None)
    frame_meta, explicit = _make_meta(sampled, meta, dtypes, names, flatten)
    rate = resolve_max_rcu(checked_rcu, table=str(ref), index=index if kind == "GSI" else None,
                           describe=lambda: schema.description
                           or key_schema_for(driver(), ref).description)
    func = _QueryPartition(str(ref), spec=spec, meta=frame_meta, drop_extra=explicit,
                           numbers=numbers, flatten=flatten, key_names=keys,
                           max_rcu=None if rate is None else rate / len(queries))
    return _from_map(func, queries, frame_meta, "dynamodb-query")


@public
def read_snapshot(
    session: Any,
    snapshot: Snapshot | str,
    *,
    columns: Any = None,
    numbers: str = "auto",
    flatten: bool = False,
    key_names: Any = None,
    meta: Any = None,
    dtypes: Mapping[str, Any] | None = None,
    sample: int = 1000,
) -> Any:
    """Read an exported table (S3) as a Dask DataFrame: one partition per data file.

    No read capacity is consumed: the workers read the export's files with
    their own session (:class:`RoleSpec` of ``session``, an identity that
    may read the bucket, e.g. ``conn.source_session``).

    Parameters
    ----------
    session
        A ``boto3.Session`` or a :class:`RoleSpec` that may read the bucket.
    snapshot
        A completed :class:`xacct_nb.Snapshot`, or its ``s3://`` URL (see
        :func:`xacct_nb.read_snapshot`).
    columns, numbers, flatten, key_names
        As in :func:`xacct_nb.read_snapshot`.
    meta, dtypes, sample
        The metadata (see the module documentation); the sample is the first
        items of the first data file.

    Returns
    -------
    dask.dataframe.DataFrame

    Examples
    --------
    >>> ddf = read_snapshot(conn.source_session, snap)
    >>> ddf.npartitions == len(snapshot_files(conn.source_session, snap)[1])
    True
    """
    _dask()
    check_read_args(numbers, None, None, None)
    sample = _check_sample(sample)
    names = check_columns(columns)
    spec, driver = _driver(session)
    _, files = snapshot_files(driver(), snapshot)
    keys = snapshot_key_names(snapshot, key_names, names)
    sampled = None
    if meta is None:
        first = next((f for f in files if f.item_count != 0), None)
        sampled = (
            read_snapshot_file(driver(), first, columns=names, numbers=numbers, flatten=flatten,
                               key_names=keys, limit=sample)
            if first is not None else FrameBuilder(key_names=keys).to_frame()
        )
    frame_meta, explicit = _make_meta(sampled, meta, dtypes, names, flatten)
    func = _SnapshotPartition(names, spec=spec, meta=frame_meta, drop_extra=explicit,
                              numbers=numbers, flatten=flatten, key_names=keys)
    return _from_map(func, list(files), frame_meta, "dynamodb-export")
