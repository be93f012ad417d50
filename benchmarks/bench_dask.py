"""Dask benchmark: ``xacct_nb.dask.read_scan`` on a ``LocalCluster``, against the pandas path.

One command (from the repository root, with the project's virtualenv and the
``dask`` extra installed)::

    .venv/bin/python benchmarks/bench_dask.py                  # 1,000,000 items, 16 segments
    .venv/bin/python benchmarks/bench_dask.py --quick          # 100,000 items (smoke, ~30 s)
    .venv/bin/python benchmarks/bench_dask.py --update-readme  # also rewrite README's block

What happens:

1. The stand-in endpoint (:mod:`standin`) starts in a child process with
   ``--items`` orders-like items in pre-serialized ~1 MiB Scan pages. One
   addition: it honours ``Limit`` on a Scan's first page (the Dask reader
   takes its metadata sample with ``Limit``; the plain stand-in refuses any
   parameter it does not implement). Everything else is the stand-in as
   ``bench_read.py`` uses it.
2. **The pandas path**, in a fresh subprocess: ``xn.read_scan(session,
   "BenchOrders")``: its rows, its column dtypes, its time and the increase
   of its peak RSS over its baseline (after imports and a first client).
3. **The Dask path**: a ``LocalCluster`` of ``--workers`` worker processes
   (``--threads`` threads each, no dashboard). Each worker first imports
   xacct_nb and builds a DynamoDB client, then records its ``ru_maxrss`` as
   its baseline. ``xacct_nb.dask.read_scan(session, "BenchOrders",
   segments=S)`` builds the frame (the sample read is timed apart); then
   every partition is read on the workers and reduced there to one summary
   row (rows, dtypes, deep memory of the partition, worker pid), so only the
   summaries travel to the client: a worker holds the partitions it is
   computing, and nothing else of the table. Each worker's ``ru_maxrss`` is
   read again afterwards.
4. The checks: the Dask frame's row count equals the pandas frame's (and
   ``--items``); its dtypes (the metadata, known before reading, and every
   partition's) equal the pandas frame's; and each worker's peak RSS
   increase is bounded by what its partitions need: at most
   ``MEMORY_FACTOR`` x (threads per worker) x (largest partition in memory),
   and less than the pandas path's increase for the whole table.

Every child gets a clean AWS environment: every ``AWS_*`` variable removed,
then dummy keys, ``AWS_DEFAULT_REGION=us-east-1`` and
``AWS_ENDPOINT_URL=http://127.0.0.1:PORT`` (the workers inherit it; nothing
leaves 127.0.0.1). The session is a plain ``boto3.Session``: its
:class:`~xacct_nb.dask.RoleSpec` says "default chain, endpoint from
``AWS_ENDPOINT_URL``"; no key is in the task graph.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
README = HERE / "README.md"
README_START = "<!-- dask-results:start -->"
README_END = "<!-- dask-results:end -->"
TABLE_NAME = "BenchOrders"
CHILD_TIMEOUT_S = 1800
#: A worker's peak RSS increase may be this many times (threads x largest partition):
#: the raw pages in flight, the decoded pieces, the joined frame and its conformed copy.
MEMORY_FACTOR = 4.0


def _max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def _clean_env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S105 - a dummy for the stand-in
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    return env


# --------------------------------------------------------------------------- stand-in


def serve(items: int) -> int:
    """The stand-in, plus ``Limit`` on a Scan's first page (for the metadata sample)."""
    sys.path.insert(0, str(HERE))
    import standin

    class LimitedDataset(standin.Dataset):
        def scan_body(self, request: dict[str, Any]) -> tuple[int, bytes]:
            request = dict(request)
            limit = request.pop("Limit", None)
            status, body = super().scan_body(request)
            if limit is None or status != 200:
                return status, body
            if not isinstance(limit, int) or limit < 1 or "ExclusiveStartKey" in request:
                return standin._error(
                    "ValidationException", "The stand-in honours Limit on a first page only.")
            page = json.loads(body)
            if page["Count"] <= limit:
                return status, body
            kept = page["Items"][:limit]
            out = {"Items": kept, "Count": limit, "ScannedCount": limit,
                   "LastEvaluatedKey": standin._key_of(kept[-1])}
            return 200, standin._dumps(out)

    dataset = LimitedDataset.build(items)
    server = standin.StandinServer(("127.0.0.1", 0), dataset, 0.0)
    print(f"READY {server.server_address[1]} {len(dataset.pages)} {dataset.n_items}", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
    return 0


def _stats(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:
        return json.loads(response.read())


# --------------------------------------------------------------------------- pandas path


def pandas_child() -> int:
    import boto3

    import xacct_nb as xn

    session = boto3.Session(region_name="us-east-1")
    # The same warm-up as the workers': one small read through the same path.
    xn.read_scan(session, TABLE_NAME, limit=1000, progress=False)
    import gc

    gc.collect()
    base = _max_rss_bytes()
    t0 = time.perf_counter()
    df = xn.read_scan(session, TABLE_NAME, progress=False)
    wall = time.perf_counter() - t0
    print(json.dumps({
        "rows": len(df), "columns": list(df.columns),
        "dtypes": {c: str(t) for c, t in df.dtypes.items()},
        "wall_s": wall, "rss_increase": _max_rss_bytes() - base,
        "frame_bytes": int(df.memory_usage(deep=True).sum()),
    }))
    return 0


# --------------------------------------------------------------------------- dask path


def _worker_warm() -> int:
    """Import and exercise the read path once (1,000 items), then the baseline.

    The first read pays once per process for what every later one reuses
    (botocore's model, pyarrow's JSON reader and memory pool, thread pools):
    the baseline excludes it, so the increase is what the partitions cost.
    """
    import gc

    import boto3

    import xacct_nb as xn
    import xacct_nb.dask  # noqa: F401 - what a partition imports

    xn.read_scan(boto3.Session(region_name="us-east-1"), TABLE_NAME, limit=1000, progress=False)
    gc.collect()
    return _max_rss_bytes()


def _partition_summary(df: Any) -> Any:
    import os

    import pandas as pd

    return pd.DataFrame({
        "rows": [len(df)],
        "dtypes": [json.dumps({c: str(t) for c, t in df.dtypes.items()})],
        "bytes": [int(df.memory_usage(deep=True).sum())],
        "pid": [os.getpid()],
    })


def dask_child(segments: int, workers: int, threads: int) -> int:
    import warnings

    import boto3
    import pandas as pd
    from distributed import Client, LocalCluster

    import xacct_nb.dask as xd

    warnings.simplefilter("error")  # nothing may warn on the way
    session = boto3.Session(region_name="us-east-1")
    with LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        base = client.run(_worker_warm)
        t0 = time.perf_counter()
        ddf = xd.read_scan(session, TABLE_NAME, segments=segments)
        build = time.perf_counter() - t0
        meta = {c: str(t) for c, t in ddf.dtypes.items()}
        summary_meta = pd.DataFrame({"rows": pd.Series([], dtype="int64"),
                                     "dtypes": pd.Series([], dtype=object),
                                     "bytes": pd.Series([], dtype="int64"),
                                     "pid": pd.Series([], dtype="int64")})
        t1 = time.perf_counter()
        parts = ddf.map_partitions(_partition_summary, meta=summary_meta).compute()
        wall = time.perf_counter() - t1
        peak = client.run(_max_rss_bytes)
        pids = client.run(os.getpid)
    workers_out = []
    for address, pid in pids.items():
        mine = parts[parts["pid"] == pid]
        workers_out.append({
            "partitions": len(mine), "rows": int(mine["rows"].sum()),
            "largest_partition": int(mine["bytes"].max()) if len(mine) else 0,
            "all_partitions": int(mine["bytes"].sum()),
            "rss_increase": peak[address] - base[address],
        })
    print(json.dumps({
        "rows": int(parts["rows"].sum()), "partitions": len(parts), "meta": meta,
        "partition_dtypes_equal_meta": all(json.loads(d) == meta for d in parts["dtypes"]),
        "build_s": build, "wall_s": wall, "workers": workers_out,
        "largest_partition": int(parts["bytes"].max()),
    }))
    return 0


# --------------------------------------------------------------------------- driver


def _run_child(args: list[str], port: int) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, *args], env=_clean_env(port),
                         capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, cwd=str(REPO))
    if out.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=16, help="partitions (1 to 16)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument("--quick", action="store_true", help="100,000 items")
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pandas-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dask-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.items)
    if args.pandas_child:
        return pandas_child()
    if args.dask_child:
        return dask_child(args.segments, args.workers, args.threads)
    if args.quick:
        args.items = 100_000
    started = time.time()
    load_before = os.getloadavg()[0]
    standin = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--items", str(args.items)],
        stdout=subprocess.PIPE, text=True, env=_clean_env(0))
    try:
        assert standin.stdout is not None
        ready = standin.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise SystemExit("the stand-in did not start")
        port, pages = int(ready[1]), int(ready[2])
        print(f"stand-in: {args.items:,} items in {pages} pages on port {port}", file=sys.stderr)
        before = _stats(port)
        pandas = _run_child(["--pandas-child"], port)
        print(f"pandas path: {pandas['wall_s']:.1f} s", file=sys.stderr)
        middle = _stats(port)
        dask = _run_child(["--dask-child", "--segments", str(args.segments), "--workers",
                           str(args.workers), "--threads", str(args.threads)], port)
        print(f"dask path: {dask['wall_s']:.1f} s", file=sys.stderr)
        after = _stats(port)
    finally:
        standin.terminate()
        standin.wait(timeout=30)
    report = _report(args, pages, pandas, dask, before, middle, after, load_before, started)
    print(report)
    if args.update_readme:
        text = README.read_text()
        block = f"{README_START}\n{report}\n{README_END}"
        text = re.sub(re.escape(README_START) + r".*?" + re.escape(README_END),
                      lambda _: block, text, flags=re.S)
        README.write_text(text)
    return 0 if _verdicts(args, pandas, dask)[0] else 1


