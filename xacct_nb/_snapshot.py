"""Snapshot exports: a table copied to S3 by DynamoDB, read back as DataFrames.

A Scan reads the live table and is billed for every item it reads. For a
table of hundreds of millions of items, DynamoDB's own export
(``ExportTableToPointInTime``) is the cheaper path: it copies the table as
it was at one moment into S3, consumes **no read capacity**, and leaves the
live table alone. This module starts such an export into a bucket (the
analyst's own bucket in account A works, with ``bucket_owner=``), waits for
it with a progress bar, and reads the exported DynamoDB-JSON files into
pandas (:func:`read_snapshot`, file by file) or Dask
(:func:`xacct_nb.dask.read_snapshot`, one partition per file) with the same
type contract as :func:`xacct_nb.read_scan`.

What DynamoDB writes (``<prefix>/AWSDynamoDB/<ExportId>/``)::

    _started                         empty: the bucket was writable
    manifest-summary.json            the export: ARN, times, itemCount, manifestFilesS3Key
    manifest-files.json              one JSON line per data file: dataFileS3Key, itemCount
    data/<name>.json.gz              gzipped lines {"Item": {<attribute>: {<type>: ...}}}

The reader follows the manifests (never a listing of ``data/``, which may
hold files of other exports) and checks that the files held the number of
items the summary announces.

Permissions
-----------
Owner's account (B), on the role the analyst assumes
(:func:`xacct_nb.policies.export_policy`): ``dynamodb:ExportTableToPointInTime``
on the table, ``dynamodb:DescribeExport`` on ``TABLE_ARN/export/*``,
``dynamodb:ListExports`` (``*``), and ``s3:PutObject``,
``s3:AbortMultipartUpload``, ``s3:PutObjectAcl`` on
``arn:aws:s3:::BUCKET/PREFIX/*``: the export writes with the caller's
permissions. The table needs point-in-time recovery enabled, once, by the
owner (``UpdateContinuousBackups``).

Analyst's account (A), when the bucket is A's: the bucket policy must allow
the owner's role the same three S3 actions on the prefix
(:func:`xacct_nb.policies.export_bucket_policy`: across accounts S3 needs
both sides), and the analyst's own identity needs ``s3:GetObject`` on the
prefix (and ``s3:ListBucket`` to find an export from a URL alone):
:func:`xacct_nb.policies.export_reader_policy`. With S3 Object Ownership
"bucket owner enforced" (the default for new buckets) the exported files
belong to account A.

>>> snap = export_snapshot(conn.session, conn.table, "analyst-exports",
...                        prefix="orders", bucket_owner="111111111111")
>>> df = read_snapshot(conn.source_session, snap)
>>> len(df), df.attrs["consumed_capacity"]
(3000, 0.0)
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ._clients import client
from ._decode import FrameBuilder
from ._decode_arrow import PageParser, RawItems
from ._engine import (
    Progress,
    ReadStats,
    check_read_args,
    collect,
    interactive,
    threaded_stream,
)
from ._errors import (
    AccessDeniedError,
    AwsError,
    ConfigurationError,
    ExportTimeoutError,
    IncompleteReadError,
    InvalidArgumentError,
    XacctError,
    translate_client_error,
)
from ._schema import key_schema_for, parse_table
from ._validate import (
    check_bool,
    check_optional_bool,
    check_session,
    check_str,
    public,
)

__all__ = [
    "ExportTimeoutError",
    "Snapshot",
    "SnapshotFile",
    "check_columns",
    "describe_snapshot",
    "export_snapshot",
    "read_snapshot",
    "snapshot_files",
    "snapshot_key_names",
]

logger = logging.getLogger("xacct_nb")

#: Lines handed to the parser at once (each a page of the read).
BATCH_LINES = 10_000
#: Polling DescribeExport: first wait, growth factor, longest wait (seconds).
POLL_FIRST, POLL_GROWTH, POLL_MAX = 0.2, 1.5, 15.0
_EXPORT_ARN_RE = re.compile(
    r"^arn:aws[\w-]*:dynamodb:[\w-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/export/[\w.-]+$"
)
_ITEM_LINE = re.compile(rb'^\s*\{\s*"Item"\s*:\s*')


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime.fromtimestamp(float(value), UTC)


@dataclass(frozen=True)
class Snapshot:
    """One table export, as ``DescribeExport`` last reported it.

    Attributes
    ----------
    export_arn : str
        ``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/export/ID``.
    status : str
        ``"IN_PROGRESS"``, ``"COMPLETED"`` or ``"FAILED"``.
    table_arn, bucket : str
    prefix, bucket_owner : str or None
    manifest : str or None
        Key of ``manifest-summary.json`` (once completed).
    item_count, billed_size_bytes : int or None
        Known once completed.
    export_time, start_time, end_time : datetime or None
    failure_code, failure_message : str or None
    session
        The session that started the export (to refresh it); never printed.

    Examples
    --------
    >>> snap = Snapshot("arn:aws:dynamodb:us-east-1:222222222222:table/T1/export/"
    ...                 "01795800000000-a1b2c3d4", "COMPLETED",
    ...                 "arn:aws:dynamodb:us-east-1:222222222222:table/T1", "exports",
    ...                 prefix="orders")
    >>> snap.export_id, snap.url
    ('01795800000000-a1b2c3d4', 's3://exports/orders/AWSDynamoDB/01795800000000-a1b2c3d4/')
    """

    export_arn: str
    status: str
    table_arn: str
    bucket: str
    prefix: str | None = None
    bucket_owner: str | None = None
    manifest: str | None = None
    item_count: int | None = None
    billed_size_bytes: int | None = None
    export_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    session: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_description(cls, desc: dict[str, Any], session: Any = None) -> Snapshot:
        """Build one from an ``ExportDescription`` (of DescribeExport, ExportTableToPointInTime)."""
        return cls(
            export_arn=desc["ExportArn"],
            status=desc.get("ExportStatus", "IN_PROGRESS"),
            table_arn=desc.get("TableArn") or desc["ExportArn"].split("/export/")[0],
            bucket=desc.get("S3Bucket", ""),
            prefix=desc.get("S3Prefix") or None,
            bucket_owner=desc.get("S3BucketOwner"),
            manifest=desc.get("ExportManifest"),
            item_count=desc.get("ItemCount"),
            billed_size_bytes=desc.get("BilledSizeBytes"),
            export_time=_time(desc.get("ExportTime")),
            start_time=_time(desc.get("StartTime")),
            end_time=_time(desc.get("EndTime")),
            failure_code=desc.get("FailureCode"),
            failure_message=desc.get("FailureMessage"),
            session=session,
        )

    @property
    def export_id(self) -> str:
        """The export's id: the folder name under ``AWSDynamoDB/``."""
        return self.export_arn.rsplit("/", 1)[-1]

    @property
    def table(self) -> str:
        """The exported table's name."""
        return self.table_arn.rsplit("/", 1)[-1]

    @property
    def folder(self) -> str:
        """The key prefix of everything this export wrote (ends with ``/``)."""
        prefix = (self.prefix or "").strip("/")
        return f"{prefix}/AWSDynamoDB/{self.export_id}/" if prefix else (
            f"AWSDynamoDB/{self.export_id}/")

    @property
    def url(self) -> str:
        """``s3://BUCKET/PREFIX/AWSDynamoDB/ID/``: what :func:`read_snapshot` also accepts."""
        return f"s3://{self.bucket}/{self.folder}"

    @property
    def done(self) -> bool:
        """The export has ended (completed or failed)."""
        return self.status in ("COMPLETED", "FAILED")

    def refresh(self) -> Snapshot:
        """Call ``DescribeExport`` again: return a new :class:`Snapshot` with the current status."""
        if self.session is None:
            raise InvalidArgumentError(
                "This Snapshot has no session to ask DynamoDB with: use "
                "xn.export_snapshot(...) or Snapshot.from_description(desc, session)."
            )
        return describe_snapshot(self.session, self.export_arn)

    def wait(self, *, timeout: float | None = None, progress: bool | None = None) -> Snapshot:
        """Wait until the export has ended; return it completed, or raise why it failed.

        Parameters
        ----------
        timeout
            Seconds; ``None`` waits as long as it takes (exports of large
            tables take minutes to hours). On timeout,
            :class:`ExportTimeoutError` (its ``.snapshot`` can be waited on again).
        progress
            ``None``: a progress line while waiting, in a notebook or terminal
            (not with ``XACCT_PROGRESS=never``); ``True`` / ``False``.

        Raises
        ------
        AccessDeniedError
            The export failed with ``S3AccessDenied`` (what to grant is in the message).
        AwsError
            It failed for another reason (``.code`` is DynamoDB's FailureCode).
        """
        return _wait(self, timeout=timeout, progress=progress)

    def __str__(self) -> str:
        count = "" if self.item_count is None else f", {self.item_count:,} items"
        return f"export of {self.table} -> {self.url}: {self.status}{count}"


