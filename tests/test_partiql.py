"""xn.read_partiql and ``xacct sql`` against the running sandbox (ExecuteStatement over HTTP).

The hostile and failing paths come first: bad statements, writes, wrong
parameters, denials, syntax errors, foreign NextTokens. Then the proof that a
PartiQL SELECT reads exactly what the equivalent Query or Scan reads (rows,
values, dtypes), pages like it and costs like it.
"""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd
import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError
from versions import STR

import xacct_nb as xn
from xacct_nb import _partiql

pytestmark = pytest.mark.sandbox

T = "MyCrossAccountTable"
KEYS = ["customer_id", "order_ts"]


@pytest.fixture(scope="module")
def granted(sandbox):
    """The reader role's read policy (``xn.policies.read_only_policy``) allows PartiQLSelect."""
    iam = sandbox.admin_session("B").client("iam")
    role = sandbox.reader_role_arn.rsplit("/", 1)[-1]
    documents = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    assert any("dynamodb:PartiQLSelect" in json.dumps(doc) for doc in documents)


@pytest.fixture
def reader_ddb(sandbox, reader, granted):
    return reader.client("dynamodb", endpoint_url=sandbox.endpoint_url)


def _same(left: pd.DataFrame, right: pd.DataFrame, keys: list[str] = KEYS) -> None:
    """Same rows, values and dtypes, whatever the row and column order."""
    assert sorted(left.columns) == sorted(right.columns)
    cols = sorted(left.columns)
    a = left[cols].sort_values(keys).reset_index(drop=True)
    b = right[cols].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


