"""Snapshot exports: ExportTableToPointInTime into account A's bucket, read back exactly.

This module starts a sandbox of its own: it attaches policies to the reader
role and the analyst, and creates buckets, which the shared sandbox's other
users must not see.
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator

import pandas as pd
import pytest

import xacct_nb as xn
from xacct_nb import policies
from xacct_nb._snapshot import (
    ExportTimeoutError,
    Snapshot,
    export_snapshot,
    read_snapshot,
    snapshot_files,
)

pytestmark = pytest.mark.sandbox
KEY = ["customer_id", "order_ts"]
BUCKET = "xacct-exports-111111111111"
OTHER_BUCKET = "xacct-no-policy-111111111111"
PREFIX = "exports/orders"
TABLE = "arn:aws:dynamodb:us-east-1:222222222222:table/MyCrossAccountTable"
ROLE = "arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA"


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def sb() -> Iterator[xn.sandbox.Sandbox]:
    with xn.sandbox.start() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def role(sb):
    return xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                          source_session=sb.analyst_session())


@pytest.fixture(scope="module")
def granted(sb, role):
    """Both accounts set up as the docs say: bucket + bucket policy and analyst's read policy
    in A; point-in-time recovery and the role's export policy in B."""
    admin_a, admin_b = sb.admin_session("A"), sb.admin_session("B")
    s3 = admin_a.client("s3")
    for bucket in (BUCKET, OTHER_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(
        policies.export_bucket_policy(BUCKET, sb.reader_role_arn, prefix=PREFIX)))
    # Before the owner's side is done: the role may not export, and PITR is off.
    with pytest.raises(xn.AccessDeniedError, match="export_policy"):
        export_snapshot(role, sb.table, BUCKET, prefix=PREFIX, bucket_owner=sb.account_a)
    admin_b.client("iam").put_role_policy(
        RoleName=sb.reader_role_arn.rsplit("/", 1)[-1], PolicyName="ExportForAccountA",
        PolicyDocument=json.dumps(policies.export_policy(sb.table_arn, BUCKET, prefix=PREFIX)))
    with pytest.raises(xn.AwsError, match="point-in-time recovery is not enabled") as err:
        export_snapshot(role, sb.table, BUCKET, prefix=PREFIX, bucket_owner=sb.account_a)
    assert err.value.code == "PointInTimeRecoveryUnavailableException"
    admin_b.client("dynamodb").update_continuous_backups(
        TableName=sb.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    admin_a.client("iam").put_user_policy(
        UserName="analyst", PolicyName="ReadTableExports",
        PolicyDocument=json.dumps(policies.export_reader_policy(BUCKET, prefix=PREFIX)))
    return sb


@pytest.fixture(scope="module")
def snap(granted, role) -> Snapshot:
    return export_snapshot(role, granted.table, BUCKET, prefix=PREFIX,
                           bucket_owner=granted.account_a)


@pytest.fixture(scope="module")
def full(granted, role) -> pd.DataFrame:
    return xn.read_scan(role, granted.table)


# -- the round trip ------------------------------------------------------------------------


def test_export_is_laid_out_as_dynamodb_does(snap, granted):
    assert snap.status == "COMPLETED"
    assert snap.item_count == granted.item_count
    assert snap.bucket_owner == granted.account_a
    assert snap.export_arn.startswith(f"{granted.table_arn}/export/")
    assert snap.manifest == f"{PREFIX}/AWSDynamoDB/{snap.export_id}/manifest-summary.json"
    assert snap.url == f"s3://{BUCKET}/{PREFIX}/AWSDynamoDB/{snap.export_id}/"
    summary, files = snapshot_files(granted.analyst_session(), snap)
    assert summary["exportArn"] == snap.export_arn and summary["itemCount"] == granted.item_count
    assert len(files) == 3 and sum(f.item_count for f in files) == granted.item_count
    assert all(f.key.startswith(f"{PREFIX}/AWSDynamoDB/{snap.export_id}/data/")
               and f.key.endswith(".json.gz") for f in files)
    raw = granted.admin_session("A").client("s3").get_object(Bucket=BUCKET, Key=files[0].key)
    first = gzip.decompress(raw["Body"].read()).splitlines()[0]
    assert json.loads(first).keys() == {"Item"}


def test_round_trip_equals_read_scan_exactly(snap, granted, full):
    df = read_snapshot(granted.analyst_session(), snap)  # account A reads its own bucket
    assert df.attrs["files"] == 3 and df.attrs["consumed_capacity"] == 0.0
    assert list(df.columns) == list(full.columns)
    pd.testing.assert_frame_equal(_sorted(df), _sorted(full))


def test_chunks_columns_and_urls(snap, granted, full):
    analyst = granted.analyst_session()
    chunks = list(read_snapshot(analyst, snap, chunksize=1200, columns=["customer_id", "total"]))
    assert [len(c) for c in chunks] == [1200, 1200, 600]
    assert all(list(c.columns) == ["customer_id", "total"] for c in chunks)
    by_folder = read_snapshot(analyst, snap.url, key_names=KEY)
    latest = read_snapshot(analyst, f"s3://{BUCKET}/{PREFIX}/", key_names=KEY)
    for df in (by_folder, latest):
        pd.testing.assert_frame_equal(_sorted(df), _sorted(full))


def test_dask_round_trip_one_partition_per_file(snap, granted, full):
    xd = pytest.importorskip("xacct_nb.dask")
    pytest.importorskip("dask.dataframe")
    ddf = xd.read_snapshot(granted.analyst_session(), snap)
    assert ddf.npartitions == 3
    assert ddf.dtypes.to_dict() == full.dtypes.to_dict()
    pd.testing.assert_frame_equal(_sorted(ddf.compute(scheduler="threads")), _sorted(full))


def test_snapshot_on_a_local_cluster(snap, granted, full):
    distributed = pytest.importorskip("distributed")
    xd = pytest.importorskip("xacct_nb.dask")
    ddf = xd.read_snapshot(granted.analyst_session(), snap)
    # The workers start with this test's environment: no AWS_* but empty config files.
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")
    with cluster, distributed.Client(cluster) as client:
        pd.testing.assert_frame_equal(_sorted(client.compute(ddf).result()), _sorted(full))


# -- what each side must allow -------------------------------------------------------------


def test_reading_needs_the_readers_own_permission(snap, granted):
    with pytest.raises(xn.AccessDeniedError, match="export_reader_policy") as err:
        read_snapshot(granted.outsider_session(), snap)
    assert "s3:GetObject" in str(err.value)


def test_a_bucket_without_the_bucket_policy_fails_the_export(granted, role):
    # The role's own policy allows PREFIX in BUCKET only: and OTHER_BUCKET has no policy at all.
    with pytest.raises(xn.AccessDeniedError, match="S3AccessDenied") as err:
        export_snapshot(role, granted.table, OTHER_BUCKET, prefix=PREFIX,
                        bucket_owner=granted.account_a)
    assert err.value.snapshot.status == "FAILED"
    assert "export_bucket_policy" in str(err.value)
    with pytest.raises(xn.AccessDeniedError, match="S3AccessDenied"):
        export_snapshot(role, granted.table, BUCKET, prefix="elsewhere",
                        bucket_owner=granted.account_a)


def test_wrong_bucket_owner_and_missing_bucket(granted, role):
    with pytest.raises(xn.AccessDeniedError, match="S3AccessDenied"):
        export_snapshot(role, granted.table, BUCKET, prefix=PREFIX,
                        bucket_owner=granted.account_b)
    with pytest.raises(xn.AwsError, match="S3NoSuchBucket") as err:
        export_snapshot(role, granted.table, "no-such-bucket-anywhere", prefix=PREFIX)
    assert err.value.code == "S3NoSuchBucket"


def test_wait_polls_until_done_and_times_out(granted, role, monkeypatch):
    started = export_snapshot(role, granted.table, BUCKET, prefix=PREFIX, wait=False)
    assert started.status in ("IN_PROGRESS", "COMPLETED")
    assert started.wait(progress=False).status == "COMPLETED"
    stuck = Snapshot(started.export_arn, "IN_PROGRESS", started.table_arn, BUCKET,
                     session=role)
    monkeypatch.setattr(Snapshot, "refresh", lambda self: self)
    t0 = time.monotonic()
    with pytest.raises(ExportTimeoutError, match="still IN_PROGRESS") as err:
        stuck.wait(timeout=0.5, progress=False)
    assert err.value.snapshot is stuck and time.monotonic() - t0 < 5


def test_a_tampered_export_is_never_read_partially(granted, role):
    other = export_snapshot(role, granted.table, BUCKET, prefix=PREFIX)
    analyst = granted.analyst_session()
    _, files = snapshot_files(analyst, other)
    line = b'{"Item":{"customer_id":{"S":"C-0001"},"order_ts":{"S":"x"}}}\n'
    granted.admin_session("A").client("s3").put_object(
        Bucket=BUCKET, Key=files[0].key, Body=gzip.compress(line))
    with pytest.raises(xn.IncompleteReadError, match="announces 3000 items"):
        read_snapshot(analyst, other)


def test_bad_arguments(role, granted):
    with pytest.raises(xn.InvalidArgumentError, match="bucket_owner"):
        export_snapshot(role, granted.table, BUCKET, bucket_owner="A")
    with pytest.raises(xn.InvalidArgumentError, match="not an export location"):
        read_snapshot(granted.analyst_session(), "https://example.com/x")
    pending = Snapshot(f"{granted.table_arn}/export/1-a", "IN_PROGRESS", granted.table_arn, BUCKET)
    with pytest.raises(xn.InvalidArgumentError, match="wait"):
        read_snapshot(granted.analyst_session(), pending)


# -- the generated documents ---------------------------------------------------------------


def _documents() -> dict[str, dict]:
    return {
        "export": policies.export_policy(TABLE, BUCKET, prefix=PREFIX),
        "export_whole_bucket": policies.export_policy([TABLE], BUCKET),
        "bucket": policies.export_bucket_policy(BUCKET, ROLE, prefix=PREFIX),
        "bucket_accounts": policies.export_bucket_policy(BUCKET, ["222222222222", ROLE]),
        "reader": policies.export_reader_policy(BUCKET, prefix=PREFIX),
        "reader_whole_bucket": policies.export_reader_policy(BUCKET),
    }


@pytest.mark.parametrize("name", sorted(_documents()))
def test_export_documents_pass_parliament(name):
    parliament = pytest.importorskip("parliament")
    doc = _documents()[name]
    assert json.loads(json.dumps(doc)) == doc
    found = parliament.analyze_policy_string(json.dumps(doc), include_community_auditors=True)
    findings = {(f.issue, str(f.detail)) for f in found.findings}
    # s3:PutObjectAcl counts as "permissions management" for parliament's community
    # auditor; AWS documents it among what an export needs (with S3BucketOwner it sets
    # the objects' ACL), so the export's write statements carry it on purpose.
    writes = any("s3:PutObjectAcl" in s.get("Action", []) for s in doc["Statement"])
    if writes:
        findings.discard(("PERMISSIONS_MANAGEMENT_ACTIONS", ""))
    assert findings == set()


def test_export_documents_are_decided_as_intended():
    export = policies.export_policy(TABLE, BUCKET, prefix=PREFIX)
    session = "arn:aws:sts::222222222222:assumed-role/DynamoDBReaderRoleForAccountA/me"
    assert policies.simulate(export, "dynamodb:ExportTableToPointInTime", TABLE).allowed
    other = TABLE.replace("MyCrossAccountTable", "PrivateLedgerTable")
    assert not policies.simulate(export, "dynamodb:ExportTableToPointInTime", other).allowed
    assert policies.simulate(export, "dynamodb:DescribeExport", f"{TABLE}/export/0179-ab").allowed
    assert not policies.simulate(export, "dynamodb:Scan", TABLE).allowed
    data = f"arn:aws:s3:::{BUCKET}/{PREFIX}/AWSDynamoDB/0179-ab/data/x.json.gz"
    bucket_policy = policies.export_bucket_policy(BUCKET, ROLE, prefix=PREFIX)
    # across accounts: the role's policy and the bucket's policy must both allow
    assert policies.simulate(export, "s3:PutObject", data, principal=session,
                             resource_policy=bucket_policy).allowed
    alone = policies.simulate(export, "s3:PutObject", data, principal=session,
                              resource_policy={"Version": "2012-10-17", "Statement": []})
    assert alone.decision == "ImplicitDeny" and "resource-based" in alone.reason
    outside = f"arn:aws:s3:::{BUCKET}/elsewhere/x"
    assert not policies.simulate(export, "s3:PutObject", outside, principal=session,
                                 resource_policy=bucket_policy).allowed
    mallory = "arn:aws:sts::333333333333:assumed-role/Other/me"
    assert not policies.simulate(export, "s3:PutObject", data, principal=mallory,
                                 resource_policy=bucket_policy).allowed
    reader = policies.export_reader_policy(BUCKET, prefix=PREFIX)
    assert policies.simulate(reader, "s3:GetObject", data).allowed
    assert not policies.simulate(reader, "s3:PutObject", data).allowed
    listing = f"arn:aws:s3:::{BUCKET}"
    assert policies.simulate(reader, "s3:ListBucket", listing,
                             context={"s3:prefix": f"{PREFIX}/AWSDynamoDB/"}).allowed
    assert not policies.simulate(reader, "s3:ListBucket", listing,
                                 context={"s3:prefix": "private/"}).allowed


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: policies.export_policy("Orders", BUCKET), "is not a table ARN"),
        (lambda: policies.export_policy(TABLE, "Not_A_Bucket"), "is not an S3 bucket name"),
        (lambda: policies.export_policy(TABLE, BUCKET, prefix="a/*"), "must be a key prefix"),
        (lambda: policies.export_bucket_policy(BUCKET, "someone"), "neither an account id"),
        (lambda: policies.export_reader_policy("x"), "is not an S3 bucket name"),
    ],
)
def test_bad_input_to_export_documents(call, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        call()
