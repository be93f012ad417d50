"""The explorer: its logic against the sandbox, then the widgets driven without a kernel."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import logging
import sys
import threading
import types
from decimal import Decimal
from pathlib import Path

import ipywidgets as w
import pandas as pd
import pytest
from boto3.dynamodb.conditions import Attr
from pandas.testing import assert_frame_equal

import xacct_nb as xn
from xacct_nb import _explorer_logic as xw
from xacct_nb._engine import RESUME
from xacct_nb._explorer import Explorer, explorer
from xacct_nb._explorer_logic import ExplorerLogic, FilterRow, convert_value
from xacct_nb.sandbox import _demo_data as demo

sys.path.insert(0, str(Path(__file__).parent))
from faultproxy import FaultProxy  # noqa: E402

pytestmark = pytest.mark.sandbox

CUSTOMER = "C-0001"


def reproduce(code: str, session, name: str = "session") -> pd.DataFrame:
    """Run the explorer's "copy as code" text as a user would, in a fresh namespace."""
    namespace = {name: session}
    lines = code.splitlines()
    lines[-1] = "df = " + lines[-1]
    exec("\n".join(lines), namespace)  # noqa: S102 - the point of the test
    return namespace["df"]


def check_reproduced(logic: ExplorerLogic, session) -> None:
    assert logic.error == "", logic.error
    assert_frame_equal(reproduce(logic.code(imports=True), session), logic.result)
    # The bare call too, with the documented imports only.
    bare = eval(logic.code(), {"xn": xn, "Attr": Attr, "session": session})  # noqa: S307
    assert_frame_equal(bare, logic.result)


@pytest.fixture
def logic(reader, sandbox) -> ExplorerLogic:
    lg = ExplorerLogic(reader, [sandbox.table, sandbox.private_table])
    lg.load_tables()
    lg.select_table(sandbox.table)
    return lg


@pytest.fixture(scope="module")
def partition(reader, sandbox) -> pd.DataFrame:
    return xn.read_query(reader, sandbox.table, CUSTOMER)


# -- tables ---------------------------------------------------------------------------------


def test_tables_fall_back_to_the_given_ones_when_listtables_is_denied(reader, sandbox):
    lg = ExplorerLogic(reader, [sandbox.table, sandbox.table_arn])
    assert lg.load_tables() == [sandbox.table, sandbox.table_arn]
    assert lg.can_list_tables is False
    assert lg.error == ""
    assert "dynamodb:ListTables is denied" in lg.notice


def test_no_tables_given_and_listtables_denied_says_to_pass_tables(reader):
    lg = ExplorerLogic(reader)
    assert lg.load_tables() == []
    assert "No tables to show: this role may not list tables" in lg.error
    assert "xn.explorer(session, tables=['MyTable'])" in lg.error
    assert "ask the table's owner" in lg.hint


def test_listtables_works_for_an_admin_and_adds_to_the_given_tables(sandbox):
    admin = sandbox.admin_session("B")
    lg = ExplorerLogic(admin)
    assert set(lg.load_tables()) == {sandbox.table, sandbox.provisioned_table, sandbox.private_table}
    assert lg.can_list_tables is True and lg.notice == "" and lg.error == ""
    # A given ARN comes first and its table is not listed twice by name.
    lg = ExplorerLogic(admin, sandbox.table_arn)
    assert lg.load_tables() == [sandbox.table_arn, sandbox.private_table, sandbox.provisioned_table]


def test_select_table_describes_keys_indexes_and_size(logic, sandbox):
    schema = logic.schema
    assert (schema.partition, schema.sort) == ("customer_id", "order_ts")
    assert schema.indexes["status-index"][2] == "GSI"
    assert schema.indexes["order-id-index"][2] == "LSI"
    assert logic.index_options() == [
        ("table", None),
        ("status-index (GSI: status, order_ts)", "status-index"),
        ("order-id-index (LSI: customer_id, order_id)", "order-id-index"),
    ]
    assert logic.keys() == ("customer_id", "order_ts")
    assert logic.key_hint("partition") == "customer_id (S: text)"
    assert logic.key_hint("sort") == "order_ts (S: text)"
    assert f"{demo.ORDER_COUNT:,} items" in logic.table_info()
    assert {"customer_id", "order_ts", "status", "order_id"} <= set(logic.known_attributes())


def test_select_index(logic):
    logic.select_index("status-index")
    assert logic.keys() == ("status", "order_ts")
    logic.select_index("order-id-index")
    assert logic.keys() == ("customer_id", "order_id")
    logic.select_index("nope")
    assert "has no index 'nope'" in logic.error
    assert logic.index == "order-id-index"  # unchanged
    logic.select_index(None)
    assert logic.keys() == ("customer_id", "order_ts") and logic.error == ""


