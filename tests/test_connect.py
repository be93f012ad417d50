"""xn.connect(): settings resolution, the sandbox default, and the same code on 'AWS'."""

from __future__ import annotations

import pytest

import xacct_nb as xn
from xacct_nb._connect import load_settings


def test_settings_precedence(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "xacct.toml").write_text(
        'role_arn = "arn:aws:iam::222222222222:role/FromToml"\n'
        'table = "TomlTable"\nregion = "eu-west-1"\n'
    )
    monkeypatch.setenv("XACCT_TABLE", "EnvTable")
    settings = load_settings(region="us-east-2")
    assert settings.role_arn == "arn:aws:iam::222222222222:role/FromToml"
    assert settings.table == "EnvTable"
    assert settings.region == "us-east-2"
    assert "XACCT_TABLE" in settings.source and "xacct.toml" in settings.source


def test_xacct_section_and_config_path(monkeypatch, tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text('[xacct]\ntable = "T1"\n')
    monkeypatch.setenv("XACCT_CONFIG", str(path))
    assert load_settings().table == "T1"


def test_unknown_setting_and_missing_file(monkeypatch, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('tabel = "typo"\n')
    monkeypatch.setenv("XACCT_CONFIG", str(path))
    with pytest.raises(xn.ConfigurationError, match=r"unknown settings \['tabel'\]"):
        load_settings()
    monkeypatch.setenv("XACCT_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(xn.ConfigurationError, match="which is not a file"):
        load_settings()


def test_no_settings_means_the_sandbox(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    conn = xn.connect()
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "embedded sandbox" in out
    assert conn.is_sandbox
    assert conn.table == "MyCrossAccountTable"
    assert conn.whoami()["Account"] == "222222222222"
    again = xn.connect(quiet=True)
    assert again.sandbox is conn.sandbox  # one sandbox per process
    assert capsys.readouterr().out == ""
    assert "Connection to sandbox" in repr(conn)


@pytest.mark.sandbox
def test_same_code_through_configuration_only(sandbox, monkeypatch, tmp_path, capsys):
    """With XACCT_* and standard AWS_* variables, connect() takes the real-AWS path."""
    monkeypatch.chdir(tmp_path)
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    conn = xn.connect()
    assert not conn.is_sandbox
    assert "connected as arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA" in (
        capsys.readouterr().out
    )
    df = xn.read_query(conn.session, conn.table, "C-0002")
    assert len(df) > 0 and set(df.customer_id) == {"C-0002"}
    secret = sandbox.env()["AWS_SECRET_ACCESS_KEY"]
    assert secret not in repr(conn)


def test_bad_profile_is_a_configuration_error(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_PROFILE", "does-not-exist")
    with pytest.raises(xn.ConfigurationError, match="Cannot use AWS profile 'does-not-exist'"):
        xn.connect()


# -- hints: name what is set (and where from), ask only for what is missing ---------------


def _aws_files(*, config: str = "", credentials: str = "") -> None:
    """Write the (per-test, empty) AWS config and credentials files the fixture points at."""
    import os
    from pathlib import Path

    Path(os.environ["AWS_CONFIG_FILE"]).write_text(config)
    Path(os.environ["AWS_SHARED_CREDENTIALS_FILE"]).write_text(credentials)


KEYS = "aws_access_key_id = AKIAEXAMPLEEXAMPLE12\naws_secret_access_key = secret\n"
ROLE = "arn:aws:iam::222222222222:role/DynamoDBReaderRoleForAccountA"


def test_unknown_profile_names_where_it_came_from(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(xn.ConfigurationError) as err:
        xn.connect()
    assert str(err.value).startswith("Cannot use AWS profile 'nope' (from AWS_PROFILE): ")
    assert "[profile nope]" in str(err.value) and str(err.value).endswith("or unset AWS_PROFILE.")
    monkeypatch.delenv("AWS_PROFILE")
    (tmp_path / "xacct.toml").write_text('profile = "nope"\n')
    with pytest.raises(xn.ConfigurationError) as err:
        xn.connect()
    toml = tmp_path / "xacct.toml"
    assert f"(from {toml})" in str(err.value)
    assert str(err.value).endswith(f"or change `profile` in {toml}.")
    assert "AWS_PROFILE" not in str(err.value)
    with pytest.raises(xn.ConfigurationError, match=r"\(from arguments\).*pass another profile="):
        xn.connect(profile="nope")


def test_profile_without_credentials_is_named_not_asked_for(monkeypatch, tmp_path):
    # AWS_PROFILE=analyst is exported, but the profile holds no credentials.
    monkeypatch.chdir(tmp_path)
    _aws_files(config="[profile analyst]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_PROFILE", "analyst")
    with pytest.raises(xn.ConfigurationError) as err:
        xn.connect()
    message = str(err.value)
    assert message.startswith("AWS profile 'analyst' (from AWS_PROFILE) gives no credentials: ")
    assert "aws sso login --profile analyst" in message
    assert message.endswith("Set: AWS profile 'analyst' (from AWS_PROFILE).")
    assert "set AWS_PROFILE" not in message.lower().replace("unset", "")
    assert "Not set" not in message


def test_no_credentials_at_all_asks_for_an_identity_and_names_the_rest(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XACCT_ROLE_ARN", ROLE)
    monkeypatch.setenv("XACCT_REGION", "us-east-1")
    with pytest.raises(xn.ConfigurationError) as err:
        xn.connect()
    message = str(err.value)
    assert message.startswith("No AWS credentials for account A's identity. ")
    assert (f"Set: role ARN '{ROLE}' (from XACCT_ROLE_ARN), region 'us-east-1' "
            "(from XACCT_REGION).") in message
    assert ("Not set: AWS profile (AWS_PROFILE, `profile` in xacct.toml, "
            "or connect(profile=...)).") in message
    not_set = message.split("Not set:")[1]
    assert "XACCT_ROLE_ARN" not in not_set and "XACCT_REGION" not in not_set


def test_failing_credential_source_names_the_profile(monkeypatch, tmp_path):
    import sys

    monkeypatch.chdir(tmp_path)
    process = f"{sys.executable} -c \"import sys; sys.exit(3)\""
    _aws_files(config=f"[profile broken]\nregion = us-east-1\ncredential_process = {process}\n")
    monkeypatch.setenv("AWS_PROFILE", "broken")
    with pytest.raises(xn.ConfigurationError) as err:
        xn.connect()
    assert str(err.value).startswith(
        "Cannot load account A's credentials of AWS profile 'broken' (from AWS_PROFILE): ")


def test_no_region_names_the_profile_and_asks_only_for_a_region(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    _aws_files(config="[profile analyst]\n", credentials=f"[analyst]\n{KEYS}")
    monkeypatch.setenv("AWS_PROFILE", "analyst")
    monkeypatch.setenv("XACCT_TABLE", "Orders")
    with pytest.raises(xn.ConfigurationError) as err:
        xn.connect()
    message = str(err.value)
    assert message == (
        "No AWS region: connect() needs one for DynamoDB, and AWS profile 'analyst' names "
        "none. Set: table 'Orders' (from XACCT_TABLE), AWS profile 'analyst' (from "
        "AWS_PROFILE). Not set: region (XACCT_REGION, `region` in xacct.toml, or "
        "connect(region=...)). Or add `region` to the profile."
    )
    monkeypatch.delenv("AWS_PROFILE")
    _aws_files(credentials=f"[default]\n{KEYS}")
    with pytest.raises(xn.ConfigurationError, match=r"Or set AWS_DEFAULT_REGION\.$") as err:
        xn.connect()
    assert "profile" not in str(err.value).split("Not set:")[0]


def test_profile_without_role_says_what_is_missing(monkeypatch, tmp_path, capsys):
    # AWS_PROFILE=analyst exported, no role ARN, no table: connect() works with the
    # profile's own identity and names the two missing settings, not AWS_PROFILE.
    monkeypatch.chdir(tmp_path)
    _aws_files(config="[profile analyst]\nregion = eu-west-1\n", credentials=f"[analyst]\n{KEYS}")
    monkeypatch.setenv("AWS_PROFILE", "analyst")
    conn = xn.connect()
    assert conn.role_arn is None and conn.region == "eu-west-1"
    first, second = capsys.readouterr().out.splitlines()
    assert first == "xacct-nb: connected as profile analyst (settings from AWS_PROFILE)."
    assert second == (
        "xacct-nb: not set: role ARN (XACCT_ROLE_ARN, `role_arn` in xacct.toml, or "
        "connect(role_arn=...)); table (XACCT_TABLE, `table` in xacct.toml, or "
        "connect(table=...)) - calls use account A's own identity, no role is assumed."
    )
    xn.connect(quiet=True)
    assert capsys.readouterr().out == ""


@pytest.mark.sandbox
def test_refused_assume_role_names_the_settings_used(sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("XACCT_EXTERNAL_ID")
    with pytest.raises(xn.AssumeRoleError) as err:
        xn.connect()
    message = str(err.value)
    assert message.startswith(f"AssumeRole of {sandbox.reader_role_arn} was refused")
    assert err.value.code == "AccessDenied" and err.value.role_arn == sandbox.reader_role_arn
    assert message.endswith(
        f"Set: role ARN '{sandbox.reader_role_arn}' (from XACCT_ROLE_ARN), table "
        f"'{sandbox.table}' (from XACCT_TABLE), region '{sandbox.region}' (from XACCT_REGION). "
        "Not set: external ID (XACCT_EXTERNAL_ID, `external_id` in xacct.toml, or "
        "connect(external_id=...))."
    )
    monkeypatch.setenv("XACCT_EXTERNAL_ID", "not-the-right-one")
    with pytest.raises(xn.AssumeRoleError) as err:
        xn.connect()
    message = str(err.value)
    assert "external ID (from XACCT_EXTERNAL_ID)" in message and "Not set" not in message
    assert "not-the-right-one" not in message  # the external ID's value is never shown
