"""assume_role and whoami: validation, the sandbox round trip, no secret in sight."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

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


# --- refresh, MFA, chaining: each with its own sandbox whose clock can move ---------------


class Clock:
    """Moves botocore's view of time (through xacct_nb._sessions._now) and the sandbox's."""

    def __init__(self, monkeypatch, sandbox):
        self.offset = 0.0
        self.sandbox = sandbox
        real = datetime.now
        monkeypatch.setattr(
            "xacct_nb._sessions._now",
            lambda: real(UTC) + timedelta(seconds=self.offset),
        )

    def advance(self, seconds: float) -> None:
        self.offset += seconds
        self.sandbox.advance_clock(seconds)


@pytest.fixture
def timed_sandbox():
    with xn.sandbox.start() as sb:
        yield sb


def _count_calls(session: boto3.Session, operation: str) -> list[int]:
    calls: list[int] = []
    session.events.register(f"before-call.sts.{operation}", lambda **kw: calls.append(1))
    return calls


@pytest.mark.sandbox
def test_read_spanning_expiry_keeps_going(timed_sandbox, monkeypatch):
    sb = timed_sandbox
    clock = Clock(monkeypatch, sb)
    source = sb.analyst_session()
    assumes = _count_calls(source, "AssumeRole")
    session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                             source_session=source, duration_seconds=900)
    first = session.get_credentials().get_frozen_credentials()
    scans: list[int] = []

    def time_passes(**_):
        # Just before pages 2 and 3 are requested (in whichever thread fetches them),
        # the credentials of the page before have expired.
        scans.append(1)
        if len(scans) > 1:
            clock.advance(1000)

    session.events.register("before-call.dynamodb.Scan", time_passes)
    df = xn.read_scan(session, sb.table)
    assert len(df) == sb.item_count and len(scans) == 3
    assert len(assumes) == 3  # the first assume, then one per expiry crossed mid-read
    assert session.get_credentials().get_frozen_credentials().access_key != first.access_key


@pytest.mark.sandbox
def test_assume_calls_follow_time_not_requests(timed_sandbox, monkeypatch):
    sb = timed_sandbox
    clock = Clock(monkeypatch, sb)
    source = sb.analyst_session()
    assumes = _count_calls(source, "AssumeRole")
    session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                             source_session=source, duration_seconds=900)
    ddb = session.client("dynamodb")
    for _ in range(30):
        ddb.describe_table(TableName=sb.table)
    assert len(assumes) == 1  # botocore's default 15-minute margin would refresh every call
    clock.advance(600)  # 300 s left: inside the scaled advisory margin (225 s)? not yet
    for _ in range(10):
        ddb.describe_table(TableName=sb.table)
    assert len(assumes) == 1
    clock.advance(100)  # 200 s left: refresh once
    for _ in range(30):
        ddb.describe_table(TableName=sb.table)
    assert len(assumes) == 2
    for _ in range(5):  # a working day in 20-minute steps: one refresh per lifetime
        clock.advance(1200)
        ddb.describe_table(TableName=sb.table)
    assert len(assumes) == 7


@pytest.mark.sandbox
def test_mfa_asked_once_per_mfa_session_not_per_refresh(timed_sandbox, monkeypatch):
    sb = timed_sandbox
    clock = Clock(monkeypatch, sb)
    source = sb.analyst_session()
    asked: list[int] = []

    def code() -> str:
        asked.append(1)
        return "123456"

    tokens = _count_calls(source, "GetSessionToken")
    reader = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id, source_session=source,
                            mfa_serial=sb.mfa_serial, mfa_token=code)
    assert xn.whoami(reader)["Account"] == sb.account_b
    for _ in range(4):  # four hourly refreshes of the role
        clock.advance(3600)
        reader.client("dynamodb").describe_table(TableName=sb.table)
    writer = xn.assume_role(sb.writer_role_arn, external_id=sb.external_id, source_session=source,
                            mfa_serial=sb.mfa_serial, mfa_token=code)
    assert xn.whoami(writer)["Arn"].split("/")[1] == "DynamoDBWriterRoleForAccountA"
    assert asked == [1] and tokens == [1]
    clock.advance(9 * 3600)  # past the 12-hour MFA session: its refresh says what to do
    with pytest.raises(xn.AssumeRoleError, match="MFA session ended.*assume_role"):
        reader.client("dynamodb").describe_table(TableName=sb.table)


@pytest.mark.sandbox
def test_mfa_errors(sandbox):
    source = sandbox.analyst_session()
    with pytest.raises(xn.AssumeRoleError, match="nobody can be asked here"):
        xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id,
                       source_session=source, mfa_serial=sandbox.mfa_serial)
    with pytest.raises(xn.InvalidArgumentError, match="must be six digits"):
        xn.assume_role(sandbox.reader_role_arn, source_session=source,
                       mfa_serial=sandbox.mfa_serial, mfa_token="12ab")
    with pytest.raises(xn.AssumeRoleError, match="MultiFactorAuthentication failed.*device ARN"):
        xn.assume_role(sandbox.reader_role_arn, source_session=source,
                       mfa_serial="arn:aws:iam::111111111111:mfa/someone-else", mfa_token="123456")
    with pytest.raises(xn.InvalidArgumentError, match="mfa_token was given without mfa_serial"):
        xn.assume_role(sandbox.reader_role_arn, source_session=source, mfa_token="123456")


@pytest.mark.sandbox
def test_role_chaining_is_clamped_with_a_warning(sandbox):
    # The seed's pattern: the analyst takes account A's role, which takes B's.
    requester = xn.assume_role(sandbox.requester_role_arn, source_session=sandbox.analyst_session())
    with pytest.warns(UserWarning, match="clamped to 3600.*role chaining"):
        chained = xn.assume_role(sandbox.writer_role_arn, external_id=sandbox.external_id,
                                 source_session=requester, duration_seconds=7200)
    remaining = (xn.whoami(chained)["Expiration"] - datetime.now(UTC)).total_seconds()
    assert remaining <= 3600
    # What AWS (and the sandbox) answer when nobody clamps:
    sts = requester.client("sts")
    with pytest.raises(Exception, match="1 hour session limit for roles assumed by role chaining"):
        sts.assume_role(RoleArn=sandbox.writer_role_arn, RoleSessionName="raw",
                        ExternalId=sandbox.external_id, DurationSeconds=7200)


@pytest.mark.sandbox
def test_duration_above_role_maximum(sandbox):
    with pytest.raises(xn.AssumeRoleError, match="MaxSessionDuration.*ask the owner to raise it"):
        xn.assume_role(sandbox.writer_role_arn, external_id=sandbox.external_id,
                       source_session=sandbox.analyst_session(), duration_seconds=7200)


def _deny_assume_role(session: boto3.Session, code: str, message: str) -> None:
    """Answer AssumeRole with an error, as STS would (botocore's before-call short-circuit)."""
    from botocore.awsrequest import AWSResponse

    def deny(**_):
        response = AWSResponse("https://sts.amazonaws.com/", 403, {}, None)
        return response, {"Error": {"Code": code, "Message": message},
                          "ResponseMetadata": {"HTTPStatusCode": 403}}

    session.events.register("before-call.sts.AssumeRole", deny)


def test_access_denied_names_the_likely_causes():
    source = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x",
                           region_name="us-east-1")
    _deny_assume_role(source, "AccessDenied",
                      "User: arn:aws:iam::111111111111:user/analyst is not authorized to perform: "
                      "sts:AssumeRole on resource: arn:aws:iam::222222222222:role/R")
    with pytest.raises(xn.AssumeRoleError) as err:
        xn.assume_role("arn:aws:iam::222222222222:role/R", source_session=source)
    text = str(err.value)
    assert "is not authorized to perform: sts:AssumeRole" in text
    assert "(1) account A's policy for the caller does not allow sts:AssumeRole" in text
    assert "(2) the role's trust policy does not name the caller's account" in text
    assert "requires an ExternalId and none was given: pass external_id=" in text
    assert "requires MFA: pass mfa_serial=" in text
    assert err.value.code == "AccessDenied" and err.value.role_arn.endswith("role/R")