# -- typed inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "type_", "expected"),
    [
        ("C-0001", "S", "C-0001"),
        ("42", "S", "42"),
        ("42", "N", 42),
        (" -7 ", "N", -7),
        ("1.5", "N", 1.5),
        ("0.1", "N", 0.1),
        ("1e3", "N", 1000.0),
        ("12345678901234567890.123456789", "N", Decimal("12345678901234567890.123456789")),
        ("AAE=", "B", b"\x00\x01"),
        ("true", "BOOL", True),
        ("No", "BOOL", False),
        ("100", "auto", 100),
        ("99.5", "auto", 99.5),
        ("shipped", "auto", "shipped"),
        ('"100"', "auto", "100"),
        ("'x y'", "auto", "x y"),
        ("nan", "auto", "nan"),  # not a number DynamoDB could hold: a string
        ("true", "auto", "true"),  # booleans are picked explicitly (BOOL)
    ],
)
def test_convert_value(text, type_, expected):
    value = convert_value(text, type_)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "type_", "message"),
    [
        ("abc", "N", "is a number (N): 'abc' is not a number"),
        ("inf", "N", "is not a number"),
        ("not base64!", "B", "is not base64"),
        ("maybe", "BOOL", "is not true or false"),
        ("1", "X", "unknown type 'X'"),
    ],
)
def test_convert_value_rejects(text, type_, message):
    with pytest.raises(xn.InvalidArgumentError) as err:
        convert_value(text, type_)
    assert message in str(err.value)


def test_partition_input_is_typed_by_the_key_type(logic):
    logic.partition_text = CUSTOMER
    assert logic.partition_value() == CUSTOMER
    # A made-up schema with a number partition key and a binary sort key.
    logic.set_key_schema("account_no", "blob", partition_type="N", sort_type="B")
    assert logic.key_hint() == "account_no (N: number)"
    logic.partition_text = "0042"
    assert logic.partition_value() == 42
    logic.sort_op, logic.sort_text = ">=", "AAE="
    assert logic.sort_value() == (">=", b"\x00\x01")
    logic.partition_text = "C-0001"
    assert logic.run_query() is None
    assert logic.error == "partition key 'account_no' is a number (N): 'C-0001' is not a number."


def test_key_names_typed_in_text(logic):
    assert logic.set_key_schema_text("acct:N, ts").attribute_types == {"acct": "N", "ts": "S"}
    assert logic.set_key_schema_text("a, b, c").partition == "acct"  # unchanged
    assert "give one or two names" in logic.error
    logic.set_key_schema_text("a:X")
    assert "'a:X' is not 'name' or 'name:S|N|B'" in logic.error


# -- queries equal xn.read_query, and the code reproduces them -------------------------------------


@pytest.mark.parametrize(
    ("op", "values"),
    [
        ("=", None),  # an existing order_ts, filled in below
        ("<", ("2026-06",)),
        ("<=", ("2026-06-30",)),
        (">", ("2026-09",)),
        (">=", ("2026-09",)),
        ("between", ("2026-03", "2026-07")),
        ("begins_with", ("2026-03",)),
    ],
)
def test_each_sort_operator(logic, reader, sandbox, partition, op, values):
    if values is None:
        values = (partition.order_ts.iloc[3],)
    logic.partition_text = CUSTOMER
    logic.sort_op = op
    logic.sort_text = values[0]
    logic.sort_text2 = values[1] if len(values) > 1 else "ignored unless between"
    df = logic.run_query()
    expected = xn.read_query(reader, sandbox.table, CUSTOMER, sort=(op, *values))
    assert df is logic.result
    assert_frame_equal(df, expected)
    assert 0 < len(df) < len(partition)
    assert logic.code() == (
        f"xn.read_query(session, 'MyCrossAccountTable', 'C-0001', sort={(op, *values)!r})")
    check_reproduced(logic, reader)


@pytest.mark.parametrize(
    ("row", "condition", "source"),
    [
        (("total", ">", "100"), Attr("total").gt(100), "Attr('total').gt(100)"),
        (("total", "<=", "25.5"), Attr("total").lte(Decimal("25.5")), "Attr('total').lte(25.5)"),
        (("status", "=", "shipped"), Attr("status").eq("shipped"), "Attr('status').eq('shipped')"),
        (("status", "!=", "delivered"), Attr("status").ne("delivered"),
         "Attr('status').ne('delivered')"),
        (("order_id", "begins_with", "O-00"), Attr("order_id").begins_with("O-00"),
         "Attr('order_id').begins_with('O-00')"),
        (("tags", "contains", "gift"), Attr("tags").contains("gift"),
         "Attr('tags').contains('gift')"),
        (("gift_message", "exists"), Attr("gift_message").exists(),
         "Attr('gift_message').exists()"),
        (("loyalty_points", "not_exists"), Attr("loyalty_points").not_exists(),
         "Attr('loyalty_points').not_exists()"),
        (("item_count", "between", "3", "8"), Attr("item_count").between(3, 8),
         "Attr('item_count').between(3, 8)"),
        (("express", "=", "true", "", "BOOL"), Attr("express").eq(True),
         "Attr('express').eq(True)"),
        (("ship_to.city", "=", "Lisbon"), Attr("ship_to.city").eq("Lisbon"),
         "Attr('ship_to.city').eq('Lisbon')"),
        (("order_id", ">", '"O-001000"'), Attr("order_id").gt("O-001000"),
         "Attr('order_id').gt('O-001000')"),
    ],
)
def test_each_filter_operator(logic, reader, sandbox, row, condition, source):
    logic.partition_text = CUSTOMER
    logic.filters = [FilterRow(*row)]
    df = logic.run_query()
    expected = xn.read_query(reader, sandbox.table, CUSTOMER, filter=condition)
    assert_frame_equal(df, expected)
    assert logic.code() == f"xn.read_query(session, 'MyCrossAccountTable', 'C-0001', filter={source})"
    check_reproduced(logic, reader)