def _verdicts(args: Any, pandas: dict[str, Any], dask: dict[str, Any]) -> tuple[bool, list[str]]:
    rows_ok = dask["rows"] == pandas["rows"] == args.items
    dtypes_ok = dask["meta"] == pandas["dtypes"] and dask["partition_dtypes_equal_meta"]
    order_ok = list(dask["meta"]) == pandas["columns"]
    memory_rows = []
    memory_ok = True
    for i, worker in enumerate(dask["workers"]):
        bound = MEMORY_FACTOR * args.threads * worker["largest_partition"]
        ok = worker["rss_increase"] <= bound and worker["rss_increase"] < pandas["rss_increase"]
        if args.quick:  # partitions of a few MiB: the page buffers in flight dominate
            verdict = "n/a (smoke run)"
        else:
            memory_ok &= ok
            verdict = "PASS" if ok else "FAIL"
        memory_rows.append(
            f"| worker {i + 1}: peak RSS increase <= {MEMORY_FACTOR:g} x {args.threads} x its "
            f"largest partition ({_mib(bound)} MiB), and < the pandas path's "
            f"({_mib(pandas['rss_increase'])} MiB) | {_mib(worker['rss_increase'])} MiB "
            f"| {verdict} |")
    lines = [
        f"| row count equals the pandas path's ({pandas['rows']:,}) | {dask['rows']:,} "
        f"| {'PASS' if rows_ok else 'FAIL'} |",
        f"| column dtypes (metadata and every partition) equal the pandas path's | "
        f"{'equal' if dtypes_ok else 'different'} | {'PASS' if dtypes_ok else 'FAIL'} |",
        f"| column order equals the pandas path's | {'equal' if order_ok else 'different'} "
        f"| {'PASS' if order_ok else 'FAIL'} |",
        *memory_rows,
    ]
    return rows_ok and dtypes_ok and order_ok and memory_ok, lines


