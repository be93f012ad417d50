"""Table exports in the sandbox: ExportTableToPointInTime as DynamoDB lays it out in S3."""

from __future__ import annotations

import json
import threading
from typing import Any

from .._errors import SandboxError

#: Items per data file of a sandbox export (DynamoDB writes at least one file per partition).
EXPORT_FILE_ITEMS = 1000


class SandboxExport(threading.Thread):
    """One ExportTableToPointInTime, written the way DynamoDB lays it out in S3.

    moto 5.1.22 writes a single ``<prefix>/AWSDynamoDB/<uuid>/data/<uuid>.gz``
    with no manifest, under an export ARN that does not name the export
    folder, into a bucket of the *table's* account, with no permission check.
    DynamoDB writes, under ``<prefix>/AWSDynamoDB/<ExportId>/``: ``_started``,
    ``data/<name>.json.gz`` files of ``{"Item": {...}}`` lines,
    ``manifest-files.json`` (one line per data file), ``manifest-summary.json``
    and their ``.checksum`` files, into the bucket whatever its account, with
    the caller's S3 permissions (``S3AccessDenied`` otherwise). This class does
    the same; the items are taken when the request arrives (the point in time).
    """

    def __init__(self, table: Any, region: str, account: str, request: dict[str, Any],
                 authorize: Any) -> None:
        import secrets
        import time

        super().__init__(name="xacct-sandbox-export", daemon=True)
        self.table = table
        self.table_arn = table.table_arn
        now = time.time()
        self.export_id = f"{int(now * 1000):014d}-{secrets.token_hex(4)}"
        self.arn = f"{self.table_arn}/export/{self.export_id}"
        self.s3_bucket: str = request["S3Bucket"]
        self.s3_bucket_owner: str | None = request.get("S3BucketOwner")
        prefix = (request.get("S3Prefix") or "").strip("/")
        self.s3_prefix: str | None = request.get("S3Prefix")
        self.folder = f"{prefix}/AWSDynamoDB/{self.export_id}/" if prefix else (
            f"AWSDynamoDB/{self.export_id}/")
        self.export_format = request.get("ExportFormat") or "DYNAMODB_JSON"
        self.export_type = request.get("ExportType") or "FULL_EXPORT"
        self.client_token = request.get("ClientToken")
        self.export_time = float(request.get("ExportTime") or now)
        self.start_time: float = now
        self.end_time: float | None = None
        self.status = "IN_PROGRESS"
        self.failure_code: str | None = None
        self.failure_message: str | None = None
        self.item_count = 0
        self.billed_size_bytes = 0
        self.region, self.account = region, account
        self._authorize = authorize
        self._items = [item.to_json(root_attr_name="Item") for item in table.all_items()]

    def run(self) -> None:
        import time

        try:
            self._write()
            self.status = "COMPLETED"
        except _ExportFailed as exc:
            self.status, self.failure_code, self.failure_message = "FAILED", exc.code, str(exc)
        except Exception as exc:  # noqa: BLE001 - reported as DynamoDB reports failures
            self.status, self.failure_code, self.failure_message = "FAILED", "UNKNOWN", str(exc)
        self.end_time = time.time()

    def _put(self, key: str, body: bytes) -> str:
        import hashlib

        from moto.s3.models import s3_backends

        decision = self._authorize("s3:PutObject", f"arn:aws:s3:::{self.s3_bucket}/{key}")
        if not decision.allowed:
            raise _ExportFailed("S3AccessDenied", _S3_DENIED)
        partition, owner = s3_backends.bucket_accounts[self.s3_bucket]
        s3_backends[owner][partition].put_object(self.s3_bucket, key, body)
        return hashlib.md5(body).hexdigest()  # noqa: S324 - S3's ETag, not security

    def _write(self) -> None:
        import base64
        import gzip
        import hashlib
        import secrets
        import time

        from moto.dynamodb.models.utilities import DynamoJsonEncoder
        from moto.s3.models import s3_backends

        found = s3_backends.bucket_accounts.get(self.s3_bucket)
        if found is None:
            raise _ExportFailed("S3NoSuchBucket", "The specified bucket does not exist")
        if self.s3_bucket_owner and self.s3_bucket_owner != found[1]:
            raise _ExportFailed("S3AccessDenied", _S3_DENIED)  # x-amz-expected-bucket-owner
        self._put(self.folder + "_started", b"")
        alphabet = "abcdefghijklmnopqrstuvwxyz234567"
        manifest_lines = []
        items = self._items
        for start in range(0, max(len(items), 1), EXPORT_FILE_ITEMS):
            chunk = items[start:start + EXPORT_FILE_ITEMS]
            text = "".join(
                json.dumps(item, cls=DynamoJsonEncoder, separators=(",", ":")) + "\n"
                for item in chunk
            ).encode()
            body = gzip.compress(text, mtime=0)
            key = f"{self.folder}data/{''.join(secrets.choice(alphabet) for _ in range(26))}.json.gz"
            etag = self._put(key, body)
            manifest_lines.append(json.dumps({
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(hashlib.md5(body).digest()).decode(),  # noqa: S324
                "etag": etag,
                "dataFileS3Key": key,
            }))
            self.item_count += len(chunk)
            self.billed_size_bytes += len(text)
        files = ("\n".join(manifest_lines) + "\n").encode()
        files_etag = self._put(self.folder + "manifest-files.json", files)
        self._put(self.folder + "manifest-files.checksum", files_etag.encode())
        self.end_time = time.time()

        def iso(moment: float) -> str:
            return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment)) + (
                f".{int(moment * 1000) % 1000:03d}Z")

        summary = json.dumps({
            "version": "2020-06-30",
            "exportArn": self.arn,
            "startTime": iso(self.start_time),
            "endTime": iso(self.end_time),
            "tableArn": self.table_arn,
            "tableId": getattr(self.table, "table_id", None),
            "exportTime": iso(self.export_time),
            "s3Bucket": self.s3_bucket,
            "s3Prefix": self.s3_prefix,
            "s3SseAlgorithm": "AES256",
            "s3SseKmsKeyId": None,
            "manifestFilesS3Key": self.folder + "manifest-files.json",
            "billedSizeBytes": self.billed_size_bytes,
            "itemCount": self.item_count,
            "outputFormat": self.export_format,
        }).encode()
        summary_etag = self._put(self.folder + "manifest-summary.json", summary)
        self._put(self.folder + "manifest-summary.checksum", summary_etag.encode())

    def response(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ExportArn": self.arn,
            "ExportStatus": self.status,
            "StartTime": self.start_time,
            "TableArn": self.table_arn,
            "TableId": getattr(self.table, "table_id", None),
            "ExportTime": self.export_time,
            "S3Bucket": self.s3_bucket,
            "S3SseAlgorithm": "AES256",
            "ExportFormat": self.export_format,
            "ExportType": self.export_type,
        }
        optional = {
            "EndTime": self.end_time, "ClientToken": self.client_token,
            "S3BucketOwner": self.s3_bucket_owner, "S3Prefix": self.s3_prefix,
            "FailureCode": self.failure_code, "FailureMessage": self.failure_message,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.status == "COMPLETED":
            out.update(ExportManifest=self.folder + "manifest-summary.json",
                       ItemCount=self.item_count, BilledSizeBytes=self.billed_size_bytes)
        return out


class _ExportFailed(SandboxError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_S3_DENIED = "Access Denied (Service: Amazon S3; Status Code: 403; Error Code: AccessDenied)"


def patch_moto_exports() -> None:
    """ExportTableToPointInTime as DynamoDB does it (see :class:`SandboxExport`).

    Point-in-time recovery must be enabled on the table (moto checks it, as
    DynamoDB does); ``S3Prefix`` is optional; the S3 writes are authorized
    by the layer with the caller's permissions and the bucket's policy.
    """
    from moto.dynamodb.exceptions import PointInTimeRecoveryUnavailable, TableNotFoundException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.utilities import dynamo_json_dump
    from moto.dynamodb.responses import DynamoHandler

    from ._auth import export_writes

    if getattr(DynamoDBBackend, "_xacct_exports", False):
        return

    def export_table(self: Any, request: dict[str, Any]) -> SandboxExport:
        table_arn = str(request.get("TableArn") or "")
        table = next((t for t in self.tables.values() if t.table_arn == table_arn), None)
        if table is None:
            raise TableNotFoundException(name=table_arn)
        pitr = table.continuous_backups["PointInTimeRecoveryDescription"]
        if pitr["PointInTimeRecoveryStatus"] != "ENABLED":
            raise PointInTimeRecoveryUnavailable(name=table.name)
        authorize = getattr(export_writes, "authorize", None) or _allow_all
        export = SandboxExport(table, self.region_name, self.account_id, request, authorize)
        self.table_exports[export.arn] = export
        export.start()
        return export

    def handler(self: Any) -> str:
        export = self.dynamodb_backend.sandbox_export_table(dict(self.body))
        return dynamo_json_dump({"ExportDescription": export.response()})

    DynamoDBBackend.sandbox_export_table = export_table  # type: ignore[attr-defined]
    DynamoHandler.export_table_to_point_in_time = handler  # type: ignore[method-assign]
    DynamoDBBackend._xacct_exports = True  # type: ignore[attr-defined]


def _allow_all(action: str, resource: str) -> Any:
    """While seeding (no caller to authorize): every write is allowed."""
    from .._evaluator import ALLOW, Decision

    return Decision(ALLOW)