def test_everything_at_once_on_the_lsi(logic, reader, sandbox):
    logic.select_index("order-id-index")
    logic.partition_text = CUSTOMER
    logic.sort_op, logic.sort_text = ">=", "O-000500"
    logic.add_filter("total", ">", "20")
    logic.add_filter("status", "=", "delivered")
    logic.add_filter()  # an empty row is ignored
    logic.columns = ["customer_id", "order_id", "total", "status"]
    logic.limit = 4
    logic.ascending = False
    df = logic.run_query()
    expected = xn.read_query(
        reader, sandbox.table, CUSTOMER, index="order-id-index", sort=(">=", "O-000500"),
        filter=Attr("total").gt(20) & Attr("status").eq("delivered"),
        columns=["customer_id", "order_id", "total", "status"], limit=4, ascending=False)
    assert_frame_equal(df, expected)
    assert len(df) == 4 and list(df.columns) == ["customer_id", "order_id", "total", "status"]
    assert logic.code() == (
        "xn.read_query(session, 'MyCrossAccountTable', 'C-0001', sort=('>=', 'O-000500'), "
        "index='order-id-index', filter=Attr('total').gt(20) & Attr('status').eq('delivered'), "
        "columns=['customer_id', 'order_id', 'total', 'status'], limit=4, ascending=False)"
    )
    check_reproduced(logic, reader)
    assert logic.consumed_capacity == df.attrs["consumed_capacity"] > 0
    assert logic.elapsed > 0
    assert logic.summary().startswith("4 rows, ")


def test_gsi_query_by_arn_with_a_limit(reader, sandbox):
    lg = ExplorerLogic(reader, [sandbox.table_arn])
    lg.load_tables()
    lg.select_table(sandbox.table_arn)
    lg.select_index("status-index")
    lg.partition_text = "shipped"
    lg.limit = 7
    df = lg.run_query()
    assert len(df) == 7 and set(df.status) == {"shipped"}
    assert lg.code().startswith(f"xn.read_query(session, '{sandbox.table_arn}', 'shipped', ")
    check_reproduced(lg, reader)


def test_scan_call_and_code(logic, reader, sandbox):
    logic.partition_text = "ignored by a scan"
    logic.add_filter("status", "=", "cancelled")
    logic.columns = ["customer_id", "order_ts", "status", "refund_reason"]
    logic.limit = 25
    assert logic.run_scan() is None  # a filter: the limit does not bound what is read
    assert logic.pending_scan is not None
    df = logic.run_scan(confirm=True)
    expected = xn.read_scan(reader, sandbox.table, filter=Attr("status").eq("cancelled"),
                            columns=["customer_id", "order_ts", "status", "refund_reason"],
                            limit=25)
    assert_frame_equal(df, expected)
    assert len(df) == 25 and logic.result_kind == "scan"
    assert logic.code() == (
        "xn.read_scan(session, 'MyCrossAccountTable', filter=Attr('status').eq('cancelled'), "
        "columns=['customer_id', 'order_ts', 'status', 'refund_reason'], limit=25)"
    )
    check_reproduced(logic, reader)


def test_code_for_the_current_inputs_and_imports(logic):
    assert logic.code() == ""  # no read yet
    logic.partition_text = CUSTOMER
    logic.add_filter("ledger_ref", "=", "18446744073709551623000000000.5")
    assert logic.code("query", session_name="conn.session") == (
        "xn.read_query(conn.session, 'MyCrossAccountTable', 'C-0001', "
        "filter=Attr('ledger_ref').eq(Decimal('18446744073709551623000000000.5')))"
    )
    assert logic.code("scan", imports=True).splitlines()[:3] == [
        "import xacct_nb as xn",
        "from boto3.dynamodb.conditions import Attr",
        "from decimal import Decimal",
    ]
    with pytest.raises(xn.InvalidArgumentError, match="kind must be"):
        logic.code("get")