@dataclass(frozen=True)
class SnapshotFile:
    """One data file of an export: where it is and how many items it holds."""

    bucket: str
    key: str
    item_count: int | None = None


# -- starting and following an export ----------------------------------------------------


def _table_arn(session: Any, table: str) -> str:
    ref = parse_table(table)
    if ref.arn:
        return ref.arn
    try:
        return client(session, "dynamodb").describe_table(TableName=ref.name)["Table"]["TableArn"]
    except ClientError as exc:
        raise translate_client_error(
            exc, table=ref.name,
            what=f"DescribeTable of {ref.name!r} (to find its ARN; or pass the table ARN)",
        ) from None
    except NoCredentialsError:
        raise ConfigurationError(
            f"No AWS credentials to export {ref.name!r}: use xn.connect() / xn.assume_role."
        ) from None


def _export_error(exc: ClientError, table_arn: str, bucket: str, prefix: str | None) -> XacctError:
    err = translate_client_error(exc, table=table_arn, what=f"Exporting {table_arn!r}")
    code = getattr(err, "code", "")
    if code == "PointInTimeRecoveryUnavailableException":
        name = table_arn.rsplit("/", 1)[-1]
        return AwsError(
            f"Exporting {table_arn!r} failed: point-in-time recovery is not enabled on the "
            "table, and DynamoDB exports only from it. The table's owner enables it once "
            f"(`aws dynamodb update-continuous-backups --table-name {name} "
            "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true`; it is "
            "billed per GB-month). Until then, xn.read_scan / xacct_nb.dask.read_scan read "
            "the live table.",
            code=code, operation="ExportTableToPointInTime",
            aws_message=getattr(err, "aws_message", ""), table=table_arn,
        )
    if isinstance(err, AccessDeniedError):
        err.args = (
            f"Exporting {table_arn!r} failed: {code}: {_aws_text(err)}. The role needs "
            "dynamodb:ExportTableToPointInTime on the table (and "
            "DescribeExport on TABLE_ARN/export/*): xn.policies.export_policy("
            f"{table_arn!r}, {bucket!r}, prefix={prefix!r}) generates it, for the owner to "
            "attach to the role.",
        )
    return err


