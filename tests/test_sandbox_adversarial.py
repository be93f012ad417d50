"""The sandbox under attack: hand-signed raw requests from someone who wants in.

Every request here is signed with botocore's own SigV4 signer (or forged, or
tampered with after signing) and sent byte for byte (``tests/rawaws.py``).
Each attack asserts three things:

* the answer: a 4xx (never 2xx, never 5xx, never an HTML page) carrying the
  AWS error code in the service's own wire format (DynamoDB: JSON ``__type``
  ending in ``#Code``; STS, IAM and S3: XML ``<Code>``);
* the state: both tables (admin Scan, every page), both accounts' table lists
  and every role's and user's policies are exactly as before;
* the server: a legitimate reader Scan still answers within seconds.

The module runs its own sandbox. When an attack succeeds anyway, the fixture
puts the state back (policies, items, even a deleted table) so that one
breach does not cascade into the tests after it. The ``/moto-api`` tests run
last: a successful ``/moto-api/reset`` would wipe the sandbox for good.
"""

from __future__ import annotations

import configparser
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

import xacct_nb as xn
from xacct_nb import policies

sys.path.insert(0, str(Path(__file__).parent))
import rawaws  # noqa: E402
from rawaws import Creds  # noqa: E402

pytestmark = pytest.mark.sandbox

ALLOW_ALL = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
)
PRIVATE_MARKERS = (b"ACC-0", b"Owner ")
SCOPE_REFUSALS = {
    "InvalidSignatureException", "IncompleteSignatureException", "SignatureDoesNotMatch",
    "IncompleteSignature", "InvalidClientTokenId", "AccessDenied",
}
SIGNATURE_REFUSALS = {"IncompleteSignatureException", "InvalidSignatureException"}
PROBER_USER = "xn-adv-prober"
ROLE_PREFIX = "XnAdv"
NEW_ORDER_TS = "2099-01-01T00:00:00Z"


# -- the world: a sandbox, everyone's credentials, a few roles of our own ------------------