def test_results_numeric_columns_and_chart_data(logic):
    logic.partition_text = CUSTOMER
    df = logic.run_query()
    numeric = logic.numeric_columns()
    assert {"total", "item_count", "loyalty_points"} <= set(numeric)
    assert "express" not in numeric and "customer_id" not in numeric
    data = logic.chart_data("loyalty_points")
    assert data.dtype == "float64" and data.index.name == "order_ts"
    assert len(data) == df.loyalty_points.notna().sum()
    assert logic.chart_kind() == "line"
    with pytest.raises(xn.InvalidArgumentError, match="not a numeric column"):
        logic.chart_data("customer_id")
    logic.limit = 50
    logic.run_scan()
    assert logic.chart_kind() == "hist"
    assert logic.chart_data("total").index.name is None


# -- the Scan confirmation -----------------------------------------------------------------


def test_every_unbounded_scan_asks_first_with_its_cost(logic):
    assert logic.run_scan() is None
    pending = logic.pending_scan
    assert (pending.item_count, pending.table) == (demo.ORDER_COUNT, "MyCrossAccountTable")
    assert "3,000 items, 2.3 MiB" in pending.message
    estimate = logic.info.cost("scan")
    assert f"{estimate.rcu:,.1f} RCU (USD {estimate.dollars:.6f} on demand), 3 pages" \
        in pending.message
    assert logic.result is None and logic.error == ""
    logic.cancel_scan()
    assert logic.pending_scan is None
    assert logic.run_scan() is None and logic.pending_scan is not None
    df = logic.run_scan(confirm=True)
    assert len(df) == demo.ORDER_COUNT and logic.pending_scan is None
    # A limit bounds a scan without a filter: no question asked; with a filter it may not.
    logic.limit = 10
    assert len(logic.run_scan()) == 10
    logic.add_filter("status", "=", "returned")
    assert logic.run_scan() is None and logic.pending_scan is not None
    # An index: its own size and cost.
    logic.select_index("status-index")
    pending = logic.needs_confirmation()
    assert pending.item_count == demo.ORDER_COUNT and pending.cost.rcu > 0


def test_unknown_size_asks_without_a_cost(logic, sandbox):
    logic.select_table(sandbox.private_table)
    pending = logic.needs_confirmation()
    assert pending.item_count is None and pending.cost is None
    assert "size is unknown" in pending.message and "costs" not in pending.message


# -- errors are messages ------------------------------------------------------------------------


def test_a_denied_table_is_a_message_with_a_hint(logic, sandbox):
    assert logic.select_table(sandbox.private_table) is None
    assert "is not authorized to perform: dynamodb:DescribeTable" in logic.error
    assert "does not allow dynamodb:DescribeTable on arn:aws:dynamodb:" in logic.hint
    assert '"Effect": "Allow"' in logic.hint and "name the keys" in logic.hint
    assert "DescribeTable is not allowed" in logic.table_info()
    logic.partition_text = "ACC-001"
    assert logic.run_query() is None
    assert "key names of 'PrivateLedgerTable' are unknown" in logic.error
    logic.set_key_schema_text("account")
    assert logic.run_query() is None
    assert "not authorized to perform: dynamodb:Query" in logic.error
    assert "does not allow dynamodb:Query on arn:aws:dynamodb:us-east-1:222222222222:table/" \
           "PrivateLedgerTable: add" in logic.hint
    assert logic.code("query") == (
        "xn.read_query(session, 'PrivateLedgerTable', 'ACC-001', key_schema=('account',))")
    assert logic.run_scan(confirm=True) is None
    assert "not authorized to perform: dynamodb:Scan" in logic.error


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda lg: None, "Enter a value for the partition key 'customer_id' to Query"),
        (lambda lg: setattr(lg, "sort_op", "between") or setattr(lg, "sort_text", "2026"),
         "Enter both values for the sort condition order_ts between"),
        (lambda lg: setattr(lg, "sort_op", "~"), "Unknown sort operator '~'"),
        (lambda lg: lg.add_filter("total", "like", "1"), "unknown operator 'like'"),
        (lambda lg: lg.add_filter("total", ">", "many", type="N"),
         "filter value for 'total' is a number (N): 'many' is not a number"),
        (lambda lg: lg.add_filter("", "=", "x"), "has a value but no attribute"),
        (lambda lg: setattr(lg, "limit", -1), "limit must be a positive whole number"),
        (lambda lg: lg.set_key_schema("pk"), None),
    ],
)
def test_bad_input_is_a_message(logic, setup, message):
    if message is not None:
        logic.partition_text = "" if "partition key" in message else CUSTOMER
    setup(logic)
    if message is None:  # a sort condition on a table without a sort key
        logic.partition_text, logic.sort_op, logic.sort_text = CUSTOMER, "=", "x"
        message = "has no sort key"
    assert logic.run_query() is None
    assert message in logic.error
    assert logic.result is None


