"""xacct_nb.dask: parallel reads as Dask DataFrames, on the sandbox and a LocalCluster."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from versions import STR_NAME, strings

import xacct_nb as xn

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
xd = pytest.importorskip("xacct_nb.dask")

pytestmark = pytest.mark.sandbox
KEY = ["customer_id", "order_ts"]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """Two worker processes, started once for the module.

    The workers inherit this process's environment when they start; the
    cluster is started with every AWS_* variable removed (as the autouse
    fixture does for each test), so a worker can only reach the sandbox
    through what a RoleSpec tells it.
    """
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith(("AWS_", "XACCT_")):
                mp.delenv(name)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        # the dashboard on any free port: another run (make test-matrix runs two) may hold 8787
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        )
    with cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def full(reader, sandbox) -> pd.DataFrame:
    return xn.read_scan(reader, sandbox.table)


# -- the role description ------------------------------------------------------------------


def _secrets(*sessions) -> list[bytes]:
    out = []
    for session in sessions:
        frozen = session.get_credentials().get_frozen_credentials()
        out += [s.encode() for s in (frozen.access_key, frozen.secret_key, frozen.token) if s]
    return out


def test_role_spec_holds_no_credentials(reader, sandbox):
    spec = xd.RoleSpec.from_session(reader)
    assert spec.role_arn == sandbox.reader_role_arn
    assert spec.external_id == sandbox.external_id
    assert spec.source.profile == "xacct-sandbox"
    assert spec.source.config_file == str(sandbox.aws_config_file)
    data = pickle.dumps(spec)
    secrets = _secrets(reader, sandbox.analyst_session())
    assert len(secrets) == 5  # the role's key, secret and token; the analyst's key and secret
    assert not [s for s in secrets if s in data]
    assert pickle.loads(data) == spec
    assert "external" not in repr(spec) and "config" not in repr(spec)


def test_the_task_graph_holds_no_credentials(reader, sandbox):
    import cloudpickle

    ddf = xd.read_scan(reader, sandbox.table, segments=3)
    graph = cloudpickle.dumps(dict(ddf.__dask_graph__()))
    assert not [s for s in _secrets(reader, sandbox.analyst_session()) if s in graph]


def test_workers_assume_the_role_themselves(client, reader, sandbox):
    spec = xd.RoleSpec.from_session(reader)

    def who(spec):
        import os

        import xacct_nb as xn

        return os.getpid(), xn.whoami(spec.session())["Arn"]

    pid, arn = client.submit(who, spec, pure=False).result()
    assert pid != os.getpid()
    assert arn.startswith(f"arn:aws:sts::{sandbox.account_b}:assumed-role/DynamoDBReaderRoleForAccountA/")
    # Role chaining: the source is itself a role session (account A's requester role).
    requester = xn.assume_role(sandbox.requester_role_arn, source_session=sandbox.analyst_session())
    chained = xd.RoleSpec.from_session(
        xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                       source_session=requester))
    assert chained.source.role_arn == sandbox.requester_role_arn
    assert chained.source.source.profile == "xacct-sandbox"
    _, arn = client.submit(who, chained, pure=False).result()
    assert ":assumed-role/DynamoDBReaderRoleForAccountA/" in arn


def test_mfa_and_explicit_keys_are_refused_before_anything_is_scheduled(sandbox):
    mfa = xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                         source_session=sandbox.analyst_session(), mfa_serial=sandbox.mfa_serial,
                         mfa_token="123456")
    with pytest.raises(xn.ConfigurationError, match="opened with MFA"):
        xd.read_scan(mfa, sandbox.table, segments=2)
    import boto3

    keys = boto3.Session(aws_access_key_id="AKIAEXAMPLEEXAMPLE00", aws_secret_access_key="x" * 40,
                         region_name="us-east-1")
    with pytest.raises(xn.ConfigurationError, match="keys passed to boto3.Session"):
        xd.RoleSpec.from_session(keys)
    with pytest.raises(xn.InvalidArgumentError, match="not a role ARN"):
        xd.RoleSpec("Reader")


# -- metadata ------------------------------------------------------------------------------


def test_metadata_is_known_without_reading_anything():
    """meta= and key_schema=: the frame is built without a single request."""
    spec = xd.RoleSpec(region="us-east-1", profile="no-such-profile-anywhere")
    ddf = xd.read_scan(spec, "SomeTable", segments=5, key_schema=("pk", "sk"),
                       meta={"pk": "str", "sk": "str", "n": "Int64", "tags": object})
    assert ddf.npartitions == 5
    assert ddf.dtypes.astype(str).tolist() == [STR_NAME, STR_NAME, "Int64", "object"]


def test_sampled_metadata_equals_the_pandas_dtypes(reader, sandbox, full):
    ddf = xd.read_scan(reader, sandbox.table, segments=4)
    assert ddf.npartitions == 4
    assert list(ddf.columns) == list(full.columns)
    assert ddf.dtypes.to_dict() == full.dtypes.to_dict()
    assert str(ddf.dtypes["ledger_ref"]) == "object"  # integers beyond int64 stay exact
    assert str(ddf.dtypes["loyalty_points"]) == "Int64"


def test_conform_adds_casts_and_refuses_with_the_fix():
    meta = pd.DataFrame({
        "id": strings([]), "n": pd.Series([], dtype="int64"),
        "m": pd.Series([], dtype="Int64"), "f": pd.Series([], dtype="float64"),
        "b": pd.Series([], dtype="boolean"), "o": pd.Series([], dtype=object),
    })
    part = pd.DataFrame({
        "id": strings(["a", "b"]), "n": [1, 2], "m": [3, 4],
        "f": pd.array([5, None], dtype="Int64"), "b": [True, False],
        "o": strings(["x", None]),
    })
    out = xd.conform(part, meta)
    assert out.dtypes.to_dict() == meta.dtypes.to_dict()
    assert out["f"].tolist()[0] == 5.0 and np.isnan(out["f"].tolist()[1])
    assert out["o"].tolist() == ["x", None]
    only_id = xd.conform(pd.DataFrame({"id": strings(["c"]),
                                       "n": [7]}), meta)
    assert only_id["m"].isna().all() and only_id["o"].tolist() == [None]

    with pytest.raises(xd.MetadataMismatchError, match=r"dtypes=\{'n': 'Int64'\}") as err:
        xd.conform(pd.DataFrame({"id": strings(["c"])}), meta, where="segment 3")
    assert err.value.column == "n" and err.value.partition == "segment 3"
    with pytest.raises(xd.MetadataMismatchError, match=r"dtypes=\{'n': 'float64'\}"):
        xd.conform(pd.DataFrame({"n": [1.5]}), meta)
    with pytest.raises(xd.MetadataMismatchError, match=r"mixed types"):
        xd.conform(pd.DataFrame({"id": pd.Series(["a", 5], dtype=object), "n": [1, 2]}), meta)
    with pytest.raises(xd.MetadataMismatchError, match=r"attributes the frame's metadata does not: 'extra'"):
        xd.conform(pd.DataFrame({"n": [1], "extra": [2]}), meta)
    assert list(xd.conform(pd.DataFrame({"n": [1], "extra": [2]}), meta, drop_extra=True)) == list(meta)
    big = xd.conform(pd.DataFrame({"f": pd.Series([2**64, None], dtype=object), "n": [1, 2]}), meta)
    assert big["f"].tolist()[0] == float(2**64)


def test_a_sample_that_misses_columns_fails_loudly_and_meta_fixes_it(reader, sandbox, full):
    small = xd.read_scan(reader, sandbox.table, segments=2, sample=1)
    with pytest.raises(xd.MetadataMismatchError, match="attributes the frame's metadata does not"):
        small.compute(scheduler="threads")
    exact = xd.read_scan(reader, sandbox.table, segments=2, sample=1, meta=full.iloc[:0])
    pd.testing.assert_frame_equal(_sorted(exact.compute(scheduler="threads")), _sorted(full))


def test_dtypes_override_the_sample(reader, sandbox):
    ddf = xd.read_scan(reader, sandbox.table, segments=2, columns=["customer_id", "order_ts",
                       "item_count", "no_such_attribute"], dtypes={"item_count": "float64"})
    assert ddf.dtypes.astype(str).tolist() == [STR_NAME, STR_NAME, "float64", "object"]
    df = ddf.compute(scheduler="threads")
    assert len(df) == sandbox.item_count and df["no_such_attribute"].isna().all()


# -- reads equal the pandas path ----------------------------------------------------------


def test_local_cluster_read_equals_read_scan_exactly(client, reader, sandbox, full):
    ddf = xd.read_scan(reader, sandbox.table, segments=4)
    parts = client.compute(ddf.map_partitions(len)).result()
    assert len(parts) == 4 and sum(parts) == sandbox.item_count
    pd.testing.assert_frame_equal(_sorted(client.compute(ddf).result()), _sorted(full))


def test_local_scheduler_read_equals_read_scan(reader, sandbox, full):
    ddf = xd.read_scan(reader, sandbox.table, segments=3, flatten=True, numbers="decimal")
    expected = xn.read_scan(reader, sandbox.table, flatten=True, numbers="decimal")
    pd.testing.assert_frame_equal(_sorted(ddf.compute(scheduler="threads")), _sorted(expected))


def test_read_query_one_partition_per_query(client, reader, sandbox):
    customers = ["C-0001", "C-0002", "C-0003", "C-9999"]
    ddf = xd.read_query(reader, sandbox.table, customers, sort=("begins_with", "2026-0"),
                        columns=["customer_id", "order_ts", "total", "loyalty_points"])
    assert ddf.npartitions == 4
    expected = pd.concat(
        [xn.read_query(reader, sandbox.table, c, sort=("begins_with", "2026-0"),
                       columns=["customer_id", "order_ts", "total", "loyalty_points"])
         for c in customers[:3]], ignore_index=True)
    got = client.compute(ddf).result()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected)
    gsi = xd.read_query(reader, sandbox.table, ["returned", "cancelled"], index=sandbox.index)
    assert set(gsi["status"].unique().compute()) == {"returned", "cancelled"}


def test_errors_on_workers_arrive_as_xacct_errors(client, reader, sandbox):
    with pytest.raises(xn.AccessDeniedError, match="PrivateLedgerTable"):
        xd.read_scan(reader, sandbox.private_table, segments=2)  # the sample is denied at once
    ddf = xd.read_scan(reader, sandbox.private_table, segments=2, key_schema="account",
                       meta={"account": "str", "balance": "int64"})
    with pytest.raises(xn.AccessDeniedError, match="dynamodb:Scan"):
        client.compute(ddf).result()


def test_bad_arguments():
    spec = xd.RoleSpec(region="us-east-1")
    meta = {"pk": "str"}
    with pytest.raises(xn.InvalidArgumentError, match="segments"):
        xd.read_scan(spec, "T1x", segments=0, meta=meta, key_schema="pk")
    with pytest.raises(xn.InvalidArgumentError, match="sample"):
        xd.read_scan(spec, "T1x", segments=2, sample=0, meta=meta, key_schema="pk")
    with pytest.raises(xn.InvalidArgumentError, match="partitions is empty"):
        xd.read_query(spec, "T1x", [], key_schema="pk", meta=meta)
    with pytest.raises(xn.InvalidArgumentError, match="not a dtype"):
        xd.read_scan(spec, "T1x", segments=2, meta={"pk": "no-such-dtype"}, key_schema="pk")