@public
def export_snapshot(
    session: Any,
    table: str,
    bucket: str,
    *,
    prefix: str | None = None,
    bucket_owner: str | None = None,
    export_time: datetime | None = None,
    client_token: str | None = None,
    wait: bool = True,
    timeout: float | None = None,
    progress: bool | None = None,
) -> Snapshot:
    """Export the table as it is now (or at ``export_time``) into S3, without reading it.

    Starts ``ExportTableToPointInTime`` (DynamoDB JSON, a full export) and,
    with ``wait=True``, waits for it with a progress line. The export
    consumes no read capacity; it needs point-in-time recovery on the table
    and the permissions listed in this module's documentation
    (:func:`xacct_nb.policies.export_policy` and, for a bucket of another
    account, :func:`xacct_nb.policies.export_bucket_policy`).

    Parameters
    ----------
    session
        The owner's role session (e.g. ``conn.session``).
    table
        Table name or table ARN.
    bucket
        Destination bucket (any account's, if it lets the role write).
    prefix
        Key prefix for the export's files.
    bucket_owner
        Account id owning the bucket (``S3BucketOwner``); give it for a
        bucket of another account: the export then fails rather than write
        into a same-named bucket someone else owns.
    export_time
        A moment within the table's point-in-time recovery window; default now.
    client_token
        Idempotency token (same token, same export for 8 hours).
    wait, timeout, progress
        Wait for the end (see :meth:`Snapshot.wait`), or return at once.

    Returns
    -------
    Snapshot
        Completed when ``wait=True``.

    Examples
    --------
    >>> snap = export_snapshot(conn.session, conn.table, "analyst-exports",
    ...                        prefix="orders", bucket_owner="111111111111")
    >>> snap.status, snap.item_count
    ('COMPLETED', 3000)
    """
    check_session(session, "xn.export_snapshot")
    check_optional_bool("progress", progress)
    check_bool("wait", wait)
    check_str("prefix", prefix, optional=True, min_len=0)
    check_str("client_token", client_token, optional=True, max_len=64)
    if export_time is not None and not isinstance(export_time, datetime):
        raise InvalidArgumentError(
            f"export_time must be a datetime within the table's point-in-time recovery window "
            f"(or None for now), not {export_time!r}."
        )
    if not isinstance(bucket, str) or not bucket:
        raise InvalidArgumentError(f"bucket must be an S3 bucket name, not {bucket!r}.")
    if bucket_owner is not None and not re.fullmatch(r"\d{12}", str(bucket_owner)):
        raise InvalidArgumentError(
            f"bucket_owner={bucket_owner!r} is not an AWS account id (12 digits)."
        )
    if timeout is not None and (isinstance(timeout, bool) or not timeout > 0):
        raise InvalidArgumentError(f"timeout must be a positive number of seconds, not {timeout!r}.")
    table_arn = _table_arn(session, table)
    params: dict[str, Any] = {
        "TableArn": table_arn,
        "S3Bucket": bucket,
        "ExportFormat": "DYNAMODB_JSON",
        "ClientToken": client_token or str(uuid.uuid4()),
    }
    if prefix:
        params["S3Prefix"] = prefix.strip("/")
    if bucket_owner:
        params["S3BucketOwner"] = str(bucket_owner)
    if export_time is not None:
        params["ExportTime"] = export_time
    try:
        desc = client(session, "dynamodb").export_table_to_point_in_time(**params)
    except ClientError as exc:
        raise _export_error(exc, table_arn, bucket, prefix) from None
    except NoCredentialsError:
        raise ConfigurationError(
            f"No AWS credentials to export {table_arn!r}: use xn.connect() / xn.assume_role."
        ) from None
    snapshot = Snapshot.from_description(desc["ExportDescription"], session)
    logger.info("started export %s of %s into s3://%s", snapshot.export_arn, table_arn, bucket)
    return snapshot.wait(timeout=timeout, progress=progress) if wait else snapshot


