"""Clock skew: the server calls the credentials expired before this machine's clock does.

The sandbox's clock is moved past the credentials' expiry (``advance_clock``)
while the local one is not: a session from ``xn.assume_role`` refreshes once
(one forced AssumeRole, counted with a botocore event hook on the source
session) and sends the refused request again; if the new credentials are
refused too, one clear ``ExpiredCredentialsError`` says what was tried and
what to check. Everything goes over HTTP to a sandbox of this module's own
(its clock moves, so the shared one is left alone).
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import boto3
import pandas as pd
import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb._engine import _clocks, _expired
from xacct_nb._errors import REFRESHED_MARK, translate_client_error

pytestmark = pytest.mark.sandbox

KEY = ("customer_id", "order_ts")
#: Past a 900-second session's expiry on the sandbox's clock.
PAST_EXPIRY = 1000


@pytest.fixture(scope="module")
def sb():
    """This module's own sandbox: its clock moves."""
    with xn.sandbox.start() as sandbox:
        yield sandbox


class Assumed:
    """A session of ``role_arn`` (900 s), and the AssumeRole calls of its source session.

    ``expire_on_refresh()``: from then on, every AssumeRole is followed by a jump
    of the sandbox's clock past the new credentials' expiry (a second expiry
    right after the refresh).
    """

    def __init__(self, sb, role_arn: str | None = None) -> None:
        self.sb = sb
        self.assumes: list[str] = []
        self._jump = False
        source = sb.analyst_session()
        # Registered before assume_role builds its STS client (clients copy the handlers).
        source.events.register("before-call.sts.AssumeRole",
                               lambda **_: self.assumes.append(threading.current_thread().name))
        source.events.register("after-call.sts.AssumeRole", self._after_assume)
        self.session = xn.assume_role(role_arn or sb.reader_role_arn, external_id=sb.external_id,
                                      source_session=source, duration_seconds=900)
        self.first_key = self.key()

    def _after_assume(self, **_) -> None:
        if self._jump:
            self.sb.advance_clock(PAST_EXPIRY)

    def expire_on_refresh(self) -> None:
        self._jump = True

    def key(self) -> str:
        return self.session.get_credentials().get_frozen_credentials().access_key

    @property
    def refreshes(self) -> int:
        return len(self.assumes) - 1


def _expire(sb, assumed: Assumed) -> None:
    """Move the sandbox's clock past the session's expiry; the local clock stays."""
    expiry = xn.whoami(assumed.session)["Expiration"]
    sb.advance_clock(PAST_EXPIRY)
    assert assumed.refreshes == 0
    assert expiry - datetime.now(UTC) > timedelta(minutes=10)  # botocore sees no reason to refresh


def _some_keys(sb, session, n: int) -> list[tuple[str, str]]:
    df = xn.read_scan(session, sb.table, columns=list(KEY), limit=n, key_schema=KEY)
    return list(zip(df["customer_id"], df["order_ts"], strict=True))


# -- one forced refresh, then the same request succeeds -----------------------------------------


def test_read_query_succeeds_after_one_forced_refresh(sb):
    assumed = Assumed(sb)
    before = xn.read_query(assumed.session, sb.table, "C-0009")
    _expire(sb, assumed)
    after = xn.read_query(assumed.session, sb.table, "C-0009")
    assert len(after) == len(before) > 0
    assert assumed.refreshes == 1
    assert assumed.key() != assumed.first_key


def test_read_scan_succeeds_after_one_forced_refresh(sb):
    """The DescribeTable before the read (no key_schema) is refreshed for too."""
    assumed = Assumed(sb)
    _expire(sb, assumed)
    df = xn.read_scan(assumed.session, sb.table)
    assert len(df) == sb.item_count
    assert assumed.refreshes == 1


def test_a_page_refused_mid_read_is_sent_again_as_it_was(sb):
    """The server's clock jumps before page 2: page 2 is refreshed for and re-sent, not skipped."""
    assumed = Assumed(sb)
    starts: list[object] = []

    def page_requested(params, **_) -> None:
        starts.append(params.get("ExclusiveStartKey"))
        if len(starts) == 2:
            sb.advance_clock(PAST_EXPIRY)

    assumed.session.events.register("before-parameter-build.dynamodb.Scan", page_requested)
    df = xn.read_scan(assumed.session, sb.table, key_schema=KEY)
    assert len(df) == sb.item_count and not df.duplicated(list(KEY)).any()
    assert assumed.refreshes == 1
    assert len(starts) >= 3 and starts[1] is not None  # the refused page was page 2


def test_parallel_segments_refresh_once(sb):
    assumed = Assumed(sb)
    _expire(sb, assumed)
    df = xn.read_scan(assumed.session, sb.table, segments=8, key_schema=KEY)
    assert len(df) == sb.item_count
    assert assumed.refreshes == 1


