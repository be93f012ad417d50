"""The sandbox server: moto's server behind an authorization layer, seeded with two accounts.

This module runs *inside* the sandbox's child process (started by
:func:`xacct_nb.sandbox.start`). It serves moto's WSGI application through
:class:`~xacct_nb.sandbox._auth.AuthorizationLayer` and seeds both accounts.

Run as a program it prints one JSON line describing the running sandbox on
stdout, then serves until its standard input closes (so it never outlives
the process that started it).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from typing import Any, Literal

from .. import policies
from .._errors import SandboxError
from . import _demo_data as demo
from . import _throughput as throughput
from ._auth import SEED_HEADER, AuthorizationLayer
from ._dynamodb import patch_moto_dynamodb, scope_partiql
from ._exports import patch_moto_exports
from ._throughput import patch_moto_throughput

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


def _layer_clock(layer: AuthorizationLayer) -> float:
    """Return the sandbox's monotonic clock: real time plus what ``advance_clock`` added."""
    return time.monotonic() + layer.clock_offset


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

    from moto.dynamodb.responses import DynamoHandler

    def target_action(self: Any) -> str:
        # moto would take ?Action= or an Action= hidden in the JSON body first; the layer
        # forwards the operation it authorized in X-Amz-Target, and only that counts.
        return str(self.headers["X-Amz-Target"]).rsplit(".", 1)[-1]

    DynamoHandler._get_action = target_action  # type: ignore[method-assign]
    DynamoType._xacct_patched = True  # type: ignore[attr-defined]
    patch_moto_exports()
    patch_moto_dynamodb()
    scope_partiql()
    patch_moto_throughput()


