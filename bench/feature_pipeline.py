"""Benchmark: raw CSV -> validated lake -> cleaned -> features, ours against pandas.

For each size the harness generates a synthetic CSV (``bench/generate.py``) unless one
is already there, reads it once so both sides start from a warm page cache, then
runs each implementation in a fresh child process (``bench/_worker.py``), alternating
which goes first. Wall time is measured from start to exit of the child (interpreter
start-up and imports included). Peak memory is the child's own high-water resident
set size (``VmHWM``, read by the child just before it exits); the kernel's
``ru_maxrss`` for the child (``os.wait4``) is recorded beside it as a cross-check.
The harness stays small (it generates data in a child too) because ``ru_maxrss``
also counts the parent's pages the child shares between fork and exec.

    uv run python -m bench.feature_pipeline --rows 1000000 5000000
    uv run python -m bench.feature_pipeline --rows 100000 --repeat 1      # quick check
    uv run python -m bench.feature_pipeline --rows 1000000 --sink parquet memory

Results go to ``bench/results/feature_pipeline-<timestamp>.json``; generated CSVs are
deleted at the end unless ``--keep-data`` is given.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

# Only light modules here: see the module docstring on ru_maxrss.
from bench._worker import IMPLEMENTATIONS, SINKS

__all__ = ["Measurement", "main", "measure"]

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
# A run that takes longer than this is stuck; the child is killed and the run fails.
CHILD_TIMEOUT_SECONDS = 1800.0
_POLL_SECONDS = 0.01


@dataclass(frozen=True)
class Measurement:
    """One child process: what it did and what it cost."""

    implementation: str
    rows: int
    sink: str
    repetition: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_bytes: int
    ru_maxrss_bytes: int
    rows_rejected: int
    feature_rows: int
    phases: dict[str, float] = field(default_factory=dict)


class BenchmarkError(RuntimeError):
    """A child run failed or the two implementations disagree on the row counts."""


def measure(
    implementation: str, csv_path: Path, work_dir: Path, sink: str, rows: int, repetition: int
) -> Measurement:
    """Run one implementation on ``csv_path`` in a child process and measure it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    report_path = work_dir / "report.json"
    log_path = work_dir.with_suffix(".log")
    command = [
        sys.executable, "-m", "bench._worker", implementation,
        "--input", str(csv_path), "--work-dir", str(work_dir),
        "--sink", sink, "--report", str(report_path),
    ]  # fmt: skip
    wall, status, usage = _run_child(command, log_path)
    if status != 0:
        tail = log_path.read_text()[-2000:]
        message = f"{implementation} on {csv_path} exited with {status}; log {log_path}:\n{tail}"
        raise BenchmarkError(message)
    report = json.loads(report_path.read_text())
    return Measurement(
        implementation=implementation,
        rows=rows,
        sink=sink,
        repetition=repetition,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_bytes=report["peak_rss_bytes"],
        # Linux reports ru_maxrss in KiB.
        ru_maxrss_bytes=usage.ru_maxrss * 1024,
        rows_rejected=report["rows_rejected"],
        feature_rows=report["feature_rows"],
        phases=report["seconds"],
    )


def _run_child(command: list[str], log_path: Path) -> tuple[float, int, resource.struct_rusage]:
    """Return wall seconds, exit code and resource usage of ``command``."""
    started = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    deadline = started + CHILD_TIMEOUT_SECONDS
    # os.wait4 gives this child's own rusage; RUSAGE_CHILDREN would mix all children.
    pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    while pid == 0:
        if time.perf_counter() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            message = f"{command[3]} ran longer than {CHILD_TIMEOUT_SECONDS:.0f}s; killed"
            raise BenchmarkError(message)
        time.sleep(_POLL_SECONDS)
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, child.returncode, usage


