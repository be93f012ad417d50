"""``read_scan(segments="auto")`` against fixed segment counts, on the stand-in endpoint.

One command::

    .venv/bin/python benchmarks/bench_auto.py                       # 100,000 items; 10/50/200 ms
    .venv/bin/python benchmarks/bench_auto.py --items 20000 --latency-ms 50 --repeat 1

For each page latency, :mod:`standin` runs in its own process (segments up to
1,000 allowed, unlike its default 16) and this process reads the whole table
with ``segments=1, 2, 4, 8, 16`` and ``"auto"``, ``--repeat`` times each,
interleaved (one warm-up read first); every read must return all items. It
prints, per latency, the median seconds and items/s of each, auto's share of
the best fixed count's throughput (the goal: at least 80%), and auto's
``TotalSegments`` and the concurrency it reached, as markdown.

Timing is wall-clock around ``xn.read_scan`` (client creation and
DescribeTable included; ``segments="auto"`` needs the size, the fixed counts
fetch it too for the key columns). The machine's cores are shared with the
stand-in.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

TABLE_NAME = "BenchOrders"
FIXED = (1, 2, 4, 8, 16)
#: The stand-in, allowed TotalSegments up to DynamoDB's own cap for "auto".
_SERVE = (
    "import sys; sys.path.insert(0, {here!r}); import standin; "
    "standin.MAX_SEGMENTS = 1000; sys.exit(standin.main(sys.argv[1:]))"
)


def clean_env(endpoint: str | None = None) -> dict[str, str]:
    """The environment without any ``AWS_*`` variable, pointed at the stand-in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "XACCT_"))}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true",
               XACCT_PROGRESS="never")
    if endpoint is not None:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


@contextmanager
def standin(items: int, latency_ms: float) -> Iterator[tuple[int, int]]:
    """Run the stand-in; yield (port, pages)."""
    command = [sys.executable, "-c", _SERVE.format(here=str(HERE)),
               "--items", str(items), "--latency-ms", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=clean_env(),
                               cwd=REPO)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"READY (\d+) (\d+) (\d+)\s*", line)
        if not match:
            raise RuntimeError(f"the stand-in did not start (said {line!r})")
        yield int(match[1]), int(match[2])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read(session: Any, segments: Any, items: int) -> tuple[float, dict[str, Any]]:
    """Seconds of one whole read, and its ``df.attrs``."""
    import xacct_nb as xn

    start = time.perf_counter()
    df = xn.read_scan(session, TABLE_NAME, segments=segments, progress=False)
    seconds = time.perf_counter() - start
    if len(df) != items:
        raise SystemExit(f"segments={segments!r} returned {len(df)} rows, not {items}")
    return seconds, dict(df.attrs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, nargs="+", default=[10.0, 50.0, 200.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--start", type=int, default=None,
                        help="the controller's first concurrency (default: AIMD's own)")
    args = parser.parse_args(argv)
    if args.start is not None:  # an experiment: read_scan builds its controller from this name
        import functools

        from xacct_nb import _parallel, _read

        _read.AIMD = functools.partial(_parallel.AIMD, start=args.start)  # type: ignore[misc]
    import boto3

    configs: list[Any] = [*FIXED, "auto"]
    start = args.start if args.start is not None else "default"
    print(f"{args.items:,} items, median of {args.repeat}, {os.cpu_count()} cores, "
          f"auto's start: {start}\n")
    for latency in args.latency_ms:
        with standin(args.items, latency) as (port, pages):
            endpoint = f"http://127.0.0.1:{port}"
            os.environ.clear()
            os.environ.update(clean_env(endpoint))
            session = boto3.Session(region_name="us-east-1")
            read(session, 1, args.items)  # warm-up: imports, botocore's model
            times: dict[Any, list[float]] = {c: [] for c in configs}
            attrs: dict[Any, dict[str, Any]] = {}
            for _ in range(args.repeat):
                for config in configs:
                    seconds, attrs[config] = read(session, config, args.items)
                    times[config].append(seconds)
            median = {c: statistics.median(t) for c, t in times.items()}
            best = min(FIXED, key=lambda c: median[c])
            auto = attrs["auto"]
            print(f"### {latency:g} ms per page ({pages} pages)\n")
            print("| segments | seconds (median) | items/s | vs best fixed |")
            print("|---|---:|---:|---:|")
            for c in configs:
                share = median[best] / median[c]
                print(f"| {c} | {median[c]:.3f} | {args.items / median[c]:,.0f} | {share:.0%} |")
            print(f"\nauto: TotalSegments {auto.get('segments')}, concurrency reached "
                  f"{auto.get('concurrency')}, history {auto.get('concurrency_history')}; "
                  f"best fixed: {best}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
