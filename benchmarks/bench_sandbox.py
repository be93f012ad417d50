"""How fast the embedded sandbox serves the demo table: a full Scan, start to ready.

Reads the whole demo table (3,000 orders, 2.3 MB, three 1 MB pages) with
``xn.read_scan`` through the authorization layer (SigV4 verified, every page
authorized) and with plain boto3's paginator, the peer every other client
sits on. Prints a markdown table; nothing leaves 127.0.0.1.

    .venv/bin/python benchmarks/bench_sandbox.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _name in list(os.environ):  # never a real account
    if _name.startswith("AWS_"):
        del os.environ[_name]

import xacct_nb as xn  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs (median reported)")
    args = parser.parse_args()
    started = time.perf_counter()
    sb = xn.sandbox.start()
    ready = time.perf_counter() - started
    try:
        session = xn.assume_role(sb.reader_role_arn, external_id=sb.external_id,
                                 source_session=sb.analyst_session())
        paginator = session.client("dynamodb").get_paginator("scan")

        def boto3_scan() -> int:
            return sum(len(page["Items"]) for page in paginator.paginate(TableName=sb.table))

        def xn_scan() -> int:
            return len(xn.read_scan(session, sb.table))

        rows = []
        for label, run in (("xn.read_scan", xn_scan), ("boto3 paginator", boto3_scan)):
            run()  # warm-up
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                count = run()
                times.append(time.perf_counter() - t)
            rows.append((label, count, statistics.median(times), min(times)))
        df = xn.read_scan(session, sb.table)
    finally:
        sb.stop()
    print(f"sandbox start to ready: {ready:.2f} s; full Scan: {df.attrs['pages']} pages, "
          f"{df.attrs['consumed_capacity']} RCU (eventually consistent)\n")
    print("| client | rows | median s | best s |")
    print("|---|---:|---:|---:|")
    for label, count, median, best in rows:
        print(f"| {label} | {count:,} | {median:.3f} | {best:.3f} |")


if __name__ == "__main__":
    main()