@public
def describe_snapshot(session: Any, export_arn: str) -> Snapshot:
    """Describe the export ``export_arn`` as ``DescribeExport`` reports it now.

    Examples
    --------
    >>> describe_snapshot(conn.session, snap.export_arn).status
    'COMPLETED'
    """
    check_session(session, "xn.describe_snapshot")
    if not isinstance(export_arn, str) or not _EXPORT_ARN_RE.match(export_arn):
        raise InvalidArgumentError(
            f"{export_arn!r} is not an export ARN: expected "
            "'arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/export/ID'."
        )
    try:
        desc = client(session, "dynamodb").describe_export(ExportArn=export_arn)
    except ClientError as exc:
        err = translate_client_error(exc, what=f"DescribeExport of {export_arn!r}")
        if isinstance(err, AccessDeniedError):
            err.args = (
                f"DescribeExport of {export_arn!r} failed: {err.code}: {_aws_text(err)}. "
                "The role needs dynamodb:DescribeExport on "
                f"{export_arn.split('/export/')[0]}/export/* (xn.policies.export_policy).",
            )
        raise err from None
    return Snapshot.from_description(desc["ExportDescription"], session)


def _failure(snapshot: Snapshot) -> XacctError:
    code, message = snapshot.failure_code or "UNKNOWN", snapshot.failure_message or ""
    what = f"The export of {snapshot.table_arn!r} into s3://{snapshot.bucket} failed: {code}: {message}."
    if code == "S3AccessDenied":
        err: AwsError = AccessDeniedError(
            f"{what} DynamoDB writes the files with the role's own permissions: the role "
            f"needs s3:PutObject, s3:AbortMultipartUpload and s3:PutObjectAcl on "
            f"arn:aws:s3:::{snapshot.bucket}/{(snapshot.prefix or '').strip('/')}"
            f"{'/' if snapshot.prefix else ''}* (xn.policies.export_policy); a bucket of "
            "another account must allow the role in its bucket policy "
            "(xn.policies.export_bucket_policy); and bucket_owner= must be the account that "
            "really owns the bucket.",
            code=code, operation="ExportTableToPointInTime", aws_message=message,
            table=snapshot.table_arn,
        )
    elif code == "S3NoSuchBucket":
        err = AwsError(
            f"{what} Check the bucket's name (and that it exists in the partition of the table).",
            code=code, operation="ExportTableToPointInTime", aws_message=message,
            table=snapshot.table_arn,
        )
    else:
        err = AwsError(f"{what} Start a new export; if it fails again, see DynamoDB's message.",
                       code=code, operation="ExportTableToPointInTime", aws_message=message,
                       table=snapshot.table_arn)
    err.snapshot = snapshot  # type: ignore[attr-defined]
    return err


