"""Capacity benchmark: does ``xacct_nb.read_scan`` keep a read budget, pick its own
parallelism, behave under throttling, and stay within its memory? On a stand-in endpoint.

One command runs the four reports and prints them as markdown::

    .venv/bin/python benchmarks/bench_capacity.py                  # all four, ~6 min
    .venv/bin/python benchmarks/bench_capacity.py --quick          # smoke run, ~1 min
    .venv/bin/python benchmarks/bench_capacity.py --only 3         # one report
    .venv/bin/python benchmarks/bench_capacity.py --update-readme  # also rewrite README's block

Reports (see benchmarks/README.md, "Capacity"):

1. **Budget kept**: ``read_scan(max_rcu=B)`` for B = 50, 200, 1000 RCU/s on a stand-in
   provisioned at 5 x B; read units consumed per 10-second window (the stand-in's
   per-second log) against B.
2. **Auto parallelism**: ``segments="auto"`` against fixed 1, 2, 4, 8, 16 segments at
   10, 50 and 200 ms per page.
3. **Under throttling**: ``read_scan`` (its default segments, no ``max_rcu``; and
   ``max_rcu`` = the provisioned rate) against awswrangler's ``read_items`` on a
   stand-in provisioned at 200 RCU/s: rows per second and throttled requests.
4. **Memory**: peak RSS increase of the reading process against the frame's
   ``memory_usage(deep=True)``, for ``--items`` items.

Features the package does not have yet (``max_rcu=`` missing from
``read_scan``'s signature, ``segments="auto"`` refused as an invalid argument)
give rows marked "not available yet"; nothing else is skipped.

Each (contender, setting) is a fresh subprocess of this script with a clean AWS
environment (every ``AWS_*`` variable removed, dummy keys,
``AWS_ENDPOINT_URL=http://127.0.0.1:PORT``), as in ``bench_read.py``; a child
refuses to run if its client's endpoint is anything else.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench_read as br  # noqa: E402 - next to this file; stdlib only at import

README = HERE / "README.md"
README_START = "<!-- capacity-results:start -->"
README_END = "<!-- capacity-results:end -->"
TABLE_NAME = br.TABLE_NAME
CHILD_TIMEOUT_S = 600

#: Padding (a string attribute) of the items of reports 1 and 3: about 4 KB per item
#: as DynamoDB counts it, so a budget's worth of data is few items to generate.
PAD_BYTES = 3800
#: Eventually consistent reads: one read unit is 8 KB.
BYTES_PER_RCU = 8192
BUDGETS = (50, 200, 1000)
BUDGET_PROVISIONED_FACTOR = 5
BUDGET_TOLERANCE = 0.10
FIXED_SEGMENTS = (1, 2, 4, 8, 16)
LATENCIES_MS = (10, 50, 200)
AUTO_TARGET = 0.8
THROTTLE_RCU = 200
THROTTLE_BURST_S = 1.0
MEMORY_TARGET = 2.0
NOT_AVAILABLE = "not available yet"


# --------------------------------------------------------------------------- child side


class Unavailable(Exception):
    """The package does not have what this run asks for (yet)."""


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def _read_xacct_nb(endpoint: str, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``read_scan`` with ``params``; ``segments: "auto?"`` means "auto" if the package takes
    it, else its default (the call refused is not timed: ``note["restart"]``)."""
    import inspect

    import xacct_nb as xn

    accepted = inspect.signature(xn.read_scan).parameters
    kwargs: dict[str, Any] = {"progress": False}
    note: dict[str, Any] = {}
    fallback = params.get("segments") == "auto?"
    if params.get("segments") is not None:
        kwargs["segments"] = "auto" if fallback else params["segments"]
    if params.get("max_rcu") is not None:
        if "max_rcu" not in accepted:
            raise Unavailable("read_scan has no max_rcu= parameter")
        kwargs["max_rcu"] = params["max_rcu"]
    session = br._boto3_session(endpoint)

    def call() -> Any:
        try:
            return xn.read_scan(session, TABLE_NAME, **kwargs)
        except (xn.InvalidArgumentError, NotImplementedError, TypeError) as exc:
            text = str(exc)
            if kwargs.get("segments") == "auto" and (
                "segments" in text or isinstance(exc, NotImplementedError)
            ):
                raise Unavailable(f'segments="auto" refused: {text.splitlines()[0]}') from exc
            if "max_rcu" in kwargs and ("max_rcu" in text or isinstance(exc, NotImplementedError)):
                raise Unavailable(f"max_rcu refused: {text.splitlines()[0]}") from exc
            raise

    def read() -> Any:
        note["segments"] = kwargs.get("segments", "default")
        try:
            return call()
        except Unavailable:
            if not fallback or "max_rcu" in str(sys.exc_info()[1]):
                raise
        kwargs.pop("segments")
        note["segments"] = "default"
        note["restart"] = (time.perf_counter(), time.time(), br._cpu_seconds())
        return call()

    return read, note