def test_begins_with_on_a_number_sort_key_is_a_message(logic):
    logic.set_key_schema("customer_id", "order_no", sort_type="N")
    logic.partition_text, logic.sort_op, logic.sort_text = CUSTOMER, "begins_with", "12"
    assert logic.run_query() is None
    assert "begins_with needs a str or bytes prefix" in logic.error


def test_a_failed_read_keeps_the_last_result(logic):
    logic.partition_text = CUSTOMER
    df = logic.run_query()
    logic.partition_text = ""
    assert logic.run_query() is None and logic.error
    assert logic.result is df
    logic.partition_text = CUSTOMER
    logic.run_query()
    assert logic.error == "" and logic.hint == ""


def test_throttling_is_a_message(reader, sandbox, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setattr(RESUME, "retries", 1)
    monkeypatch.setattr(RESUME, "base", 0.01)
    lg = ExplorerLogic(reader, sandbox.table)
    lg.load_tables()
    lg.select_table(sandbox.table)  # DescribeTable before the proxy: it is cached
    with FaultProxy(sandbox.endpoint_url) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint_url)
        proxy.add("Query", "throttle", times=None)
        lg.partition_text = CUSTOMER
        assert lg.run_query() is None
    assert "Reading 'MyCrossAccountTable' stopped after 0 pages" in lg.error
    assert "ProvisionedThroughputExceededException" in lg.error
    assert "nothing partial is returned" in lg.error


# -- the view --------------------------------------------------------------------------------------


@pytest.fixture
def view(reader, sandbox, caplog) -> Explorer:
    caplog.set_level(logging.WARNING)
    ex = Explorer(reader, tables=[sandbox.table, sandbox.private_table], progress=False)
    yield ex
    # No callback ever let an exception out (ipywidgets would log it without a kernel).
    assert not [r for r in caplog.records if "Exception in callback" in r.getMessage()]
    ex.close()


def test_view_starts_on_the_first_table(view, sandbox):
    assert isinstance(view, w.VBox)
    assert view.table_picker.options == (
        (sandbox.table, sandbox.table), (sandbox.private_table, sandbox.private_table))
    assert view.table_picker.value == sandbox.table
    assert [v for _, v in view.index_picker.options] == ["", "status-index", "order-id-index"]
    assert view.partition.placeholder == "customer_id (S: text): type or pick"
    assert "3,000 items" in view.overview.value and "RCU (USD" in view.overview.value
    assert "dynamodb:ListTables is denied" in view.notice.value
    assert view.errors.value == "" and view.result is None
    assert view.key_names.layout.display == "none"
    assert "application/vnd.jupyter.widget-view+json" in view._repr_mimebundle_()


def test_view_query_renders_rows_capacity_time_and_code(view, reader, sandbox):
    view.partition.value = CUSTOMER
    view.sort_op.value = "between"
    # The sort key holds timestamps: date/time pickers (UTC) instead of text.
    assert view.sort_time2.layout.display is None and view.sort_value2.layout.display == "none"
    view.sort_time.value = dt.datetime(2026, 2, 1)
    view.sort_time2.value = dt.datetime(2026, 8, 1, 12, 30)
    view.query_button.click()
    start, end = dt.datetime(2026, 2, 1, tzinfo=dt.UTC), dt.datetime(2026, 8, 1, 12, 30,
                                                                       tzinfo=dt.UTC)
    expected = xn.read_query(reader, sandbox.table, CUSTOMER, sort=("between", start, end))
    assert_frame_equal(view.result, expected)
    assert view.errors.value == ""
    assert f"<b>{len(expected)} rows, 1 read capacity units, " in view.summary.value
    assert len(view.grid.df) == len(expected)  # the grid holds every row
    assert view.code.value == (
        "import xacct_nb as xn\nfrom datetime import UTC, datetime\n\n"
        "xn.read_query(reader, 'MyCrossAccountTable', 'C-0001', "
        "sort=('between', datetime(2026, 2, 1, 0, 0, tzinfo=UTC), "
        "datetime(2026, 8, 1, 12, 30, tzinfo=UTC)))"
    )
    assert view.copy_button.text == view.code.value
    assert_frame_equal(reproduce(view.code.value, reader, "reader"), view.result)
    view.sort_op.value = "<"
    assert view.sort_time2.layout.display == "none" and view.sort_value2.layout.display == "none"
    view.sort_op.value = "begins_with"  # a prefix is text
    assert view.sort_value.layout.display is None and view.sort_time.layout.display == "none"


