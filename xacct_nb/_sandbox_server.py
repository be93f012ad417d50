"""The sandbox server: moto's server behind an authorization layer, seeded with two accounts.

This module runs *inside* the sandbox's child process (started by
:func:`xacct_nb.sandbox.start`). It serves moto's WSGI application through
:class:`~xacct_nb._sandbox_auth.AuthorizationLayer` and seeds both accounts.

Run as a program it prints one JSON line describing the running sandbox on
stdout, then serves until its standard input closes (so it never outlives
the process that started it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from typing import Any

from . import _demo_data as demo
from . import policies
from ._errors import SandboxError
from ._sandbox_auth import AuthorizationLayer

logger = logging.getLogger(__name__)

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
ACCOUNT_C = "333333333333"  # a third party: trusted by nobody
REGION = "us-east-1"
EXTERNAL_ID = "xacct-sandbox-external-id"
ANALYST_USER = "analyst"
ADMIN_USER = "admin"
REQUESTER_ROLE = "AssumeDynamoDBAccessRole"
READER_ROLE = "DynamoDBReaderRoleForAccountA"
WRITER_ROLE = "DynamoDBWriterRoleForAccountA"
WRITER_PARTITIONS = ("C-0001", "C-0002")
READER_MAX_SESSION = 43200
WRITER_MAX_SESSION = 3600
ANALYST_MFA_SERIAL = f"arn:aws:iam::{ACCOUNT_A}:mfa/{ANALYST_USER}"



def role_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def patch_moto() -> None:
    """Work around moto bugs that the sandbox's data meets (moto 5.1.22).

    * A projection over an item holding a binary set (BS) fails with a 500:
      moto's ``DynamoType.to_regular_json`` base64-decodes B values but not
      BS members. Decode them too.
    * DescribeTable always reports ``TableSizeBytes: 0``; report the size of
      the items (DynamoDB's own figure is refreshed every six hours or so).
    """
    import base64

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoType, "_xacct_patched", False):
        return
    describe = Table.describe

    def describe_with_size(self: Any, base_key: str = "TableDescription") -> dict[str, Any]:
        result = describe(self, base_key)
        result[base_key]["TableSizeBytes"] = sum(item.size() for item in self.all_items())
        return result

    Table.describe = describe_with_size  # type: ignore[method-assign]
    original = DynamoType.to_regular_json

    def to_regular_json(self: Any) -> dict[str, Any]:
        if self.type == "BS":
            return {"BS": [base64.b64decode(v) for v in self.value]}
        return original(self)

    DynamoType.to_regular_json = to_regular_json  # type: ignore[method-assign]
    DynamoType._xacct_patched = True  # type: ignore[attr-defined]
    patch_moto_exports()


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
        self.start_time, self.end_time = now, None
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


class _ExportFailed(Exception):
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

    from ._sandbox_auth import export_writes

    if getattr(DynamoDBBackend, "_xacct_exports", False):
        return

    def export_table(self: Any, request: dict[str, Any]) -> SandboxExport:
        table_arn = request.get("TableArn")
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
    from ._evaluator import ALLOW, Decision

    return Decision(ALLOW)


class SandboxServer:
    """moto's server with the authorization layer, on ``host:port`` (0 picks a free port).

    >>> server = SandboxServer()            # doctest: +SKIP
    >>> info = server.start()               # doctest: +SKIP
    >>> server.stop()                       # doctest: +SKIP
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.layer: AuthorizationLayer | None = None
        self.info: dict[str, Any] = {}

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> dict[str, Any]:
        """Bind, serve in a thread, seed both accounts; return the sandbox description."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        patch_moto()
        self.layer = AuthorizationLayer(DomainDispatcherApplication(create_backend_app))
        try:
            self._server = make_server(
                self.host, self.port, self.layer, threaded=True, request_handler=QuietHandler
            )
        except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
            reason = getattr(exc, "strerror", None) or "address already in use"
            raise SandboxError(
                f"Cannot start the sandbox on {self.host}:{self.port}: {reason}. "
                "The port is probably in use by another program: choose another "
                "(xn.sandbox.start(port=...) or `xacct sandbox --port N`), or port=0 for any free port."
            ) from None
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="xacct-sandbox", daemon=True
        )
        self._thread.start()
        self.info = seed(self.endpoint_url)
        self.layer.mfa_devices[f"arn:aws:iam::{ACCOUNT_A}:user/{ANALYST_USER}"] = ANALYST_MFA_SERIAL
        self.layer.enforce = True
        return self.info

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _admin_client(endpoint_url: str, service: str, account: str) -> Any:
    """A client that acts as ``account``'s administrator while the layer is open (seeding)."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="sandbox-seeding",  # the layer is open while seeding
        aws_secret_access_key="seeding",  # noqa: S106 - a placeholder, the layer is open
        config=Config(retries={"max_attempts": 2}),
    )

    def add_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign", add_account)
    return client