def _wait(snapshot: Snapshot, *, timeout: float | None, progress: bool | None) -> Snapshot:
    if progress not in (None, True, False):
        raise InvalidArgumentError(f"progress must be None, True or False, not {progress!r}.")
    start = time.monotonic()
    delay = POLL_FIRST
    bar: Any = None
    try:
        while True:
            if snapshot.status == "COMPLETED":
                return snapshot
            if snapshot.status == "FAILED":
                raise _failure(snapshot)
            elapsed = time.monotonic() - start
            if timeout is not None and elapsed >= timeout:
                err = ExportTimeoutError(
                    f"The export of {snapshot.table_arn!r} ({snapshot.export_arn}) is still "
                    f"{snapshot.status} after {elapsed:.0f} s. It goes on in DynamoDB: call "
                    "snapshot.wait() again (err.snapshot), or read it later with "
                    "xn.read_snapshot(session, snapshot.url)."
                )
                err.snapshot = snapshot
                raise err
            if bar is None and (progress is True or (progress is None and interactive())):
                from tqdm.auto import tqdm

                bar = tqdm(total=None, bar_format="{desc} [{elapsed}]", leave=False)
            if bar is not None:
                bar.set_description_str(f"Export {snapshot.table}: {snapshot.status}")
            pause = delay if timeout is None else min(delay, max(timeout - elapsed, 0.0))
            time.sleep(pause)
            delay = min(delay * POLL_GROWTH, POLL_MAX)
            snapshot = snapshot.refresh()
    finally:
        if bar is not None:
            bar.close()


# -- finding the files ---------------------------------------------------------------------


def _s3_error(exc: ClientError, bucket: str, key: str, what: str) -> XacctError:
    err = translate_client_error(exc, what=f"{what} of s3://{bucket}/{key}")
    if isinstance(err, AccessDeniedError):
        folder = key.split("AWSDynamoDB/")[0].strip("/") or None
        err.args = (
            f"{what} of s3://{bucket}/{key} failed: {err.code}: {_aws_text(err)}. "
            "Reading an export needs s3:GetObject on its files (and "
            "s3:ListBucket to find one from a URL): xn.policies.export_reader_policy("
            f"{bucket!r}, prefix={folder!r}), attached to the identity that reads (for a "
            "bucket of account A, the analyst's own identity, e.g. conn.source_session).",
        )
    elif getattr(err, "code", "") in ("NoSuchKey", "NoSuchBucket", "404"):
        err.args = (
            f"{err.args[0]} Is the export complete, and is this the export's folder "
            "(s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/)?",
        )
    return err


def _aws_text(err: Any) -> str:
    return (getattr(err, "aws_message", "") or "").rstrip(".")


