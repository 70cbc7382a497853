"""Benchmark the prediction service against its floors (issue 3). Not a test.

For each server (uvicorn, granian) and worker count it starts the service as a
subprocess on 127.0.0.1, then measures in the same run:

- ``POST /predict`` at 1 and 32 connections with wrk, ``--duration`` seconds each;
- the HTTP floor: ``POST /bench/constant`` (bench/serve_app.py) the same way;
- ``POST /predict/batch`` with 1,000 and 10,000 houses, end to end from a client on
  one keep-alive connection, ``--batch-repeats`` times each;
- the model floor: ``InferenceSession.run`` in this process, 1 row and 10,000 rows,
  with the service's session options.

Every loop is bounded in count or time, traffic goes only to 127.0.0.1, and each
server is stopped by its PID. Needs ``wrk`` (``apt-get install wrk``).

    uv run python -m bench.serve_bench                       # the full table
    uv run python -m bench.serve_bench --servers granian --workers 1 --duration 5
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.serve_app import CONSTANT_PATH

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
HOUSE = {
    "sqft": 1850,
    "bedrooms": 3,
    "bathrooms": 2.5,
    "location": "Suburb",
    "year_built": 1994,
    "condition": "Good",
}
_START_TIMEOUT = 60.0
_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class LoadResult:
    server: str
    workers: int
    path: str
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_us_per_request: float = 0.0
    round: int = 0


@dataclass
class BatchResult:
    server: str
    workers: int
    rows: int
    repeats: int
    median_ms: float
    p90_ms: float
    rows_per_second: float
    round: int = 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed; `apt-get install -y wrk`", file=sys.stderr)
        return 1
    with contextlib.ExitStack() as stack:
        bundle = args.model or _sample_bundle(
            Path(stack.enter_context(tempfile.TemporaryDirectory()))
        )
        model_floor = measure_model_floor(bundle)
        print(f"model floor: {json.dumps(model_floor)}", flush=True)
        loads: list[LoadResult] = []
        batches: list[BatchResult] = []
        for round_index in range(args.rounds):
            for server in args.servers.split(","):
                for workers in (int(w) for w in args.workers.split(",")):
                    with running_service(server, workers, bundle) as (port, pid):
                        for path in (CONSTANT_PATH, "/predict"):
                            for connections in (int(c) for c in args.connections.split(",")):
                                result = run_wrk(port, pid, path, connections, args.duration)
                                result.server, result.workers = server, workers
                                result.round = round_index
                                print(json.dumps(asdict(result)), flush=True)
                                loads.append(result)
                        for rows in (1_000, 10_000) if args.batch_repeats else ():
                            batch = measure_batch(port, rows, args.batch_repeats)
                            batch.server, batch.workers = server, workers
                            batch.round = round_index
                            print(json.dumps(asdict(batch)), flush=True)
                            batches.append(batch)
    report = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_end": os.getloadavg()},
        "model_floor": model_floor,
        "load": [asdict(r) for r in loads],
        "batch": [asdict(b) for b in batches],
    }
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(report))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", type=Path, help="bundle folder (default: train one on the sample)"
    )
    parser.add_argument("--servers", default="uvicorn,granian")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (max 60)")
    parser.add_argument("--connections", default="1,32", help="comma-separated wrk -c values")
    parser.add_argument("--batch-repeats", type=int, default=10, help="0 skips the batches")
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything, interleaved")
    parser.add_argument("--output", type=Path, help="also write the figures as JSON here")
    return parser


# -- the service under load -----------------------------------------------------------


@contextlib.contextmanager
def running_service(server: str, workers: int, bundle: Path) -> Iterator[tuple[int, int]]:
    """Start the bench app under ``server`` on a free port; stop it by PID afterwards."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="hpp-bench-metrics-") as metrics_dir:
        env = os.environ | {
            "HPP_MODEL": str(bundle),
            "HPP_METRICS_DIR": metrics_dir,
            "HPP_LOG_LEVEL": "warning",
        }
        env.pop("HPP_SERVICE_SETTINGS", None)
        command = _server_command(server, workers, port)
        log = Path(metrics_dir) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=sink)
        try:
            _wait_ready(port, process, log)
            yield port, process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _server_command(server: str, workers: int, port: int) -> list[str]:
    target = "bench.serve_app:create_bench_app"
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--no-ws", "--log-level", "warning", target,
        ]  # fmt: skip
    if server == "uvicorn":
        return [
            sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--no-access-log",
            "--log-level", "warning", target,
        ]  # fmt: skip
    raise SystemExit(f"unknown server {server!r}: use granian or uvicorn")


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/ready")
            if connection.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"the server on port {port} was not ready after {_START_TIMEOUT:.0f}s")