def test_read_items_threads_refresh_once(sb):
    assumed = Assumed(sb)
    keys = _some_keys(sb, assumed.session, 450)  # five BatchGetItem requests at once
    _expire(sb, assumed)
    df = xn.read_items(assumed.session, sb.table, keys)
    assert sorted(zip(df["customer_id"], df["order_ts"], strict=True)) == sorted(keys)
    assert assumed.refreshes == 1


def test_write_frame_succeeds_after_one_forced_refresh(sb):
    assumed = Assumed(sb, sb.writer_role_arn)
    part = sb.writer_partitions[0]
    stamp = uuid.uuid4().hex[:8]
    df = pd.DataFrame({
        "customer_id": [part] * 40,
        "order_ts": [f"2031-{stamp}-{i:02d}" for i in range(40)],
        "total": [Decimal("1.5")] * 40,
    })
    _expire(sb, assumed)
    report = xn.write_frame(assumed.session, sb.table_arn, df, progress=False)
    assert report.ok and report.rows_written == 40
    assert assumed.refreshes == 1
    back = xn.read_query(assumed.session, sb.table_arn, part, sort=("begins_with", f"2031-{stamp}"))
    assert len(back) == 40


def test_a_burst_of_refusals_costs_one_assume_role(sb):
    """Sixteen threads refused with the same credentials, at the same moment: one AssumeRole."""
    assumed = Assumed(sb)
    credentials = assumed.session.get_credentials()
    rejected = assumed.first_key
    go = threading.Barrier(16)
    answers: list[bool] = []

    def refused() -> None:
        go.wait()
        answers.append(credentials.force_refresh(rejected))

    threads = [threading.Thread(target=refused) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [True] * 16  # every thread may send again, with the new credentials
    assert assumed.refreshes == 1
    assert xn.whoami(assumed.session)["Account"] == sb.account_b


# -- refused again after the refresh: one clear error, no loop -----------------------------------


def _assert_refreshed_error(err: xn.ExpiredCredentialsError, clocks: bool = True) -> None:
    text = str(err)
    assert err.code == "ExpiredTokenException"
    assert "The security token included in the request is expired" in text
    assert "credentials were refreshed (a new sts:AssumeRole" in text
    assert "the server refused the new ones too" in text
    if clocks:  # the engine's requests compare the clocks
        assert "This machine's clock says" in text and "the server's Date header said" in text
    assert "(1) this machine's clock" in text and "sync it" in text
    assert "(2) the source credentials" in text and "aws sso login" in text
    assert "xn.assume_role" not in text  # the session already is one
    assert err.hint is not None and err.hint in text


def test_a_second_expiry_right_after_the_refresh_is_one_clear_error(sb):
    assumed = Assumed(sb)
    _expire(sb, assumed)
    assumed.expire_on_refresh()
    with pytest.raises(xn.ExpiredCredentialsError) as err:
        xn.read_query(assumed.session, sb.table, "C-0009", key_schema=KEY)
    _assert_refreshed_error(err.value)
    assert err.value.table == sb.table and err.value.operation == "Query"
    assert assumed.refreshes == 1
    # The next call finds the fresh credentials refused already: no AssumeRole, the same advice.
    with pytest.raises(xn.ExpiredCredentialsError) as again:
        xn.read_query(assumed.session, sb.table, "C-0009", key_schema=KEY)
    _assert_refreshed_error(again.value)
    assert assumed.refreshes == 1


def test_a_second_expiry_outside_the_engine_gets_the_same_advice(sb):
    """DescribeTable (the key schema, before the read) is refreshed for and explained too."""
    assumed = Assumed(sb)
    _expire(sb, assumed)
    assumed.expire_on_refresh()
    with pytest.raises(xn.ExpiredCredentialsError) as err:
        xn.read_query(assumed.session, sb.table, "C-0009")
    assert str(err.value).startswith("DescribeTable of ")
    _assert_refreshed_error(err.value, clocks=False)
    assert assumed.refreshes == 1


def test_a_second_expiry_with_parallel_segments_is_one_error_and_one_assume_role(sb):
    assumed = Assumed(sb)
    _expire(sb, assumed)
    assumed.expire_on_refresh()
    with pytest.raises(xn.ExpiredCredentialsError) as err:
        xn.read_scan(assumed.session, sb.table, segments=8, key_schema=KEY)
    _assert_refreshed_error(err.value)
    assert assumed.refreshes == 1


def test_a_second_expiry_of_a_write_reports_the_unwritten_rows(sb):
    assumed = Assumed(sb, sb.writer_role_arn)
    df = pd.DataFrame({"customer_id": [sb.writer_partitions[0]] * 3,
                       "order_ts": [f"2032-{uuid.uuid4().hex[:8]}-{i}" for i in range(3)]})
    _expire(sb, assumed)
    assumed.expire_on_refresh()
    with pytest.raises(xn.IncompleteWriteError) as err:
        xn.write_frame(assumed.session, sb.table_arn, df, progress=False, key_schema=KEY)
    assert err.value.report.rows_failed == 3
    assert err.value.code == "ExpiredTokenException"
    assert isinstance(err.value.__cause__, xn.ExpiredCredentialsError)
    _assert_refreshed_error(err.value.__cause__)
    assert "unexpected" not in str(err.value)  # the engine's error, told as it is
    assert assumed.refreshes == 1


def test_a_forced_refresh_is_allowed_again_once_its_credentials_worked(sb):
    """Refused, refreshed, used for a while, refused again (the server's clock moved on): again."""
    assumed = Assumed(sb)
    for refreshes in (1, 2, 3):
        sb.advance_clock(PAST_EXPIRY)
        assert len(xn.read_query(assumed.session, sb.table, "C-0009")) > 0
        assert assumed.refreshes == refreshes


# -- sessions that cannot be refreshed -----------------------------------------------------------


def test_fixed_keys_get_the_renew_and_clock_hint(sb, monkeypatch):
    assumed = Assumed(sb)
    frozen = assumed.session.get_credentials().get_frozen_credentials()
    monkeypatch.setenv("AWS_ENDPOINT_URL", sb.endpoint_url)
    static = boto3.Session(aws_access_key_id=frozen.access_key,
                           aws_secret_access_key=frozen.secret_key,
                           aws_session_token=frozen.token, region_name=sb.region)
    sb.advance_clock(PAST_EXPIRY)
    with pytest.raises(xn.ExpiredCredentialsError) as err:
        xn.read_scan(static, sb.table, key_schema=KEY)
    text = str(err.value)
    assert "The security token included in the request is expired" in text
    assert "These credentials cannot be refreshed here: they are fixed keys" in text
    assert "This machine's clock says" in text
    assert "Renew the source credentials (e.g. `aws sso login`) and check this machine's clock" in text
    assert "were refreshed" not in text
    assert "aws sso login" in err.value.cli_hint and "xn." not in err.value.cli_hint
    assert assumed.refreshes == 0  # nothing tried to refresh the fixed keys
    assert frozen.secret_key not in text and frozen.token not in text


# -- the clock comparison ------------------------------------------------------------------------


def _refusal(code: str, date: str | None, refreshed: bool = False) -> ClientError:
    headers = {"date": date} if date is not None else {}
    metadata = {"HTTPStatusCode": 400, "HTTPHeaders": headers}
    if refreshed:  # what a session from assume_role marks on an answer it refreshed for
        metadata[REFRESHED_MARK] = True
    return ClientError({"Error": {"Code": code, "Message": "The security token included in the "
                                                            "request is expired"},
                        "ResponseMetadata": metadata}, "Query")


def test_the_message_compares_the_clocks():
    ahead = format_datetime(datetime.now(UTC) + timedelta(minutes=20, seconds=3), usegmt=True)
    text = _clocks(_refusal("ExpiredTokenException", ahead))
    assert text.startswith("This machine's clock says ")
    assert "the server's Date header said" in text
    assert "(20 min 3 s ahead of this machine)" in text or "(20 min 2 s ahead of this machine)" in text
    behind = format_datetime(datetime.now(UTC) - timedelta(seconds=40), usegmt=True)
    assert "behind this machine" in _clocks(_refusal("RequestExpired", behind))
    same = format_datetime(datetime.now(UTC), usegmt=True)
    assert "(the same time)" in _clocks(_refusal("ExpiredToken", same))
    assert "no readable Date header" in _clocks(_refusal("ExpiredToken", None))
    assert "no readable Date header" in _clocks(_refusal("ExpiredToken", "yesterday"))


@pytest.mark.parametrize("code", ["ExpiredToken", "ExpiredTokenException", "RequestExpired"])
def test_every_expired_code_gets_the_refreshed_advice(code):
    err = _expired(_refusal(code, None, refreshed=True), what="Reading 'T'", table="T")
    assert isinstance(err, xn.ExpiredCredentialsError) and err.code == code
    assert str(err).startswith(f"Reading 'T' failed: {code}: The security token")
    assert "credentials were refreshed" in str(err) and "xn.assume_role" not in str(err)
    # Any caller's translation (DescribeTable, whoami...) gets the same advice.
    plain = translate_client_error(_refusal(code, None, refreshed=True), table="T")
    assert plain.hint == err.hint and "xn.assume_role" not in str(plain)


def test_request_expired_of_fixed_keys_points_to_the_clock():
    err = _expired(_refusal("RequestExpired", None), what="Reading 'T'", table="T")
    assert "check this machine's clock" in str(err) and "cannot be refreshed here" in str(err)
