"""xacct-nb: DynamoDB tables of another AWS account, in pandas and JupyterLab.

>>> import xacct_nb as xn
>>> conn = xn.connect()
xacct-nb: no AWS settings found; using the embedded sandbox (account ... -> ..., table ...).
>>> df = xn.read_query(conn.session, conn.table, "C-0001")
>>> df["customer_id"].unique().tolist()
['C-0001']

The public API is what ``__all__`` lists; everything in a ``_module`` is
private and may change.
"""

from __future__ import annotations

from . import _redaction, cache, policies, sandbox
from ._access import AccessReport, verify_access
from ._connect import Connection, connect
from ._describe import TableInfo, describe
from ._errors import (
    AccessDeniedError,
    AssumeRoleError,
    AwsError,
    ConfigurationError,
    CostLimitError,
    EndpointError,
    ExpiredCredentialsError,
    ExportTimeoutError,
    FastLaneWarning,
    IncompleteReadError,
    IncompleteWriteError,
    InvalidArgumentError,
    LargeScanWarning,
    MetadataMismatchError,
    SandboxError,
    TableNotFoundError,
    ThrottledError,
    XacctError,
)
from ._explorer import Explorer, explorer
from ._export import ExportReport, export
from ._partiql import read_partiql
from ._read import read_query, read_scan
from ._read_items import read_items
from ._sessions import assume_role, whoami
from ._snapshot import (
    Snapshot,
    describe_snapshot,
    export_snapshot,
    read_snapshot,
)
from ._version import __version__
from ._write import WriteReport, write_frame

__all__ = [
    "AccessDeniedError",
    "AccessReport",
    "AssumeRoleError",
    "AwsError",
    "ConfigurationError",
    "Connection",
    "CostLimitError",
    "EndpointError",
    "ExpiredCredentialsError",
    "Explorer",
    "ExportReport",
    "ExportTimeoutError",
    "FastLaneWarning",
    "IncompleteReadError",
    "IncompleteWriteError",
    "InvalidArgumentError",
    "LargeScanWarning",
    "MetadataMismatchError",
    "SandboxError",
    "Snapshot",
    "TableInfo",
    "TableNotFoundError",
    "ThrottledError",
    "WriteReport",
    "XacctError",
    "__version__",
    "assume_role",
    "cache",
    "connect",
    "describe",
    "describe_snapshot",
    "explorer",
    "export",
    "export_snapshot",
    "policies",
    "read_items",
    "read_partiql",
    "read_query",
    "read_scan",
    "read_snapshot",
    "sandbox",
    "verify_access",
    "whoami",
    "write_frame",
]

# botocore logs credentials and signatures at DEBUG: redact them in every record.
_redaction.install()
