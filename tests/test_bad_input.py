"""A walk of bad inputs across the whole public API.

Every case calls one public function with one bad argument (or a session
whose endpoint is down) and expects an ``xn.XacctError`` subclass whose
message names the argument (or the endpoint): never a raw botocore, urllib3,
json or Python exception, and nothing sent for bad input.
"""

from __future__ import annotations

import datetime
import http.server
import inspect
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest

import xacct_nb as xn
import xacct_nb.dask as xd
from xacct_nb import policies as pol

TABLE_ARN = "arn:aws:dynamodb:us-east-1:222222222222:table/Orders"
ROLE_ARN = "arn:aws:iam::222222222222:role/Reader"
EXPORT_ARN = "arn:aws:dynamodb:us-east-1:222222222222:table/Orders/export/01234567890123-abcdefgh"


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Ctx:
    """What the cases need, built lazily: the sandbox only for cases that use it."""

    def __init__(self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
        self._request = request
        self._monkeypatch = monkeypatch
        self._down: boto3.Session | None = None
        self.down_url = ""

    @property
    def sb(self) -> Any:
        return self._request.getfixturevalue("sandbox")

    @property
    def reader(self) -> boto3.Session:
        return self._request.getfixturevalue("reader")

    @property
    def table(self) -> str:
        return str(self.sb.table)

    @property
    def client(self) -> Any:
        return boto3.Session(region_name="us-east-1").client("dynamodb")

    @property
    def down(self) -> boto3.Session:
        """A session whose every endpoint is a closed local port; botocore gives up at once."""
        if self._down is None:
            self.down_url = f"http://127.0.0.1:{closed_port()}"
            self._monkeypatch.setenv("AWS_ENDPOINT_URL", self.down_url)
            self._monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
            self._monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            self._monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
            self._down = boto3.Session(region_name="us-east-1")
        return self._down


@dataclass(frozen=True)
class Case:
    """One bad call; ``names`` must all appear in the error's message."""

    id: str
    call: Callable[[Ctx], Any]
    names: tuple[str, ...]
    error: type[xn.XacctError] = xn.XacctError


def bad(id_: str, call: Callable[[Ctx], Any], *names: str,
        error: type[xn.XacctError] = xn.InvalidArgumentError) -> Case:
    return Case(id_, call, names, error)


def down(id_: str, call: Callable[[Ctx], Any]) -> Case:
    return Case(id_, call, ("127.0.0.1", "AWS_ENDPOINT_URL"), xn.EndpointError)


def frame() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["C-9"], "order_ts": ["2026-01-01"]})


def plan() -> Any:
    return pol.setup_plan(owner_account="222222222222", requester_account="111111111111",
                          table="Orders", region="us-east-1")


SESSION_CALLS: dict[str, Callable[[Ctx, Any], Any]] = {
    "read_query": lambda c, s: xn.read_query(s, "Orders", "C-1"),
    "read_scan": lambda c, s: xn.read_scan(s, "Orders"),
    "read_items": lambda c, s: xn.read_items(s, "Orders", [("C-1", "x")]),
    "write_frame": lambda c, s: xn.write_frame(s, "Orders", frame()),
    "verify_access": lambda c, s: xn.verify_access(s, "Orders"),
    "explorer": lambda c, s: xn.explorer(s, tables=["Orders"]),
    "export": lambda c, s: xn.export(s, "Orders", "out.csv"),
    "export_snapshot": lambda c, s: xn.export_snapshot(s, TABLE_ARN, "bucket"),
    "describe_snapshot": lambda c, s: xn.describe_snapshot(s, EXPORT_ARN),
    "read_snapshot": lambda c, s: xn.read_snapshot(s, "s3://bucket/prefix/"),
    "whoami": lambda c, s: xn.whoami(s),
    "describe": lambda c, s: xn.describe(s, "Orders"),
    "read_partiql": lambda c, s: xn.read_partiql(s, 'SELECT * FROM "Orders" WHERE customer_id = ?',
                                                 ["C-1"]),
    "assume_role": lambda c, s: xn.assume_role(ROLE_ARN, source_session=s, region_name="us-east-1"),
    "dask.read_scan": lambda c, s: xd.read_scan(s, "Orders", segments=2),
    "dask.read_query": lambda c, s: xd.read_query(s, "Orders", "C-1"),
    "dask.read_snapshot": lambda c, s: xd.read_snapshot(s, "s3://bucket/prefix/"),
}

CASES: list[Case] = []
for _name, _call in SESSION_CALLS.items():
    if _name == "assume_role":  # source_session=None is boto3's default chain
        CASES.append(bad(f"{_name}-session-int", lambda c, f=_call: f(c, 5), "source_session"))
    else:
        CASES.append(bad(f"{_name}-session-None", lambda c, f=_call: f(c, None), "session",
                         "xn.connect().session"))
    CASES.append(bad(f"{_name}-session-str", lambda c, f=_call: f(c, "default"), "session",
                     "profile_name"))
    CASES.append(bad(f"{_name}-session-client", lambda c, f=_call: f(c, c.client), "session",
                     "client"))