def _read_awswrangler(endpoint: str, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    import warnings

    import awswrangler as wr

    warnings.filterwarnings("ignore", message="Attempting DynamoDB Scan", category=UserWarning)
    session = br._boto3_session(endpoint)

    def read() -> Any:
        return wr.dynamodb.read_items(
            table_name=TABLE_NAME, allow_full_scan=True, boto3_session=session
        )

    return read, {}


def child_main(kind: str, endpoint: str, params: dict[str, Any]) -> int:
    """One read in this (fresh) process; one JSON line on stdout, whatever happens."""
    import gc

    out: dict[str, Any] = {}
    try:
        prepare = {"xacct_nb": _read_xacct_nb, "awswrangler": _read_awswrangler}[kind]
        read, note = prepare(endpoint, params)
        gc.collect()
        out["baseline_rss"] = br._max_rss_bytes()
        cpu_start = br._cpu_seconds()
        out["t_start"] = time.time()
        start = time.perf_counter()
        try:
            frame = read()
        finally:
            if "restart" in note:  # a refused first call: time the one that read
                start, out["t_start"], cpu_start = note.pop("restart")
            out["wall_s"] = time.perf_counter() - start
            out["t_end"] = time.time()
            out["cpu_s"] = br._cpu_seconds() - cpu_start
            out["peak_rss"] = br._max_rss_bytes()
            out["note"] = note
        out["rows"], out["columns"] = int(frame.shape[0]), int(frame.shape[1])
        out["attrs"] = {k: _jsonable(v) for k, v in dict(getattr(frame, "attrs", {})).items()}
        if params.get("frame_memory"):
            out["frame_bytes"] = int(frame.memory_usage(deep=True).sum())
    except Unavailable as exc:
        out = {"unavailable": str(exc)}
    except Exception as exc:  # noqa: BLE001 - reported as the row's result
        out["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        out["error_type"] = type(exc).__name__
    print(json.dumps(out))
    return 0


def probe_main() -> int:
    """What the installed package offers (signature of read_scan), as one JSON line."""
    import inspect

    import xacct_nb as xn

    parameters = inspect.signature(xn.read_scan).parameters
    segments = parameters.get("segments")
    print(
        json.dumps(
            {
                "version": getattr(xn, "__version__", None),
                "parameters": list(parameters),
                "segments_annotation": (
                    None
                    if segments is None or segments.annotation is inspect.Parameter.empty
                    else str(segments.annotation)
                ),
                "segments_default": None if segments is None else repr(segments.default),
            }
        )
    )
    return 0


# --------------------------------------------------------------------------- parent side


def child_env(endpoint: str | None = None) -> dict[str, str]:
    """``bench_read``'s clean AWS environment, without ``XACCT_*`` either (no default budget)."""
    return {k: v for k, v in br.clean_env(endpoint).items() if not k.startswith("XACCT_")}


@contextmanager
def standin(
    items: int,
    *,
    latency_ms: float = 0.0,
    rcu: float | None = None,
    burst_seconds: float | None = None,
    pad_bytes: int = 0,
) -> Iterator[br.Standin]:
    """Start ``standin.py`` with these options in its own process; stop it afterwards."""
    command = [
        sys.executable,
        str(HERE / "standin.py"),
        "--items",
        str(items),
        "--latency-ms",
        str(latency_ms),
        "--pad-bytes",
        str(pad_bytes),
    ]
    if rcu is not None:
        command += ["--rcu", str(rcu)]
    if burst_seconds is not None:
        command += ["--burst-seconds", str(burst_seconds)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env=br.clean_env(), cwd=REPO
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"READY (\d+) (\d+) (\d+)\s*", line)
        if not match:
            raise RuntimeError(f"the stand-in did not start (said {line!r})")
        port, pages, n = (int(g) for g in match.groups())
        yield br.Standin(process, port, pages, n, latency_ms)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Run:
    """One child's read, with what the stand-in saw meanwhile."""

    label: str
    out: dict[str, Any] = field(default_factory=dict)
    scan_calls: int = 0
    throttled: int = 0
    consumed: float = 0.0
    by_second: dict[int, float] = field(default_factory=dict)
    failure: str | None = None

    @property
    def unavailable(self) -> str | None:
        return self.out.get("unavailable")

    @property
    def ok(self) -> bool:
        return self.failure is None and not self.unavailable and "error" not in self.out

    @property
    def status(self) -> str:
        """"" if the read succeeded, else why not (for the table)."""
        if self.failure:
            return f"FAILED: {self.failure}"
        if self.unavailable:
            return f"{NOT_AVAILABLE} ({self.unavailable})"
        if "error" in self.out:
            return f"FAILED: {self.out['error']}"
        return ""

    @property
    def wall(self) -> float:
        return float(self.out["wall_s"])

    @property
    def rows(self) -> int:
        return int(self.out["rows"])

    def rows_per_s(self) -> float:
        return self.rows / self.wall

    def attr(self, name: str) -> Any:
        return (self.out.get("attrs") or {}).get(name)


def run_child(
    server: br.Standin, kind: str, params: dict[str, Any], label: str, verbose: bool
) -> Run:
    run = Run(label)
    before: dict[str, Any] = server.stats()
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        kind,
        "--endpoint",
        server.endpoint,
        "--params",
        json.dumps(params),
    ]
    try:
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=child_env(server.endpoint),
            cwd=REPO,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        run.failure = f"no result within {CHILD_TIMEOUT_S} s"
        print(f"  {label}: FAILED ({run.failure})", file=sys.stderr)
        return run
    after: dict[str, Any] = server.stats()
    run.scan_calls = int(after["scan"] - before["scan"])
    run.throttled = int(after["throttled"] - before["throttled"])
    run.consumed = float(after["consumed_units"] - before["consumed_units"])
    seen = {int(s): units for s, units, _ in before["consumed_by_second"]}
    run.by_second = {
        int(s): units - seen.get(int(s), 0.0)
        for s, units, _ in after["consumed_by_second"]
        if units - seen.get(int(s), 0.0) > 0
    }
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        run.failure = f"exit {proc.returncode}: {tail}"
        print(f"  {label}: FAILED\n{proc.stderr}", file=sys.stderr)
        return run
    run.out = json.loads(lines[-1])
    if run.ok and run.rows != server.items:
        run.failure = f"{run.rows} rows, not {server.items}"
    if verbose:
        if run.ok:
            detail = (
                f"{run.wall:.2f} s, {run.rows:,} rows, {run.scan_calls} Scan calls, "
                f"{run.throttled} throttled, {run.consumed:,.1f} RCU"
            )
        else:
            detail = run.status
        print(f"  {label}: {detail}", file=sys.stderr)
    return run


def items_for(rcu_seconds: float, pad_bytes: int = PAD_BYTES) -> int:
    """Items of about ``pad_bytes + 164`` bytes each that cost ``rcu_seconds`` read units."""
    return max(500, math.ceil(rcu_seconds * BYTES_PER_RCU / (pad_bytes + 164)))


def _fmt(value: Any, spec: str = ",.0f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def _verdict(passed: bool | None) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


# -- report 1 -------------------------------------------------------------------------------


def windows(run: Run, width: int) -> list[float]:
    """Read units per second over every ``width``-second window inside the read.

    Whole seconds only: from the first second that starts after the read
    started to the last one that ends before it returned.
    """
    first = math.ceil(run.out["t_start"])
    last = math.floor(run.out["t_end"])  # exclusive
    return [
        sum(run.by_second.get(s, 0.0) for s in range(start, start + width)) / width
        for start in range(first, last - width + 1)
    ]


def report_budget(args: argparse.Namespace, available: bool) -> tuple[list[str], list[bool | None]]:
    duration = 8 if args.quick else 25
    width = 5 if args.quick else 10
    lines = [
        f"**1. Budget kept.** `xn.read_scan(session, table, max_rcu=B)`; the stand-in is "
        f"provisioned at {BUDGET_PROVISIONED_FACTOR} x B (burst 1 s), the table holds about "
        f"{duration} s of reading at B (items of ~4 KB). Read units per second over every "
        f"{width}-second window inside the read, from the stand-in's per-second log.",
        "",
        f"| B (RCU/s) | items | Scan calls | wall (s) | RCU consumed | average RCU/s "
        f"| {width}-s windows | lowest window | highest window | worst deviation "
        "| throttled (stand-in) | df.attrs throttled | result |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts: list[bool | None] = []
    for budget in BUDGETS:
        items = items_for(budget * duration)
        if not available:
            lines.append(
                f"| {budget} | {items:,} |" + " |" * 10 + f" {NOT_AVAILABLE} (no max_rcu=) |"
            )
            verdicts.append(None)
            continue
        with standin(
            items,
            rcu=budget * BUDGET_PROVISIONED_FACTOR,
            burst_seconds=1.0,
            pad_bytes=PAD_BYTES,
        ) as server:
            run = run_child(
                server,
                "xacct_nb",
                {"max_rcu": budget},
                f"max_rcu={budget}",
                not args.no_progress,
            )
        if not run.ok:
            lines.append(f"| {budget} | {items:,} |" + " |" * 10 + f" {run.status} |")
            verdicts.append(None if run.unavailable else False)
            continue
        rates = windows(run, width)
        low, high = (min(rates), max(rates)) if rates else (None, None)
        worst = (
            max(abs(low - budget), abs(high - budget)) / budget if rates else None  # type: ignore[operator]
        )
        passed = None if worst is None else worst <= BUDGET_TOLERANCE
        verdicts.append(passed)
        lines.append(
            f"| {budget} | {items:,} | {run.scan_calls} | {run.wall:.1f} | {run.consumed:,.1f} "
            f"| {run.consumed / run.wall:,.1f} | {len(rates)} | {_fmt(low, ',.1f')} "
            f"| {_fmt(high, ',.1f')} | {_fmt(None if worst is None else 100 * worst, '.1f', '%')} "
            f"| {run.throttled} | {_fmt(run.attr('throttled'), '')} | {_verdict(passed)} |"
        )
    lines += [
        "",
        f"Goal: every window within ±{BUDGET_TOLERANCE:.0%} of B, and no ThrottledError "
        "reaching the caller.",
    ]
    return lines, verdicts


# -- report 2 -------------------------------------------------------------------------------


def fastest(runs: list[Run]) -> Run:
    """The fastest successful run, else the last one (which says why it failed)."""
    good = [r for r in runs if r.ok]
    return min(good, key=lambda r: r.wall) if good else runs[-1]


def report_auto(args: argparse.Namespace) -> tuple[list[str], list[bool | None], str | None]:
    items = 20_000 if args.quick else 200_000
    lines = [
        f'**2. Auto parallelism.** `xn.read_scan(session, table, segments=S)`, {items:,} items '
        "(pages of ~1 MiB of JSON), no capacity limit: rows per second with fixed S and with "
        f'`segments="auto"`, best of {args.repeat} run(s) each (interleaved).',
        "",
        "| latency per page | "
        + " | ".join(f"S={s} (rows/s)" for s in FIXED_SEGMENTS)
        + ' | best fixed | "auto" (rows/s) | auto / best | segments / most at once (df.attrs) | result |',
        "|---:|" + "---:|" * (len(FIXED_SEGMENTS) + 3) + "---:|---|",
    ]
    verdicts: list[bool | None] = []
    auto_note: str | None = None
    for latency in LATENCIES_MS:
        with standin(items, latency_ms=latency) as server:
            settings: list[Any] = [*FIXED_SEGMENTS, "auto"]
            tries: dict[Any, list[Run]] = {s: [] for s in settings}
            for _ in range(args.repeat):  # interleaved, so load changes hit every setting
                for s in settings:
                    if tries[s] and not tries[s][-1].ok:
                        continue
                    shown = f'"{s}"' if s == "auto" else s
                    tries[s].append(
                        run_child(
                            server,
                            "xacct_nb",
                            {"segments": s},
                            f"{latency} ms, segments={shown}",
                            not args.no_progress,
                        )
                    )
            fixed = [fastest(tries[s]) for s in FIXED_SEGMENTS]
            auto = fastest(tries["auto"])
        cells = [_fmt(r.rows_per_s()) if r.ok else r.status for r in fixed]
        good = [(r.rows_per_s(), s) for r, s in zip(fixed, FIXED_SEGMENTS, strict=True) if r.ok]
        best, best_s = max(good) if good else (None, None)
        ratio: float | None = None
        passed: bool | None
        if auto.ok and best:
            ratio = auto.rows_per_s() / best
            passed = ratio >= AUTO_TARGET
            auto_cell = _fmt(auto.rows_per_s())
        else:
            passed = None if auto.unavailable else False
            auto_cell = auto.status
            auto_note = auto.unavailable or auto_note
        verdicts.append(passed)
        used: str | None = None
        if auto.ok and auto.attr("segments") is not None:
            used = f"{auto.attr('segments')}"
            if auto.attr("concurrency") is not None:
                used += f" / {auto.attr('concurrency')}"
        lines.append(
            f"| {latency} ms | "
            + " | ".join(cells)
            + f" | {_fmt(best)} (S={best_s}) | {auto_cell} "
            f"| {_fmt(ratio, '.2f', 'x')} | {_fmt(used, '')} | {_verdict(passed)} |"
        )
    lines += ["", f'Goal: "auto" at least {AUTO_TARGET:.0%} of the best fixed segment count.']
    return lines, verdicts, auto_note


# -- report 3 -------------------------------------------------------------------------------


def report_throttling(
    args: argparse.Namespace, max_rcu_available: bool
) -> tuple[list[str], list[bool | None]]:
    duration = 8 if args.quick else 30
    items = items_for(THROTTLE_RCU * duration)
    lines = [
        f"**3. Under throttling.** The stand-in is provisioned at {THROTTLE_RCU} RCU/s "
        f"(burst {THROTTLE_BURST_S:g} s) and holds {items:,} items of ~4 KB, about "
        f"{duration} s of reading at that rate; every reader reads all of it.",
        "",
        "| reader | rows | wall (s) | rows/s | Scan pages served | throttled requests "
        "| RCU consumed | average RCU/s | df.attrs throttled | segments / most at once "
        "| result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    # "segments as it likes": "auto" if the package takes it, else its default
    contenders: list[tuple[str, dict[str, Any], str]] = [
        ("xacct_nb", {"segments": "auto?"}, "xn.read_scan ({segments}, no max_rcu)"),
        (
            "xacct_nb",
            {"segments": "auto?", "max_rcu": THROTTLE_RCU},
            f"xn.read_scan ({{segments}}, max_rcu={THROTTLE_RCU})",
        ),
        ("awswrangler", {}, "awswrangler.dynamodb.read_items"),
    ]
    runs: list[Run] = []
    with standin(
        items, rcu=THROTTLE_RCU, burst_seconds=THROTTLE_BURST_S, pad_bytes=PAD_BYTES
    ) as server:
        for kind, params, label in contenders:
            if "max_rcu" in params and not max_rcu_available:
                runs.append(Run(label.format(segments="any segments"),
                                out={"unavailable": "no max_rcu="}))
                continue
            shown = label.format(segments="segments as it likes")
            run = run_child(server, kind, params, shown, not args.no_progress)
            used = (run.out.get("note") or {}).get("segments", "default")
            run.label = label.format(
                segments='segments="auto"' if used == "auto" else "default segments"
            )
            runs.append(run)
    for run in runs:
        if not run.ok:
            lines.append(f"| {run.label} |" + " |" * 9 + f" {run.status} |")
            continue
        used = "n/a"
        if run.attr("segments") is not None:
            used = f"{run.attr('segments')} / {_fmt(run.attr('concurrency'), '')}"
        lines.append(
            f"| {run.label} | {run.rows:,} | {run.wall:.1f} | {run.rows_per_s():,.0f} "
            f"| {run.scan_calls} | {run.throttled} | {run.consumed:,.1f} "
            f"| {run.consumed / run.wall:,.1f} | {_fmt(run.attr('throttled'), '')} | {used} | |"
        )
    wrangler = runs[-1]
    verdicts: list[bool | None] = []
    lines += ["", "| goal | measured | result |", "|---|---|---|"]
    for run in runs[:-1]:
        if run.ok and not wrangler.ok:
            verdicts.append(True)
            lines.append(
                f"| {run.label}: rows/s >= awswrangler's, throttled <= 1/10 of its "
                f"| read everything; awswrangler did not ({wrangler.status}) | PASS |"
            )
            continue
        if not run.ok or not wrangler.ok:
            verdicts.append(None if run.unavailable else False)
            why = run.status or wrangler.status
            lines.append(
                f"| {run.label}: rows/s >= awswrangler's, throttled <= 1/10 of its | {why} "
                f"| {_verdict(verdicts[-1])} |"
            )
            continue
        speed = run.rows_per_s() / wrangler.rows_per_s()
        share = run.throttled / wrangler.throttled if wrangler.throttled else None
        passed = speed >= 1.0 and (
            run.throttled * 10 <= wrangler.throttled if wrangler.throttled else run.throttled == 0
        )
        verdicts.append(passed)
        lines.append(
            f"| {run.label}: rows/s >= awswrangler's, throttled <= 1/10 of its "
            f"| {speed:.2f}x the rows/s; {run.throttled} vs {wrangler.throttled} throttled "
            f"({_fmt(share, '.2f', 'x')}) | {_verdict(passed)} |"
        )
    return lines, verdicts


# -- report 4 -------------------------------------------------------------------------------


def report_memory(args: argparse.Namespace) -> tuple[list[str], list[bool | None]]:
    items = args.items
    lines = [
        f"**4. Memory.** `xn.read_scan(session, table)` of {items:,} items (no latency, "
        "default segments). Peak memory: `ru_maxrss` of the reading process after the read "
        "minus its `ru_maxrss` after imports and one client (the baseline, as in "
        "`bench_read.py`); against the frame's `memory_usage(deep=True).sum()`.",
        "",
        "| read | rows | cols | wall (s) | baseline RSS (MiB) | peak RSS (MiB) "
        "| peak increase (MiB) | frame (MiB) | increase / frame | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    with standin(items) as server:
        run = run_child(
            server, "xacct_nb", {"frame_memory": True}, "read_scan, memory", not args.no_progress
        )
    if not run.ok:
        lines.append("| xn.read_scan |" + " |" * 8 + f" {run.status} |")
        return lines, [False]
    mib = br._mib
    increase = run.out["peak_rss"] - run.out["baseline_rss"]
    ratio = increase / run.out["frame_bytes"]
    passed = ratio <= MEMORY_TARGET
    lines.append(
        f"| xn.read_scan | {run.rows:,} | {run.out['columns']} | {run.wall:.1f} "
        f"| {mib(run.out['baseline_rss']):.0f} | {mib(run.out['peak_rss']):.0f} "
        f"| {mib(increase):.0f} | {mib(run.out['frame_bytes']):.0f} | {ratio:.2f}x "
        f"| {_verdict(passed)} |"
    )
    lines += ["", f"Goal: peak increase at most {MEMORY_TARGET:g}x the frame."]
    return lines, [passed]


# -- the whole run ---------------------------------------------------------------------------


def probe() -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--probe"],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=REPO,
        timeout=120,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def replace_readme_block(block: str) -> None:
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"{README} has no {README_START} ... {README_END} block")
    README.write_text(text[: start + len(README_START)] + "\n" + block + "\n" + text[end:])


def parent_main(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    state = probe()
    has_max_rcu = "max_rcu" in state["parameters"]
    reports = [args.only] if args.only else [1, 2, 3, 4]
    sections: list[list[str]] = []
    verdicts: dict[int, list[bool | None]] = {}
    auto_note: str | None = "not run"
    for number in reports:
        print(f"report {number}:", file=sys.stderr)
        if number == 1:
            lines, verdicts[1] = report_budget(args, has_max_rcu)
        elif number == 2:
            lines, verdicts[2], auto_note = report_auto(args)
            if auto_note is None:
                auto_note = "accepted"
        elif number == 3:
            lines, verdicts[3] = report_throttling(args, has_max_rcu)
        else:
            lines, verdicts[4] = report_memory(args)
        sections.append(lines)

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    packages = ", ".join(
        f"{n} {version(n)}" for n in ("xacct-nb", "boto3", "botocore", "pandas", "awswrangler")
    )
    total = time.perf_counter() - started
    head = [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; 1-minute load average {load_before:.2f} before "
        f"the run, {os.getloadavg()[0]:.2f} after",
        f"- packages: {packages}",
        f"- package state: `max_rcu=` {'in' if has_max_rcu else 'not in'} read_scan's "
        f"signature; `segments` annotated `{state['segments_annotation'] or '(nothing)'}`, "
        "default "
        f"{state['segments_default']}; `segments=\"auto\"`: {auto_note}",
        "",
    ]
    summary = ["| report | result |", "|---|---|"]
    names = {1: "1. budget kept", 2: "2. auto parallelism", 3: "3. under throttling", 4: "4. memory"}
    for number, results in verdicts.items():
        known = [v for v in results if v is not None]
        if not known:
            text = NOT_AVAILABLE
        else:
            text = f"{sum(known)} of {len(known)} PASS"
            if len(known) < len(results):
                text += f" ({len(results) - len(known)} {NOT_AVAILABLE})"
        summary.append(f"| {names[number]} | {text} |")
    body: list[str] = []
    for lines in sections:
        body += [*lines, ""]
    argv = " ".join(["bench_capacity.py", *args.argv])
    block = "\n".join([*head, *body, *summary, "", f"Whole run: {total:.0f} s (`{argv}`)."])
    print(block)
    if args.update_readme:
        if args.only or args.quick:
            raise SystemExit("--update-readme needs a full run (no --only, no --quick)")
        replace_readme_block(block)
        print(f"\n(updated {README.relative_to(REPO)})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--items", type=int, default=None, help="items of report 4 (1000000; --quick: 100000)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: short reads")
    parser.add_argument("--only", type=int, choices=(1, 2, 3, 4), help="run one report")
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per setting in report 2 (2; --quick: 1)"
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help=f"write the results into {README.name} between its capacity markers",
    )
    parser.add_argument("--no-progress", action="store_true", help="no per-run lines on stderr")
    parser.add_argument("--child", choices=("xacct_nb", "awswrangler"), help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        return probe_main()
    if args.child:
        return child_main(args.child, args.endpoint, json.loads(args.params))
    if args.items is None:
        args.items = 100_000 if args.quick else 1_000_000
    if args.repeat is None:
        args.repeat = 1 if args.quick else 2
    if args.items < 1 or args.repeat < 1:
        parser.error("--items and --repeat must be positive")
    args.argv = argv
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