def _get(s3: Any, bucket: str, key: str, what: str = "GetObject") -> Any:
    try:
        return s3.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        raise _s3_error(exc, bucket, key, what) from None
    except NoCredentialsError:
        raise ConfigurationError(
            f"No AWS credentials to read s3://{bucket}/{key}: pass the session of an identity "
            "that may read the bucket (e.g. conn.source_session)."
        ) from None


def _parse_url(url: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([^/]+)/?(.*)", url.strip()) if isinstance(url, str) else None
    if not match:
        raise InvalidArgumentError(
            f"snapshot={url!r} is not an export location: pass a Snapshot or "
            "'s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/' (or the manifest-summary.json in it, "
            "or 's3://BUCKET/PREFIX/' for the latest export there)."
        )
    return match.group(1), match.group(2)


def _latest_export(s3: Any, bucket: str, prefix: str) -> str:
    """Find the folder of the most recent export under ``prefix`` (ids start with a timestamp)."""
    base = f"{prefix.strip('/')}/AWSDynamoDB/" if prefix.strip("/") else "AWSDynamoDB/"
    folders: list[str] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=base, Delimiter="/"
        ):
            folders += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    except ClientError as exc:
        raise _s3_error(exc, bucket, base, "ListObjectsV2") from None
    if not folders:
        raise InvalidArgumentError(
            f"No export found under s3://{bucket}/{base}: check the bucket and prefix."
        )
    return max(folders)


def _resolve(key: str, folder: str) -> str:
    """Make a key from a manifest absolute: manifests may name keys without the prefix."""
    base = folder[: folder.index("AWSDynamoDB/")] if "AWSDynamoDB/" in folder else ""
    if not base or key.startswith(base):
        return key
    if "AWSDynamoDB/" in key:
        return base + key[key.index("AWSDynamoDB/"):]
    return folder + key


def _location(s3: Any, snapshot: Any) -> tuple[str, str]:
    """Return (bucket, key of manifest-summary.json) of a Snapshot or an s3:// URL."""
    if isinstance(snapshot, Snapshot):
        if snapshot.status != "COMPLETED":
            raise InvalidArgumentError(
                f"The export {snapshot.export_arn} is {snapshot.status}, not COMPLETED: "
                "call snapshot.wait() first."
            )
        return snapshot.bucket, snapshot.manifest or snapshot.folder + "manifest-summary.json"
    bucket, key = _parse_url(snapshot)
    if key.endswith("manifest-summary.json"):
        return bucket, key
    if re.search(r"(^|/)AWSDynamoDB/[^/]+/?$", key):
        return bucket, key.rstrip("/") + "/manifest-summary.json"
    return bucket, _latest_export(s3, bucket, key) + "manifest-summary.json"


def _table_of(snapshot: Any) -> str:
    if isinstance(snapshot, Snapshot):
        return snapshot.table
    return "export"


def snapshot_files(session: Any, snapshot: Snapshot | str) -> tuple[dict[str, Any], list[SnapshotFile]]:
    """Read the export's summary manifest and list its data files, from the manifests.

    Parameters
    ----------
    session
        An identity that may read the bucket (``s3:GetObject``).
    snapshot
        A completed :class:`Snapshot`, or ``s3://BUCKET/PREFIX/AWSDynamoDB/ID/``
        (or its ``manifest-summary.json``, or ``s3://BUCKET/PREFIX/`` for the
        latest export there, which needs ``s3:ListBucket``).

    Returns
    -------
    (dict, list of SnapshotFile)
        ``manifest-summary.json`` as a dict, and one entry per data file.

    Examples
    --------
    >>> summary, files = snapshot_files(conn.source_session, snap)
    >>> summary["itemCount"], len(files)
    (3000, 3)
    """
    if not isinstance(snapshot, (Snapshot, str)):
        raise InvalidArgumentError(
            "snapshot must be a Snapshot (from xn.export_snapshot) or the s3:// URL of an "
            f"export ('s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/'), not {snapshot!r}."
        )
    s3 = client(session, "s3")
    bucket, summary_key = _location(s3, snapshot)
    folder = summary_key[: -len("manifest-summary.json")]
    try:
        summary = json.loads(_get(s3, bucket, summary_key).read())
        files_key = _resolve(summary.get("manifestFilesS3Key") or folder + "manifest-files.json",
                             folder)
        lines = _get(s3, bucket, files_key).read().splitlines()
    except (ValueError, BotoCoreError) as exc:
        raise IncompleteReadError(
            f"Cannot read the manifests of s3://{bucket}/{folder}: {exc}. Is the export complete?"
        ) from None
    files = []
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        files.append(SnapshotFile(bucket, _resolve(entry["dataFileS3Key"], folder),
                                  entry.get("itemCount")))
    if summary.get("outputFormat", "DYNAMODB_JSON") != "DYNAMODB_JSON":
        raise InvalidArgumentError(
            f"The export at s3://{bucket}/{folder} is {summary.get('outputFormat')}; only "
            "DYNAMODB_JSON exports can be read (export_snapshot always asks for it)."
        )
    return summary, files


