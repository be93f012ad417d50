"""Profile ``xacct_nb.read_scan`` against the stand-in endpoint (a development aid).

Starts :mod:`standin` in its own process (same clean, dummy-credential
environment as ``bench_read.py``), then reads the table in this process::

    .venv/bin/python benchmarks/profile_read.py                   # timing only, 3 runs
    .venv/bin/python benchmarks/profile_read.py --profile         # + cProfile, top 30
    .venv/bin/python benchmarks/profile_read.py --segments 8 --latency-ms 50

Nothing leaves 127.0.0.1: every ``AWS_*`` variable of this process is replaced
by the dummy ones before boto3 is imported.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_read  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--segments", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the last run")
    parser.add_argument(
        "--profile-threads",
        action="store_true",
        help="cProfile the fetching and parsing threads of the last run (merged)",
    )
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)

    with bench_read.standin(args.items, args.latency_ms) as server:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[key]
        os.environ.update(bench_read.clean_env(server.endpoint))
        import boto3

        import xacct_nb as xn
        import xacct_nb._read as read_module

        thread_profiles: list[cProfile.Profile] = []
        if args.profile_threads:
            import threading

            import xacct_nb._decode_arrow as decode_arrow

            original = read_module.fetcher  # the engine's, as _read uses it
            original_parse = decode_arrow.PageParser.parse
            per_thread = threading.local()

            def profiled_fetcher(*a, **k):  # type: ignore[no-untyped-def]
                work = original(*a, **k)

                def profiled(put, stop):  # type: ignore[no-untyped-def]
                    if not profiling:
                        return work(put, stop)
                    prof = cProfile.Profile()
                    thread_profiles.append(prof)
                    prof.enable()
                    try:
                        return work(put, stop)
                    finally:
                        prof.disable()

                return profiled

            def profiled_parse(self, *a, **k):  # type: ignore[no-untyped-def]
                # Parsing threads live in a pool: one profiler per thread,
                # enabled around each page.
                if not profiling:
                    return original_parse(self, *a, **k)
                prof = getattr(per_thread, "prof", None)
                if prof is None:
                    prof = per_thread.prof = cProfile.Profile()
                    thread_profiles.append(prof)
                prof.enable()
                try:
                    return original_parse(self, *a, **k)
                finally:
                    prof.disable()

            read_module.fetcher = profiled_fetcher
            decode_arrow.PageParser.parse = profiled_parse
        profiling = False
        session = boto3.Session(region_name="us-east-1")
        assert session.client("dynamodb").meta.endpoint_url.rstrip("/") == server.endpoint
        for i in range(args.repeat):
            last = i == args.repeat - 1
            profiling = args.profile_threads and last
            profile = cProfile.Profile() if (args.profile and last) else None
            gc.collect()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu0 = usage.ru_utime + usage.ru_stime
            t0 = time.perf_counter()
            if profile:
                profile.enable()
            df = xn.read_scan(
                session, bench_read.TABLE_NAME, segments=args.segments, progress=False
            )
            if profile:
                profile.disable()
            wall = time.perf_counter() - t0
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime - cpu0
            print(
                f"run {i}: {wall:.2f} s wall, {cpu:.2f} s CPU, {len(df):,} rows"
                + (" (profiled)" if profile else ""),
                file=sys.stderr,
            )
            del df
        if args.profile and profile is not None:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
        if thread_profiles:
            stats = pstats.Stats(thread_profiles[0])
            for prof in thread_profiles[1:]:
                stats.add(prof)
            print(f"fetching and parsing threads ({len(thread_profiles)} profiles):")
            stats.sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
