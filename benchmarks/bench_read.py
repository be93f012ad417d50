"""Read benchmark: ``xacct_nb.read_scan`` against its peers, on a stand-in endpoint.

One command runs everything and prints the results as markdown::

    .venv/bin/python benchmarks/bench_read.py            # 200,000 items, best of 3
    .venv/bin/python benchmarks/bench_read.py --quick    # 20,000 items, 1 run (smoke)
    .venv/bin/python benchmarks/bench_read.py --update-readme   # also rewrite README's block

What happens:

1. :mod:`standin` starts in its own process on 127.0.0.1 with ``--items`` orders-like
   items in pre-serialized ~1 MiB Scan pages (no latency).
2. Each contender reads the whole table, in a **fresh subprocess per (contender,
   repetition)**. The child imports what it needs, creates one DynamoDB client
   to load botocore's service model (so no contender pays for that inside the
   timing), records ``ru_maxrss`` as its baseline, then times the read and
   records ``ru_maxrss`` again: peak RSS and the increase are per contender.
   Contenders: ``xacct_nb.read_scan`` (``segments=1``),
   ``awswrangler.dynamodb.read_items`` (its defaults: a parallel scan of
   ``os.cpu_count()`` segments), a boto3 paginator + ``TypeDeserializer`` +
   ``pd.DataFrame``, and the raw floor (the same pages over keep-alive
   ``http.client`` POSTs, unsigned, only ``json.loads``-ed, each page dropped
   after parsing; a second raw row keeps the pages, to show what holding
   millions of dicts costs in garbage collection).
3. The stand-in restarts with ``--latency-ms`` per page; ``read_scan`` reads the
   same table with ``segments=1`` and ``segments=8``.
4. Every child must return all ``--items`` rows, and the stand-in's request
   counters must show that it served the pages; then the tables and the
   targets (PASS/FAIL) are printed.

Children get a clean AWS environment: every ``AWS_*`` variable removed, then
``AWS_ACCESS_KEY_ID=testing``, ``AWS_SECRET_ACCESS_KEY=testing``,
``AWS_DEFAULT_REGION=us-east-1`` and ``AWS_ENDPOINT_URL=http://127.0.0.1:PORT``;
a child refuses to run if its client's endpoint is anything else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import importlib.metadata
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
README = HERE / "README.md"
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"

TABLE_NAME = "BenchOrders"  # standin.TABLE_NAME (not imported: children stay lean)
CHILD_TIMEOUT_S = 900
CONTENDERS: dict[str, str] = {
    "xacct_nb": "xacct_nb.read_scan (segments=1)",
    "awswrangler": "awswrangler.dynamodb.read_items",
    "boto3": "boto3 paginator + TypeDeserializer + pd.DataFrame",
    "raw": "raw floor: http.client + json.loads",
    "raw_kept": "raw, pages kept: http.client + json.loads",
}
TARGET_THROUGHPUT_VS_WRANGLER = 6.0
TARGET_THROUGHPUT_VS_RAW = 0.5
TARGET_MEMORY_VS_WRANGLER = 0.5
TARGET_SEGMENT_SPEEDUP = 4.0
PARALLEL_SEGMENTS = 8


# --------------------------------------------------------------------------- child side


def _max_rss_bytes() -> int:
    """Peak resident set size of this process so far (``ru_maxrss`` is KiB on Linux)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def _cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _boto3_session(endpoint: str) -> Any:
    """A plain ``boto3.Session`` (credentials and endpoint from the environment), checked."""
    import boto3

    session = boto3.Session(region_name="us-east-1")
    # Loads botocore's DynamoDB model into the session (every contender then
    # creates its own client inside the timing) and proves where it points.
    actual = session.client("dynamodb").meta.endpoint_url
    if actual.rstrip("/") != endpoint:
        raise SystemExit(f"refusing to run: the DynamoDB endpoint is {actual}, not {endpoint}")
    return session


def _prepare_xacct_nb(endpoint: str, segments: int) -> Callable[[], Any]:
    import xacct_nb as xn

    session = _boto3_session(endpoint)
    return lambda: xn.read_scan(session, TABLE_NAME, segments=segments, progress=False)