# -- reading the files ---------------------------------------------------------------------


def _item_lines(lines: Sequence[bytes]) -> RawItems | list[Any]:
    """Turn a batch of ``{"Item": {...}}`` lines into one page for the parser."""
    inner = []
    for line in lines:
        match = _ITEM_LINE.match(line)
        end = line.rstrip().rfind(b"}")
        if match is None or end <= match.end():
            break
        inner.append(line[match.end():end])
    else:
        return RawItems(b'{"Items":[' + b",".join(inner) + b"]}", len(inner))
    # An unusual layout: decode every line the exact way.
    try:
        return [json.loads(line)["Item"] for line in lines]
    except (ValueError, KeyError, TypeError) as exc:
        raise IncompleteReadError(
            f"An export data file holds a line that is not an item: {exc}."
        ) from None


def _project(items: Any, columns: Sequence[str] | None) -> Any:
    if columns is None:
        return items
    if isinstance(items, RawItems):
        items = items.loads()
    wanted = set(columns)
    return [{k: v for k, v in item.items() if k in wanted} for item in items]


def _file_batches(
    s3: Any, file: SnapshotFile, columns: Sequence[str] | None, stop: threading.Event | None
) -> Iterator[Any]:
    """Yield the items of one data file, in batches of :data:`BATCH_LINES` lines."""
    body = _get(s3, file.bucket, file.key)
    try:
        with gzip.GzipFile(fileobj=body) as raw:
            stream = io.BufferedReader(raw, buffer_size=1 << 20)
            batch: list[bytes] = []
            for line in stream:
                if stop is not None and stop.is_set():
                    return
                if line.strip():
                    batch.append(line)
                if len(batch) >= BATCH_LINES:
                    yield _project(_item_lines(batch), columns)
                    batch = []
            if batch:
                yield _project(_item_lines(batch), columns)
    except (OSError, EOFError, BotoCoreError) as exc:
        raise IncompleteReadError(
            f"Reading s3://{file.bucket}/{file.key} stopped: {exc}. Nothing partial is "
            "returned; retry."
        ) from None
    finally:
        body.close()


def check_columns(columns: Any) -> list[str] | None:
    """Return ``columns=`` as a list of attribute names (``None`` for all); raise if malformed."""
    if columns is None:
        return None
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names or not all(isinstance(c, str) and c for c in names):
        raise InvalidArgumentError(
            f"columns must be attribute names (a non-empty list of str), not {columns!r}."
        )
    return names


def snapshot_key_names(
    snapshot: Any, key_names: Any, columns: Sequence[str] | None
) -> tuple[str, ...]:
    """Return the key attributes a snapshot's frame puts first (given, or from DescribeTable)."""
    if key_names is not None:
        names = (key_names,) if isinstance(key_names, str) else tuple(key_names)
    elif isinstance(snapshot, Snapshot) and snapshot.session is not None:
        try:
            names = key_schema_for(snapshot.session, parse_table(snapshot.table_arn)).key_names
        except XacctError:
            names = ()  # no DescribeTable: the frame just cannot put the keys first
    else:
        names = ()
    if columns is not None:
        names = tuple(n for n in names if n in columns)
    return names