def test_view_filters_columns_limit_and_index(view, reader, sandbox):
    view.add_filter_button.click()
    view.add_filter_button.click()
    assert len(view.filter_rows.children) == 2
    first, second = view._filter_widgets
    assert "order_id" in first["attribute"].options
    first["attribute"].value, first["operator"].value, first["value"].value = "total", ">", "30"
    second["operator"].value = "between"
    assert second["value2"].layout.display is None
    second["attribute"].value = "item_count"
    second["value"].value, second["value2"].value = "2", "9"
    view.index_picker.value = "status-index"
    assert view.partition.placeholder == "status (S: text): type or pick"
    statuses = {"pending", "shipped", "delivered", "returned", "cancelled"}
    assert len(set(view.partition.options) & statuses) >= 2  # the GSI's key values
    view.partition.value = "returned"
    view.columns.value = ["status", "order_ts", "customer_id", "total", "item_count"]
    view.limit.value = 5
    view.descending.value = True
    view.query_button.click()
    assert view.errors.value == ""
    expected = xn.read_query(
        reader, sandbox.table, "returned", index="status-index",
        filter=Attr("total").gt(30) & Attr("item_count").between(2, 9),
        columns=["status", "order_ts", "customer_id", "total", "item_count"], limit=5,
        ascending=False)
    assert_frame_equal(view.result, expected)
    assert "index='status-index', filter=Attr('total').gt(30) & " \
           "Attr('item_count').between(2, 9)" in view.code.value
    assert_frame_equal(reproduce(view.code.value, reader, "reader"), view.result)
    second["remove"].click()
    assert len(view.filter_rows.children) == 1
    assert view.logic.filters[1].attribute == "item_count"  # pulled again at the next read
    view.query_button.click()
    assert len(view.logic.filters) == 1


def test_view_chart(view):
    view.partition.value = CUSTOMER
    view.query_button.click()
    values = [v for _, v in view.chart_column.options]
    assert values[0] == "" and "total" in values and "express" not in values
    assert view.chart.layout.display == "none"
    view.chart_column.value = "total"
    assert bytes(view.chart.value).startswith(b"\x89PNG")
    assert view.chart.layout.display is None
    view.chart_column.value = ""
    assert view.chart.layout.display == "none"


def test_a_chart_that_fails_says_why(view, monkeypatch):
    from xacct_nb import _explorer

    def broken(*args, **kwargs):
        raise RuntimeError("no <font> here")

    monkeypatch.setattr(_explorer, "_png", broken)
    view.partition.value = CUSTOMER
    view.query_button.click()
    view.chart_column.value = "total"
    assert view.chart.layout.display == "none"
    assert view.chart_message.value == (
        "<small>No chart of total: matplotlib failed (RuntimeError: no &lt;font&gt; here)."
        "</small>")


def test_view_scan_confirmation(view):
    view.scan_button.click()
    assert view.confirm_row.layout.display is None
    assert "3,000 items" in view.confirm_text.value and "RCU" in view.confirm_text.value
    assert view.result is None
    view.cancel_button.click()
    assert view.confirm_row.layout.display == "none"
    view.scan_button.click()
    view.confirm_button.click()
    assert view.confirm_row.layout.display == "none"
    assert len(view.result) == demo.ORDER_COUNT
    assert view.summary.value.startswith("<b>3,000 rows, ")
    assert len(view.grid.df) == 3000  # every row, paged by the grid
    assert view.code.value.endswith("xn.read_scan(reader, 'MyCrossAccountTable')")
    assert not view.scan_button.disabled


def test_view_denied_table_shows_the_error_and_a_hint(view, sandbox):
    view.table_picker.value = sandbox.private_table
    assert "not authorized to perform: dynamodb:DescribeTable" in view.errors.value
    assert "<b>What to do:</b>" in view.errors.value
    assert view.key_names.layout.display is None  # lets the user name the keys
    view.partition.value = "ACC-001"
    view.query_button.click()
    assert "key names of &#x27;PrivateLedgerTable&#x27; are unknown" in view.errors.value
    view.key_names.value = "account"
    assert view.partition.placeholder == "account (S: text)"  # no sample: nothing to pick
    view.query_button.click()
    assert "not authorized to perform: dynamodb:Query" in view.errors.value
    assert "does not allow dynamodb:Query on arn:aws:dynamodb:" in view.errors.value
    view.table_picker.value = sandbox.table
    assert view.errors.value == "" and view.key_names.layout.display == "none"


def test_view_bad_input_and_unexpected_errors_never_raise(view, monkeypatch):
    view.query_button.click()  # no partition value
    assert "Enter a value for the partition key" in view.errors.value
    monkeypatch.setattr(view.logic, "execute", lambda read, on_page=None: 1 / 0)
    view.partition.value = CUSTOMER
    view.query_button.click()
    assert "Unexpected error (ZeroDivisionError)" in view.errors.value
    assert not view.query_button.disabled