def run_wrk(port: int, pid: int, path: str, connections: int, duration: int) -> LoadResult:
    """One wrk run (it stops itself after ``duration`` s) and the server's CPU time for it."""
    duration = min(duration, 60)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = '{json.dumps(HOUSE)}'\n"
        )
    cpu_before = _cpu_seconds(pid)
    try:
        completed = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            timeout=duration + 30,
            check=True,
        )
    finally:
        os.unlink(script.name)
    cpu = _cpu_seconds(pid) - cpu_before
    result = _parse_wrk(completed.stdout, path, connections)
    total = re.search(r"(\d+) requests in", completed.stdout)
    if total and int(total.group(1)):
        result.server_cpu_us_per_request = cpu / int(total.group(1)) * 1e6
    return result


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process and its workers."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def _parse_wrk(output: str, path: str, connections: int) -> LoadResult:
    def latency(percentile: str) -> float:
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            raise SystemExit(f"wrk printed no {percentile}% latency:\n{output}")
        return float(match.group(1)) * _WRK_UNITS[match.group(2)]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    if rate is None:
        raise SystemExit(f"wrk printed no rate:\n{output}")
    return LoadResult(
        server="",
        workers=0,
        path=path,
        connections=connections,
        requests_per_second=float(rate.group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        errors=errors,
    )


def measure_batch(port: int, rows: int, repeats: int) -> BatchResult:
    """POST a batch of ``rows`` houses ``repeats`` times; time until the last byte."""
    houses = [HOUSE | {"sqft": 1200 + (i * 37) % 2400, "bedrooms": 2 + i % 4} for i in range(rows)]
    body = json.dumps({"houses": houses}).encode()
    headers = {"Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timings = []
    try:
        for attempt in range(repeats + 1):
            started = time.perf_counter()
            connection.request("POST", "/predict/batch", body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - started
            if response.status != 200:
                raise SystemExit(f"batch of {rows} answered {response.status}: {payload[:300]!r}")
            if attempt:  # the first is a warm-up
                timings.append(elapsed * 1e3)
    finally:
        connection.close()
    median = statistics.median(timings)
    return BatchResult(
        server="",
        workers=0,
        rows=rows,
        repeats=repeats,
        median_ms=median,
        p90_ms=float(np.percentile(timings, 90)),
        rows_per_second=rows / (median / 1e3),
    )


# -- the model floor --------------------------------------------------------------------


def measure_model_floor(bundle: Path) -> dict[str, float]:
    """Median ``InferenceSession.run`` time for 1 and 10,000 rows, service options.

    10,000 rows are also timed with 2 onnxruntime threads (``--ort-threads 2``).
    """
    from serving.loading import load_model

    floor = {}
    for threads, rows, repeats in ((1, 1, 3000), (1, 10_000, 10), (2, 10_000, 10)):
        session = load_model(bundle, ort_threads=threads).session
        feeds = _feeds(rows)
        session.run(None, feeds)
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            session.run(None, feeds)
            timings.append((time.perf_counter() - started) * 1e3)
        suffix = "" if threads == 1 else f"_{threads}_threads"
        floor[f"rows_{rows}{suffix}_median_ms"] = statistics.median(timings)
    return floor


def _feeds(rows: int) -> dict[str, np.ndarray]:
    index = np.arange(rows)
    return {
        "sqft": (1200 + (index * 37) % 2400).astype(np.float32),
        "bedrooms": (2 + index % 4).astype(np.float32),
        "bathrooms": np.full(rows, 2.5, dtype=np.float32),
        "year_built": np.full(rows, 1994, dtype=np.float32),
        "location": np.full(rows, "suburb", dtype=object),
        "condition": np.full(rows, "good", dtype=object),
    }


def _sample_bundle(folder: Path) -> Path:
    hpp = Path(sys.executable).with_name("hpp")
    for step in (["ingest", "--source", "sample"], ["build"], ["train"]):
        subprocess.run([str(hpp), *step], cwd=folder, check=True, capture_output=True, timeout=300)
    return folder / "models" / "house-price"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- the table ------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    """Tables of medians over rounds; ratios against the floors of the same run."""
    floor = report["model_floor"]
    loads = _medians(report["load"], ("server", "workers", "path", "connections"))
    lines = [
        "| server | workers | request | conns | req/s | p50 ms | p99 ms | server CPU µs/req "
        "| vs HTTP floor |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, result in loads.items():
        server, workers, path, connections = key
        floor_rate = loads[(server, workers, CONSTANT_PATH, connections)]["requests_per_second"]
        lines.append(
            f"| {server} | {workers} | POST {path} | {connections} | "
            f"{result['requests_per_second']:,.0f} | {result['p50_ms']:.2f} | "
            f"{result['p99_ms']:.2f} | {result['server_cpu_us_per_request']:.0f} | "
            f"{result['requests_per_second'] / floor_rate:.2f} |"
        )
    batches = _medians(report["batch"], ("server", "workers", "rows"))
    if batches:
        lines += [
            "",
            "| server | workers | batch rows | median ms | p90 ms | rows/s | vs model floor |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
    for (server, workers, rows), batch in batches.items():
        ratio = (
            f"{batch['median_ms'] / floor['rows_10000_median_ms']:.2f}x" if rows == 10_000 else ""
        )
        lines.append(
            f"| {server} | {workers} | {rows:,} | {batch['median_ms']:.1f} | "
            f"{batch['p90_ms']:.1f} | {batch['rows_per_second']:,.0f} | {ratio} |"
        )
    rounds = 1 + max((r["round"] for r in report["load"]), default=0)
    lines += [
        "",
        f"Medians of {rounds} round(s). Model floor (InferenceSession.run, 1 thread): 1 row "
        f"{floor['rows_1_median_ms'] * 1e3:.0f} µs, 10,000 rows "
        f"{floor['rows_10000_median_ms']:.1f} ms (2 threads: "
        f"{floor.get('rows_10000_2_threads_median_ms', float('nan')):.1f} ms). "
        "Load average at the end: "
        f"{', '.join(f'{x:.2f}' for x in report['machine']['load_average_at_end'])}.",
    ]
    return "\n".join(lines)


def _medians(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in key), []).append(row)
    return {
        group: {
            name: statistics.median(row[name] for row in members)
            for name, value in members[0].items()
            if isinstance(value, int | float) and name not in key
        }
        for group, members in groups.items()
    }


if __name__ == "__main__":
    raise SystemExit(main())
