"""Many partitions into one frame: xn.read_query with a list against the peers.

Reads the orders of N customers of the demo table (100 by default; 300 is all
3,000 orders, one Query each) from the embedded sandbox, through its
authorization layer, and prints a markdown table:

- ``xn.read_query(session, table, [c1, c2, ...])``: the Queries run
  concurrently (8 at a time), rows grouped in the order asked;
- ``xn.read_query`` called once per customer, then ``pd.concat``;
- plain boto3: a ``query`` paginator per customer, ``TypeDeserializer``,
  ``pd.DataFrame``;
- awswrangler: ``wr.dynamodb.read_items`` with a key condition per customer
  (its ``partition_values=`` asks for whole keys, partition and sort), then
  ``pd.concat``.

Every contender must return the same number of rows. Nothing leaves 127.0.0.1.

    .venv/bin/python benchmarks/bench_partitions.py [--customers 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

for _name in list(os.environ):  # never a real account
    if _name.startswith("AWS_"):
        del os.environ[_name]

import pandas as pd  # noqa: E402
from boto3.dynamodb.conditions import Key  # noqa: E402
from boto3.dynamodb.types import TypeDeserializer  # noqa: E402

import xacct_nb as xn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100, help="partitions read")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median reported)")
    args = parser.parse_args()
    sb = xn.sandbox.start()
    try:
        session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                                 source_session=sb.analyst_session())
        customers = [f"C-{i:04d}" for i in range(1, args.customers + 1)]
        client = session.client("dynamodb")
        deserializer = TypeDeserializer()

        def run_all(columns: list[str] | None) -> list[tuple[str, int, float, float, str]]:
            projection: dict[str, object] = {}
            if columns:  # placeholders: "status" is a reserved word
                projection = {
                    "ProjectionExpression": ", ".join(f"#c{i}" for i in range(len(columns))),
                    "ExpressionAttributeNames": {f"#c{i}": c for i, c in enumerate(columns)},
                }

            def xn_list() -> int:
                return len(xn.read_query(session, sb.table, customers, columns=columns,
                                         progress=False))

            def xn_loop() -> int:
                frames = [xn.read_query(session, sb.table, c, columns=columns, progress=False)
                          for c in customers]
                return len(pd.concat(frames, ignore_index=True))

            def boto3_loop() -> int:
                paginator = client.get_paginator("query")
                rows = []
                for c in customers:
                    for page in paginator.paginate(
                        TableName=sb.table, KeyConditionExpression="customer_id = :c",
                        ExpressionAttributeValues={":c": {"S": c}}, **projection,
                    ):
                        rows += [{k: deserializer.deserialize(v) for k, v in item.items()}
                                 for item in page["Items"]]
                return len(pd.DataFrame(rows))

            contenders: list[tuple[str, Callable[[], int]]] = [
                ("xn.read_query(table, [customers])", xn_list),
                ("xn.read_query per customer + concat", xn_loop),
                ("boto3 query paginator per customer", boto3_loop),
            ]
            try:
                import awswrangler as wr

                def wrangler_loop() -> int:
                    frames = [
                        wr.dynamodb.read_items(
                            table_name=sb.table, boto3_session=session, columns=columns,
                            key_condition_expression=Key("customer_id").eq(c))
                        for c in customers
                    ]
                    return len(pd.concat(frames, ignore_index=True))

                contenders.append(("awswrangler read_items per customer + concat",
                                   wrangler_loop))
            except ImportError:
                pass
            results = []
            for label, run in contenders:
                try:
                    rows = run()  # warm-up
                except Exception as exc:  # noqa: BLE001 - a contender that fails is reported
                    results.append((label, 0, float("nan"), float("nan"),
                                    f"fails: {type(exc).__name__}: {str(exc)[:80]}"))
                    continue
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    count = run()
                    times.append(time.perf_counter() - started)
                    if count != rows:
                        raise SystemExit(f"{label}: {count} rows, then {rows}")
                results.append((label, rows, statistics.median(times), min(times), ""))
            counts = {rows for _, rows, _, _, note in results if not note}
            if len(counts) != 1:
                raise SystemExit(f"the contenders disagree on the row count: {results}")
            return results

        scenarios = [("all attributes", run_all(None)),
                     ("5 columns", run_all(["customer_id", "order_ts", "status", "total",
                                            "item_count"]))]
    finally:
        sb.stop()
    print(f"{args.customers} partitions (customers) of the demo table, median of "
          f"{args.repeat} runs\n")
    for title, results in scenarios:
        base = results[0][2]
        rows = results[0][1]
        print(f"{title} ({rows:,} rows):\n")
        print("| client | median s | best s | vs. the list |")
        print("|---|---:|---:|---:|")
        for label, _, median, best, note in results:
            if note:
                print(f"| {label} | {note} | | |")
            else:
                print(f"| {label} | {median:.3f} | {best:.3f} | {median / base:.1f}x |")
        print()



if __name__ == "__main__":
    main()
