"""assume_role and whoami: validation, the sandbox round trip, no secret in sight."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import boto3
import pytest
from botocore.credentials import RefreshableCredentials

import xacct_nb as xn
from xacct_nb._sessions import default_session_name, parse_role_arn


@pytest.mark.parametrize(
    "arn",
    [
        "DynamoDBReaderRoleForAccountA",
        "arn:aws:iam::2222:role/Reader",
        "arn:aws:iam::222222222222:user/analyst",
        "arn:aws:sts::222222222222:assumed-role/Reader/x",
        "",
        None,
    ],
)
def test_malformed_role_arn(arn):
    with pytest.raises(xn.InvalidArgumentError, match="is not a role ARN: expected 'arn:aws:iam::"):
        xn.assume_role(arn)


def test_parse_role_arn_with_path():
    assert parse_role_arn("arn:aws:iam::222222222222:role/team/Reader") == ("222222222222", "Reader")


@pytest.mark.parametrize("duration", [899, 43201, 3600.0, True, "3600"])
def test_duration_out_of_range(duration):
    with pytest.raises(xn.InvalidArgumentError, match="duration_seconds=.* out of range.*900"):
        xn.assume_role("arn:aws:iam::222222222222:role/R", duration_seconds=duration)


@pytest.mark.parametrize("name", ["x", "has space", "a" * 65, "semi;colon"])
def test_bad_session_name(name):
    with pytest.raises(xn.InvalidArgumentError, match="session_name .* is invalid"):
        xn.assume_role("arn:aws:iam::222222222222:role/R", session_name=name)


def test_default_session_name_is_valid(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "jane doe/ÿ;")
    name = default_session_name()
    assert name.startswith("xacct-jane-doe-")
    assert 2 <= len(name) <= 64
    parse_role_arn("arn:aws:iam::222222222222:role/R")


def test_no_region_is_a_configuration_error():
    source = boto3.Session(aws_access_key_id="AKIAX", aws_secret_access_key="y")
    with pytest.raises(xn.ConfigurationError, match="No AWS region is configured"):
        xn.assume_role("arn:aws:iam::222222222222:role/R", source_session=source)


def test_no_source_credentials_is_an_assume_role_error():
    with pytest.raises(xn.AssumeRoleError, match="no source credentials were found"):
        xn.assume_role("arn:aws:iam::222222222222:role/R", region_name="us-east-1")


@pytest.mark.sandbox
def test_assume_reader_and_whoami(sandbox, reader):
    me = xn.whoami(sandbox.analyst_session())
    assert me["Account"] == sandbox.account_a
    assert me["Arn"].endswith(":user/analyst")
    assert "Expiration" not in me  # static user keys do not expire

    who = xn.whoami(reader)
    assert who["Account"] == sandbox.account_b
    assert who["Arn"].startswith(
        f"arn:aws:sts::{sandbox.account_b}:assumed-role/DynamoDBReaderRoleForAccountA/xacct-"
    )
    assert who["Expiration"] > datetime.now(UTC)
    assert isinstance(reader._session.get_credentials(), RefreshableCredentials)
    assert reader.region_name == sandbox.region


@pytest.mark.sandbox
def test_explicit_parameters_reach_sts(sandbox):
    session = xn.assume_role(
        sandbox.reader_role_arn, external_id=sandbox.external_id, session_name="nb-session",
        duration_seconds=7200, source_session=sandbox.analyst_session(),
        source_identity="jane", tags={"team": "analytics"},
    )
    who = xn.whoami(session)
    assert who["Arn"].endswith("/nb-session")
    remaining = (who["Expiration"] - datetime.now(UTC)).total_seconds()
    assert 7000 < remaining <= 7200


@pytest.mark.sandbox
def test_no_secret_in_repr_str_or_logs(sandbox, caplog):
    caplog.set_level(logging.DEBUG, logger="xacct_nb")
    session = xn.assume_role(
        sandbox.reader_role_arn, external_id=sandbox.external_id,
        source_session=sandbox.analyst_session(),
    )
    frozen = session.get_credentials().get_frozen_credentials()
    conn_like = [repr(session), str(session), repr(session.get_credentials()),
                 str(xn.whoami(session)), repr(sandbox), caplog.text]
    text = "\n".join(conn_like)
    assert frozen.secret_key not in text
    assert frozen.token not in text
    assert "assumed arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA" in caplog.text