def _values(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as Python objects, every missing value as None (dtypes left out)."""
    return df.astype(object).where(df.notna(), None)


@pytest.fixture
def nothing_sent(monkeypatch):
    """Fail the test if read_partiql builds a client or asks DynamoDB anything."""
    def refuse(*args, **kwargs):
        raise AssertionError("a request was about to be sent")

    monkeypatch.setattr(_partiql, "raw_items_client", refuse)
    monkeypatch.setattr(_partiql, "key_schema_for", refuse)


def test_without_partiql_select_the_reader_is_denied_with_a_hint(sandbox, reader):
    # AWS's ExecuteStatement needs dynamodb:PartiQLSelect: an explicit Deny takes it away.
    iam = sandbox.admin_session("B").client("iam")
    role = sandbox.reader_role_arn.rsplit("/", 1)[-1]
    iam.put_role_policy(RoleName=role, PolicyName="TestNoPartiQL", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "dynamodb:PartiQLSelect", "Resource": "*"}],
    }))
    try:
        with pytest.raises(xn.AccessDeniedError, match="PartiQLSelect"):
            xn.read_partiql(reader, f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001'")
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="TestNoPartiQL")
    assert len(xn.read_partiql(reader, f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001'"))


# -- refused before anything is sent ----------------------------------------------------


@pytest.mark.parametrize("statement", [None, "", "   \n", 42, b"SELECT * FROM T", ["SELECT"]])
def test_statement_must_be_a_non_empty_str(reader, nothing_sent, statement):
    with pytest.raises(xn.InvalidArgumentError, match="statement must be a PartiQL SELECT"):
        xn.read_partiql(reader, statement)


@pytest.mark.parametrize("statement", [
    f"INSERT INTO \"{T}\" VALUE {{'customer_id': 'C-9', 'order_ts': 'x'}}",
    f"UPDATE \"{T}\" SET total = 0 WHERE customer_id = 'C-0001' AND order_ts = 'x'",
    f"DELETE FROM \"{T}\" WHERE customer_id = 'C-0001' AND order_ts = 'x'",
    f"  /* sneaky */ delete from \"{T}\" where customer_id = 'C-0001' and order_ts = 'x'",
    f"-- a comment\nExists(SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001')",
])
def test_write_statements_are_refused_without_sending(reader, nothing_sent, statement):
    with pytest.raises(xn.InvalidArgumentError, match="read_partiql only reads") as info:
        xn.read_partiql(reader, statement)
    assert "write_frame" in str(info.value)


def test_the_refused_delete_deleted_nothing(reader, granted):
    before = xn.read_query(reader, T, "C-0001")
    with pytest.raises(xn.InvalidArgumentError):
        xn.read_partiql(reader, f"DELETE FROM \"{T}\" WHERE customer_id = ? AND order_ts = ?",
                        ["C-0001", before["order_ts"].iloc[0]])
    assert len(xn.read_query(reader, T, "C-0001")) == len(before)


@pytest.mark.parametrize("parameters, message", [
    ("C-0001", "parameters must be a list"),
    ({"customer_id": "C-0001"}, "parameters must be a list"),
    (b"C-0001", "parameters must be a list"),
    (["C-0001", "extra"], "1 \\? placeholder but 2 parameters"),
    ([], "1 \\? placeholder but 0 parameters"),
    ([object()], "parameters\\[0\\]"),
    ([float("nan")], "parameters\\[0\\]"),
    ([pd.NA], "parameters\\[0\\]"),
])
def test_wrong_parameters_are_refused_with_a_hint(reader, nothing_sent, parameters, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE customer_id = ?', parameters)


def test_placeholders_without_parameters_and_quoted_question_marks(reader, nothing_sent):
    with pytest.raises(xn.InvalidArgumentError, match="no parameters were given"):
        xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE customer_id = ?')
    # A ? inside quotes (or a comment) is not a placeholder.
    assert _partiql.parse_statement(
        f"SELECT \"a?\" FROM \"{T}\" WHERE x = '?' -- ?\n AND y = ?").placeholders == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"consistent": "yes"}, "consistent"),
    ({"limit": 0}, "limit"),
    ({"limit": True}, "limit"),
    ({"chunksize": -1}, "chunksize"),
    ({"numbers": "int"}, "numbers"),
    ({"progress": "always"}, "progress"),
    ({"flatten": 1}, "flatten"),
])
def test_bad_options_are_refused(reader, nothing_sent, kwargs, message):
    with pytest.raises(xn.InvalidArgumentError, match=message):
        xn.read_partiql(reader, f'SELECT * FROM "{T}"', **kwargs)


def test_not_a_session_is_refused():
    with pytest.raises(xn.InvalidArgumentError):
        xn.read_partiql("not a session", f'SELECT * FROM "{T}"')


# -- refused by DynamoDB, translated ----------------------------------------------------


@pytest.mark.parametrize("statement", [
    f'SELEC * FROM "{T}"',
    f'SELECT * FROM "{T}" WHERE customer_id =',
    f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001",
    f'SELECT * FROM "{T}" WHERE customer_id = \'C-0001\'; SELECT * FROM "{T}"',
])
def test_syntax_errors_become_invalid_argument_with_a_partiql_hint(reader, granted, statement):
    with pytest.raises(xn.InvalidArgumentError) as info:
        xn.read_partiql(reader, statement)
    message = str(info.value)
    assert "ValidationException" in message
    assert "double quotes" in message and "single quotes" in message
    assert "parameters=" in message
    assert info.value.code == "ValidationException"


def test_a_table_the_role_may_not_read_is_access_denied(reader, granted, sandbox):
    with pytest.raises(xn.AccessDeniedError) as info:
        xn.read_partiql(reader, f'SELECT * FROM "{sandbox.private_table}"')
    message = str(info.value)
    assert "dynamodb:PartiQLSelect" in message and sandbox.private_table in message
    assert "xn.read_query" in message  # the way out that needs no new grant


def test_an_unknown_table_is_table_not_found_with_a_hint(sandbox):
    admin = sandbox.admin_session("B")  # may do anything: DynamoDB answers "not found"
    with pytest.raises(xn.TableNotFoundError) as info:
        xn.read_partiql(admin, 'SELECT * FROM "NoSuchTable" WHERE pk = ?', ["x"])
    assert "NoSuchTable" in str(info.value) and "double quotes" in str(info.value)


def test_consistent_read_of_a_gsi_is_refused_with_a_hint(reader, granted):
    with pytest.raises(xn.InvalidArgumentError, match="eventually consistently"):
        xn.read_partiql(reader, f'SELECT * FROM "{T}"."status-index" WHERE status = ?',
                        ["cancelled"], consistent=True)


def test_unknown_index_is_an_error_not_an_empty_frame(reader, granted):
    with pytest.raises(xn.XacctError) as info:
        xn.read_partiql(reader, f'SELECT * FROM "{T}"."no-such-index" WHERE status = ?', ["x"])
    assert "no-such-index" in str(info.value) or "index" in str(info.value)


def test_a_foreign_next_token_is_refused_by_the_sandbox(reader_ddb):
    first = reader_ddb.execute_statement(Statement=f'SELECT * FROM "{T}"', Limit=5)
    token = first["NextToken"]
    with pytest.raises(ClientError) as info:
        reader_ddb.execute_statement(Statement=f'SELECT * FROM "{T}" WHERE total > 1',
                                     NextToken=token)
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "NextToken" in info.value.response["Error"]["Message"]
    # The same statement with other parameters is another statement too.
    first = reader_ddb.execute_statement(
        Statement=f'SELECT * FROM "{T}" WHERE customer_id = ?', Parameters=[{"S": "C-0001"}],
        Limit=2)
    with pytest.raises(ClientError, match="NextToken"):
        reader_ddb.execute_statement(
            Statement=f'SELECT * FROM "{T}" WHERE customer_id = ?',
            Parameters=[{"S": "C-0002"}], NextToken=first["NextToken"])
    # A forged token is refused, never read as "the end".
    for forged in ("garbage", "eyJkIjogIngifQ==", token[:-4]):
        with pytest.raises(ClientError) as info:
            reader_ddb.execute_statement(Statement=f'SELECT * FROM "{T}"', NextToken=forged)
        assert info.value.response["Error"]["Code"] == "ValidationException"
    # Its own token continues where it stopped.
    again = reader_ddb.execute_statement(Statement=f'SELECT * FROM "{T}"', Limit=5,
                                         NextToken=token)
    assert len(again["Items"]) == 5 and again["Items"][0] != first["Items"][0]


def test_sandbox_pages_by_limit_and_by_one_megabyte(reader_ddb):
    page = reader_ddb.execute_statement(Statement=f'SELECT * FROM "{T}"', Limit=7,
                                        ReturnConsumedCapacity="TOTAL")
    assert len(page["Items"]) == 7 and "NextToken" in page
    assert page["ConsumedCapacity"]["TableName"] == T
    assert page["ConsumedCapacity"]["CapacityUnits"] > 0
    page = reader_ddb.execute_statement(Statement=f'SELECT * FROM "{T}"')
    assert 0 < len(page["Items"]) < 3000 and "NextToken" in page  # 1 MB, not all 2.3 MB
    assert "ConsumedCapacity" not in page  # not asked for


# -- the same rows as Query / Scan ------------------------------------------------------


def test_sort_key_range_equals_read_query(reader, granted):
    df = xn.read_partiql(
        reader, f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001' "
                "AND order_ts BETWEEN '2026-03-01' AND '2026-08-31'")
    expected = xn.read_query(reader, T, "C-0001", sort=("between", "2026-03-01", "2026-08-31"))
    assert len(df) > 2
    _same(df, expected)
    assert df.attrs["pages"] == 1 and df.attrs["count"] == len(df)
    assert df.attrs["consumed_capacity"] == expected.attrs["consumed_capacity"]
    assert list(df.columns[:2]) == KEYS


def test_in_list_equals_concatenated_read_queries(reader, granted):
    customers = ["C-0001", "C-0002", "C-0003", "C-0042"]
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE customer_id IN [?, ?, ?, ?]',
                         customers)
    with warnings.catch_warnings():
        # pandas 2.x warns that a later version will type all-missing columns differently
        warnings.simplefilter("ignore", FutureWarning)
        expected = pd.concat([xn.read_query(reader, T, c) for c in customers],
                             ignore_index=True)
    # pd.concat turns a column that is all-missing in one partition into object: the values
    # are compared with the concatenation, the dtypes with one read of the same items.
    _same(_values(df), _values(expected))
    assert df["customer_id"].tolist() == expected["customer_id"].tolist()  # grouped as asked
    _same(df, xn.read_scan(reader, T, filter=Attr("customer_id").is_in(customers)))
    # The same with literals in a (...) list.
    df2 = xn.read_partiql(reader, f"SELECT * FROM \"{T}\" WHERE customer_id IN "
                                  "('C-0001', 'C-0002', 'C-0003', 'C-0042')")
    _same(df2, df)


def test_nested_attribute_path_equals_read_query(reader, granted):
    df = xn.read_partiql(
        reader, f"SELECT customer_id, order_ts, ship_to.city, ship_to.geo.zone FROM \"{T}\" "
                "WHERE customer_id = 'C-0002' AND ship_to.country <> 'DE' AND lines[0].qty >= 1")
    expected = xn.read_query(
        reader, T, "C-0002", columns=["customer_id", "order_ts", "ship_to"],
        filter=Attr("ship_to.country").ne("DE") & Attr("lines[0].qty").gte(1))
    # DynamoDB names a selected path by its last step: ship_to.city -> "city".
    ship_to = expected.pop("ship_to")
    expected["city"] = pd.array([m["city"] for m in ship_to], dtype=STR)
    expected["zone"] = pd.array([m["geo"]["zone"] for m in ship_to], dtype="int64")
    assert len(df) > 0 and (df.columns.tolist() == ["customer_id", "order_ts", "city", "zone"])
    _same(df, expected)


def test_gsi_through_table_dot_index_equals_read_query(reader, granted):
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}"."status-index" WHERE status = \'returned\'')
    expected = xn.read_query(reader, T, "returned", index="status-index")
    assert len(df) > 50
    _same(df, expected)
    assert list(df.columns[:3]) == list(expected.columns[:3])  # the index's keys first too
    assert df.attrs["consumed_capacity"] == expected.attrs["consumed_capacity"]


def test_parameters_equal_read_query_and_datetimes_are_iso_utc(reader, granted):
    since = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE customer_id = ? AND order_ts >= ?',
                         ["C-0005", since])
    expected = xn.read_query(reader, T, "C-0005", sort=(">=", "2026-06-01T02:00:00Z"))
    assert len(df) > 0
    _same(df, expected)
    # numbers, booleans and None as parameters
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE customer_id = ? AND express = ? '
                                 "AND item_count > ?", ["C-0005", True, 2])
    expected = xn.read_query(reader, T, "C-0005",
                             filter=Attr("express").eq(True) & Attr("item_count").gt(2))
    _same(df, expected)


@pytest.mark.parametrize("where, parameters, condition", [
    ("begins_with(order_ts, ?)", ["2026-03"], Attr("order_ts").begins_with("2026-03")),
    ("contains(tags, 'gift')", None, Attr("tags").contains("gift")),
    ("gift_message IS MISSING AND total > ?", [300], Attr("gift_message").not_exists()
     & Attr("total").gt(300)),
    ('"gift_message" IS NOT MISSING', None, Attr("gift_message").exists()),
    ("(status = 'cancelled' OR status = ?) AND NOT express = true", ["returned"],
     Attr("status").is_in(["cancelled", "returned"]) & Attr("express").ne(True)),
    ("size(lines) > 3", None, Attr("lines").size().gt(3)),
    ("attribute_type(refund_reason, 'NULL')", None, Attr("refund_reason").attribute_type("NULL")),
    ("total >= 250.5 AND ship_to.geo.zone IN [1, 2]", None,
     Attr("total").gte(Decimal("250.5")) & Attr("ship_to.geo.zone").is_in([1, 2])),
    ("customer_id = 'C-0011' OR customer_id = 'C-0012'", None,
     Attr("customer_id").is_in(["C-0011", "C-0012"])),
])
def test_where_clauses_equal_scan_filters(reader, granted, where, parameters, condition):
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE {where}', parameters)
    expected = xn.read_scan(reader, T, filter=condition)
    assert 0 < len(df) < 3000
    _same(df, expected)
    assert df.attrs["consumed_capacity"] == expected.attrs["consumed_capacity"]


def test_full_select_pages_like_a_scan_and_equals_read_scan(reader, granted):
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}"')
    expected = xn.read_scan(reader, T)
    assert len(df) == 3000
    _same(df, expected)
    assert df.attrs["pages"] >= 3
    assert df.attrs["pages"] == expected.attrs["pages"]
    assert df.attrs["count"] == 3000 and df.attrs["scanned_count"] is None
    # ConsumedCapacity summed over the pages: that of the Scan of the same items.
    assert df.attrs["consumed_capacity"] == pytest.approx(
        expected.attrs["consumed_capacity"], rel=0.02)
    assert df.attrs["consumed_capacity"] > 100


def test_consistent_read_costs_twice_and_reads_the_same(reader, granted):
    statement = f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0007'"
    eventual = xn.read_partiql(reader, statement)
    strong = xn.read_partiql(reader, statement, consistent=True)
    _same(eventual, strong)
    assert strong.attrs["consumed_capacity"] == 2 * eventual.attrs["consumed_capacity"]
    full = xn.read_partiql(reader, f'SELECT * FROM "{T}"', consistent=True)
    assert len(full) == 3000


def test_limit_caps_rows_and_requests(reader, granted):
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}"', limit=5)
    assert len(df) == 5 and df.attrs["pages"] == 1
    assert df.attrs["consumed_capacity"] <= 2.0  # 5 items read, not a 1 MB page
    _same(df, xn.read_scan(reader, T, limit=5))
    # With a WHERE clause the cap still holds, across pages.
    df = xn.read_partiql(reader, f'SELECT * FROM "{T}" WHERE status = ?', ["delivered"],
                         limit=1201)
    assert len(df) == 1201 and set(df["status"]) == {"delivered"} and df.attrs["pages"] >= 2
    # limit larger than the result
    df = xn.read_partiql(reader, f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001'", limit=10**6)
    assert len(df) == len(xn.read_query(reader, T, "C-0001"))


def test_chunksize_gives_bounded_frames_of_the_same_rows(reader, granted):
    chunks = xn.read_partiql(reader, f'SELECT * FROM "{T}"', chunksize=700)
    assert not isinstance(chunks, pd.DataFrame)
    frames = list(chunks)
    assert [len(f) for f in frames] == [700, 700, 700, 700, 200]
    assert frames[-1].attrs["pages"] >= 3
    whole = pd.concat(frames, ignore_index=True)
    assert len(whole) == 3000 and not whole.duplicated(KEYS).any()


def test_chunked_errors_are_translated_too(reader, granted, sandbox):
    chunks = xn.read_partiql(reader, f'SELECT * FROM "{sandbox.private_table}"', chunksize=10)
    with pytest.raises(xn.AccessDeniedError, match="PartiQLSelect"):
        list(chunks)


def test_empty_result_and_order_by_desc(reader, granted):
    df = xn.read_partiql(reader, f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-9999'")
    assert len(df) == 0 and list(df.columns) == KEYS
    df = xn.read_partiql(reader, f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0001' "
                                 "ORDER BY order_ts DESC")
    assert df["order_ts"].tolist() == sorted(df["order_ts"], reverse=True)


def test_numbers_and_flatten_are_those_of_the_other_readers(reader, granted):
    statement = f"SELECT * FROM \"{T}\" WHERE customer_id = 'C-0003'"
    for kwargs in ({"numbers": "decimal"}, {"numbers": "float"}, {"flatten": True}):
        _same(xn.read_partiql(reader, statement, **kwargs),
              xn.read_query(reader, T, "C-0003", **kwargs))


# -- xacct sql --------------------------------------------------------------------------


@pytest.fixture
def sandbox_env(sandbox, monkeypatch, granted):
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_xacct_sql_writes_parquet_and_csv(sandbox_env, reader, tmp_path, capsys, suffix):
    from xacct_nb._cli import main

    out = tmp_path / f"orders{suffix}"
    code = main(["sql", f'SELECT customer_id, order_ts, total, status FROM "{T}" '
                        "WHERE customer_id = ? AND order_ts >= ?",
                 "--parameter", "C-0001", "--parameter", "2026-03-01", "--output", str(out)])
    said = capsys.readouterr()
    assert code == 0, said.err
    expected = xn.read_query(reader, T, "C-0001", sort=(">=", "2026-03-01"),
                             columns=["customer_id", "order_ts", "total", "status"])
    assert f"Wrote {len(expected)} rows to {out}" in said.out
    back = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert len(back) == len(expected) > 0
    assert back["order_ts"].tolist() == expected["order_ts"].tolist()
    assert back["total"].tolist() == pytest.approx(expected["total"].tolist())


def test_xacct_sql_prints_the_frame_and_its_cost(sandbox_env, capsys):
    from xacct_nb._cli import main

    code = main(["sql", f'SELECT * FROM "{T}"', "--limit", "3", "--consistent"])
    said = capsys.readouterr()
    assert code == 0, said.err
    frame = said.out.splitlines()[-4:]  # (xn.connect() says how it connected first)
    assert "customer_id" in frame[0] and all(line.split()[1].startswith("C-") for line in frame[1:])
    assert "xacct sql: 3 rows, 1 page" in said.err and "read capacity units" in said.err


@pytest.mark.parametrize("args, message", [
    (["sql", f'SELECT * FROM "{T}"', "--output", "out.xlsx"], "'.xlsx'"),
    (["sql", f'DELETE FROM "{T}" WHERE customer_id = \'x\' AND order_ts = \'y\''],
     "only reads"),
    (["sql", f'SELEC * FROM "{T}"'], "double quotes"),
])
def test_xacct_sql_errors_exit_2_without_traceback(sandbox_env, tmp_path, monkeypatch, capsys,
                                                    args, message):
    from xacct_nb._cli import main

    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("xacct: error: ") and message in err
    assert "Traceback" not in err


def test_sandbox_still_serves_partiql_writes_through_moto(sandbox):
    """Writes are not this module's business, but its SELECT path must not break them."""
    admin = sandbox.admin_session("B").client("dynamodb", endpoint_url=sandbox.endpoint_url)
    admin.execute_statement(
        Statement=f"INSERT INTO \"{sandbox.private_table}\" VALUE {{'account': 'ACC-PQ'}}")
    try:
        got = admin.execute_statement(
            Statement=f"SELECT * FROM \"{sandbox.private_table}\" WHERE account = 'ACC-PQ'")
        assert got["Items"] == [{"account": {"S": "ACC-PQ"}}]
    finally:
        admin.execute_statement(
            Statement=f"DELETE FROM \"{sandbox.private_table}\" WHERE account = 'ACC-PQ'")