def benchmark_size(
    rows: int, repeat: int, sink: str, csv_path: Path, run_dir: Path, seed: int | None
) -> list[Measurement]:
    """Generate (or reuse) the CSV of ``rows`` rows and measure both implementations."""
    if not csv_path.is_file():
        _generate(rows, csv_path, seed)
    _warm_page_cache(csv_path)

    measurements = []
    for repetition in range(repeat):
        order = IMPLEMENTATIONS if repetition % 2 == 0 else IMPLEMENTATIONS[::-1]
        for implementation in order:
            work_dir = run_dir / f"{implementation}_{rows}_{sink}_{repetition}"
            measurement = measure(implementation, csv_path, work_dir, sink, rows, repetition)
            shutil.rmtree(work_dir)
            logger.info(
                "%s %d rows (%s) #%d: %.2fs (CPU %.2fs), peak %.0f MB (ru_maxrss %.0f MB)",
                implementation, rows, sink, repetition, measurement.wall_seconds,
                measurement.cpu_seconds, measurement.peak_rss_bytes / 2**20,
                measurement.ru_maxrss_bytes / 2**20,
            )  # fmt: skip
            measurements.append(measurement)
    _check_agreement(measurements)
    return measurements


def _generate(rows: int, csv_path: Path, seed: int | None) -> None:
    command = [sys.executable, "-m", "bench.generate", "--rows", str(rows), "--out", str(csv_path)]
    if seed is not None:
        command += ["--seed", str(seed)]
    subprocess.run(command, cwd=REPO, check=True, timeout=CHILD_TIMEOUT_SECONDS)


def _csv_path(data_dir: Path, rows: int, seed: int | None) -> Path:
    return data_dir / (f"raw_{rows}.csv" if seed is None else f"raw_{rows}_seed{seed}.csv")


def _warm_page_cache(path: Path) -> None:
    with path.open("rb") as handle:
        while handle.read(1 << 20):
            pass


def _check_agreement(measurements: list[Measurement]) -> None:
    seen = {(m.rows_rejected, m.feature_rows) for m in measurements}
    if len(seen) > 1:
        message = f"implementations disagree on (rejected, feature rows): {sorted(seen)}"
        raise BenchmarkError(message)


def summarise(measurements: list[Measurement]) -> list[dict[str, Any]]:
    """One row per (size, sink): best wall time, median CPU and memory, the two ratios."""
    rows = []
    for rows_count, sink in sorted({(m.rows, m.sink) for m in measurements}):
        group = [m for m in measurements if (m.rows, m.sink) == (rows_count, sink)]
        # Other work on the machine only ever slows a run down: the best wall time is
        # the least disturbed. CPU time and peak memory barely move: medians.
        figures = {
            impl: (
                min(m.wall_seconds for m in group if m.implementation == impl),
                statistics.median(m.cpu_seconds for m in group if m.implementation == impl),
                statistics.median(m.peak_rss_bytes for m in group if m.implementation == impl),
            )
            for impl in IMPLEMENTATIONS
        }
        (ours_s, ours_cpu, ours_b), (pandas_s, pandas_cpu, pandas_b) = (
            figures["ours"],
            figures["pandas"],
        )
        rows.append(
            {
                "rows": rows_count,
                "sink": sink,
                "runs": len(group) // len(IMPLEMENTATIONS),
                "rows_rejected": group[0].rows_rejected,
                "ours_seconds": ours_s,
                "pandas_seconds": pandas_s,
                "ours_cpu_seconds": ours_cpu,
                "pandas_cpu_seconds": pandas_cpu,
                "ours_peak_mb": ours_b / 2**20,
                "pandas_peak_mb": pandas_b / 2**20,
                "speedup": pandas_s / ours_s,
                "cpu_speedup": pandas_cpu / ours_cpu,
                "memory_share": ours_b / pandas_b,
            }
        )
    return rows