def read_snapshot_file(
    session: Any,
    file: SnapshotFile,
    *,
    columns: Sequence[str] | None = None,
    numbers: str = "auto",
    flatten: bool = False,
    key_names: Sequence[str] = (),
    limit: int | None = None,
) -> pd.DataFrame:
    """One data file of an export as a DataFrame (what a Dask partition holds).

    ``limit`` stops after that many items (the Dask reader's sample).
    """
    s3 = client(session, "s3")
    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=key_names)
    parser = PageParser(numbers=numbers, flatten=flatten)
    for seq, batch in enumerate(_file_batches(s3, file, columns, None)):
        if limit is not None and len(builder) + len(batch) > limit:
            batch = batch[: limit - len(builder)]
        builder.add_items(parser.parse(batch, seq=seq))
        if limit is not None and len(builder) >= limit:
            break
    return builder.to_frame()


@public
def read_snapshot(
    session: Any,
    snapshot: Snapshot | str,
    *,
    columns: Any = None,
    numbers: str = "auto",
    flatten: bool = False,
    key_names: Any = None,
    progress: bool | None = None,
    chunksize: int | None = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read an exported table from S3 into a DataFrame (no read capacity is consumed).

    The files are streamed one by one (decompressed and decoded in batches),
    so memory holds the frame being built, not the files. The result follows
    the type contract of :func:`xacct_nb.read_scan` and holds the same rows
    and columns a Scan of the table at ``export_time`` would (in another
    order: sort by the key if you need one).

    Parameters
    ----------
    session
        An identity that may read the bucket: for the analyst's own bucket,
        account A's session (``conn.source_session``), not the owner's role.
    snapshot
        A completed :class:`Snapshot`, or an ``s3://`` URL: the export's
        folder ``s3://BUCKET/PREFIX/AWSDynamoDB/ID/``, its
        ``manifest-summary.json``, or ``s3://BUCKET/PREFIX/`` (the latest
        export there; needs ``s3:ListBucket``).
    columns
        Keep only these top-level attributes.
    numbers, flatten, progress, chunksize
        As in :func:`xacct_nb.read_scan`.
    key_names
        Columns to put first; default: the table's keys (DescribeTable with
        the snapshot's session), none for a URL.

    Returns
    -------
    pandas.DataFrame or iterator of DataFrames
        ``df.attrs``: ``count``, ``pages`` (batches), ``files``,
        ``export_arn``, ``consumed_capacity`` (always 0).

    Raises
    ------
    IncompleteReadError
        A file could not be read to its end, or the files held fewer or more
        items than the manifest announces.

    Examples
    --------
    >>> df = read_snapshot(conn.source_session, snap)
    >>> len(df) == snap.item_count
    True
    """
    check_session(session, "xn.read_snapshot")
    check_read_args(numbers, None, chunksize, progress)
    check_bool("flatten", flatten)
    names = check_columns(columns)
    summary, files = snapshot_files(session, snapshot)
    keys = snapshot_key_names(snapshot, key_names, names)
    s3 = client(session, "s3")
    stats = ReadStats(segments=1)
    stats.extra.update(files=len(files), export_arn=summary.get("exportArn"))
    expected = summary.get("itemCount")
    bar = Progress(progress, f"Snapshot {_table_of(snapshot)}", expected)

    def work(emit: Callable[[Any, bool], bool], stop: threading.Event) -> None:
        for i, file in enumerate(files):
            for batch in _file_batches(s3, file, names, stop):
                with stats._lock:
                    stats.pages += 1
                    stats.count += len(batch)
                    stats.scanned_count += len(batch)
                if not emit(batch, True):
                    return
            logger.debug("read export file %d/%d: %s", i + 1, len(files), file.key)
        with stats._lock:
            count = stats.count
        if expected is not None and count != int(expected):
            raise IncompleteReadError(
                f"The export {summary.get('exportArn')} announces {expected} items, but its "
                f"{len(files)} data files held {count}. Nothing partial is returned: was a "
                "file deleted or replaced?"
            )

    builder = FrameBuilder(numbers=numbers, flatten=flatten, key_names=keys)
    pages = threaded_stream([work], PageParser(numbers=numbers, flatten=flatten))
    return collect(pages, builder, stats, chunksize, bar)
