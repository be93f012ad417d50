"""Process-wide test hygiene: nothing in the suite may reach a real AWS account.

This runs before any test, doctest or notebook kernel starts (kernels inherit
the environment), so no ``AWS_*`` variable from the developer's shell, and no
``~/.aws`` file, is ever seen. ``tests/conftest.py`` repeats the clean-up per
test with ``monkeypatch`` for tests that set variables themselves.
"""

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

for _name in list(os.environ):
    # XACCT_REQUIRE_BROWSER and XACCT_REQUIRE_DEPS are no connection settings: they tell
    # tests/conftest.py that the browser test must run and that no package may be missing (CI).
    if _name.startswith(("AWS_", "XACCT_")) and _name not in ("XACCT_REQUIRE_BROWSER",
                                                               "XACCT_REQUIRE_DEPS"):
        del os.environ[_name]
_EMPTY = tempfile.mkdtemp(prefix="xacct-tests-aws-")
os.environ["AWS_CONFIG_FILE"] = os.path.join(_EMPTY, "config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(_EMPTY, "credentials")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# Notebook outputs are compared by nbval: progress bars (whose widget ids vary)
# stay off unless a cell asks for one.
os.environ["XACCT_PROGRESS"] = "never"
# The explorer's history of runs goes to a file of the test run, not the user's data folder.
os.environ["XACCT_HISTORY_FILE"] = os.path.join(_EMPTY, "explorer-history.json")


# -- doctests on pandas 2.2: its name of the string dtype ----------------------------------
#
# The examples show string columns as pandas 2.3 and later name them, "str". pandas 2.2
# has the same dtype (README, "Types") and names it "string": on pandas 2.2 (the lowest
# environment of `make test-matrix`) the examples' output is read with that one name
# changed back, and nothing else.


def _pandas_22_doctest_names() -> None:
    import doctest
    import re

    import pandas as pd
    from _pytest import doctest as pytest_doctest

    if tuple(int(p) for p in pd.__version__.split(".")[:2]) >= (2, 3):
        return
    base = pytest_doctest._get_checker().__class__
    name = re.compile(r"(?<=')string(?=')|(?<=dtype: )string\b")

    class Checker(base):  # type: ignore[misc, valid-type]
        def check_output(self, want: str, got: str, optionflags: int) -> bool:
            return super().check_output(want, name.sub("str", got), optionflags)

        def output_difference(self, example: doctest.Example, got: str, optionflags: int) -> str:
            return super().output_difference(example, name.sub("str", got), optionflags)

    pytest_doctest.CHECKER_CLASS = Checker


_pandas_22_doctest_names()


# -- doctests: the package's examples run against one sandbox ------------------------------
#
# The names every ``>>>`` example in ``xacct_nb`` may use, besides its module's own:
# ``xn``, ``sb`` (the running sandbox, the one ``xn.connect()`` uses), ``session`` (the
# reader role's session), ``conn`` (``xn.connect()``), ``admin`` (account B's
# administrator). The sandbox starts at the first doctest only, so runs without
# doctests never pay for it.


@pytest.fixture(scope="session")
def _doctest_sandbox() -> Iterator[Any]:
    """Run the doctests' sandbox: ``xn.connect()``'s own, stopped at the end."""
    from xacct_nb._connect import shared_sandbox

    sb = shared_sandbox()
    yield sb
    sb.stop()


#: The examples that read a table export find one ready as ``snap``, in the bucket and with
#: the grants the examples name (``_snapshot``'s module documentation lists them).
_SNAPSHOT_DOCTESTS = ("xacct_nb._snapshot", "xacct_nb.dask.read_snapshot")
_EXPORT_BUCKET, _EXPORT_PREFIX = "analyst-exports", "orders"


@pytest.fixture(scope="module")
def _doctest_snapshot(_doctest_sandbox: Any) -> Iterator[Any]:
    """Grant an export of the demo table into A's bucket, export it; revoke it all at the end.

    Module-scoped: the grants (a role policy, a user policy, point-in-time
    recovery, a bucket) exist only while one module's examples run, so no
    other test or example of the shared sandbox ever sees them.
    """
    import json

    import xacct_nb as xn
    from xacct_nb import policies

    # The examples' own module: pytest imports each module it collects doctests from
    # afresh, so ``xn.Snapshot`` may be another class than the one the examples check.
    from xacct_nb._snapshot import export_snapshot

    sb = _doctest_sandbox
    admin_a, admin_b = sb.admin_session("A"), sb.admin_session("B")
    s3, iam_a = admin_a.client("s3"), admin_a.client("iam")
    iam_b, ddb = admin_b.client("iam"), admin_b.client("dynamodb")
    role_name = sb.reader_role_arn.rsplit("/", 1)[-1]
    bucket, prefix = _EXPORT_BUCKET, _EXPORT_PREFIX
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(
        policies.export_bucket_policy(bucket, sb.reader_role_arn, prefix=prefix)))
    iam_a.put_user_policy(UserName="analyst", PolicyName="DoctestReadExports",
                          PolicyDocument=json.dumps(
                              policies.export_reader_policy(bucket, prefix=prefix)))
    iam_b.put_role_policy(RoleName=role_name, PolicyName="DoctestExport",
                          PolicyDocument=json.dumps(
                              policies.export_policy(sb.table_arn, bucket, prefix=prefix)))
    ddb.update_continuous_backups(
        TableName=sb.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    try:
        yield export_snapshot(xn.connect(quiet=True).session, sb.table, bucket,
                              prefix=prefix, bucket_owner=sb.account_a)
    finally:
        ddb.update_continuous_backups(
            TableName=sb.table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
        iam_b.delete_role_policy(RoleName=role_name, PolicyName="DoctestExport")
        iam_a.delete_user_policy(UserName="analyst", PolicyName="DoctestReadExports")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        s3.delete_bucket(Bucket=bucket)


@pytest.fixture(autouse=True)
def _doctest_globals(request: pytest.FixtureRequest) -> None:
    """Fill ``doctest_namespace`` before the first doctest (and only for doctests)."""
    if not isinstance(request.node, pytest.DoctestItem):
        return
    namespace = request.getfixturevalue("doctest_namespace")
    if request.node.name.startswith(_SNAPSHOT_DOCTESTS):
        namespace["snap"] = request.getfixturevalue("_doctest_snapshot")
    else:
        namespace.pop("snap", None)
    if "sb" in namespace:
        return
    import xacct_nb as xn

    sb = request.getfixturevalue("_doctest_sandbox")
    namespace.update(
        xn=xn,
        sb=sb,
        session=xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                               source_session=sb.analyst_session(), region_name=sb.region),
        conn=xn.connect(quiet=True),
        admin=sb.admin_session("B"),
    )
