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