class SandboxServer:
    """moto's server with the authorization layer, on ``host:port`` (0 picks a free port).

    It patches moto for the whole process, so it runs in a process of its own:
    the child that :func:`xacct_nb.sandbox.start` spawns
    (``python -m xacct_nb.sandbox._server``) does::

        server = SandboxServer()
        info = server.start()   # the description start() reads: endpoint, accounts, keys
        ...
        server.stop()
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
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6 in URLs
        return f"http://{host}:{self.port}"

    def start(self) -> dict[str, Any]:
        """Bind, serve in a thread, seed both accounts; return the sandbox description."""
        import secrets

        from moto.moto_server.werkzeug_app import create_backend_app
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            timeout = 30  # a client that promises a body and never sends it is dropped

            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass

        patch_moto()
        # One moto application per service the layer forwards to: nothing else (moto's own
        # /moto-api, other services) can be reached through the port.
        apps = {name: create_backend_app(name) for name in ("dynamodb", "sts", "iam", "s3")}
        seed_token = secrets.token_hex(32)
        self.layer = AuthorizationLayer(apps, seed_token=seed_token)
        throughput.clock = partial(_layer_clock, self.layer)  # advance_clock refills buckets too
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
        try:
            with _seeding():
                self.info = seed(self.endpoint_url, seed_token)
        finally:
            self.layer.seed_token = None  # from here on, every request is signed by someone
        self.layer.mfa_devices[f"arn:aws:iam::{ACCOUNT_A}:user/{ANALYST_USER}"] = ANALYST_MFA_SERIAL
        return self.info

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


@contextlib.contextmanager
def _seeding() -> Iterator[None]:
    """Pause the garbage collector while seeding; afterwards, keep it off the seeded data.

    Seeding builds hundreds of thousands of long-lived objects (the items):
    the collector's passes over them took more than half the start-up time.
    Once seeded they are frozen (``gc.freeze``): later collections, during
    requests, skip them (items hold no reference cycles to collect).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def _admin_client(
    endpoint_url: str, service: Literal["dynamodb", "iam"], account: str, seed_token: str
) -> Any:
    """Return a client acting as ``account``'s administrator while seeding (with the seed token)."""
    import boto3
    from botocore.config import Config

    client = boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="XACCTSANDBOXSEEDING0",  # unchecked: the seed token stands for it
        aws_secret_access_key="seeding",  # noqa: S106 - a placeholder, never verified
        config=Config(retries={"max_attempts": 2}),
    )

    def add_account(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account
        request.headers[SEED_HEADER] = seed_token

    client.meta.events.register("before-sign", add_account)
    return client


def _new_user(iam: Any, name: str, policy_name: str, policy: dict[str, Any]) -> dict[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def seed(endpoint_url: str, seed_token: str) -> dict[str, Any]:
    """Create both accounts' users, roles, policies and tables; return their description."""
    admin_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    orders_arn = policies.table_arn(REGION, ACCOUNT_B, demo.ORDERS_TABLE)
    provisioned_arn = policies.table_arn(REGION, ACCOUNT_B, demo.PROVISIONED_TABLE)
    reader = role_arn(ACCOUNT_B, READER_ROLE)
    writer = role_arn(ACCOUNT_B, WRITER_ROLE)
    requester = role_arn(ACCOUNT_A, REQUESTER_ROLE)

    # Account A: the analyst (may assume B's roles), the seed's requester role, an admin.
    iam_a = _admin_client(endpoint_url, "iam", ACCOUNT_A, seed_token)
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
    iam_c = _admin_client(endpoint_url, "iam", ACCOUNT_C, seed_token)
    outsider = _new_user(
        iam_c, "outsider", "AssumeAnything", policies.assume_role_policy("arn:aws:iam::*:role/*")
    )

    # Account B: the owner's roles and an admin.
    iam_b = _admin_client(endpoint_url, "iam", ACCOUNT_B, seed_token)
    admin_b = _new_user(iam_b, ADMIN_USER, "AdministratorAccess", admin_policy)
    trust = json.dumps(policies.trust_policy(ACCOUNT_A, external_id=EXTERNAL_ID))
    iam_b.create_role(
        RoleName=READER_ROLE,
        AssumeRolePolicyDocument=trust,
        MaxSessionDuration=READER_MAX_SESSION,
        Description="Read-only access to MyCrossAccountTable and MyProvisionedTable for account A",
    )
    iam_b.put_role_policy(
        RoleName=READER_ROLE,
        PolicyName="ReadMyCrossAccountTable",
        PolicyDocument=json.dumps(policies.read_only_policy([orders_arn, provisioned_arn])),
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
    ddb = _admin_client(endpoint_url, "dynamodb", ACCOUNT_B, seed_token)
    ddb.create_table(**orders_table(demo.ORDERS_TABLE))
    ddb.create_table(
        TableName=demo.PRIVATE_TABLE,
        KeySchema=[{"AttributeName": "account", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "account", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(**orders_table(demo.PROVISIONED_TABLE, provisioned=True))
    orders = demo.order_items()
    _put_all(ACCOUNT_B, demo.ORDERS_TABLE, orders)
    _put_all(ACCOUNT_B, demo.PROVISIONED_TABLE, orders)
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
        "provisioned_table": demo.PROVISIONED_TABLE,
        "index": demo.STATUS_INDEX,
        "item_count": demo.ORDER_COUNT,
        "credentials": {
            "analyst": analyst, "admin_a": admin_a, "admin_b": admin_b, "outsider": outsider,
        },
    }


def orders_table(name: str, *, provisioned: bool = False) -> dict[str, Any]:
    """CreateTable's arguments for a table of demo orders (keys, LSI, GSI; billing mode).

    ``provisioned``: PROVISIONED with :data:`~._demo_data.PROVISIONED_RCU` /
    ``_WCU`` and a GSI of its own throughput; else on demand (PAY_PER_REQUEST).
    """
    gsi: dict[str, Any] = {
        "IndexName": demo.STATUS_INDEX,
        "KeySchema": [
            {"AttributeName": "status", "KeyType": "HASH"},
            {"AttributeName": "order_ts", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    billing: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
    if provisioned:
        gsi["ProvisionedThroughput"] = {"ReadCapacityUnits": demo.PROVISIONED_INDEX_RCU,
                                        "WriteCapacityUnits": demo.PROVISIONED_INDEX_WCU}
        billing = {"BillingMode": "PROVISIONED",
                   "ProvisionedThroughput": {"ReadCapacityUnits": demo.PROVISIONED_RCU,
                                             "WriteCapacityUnits": demo.PROVISIONED_WCU}}
    return {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "order_ts", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": "customer_id", "AttributeType": "S"},
            {"AttributeName": "order_ts", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": demo.ORDER_ID_INDEX,
                "KeySchema": [
                    {"AttributeName": "customer_id", "KeyType": "HASH"},
                    {"AttributeName": "order_id", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "GlobalSecondaryIndexes": [gsi],
        **billing,
    }


def _put_all(account: str, table: str, items: list[dict[str, Any]]) -> None:
    """Load items straight into moto's backend (the server runs in this process).

    The same items through BatchWriteItem over HTTP take seconds; start-up
    time matters more here than exercising moto's request path. Items are
    built as moto's PutItem builds them, without its per-item checks (the
    demo items are valid by construction), in half PutItem's time.
    """
    from typing import cast

    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    target = dynamodb_backends[account][REGION].get_table(table)
    hash_name, range_name = target.hash_key_attr, target.range_key_attr
    for wire in items:
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(attrs)
        for name, value in wire.items():
            dict.__setitem__(attrs, name, DynamoType(value))
        item = cast("Item", Item.__new__(Item))  # moto's BaseModel.__new__ says BaseModel
        item.hash_key = DynamoType(wire[hash_name])
        item.range_key = DynamoType(wire[range_name]) if range_name else None
        item.attrs = attrs
        if range_name:
            target.items[item.hash_key][item.range_key] = item
        else:
            target.items[item.hash_key] = item  # type: ignore[assignment]  # as moto does


def spend_burst(table: str | None = None) -> list[str]:
    """Spend the burst capacity of the provisioned tables (or of ``table``, a name or ARN).

    Their read buckets (and their GSIs') go back to one second of capacity,
    as if other readers had just used the rest (see :mod:`._throughput`).
    Returns the names of the tables changed.
    """
    from moto.dynamodb.models import dynamodb_backends

    backends = [backend for account in list(dynamodb_backends.values())
                for backend in list(account.values())]
    return throughput.spend_burst(backends, table)


def main(argv: list[str] | None = None) -> int:
    """Child-process entry point: serve, print one JSON line, stop when stdin closes.

    Parameters
    ----------
    argv : list of str, optional
        ``--host H --port N [--workdir DIR]``; by default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 after a clean stop, 1 if the sandbox could not start.

    Notes
    -----
    Standard input is the launcher's control channel; it closes when the
    launcher stops the sandbox *or dies* (even by SIGKILL), and so does a
    change of parent process. Either way the child removes the AWS config and
    credentials files the launcher wrote in ``--workdir`` (only those), then
    the folder itself if it is empty, and exits. SIGINT is ignored (a Ctrl-C
    meant for the launcher or a notebook kernel reaches its whole process
    group); SIGTERM and SIGHUP clean up the same way.
    """
    import contextlib
    import os
    import signal
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m xacct_nb.sandbox._server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workdir", help="the launcher's work folder, removed at exit")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir) if args.workdir else None
    parent = os.getppid()
    server = SandboxServer(args.host, args.port)
    done = threading.Lock()
    owned: list[Path] = []

    def clean_up() -> None:
        """Remove the launcher's files, then stop serving (once, whoever calls first)."""
        if not done.acquire(blocking=False):
            return
        if threading.current_thread() is threading.main_thread():
            for name in ("SIGTERM", "SIGHUP"):  # a late signal must not cut the cleanup short
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_IGN)
        for path in owned:  # e.g. `xacct sandbox --env-file`, even if the CLI was killed
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        if workdir is not None:
            for name in ("credentials", "config"):  # the files the launcher writes there
                with contextlib.suppress(OSError):
                    (workdir / name).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty or gone: the launcher removes the rest
                workdir.rmdir()
        with contextlib.suppress(Exception):  # exiting anyway
            server.stop()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        clean_up()  # orphaned, yet stdin is still open (a forked process holds it)
        os._exit(0)

    def terminate(signum: int, frame: Any) -> None:
        signal.signal(signum, signal.SIG_IGN)
        raise SystemExit(0)

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), terminate)
    threading.Thread(target=watch_parent, name="xacct-sandbox-parent", daemon=True).start()
    try:
        try:
            info = server.start()
        except SandboxError as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
            return 1
        except Exception as exc:  # pragma: no cover - reported to the parent verbatim
            print(json.dumps({"error": (
                f"The sandbox failed while starting ({type(exc).__name__}: {exc}). Try again; "
                "if it keeps failing, reinstall xacct-nb (pip install --force-reinstall "
                "xacct-nb) and report this message."
            )}), flush=True)
            return 1
        print(json.dumps({"ready": True, **info}), flush=True)
        for line in sys.stdin:  # control channel: the clock, files to remove at the end
            command = json.loads(line)
            reply: dict[str, Any] = {"ok": True}
            if command.get("op") == "advance_clock" and server.layer is not None:
                server.layer.clock_offset += float(command["seconds"])
            if command.get("op") == "remove_at_stop":
                owned.append(Path(str(command["path"])))
            if command.get("op") == "spend_burst":
                reply["tables"] = spend_burst(command.get("table"))
            print(json.dumps(reply), flush=True)
    except (BrokenPipeError, OSError, ValueError):
        return 0  # the launcher is gone (or spoke nonsense): clean up and go
    finally:
        clean_up()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