CASES += [
    bad("scan-max-cost-str", lambda c: xn.read_scan(c.reader, c.table, max_cost="10"), "max_cost"),
    bad("scan-max-cost-0", lambda c: xn.read_scan(c.reader, c.table, max_cost=0), "max_cost"),
    bad("describe-table-int", lambda c: xn.describe(c.reader, 5), "table"),
    bad("describe-table-arn", lambda c: xn.describe(c.reader, "arn:aws:s3:::b"), "table ARN"),
    down("down-describe", lambda c: xn.describe(c.down, "Orders")),
    down("down-read-partiql", lambda c: xn.read_partiql(c.down, 'SELECT * FROM "Orders"')),
    bad("partiql-statement-int", lambda c: xn.read_partiql(c.reader, 5), "statement"),
    bad("partiql-parameters-object", lambda c: xn.read_partiql(
        c.reader, 'SELECT * FROM "Orders" WHERE customer_id = ?', [object()]), "parameter"),
    bad("partiql-write", lambda c: xn.read_partiql(
        c.reader, 'DELETE FROM "Orders" WHERE customer_id = \'C-1\''), "write_frame"),
    bad("scan-cache-word", lambda c: xn.read_scan(c.reader, c.table, cache="soon"), "cache"),
    bad("scan-cache-negative", lambda c: xn.read_scan(c.reader, c.table, cache=-5), "cache"),
    bad("query-cache-with-chunks", lambda c: xn.read_query(c.reader, c.table, "C-0001",
                                                           cache=True, chunksize=10),
        "cache", "chunksize"),
    bad("items-cache-list", lambda c: xn.read_items(c.reader, c.table, [("C-1", "x")],
                                                    cache=[1]), "cache"),
    bad("query-time-format-unknown", lambda c: xn.read_query(
        c.reader, c.table, "C-0001", time_format="unix"), "time_format"),
    bad("scan-time-format-int", lambda c: xn.read_scan(c.reader, c.table, time_format=3),
        "time_format"),
    bad("query-parse-dates-int", lambda c: xn.read_query(c.reader, c.table, "C-0001",
                                                         parse_dates=3), "parse_dates"),
    bad("scan-parse-dates-missing-column", lambda c: xn.read_scan(
        c.reader, c.table, limit=5, parse_dates=["no_such_column"]), "no_such_column"),
    bad("query-begins-with-datetime", lambda c: xn.read_query(
        c.reader, c.table, "C-0001", sort=("begins_with", datetime.datetime(2026, 3, 1))),
        "begins_with"),
    bad("write-time-format-unknown", lambda c: xn.write_frame(c.reader, c.table, frame(),
                                                              time_format="unix"),
        "time_format"),
    bad("query-partition-set", lambda c: xn.read_query(c.reader, c.table, {"C-0001", "C-0002"}),
        "partition", "set", "list"),
    bad("query-partition-list-bad-member", lambda c: xn.read_query(
        c.reader, c.table, ["C-0001", 7]), "partition=7", "customer_id"),
    down("down-query-partitions", lambda c: xn.read_query(c.down, "Orders", ["C-1", "C-2"],
                                                          key_schema=("customer_id", "order_ts"))),
    bad("read_query-session-connection", lambda c: xn.read_query(
        xn.Connection(c.reader, c.table, None, None, None, None), c.table, "C-0001"),
        "session", "conn.session"),
    # -- read_query --------------------------------------------------------------------
    bad("query-ascending-str", lambda c: xn.read_query(c.reader, c.table, "C-0001", ascending="yes"),
        "ascending"),
    bad("query-consistent-int", lambda c: xn.read_query(c.reader, c.table, "C-0001", consistent=1),
        "consistent"),
    bad("query-flatten-str", lambda c: xn.read_query(c.reader, c.table, "C-0001", flatten="no"),
        "flatten"),
    bad("query-limit-0", lambda c: xn.read_query(c.reader, c.table, "C-0001", limit=0), "limit"),
    bad("query-limit-True", lambda c: xn.read_query(c.reader, c.table, "C-0001", limit=True), "limit"),
    bad("query-limit-str", lambda c: xn.read_query(c.reader, c.table, "C-0001", limit="10"), "limit"),
    bad("query-chunksize-0", lambda c: xn.read_query(c.reader, c.table, "C-0001", chunksize=0),
        "chunksize"),
    bad("query-numbers-int", lambda c: xn.read_query(c.reader, c.table, "C-0001", numbers="int"),
        "numbers"),
    bad("query-progress-str", lambda c: xn.read_query(c.reader, c.table, "C-0001", progress="yes"),
        "progress"),
    bad("query-columns-int", lambda c: xn.read_query(c.reader, c.table, "C-0001", columns=5),
        "columns"),
    bad("query-columns-list-of-int", lambda c: xn.read_query(c.reader, c.table, "C-0001",
                                                             columns=[1, 2]), "columns"),
    bad("query-index-unknown", lambda c: xn.read_query(c.reader, c.table, "C-0001", index="nope"),
        "index", "nope"),
    bad("query-index-int", lambda c: xn.read_query(c.reader, c.table, "C-0001", index=5), "index"),
    bad("query-partition-int-for-S", lambda c: xn.read_query(c.reader, c.table, 123),
        "partition", "customer_id", "S (string)", "int"),
    bad("query-partition-bytes-for-S", lambda c: xn.read_query(c.reader, c.table, b"C-1"),
        "partition", "customer_id", "bytes"),
    bad("query-partition-None", lambda c: xn.read_query(c.reader, c.table, None), "partition"),
    bad("query-partition-wrong-name", lambda c: xn.read_query(c.reader, c.table, {"status": "x"}),
        "partition", "customer_id"),
    bad("query-partition-two-entries", lambda c: xn.read_query(c.reader, c.table,
                                                               {"a": 1, "b": 2}), "partition"),
    bad("query-partition-int-on-index", lambda c: xn.read_query(c.reader, c.table, 7,
                                                                index="status-index"),
        "partition", "status"),
    bad("query-sort-int-for-S", lambda c: xn.read_query(c.reader, c.table, "C-0001",
                                                        sort=(">=", 5)), "sort", "order_ts", "int"),
    bad("query-sort-between-ints", lambda c: xn.read_query(c.reader, c.table, "C-0001",
                                                           sort=("between", 1, 2)), "sort",
        "order_ts"),
    bad("query-sort-bad-operator", lambda c: xn.read_query(c.reader, c.table, "C-0001",
                                                           sort=("~", "x")), "sort"),
    bad("query-partition-keyschema-typed", lambda c: xn.read_query(
        c.reader, c.table, 5, key_schema={"partition": "customer_id", "types": {"customer_id": "S"}}),
        "partition", "customer_id"),
    bad("query-table-int", lambda c: xn.read_query(c.reader, 5, "C-0001"), "table"),
    bad("query-table-short", lambda c: xn.read_query(c.reader, "ab", "C-0001"), "table", "'ab'"),
    bad("query-key-schema-int", lambda c: xn.read_query(c.reader, c.table, "C-0001", key_schema=5),
        "key_schema"),
    bad("query-filter-str", lambda c: xn.read_query(c.reader, c.table, "C-0001", filter="x > 1"),
        "filter"),
    # -- read_scan ---------------------------------------------------------------------
    bad("scan-segments-0", lambda c: xn.read_scan(c.reader, c.table, segments=0), "segments"),
    bad("scan-segments-str", lambda c: xn.read_scan(c.reader, c.table, segments="4"), "segments"),
    bad("scan-segments-True", lambda c: xn.read_scan(c.reader, c.table, segments=True), "segments"),
    bad("scan-limit-negative", lambda c: xn.read_scan(c.reader, c.table, limit=-1), "limit"),
    bad("scan-numbers", lambda c: xn.read_scan(c.reader, c.table, numbers="int"), "numbers"),
    bad("scan-consistent-str", lambda c: xn.read_scan(c.reader, c.table, consistent="yes"),
        "consistent"),
    bad("scan-flatten-None", lambda c: xn.read_scan(c.reader, c.table, flatten=None), "flatten"),
    bad("scan-columns-int", lambda c: xn.read_scan(c.reader, c.table, columns=5), "columns"),
    bad("scan-index-unknown", lambda c: xn.read_scan(c.reader, c.table, index="nope"), "nope"),
    bad("scan-progress-int", lambda c: xn.read_scan(c.reader, c.table, progress=2), "progress"),
    bad("scan-chunksize-float", lambda c: xn.read_scan(c.reader, c.table, chunksize=1.5),
        "chunksize"),
    # -- read_items --------------------------------------------------------------------
    bad("items-keys-int", lambda c: xn.read_items(c.reader, c.table, 5), "keys"),
    bad("items-key-wrong-type", lambda c: xn.read_items(
        c.reader, c.table, [{"customer_id": 5, "order_ts": "x"}]), "customer_id"),
    bad("items-key-missing-attr", lambda c: xn.read_items(
        c.reader, c.table, [{"customer_id": "C-1"}]), "order_ts"),
    bad("items-consistent-str", lambda c: xn.read_items(c.reader, c.table, [("C-1", "x")],
                                                        consistent="yes"), "consistent"),
    bad("items-numbers", lambda c: xn.read_items(c.reader, c.table, [("C-1", "x")], numbers="x"),
        "numbers"),
    bad("items-flatten-str", lambda c: xn.read_items(c.reader, c.table, [("C-1", "x")],
                                                     flatten="no"), "flatten"),
    bad("items-columns-int", lambda c: xn.read_items(c.reader, c.table, [("C-1", "x")], columns=5),
        "columns"),
    # -- write_frame -------------------------------------------------------------------
    bad("write-df-str", lambda c: xn.write_frame(c.reader, c.table, "rows"), "df"),
    bad("write-df-None", lambda c: xn.write_frame(c.reader, c.table, None), "df"),
    bad("write-progress-str", lambda c: xn.write_frame(c.reader, c.table, frame(), progress="x"),
        "progress"),
    bad("write-key-schema-int", lambda c: xn.write_frame(c.reader, c.table, frame(), key_schema=5),
        "key_schema"),
    bad("write-missing-key-column", lambda c: xn.write_frame(
        c.reader, c.table, pd.DataFrame({"customer_id": ["C-9"]})), "order_ts"),
    # -- verify_access -----------------------------------------------------------------
    bad("verify-include-writes-str", lambda c: xn.verify_access(c.reader, c.table,
                                                                include_writes="yes"),
        "include_writes"),
    bad("verify-key-int", lambda c: xn.verify_access(c.reader, c.table, key=5), "key"),
    bad("verify-key-wrong-type", lambda c: xn.verify_access(
        c.reader, c.table, key={"customer_id": 5, "order_ts": "x"}), "key", "customer_id"),
    bad("verify-table-int", lambda c: xn.verify_access(c.reader, 5), "table"),
    # -- explorer ----------------------------------------------------------------------
    bad("explorer-tables-int", lambda c: xn.explorer(c.reader, tables=5), "tables"),
    bad("explorer-tables-list-of-int", lambda c: xn.explorer(c.reader, tables=[5]), "tables"),
    bad("Explorer-session-None", lambda c: xn.Explorer(None), "session"),
    bad("Explorer-tables-int", lambda c: xn.Explorer(c.reader, tables=5), "tables"),
    bad("Explorer-progress-str", lambda c: xn.Explorer(c.reader, progress="yes"), "progress"),
    # -- export ------------------------------------------------------------------------
    bad("export-path-int", lambda c: xn.export(c.reader, c.table, 5), "path"),
    bad("export-format", lambda c: xn.export(c.reader, c.table, "out.xml"), "format"),
    bad("export-format-int", lambda c: xn.export(c.reader, c.table, "out.csv", format=5), "format"),
    bad("export-chunksize-0", lambda c: xn.export(c.reader, c.table, "out.csv", chunksize=0),
        "chunksize"),
    bad("export-progress-str", lambda c: xn.export(c.reader, c.table, "out.csv", progress="x"),
        "progress"),
    bad("export-sort-without-partition", lambda c: xn.export(c.reader, c.table, "out.csv",
                                                             sort=(">=", "2026")), "partition"),
    bad("export-partition-int-for-S", lambda c: xn.export(c.reader, c.table, "out.csv",
                                                          partition=5), "partition", "customer_id"),
    # -- snapshots ---------------------------------------------------------------------
    bad("export-snapshot-bucket-int", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, 5),
        "bucket"),
    bad("export-snapshot-owner", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, "b",
                                                              bucket_owner="me"), "bucket_owner"),
    bad("export-snapshot-timeout", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, "b",
                                                                timeout=-1), "timeout"),
    bad("export-snapshot-wait-str", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, "b",
                                                                 wait="yes"), "wait"),
    bad("export-snapshot-prefix-int", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, "b",
                                                                   prefix=5), "prefix"),
    bad("export-snapshot-time-str", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, "b",
                                                                 export_time="yesterday"),
        "export_time"),
    bad("export-snapshot-token-int", lambda c: xn.export_snapshot(c.reader, TABLE_ARN, "b",
                                                                  client_token=5), "client_token"),
    bad("describe-snapshot-arn", lambda c: xn.describe_snapshot(c.reader, "arn:nope"), "export"),
    bad("read-snapshot-int", lambda c: xn.read_snapshot(c.reader, 5), "snapshot"),
    bad("read-snapshot-http-url", lambda c: xn.read_snapshot(c.reader, "http://x/y"), "snapshot"),
    bad("read-snapshot-numbers", lambda c: xn.read_snapshot(c.reader, "s3://b/p/", numbers="x"),
        "numbers"),
    bad("read-snapshot-chunksize", lambda c: xn.read_snapshot(c.reader, "s3://b/p/", chunksize=0),
        "chunksize"),
    bad("read-snapshot-flatten", lambda c: xn.read_snapshot(c.reader, "s3://b/p/", flatten="x"),
        "flatten"),
    # -- assume_role / whoami / connect --------------------------------------------------
    bad("assume-role-arn-int", lambda c: xn.assume_role(5), "role_arn"),
    bad("assume-role-arn-malformed", lambda c: xn.assume_role("arn:aws:iam::1:role/x"), "role_arn"),
    bad("assume-external-id-int", lambda c: xn.assume_role(ROLE_ARN, external_id=5), "external_id"),
    bad("assume-external-id-short", lambda c: xn.assume_role(ROLE_ARN, external_id="a"),
        "external_id"),
    bad("assume-session-name-space", lambda c: xn.assume_role(ROLE_ARN, session_name="a b"),
        "session_name"),
    bad("assume-session-name-int", lambda c: xn.assume_role(ROLE_ARN, session_name=5),
        "session_name"),
    bad("assume-duration-short", lambda c: xn.assume_role(ROLE_ARN, duration_seconds=100),
        "duration_seconds"),
    bad("assume-duration-str", lambda c: xn.assume_role(ROLE_ARN, duration_seconds="3600"),
        "duration_seconds"),
    bad("assume-duration-True", lambda c: xn.assume_role(ROLE_ARN, duration_seconds=True),
        "duration_seconds"),
    bad("assume-mfa-serial-int", lambda c: xn.assume_role(ROLE_ARN, mfa_serial=5), "mfa_serial"),
    bad("assume-mfa-serial-malformed", lambda c: xn.assume_role(ROLE_ARN, mfa_serial="my phone"),
        "mfa_serial"),
    bad("assume-mfa-token-alone", lambda c: xn.assume_role(ROLE_ARN, mfa_token="123456"),
        "mfa_token"),
    bad("assume-mfa-token-int", lambda c: xn.assume_role(
        ROLE_ARN, mfa_serial="arn:aws:iam::111111111111:mfa/analyst", mfa_token=12.5), "mfa_token"),
    bad("assume-region-int", lambda c: xn.assume_role(ROLE_ARN, region_name=5), "region_name"),
    bad("assume-source-identity-short", lambda c: xn.assume_role(ROLE_ARN, source_identity="a"),
        "source_identity"),
    bad("assume-source-identity-int", lambda c: xn.assume_role(ROLE_ARN, source_identity=5),
        "source_identity"),
    bad("assume-tags-int-value", lambda c: xn.assume_role(ROLE_ARN, tags={"a": 1}), "tags"),
    bad("assume-tags-str", lambda c: xn.assume_role(ROLE_ARN, tags="team=a"), "tags"),
    bad("assume-tags-int-key", lambda c: xn.assume_role(ROLE_ARN, tags={1: "a"}), "tags"),
    bad("assume-tags-too-many", lambda c: xn.assume_role(
        ROLE_ARN, tags={f"k{i}": "v" for i in range(51)}), "tags", "50"),
    bad("assume-tags-long-key", lambda c: xn.assume_role(ROLE_ARN, tags={"k" * 129: "v"}), "tags"),
    bad("assume-tags-long-value", lambda c: xn.assume_role(ROLE_ARN, tags={"k": "v" * 257}),
        "tags"),
    bad("assume-mfa-duration", lambda c: xn.assume_role(ROLE_ARN, mfa_duration_seconds=5),
        "mfa_duration_seconds"),
    bad("assume-mfa-duration-str", lambda c: xn.assume_role(ROLE_ARN, mfa_duration_seconds="1h"),
        "mfa_duration_seconds"),
    bad("connect-role-arn-int", lambda c: xn.connect(role_arn=5), "role_arn"),
    bad("connect-table-int", lambda c: xn.connect(role_arn=ROLE_ARN, table=5), "table"),
    bad("connect-region-int", lambda c: xn.connect(region=5), "region"),
    bad("connect-profile-int", lambda c: xn.connect(profile=5), "profile"),
    bad("connect-external-id-int", lambda c: xn.connect(external_id=5), "external_id"),
    bad("connect-quiet-str", lambda c: xn.connect(quiet="yes"), "quiet"),
    # -- dask --------------------------------------------------------------------------
    bad("dask-scan-segments-0", lambda c: xd.read_scan(c.reader, c.table, segments=0), "segments"),
    bad("dask-scan-sample-0", lambda c: xd.read_scan(c.reader, c.table, segments=2, sample=0),
        "sample"),
    bad("dask-scan-numbers", lambda c: xd.read_scan(c.reader, c.table, segments=2, numbers="x"),
        "numbers"),
    bad("dask-scan-consistent-str", lambda c: xd.read_scan(c.reader, c.table, segments=2,
                                                           consistent="yes"), "consistent"),
    bad("dask-query-partition-int", lambda c: xd.read_query(c.reader, c.table, 123),
        "partition", "customer_id"),
    bad("dask-query-ascending-str", lambda c: xd.read_query(c.reader, c.table, "C-0001",
                                                            ascending="yes"), "ascending"),
    bad("dask-snapshot-int", lambda c: xd.read_snapshot(c.reader, 5), "snapshot"),
    # -- policies ----------------------------------------------------------------------
    bad("policies-table-arn-name-int", lambda c: pol.table_arn("us-east-1", "222222222222", 5),
        "table"),
    bad("policies-table-arn-account", lambda c: pol.table_arn("us-east-1", "12", "Orders"),
        "account"),
    bad("policies-table-arn-region-int", lambda c: pol.table_arn(5, "222222222222", "Orders"),
        "region"),
    bad("policies-index-arn-int", lambda c: pol.index_arn(5), "table_arn"),
    bad("policies-index-arn-index-int", lambda c: pol.index_arn(TABLE_ARN, 5), "index"),
    bad("policies-read-only-int", lambda c: pol.read_only_policy(5), "tables"),
    bad("policies-read-only-not-arn", lambda c: pol.read_only_policy("Orders"), "table ARN"),
    bad("policies-read-write-None", lambda c: pol.read_write_policy(None), "tables"),
    bad("policies-leading-keys-int", lambda c: pol.leading_keys_write_policy(TABLE_ARN, 5),
        "partition_keys"),
    bad("policies-assume-role-int", lambda c: pol.assume_role_policy(5), "role_arns"),
    bad("policies-attribute-limited-int", lambda c: pol.attribute_limited_read_policy(TABLE_ARN, 5),
        "attributes"),
    bad("policies-trust-int", lambda c: pol.trust_policy(5), "trusted"),
    bad("policies-trust-mfa-str", lambda c: pol.trust_policy("111111111111", require_mfa="yes"),
        "require_mfa"),
    bad("policies-trust-external-id-int", lambda c: pol.trust_policy("111111111111", external_id=5),
        "external_id"),
    bad("policies-principals-int", lambda c: pol.principal_arns([5]), "trusted"),
    bad("policies-bucket-arn-int", lambda c: pol.bucket_arn(5), "bucket"),
    bad("policies-export-bucket-int", lambda c: pol.export_policy(TABLE_ARN, 5), "bucket"),
    bad("policies-export-bucket-writers", lambda c: pol.export_bucket_policy("b", 5), "writers"),
    bad("policies-export-reader-int", lambda c: pol.export_reader_policy(5), "bucket"),
    bad("policies-resource-policy-int", lambda c: pol.table_resource_policy(TABLE_ARN, 5),
        "principals"),
    bad("policies-as-resource-int", lambda c: pol.as_resource_policy(5, "111111111111"),
        "identity_policy"),
    bad("policies-as-resource-principals", lambda c: pol.as_resource_policy(
        pol.read_only_policy(TABLE_ARN), None), "principals"),
    bad("policies-export-prefix-star", lambda c: pol.export_policy(TABLE_ARN, "bucket", prefix="a*"),
        "prefix"),
    bad("policies-simulate-context-str", lambda c: pol.simulate(
        pol.read_only_policy(TABLE_ARN), "dynamodb:Query", TABLE_ARN, context="x"), "context"),
    bad("policies-simulate-action-int", lambda c: pol.simulate(pol.read_only_policy(TABLE_ARN), 5,
                                                               TABLE_ARN), "action"),
    bad("policies-simulate-policies-int", lambda c: pol.simulate(5, "dynamodb:Query", TABLE_ARN),
        "policies"),
    bad("policies-normalize-int", lambda c: pol.normalize_policy(5), "document"),
    bad("policies-normalize-bad-json", lambda c: pol.normalize_policy("{not json"), "document"),
    bad("policies-setup-plan-account", lambda c: pol.setup_plan(
        owner_account="x", requester_account="111111111111", table="Orders", region="us-east-1"),
        "owner_account"),
    bad("policies-setup-plan-access", lambda c: pol.setup_plan(
        owner_account="222222222222", requester_account="111111111111", table="Orders",
        region="us-east-1",
        access="all"), "access"),
    bad("policies-setup-plan-duration", lambda c: pol.setup_plan(
        owner_account="222222222222", requester_account="111111111111", table="Orders",
        region="us-east-1",
        max_session_duration="1h"), "max_session_duration"),
    bad("policies-setup-plan-mfa-str", lambda c: pol.setup_plan(
        owner_account="222222222222", requester_account="111111111111", table="Orders",
        region="us-east-1",
        require_mfa="yes"), "require_mfa"),
    bad("policies-apply-owner-None", lambda c: plan().apply(None, c.reader), "owner_admin_session"),
    bad("policies-apply-requester-str", lambda c: plan().apply(c.reader, "admin"),
        "requester_admin_session"),
    bad("policies-apply-dry-run-str", lambda c: plan().apply(c.reader, c.reader, dry_run="yes"),
        "dry_run"),
    # -- sandbox.start -----------------------------------------------------------------
    bad("sandbox-port-negative", lambda c: xn.sandbox.start(port=-1), "port"),
    bad("sandbox-port-str", lambda c: xn.sandbox.start(port="8000"), "port"),
    bad("sandbox-timeout-0", lambda c: xn.sandbox.start(timeout=0), "timeout"),
    bad("sandbox-host-int", lambda c: xn.sandbox.start(host=5), "host"),
    bad("sandbox-host-remote", lambda c: xn.sandbox.start(host="0.0.0.0"), "allow_remote"),
    # -- a down endpoint ---------------------------------------------------------------
    down("down-read-query", lambda c: xn.read_query(c.down, "Orders", "C-1")),
    down("down-read-scan", lambda c: xn.read_scan(c.down, "Orders")),
    down("down-read-items", lambda c: xn.read_items(c.down, "Orders", [("C-1", "x")])),
    down("down-write-frame", lambda c: xn.write_frame(c.down, "Orders", frame())),
    down("down-verify-access", lambda c: xn.verify_access(c.down, "Orders")),
    down("down-whoami", lambda c: xn.whoami(c.down)),
    down("down-assume-role", lambda c: xn.assume_role(ROLE_ARN, source_session=c.down)),
    down("down-export", lambda c: xn.export(c.down, "Orders", "out.csv")),
    down("down-export-snapshot", lambda c: xn.export_snapshot(c.down, "Orders", "bucket")),
    down("down-describe-snapshot", lambda c: xn.describe_snapshot(c.down, EXPORT_ARN)),
    down("down-read-snapshot", lambda c: xn.read_snapshot(c.down, "s3://bucket/prefix/")),
    down("down-dask-read-scan", lambda c: xd.read_scan(c.down, "Orders", segments=2)),
    down("down-dask-read-query", lambda c: xd.read_query(c.down, "Orders", "C-1")),
    down("down-setup-plan-apply", lambda c: plan().apply(c.down, c.down, dry_run=True)),
    down("down-connect", lambda c: c.down and xn.connect(role_arn=ROLE_ARN, region="us-east-1",
                                                         quiet=True)),
]