def test_view_without_tables_says_to_pass_them(reader):
    ex = explorer(reader)
    assert isinstance(ex, Explorer)
    assert ex.table_picker.options == ()
    assert "tables=[" in ex.errors.value and "ListTables" in ex.errors.value
    ex.query_button.click()
    assert "Choose a table first." in ex.errors.value
    ex.close()


def test_view_with_a_progress_bar_outside_a_kernel(reader, sandbox, capsys):
    ex = Explorer(reader, tables=sandbox.table, progress=True)
    assert ex.logic.progress is True
    ex.partition.value = CUSTOMER
    ex.query_button.click()
    assert ex.errors.value == "" and len(ex.result) > 0
    assert "Query MyCrossAccountTable" in capsys.readouterr().err  # tqdm, in a terminal
    ex.close()


def test_explorer_defaults_to_no_bar_outside_a_kernel(reader, sandbox):
    ex = explorer(reader, [sandbox.table])
    assert ex.logic.progress is False
    ex.close()


# -- what the explorer gained: choosing, history, downloads, background reads -----------------


def test_table_change_clears_the_old_result_and_code(view, sandbox):
    view.partition.value = CUSTOMER
    view.query_button.click()
    assert view.result is not None and view.code.value and view.grid_box.children
    view.table_picker.value = sandbox.private_table  # denied: only its error shows
    assert "not authorized" in view.errors.value
    assert view.result is None and view.code.value == "" and view.summary.value == ""
    assert view.grid_box.children == () and view.copy_button.text == ""
    assert view.csv_button.disabled and view.chart_column.options == ()
    view.table_picker.value = sandbox.table
    view.partition.value = CUSTOMER
    view.query_button.click()
    assert view.result is not None
    view.index_picker.value = "status-index"  # another index: the old rows go too
    assert view.result is None and view.code.value == ""


def test_partition_suggestions_attribute_types_and_time_keys(logic, sandbox):
    sample = logic.sample
    assert sample is not None
    assert len(sample) == xw.SAMPLE_SEGMENTS * xw.SAMPLE_ITEMS_PER_SEGMENT
    suggestions = logic.partition_suggestions()
    assert suggestions == sorted(set(sample.customer_id)) and len(suggestions) >= 10
    types_ = logic.attribute_types()
    assert types_["customer_id"] == "S" and types_["total"] == "N"
    assert types_["express"] == "BOOL" and logic.sort_is_time()
    logic.partition_text = suggestions[-1]
    logic.limit = 1
    logic.run_scan()  # results add what they saw
    logic.select_index("status-index")
    assert set(logic.partition_suggestions()) <= {"pending", "shipped", "delivered", "returned",
                                                  "cancelled"}
    assert len(logic.partition_suggestions()) >= 2
    logic.select_table(sandbox.private_table)  # no sample: no suggestions, no error but its own
    assert logic.sample is None and logic.partition_suggestions() == []


def test_a_wrong_typed_filter_value_is_refused_at_once(view, monkeypatch):
    reads = []
    monkeypatch.setattr(view.logic, "execute", lambda read, on_page=None: reads.append(read))
    view.add_filter_button.click()
    row = view._filter_widgets[0]
    row["attribute"].value = "total"
    assert row["message"].value == "<small>N</small>"  # its type, from the sample
    row["value"].value = "12x"
    assert "is a number (N): &#x27;12x&#x27; is not a number" in row["message"].value
    view.partition.value = CUSTOMER
    view.query_button.click()
    assert "is not a number" in view.errors.value and reads == []  # nothing was read
    row["value"].value = "12.5"
    assert row["message"].value == "<small>N</small>"
    row["attribute"].value, row["value"].value = "express", "perhaps"
    assert "is a boolean" in row["message"].value


def test_partiql_tab(view, reader, sandbox):
    statement = f'SELECT * FROM "{sandbox.table}" WHERE customer_id = ?'
    view.statement.value = statement.replace("?", "'C-0002'")
    view.partiql_button.click()
    expected = xn.read_partiql(reader, statement, ["C-0002"])
    assert_frame_equal(view.result, expected)
    assert view.code.value.endswith(
        "xn.read_partiql(reader, 'SELECT * FROM \"MyCrossAccountTable\" "
        "WHERE customer_id = \\'C-0002\\'')")
    assert_frame_equal(reproduce(view.code.value, reader, "reader"), view.result)
    view.statement.value = "DELETE FROM x"
    view.partiql_button.click()
    assert "write_frame" in view.errors.value and view.result is not None