def _new_user(iam: Any, name: str, policy_name: str, policy: dict[str, Any]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def seed(endpoint_url: str) -> dict[str, Any]:
    """Create both accounts' users, roles, policies and tables; return their description."""
    admin_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    orders_arn = policies.table_arn(REGION, ACCOUNT_B, demo.ORDERS_TABLE)
    reader = role_arn(ACCOUNT_B, READER_ROLE)
    writer = role_arn(ACCOUNT_B, WRITER_ROLE)
    requester = role_arn(ACCOUNT_A, REQUESTER_ROLE)

    # Account A: the analyst (may assume B's roles), the seed's requester role, an admin.
    iam_a = _admin_client(endpoint_url, "iam", ACCOUNT_A)
    analyst = _new_user(
        iam_a, ANALYST_USER, "AssumeCrossAccountRoles",
        policies.assume_role_policy([reader, writer, requester]),
    )
    admin_a = _new_user(iam_a, ADMIN_USER, "AdministratorAccess", admin_policy)
    iam_a.create_virtual_mfa_device(VirtualMFADeviceName=ANALYST_USER)
    iam_a.enable_mfa_device(
        UserName=ANALYST_USER, SerialNumber=ANALYST_MFA_SERIAL,
        AuthenticationCode1="123456", AuthenticationCode2="654321",
    )
    iam_a.create_role(
        RoleName=REQUESTER_ROLE,
        AssumeRolePolicyDocument=json.dumps(policies.trust_policy(ACCOUNT_A)),
        Description="Principals of account A that may reach account B's DynamoDB roles",
    )
    iam_a.put_role_policy(
        RoleName=REQUESTER_ROLE,
        PolicyName="AssumeCrossAccountRoles",
        PolicyDocument=json.dumps(policies.assume_role_policy([reader, writer])),
    )

    # Account C: an outsider who may try to assume anything; no trust policy names C.
    iam_c = _admin_client(endpoint_url, "iam", ACCOUNT_C)
    outsider = _new_user(
        iam_c, "outsider", "AssumeAnything", policies.assume_role_policy("arn:aws:iam::*:role/*")
    )

    # Account B: the owner's roles and an admin.
    iam_b = _admin_client(endpoint_url, "iam", ACCOUNT_B)
    admin_b = _new_user(iam_b, ADMIN_USER, "AdministratorAccess", admin_policy)
    trust = json.dumps(policies.trust_policy(ACCOUNT_A, external_id=EXTERNAL_ID))
    iam_b.create_role(
        RoleName=READER_ROLE,
        AssumeRolePolicyDocument=trust,
        MaxSessionDuration=READER_MAX_SESSION,
        Description="Read-only access to MyCrossAccountTable for account A",
    )
    iam_b.put_role_policy(
        RoleName=READER_ROLE,
        PolicyName="ReadMyCrossAccountTable",
        PolicyDocument=json.dumps(policies.read_only_policy(orders_arn)),
    )
    iam_b.create_role(
        RoleName=WRITER_ROLE,
        AssumeRolePolicyDocument=trust,
        MaxSessionDuration=WRITER_MAX_SESSION,
        Description="Writes to chosen partitions of MyCrossAccountTable for account A",
    )
    iam_b.put_role_policy(
        RoleName=WRITER_ROLE,
        PolicyName="WriteOwnPartitions",
        PolicyDocument=json.dumps(
            policies.leading_keys_write_policy(orders_arn, list(WRITER_PARTITIONS))
        ),
    )

    # Account B's tables.
    ddb = _admin_client(endpoint_url, "dynamodb", ACCOUNT_B)
    ddb.create_table(
        TableName=demo.ORDERS_TABLE,
        KeySchema=[
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "order_ts", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer_id", "AttributeType": "S"},
            {"AttributeName": "order_ts", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
        ],
        LocalSecondaryIndexes=[
            {
                "IndexName": demo.ORDER_ID_INDEX,
                "KeySchema": [
                    {"AttributeName": "customer_id", "KeyType": "HASH"},
                    {"AttributeName": "order_id", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": demo.STATUS_INDEX,
                "KeySchema": [
                    {"AttributeName": "status", "KeyType": "HASH"},
                    {"AttributeName": "order_ts", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName=demo.PRIVATE_TABLE,
        KeySchema=[{"AttributeName": "account", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "account", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    _put_all(ACCOUNT_B, demo.ORDERS_TABLE, demo.order_items())
    _put_all(ACCOUNT_B, demo.PRIVATE_TABLE, demo.ledger_items())

    return {
        "endpoint_url": endpoint_url,
        "region": REGION,
        "account_a": ACCOUNT_A,
        "account_b": ACCOUNT_B,
        "account_c": ACCOUNT_C,
        "external_id": EXTERNAL_ID,
        "reader_role_arn": reader,
        "writer_role_arn": writer,
        "requester_role_arn": requester,
        "writer_partitions": list(WRITER_PARTITIONS),
        "mfa_serial": ANALYST_MFA_SERIAL,
        "table": demo.ORDERS_TABLE,
        "table_arn": orders_arn,
        "private_table": demo.PRIVATE_TABLE,
        "index": demo.STATUS_INDEX,
        "item_count": demo.ORDER_COUNT,
        "credentials": {
            "analyst": analyst, "admin_a": admin_a, "admin_b": admin_b, "outsider": outsider,
        },
    }


def _put_all(account: str, table: str, items: list[dict[str, Any]]) -> None:
    """Load items straight into moto's backend (the server runs in this process).

    The same items through BatchWriteItem over HTTP take seconds; start-up
    time matters more here than exercising moto's request path.
    """
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[account][REGION]
    for item in items:
        backend.put_item(table, item)


def main(argv: list[str] | None = None) -> int:
    """Child-process entry point: serve, print one JSON line, stop when stdin closes."""
    parser = argparse.ArgumentParser(prog="python -m xacct_nb._sandbox_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = SandboxServer(args.host, args.port)
    try:
        info = server.start()
    except SandboxError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 1
    except Exception as exc:  # pragma: no cover - reported to the parent verbatim
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        return 1
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:  # control channel: the parent may move the clock
        command = json.loads(line)
        if command.get("op") == "advance_clock" and server.layer is not None:
            server.layer.clock_offset += float(command["seconds"])
        print(json.dumps({"ok": True}), flush=True)
    server.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