def _prepare_awswrangler(endpoint: str, segments: int) -> Callable[[], Any]:
    import warnings

    import awswrangler as wr

    # read_items warns on every full scan ("Attempting DynamoDB Scan operation");
    # that is the point here, so keep stderr for real problems.
    warnings.filterwarnings("ignore", message="Attempting DynamoDB Scan", category=UserWarning)
    session = _boto3_session(endpoint)
    return lambda: wr.dynamodb.read_items(
        table_name=TABLE_NAME, allow_full_scan=True, boto3_session=session
    )


def _prepare_boto3(endpoint: str, segments: int) -> Callable[[], Any]:
    import pandas as pd
    from boto3.dynamodb.types import TypeDeserializer

    session = _boto3_session(endpoint)

    def read() -> Any:
        client = session.client("dynamodb")
        deserializer = TypeDeserializer()
        rows = [
            {name: deserializer.deserialize(value) for name, value in item.items()}
            for page in client.get_paginator("scan").paginate(TableName=TABLE_NAME)
            for item in page["Items"]
        ]
        return pd.DataFrame(rows)

    return read


def _raw_reader(endpoint: str, *, keep: bool) -> Callable[[], Any]:
    """Unsigned keep-alive POSTs of the same Scan pages; ``json.loads`` and nothing else.

    ``keep=False`` (the floor) drops each page after parsing and returns the row
    count; ``keep=True`` keeps every page's items, which adds what CPython's
    garbage collector spends on millions of live dicts.
    """
    from urllib.parse import urlsplit

    host_port = urlsplit(endpoint).netloc
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.Scan",
    }

    def read() -> int | list[list[dict[str, Any]]]:
        connection = http.client.HTTPConnection(host_port, timeout=60)
        request: dict[str, Any] = {"TableName": TABLE_NAME}
        pages: list[list[dict[str, Any]]] = []
        rows = 0
        try:
            while True:
                connection.request("POST", "/", json.dumps(request), headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    raise RuntimeError(f"Scan answered {response.status}: {body[:200]!r}")
                page = json.loads(body)
                rows += len(page["Items"])
                if keep:
                    pages.append(page["Items"])
                if "LastEvaluatedKey" not in page:
                    return pages if keep else rows
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        finally:
            connection.close()

    return read


def _prepare_raw(endpoint: str, segments: int) -> Callable[[], Any]:
    return _raw_reader(endpoint, keep=False)


def _prepare_raw_kept(endpoint: str, segments: int) -> Callable[[], Any]:
    return _raw_reader(endpoint, keep=True)


_PREPARE: dict[str, Callable[[str, int], Callable[[], Any]]] = {
    "xacct_nb": _prepare_xacct_nb,
    "awswrangler": _prepare_awswrangler,
    "boto3": _prepare_boto3,
    "raw": _prepare_raw,
    "raw_kept": _prepare_raw_kept,
}


def _shape(result: Any) -> tuple[int, int | None]:
    """(rows, columns) of a DataFrame or of the raw reads' results (a count: no columns)."""
    if isinstance(result, int):
        return result, None
    if isinstance(result, list):
        names: set[str] = set()
        rows = 0
        for items in result:
            rows += len(items)
            for item in items:
                names.update(item)
        return rows, len(names)
    return int(result.shape[0]), int(result.shape[1])


def child_main(contender: str, endpoint: str, items: int, segments: int) -> int:
    """Time one read in this (fresh) process and print one JSON line."""
    import gc

    read = _PREPARE[contender](endpoint, segments)
    gc.collect()
    baseline = _max_rss_bytes()
    cpu_start = _cpu_seconds()
    start = time.perf_counter()
    result = read()
    wall = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu_start
    peak = _max_rss_bytes()
    rows, columns = _shape(result)
    if rows != items:
        raise SystemExit(f"{contender} returned {rows} rows, not {items}")
    print(
        json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "rows": rows,
                "columns": columns,
                "baseline_rss": baseline,
                "peak_rss": peak,
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- parent side


def clean_env(endpoint: str | None = None) -> dict[str, str]:
    """This environment without any ``AWS_*`` variable, plus the dummy credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


@dataclass
class Standin:
    """A running stand-in process."""

    process: subprocess.Popen[str]
    port: int
    pages: int
    items: int
    latency_ms: float

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, float]:
        """The stand-in's counters (``GET /stats``; one new connection, no proxy)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/stats")
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()


@contextmanager
def standin(items: int, latency_ms: float) -> Iterator[Standin]:
    """Start ``standin.py`` in its own process; stop it afterwards."""
    command = [
        sys.executable,
        str(HERE / "standin.py"),
        "--items",
        str(items),
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env=clean_env(), cwd=REPO
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"READY (\d+) (\d+) (\d+)\s*", line)
        if not match:
            raise RuntimeError(f"the stand-in did not start (said {line!r})")
        port, pages, n = (int(g) for g in match.groups())
        yield Standin(process, port, pages, n, latency_ms)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Run:
    """What one child measured."""

    wall_s: float
    cpu_s: float
    rows: int
    columns: int | None
    baseline_rss: int
    peak_rss: int
    scan_calls: int
    #: CPU the stand-in spent while this child ran (its whole life, imports included)
    server_cpu_s: float
    #: TCP connections the child opened to the stand-in
    connections: int

    @property
    def increase(self) -> int:
        return self.peak_rss - self.baseline_rss


@dataclass
class Result:
    """All repetitions of one contender in one scenario.

    Time: the best (fastest) run. Memory: the run with the largest increase
    (the conservative reading; it barely varies between runs).
    """

    label: str
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.runs)

    @property
    def fastest(self) -> Run:
        return min(self.runs, key=lambda run: run.wall_s)

    @property
    def best(self) -> float:
        return self.fastest.wall_s

    @property
    def walls(self) -> str:
        return " / ".join(f"{run.wall_s:.2f}" for run in self.runs)

    def items_per_s(self) -> float:
        return self.fastest.rows / self.best

    @property
    def memory(self) -> Run:
        return max(self.runs, key=lambda run: run.increase)

    @property
    def increase(self) -> int:
        return self.memory.increase


def run_child(
    server: Standin, contender: str, segments: int, result: Result, verbose: bool
) -> None:
    """One fresh subprocess: one timed read, appended to ``result``."""
    if result.error:
        return
    before = server.stats()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        contender,
        "--endpoint",
        server.endpoint,
        "--items",
        str(server.items),
        "--segments",
        str(segments),
    ]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=clean_env(server.endpoint),
            cwd=REPO,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        result.error = f"no result within {CHILD_TIMEOUT_S} s"
        print(f"  {result.label}: FAILED ({result.error})", file=sys.stderr)
        return
    after = server.stats()
    calls = int(after["scan"] - before["scan"])
    server_cpu = after["cpu_s"] - before["cpu_s"]
    # minus the connection of the second GET /stats itself
    connections = int(after["connections"] - before["connections"]) - 1
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        result.error = f"exit {proc.returncode}: {tail}"
        print(f"  {result.label}: FAILED\n{proc.stderr}", file=sys.stderr)
        return
    if calls < server.pages:
        result.error = (
            f"the stand-in served {calls} Scan calls, fewer than its {server.pages} pages"
        )
        return
    run = Run(
        **json.loads(proc.stdout.strip().splitlines()[-1]),
        scan_calls=calls,
        server_cpu_s=server_cpu,
        connections=connections,
    )
    result.runs.append(run)
    if verbose:
        print(
            f"  {result.label}: {run.wall_s:.2f} s (CPU {run.cpu_s:.2f} s), "
            f"+{_mib(run.increase):.0f} MiB, {calls} Scan calls on {connections} "
            f"connection(s), stand-in CPU {server_cpu:.2f} s",
            file=sys.stderr,
        )