def format_table(summary: list[dict[str, Any]]) -> str:
    header = (
        "| rows | sink | runs | rejected | ours s (CPU s) | pandas s (CPU s) | ours peak MB "
        "| pandas peak MB | speed-up, wall (CPU) | memory ours/pandas |\n"
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {r['rows']:,} | {r['sink']} | {r['runs']} | {r['rows_rejected']:,} "
        f"| {r['ours_seconds']:.2f} ({r['ours_cpu_seconds']:.1f}) "
        f"| {r['pandas_seconds']:.2f} ({r['pandas_cpu_seconds']:.1f}) "
        f"| {r['ours_peak_mb']:,.0f} | {r['pandas_peak_mb']:,.0f} "
        f"| {r['speedup']:.2f}x ({r['cpu_speedup']:.2f}x) | {r['memory_share']:.2f} |"
        for r in summary
    ]
    return "\n".join([header, *lines])


def format_phases(measurements: list[Measurement]) -> str:
    """Median seconds per phase, as each child measured them."""
    lines = []
    for key in sorted({(m.rows, m.sink, m.implementation) for m in measurements}):
        group = [m for m in measurements if (m.rows, m.sink, m.implementation) == key]
        names = list(group[0].phases)
        phases = ", ".join(
            f"{name} {statistics.median(m.phases[name] for m in group):.2f}" for name in names
        )
        lines.append(f"{key[0]:>10,} {key[1]:<8} {key[2]:<7} {phases}")
    return "\n".join(lines)


def machine_note() -> dict[str, Any]:
    import psutil

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": {
            name: metadata.version(name) for name in ("duckdb", "polars", "pyarrow", "pandas")
        },
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[1_000_000, 5_000_000], help="sizes to run"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per implementation and size")
    parser.add_argument(
        "--sink", choices=SINKS, nargs="+", default=["parquet"], help="end product(s) to measure"
    )
    parser.add_argument("--seed", type=int, help="generator seed (default: the generator's)")
    parser.add_argument(
        "--data-dir", type=Path, default=RESULTS_DIR / "data", help="generated CSVs"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the generated CSVs")
    parser.add_argument(
        "--show", type=Path, nargs="+", metavar="JSON", help="only print saved results again"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.show:
        return show(args.show)
    machine = machine_note()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = RESULTS_DIR / f"run-{stamp}"

    measurements: list[Measurement] = []
    try:
        for rows in args.rows:
            csv_path = _csv_path(args.data_dir, rows, args.seed)
            for sink in args.sink:
                measurements += benchmark_size(
                    rows, args.repeat, sink, csv_path, run_dir, args.seed
                )
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        if not args.keep_data:
            for rows in args.rows:
                _csv_path(args.data_dir, rows, args.seed).unlink(missing_ok=True)

    results_path = RESULTS_DIR / f"feature_pipeline-{stamp}.json"
    results = {
        "machine": machine,
        "summary": summarise(measurements),
        "measurements": [asdict(m) for m in measurements],
    }
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    _print_results(machine, measurements)
    print(f"results: {results_path}")
    return 0


def show(paths: list[Path]) -> int:
    """Print the table of saved results files again (one table over all of them)."""
    measurements: list[Measurement] = []
    machines = []
    for path in paths:
        saved = json.loads(path.read_text())
        machines.append(saved["machine"])
        measurements += [Measurement(**m) for m in saved["measurements"]]
    _print_results(machines[-1], measurements)
    for path, machine in zip(paths, machines, strict=True):
        print(f"{path.name}: {machine['date']}, load {machine['load_average_at_start']}")
    return 0


def _print_results(machine: dict[str, Any], measurements: list[Measurement]) -> None:
    print(format_table(summarise(measurements)))
    print()
    print("median seconds per phase, timed inside the child (total_in_process includes imports):")
    print(format_phases(measurements))
    print()
    print(f"machine: {machine['cpus']} CPUs, {machine['memory_gib']} GiB, {machine['platform']}")
    print(f"versions: {machine['versions']}")
    print(f"load average at start: {machine['load_average_at_start']}")


if __name__ == "__main__":
    raise SystemExit(main())