class World:
    """A running sandbox with credentials for every principal the attacks use."""

    def __init__(self, sb: xn.sandbox.Sandbox) -> None:
        self._build(sb)

    def rebuild(self) -> None:
        """A fresh sandbox in place of one an attack wiped (``/moto-api/reset``)."""
        self.sb.stop()
        self._build(xn.sandbox.start())

    def _build(self, sb: xn.sandbox.Sandbox) -> None:
        self.sb = sb
        self.url = sb.endpoint_url.rstrip("/") + "/"
        profiles = configparser.ConfigParser()
        profiles.read(sb.aws_credentials_file)

        def creds(profile: str) -> Creds:
            section = profiles[profile]
            return Creds(section["aws_access_key_id"], section["aws_secret_access_key"])

        base = xn.sandbox.PROFILE
        self.analyst = creds(base)
        self.admin_a = creds(f"{base}-admin-a")
        self.admin_b = creds(f"{base}-admin-b")
        self.outsider = creds(f"{base}-outsider")
        self.secrets = [c.secret for c in (self.analyst, self.admin_a, self.admin_b, self.outsider)]
        self.iam = {"A": sb.admin_session("A").client("iam"), "B": sb.admin_session("B").client("iam")}
        sts = sb.analyst_session().client("sts")
        self.reader = self._assume(sts, sb.reader_role_arn, 7200)
        self.writer = self._assume(sts, sb.writer_role_arn, 3600)
        self._create_probe_roles()
        self.key_names = {
            sb.table: ("customer_id", "order_ts"),
            sb.private_table: ("account",),
        }
        self.describes = {t: self.describe(t) for t in (sb.table, sb.private_table)}
        self.baseline = snapshot(self)

    def _assume(self, sts: Any, role_arn: str, duration: int) -> Creds:
        c = sts.assume_role(
            RoleArn=role_arn, RoleSessionName="adversary", ExternalId=self.sb.external_id,
            DurationSeconds=duration,
        )["Credentials"]
        self.secrets.append(c["SecretAccessKey"])
        return Creds(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

    def _create_probe_roles(self) -> None:
        """New roles in B (never the seeded ones), assumed by a new user of A."""
        sb = self.sb
        table_arn = sb.table_arn
        private_arn = table_arn.replace(sb.table, sb.private_table)
        role_policies: dict[str, dict[str, Any]] = {
            "ExecuteStatementOnly": {
                "Effect": "Allow",
                "Action": ["dynamodb:ExecuteStatement", "dynamodb:BatchExecuteStatement",
                           "dynamodb:ExecuteTransaction"],
                "Resource": "*",
            },
            "PartiQLSelectTable": {
                "Effect": "Allow", "Action": "dynamodb:PartiQLSelect", "Resource": table_arn,
            },
            "PartiQLSelectIndex": {
                "Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
                "Resource": [table_arn, f"{table_arn}/index/{sb.index}"],
            },
            "LeadingReader": {
                "Effect": "Allow", "Action": ["dynamodb:Query", "dynamodb:GetItem"],
                "Resource": table_arn,
                "Condition": {"ForAllValues:StringEquals": {
                    "dynamodb:LeadingKeys": list(sb.writer_partitions)}},
            },
            "Canary": {
                "Effect": "Deny", "Action": "*", "Resource": private_arn,
            },
        }
        iam_a, iam_b = self.iam["A"], self.iam["B"]
        iam_a.create_user(UserName=PROBER_USER)
        iam_a.put_user_policy(
            UserName=PROBER_USER, PolicyName="AssumeProbeRoles",
            PolicyDocument=json.dumps(policies.assume_role_policy(
                f"arn:aws:iam::{sb.account_b}:role/{ROLE_PREFIX}*")),
        )
        key = iam_a.create_access_key(UserName=PROBER_USER)["AccessKey"]
        self.prober = Creds(key["AccessKeyId"], key["SecretAccessKey"])
        self.secrets.append(self.prober.secret)
        trust = json.dumps(policies.trust_policy(sb.account_a, external_id=sb.external_id))
        import boto3

        sts = boto3.session.Session().client(
            "sts", endpoint_url=sb.endpoint_url, region_name=sb.region,
            aws_access_key_id=self.prober.key, aws_secret_access_key=self.prober.secret,
        )
        self.roles: dict[str, Creds] = {}
        for name, statement in role_policies.items():
            role = f"{ROLE_PREFIX}{name}Role"
            iam_b.create_role(RoleName=role, AssumeRolePolicyDocument=trust)
            iam_b.put_role_policy(
                RoleName=role, PolicyName=name,
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
            )
            if name != "Canary":
                self.roles[name] = self._assume(
                    sts, f"arn:aws:iam::{sb.account_b}:role/{role}", 3600)
        self.canary_role = f"{ROLE_PREFIX}CanaryRole"

    # -- raw calls -------------------------------------------------------------------
    def ddb(self, creds: Creds, operation: str, payload: object, **kw: Any
            ) -> tuple[int, dict[str, str], bytes]:
        return rawaws.ddb_call(self.url, creds, operation, payload, **kw)

    def describe(self, table: str) -> dict[str, Any] | None:
        status, _, body = self.ddb(self.admin_b, "DescribeTable", {"TableName": table})
        return json.loads(body)["Table"] if status == 200 else None

    def assert_alive(self) -> str | None:
        """None if a legitimate reader Scan answers within seconds, else what went wrong."""
        try:
            status, _, body = self.ddb(self.reader, "Scan", {"TableName": self.sb.table, "Limit": 1},
                                       timeout=5)
        except OSError as exc:
            return f"legitimate reader Scan failed: {exc!r}"
        if status != 200 or not json.loads(body).get("Items"):
            return f"legitimate reader Scan answered {status}: {body[:200]!r}"
        return None


# -- state snapshots and repair ----------------------------------------------------------------


def _scan_all(world: World, table: str) -> tuple[str, ...] | None:
    items: list[str] = []
    start: dict[str, Any] = {}
    while True:
        status, _, body = world.ddb(
            world.admin_b, "Scan", {"TableName": table, "ConsistentRead": True, **start}, timeout=60)
        if status != 200:
            return None  # the table is gone
        page = json.loads(body)
        items += [json.dumps(i, sort_keys=True) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return tuple(sorted(items))
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _paginate(client: Any, method: str, key: str, **kwargs: Any) -> list[Any]:
    return [x for page in client.get_paginator(method).paginate(**kwargs) for x in page[key]]


def _policy_text(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True) if isinstance(doc, dict) else str(doc)


def snapshot(world: World) -> dict[str, Any]:
    """Both tables' items, both accounts' table lists and IAM principals with their policies."""
    sb = world.sb
    snap: dict[str, Any] = {}
    for table in (sb.table, sb.private_table):
        snap[f"items {table}"] = _scan_all(world, table)
    for account, creds in (("A", world.admin_a), ("B", world.admin_b)):
        status, _, body = world.ddb(creds, "ListTables", {})
        snap[f"tables {account}"] = (sorted(json.loads(body).get("TableNames", []))
                                     if status == 200 else status)
        iam = world.iam[account]
        roles = {}
        for role in _paginate(iam, "list_roles", "Roles"):
            name = role["RoleName"]
            inline = {
                p: _policy_text(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
                for p in _paginate(iam, "list_role_policies", "PolicyNames", RoleName=name)
            }
            attached = sorted(
                a["PolicyArn"] for a in
                _paginate(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name))
            trust = _policy_text(role.get("AssumeRolePolicyDocument"))
            roles[name] = {"inline": inline, "attached": attached, "trust": trust}
        users = {}
        for user in _paginate(iam, "list_users", "Users"):
            name = user["UserName"]
            users[name] = {
                p: _policy_text(iam.get_user_policy(UserName=name, PolicyName=p)["PolicyDocument"])
                for p in _paginate(iam, "list_user_policies", "PolicyNames", UserName=name)
            }
        snap[f"roles {account}"] = roles
        snap[f"users {account}"] = users
    return snap


def diff_summary(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What changed, in a few lines (never thousands of items)."""
    out = []
    for key in before:
        b, a = before[key], after.get(key)
        if b == a:
            continue
        if key.startswith("items ") and b is not None and a is not None:
            added, removed = set(a) - set(b), set(b) - set(a)
            sample = next(iter(added or removed))[:160]
            out.append(f"{key}: {len(added)} added/changed, {len(removed)} removed/changed; "
                       f"e.g. {sample}")
        elif key.startswith("items "):
            out.append(f"{key}: table {'deleted' if a is None else 'reappeared'}")
        elif key.startswith(("roles ", "users ")) and isinstance(a, dict):
            for name in sorted(set(b) | set(a)):
                if b.get(name) != a.get(name):
                    out.append(f"{key[:-2]} {name} ({key[-1]}): "
                               f"{json.dumps(b.get(name), default=str)[:200]} -> "
                               f"{json.dumps(a.get(name), default=str)[:200]}")
        else:
            out.append(f"{key}: {json.dumps(b, default=str)[:300]} -> "
                       f"{json.dumps(a, default=str)[:300]}")
    return "; ".join(out)


def _key_of(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: item[n] for n in names if n in item}


def restore(world: World, current: dict[str, Any]) -> None:
    """Put back what a successful attack changed: policies, tables, items."""
    base = world.baseline
    for account in ("A", "B"):
        iam = world.iam[account]
        for name, want in base[f"roles {account}"].items():
            have = current[f"roles {account}"].get(name)
            if have is None or have == want:
                continue
            for p in set(have["inline"]) - set(want["inline"]):
                iam.delete_role_policy(RoleName=name, PolicyName=p)
            for p, doc in want["inline"].items():
                if have["inline"].get(p) != doc:
                    iam.put_role_policy(RoleName=name, PolicyName=p, PolicyDocument=doc)
            for arn in set(have["attached"]) - set(want["attached"]):
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
            if have["trust"] != want["trust"]:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=want["trust"])
        for name, want in base[f"users {account}"].items():
            have = current[f"users {account}"].get(name)
            if have is None or have == want:
                continue
            for p in set(have) - set(want):
                iam.delete_user_policy(UserName=name, PolicyName=p)
            for p, doc in want.items():
                if have.get(p) != doc:
                    iam.put_user_policy(UserName=name, PolicyName=p, PolicyDocument=doc)
    for table, names in world.key_names.items():
        key = f"items {table}"
        want_items = base[key]
        have_items = current[key]
        if want_items == have_items:
            continue
        if have_items is None:
            _recreate_table(world, table)
            have_items = ()
        have_set, want_set = set(have_items), set(want_items)
        writes = [{"DeleteRequest": {"Key": _key_of(json.loads(i), names)}}
                  for i in have_set - want_set]
        writes += [{"PutRequest": {"Item": json.loads(i)}} for i in want_set - have_set]
        deletes = [w for w in writes if "DeleteRequest" in w]
        puts = [w for w in writes if "PutRequest" in w]
        for batch_source in (deletes, puts):  # deletes first: a changed item is deleted, then put
            for i in range(0, len(batch_source), 25):
                status, _, body = world.ddb(
                    world.admin_b, "BatchWriteItem",
                    {"RequestItems": {table: batch_source[i:i + 25]}}, timeout=60)
                assert status == 200, f"restore of {table} failed: {body[:300]!r}"
    for account, creds in (("A", world.admin_a), ("B", world.admin_b)):
        want_tables = base[f"tables {account}"]
        have = current[f"tables {account}"]
        if isinstance(have, list) and isinstance(want_tables, list):
            for extra in set(have) - set(want_tables):
                world.ddb(creds, "DeleteTable", {"TableName": extra})


def _recreate_table(world: World, table: str) -> None:
    desc = world.describes[table]
    assert desc is not None
    body: dict[str, Any] = {
        "TableName": table,
        "KeySchema": desc["KeySchema"],
        "AttributeDefinitions": desc["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if desc.get(kind):
            body[kind] = [
                {"IndexName": ix["IndexName"], "KeySchema": ix["KeySchema"],
                 "Projection": ix["Projection"]}
                for ix in desc[kind]
            ]
    status, _, answer = world.ddb(world.admin_b, "CreateTable", body)
    assert status == 200, f"could not recreate {table}: {answer[:300]!r}"


class Guard:
    """Per-test view of the world: check an answer, the state and the server together."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.last: dict[str, Any] | None = None
        self.broken = False

    def changes(self) -> str:
        try:
            self.last = snapshot(self.world)
        except Exception as exc:  # e.g. every key gone after a moto reset
            self.last, self.broken = None, True
            return f"the state can no longer be read (sandbox wiped?): {exc!r}"[:400]
        return diff_summary(self.world.baseline, self.last)

    def assert_unchanged(self) -> None:
        changed = self.changes()
        assert not changed, f"the sandbox's state changed: {changed}"

    def check(self, response: tuple[int, dict[str, str], bytes], wire: str,
              codes: set[str] | str | None, *, status: int | None = None,
              message_prefix: str | None = None, no_private_data: bool = True) -> None:
        """Assert the refusal, the unchanged state and a live server (all reported at once)."""
        problems = []
        try:
            refused(response, wire, codes, status=status, message_prefix=message_prefix)
        except AssertionError as exc:
            problems.append(str(exc))
        if no_private_data:
            leaked = [m for m in PRIVATE_MARKERS if m in response[2]]
            if leaked:
                problems.append(f"the answer holds PrivateLedgerTable data: {leaked}")
        changed = self.changes()
        if changed:
            problems.append(f"the sandbox's state changed: {changed}")
        dead = self.world.assert_alive()
        if dead:
            problems.append(dead)
        assert not problems, "\n".join(problems)

    def finish(self) -> None:
        """Put the state back; start a new sandbox if the attack wiped this one."""
        try:
            if not self.broken:
                current = self.last if self.last is not None else snapshot(self.world)
                if current != self.world.baseline:
                    restore(self.world, current)
                if self.world.assert_alive() is None:
                    return
        except Exception:  # noqa: BLE001 - whatever broke, a fresh sandbox repairs it
            pass
        self.world.rebuild()


# -- answers in AWS's wire formats ----------------------------------------------------------------


def error_code(body: bytes, wire: str) -> tuple[str | None, str]:
    """(code, message) of an AWS error body in ``wire`` ("json", "xml" or "any")."""
    if wire in ("json", "any"):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("__type"), str):
            kind = doc["__type"]
            message = str(doc.get("Message", doc.get("message", "")))
            return (kind.rsplit("#", 1)[1] if "#" in kind else None), message
        if wire == "json":
            return None, ""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None, ""
    code = next((e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Code"), None)
    message = next((e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Message"), "")
    return code, message


def refused(response: tuple[int, dict[str, str], bytes], wire: str, codes: set[str] | str | None,
            *, status: int | None = None, message_prefix: str | None = None) -> str:
    """Assert a 4xx AWS error in ``wire`` format whose code is one of ``codes`` (None: any)."""
    got_status, headers, body = response
    shown = body[:300]

    def require(condition: bool, message: str) -> None:
        if not condition:
            raise AssertionError(message)

    require(400 <= got_status < 500, f"expected a 4xx, got {got_status}: {shown!r}")
    if status is not None:
        require(got_status == status, f"expected status {status}, got {got_status}: {shown!r}")
    lowered = body.lower()
    require(b"<html" not in lowered and b"<!doctype" not in lowered, f"an HTML page: {shown!r}")
    require("html" not in headers.get("content-type", ""), f"an HTML page: {headers}")
    code, message = error_code(body, wire)
    require(code is not None, f"no AWS error code in {wire} wire format: {shown!r}")
    if isinstance(codes, str):
        codes = {codes}
    if codes is not None:
        require(code in codes, f"error code {code!r}, expected {sorted(codes)}: {shown!r}")
    if message_prefix is not None:
        require(message.startswith(message_prefix),
                f"message {message!r} does not start with {message_prefix!r}")
    return code


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    sb = xn.sandbox.start()
    try:
        w = World(sb)
    except BaseException:
        sb.stop()
        raise
    try:
        yield w
    finally:
        w.sb.stop()


@pytest.fixture
def guard(world: World) -> Iterator[Guard]:
    g = Guard(world)
    yield g
    g.finish()


# -- request builders -------------------------------------------------------------------------


def forged(creds: Creds) -> Creds:
    """The same access key id with a secret the attacker made up."""
    return Creds(creds.key, "not-the-secret-" + "x" * 25, creds.token)


def order(customer: str, note: str = "adversarial") -> dict[str, Any]:
    return {"customer_id": {"S": customer}, "order_ts": {"S": NEW_ORDER_TS},
            "note": {"S": note}}


def put_body(world: World, customer: str, note: str = "adversarial") -> dict[str, Any]:
    return {"TableName": world.sb.table, "Item": order(customer, note)}


def scan_private(world: World) -> dict[str, Any]:
    return {"TableName": world.sb.private_table}


def sign_ddb(world: World, creds: Creds, operation: str, payload: object, *,
             service: str = "dynamodb", region: str = "us-east-1", url: str | None = None,
             extra: dict[str, str] | None = None, target: str | None = None,
             when: datetime | None = None, auth_class: Any = None) -> tuple[str, dict[str, str], bytes]:
    """(url, signed headers, body) of a DynamoDB call, for tests that send it themselves."""
    body = payload if isinstance(payload, bytes) else (
        payload.encode() if isinstance(payload, str) else json.dumps(payload).encode())
    url = url or world.url
    headers = rawaws.signed("POST", url, body, rawaws.ddb_headers(operation, target=target, extra=extra),
                            creds, service, region, when=when, auth_class=auth_class)
    return url, headers, body


def reader_sees_private(world: World) -> tuple[int, dict[str, str], bytes]:
    return world.ddb(world.reader, "Scan", scan_private(world))


# == 0. sanity: the hand-signing helper itself works ================================================


def test_sanity_hand_signed_reader_scan_is_allowed(world, guard):
    status, _, body = world.ddb(world.reader, "Scan", {"TableName": world.sb.table, "Limit": 5})
    assert status == 200, body[:300]
    assert len(json.loads(body)["Items"]) == 5
    guard.assert_unchanged()


def test_sanity_hand_signed_writer_puts_and_deletes_in_its_partition(world, guard):
    status, _, body = world.ddb(world.writer, "PutItem", put_body(world, "C-0001"))
    assert status == 200, body[:300]
    assert guard.changes(), "the allowed PutItem did not write"
    key = {"customer_id": {"S": "C-0001"}, "order_ts": {"S": NEW_ORDER_TS}}
    status, _, body = world.ddb(world.writer, "DeleteItem", {"TableName": world.sb.table, "Key": key})
    assert status == 200, body[:300]
    guard.assert_unchanged()


# == 1. authentication: DynamoDB ======================================================================


def test_dynamodb_request_without_authorization(world, guard):
    body = json.dumps(scan_private(world))
    response = rawaws.send("POST", world.url, rawaws.ddb_headers("Scan"), body)
    guard.check(response, "json", "MissingAuthenticationTokenException", status=400)


def test_dynamodb_unsigned_with_forged_moto_account_header(world, guard):
    headers = {**rawaws.ddb_headers("Scan"), "X-Moto-Account-Id": world.sb.account_b,
               "X-Amz-Date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")}
    response = rawaws.send("POST", world.url, headers, json.dumps(scan_private(world)))
    guard.check(response, "json", "MissingAuthenticationTokenException", status=400)


MALFORMED_AUTH = {
    "no-credential": lambda a: re.sub(r"Credential=[^,]*, ", "", a),
    "no-signed-headers": lambda a: re.sub(r", SignedHeaders=[^,]*", "", a),
    "no-signature": lambda a: re.sub(r", Signature=\w+", "", a),
    "algorithm-sha512": lambda a: a.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"),
    "algorithm-sigv2": lambda a: a.replace("AWS4-HMAC-SHA256", "AWS"),
    "scope-4-parts": lambda a: a.replace("/aws4_request", ""),
    "scope-6-parts": lambda a: a.replace("/aws4_request", "/aws4_request/extra"),
    "scope-empty": lambda a: re.sub(r"Credential=[^,]*", "Credential=", a),
}


@pytest.mark.parametrize("case", list(MALFORMED_AUTH))
def test_dynamodb_malformed_authorization(world, guard, case):
    # The attacker knows admin B's key id (not the secret) and mangles the header.
    url, headers, body = sign_ddb(world, forged(world.admin_b), "Scan", scan_private(world))
    headers["Authorization"] = MALFORMED_AUTH[case](headers["Authorization"])
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", "IncompleteSignatureException", status=400)


def test_dynamodb_unknown_access_key(world, guard):
    stranger = Creds("AKIAXNADVUNKNOWN0001", "x" * 40)
    response = world.ddb(stranger, "Scan", scan_private(world))
    guard.check(response, "json", "UnrecognizedClientException", status=400)


def test_dynamodb_admin_key_with_wrong_secret(world, guard):
    response = world.ddb(forged(world.admin_b), "Scan", scan_private(world))
    guard.check(response, "json", "InvalidSignatureException", status=400)


def test_dynamodb_admin_key_with_another_users_secret(world, guard):
    mixed = Creds(world.admin_b.key, world.analyst.secret)
    response = world.ddb(mixed, "Scan", scan_private(world))
    guard.check(response, "json", "InvalidSignatureException", status=400)


@pytest.mark.parametrize("change", ["note", "partition"])
def test_dynamodb_body_changed_after_signing(world, guard, change):
    url, headers, _ = sign_ddb(world, world.writer, "PutItem", put_body(world, "C-0001"))
    tampered = (put_body(world, "C-0001", "tampered") if change == "note"
                else put_body(world, "C-0003"))
    response = rawaws.send("POST", url, headers, json.dumps(tampered))
    guard.check(response, "json", "InvalidSignatureException", status=400)


TAMPERED_HEADERS = {
    "target": ("X-Amz-Target", rawaws.DDB_PREFIX + "Scan"),
    "content-type": ("Content-Type", "application/x-amz-json-1.1"),
    "date": ("X-Amz-Date", None),
}


@pytest.mark.parametrize("header", list(TAMPERED_HEADERS))
def test_dynamodb_signed_header_changed_after_signing(world, guard, header):
    url, headers, body = sign_ddb(world, world.reader, "DescribeTable", {"TableName": world.sb.table})
    name, value = TAMPERED_HEADERS[header]
    if value is None:  # one second later: still fresh, but not what was signed
        signed_at = datetime.strptime(headers[name], "%Y%m%dT%H%M%SZ")
        value = (signed_at + timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")
    headers[name] = value
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", "InvalidSignatureException", status=400)


@pytest.mark.parametrize("minutes", [-20, 20], ids=["past", "future"])
def test_dynamodb_signature_out_of_time(world, guard, minutes):
    when = datetime.now(UTC) + timedelta(minutes=minutes)
    url, headers, body = sign_ddb(world, world.reader, "Scan", {"TableName": world.sb.table,
                                                               "Limit": 1}, when=when)
    response = rawaws.send("POST", url, headers, body)
    # AWS's words: "Signature expired: ..." for the past, "Signature not yet current: ..."
    # for the future.
    guard.check(response, "json", "InvalidSignatureException", status=400,
                message_prefix="Signature expired" if minutes < 0 else "Signature not yet current")


@pytest.mark.parametrize("token", ["none", "forged", "writers"])
def test_dynamodb_session_key_with_wrong_token(world, guard, token):
    r = world.reader
    creds = {
        "none": Creds(r.key, r.secret),
        "forged": Creds(r.key, r.secret, "FwoGZXIvYXdzEForgedTokenForgedTokenForged" * 3),
        "writers": Creds(r.key, r.secret, world.writer.token),
    }[token]
    response = world.ddb(creds, "Scan", {"TableName": world.sb.table, "Limit": 1})
    guard.check(response, "json", "UnrecognizedClientException", status=400)


def test_dynamodb_outsider_with_forged_moto_account_header(world, guard):
    url, headers, body = sign_ddb(world, world.outsider, "Scan", {"TableName": world.sb.table},
                                  extra={"X-Moto-Account-Id": world.sb.account_b})
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", "AccessDeniedException", status=400)


def test_dynamodb_analyst_names_owner_table_by_arn(world, guard):
    response = world.ddb(world.analyst, "Scan",
                         {"TableName": world.sb.table_arn.replace(world.sb.table,
                                                                   world.sb.private_table)})
    guard.check(response, "json", "AccessDeniedException", status=400)


# == 2. authentication: STS and IAM ======================================================================


def assume_params(world: World) -> str:
    return urlencode({"Action": "AssumeRole", "Version": "2011-06-15",
                      "RoleArn": world.sb.reader_role_arn, "RoleSessionName": "intruder",
                      "ExternalId": world.sb.external_id})


def put_role_policy_params(role: str) -> str:
    return urlencode({"Action": "PutRolePolicy", "RoleName": role, "PolicyName": "x",
                      "PolicyDocument": ALLOW_ALL, "Version": "2010-05-08"})


def test_sts_request_without_authorization(world, guard):
    response = rawaws.send("POST", world.url, {"Content-Type": rawaws.FORM_TYPE},
                           assume_params(world))
    guard.check(response, "xml", "MissingAuthenticationToken", status=403)


def test_sts_unknown_access_key(world, guard):
    stranger = Creds("AKIAXNADVUNKNOWN0002", "x" * 40)
    response = rawaws.query_call(world.url, stranger, assume_params(world), service_scope="sts")
    guard.check(response, "xml", "InvalidClientTokenId", status=403)


def test_sts_assume_role_with_wrong_secret(world, guard):
    response = rawaws.query_call(world.url, forged(world.analyst), assume_params(world),
                                 service_scope="sts")
    guard.check(response, "xml", "SignatureDoesNotMatch", status=403)


def test_iam_admin_key_with_wrong_secret(world, guard):
    response = rawaws.query_call(world.url, forged(world.admin_b),
                                 put_role_policy_params(world.canary_role), service_scope="iam")
    guard.check(response, "xml", "SignatureDoesNotMatch", status=403)


def test_iam_unsigned_put_role_policy(world, guard):
    response = rawaws.send("POST", world.url, {"Content-Type": rawaws.FORM_TYPE},
                           put_role_policy_params(world.canary_role))
    guard.check(response, "xml", "MissingAuthenticationToken", status=403)


def test_iam_unknown_access_key(world, guard):
    stranger = Creds("AKIAXNADVUNKNOWN0003", "x" * 40)
    response = rawaws.query_call(world.url, stranger, put_role_policy_params(world.canary_role),
                                 service_scope="iam")
    guard.check(response, "xml", "InvalidClientTokenId", status=403)


@pytest.mark.parametrize("token", ["none", "writers"])
def test_sts_session_key_with_wrong_token(world, guard, token):
    r = world.reader
    creds = Creds(r.key, r.secret, None if token == "none" else world.writer.token)
    params = urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"})
    response = rawaws.query_call(world.url, creds, params, service_scope="sts")
    guard.check(response, "xml", "InvalidClientTokenId", status=403)


@pytest.mark.parametrize("path", ["/", "/xn-adv-bucket"])
def test_s3_admin_key_with_wrong_secret(world, guard, path):
    # ListBuckets, or CreateBucket: refused before S3 looks at it.
    method = "GET" if path == "/" else "PUT"
    url = world.url.rstrip("/") + path
    headers = rawaws.signed(method, url, b"", {}, forged(world.admin_b), "s3")
    response = rawaws.send(method, url, headers, b"")
    guard.check(response, "xml", "SignatureDoesNotMatch", status=403)
    listed = rawaws.send("GET", world.url, rawaws.signed("GET", world.url, b"", {},
                                                         world.admin_b, "s3"), b"")
    assert b"xn-adv-bucket" not in listed[2], "the forged CreateBucket created the bucket"


# == 3. the credential scope's service spelled another way ==================================================


@pytest.mark.parametrize("scope", ["IAM", "Iam", "iam ", "S3", "s3", "iam"])
def test_reader_grants_itself_everything_via_iam(world, guard, scope):
    params = put_role_policy_params("DynamoDBReaderRoleForAccountA")
    response = rawaws.query_call(world.url, world.reader, params, service_scope=scope)
    afterwards = reader_sees_private(world)
    guard.check(response, "xml" if scope in ("iam", "s3") else "any",
                "AccessDenied" if scope == "iam" else SCOPE_REFUSALS,
                status=403 if scope == "iam" else None)
    refused(afterwards, "json", "AccessDeniedException", status=400)


@pytest.mark.parametrize("scope", ["DynamoDB", "DYNAMODB", "Dynamodb", "dynamodb ", "S3", "s3"])
def test_reader_scans_private_table_under_other_scope(world, guard, scope):
    response = world.ddb(world.reader, "Scan", scan_private(world), service_scope=scope)
    guard.check(response, "any", SCOPE_REFUSALS)


# == 4. one request, two readings: DescribeTable that deletes ==================================================


@pytest.mark.parametrize("query", ["Action=DeleteTable", "&Action=DeleteTable&",
                                   "Action=DeleteTable&TableName=MyCrossAccountTable"])
def test_describe_target_with_delete_action_in_url(world, guard, query):
    url = world.url + "?" + query
    _, headers, body = sign_ddb(world, world.reader, "DescribeTable", {"TableName": world.sb.table},
                                url=url)
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", None)


def test_describe_target_with_delete_action_in_json_body(world, guard):
    # The layer forwards the operation it authorized (DescribeTable) and nothing else; an
    # unknown member is ignored as DynamoDB's JSON protocol ignores it. Either way the
    # table survives (checked by the guard) and no delete is ever answered.
    payload = {"TableName": world.sb.table,
               "x": "a&Action=DeleteTable&TableName=MyCrossAccountTable"}
    response = world.ddb(world.reader, "DescribeTable", payload)
    status, _, body = response
    if status == 200:
        described = json.loads(body)
        assert described["Table"]["TableName"] == world.sb.table
        assert described["Table"]["TableStatus"] == "ACTIVE"  # not DELETING
        assert not guard.changes()
        return
    guard.check(response, "json", None)


def test_describe_target_with_delete_action_in_table_name(world, guard):
    payload = {"TableName": "MyCrossAccountTable&Action=DeleteTable&TableName=MyCrossAccountTable"}
    response = world.ddb(world.reader, "DescribeTable", payload)
    guard.check(response, "json", {"ValidationException", "ResourceNotFoundException",
                                   "AccessDeniedException"})


@pytest.mark.parametrize("content_type", [rawaws.FORM_TYPE, rawaws.JSON_TYPE])
def test_form_encoded_body_with_dynamodb_target(world, guard, content_type):
    body = "Action=DeleteTable&TableName=MyCrossAccountTable&Version=2012-08-10"
    headers = rawaws.signed("POST", world.url, body,
                            {"Content-Type": content_type,
                             "X-Amz-Target": rawaws.DDB_PREFIX + "DescribeTable"},
                            world.reader)
    response = rawaws.send("POST", world.url, headers, body)
    guard.check(response, "json", "SerializationException", status=400)


# == 5. operation names DynamoDB does not have ==================================================


def _batch_write(world: World, customer: str) -> dict[str, Any]:
    return {"RequestItems": {world.sb.table: [{"PutRequest": {"Item": order(customer)}}]}}


UNKNOWN_TARGETS = {
    "putItem": ("writer", "DynamoDB_20120810.putItem", "put-C-0003"),
    "PUTITEM": ("writer", "DynamoDB_20120810.PUTITEM", "put-C-0003"),
    "put_item": ("writer", "DynamoDB_20120810.put_item", "put-C-0003"),
    "batchWriteItem": ("writer", "DynamoDB_20120810.batchWriteItem", "batch-C-0003"),
    "batchGetItem": ("reader", "DynamoDB_20120810.batchGetItem", "batchget-private"),
    "scan": ("reader", "DynamoDB_20120810.scan", "scan-private"),
    "trailing-space": ("writer", "DynamoDB_20120810.PutItem ", "put-C-0003"),
    "inner-space": ("writer", "DynamoDB_20120810. PutItem", "put-C-0003"),
    "old-version": ("writer", "DynamoDB_20111205.PutItem", "put-C-0003"),
    "other-prefix": ("writer", "DynamoDBStreams_20120810.PutItem", "put-C-0003"),
    "no-prefix": ("writer", "PutItem", "put-C-0003"),
    "empty-operation": ("writer", "DynamoDB_20120810.", "put-C-0003"),
    "dotted-deletetable": ("writer", "DynamoDB_20120810.DeleteTable.PutItem", "put-C-0001"),
    "dotted-scan-private": ("reader", "DynamoDB_20120810.Scan.DescribeTable", "scan-private"),
}


@pytest.mark.parametrize("case", list(UNKNOWN_TARGETS))
def test_target_not_exactly_an_operation(world, guard, case):
    who, target, what = UNKNOWN_TARGETS[case]
    creds = world.writer if who == "writer" else world.reader
    payload = {
        "put-C-0003": put_body(world, "C-0003"),
        "put-C-0001": put_body(world, "C-0001"),
        "batch-C-0003": _batch_write(world, "C-0003"),
        "batchget-private": {"RequestItems": {world.sb.private_table: {
            "Keys": [{"account": {"S": "ACC-001"}}]}}},
        "scan-private": scan_private(world),
    }[what]
    url, headers, body = sign_ddb(world, creds, "", payload, target=target)
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", "UnknownOperationException", status=400)


# == 6. region games ================================================================================


REGION_CODES = {"InvalidSignatureException", "AccessDeniedException", "ValidationException",
                "ResourceNotFoundException", "UnrecognizedClientException"}

REGION_GAMES = {
    # (scope region, table named by, extra headers)
    "scope-eu-table-arn": ("eu-west-1", "arn", {}),
    "scope-eu-arn-ua-us": ("eu-west-1", "arn", {"User-Agent": "aws-cli/2.0 region/us-east-1"}),
    "scope-us-ua-eu": ("us-east-1", "name", {"User-Agent": "Boto3/1.0 region/eu-west-1"}),
    "scope-us-host-eu": ("us-east-1", "name", {"Host": "dynamodb.eu-west-1.amazonaws.com"}),
    "scope-eu-arn-host-us": ("eu-west-1", "arn", {"Host": "dynamodb.us-east-1.amazonaws.com"}),
}


@pytest.mark.parametrize("case", list(REGION_GAMES))
def test_writer_region_games(world, guard, case):
    region, named_by, extra = REGION_GAMES[case]
    payload = put_body(world, "C-0003")
    if named_by == "arn":
        payload["TableName"] = world.sb.table_arn
    url, headers, body = sign_ddb(world, world.writer, "PutItem", payload, region=region,
                                  extra=extra)
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", REGION_CODES, status=400)


# == 7. Authorization header games ================================================================


@pytest.mark.parametrize("forged_first", [True, False], ids=["forged-first", "forged-second"])
def test_two_authorization_headers(world, guard, forged_first):
    _, good, body = sign_ddb(world, world.reader, "Scan", scan_private(world))
    _, bad, _ = sign_ddb(world, forged(world.admin_b), "Scan", scan_private(world))
    pairs = [(k, v) for k, v in good.items() if k != "Authorization"]
    auths = [bad["Authorization"], good["Authorization"]]
    if not forged_first:
        auths.reverse()
    pairs += [("Authorization", a) for a in auths]
    response = rawaws.send("POST", world.url, pairs, body)
    guard.check(response, "json", SIGNATURE_REFUSALS, status=400)


@pytest.mark.parametrize("admin_first", [True, False], ids=["admin-first", "reader-first"])
def test_credential_repeated_with_two_keys(world, guard, admin_first):
    url, headers, body = sign_ddb(world, world.reader, "Scan", scan_private(world))
    auth = headers["Authorization"]
    reader_credential = re.search(r"Credential=[^,]*", auth).group(0)
    admin_credential = reader_credential.replace(world.reader.key, world.admin_b.key)
    pair = [admin_credential, reader_credential]
    if not admin_first:
        pair.reverse()
    headers["Authorization"] = auth.replace(reader_credential, ", ".join(pair))
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", "IncompleteSignatureException", status=400)


def test_lowercase_algorithm(world, guard):
    url, headers, body = sign_ddb(world, world.reader, "Scan", {"TableName": world.sb.table})
    headers["Authorization"] = headers["Authorization"].replace("AWS4-HMAC-SHA256",
                                                                "aws4-hmac-sha256")
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", "IncompleteSignatureException", status=400)


class _NoHostSigV4(rawaws.SigV4Auth):
    """A valid signature over every header but ``host``."""

    def headers_to_sign(self, request):  # noqa: ANN001, ANN201 - botocore's signature
        headers = super().headers_to_sign(request)
        del headers["host"]
        return headers


def test_signed_headers_without_host(world, guard):
    url, headers, body = sign_ddb(world, world.reader, "Scan", {"TableName": world.sb.table},
                                  auth_class=_NoHostSigV4)
    assert "host" not in re.search(r"SignedHeaders=([^,]*)", headers["Authorization"]).group(1)
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", SIGNATURE_REFUSALS, status=400)


EXTRA_AUTH_PARAMETERS = {
    "unknown-parameter": lambda a, f: a + ", Foo=bar",
    "second-signature": lambda a, f: a + ", Signature=" + "0" * 64,
    "second-signed-headers": lambda a, f: a + ", SignedHeaders=host",
    "second-credential-last": lambda a, f: a + ", " + re.search(r"Credential=[^,]*", f).group(0),
}


@pytest.mark.parametrize("case", list(EXTRA_AUTH_PARAMETERS))
def test_authorization_with_extra_parameters(world, guard, case):
    url, headers, body = sign_ddb(world, world.reader, "Scan", scan_private(world))
    _, admin, _ = sign_ddb(world, forged(world.admin_b), "Scan", scan_private(world))
    headers["Authorization"] = EXTRA_AUTH_PARAMETERS[case](headers["Authorization"],
                                                           admin["Authorization"])
    response = rawaws.send("POST", url, headers, body)
    guard.check(response, "json", SIGNATURE_REFUSALS, status=400)


@pytest.mark.parametrize("forged_in", ["query", "header"])
def test_presigned_query_together_with_authorization_header(world, guard, forged_in):
    query_creds = forged(world.admin_b) if forged_in == "query" else world.reader
    header_creds = world.reader if forged_in == "query" else forged(world.admin_b)
    headers = rawaws.ddb_headers("Scan")
    url = rawaws.presigned_url("POST", world.url, query_creds, headers=headers)
    body = json.dumps(scan_private(world))
    signed = rawaws.signed("POST", url, body, headers, header_creds)
    response = rawaws.send("POST", url, signed, body)
    guard.check(response, "json", SIGNATURE_REFUSALS, status=400)


def test_presigned_query_with_forged_admin_key_alone(world, guard):
    headers = rawaws.ddb_headers("Scan")
    url = rawaws.presigned_url("POST", world.url, forged(world.admin_b), headers=headers)
    response = rawaws.send("POST", url, headers, json.dumps(scan_private(world)))
    guard.check(response, "json", SIGNATURE_REFUSALS | {"MissingAuthenticationTokenException"},
                status=400)


# == 8. PartiQL and transactions ================================================================


def statement(world: World, table: str, where: str = "") -> dict[str, Any]:
    return {"Statement": f'SELECT * FROM {table}{where}'}


@pytest.mark.parametrize("table", ["private", "granted"])
def test_execute_statement_permission_alone_reads_nothing(world, guard, table):
    name = world.sb.private_table if table == "private" else world.sb.table
    response = world.ddb(world.roles["ExecuteStatementOnly"], "ExecuteStatement",
                         statement(world, f'"{name}"'))
    guard.check(response, "json", "AccessDeniedException", status=400)


def test_execute_statement_permission_alone_inserts_nothing(world, guard):
    insert = {"Statement": f"INSERT INTO \"{world.sb.table}\" VALUE "
                           f"{{'customer_id': 'C-0003', 'order_ts': '{NEW_ORDER_TS}'}}"}
    response = world.ddb(world.roles["ExecuteStatementOnly"], "ExecuteStatement", insert)
    guard.check(response, "json", "AccessDeniedException", status=400)


def test_writer_partiql_insert_into_foreign_partition(world, guard):
    insert = {"Statement": f"INSERT INTO \"{world.sb.table}\" VALUE "
                           f"{{'customer_id': 'C-0003', 'order_ts': '{NEW_ORDER_TS}'}}"}
    response = world.ddb(world.writer, "ExecuteStatement", insert)
    guard.check(response, "json", "AccessDeniedException", status=400)


def test_partiql_select_role_reads_its_table(world, guard):
    response = world.ddb(world.roles["PartiQLSelectTable"], "ExecuteStatement",
                         statement(world, f'"{world.sb.table}"', " WHERE customer_id = 'C-0001'"))
    assert response[0] == 200, response[2][:300]
    assert json.loads(response[2])["Items"]
    guard.assert_unchanged()


@pytest.mark.parametrize("target", ["private", "index"])
def test_partiql_select_role_denied_elsewhere(world, guard, target):
    table = (f'"{world.sb.private_table}"' if target == "private"
             else f'"{world.sb.table}"."{world.sb.index}"')
    response = world.ddb(world.roles["PartiQLSelectTable"], "ExecuteStatement",
                         statement(world, table))
    guard.check(response, "json", "AccessDeniedException", status=400)


PARTIQL_TRICKS = {
    # moto's own spelling of an index ("T.I" as one name) for a role granted only the table
    "index-as-dotted-name": 'SELECT * FROM "MyCrossAccountTable.status-index"',
    "index-as-bare-dotted-name": "SELECT * FROM MyCrossAccountTable.status-index",
    "comment": 'SELECT * FROM "PrivateLedgerTable" -- "MyCrossAccountTable"',
    "two-tables": 'SELECT * FROM "MyCrossAccountTable", "PrivateLedgerTable"',
    "two-statements": 'SELECT * FROM "MyCrossAccountTable"; SELECT * FROM "PrivateLedgerTable"',
    "lowercase-keywords": 'select * from "PrivateLedgerTable"',
    "name-in-literal": ('SELECT * FROM "PrivateLedgerTable" WHERE account = '
                        "'\"MyCrossAccountTable\"'"),
    "bare-private": "SELECT * FROM PrivateLedgerTable",
}


@pytest.mark.parametrize("case", list(PARTIQL_TRICKS))
def test_partiql_statement_tricks(world, guard, case):
    response = world.ddb(world.roles["PartiQLSelectTable"], "ExecuteStatement",
                         {"Statement": PARTIQL_TRICKS[case]})
    guard.check(response, "json", {"AccessDeniedException", "ValidationException",
                                   "ResourceNotFoundException"}, status=400)


def test_partiql_select_index_allowed_when_index_granted(world, guard):
    response = world.ddb(world.roles["PartiQLSelectIndex"], "ExecuteStatement",
                         statement(world, f'"{world.sb.table}"."{world.sb.index}"',
                                   " WHERE \"status\" = 'shipped'"))
    assert response[0] == 200, response[2][:300]
    guard.assert_unchanged()


def test_batch_execute_statement_mixing_granted_and_private(world, guard):
    payload = {"Statements": [
        {"Statement": f"SELECT * FROM \"{world.sb.table}\" WHERE customer_id = 'C-0001' "
                      "AND order_ts = '2026-01-01'"},
        {"Statement": f"SELECT * FROM \"{world.sb.private_table}\" WHERE account = 'ACC-001'"},
    ]}
    response = world.ddb(world.roles["PartiQLSelectTable"], "BatchExecuteStatement", payload)
    guard.check(response, "json", "AccessDeniedException", status=400)


def test_execute_transaction_mixing_granted_and_private(world, guard):
    payload = {"TransactStatements": [
        {"Statement": f"SELECT * FROM \"{world.sb.table}\" WHERE customer_id = 'C-0001' "
                      "AND order_ts = '2026-01-01'"},
        {"Statement": f"SELECT * FROM \"{world.sb.private_table}\" WHERE account = 'ACC-001'"},
    ]}
    response = world.ddb(world.roles["PartiQLSelectTable"], "ExecuteTransaction", payload)
    guard.check(response, "json", "AccessDeniedException", status=400)


def _first_order_key(world: World) -> dict[str, Any]:
    status, _, body = world.ddb(world.reader, "Query", {
        "TableName": world.sb.table, "KeyConditionExpression": "customer_id = :c",
        "ExpressionAttributeValues": {":c": {"S": "C-0001"}}, "Limit": 1})
    assert status == 200, body[:300]
    item = json.loads(body)["Items"][0]
    return {"customer_id": item["customer_id"], "order_ts": item["order_ts"]}


def test_transact_get_items_allowed_by_get_item(world, guard):
    key = _first_order_key(world)
    payload = {"TransactItems": [{"Get": {"TableName": world.sb.table, "Key": key}}]}
    response = world.ddb(world.reader, "TransactGetItems", payload)
    assert response[0] == 200, response[2][:300]
    assert json.loads(response[2])["Responses"][0]["Item"]["customer_id"] == key["customer_id"]
    guard.assert_unchanged()


def test_transact_get_items_including_private_table(world, guard):
    payload = {"TransactItems": [
        {"Get": {"TableName": world.sb.table, "Key": _first_order_key(world)}},
        {"Get": {"TableName": world.sb.private_table, "Key": {"account": {"S": "ACC-001"}}}},
    ]}
    response = world.ddb(world.reader, "TransactGetItems", payload)
    guard.check(response, "json", "AccessDeniedException", status=400)


def test_transact_write_items_in_own_partition_allowed(world, guard):
    payload = {"TransactItems": [{"Put": {"TableName": world.sb.table, "Item": order("C-0001")}}]}
    response = world.ddb(world.writer, "TransactWriteItems", payload)
    assert response[0] == 200, response[2][:300]
    assert guard.changes(), "the allowed TransactWriteItems did not write"
    key = {"customer_id": {"S": "C-0001"}, "order_ts": {"S": NEW_ORDER_TS}}
    status, _, body = world.ddb(world.writer, "DeleteItem", {"TableName": world.sb.table, "Key": key})
    assert status == 200, body[:300]
    guard.assert_unchanged()


@pytest.mark.parametrize("mix", ["foreign", "own-and-foreign"])
def test_transact_write_items_in_foreign_partition(world, guard, mix):
    items = [{"Put": {"TableName": world.sb.table, "Item": order("C-0003")}}]
    if mix == "own-and-foreign":
        items.insert(0, {"Put": {"TableName": world.sb.table, "Item": order("C-0002")}})
    response = world.ddb(world.writer, "TransactWriteItems", {"TransactItems": items})
    guard.check(response, "json", "AccessDeniedException", status=400)


# == 9. requests without the condition context a policy needs ================================================


MISSING_KEY_CODES = {"ValidationException", "AccessDeniedException"}


def test_writer_put_item_without_partition_key(world, guard):
    item = order("C-0003")
    del item["customer_id"]
    response = world.ddb(world.writer, "PutItem", {"TableName": world.sb.table, "Item": item})
    guard.check(response, "json", MISSING_KEY_CODES, status=400)


def test_writer_update_item_without_key(world, guard):
    payload = {"TableName": world.sb.table, "UpdateExpression": "SET note = :n",
               "ExpressionAttributeValues": {":n": {"S": "adversarial"}}}
    response = world.ddb(world.writer, "UpdateItem", payload)
    guard.check(response, "json", MISSING_KEY_CODES, status=400)


def test_writer_batch_write_put_without_key(world, guard):
    item = order("C-0003")
    del item["customer_id"]
    payload = {"RequestItems": {world.sb.table: [{"PutRequest": {"Item": item}}]}}
    response = world.ddb(world.writer, "BatchWriteItem", payload)
    guard.check(response, "json", MISSING_KEY_CODES, status=400)


UNPINNED_QUERIES = {
    "begins_with": {"KeyConditionExpression": "begins_with(customer_id, :p)",
                    "ExpressionAttributeValues": {":p": {"S": "C-"}}},
    "greater-than": {"KeyConditionExpression": "customer_id > :p",
                     "ExpressionAttributeValues": {":p": {"S": "C-0001"}}},
    "or": {"KeyConditionExpression": "customer_id = :a OR customer_id = :b",
           "ExpressionAttributeValues": {":a": {"S": "C-0001"}, ":b": {"S": "C-0003"}}},
    "legacy-gt": {"KeyConditions": {"customer_id": {
        "ComparisonOperator": "GT", "AttributeValueList": [{"S": "C-0001"}]}}},
    "legacy-begins-with": {"KeyConditions": {"customer_id": {
        "ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "C-"}]}}},
    "expression-and-legacy": {
        "KeyConditionExpression": "customer_id = :a",
        "ExpressionAttributeValues": {":a": {"S": "C-0001"}},
        "KeyConditions": {"customer_id": {
            "ComparisonOperator": "EQ", "AttributeValueList": [{"S": "C-0003"}]}}},
}


@pytest.mark.parametrize("case", list(UNPINNED_QUERIES))
def test_leading_keys_reader_query_without_pinned_partition(world, guard, case):
    payload = {"TableName": world.sb.table, **UNPINNED_QUERIES[case]}
    response = world.ddb(world.roles["LeadingReader"], "Query", payload)
    assert b"C-0003" not in response[2], "items of a foreign partition came back"
    guard.check(response, "json", MISSING_KEY_CODES, status=400)


TWO_TYPED_KEYS = {
    "S-then-N": {"S": "C-0001", "N": "1"},
    "N-then-S": {"N": "1", "S": "C-0001"},
    "S-then-S-list": {"S": "C-0001", "SS": ["C-0003"]},
}


@pytest.mark.parametrize("case", list(TWO_TYPED_KEYS))
def test_writer_key_attribute_value_with_two_types(world, guard, case):
    item = order("C-0001")
    item["customer_id"] = TWO_TYPED_KEYS[case]
    response = world.ddb(world.writer, "PutItem", {"TableName": world.sb.table, "Item": item})
    # Refused either way: as invalid (AWS's ValidationException) or, with no single
    # partition key to match dynamodb:LeadingKeys against, as denied.
    guard.check(response, "json", {"ValidationException", "SerializationException",
                                   "AccessDeniedException"}, status=400)


DUPLICATE_MEMBERS = {
    # The same JSON member twice: which one counts is the parser's choice, so refuse.
    "partition-key": '{"TableName": "%(t)s", "Item": {"customer_id": {"S": "C-0001"}, '
                     '"customer_id": {"S": "C-0003"}, "order_ts": {"S": "%(ts)s"}}}',
    "item": '{"TableName": "%(t)s", "Item": {"customer_id": {"S": "C-0001"}, '
            '"order_ts": {"S": "%(ts)s"}}, "Item": {"customer_id": {"S": "C-0003"}, '
            '"order_ts": {"S": "%(ts)s"}}}',
    "table-name": '{"TableName": "%(t)s", "TableName": "%(p)s", '
                  '"Item": {"customer_id": {"S": "C-0001"}, "order_ts": {"S": "%(ts)s"}}}',
}


@pytest.mark.parametrize("case", list(DUPLICATE_MEMBERS))
def test_writer_json_with_duplicate_members(world, guard, case):
    body = DUPLICATE_MEMBERS[case] % {"t": world.sb.table, "p": world.sb.private_table,
                                      "ts": NEW_ORDER_TS}
    response = world.ddb(world.writer, "PutItem", body)
    guard.check(response, "json", {"SerializationException", "ValidationException",
                                   "AccessDeniedException"}, status=400)


# == 10. bodies ================================================================================


NOT_OBJECTS = {
    "list": '[{"TableName": "PrivateLedgerTable"}]',
    "string": '"PrivateLedgerTable"',
    "number": "42",
    "null": "null",
    "invalid": '{"TableName": "PrivateLedgerTable"',
    "trailing-garbage": '{"TableName": "MyCrossAccountTable"} {"TableName": "PrivateLedgerTable"}',
    "not-utf8": b'{"TableName": "\xff\xfe"}',
}


@pytest.mark.parametrize("case", list(NOT_OBJECTS))
def test_body_not_a_json_object(world, guard, case):
    response = world.ddb(world.reader, "Scan", NOT_OBJECTS[case])
    guard.check(response, "json", "SerializationException", status=400)


def test_empty_body(world, guard):
    response = world.ddb(world.reader, "Scan", b"")
    guard.check(response, "json", {"SerializationException", "ValidationException",
                                   "AccessDeniedException"}, status=400)


@pytest.mark.parametrize("kind", ["json-lists", "attribute-values"])
def test_body_with_huge_nesting(world, guard, kind):
    depth = 100_000
    if kind == "json-lists":
        value = "[" * depth + "]" * depth
    else:
        value = '{"L": [' * depth + '{"S": "x"}' + "]}" * depth
    head = json.dumps(put_body(world, "C-0001"))[:-2]  # '{"TableName": ..., "Item": {...'
    body = head + ', "deep": ' + value + "}}"
    response = world.ddb(world.writer, "PutItem", body)
    guard.check(response, "json", {"SerializationException", "ValidationException"}, status=400)


def _raw_ddb(world: World, creds: Creds, operation: str, payload: dict[str, Any]
             ) -> tuple[list[tuple[str, str]], bytes]:
    _, headers, body = sign_ddb(world, creds, operation, payload)
    pairs = [(k, v) for k, v in headers.items()]
    return pairs, body


def test_content_length_shorter_than_body(world, guard):
    pairs, body = _raw_ddb(world, world.writer, "PutItem", put_body(world, "C-0001"))
    cut = body.rindex(b"}}") - 5  # the body as the server reads it ends inside the item
    raw = rawaws.raw_request("POST", world.url, pairs + [("Content-Length", str(cut)),
                                                         ("Connection", "close")], body)
    status, answer = rawaws.parse_raw_response(rawaws.send_raw(world.url, raw))
    assert status is not None, "no answer at all"
    guard.check((status, {}, answer), "json", {"InvalidSignatureException",
                                               "SerializationException"}, status=400)


def test_content_length_longer_than_body(world, guard):
    pairs, body = _raw_ddb(world, world.writer, "PutItem", put_body(world, "C-0001"))
    raw = rawaws.raw_request("POST", world.url, pairs + [("Content-Length", str(len(body) + 100)),
                                                         ("Connection", "close")], body)
    status, answer = rawaws.parse_raw_response(rawaws.send_raw(world.url, raw, timeout=5))
    if status is None:  # the server waited, then dropped the incomplete request: fine
        guard.assert_unchanged()
        assert world.assert_alive() is None
        return
    guard.check((status, {}, answer), "json", None)


def _chunked(body: bytes, size: int = 16) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\n\r\n"


@pytest.mark.parametrize("with_length", [False, True], ids=["chunked", "chunked-and-length"])
def test_chunked_transfer_encoding(world, guard, with_length):
    pairs, body = _raw_ddb(world, world.writer, "PutItem", put_body(world, "C-0003"))
    pairs += [("Transfer-Encoding", "chunked"), ("Connection", "close")]
    if with_length:  # the classic smuggling pair: which one frames the body?
        pairs.append(("Content-Length", "2"))
    raw = rawaws.raw_request("POST", world.url, pairs, _chunked(body))
    status, answer = rawaws.parse_raw_response(rawaws.send_raw(world.url, raw))
    assert status is not None, "no answer at all"
    guard.check((status, {}, answer), "json",
                {"AccessDeniedException", "SerializationException", "InvalidSignatureException",
                 "ValidationException"}, status=400)


# == 11. /moto-api (last: a reset that got through would wipe the sandbox) ================================


def _moto_api_response(world: World, method: str, path: str, signer: str,
                       body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    url = world.url.rstrip("/") + path
    headers: dict[str, str] = {}
    if body:
        headers["Content-Type"] = "application/json"
    if signer != "unsigned":
        who, _, scope = signer.partition(":")
        creds = world.admin_b if who == "admin" else world.analyst
        headers = rawaws.signed(method, url, body, headers, creds, scope)
    # moto's data.json of the whole sandbox takes seconds: wait for it, to see what leaks.
    return rawaws.send(method, url, headers, body, timeout=60)


def _assert_no_secrets(world: World, response: tuple[int, dict[str, str], bytes]) -> None:
    leaked = [s[:6] + "..." for s in world.secrets if s.encode() in response[2]]
    assert not leaked, f"secret keys in the answer: {leaked}"


MOTO_API_SIGNERS = ["unsigned", "analyst:dynamodb", "analyst:sts", "analyst:iam", "analyst:s3",
                    "analyst:DynamoDB", "admin:s3", "admin:dynamodb"]
MOTO_API_READS = [
    ("GET", "/moto-api/data.json"),
    ("POST", "/moto-api/data.json"),
    ("GET", "/moto-api/"),
    ("GET", "/moto-api?list-type=2"),
    ("GET", "/%6Doto-api/data.json"),
    ("GET", "//moto-api/data.json"),
    ("GET", "/moto-api/state-manager/get-transition?model_name=dynamodb::table"),
]


@pytest.mark.parametrize("signer", MOTO_API_SIGNERS)
@pytest.mark.parametrize(("method", "path"), MOTO_API_READS,
                         ids=[f"{m}-{p}" for m, p in MOTO_API_READS])
def test_moto_api_reads_are_closed(world, guard, method, path, signer):
    response = _moto_api_response(world, method, path, signer)
    _assert_no_secrets(world, response)
    guard.check(response, "any", None)


MOTO_API_WRITES = [
    ("POST", "/moto-api/state-manager/set-transition",
     b'{"model_name": "dynamodb::table", "transition": {"progression": "manual", "times": 9}}'),
    ("POST", "/moto-api/seed?a=42", b""),
    ("POST", "/%6Doto-api/reset", b""),
    ("POST", "/moto-api/../moto-api/reset", b""),
    ("POST", "/moto-api/reset", b""),
]


@pytest.mark.parametrize("signer", MOTO_API_SIGNERS)
@pytest.mark.parametrize(("method", "path", "body"), MOTO_API_WRITES,
                         ids=[f"{m}-{p}" for m, p, _ in MOTO_API_WRITES])
def test_moto_api_writes_are_closed(world, guard, method, path, body, signer):
    response = _moto_api_response(world, method, path, signer, body)
    _assert_no_secrets(world, response)
    time.sleep(0.05)
    guard.check(response, "any", None)