def _mib(n_bytes: float) -> float:
    return n_bytes / 2**20


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def throughput_table(results: list[Result], raw: Result | None) -> list[str]:
    lines = [
        "| contender | rows | cols | Scan calls | best wall (s) | CPU (s) | stand-in CPU (s) "
        "| runs (s) | items/s | vs raw floor | peak RSS (MiB) | RSS increase (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        if not r.ok:
            lines.append(f"| {r.label} | FAILED: {r.error} |" + "  |" * 10)
            continue
        vs_raw = r.items_per_s() / raw.items_per_s() if raw and raw.ok else None
        run = r.fastest
        columns = "n/a" if run.columns is None else str(run.columns)
        lines.append(
            f"| {r.label} | {run.rows:,} | {columns} | {run.scan_calls} | {r.best:.2f} "
            f"| {run.cpu_s:.2f} | {run.server_cpu_s:.2f} | {r.walls} | {r.items_per_s():,.0f} "
            f"| {_fmt_ratio(vs_raw)} "
            f"| {_mib(r.memory.peak_rss):.0f} | {_mib(r.increase):.0f} |"
        )
    return lines


def latency_table(seg1: Result, seg8: Result, pages: int, latency_ms: float) -> list[str]:
    lines = [
        "| read | Scan calls | best wall (s) | CPU (s) | runs (s) | latency alone (s) "
        "| speed-up | RSS increase (MiB) |",
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r, segments in ((seg1, 1), (seg8, PARALLEL_SEGMENTS)):
        if not r.ok:
            lines.append(f"| {r.label} | FAILED: {r.error} |" + "  |" * 6)
            continue
        # The longest segment waits ceil(pages / segments) times.
        waiting = -(-pages // segments) * latency_ms / 1000
        speedup = _ratio(r, seg1, lambda x: 1.0 / x.best)
        lines.append(
            f"| {r.label} | {r.fastest.scan_calls} | {r.best:.2f} | {r.fastest.cpu_s:.2f} "
            f"| {r.walls} | {waiting:.2f} | {_fmt_ratio(speedup)} | {_mib(r.increase):.0f} |"
        )
    return lines


def _ratio(numerator: Result, denominator: Result, key: Callable[[Result], float]) -> float | None:
    if not (numerator.ok and denominator.ok) or key(denominator) == 0:
        return None
    return key(numerator) / key(denominator)


@dataclass
class Target:
    """One of the issue's targets, as measured."""

    text: str
    value: float | None
    passed: bool | None
    #: the same ratio from CPU seconds (less sensitive to a busy machine), if meaningful
    by_cpu: float | None = None


def targets(
    xacct: Result, wrangler: Result, raw: Result, seg1: Result, seg8: Result
) -> list[Target]:
    """Each of the issue's targets with its measured ratio and verdict."""

    def items_per_s(r: Result) -> float:
        return r.items_per_s()

    def items_per_cpu_s(r: Result) -> float:
        return r.fastest.rows / r.fastest.cpu_s

    def increase(r: Result) -> float:
        return float(r.increase)

    def speed(r: Result) -> float:
        return 1.0 / r.best

    def check(
        text: str,
        value: float | None,
        ok: Callable[[float], bool],
        by_cpu: float | None = None,
    ) -> Target:
        return Target(text, value, None if value is None else ok(value), by_cpu)

    return [
        check(
            f"read_scan throughput >= {TARGET_THROUGHPUT_VS_WRANGLER:g}x awswrangler's",
            _ratio(xacct, wrangler, items_per_s),
            lambda v: v >= TARGET_THROUGHPUT_VS_WRANGLER,
            _ratio(xacct, wrangler, items_per_cpu_s),
        ),
        check(
            f"read_scan throughput >= {TARGET_THROUGHPUT_VS_RAW:g}x the raw floor's",
            _ratio(xacct, raw, items_per_s),
            lambda v: v >= TARGET_THROUGHPUT_VS_RAW,
            _ratio(xacct, raw, items_per_cpu_s),
        ),
        check(
            f"read_scan RSS increase <= {TARGET_MEMORY_VS_WRANGLER:g}x awswrangler's",
            _ratio(xacct, wrangler, increase),
            lambda v: v <= TARGET_MEMORY_VS_WRANGLER,
        ),
        check(
            f"with latency, segments={PARALLEL_SEGMENTS} >= {TARGET_SEGMENT_SPEEDUP:g}x "
            "faster than segments=1",
            _ratio(seg8, seg1, speed),
            lambda v: v >= TARGET_SEGMENT_SPEEDUP,
        ),
    ]


def environment_lines(args: argparse.Namespace, latency_pages: int) -> list[str]:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    packages = ", ".join(
        f"{name} {version(name)}"
        for name in ("xacct-nb", "boto3", "botocore", "pandas", "pyarrow", "awswrangler")
    )
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs (`nproc`), "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"- packages: {packages}",
        f"- data: {args.items:,} items, {latency_pages} pages of about 1 MiB of JSON; "
        f"best of {args.repeat} run(s) per row, each in a fresh process",
    ]


def replace_readme_block(block: str) -> None:
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{README} has no {README_START} ... {README_END} block")
    README.write_text(text[: start + len(README_START)] + "\n" + block + "\n" + text[end:])


def parent_main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    verbose = not args.no_progress
    results = {name: Result(label) for name, label in CONTENDERS.items()}
    pages = 0
    if args.scenario in ("all", "throughput"):
        with standin(args.items, 0.0) as server:
            pages = server.pages
            print(
                f"stand-in: {server.endpoint}, {server.items:,} items in {pages} pages, "
                "no latency",
                file=sys.stderr,
            )
            for _ in range(args.repeat):
                for name, result in results.items():
                    run_child(server, name, 1, result, verbose)
    else:
        for result in results.values():
            result.error = "not run (--scenario latency)"
    seg1 = Result(f"read_scan segments=1, {args.latency_ms:g} ms/page")
    seg8 = Result(f"read_scan segments={PARALLEL_SEGMENTS}, {args.latency_ms:g} ms/page")
    if args.scenario in ("all", "latency"):
        with standin(args.items, args.latency_ms) as server:
            pages = server.pages
            print(
                f"stand-in: {server.endpoint}, {args.latency_ms:g} ms per page",
                file=sys.stderr,
            )
            for _ in range(args.repeat):
                run_child(server, "xacct_nb", 1, seg1, verbose)
                run_child(server, "xacct_nb", PARALLEL_SEGMENTS, seg8, verbose)
    else:
        seg1.error = seg8.error = "not run (--scenario throughput)"
    total = time.perf_counter() - started
    load_after = os.getloadavg()[0]

    raw = results["raw"]
    lines = [
        *environment_lines(args, pages),
        f"- 1-minute load average: {load_before:.2f} before the run, {load_after:.2f} after "
        f"(the run itself keeps about one core busy)",
        "",
    ]
    lines += ["Throughput and memory (no latency):", ""]
    lines += throughput_table(list(results.values()), raw)
    lines += ["", f"Latency ({args.latency_ms:g} ms per Scan page):", ""]
    lines += latency_table(seg1, seg8, pages, args.latency_ms)
    lines += [
        "",
        "Targets (the verdict uses wall time; the CPU-time ratio is for reference):",
        "",
        "| target | measured | result | same ratio by CPU time |",
        "|---|---:|---|---:|",
    ]
    for target in targets(results["xacct_nb"], results["awswrangler"], raw, seg1, seg8):
        verdict = "n/a" if target.passed is None else ("PASS" if target.passed else "FAIL")
        by_cpu = "" if target.by_cpu is None else _fmt_ratio(target.by_cpu)
        lines.append(f"| {target.text} | {_fmt_ratio(target.value)} | {verdict} | {by_cpu} |")
    lines += ["", f"Whole run: {total:.0f} s (`{' '.join(['bench_read.py', *args.argv])}`)."]
    block = "\n".join(lines)
    print(block)
    if args.update_readme:
        if args.scenario != "all":
            raise SystemExit("--update-readme needs every scenario (--scenario all)")
        replace_readme_block(block)
        print(f"\n(updated {README.relative_to(REPO)})", file=sys.stderr)
    failed = [r.label for r in (*results.values(), seg1, seg8) if not r.ok]
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=None, help="items in the table (200000)")
    parser.add_argument("--repeat", type=int, default=None, help="fresh processes per row (3)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="per-page latency (50)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20000 items, 1 repetition")
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help=f"write the results into {README.name} between its result markers",
    )
    parser.add_argument("--no-progress", action="store_true", help="no per-run lines on stderr")
    parser.add_argument(
        "--scenario",
        choices=("all", "throughput", "latency"),
        default="all",
        help="run only one scenario (development aid: the targets need both)",
    )
    parser.add_argument("--child", choices=sorted(_PREPARE), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--segments", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.items is None:
        args.items = 20_000 if args.quick else 200_000
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.child:
        return child_main(args.child, args.endpoint, args.items, args.segments)
    if args.items < 1 or args.repeat < 1:
        parser.error("--items and --repeat must be positive")
    args.argv = argv
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