def _report(args: Any, pages: int, pandas: dict[str, Any], dask: dict[str, Any],
            before: dict[str, Any], middle: dict[str, Any], after: dict[str, Any],
            load_before: float, started: float) -> str:
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("xacct-nb", "dask", "distributed", "pandas", "pyarrow", "botocore")
    )
    ok, verdicts = _verdicts(args, pandas, dask)
    out = [
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}",
        f"- packages: {versions}",
        f"- data: {args.items:,} items in {pages} pages of about 1 MiB of JSON; LocalCluster of "
        f"{args.workers} worker processes x {args.threads} thread(s), {args.segments} segments",
        f"- 1-minute load average before the run: {load_before:.2f}",
        "",
        "| path | rows | Scan calls | wall (s) | items/s | peak RSS increase (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| pandas: `xn.read_scan(session, table)` | {pandas['rows']:,} | "
        f"{middle['scan'] - before['scan']} | {pandas['wall_s']:.1f} | "
        f"{pandas['rows'] / pandas['wall_s']:,.0f} | {_mib(pandas['rss_increase'])} (whole frame: "
        f"{_mib(pandas['frame_bytes'])}) |",
        f"| dask: `xd.read_scan(session, table, segments={args.segments})` on the cluster | "
        f"{dask['rows']:,} | {after['scan'] - middle['scan']} | {dask['wall_s']:.1f} "
        f"(+ {dask['build_s']:.1f} metadata sample) | {dask['rows'] / dask['wall_s']:,.0f} | "
        + " / ".join(_mib(w["rss_increase"]) for w in dask["workers"]) + " per worker |",
        "",
        "| worker | partitions | rows | its partitions in memory, all (MiB) | largest (MiB) "
        "| peak RSS increase (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {i + 1} | {w['partitions']} | {w['rows']:,} | {_mib(w['all_partitions'])} | "
            f"{_mib(w['largest_partition'])} | {_mib(w['rss_increase'])} |"
            for i, w in enumerate(dask["workers"])
        ],
        "",
        "| target | measured | result |",
        "|---|---|---|",
        *verdicts,
        "",
        f"All targets: {'PASS' if ok else 'FAIL'}. Whole run: {time.time() - started:.0f} s "
        f"(`bench_dask.py{' --quick' if args.quick else ''}`).",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
