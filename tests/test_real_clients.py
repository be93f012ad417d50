"""Unmodified real clients against the sandbox: the AWS CLI and awswrangler.

They reach the sandbox only through their environment (profile files, the
subprocess's variables) or a boto3 session, as they would reach AWS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import xacct_nb as xn
from xacct_nb.sandbox import _demo_data as demo

sys.path.insert(0, str(Path(__file__).parent))
from test_sandbox_dynamodb import item_bytes, rcu  # noqa: E402

pytestmark = pytest.mark.sandbox

ADMIN_PROFILE = "xacct-sandbox-admin-b"


def _aws(sandbox: xn.sandbox.Sandbox, tmp_path: Path, *args: str, profile: str = ADMIN_PROFILE,
         config: Path | None = None) -> dict[str, Any]:
    """Run the AWS CLI in a clean environment pointed at the sandbox's profile files."""
    pytest.importorskip("awscli")
    executable = Path(sys.executable).with_name("aws")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(config or sandbox.aws_config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(sandbox.aws_credentials_file),
        "AWS_PROFILE": profile,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
    }
    done = subprocess.run(
        [sys.executable, str(executable), *args, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _reader_config(sandbox: xn.sandbox.Sandbox, tmp_path: Path) -> Path:
    """The sandbox's config plus a profile that assumes the reader role (as on AWS)."""
    config = tmp_path / "config"
    config.write_text(
        sandbox.aws_config_file.read_text()
        + f"\n[profile reader]\nrole_arn = {sandbox.reader_role_arn}\n"
        f"source_profile = xacct-sandbox\nexternal_id = {sandbox.external_id}\n"
        f"region = {sandbox.region}\nendpoint_url = {sandbox.endpoint_url}\n"
    )
    return config


def test_aws_cli_scan_select_count_returns_only_a_count(
    sandbox: xn.sandbox.Sandbox, tmp_path: Path
) -> None:
    out = _aws(sandbox, tmp_path, "dynamodb", "scan", "--table-name", sandbox.table,
               "--select", "COUNT", profile="reader", config=_reader_config(sandbox, tmp_path))
    stored = sandbox.admin_session("B").client("dynamodb").get_paginator("scan").paginate(
        TableName=sandbox.table, ProjectionExpression="customer_id")
    assert "Items" not in out
    assert out["Count"] == out["ScannedCount"] == sum(len(p["Items"]) for p in stored)
    assert out["Count"] >= demo.ORDER_COUNT


def test_aws_cli_shows_the_capacity_dynamodb_would_charge(
    sandbox: xn.sandbox.Sandbox, tmp_path: Path
) -> None:
    values = json.dumps({":c": {"S": demo.customer_id(7)}})
    out = _aws(sandbox, tmp_path, "dynamodb", "query", "--table-name", sandbox.table,
               "--key-condition-expression", "customer_id = :c",
               "--expression-attribute-values", values,
               "--return-consumed-capacity", "TOTAL", "--no-paginate")
    read = sum(item_bytes(item) for item in out["Items"])
    assert out["Items"] and "LastEvaluatedKey" not in out
    assert out["ConsumedCapacity"] == {"TableName": sandbox.table, "CapacityUnits": rcu(read)}

    item = out["Items"][0]
    key = json.dumps({"customer_id": item["customer_id"], "order_ts": item["order_ts"]})
    got = _aws(sandbox, tmp_path, "dynamodb", "get-item", "--table-name", sandbox.table,
               "--key", key, "--consistent-read", "--return-consumed-capacity", "TOTAL")
    assert got["Item"] == item
    assert got["ConsumedCapacity"]["CapacityUnits"] == rcu(item_bytes(item), consistent=True)


def test_awswrangler_retries_reserved_words_with_placeholders(
    sandbox: xn.sandbox.Sandbox, reader: Any
) -> None:
    # ProjectionExpression "customer_id, order_ts, status" fails on AWS's reserved-word error;
    # awswrangler recognises AWS's message and retries with "#status".
    wr = pytest.importorskip("awswrangler")
    from boto3.dynamodb.conditions import Key

    customer = demo.customer_id(5)
    stored = sandbox.admin_session("B").client("dynamodb").query(
        TableName=sandbox.table, KeyConditionExpression="customer_id = :c",
        ExpressionAttributeValues={":c": {"S": customer}})["Items"]
    expected = sorted((i["order_ts"]["S"], i["status"]["S"]) for i in stored)
    assert expected
    columns = ["customer_id", "order_ts", "status"]
    by_keys = wr.dynamodb.read_items(  # BatchGetItem
        table_name=sandbox.table, partition_values=[customer] * len(expected),
        sort_values=[ts for ts, _ in expected], columns=columns, boto3_session=reader)
    by_query = wr.dynamodb.read_items(  # Query
        table_name=sandbox.table, key_condition_expression=Key("customer_id").eq(customer),
        columns=columns, boto3_session=reader)
    for frame in (by_keys, by_query):
        assert sorted(frame.columns) == columns
        assert set(frame["customer_id"]) == {customer}
        assert sorted(zip(frame["order_ts"], frame["status"], strict=True)) == expected