def test_wrong_external_id_hint_when_one_was_given():
    source = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x",
                           region_name="us-east-1")
    _deny_assume_role(source, "AccessDenied", "not authorized")
    with pytest.raises(xn.AssumeRoleError,
                       match="ExternalId given does not match") as err:
        xn.assume_role("arn:aws:iam::222222222222:role/R", external_id="wrong-id",
                       source_session=source)
    assert "wrong-id" not in str(err.value)


@pytest.mark.sandbox
def test_no_secret_anywhere_in_a_full_lifecycle(timed_sandbox, monkeypatch, caplog, recwarn):
    """Every repr, str, log record, warning and error message of a session's life."""
    sb = timed_sandbox
    caplog.set_level(logging.DEBUG, logger="xacct_nb")
    clock = Clock(monkeypatch, sb)
    source = sb.analyst_session()
    secrets = [sb._credentials[w]["secret_access_key"] for w in sb._credentials]
    texts = [repr(sb), str(sb), sb.instructions()]

    session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id, source_session=source,
                             mfa_serial=sb.mfa_serial, mfa_token="123456", duration_seconds=900)
    for _ in range(3):
        frozen = session.get_credentials().get_frozen_credentials()
        secrets += [frozen.secret_key, frozen.token]
        texts += [repr(session), str(session), repr(session.get_credentials()),
                  str(xn.whoami(session)), repr(session.get_credentials().get_frozen_credentials)]
        clock.advance(1000)
        session.client("dynamodb").describe_table(TableName=sb.table)
    with pytest.warns(UserWarning) as chained_warning:
        chained = xn.assume_role(sb.writer_role_arn, external_id=sb.external_id,
                                 source_session=xn.assume_role(sb.requester_role_arn,
                                                               source_session=source),
                                 duration_seconds=7200)
    texts += [str(w.message) for w in chained_warning]
    secrets += [chained.get_credentials().get_frozen_credentials().token]
    failures = [
        lambda: xn.assume_role(sb.writer_role_arn, external_id=sb.external_id,
                               source_session=source, duration_seconds=7200),
        lambda: xn.read_scan(session, "NoSuchTable"),
        lambda: xn.assume_role(sb.reader_role_arn, source_session=source,
                               mfa_serial=sb.mfa_serial + "x", mfa_token="123456"),
    ]
    for fail in failures:
        with pytest.raises(xn.XacctError) as err:
            fail()
        texts += [str(err.value), repr(err.value)]
    for mfa_session, _expiry in next(iter(xn._sessions._mfa_cache.values())).values():
        frozen = mfa_session.get_credentials().get_frozen_credentials()
        secrets += [frozen.secret_key, frozen.token]
        texts.append(repr(mfa_session))
    texts += [caplog.text] + [str(w.message) for w in recwarn]
    blob = "\n".join(texts)
    assert len(secrets) >= 12 and all(secrets)
    for secret in secrets:
        assert secret not in blob