def test_history_is_kept_in_a_file_and_runs_again(reader, sandbox, tmp_path):
    path = tmp_path / "history.json"
    ex = Explorer(reader, tables=[sandbox.table], history=path)
    ex.partition.value = CUSTOMER
    ex.limit.value = 3
    ex.query_button.click()
    first = ex.result
    ex.partition.value, ex.limit.value = "C-0002", 0
    ex.query_button.click()
    saved = json.loads(path.read_text())
    assert [e["inputs"]["partition"] for e in saved] == ["C-0002", CUSTOMER]
    assert "Secret" not in path.read_text() and "ASIA" not in path.read_text()
    ex.close()
    again = Explorer(reader, tables=[sandbox.table], history=path)  # a new day
    assert len(again.history_picker.options) == 2 and str(path) in again.history_info.value
    again.history_picker.index = 1
    again.history_button.click()
    assert again.partition.value == CUSTOMER and again.limit.value == 3
    assert_frame_equal(again.result, first)
    again.close()
    memory = Explorer(reader, tables=[sandbox.table], history=False)
    assert memory.logic.history.path is None and "memory only" in memory.history_info.value
    memory.close()


def test_downloads_are_the_result_encoded_as_export_does(view, tmp_path, reader, sandbox):
    assert view.csv_button.disabled
    view.partition.value = CUSTOMER
    view.query_button.click()
    view.parquet_button.click()
    link = view.download.value
    assert 'download="MyCrossAccountTable.parquet"' in link
    data = base64.b64decode(link.split("base64,", 1)[1].split('"', 1)[0])
    exported = xn.export(reader, sandbox.table, tmp_path / "c.parquet", partition=CUSTOMER)
    assert data == (tmp_path / "c.parquet").read_bytes() or \
        pd.read_parquet(io.BytesIO(data)).equals(pd.read_parquet(exported.path))
    assert len(pd.read_parquet(io.BytesIO(data))) == len(view.result)
    view.csv_button.click()
    text = base64.b64decode(view.download.value.split("base64,", 1)[1].split('"', 1)[0])
    assert len(pd.read_csv(io.BytesIO(text))) == len(view.result)


def test_the_code_names_the_session_as_the_caller_did(reader, sandbox):
    conn = types.SimpleNamespace(session=reader)
    ex = explorer(conn.session, [sandbox.table])
    assert ex.logic.session_name == "conn.session"
    assert "<code>conn.session</code>" in ex.code_help.value
    ex.close()
    my_session = reader  # noqa: F841 - found by name
    ex = Explorer(reader, tables=[sandbox.table])
    assert ex.logic.session_name in ("my_session", "reader")
    ex.close()
    assert Explorer(reader, tables=[sandbox.table], session_name="s").logic.session_name == "s"


def test_a_background_read_can_be_cancelled_and_the_widget_answers_at_once(reader, sandbox):
    ex = Explorer(reader, tables=[sandbox.table], background=True)
    release, paged = threading.Event(), threading.Event()
    real = ex._on_page

    def slow_page(read):  # the read's thread holds after its first page until released
        real(read)
        paged.set()
        release.wait(30)

    ex._on_page = slow_page
    ex.scan_button.click()
    ex.confirm_button.click()
    assert paged.wait(30)
    assert ex.cancel_read_button.layout.display is None and ex.query_button.disabled
    assert "Reading scan:" in ex.status.value
    ex.cancel_read_button.click()  # answered here, while the read's thread still holds
    assert not ex.query_button.disabled and ex.cancel_read_button.layout.display == "none"
    assert "Cancelled: the scan was stopped" in ex.notice.value and ex.result is None
    release.set()
    assert ex.wait(30)
    assert ex.result is None and ex.errors.value == ""  # what it read was dropped
    ex._on_page = real
    ex.partition.value = CUSTOMER
    ex.query_button.click()
    assert ex.wait(30) and len(ex.result) > 0
    ex.close()


def test_display_frame_escapes_blanks_missing_and_expands_nested():
    df = pd.DataFrame({
        "n": pd.array([1, None], dtype="Int64"),
        "s": pd.array(["<script>x</script>", None], dtype="string"),
        "m": [{"b": [1, 2], "a": "x"}, None],
        "f": [1.5, float("nan")],
    })
    shown = xw.display_frame(df)
    assert list(shown.columns) == ["n<br><small>Int64</small>",
                                   f"s<br><small>{df.s.dtype}</small>",
                                   "m<br><small>object</small>", "f<br><small>float64</small>"]
    assert shown.iloc[1].tolist() == ["", "", "", ""]
    assert shown.iloc[0, 1] == "&lt;script&gt;x&lt;/script&gt;"
    nested = shown.iloc[0, 2]
    assert nested.startswith('<details class="xacct-json"><summary>{&quot;b&quot;: [1, 2], ')
    assert ">{&#10;  &quot;b&quot;: [&#10;" in nested and "\n" not in nested
    long = xw.display_frame(pd.DataFrame({"l": [list(range(100))]})).iloc[0, 0]
    summary = long.split("<summary>")[1].split("</summary>")[0]
    assert len(summary) == xw.SUMMARY_CHARS and summary.endswith("\u2026")
    assert "99&#10;]</pre>" in long
    assert len(xw.display_frame(pd.DataFrame({"x": range(10)}), max_rows=4)) == 4