# -- max_rcu: checked before anything is sent (a down endpoint would say otherwise) -----------
CASES += [
    bad("max-rcu-query-bool", lambda c: xn.read_query(c.down, "Orders", "C-1", max_rcu=True),
        "max_rcu", '"off"'),
    bad("max-rcu-scan-0", lambda c: xn.read_scan(c.down, "Orders", max_rcu=0), "max_rcu", '"off"'),
    bad("max-rcu-scan-0-percent", lambda c: xn.read_scan(c.down, "Orders", max_rcu="0%"),
        "max_rcu", "0 < N <= 100"),
    bad("max-rcu-items-str", lambda c: xn.read_items(c.down, "Orders", [("C-1", "x")],
                                                     max_rcu="fast"), "max_rcu", "'fast'"),
    bad("max-rcu-partiql-negative", lambda c: xn.read_partiql(
        c.down, 'SELECT * FROM "Orders"', max_rcu=-1), "max_rcu", "-1"),
    bad("max-rcu-export-list", lambda c: xn.export(c.down, "Orders", "out.csv", max_rcu=[5]),
        "max_rcu", "list"),
    bad("max-rcu-dask-scan-bool", lambda c: xd.read_scan(c.down, "Orders", segments=2,
                                                          max_rcu=False), "max_rcu"),
    bad("max-rcu-dask-query-percent", lambda c: xd.read_query(c.down, "Orders", "C-1",
                                                               max_rcu="200%"), "max_rcu"),
    bad("max-rcu-share-of-on-demand", lambda c: xn.read_scan(c.reader, c.table, max_rcu="10%"),
        "on-demand", "max_rcu=50"),
]