@pytest.mark.sandbox
@pytest.mark.parametrize("how", ["profile", "endpoint-variables"])
def test_standard_boto3_configuration_reaches_the_endpoint(sandbox, monkeypatch, how):
    """No sandbox-only path: a profile or AWS_ENDPOINT_URL is all assume_role needs."""
    if how == "profile":
        monkeypatch.setenv("AWS_CONFIG_FILE", str(sandbox.aws_config_file))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(sandbox.aws_credentials_file))
        monkeypatch.setenv("AWS_PROFILE", xn.sandbox.PROFILE)
    else:
        env = sandbox.env(with_role=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", env["AWS_ENDPOINT_URL"])
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", env["AWS_ENDPOINT_URL"])
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
            monkeypatch.setenv(name, env[name])
    session = xn.assume_role(sandbox.reader_role_arn, external_id=sandbox.external_id)
    assert xn.whoami(session)["Account"] == sandbox.account_b
    assert len(xn.read_query(session, sandbox.table, "C-0009")) > 0


def test_prompt_rules(monkeypatch):
    from types import SimpleNamespace

    from xacct_nb import _sessions

    kernel_without_stdin = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False))
    kernel_with_stdin = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=True))
    monkeypatch.setattr("IPython.get_ipython", lambda: kernel_without_stdin)
    assert _sessions._can_prompt() is False  # nbval / nbconvert kernels: never block
    monkeypatch.setattr("IPython.get_ipython", lambda: kernel_with_stdin)
    assert _sessions._can_prompt() is True  # JupyterLab: input() shows a text box
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or " 654321 ")
    assert _sessions._ask_mfa_code("arn:aws:iam::111111111111:mfa/analyst") == "654321"
    assert asked == ["MFA code for arn:aws:iam::111111111111:mfa/analyst: "]


@pytest.mark.sandbox
def test_default_prompt_is_used_once(sandbox, monkeypatch):
    monkeypatch.setattr("xacct_nb._sessions._can_prompt", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or "111222")
    source = sandbox.analyst_session()
    for role in (sandbox.reader_role_arn, sandbox.writer_role_arn):
        session = xn.assume_role(role, external_id=sandbox.external_id, source_session=source,
                                 mfa_serial=sandbox.mfa_serial)
        assert xn.whoami(session)["Account"] == sandbox.account_b
    assert len(asked) == 1


@pytest.mark.sandbox
def test_any_client_of_the_session_refreshes_when_the_server_says_expired(timed_sandbox):
    """Clock skew: the server's clock is past the expiry, the local one is not (no Clock here)."""
    sb = timed_sandbox
    source = sb.analyst_session()
    assumes = _count_calls(source, "AssumeRole")
    session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                             source_session=source, duration_seconds=900)
    credentials = session.get_credentials()
    first = credentials.get_frozen_credentials().access_key
    ddb = session.client("dynamodb")  # a plain boto3 client: not the package's engine
    sb.advance_clock(1000)
    assert xn.whoami(session)["Account"] == sb.account_b  # STS: ExpiredToken, refreshed
    assert ddb.describe_table(TableName=sb.table)["Table"]["TableName"] == sb.table
    assert len(assumes) == 2
    # A refusal of keys replaced since costs nothing: the caller just sends again.
    assert credentials.force_refresh(first) is True and len(assumes) == 2
    # Keys fresh from a forced refresh that have worked may be replaced again.
    current = credentials.get_frozen_credentials().access_key
    assert credentials.force_refresh(current) is True and len(assumes) == 3
    # ...but not while none of their requests has succeeded yet.
    fresh = credentials.get_frozen_credentials().access_key
    assert credentials.force_refresh(fresh) is False and len(assumes) == 3
    ddb.describe_table(TableName=sb.table)
    assert credentials.force_refresh(fresh) is True and len(assumes) == 4
