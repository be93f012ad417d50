"""The read-capacity budget (``max_rcu=``) and throttling as back-pressure.

Unit tests run against a fake clock (no real sleeping, nothing timed); the
integration tests read the sandbox over HTTP, one of them through a proxy
that answers ``ProvisionedThroughputExceededException``.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

import xacct_nb as xn
from xacct_nb import _budget as budget_mod
from xacct_nb._budget import (
    FIRST_ITEM_COST,
    MIN_FACTOR,
    RECOVERY,
    Budget,
    FakeClock,
    check_max_rcu,
    consumed_capacity,
    default_max_rcu,
    read_budget,
    resolve_max_rcu,
)
from xacct_nb._engine import RESUME, ReadStats, RetryPolicy, dynamodb_client, page_stream, request
from xacct_nb.sandbox import _demo_data as demo

sys.path.insert(0, str(Path(__file__).parent))
from faultproxy import FaultProxy  # noqa: E402


class OverlapClock:
    """A fake clock where threads sleep at the same time: a sleep of ``d`` wakes at
    (the time this thread last read) + ``d``, and the clock moves to the latest wake."""

    def __init__(self) -> None:
        self.now = 0.0
        self._lock = threading.Lock()
        self._read = threading.local()

    def __call__(self) -> float:
        with self._lock:
            self._read.at = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.now = max(self.now, getattr(self._read, "at", self.now) + seconds)


# -- the token bucket ------------------------------------------------------------------------


def test_a_full_bucket_then_the_rate():
    clock = FakeClock()
    b = Budget(10.0, clock=clock)
    assert b.burst == 10.0 and b.tokens == 10.0
    assert b.acquire(10.0) == 0.0  # starts full: one second of budget at once
    assert b.acquire(5.0) == pytest.approx(0.5)  # then 10 RCU/s
    assert clock() == pytest.approx(0.5)
    assert b.acquire(20.0) == pytest.approx(1.0)  # dearer than the bucket: waits for a full one
    assert b.tokens == pytest.approx(-10.0)  # ... and goes into debt by the rest
    assert b.acquire(0.0) == pytest.approx(1.0)  # the debt is paid back before anything leaves
    assert b.waited == pytest.approx(2.5)


def test_the_bucket_never_holds_more_than_the_burst():
    clock = FakeClock()
    b = Budget(10.0, burst=5.0, clock=clock)
    clock.sleep(100.0)
    assert b.acquire(5.0) == 0.0
    assert b.acquire(5.0) == pytest.approx(0.5)


def test_settle_charges_the_actual_cost_debt_included():
    clock = FakeClock()
    b = Budget(50.0, clock=clock)
    assert b.acquire(50.0) == 0.0
    b.settle(50.0, 75.0)  # cost more than reserved: 25 RCU of debt
    assert b.tokens == pytest.approx(-25.0)
    assert b.acquire(50.0) == pytest.approx(1.5)
    b.settle(50.0, 10.0)  # cheaper than reserved: the rest comes back
    assert b.tokens == pytest.approx(40.0)
    assert b.acquire(40.0) == 0.0


def test_threads_share_one_bucket_without_overspending():
    clock = OverlapClock()
    rate, cost, rounds, threads = 20.0, 4.0, 25, 4
    b = Budget(rate, clock=clock, sleep=clock.sleep)
    spent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(rounds):
            b.acquire(cost)
            b.settle(cost, cost * 1.25)  # every request a bit dearer than expected
            with lock:
                spent.append(cost * 1.25)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    total = sum(spent)
    assert len(spent) == rounds * threads
    # Within the budget: at most rate * elapsed + burst, plus one request's excess per thread.
    assert total <= rate * clock.now + b.burst + threads * cost * 0.25 + 1e-6
    assert total >= rate * clock.now - b.burst  # and not much slower than it either
    assert b.waited > 0


def test_without_a_rate_nothing_waits_but_the_gate():
    clock = FakeClock()
    b = Budget(None, clock=clock)
    assert b.acquire(1000.0) == 0.0 and b.page_limit() is None and b.page_limit(7) == 7
    assert b.batch_size() == 100 and b.expected_cost(100) == 0.0
    b.settle(0.0, 1e6)  # no bucket to charge
    assert b.acquire(0.0) == 0.0


# -- Limit sizing ----------------------------------------------------------------------------


def test_pages_are_sized_to_a_second_of_budget():
    b = Budget(50.0, clock=FakeClock())
    assert b.item_cost == FIRST_ITEM_COST
    assert b.page_limit() == 50  # before any answer: 4 KB items, 1 RCU each
    assert b.page_limit(10) == 10  # the user's limit wins when smaller
    b.learn(10.0, 100)  # 0.1 RCU per evaluated item
    assert b.page_limit() == 500
    assert b.expected_cost(500) == pytest.approx(50.0)
    b.learn(30.0, 100)  # the estimate follows the table
    assert b.item_cost == pytest.approx(0.2)
    assert b.page_limit() == 250
    tiny = Budget(0.1, clock=FakeClock())
    assert tiny.page_limit() == 1  # at least one item
    b.learn(0.0, 100)  # an answer without ConsumedCapacity teaches nothing
    assert b.item_cost == pytest.approx(0.2)


def test_batches_are_sized_by_the_budget():
    b = Budget(20.0, clock=FakeClock())
    assert b.batch_size() == 20
    b.learn(1.0, 2)  # 0.5 RCU per key
    assert b.batch_size() == 40
    for _ in range(10):  # keys get cheap (the estimate follows, newest answers first)
        b.learn(0.01, 10)
    assert b.batch_size() == 100  # never more than BatchGetItem takes


def test_page_stream_sends_budget_sized_limits_and_waits():
    clock = FakeClock()
    b = Budget(50.0, clock=clock)
    sent: list[int] = []

    def scan(**params: Any) -> dict[str, Any]:
        sent.append(params["Limit"])
        n = params["Limit"]
        page: dict[str, Any] = {"Items": [{}] * n, "ScannedCount": n,
                                "ConsumedCapacity": {"CapacityUnits": n * 0.25}}
        if len(sent) < 4:
            page["LastEvaluatedKey"] = {"pk": {"S": str(len(sent))}}
        return page

    stats = ReadStats(budget=b)
    rows = sum(len(items) for items, _ in page_stream(scan, {"TableName": "T"}, table="T",
                                                      stats=stats))
    assert sent[0] == 50  # 1 RCU per item assumed first
    assert sent[1] == 200 and sent[2] == 200  # then 0.25 RCU per item: 200 items a second
    assert rows == sum(sent)
    assert stats.consumed_capacity == pytest.approx(rows * 0.25)
    # consumed (162.5 RCU) within rate * elapsed + burst
    assert stats.consumed_capacity <= 50.0 * clock() + b.burst + 1e-6
    assert stats.waited_seconds == pytest.approx(b.waited) and stats.waited_seconds > 0
    assert stats.as_attrs()["max_rcu"] == 50.0


def test_a_user_limit_caps_the_budget_limit():
    b = Budget(1000.0, clock=FakeClock())
    sent: list[int] = []

    def query(**params: Any) -> dict[str, Any]:
        sent.append(params["Limit"])
        return {"Items": [{}] * params["Limit"], "ScannedCount": params["Limit"],
                "LastEvaluatedKey": {"pk": {"S": "x"}}}

    stats = ReadStats(budget=b)
    list(page_stream(query, {"TableName": "T"}, table="T", stats=stats, limit=30,
                     can_limit_requests=True))
    assert sent == [30]


# -- max_rcu values --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, 0, -1, -0.5, float("nan"), float("inf"), "abc",
                                   "0%", "101%", "-5%", "10", [10], {"rcu": 10}, b"10"])
def test_bad_values_are_refused_with_a_hint(value):
    with pytest.raises(xn.InvalidArgumentError, match="max_rcu") as err:
        check_max_rcu(value)
    assert '"off"' in str(err.value)


def test_good_values():
    assert check_max_rcu(50) == 50.0 and check_max_rcu(0.5) == 0.5
    assert check_max_rcu("10%") == "10%" and check_max_rcu(" 100 % ") == "100%"
    assert check_max_rcu("2.5%") == "2.5%" and check_max_rcu("OFF") == "off"
    assert check_max_rcu(None) is None


DESCRIPTION = {
    "ProvisionedThroughput": {"ReadCapacityUnits": 200, "WriteCapacityUnits": 5},
    "GlobalSecondaryIndexes": [
        {"IndexName": "gsi", "ProvisionedThroughput": {"ReadCapacityUnits": 40}},
    ],
}


def test_a_share_of_provisioned_capacity():
    assert resolve_max_rcu("10%", describe=lambda: DESCRIPTION, table="T") == pytest.approx(20.0)
    assert resolve_max_rcu("50%", describe=lambda: DESCRIPTION, table="T",
                           index="gsi") == pytest.approx(20.0)
    assert resolve_max_rcu(12.0, describe=lambda: pytest.fail("not asked")) == 12.0


def test_an_on_demand_table_asks_for_a_number():
    on_demand = {"BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 0}}
    with pytest.raises(xn.InvalidArgumentError, match="on-demand.*max_rcu=50"):
        resolve_max_rcu("10%", describe=lambda: on_demand, table="T")
    with pytest.raises(xn.InvalidArgumentError, match="give a number"):
        resolve_max_rcu("10%", describe=lambda: None, table="T")


def test_the_default_comes_from_the_environment_then_xacct_toml(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert default_max_rcu() is None and read_budget(None).rate is None
    (tmp_path / "xacct.toml").write_text('table = "MyCrossAccountTable"\nmax_rcu = 30\n')
    assert default_max_rcu() == 30.0 and read_budget(None).rate == 30.0
    from xacct_nb._connect import load_settings

    assert load_settings().table == "MyCrossAccountTable"  # connect() accepts the setting
    monkeypatch.setenv("XACCT_MAX_RCU", "25")
    assert default_max_rcu() == 25.0  # the environment wins
    assert read_budget(None).rate == 25.0
    assert read_budget(10).rate == 10.0  # an argument wins over both
    assert read_budget("off").rate is None  # and "off" reads without a limit
    monkeypatch.setenv("XACCT_MAX_RCU", "5%")
    assert default_max_rcu() == "5%"
    monkeypatch.setenv("XACCT_MAX_RCU", "lots")
    with pytest.raises(xn.ConfigurationError, match="XACCT_MAX_RCU"):
        default_max_rcu()
    monkeypatch.delenv("XACCT_MAX_RCU")
    (tmp_path / "xacct.toml").write_text("[xacct]\nmax_rcu = true\n")
    with pytest.raises(xn.ConfigurationError, match="max_rcu in"):
        default_max_rcu()


def test_consumed_capacity_of_every_answer_shape():
    assert consumed_capacity({}) == 0.0
    assert consumed_capacity({"ConsumedCapacity": {"CapacityUnits": 3}}) == 3.0
    assert consumed_capacity({"ConsumedCapacity": [{"CapacityUnits": 1}, {}]}) == 1.0


# -- back-pressure ---------------------------------------------------------------------------


def test_one_throttle_pauses_every_worker_of_the_read():
    clock = OverlapClock()
    gate = Budget(None, clock=clock, sleep=clock.sleep)
    gate.throttled(2.0)
    woke: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(6)

    def worker() -> None:
        start.wait()
        gate.acquire(0.0)
        with lock:
            woke.append(clock())

    pool = [threading.Thread(target=worker) for _ in range(6)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert woke == [pytest.approx(2.0)] * 6  # no worker left before the shared time
    assert clock.now == pytest.approx(2.0)  # and they waited together, not one after the other
    assert gate.acquire(0.0) == 0.0  # then the gate is open
    gate.throttled(1.0)
    clock.sleep(0.25)
    assert gate.acquire(0.0) == pytest.approx(0.75)  # a worker that comes later waits the rest
    assert gate.throttles == 2


def test_throttling_halves_the_rate_once_a_second_and_success_brings_it_back():
    clock = FakeClock()
    b = Budget(64.0, clock=clock)
    for _ in range(5):  # five threads throttled at once: one signal
        b.throttled(0.0)
    assert b.factor == 0.5 and b.effective_rate == 32.0 and b.throttles == 5
    assert b.page_limit() == 32
    clock.sleep(1.0)
    b.throttled(0.0)
    assert b.factor == 0.25
    for _ in range(100):
        clock.sleep(1.0)
        b.throttled(0.0)
    assert b.factor == MIN_FACTOR
    b.answered()
    assert b.factor == pytest.approx(MIN_FACTOR + RECOVERY)
    for _ in range(40):
        b.answered()
    assert b.factor == 1.0


def _throttle(code: str = "ProvisionedThroughputExceededException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "slow down"},
                        "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 0}}, "Scan")


def test_the_engine_tells_the_budget_and_waits_at_its_gate(monkeypatch):
    clock = FakeClock()
    b = Budget(None, clock=clock)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("slept for real"))
    answers: list[Any] = [_throttle(), _throttle("ThrottlingException"),
                          {"Items": [], "ConsumedCapacity": {"CapacityUnits": 0.5}}]

    def scan(**_: Any) -> dict[str, Any]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    stats = ReadStats(budget=b)
    page = request(scan, {"TableName": "T"}, table="T", stats=stats,
                   policy=RetryPolicy(retries=3, base=1.0, cap=1.0))
    assert page["Items"] == [] and not answers
    assert stats.throttled == 2 and stats.resumed == 2 and b.throttles == 2
    assert stats.waited_seconds == pytest.approx(clock())  # every wait was at the gate
    attrs = stats.as_attrs()
    assert attrs["throttled"] == 2 and attrs["max_rcu"] is None


def test_throttling_outlasting_the_policy_still_raises():
    b = Budget(None, clock=FakeClock())

    def scan(**_: Any) -> dict[str, Any]:
        raise _throttle()

    stats = ReadStats(budget=b)
    with pytest.raises(xn.IncompleteReadError, match="nothing partial is returned"):
        request(scan, {"TableName": "T", "ExclusiveStartKey": {"pk": {"S": "a"}}}, table="T",
                stats=stats, policy=RetryPolicy(retries=2, base=1.0, cap=1.0))
    assert stats.throttled == 3


# -- over HTTP, against the sandbox ----------------------------------------------------------


@pytest.mark.sandbox
def test_every_read_says_its_budget(reader, sandbox):
    df = xn.read_query(reader, sandbox.table, "C-0001")
    assert df.attrs["max_rcu"] is None and df.attrs["throttled"] == 0
    assert df.attrs["waited_seconds"] == 0.0
    budgeted = xn.read_query(reader, sandbox.table, ["C-0001", "C-0002"], max_rcu=1000)
    assert budgeted.attrs["max_rcu"] == 1000.0
    items = xn.read_items(reader, sandbox.table, df[["customer_id", "order_ts"]], max_rcu=1)
    assert len(items) == len(df) and items.attrs["max_rcu"] == 1.0
    assert items.attrs["pages"] >= 2  # batches of about a second of budget
    sql = xn.read_partiql(reader, 'SELECT * FROM "MyCrossAccountTable" WHERE customer_id = ?',
                          ["C-0001"], max_rcu=500)
    assert len(sql) == len(df) and sql.attrs["max_rcu"] == 500.0


@pytest.mark.sandbox
def test_a_share_of_an_on_demand_table_is_refused(reader, sandbox):
    with pytest.raises(xn.InvalidArgumentError, match="on-demand"):
        xn.read_scan(reader, sandbox.table, max_rcu="10%")
    with pytest.raises(xn.InvalidArgumentError, match="max_rcu"):
        xn.read_scan(reader, sandbox.table, max_rcu=True)


@pytest.mark.sandbox
def test_a_share_of_a_provisioned_table_and_its_index(sandbox):
    admin = sandbox.admin_session("B")
    ddb = admin.client("dynamodb")
    name = f"BudgetProvisioned-{uuid.uuid4().hex[:8]}"
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        ProvisionedThroughput={"ReadCapacityUnits": 40, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[{
            "IndexName": "g-index", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
            "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 5},
        }],
    )
    try:
        for i in range(30):
            ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "g": {"S": "x"}})
        df = xn.read_scan(admin, name, max_rcu="50%")
        assert len(df) == 30 and df.attrs["max_rcu"] == 20.0
        by_index = xn.read_query(admin, name, "x", index="g-index", max_rcu="50%")
        assert len(by_index) == 30 and by_index.attrs["max_rcu"] == 5.0
    finally:
        ddb.delete_table(TableName=name)


@pytest.mark.sandbox
def test_a_budgeted_scan_stays_within_its_budget(reader, sandbox):
    rate = 100.0
    started = time.monotonic()
    df = xn.read_scan(reader, sandbox.table, segments=4, max_rcu=rate)
    elapsed = time.monotonic() - started
    assert len(df) == demo.ORDER_COUNT
    consumed = df.attrs["consumed_capacity"]
    assert consumed > 2 * rate  # the test means something: more than the burst
    # At most rate * elapsed + one second's burst + a page's estimate error per segment.
    assert consumed <= rate * elapsed + rate + 4 * 0.5 * rate
    assert df.attrs["waited_seconds"] > 0 and df.attrs["max_rcu"] == rate
    assert df.attrs["pages"] > 4  # pages sized to the budget, not 1 MB


@pytest.fixture
def proxy(sandbox, monkeypatch):
    with FaultProxy(sandbox.endpoint_url) as fp:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", fp.endpoint_url)
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "4")  # botocore would retry throttling 3 times
        monkeypatch.setattr(RESUME, "base", 0.01)
        monkeypatch.setattr(RESUME, "cap", 0.05)
        yield fp


@pytest.mark.sandbox
def test_throttled_pages_reach_the_engine_and_every_row_arrives(reader, sandbox, proxy):
    proxy.add("Scan", "throttle", times=3, after=1)
    df = xn.read_scan(reader, sandbox.table, segments=2)
    assert len(df) == demo.ORDER_COUNT
    assert not df.duplicated(["customer_id", "order_ts"]).any()
    assert df.attrs["throttled"] == 3  # each one seen by the engine, none retried by botocore
    assert proxy.requests["Scan"] == df.attrs["pages"] + 3
    assert df.attrs["waited_seconds"] > 0  # the shared gate held the read back


@pytest.mark.sandbox
def test_throttled_batches_are_counted_too(reader, sandbox, proxy):
    keys = xn.read_query(reader, sandbox.table, "C-0001")[["customer_id", "order_ts"]]
    proxy.add("BatchGetItem", "throttling", times=2)
    df = xn.read_items(reader, sandbox.table, keys)
    assert len(df) == len(keys) and df.attrs["throttled"] == 2


@pytest.mark.sandbox
def test_read_clients_keep_botocores_retries_of_5xx(reader, sandbox, proxy):
    proxy.add("Scan", "error500", times=1)
    ddb = dynamodb_client(reader, throttle_retries=False)
    page = ddb.scan(TableName=sandbox.table, Limit=1)
    assert page["ResponseMetadata"]["RetryAttempts"] == 1
    proxy.add("Scan", "throttle", times=1)
    with pytest.raises(ClientError, match="ProvisionedThroughputExceeded") as err:
        ddb.scan(TableName=sandbox.table, Limit=1)
    assert err.value.response["ResponseMetadata"].get("RetryAttempts", 0) == 0
    writer_like = dynamodb_client(reader)  # writes keep botocore's retries of throttling
    proxy.add("Scan", "throttle", times=1)
    assert writer_like.scan(TableName=sandbox.table, Limit=1)["ResponseMetadata"][
        "RetryAttempts"] == 1


def test_the_module_is_a_mechanism():
    from xacct_nb._layers import LAYERS

    assert "_budget" in dict(LAYERS)["mechanisms"]
    assert budget_mod.__all__


@pytest.mark.sandbox
def test_dask_tasks_share_the_budget_equally(reader, sandbox, monkeypatch):
    pytest.importorskip("dask")
    import xacct_nb.dask as xd

    rates: list[float | None] = []

    class Recording(Budget):
        def __init__(self, rate: float | None = None, **kw: Any) -> None:
            rates.append(rate)
            super().__init__(rate, **kw)

    monkeypatch.setattr(xd, "Budget", Recording)
    ddf = xd.read_scan(reader, sandbox.table, segments=4, max_rcu=2000)
    assert len(ddf) == demo.ORDER_COUNT
    assert rates == [500.0] * 4  # max_rcu / partitions, enforced by each task
    rates.clear()
    assert len(xd.read_query(reader, sandbox.table, ["C-0001", "C-0002"], max_rcu=100)) > 0
    assert rates == [50.0, 50.0]


@pytest.mark.sandbox
def test_an_export_takes_a_budget(reader, sandbox, tmp_path):
    report = xn.export(reader, sandbox.table, tmp_path / "orders.csv", partition="C-0001",
                       max_rcu=50)
    assert report.rows > 0


def test_a_read_without_max_rcu_paces_itself_after_its_first_throttle():
    clock = FakeClock()
    budget = Budget(clock=clock)
    assert budget.page_limit(None) is None and budget.expected_cost(10) == 0.0
    budget.throttled(0.1)  # nothing consumed yet: only the shared pause
    assert not budget.implicit and budget.rate is None
    for _ in range(10):  # 40 RCU a second for 10 s; only the last 5 s count
        budget.settle(0.0, 40.0 if clock() >= 5 else 400.0)
        clock.sleep(1.0)
    budget.throttled(0.1)
    assert budget.implicit
    assert budget.rate == pytest.approx(40.0 * 5 / 5, rel=0.25)
    assert budget.effective_rate == pytest.approx(budget.rate / 2)
    budget.learn(4.0, 10)  # 0.4 RCU an item
    assert budget.page_limit(None) == int(budget.effective_rate / 0.4)
    waited = budget.acquire(budget.expected_cost(budget.page_limit(None)))
    assert waited > 0  # the bucket starts empty after a throttle
    attrs = budget.as_attrs()
    assert attrs["max_rcu"] is None and attrs["throttled"] == 2


def test_after_a_throttle_a_provisioned_table_is_read_at_its_capacity():
    clock = FakeClock()
    described = {"BillingModeSummary": {"BillingMode": "PROVISIONED"},
                 "ProvisionedThroughput": {"ReadCapacityUnits": 100},
                 "GlobalSecondaryIndexes": [{"IndexName": "by-status",
                                             "ProvisionedThroughput": {"ReadCapacityUnits": 30}}]}
    table = read_budget(None, description=described)
    index = read_budget(None, description=described, index="by-status")
    assert table.rate is None and table.provisioned == 100 and index.provisioned == 30
    for budget, rate in ((table, 100.0), (index, 30.0)):
        budget.clock = clock
        budget.settle(0.0, 500.0)  # consumed far more (its burst): the capacity wins
        budget.throttled(0.1)
        assert budget.implicit and budget.rate == rate and budget.effective_rate == rate
        budget.throttled(0.1)  # the same second: one signal
        assert budget.effective_rate == rate
    on_demand = read_budget(None, description={"BillingModeSummary":
                                               {"BillingMode": "PAY_PER_REQUEST"}})
    assert on_demand.provisioned is None
    assert read_budget(20, description=described).provisioned is None  # max_rcu wins