@pytest.mark.parametrize("call", [
    lambda s: xn.read_query(s, "Orders", "C-1", key_schema="pk"),
    lambda s: xn.read_scan(s, "Orders", key_schema="pk", segments=2),
    lambda s: xn.read_items(s, "Orders", ["C-1"], key_schema="pk"),
    lambda s: xn.write_frame(s, "Orders", frame(), key_schema=("customer_id", "order_ts")),
], ids=["read_query", "read_scan", "read_items", "write_frame"])
def test_a_down_endpoint_past_describe_table_is_named(
    call: Callable[[boto3.Session], Any], request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``key_schema=`` the first request is the read itself: the engine's resumes end in an error."""
    from xacct_nb import _engine

    monkeypatch.setattr(_engine, "RESUME", _engine.RetryPolicy(retries=1, base=0.01, cap=0.01))
    monkeypatch.setattr(_engine, "UNPROCESSED", _engine.RetryPolicy(retries=1, base=0.01, cap=0.01))
    ctx = Ctx(request, monkeypatch)
    with pytest.raises(xn.XacctError) as info:
        call(ctx.down)
    assert ctx.down_url in str(info.value), str(info.value)


def test_a_down_endpoint_in_the_explorer_is_a_message_with_a_hint(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = Ctx(request, monkeypatch)
    logic = xn.explorer(ctx.down, tables=["Orders"]).logic
    assert ctx.down_url in logic.error and "AWS_ENDPOINT_URL" in logic.error
    assert "Unexpected" not in logic.error


def test_the_walk_is_wide() -> None:
    """At least 80 cases, and one at least for every public function and builder."""
    assert len(CASES) >= 80
    assert len({case.id for case in CASES}) == len(CASES)
    source = Path(__file__).read_text()
    for name in xn.__all__:
        obj = getattr(xn, name)
        if callable(obj) and not (isinstance(obj, type) and issubclass(obj, BaseException)):
            if name in ("AccessReport", "WriteReport", "ExportReport", "Snapshot", "Connection",
                        "TableInfo"):
                continue  # results, not entry points
            assert f"xn.{name}(" in source or f'"{name}"' in source, f"no case for xn.{name}"
    for name in pol.__all__:
        if inspect.isfunction(getattr(pol, name)):
            assert f"pol.{name}(" in source, f"no case for xn.policies.{name}"
    for name in ("read_scan", "read_query", "read_snapshot"):
        assert f"xd.{name}(" in source
    assert "xn.sandbox.start(" in source


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_raises_an_xacct_error_naming_it(
    case: Case, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # exports write (or would write) here
    ctx = Ctx(request, monkeypatch)
    with pytest.raises(xn.XacctError) as info:
        result = case.call(ctx)
        # A lazy result (an iterator, a Dask frame) must fail when consumed, not later.
        if hasattr(result, "__next__"):
            next(result)
    assert isinstance(info.value, case.error), f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    names = tuple(ctx.down_url if n == "127.0.0.1" and ctx.down_url else n for n in case.names)
    for name in names:
        assert name in message, f"{name!r} not in: {message}"
    assert not list(tmp_path.iterdir()), "a failed call left a file behind"


# -- an endpoint that answers, but not with AWS's format -----------------------------------


class _Garbage(http.server.BaseHTTPRequestHandler):
    """Answers every request with 200 and a body that is not AWS's JSON or XML."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html>a captive portal, not AWS</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: Any) -> None:
        """Stay quiet."""


@pytest.fixture(scope="module")
def garbage_url() -> Iterator[str]:
    """A local HTTP server that answers 200 with HTML to everything."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


GARBAGE_CALLS: dict[str, Callable[[boto3.Session], Any]] = {
    "read_query": lambda s: xn.read_query(s, "Orders", "C-1"),
    "read_scan": lambda s: xn.read_scan(s, "Orders"),
    "read_items": lambda s: xn.read_items(s, "Orders", [("C-1", "x")]),
    "write_frame": lambda s: xn.write_frame(s, "Orders", frame()),
    "whoami": lambda s: xn.whoami(s),
    "assume_role": lambda s: xn.assume_role(ROLE_ARN, source_session=s),
    "describe_snapshot": lambda s: xn.describe_snapshot(s, EXPORT_ARN),
}


@pytest.mark.parametrize("name", list(GARBAGE_CALLS))
def test_an_answer_that_is_not_aws_is_an_xacct_error(
    name: str, garbage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", garbage_url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    with pytest.raises(xn.XacctError) as info:
        GARBAGE_CALLS[name](boto3.Session(region_name="us-east-1"))
    assert "127.0.0.1" in str(info.value) or "answer" in str(info.value), str(info.value)


# -- the guard: every foreign exception has its place in the tree ---------------------------


def _foreign() -> list[tuple[BaseException, type[xn.XacctError], str]]:
    import json

    import urllib3.exceptions as ux
    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    url = "http://127.0.0.1:9/"
    return [
        (bx.EndpointConnectionError(endpoint_url=url), xn.EndpointError, url),
        (bx.ConnectTimeoutError(endpoint_url=url), xn.EndpointError, url),
        (bx.ReadTimeoutError(endpoint_url=url), xn.EndpointError, url),
        (bx.ConnectionClosedError(endpoint_url=url), xn.EndpointError, url),
        (ResponseParserError("garbage"), xn.EndpointError, "AWS_ENDPOINT_URL"),
        (ux.ProtocolError("Connection aborted."), xn.EndpointError, "AWS_ENDPOINT_URL"),
        (json.JSONDecodeError("Expecting value", "<html>", 0), xn.EndpointError, "JSON"),
        (bx.NoCredentialsError(), xn.ConfigurationError, "AWS_PROFILE"),
        (bx.NoRegionError(), xn.ConfigurationError, "AWS_DEFAULT_REGION"),
        (bx.ParamValidationError(report="Invalid type for parameter Limit"),
         xn.InvalidArgumentError, "Limit"),
        (bx.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "Query"),
         xn.AccessDeniedError, "AccessDeniedException"),
        (bx.UnknownServiceError(service_name="x", known_service_names="y"), xn.AwsError, "x"),
    ]


@pytest.mark.parametrize("exc, expected, named", _foreign(),
                         ids=[type(e).__name__ for e, _, _ in _foreign()])
def test_the_guard_translates_foreign_exceptions(
    exc: BaseException, expected: type[xn.XacctError], named: str
) -> None:
    from xacct_nb._validate import public

    @public
    def read_something() -> None:
        raise exc

    @public
    def stream_something() -> Iterator[int]:
        def items() -> Iterator[int]:
            yield 1
            raise exc

        return items()

    with pytest.raises(expected) as info:
        read_something()
    assert named in str(info.value) and "xn.read_something" in str(info.value)
    assert info.value.original is exc  # type: ignore[attr-defined]
    chunks = stream_something()
    assert next(chunks) == 1
    with pytest.raises(expected):
        next(chunks)


def test_the_guard_lets_other_errors_through() -> None:
    from xacct_nb._validate import public

    @public
    def buggy() -> None:
        raise ZeroDivisionError  # a bug of ours stays a bug, with its traceback

    with pytest.raises(ZeroDivisionError):
        buggy()


# -- segments="auto" (the only string segments= takes) ------------------------------------

SEGMENT_CASES = [
    bad("scan-segments-fast", lambda c: xn.read_scan(c.reader, c.table, segments="fast"),
        "segments", "auto"),
    bad("scan-segments-AUTO", lambda c: xn.read_scan(c.reader, c.table, segments="AUTO"),
        "segments", "auto"),
    bad("scan-segments-float", lambda c: xn.read_scan(c.reader, c.table, segments=2.0),
        "segments"),
    bad("scan-segments-None", lambda c: xn.read_scan(c.reader, c.table, segments=None),
        "segments"),
    bad("dask-scan-segments-fast", lambda c: xd.read_scan(c.reader, c.table, segments="fast"),
        "segments", "auto"),
]


@pytest.mark.parametrize("case", SEGMENT_CASES, ids=[case.id for case in SEGMENT_CASES])
def test_bad_segments_raise_an_xacct_error_naming_them(
    case: Case, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    test_bad_input_raises_an_xacct_error_naming_it(case, request, monkeypatch, tmp_path)
