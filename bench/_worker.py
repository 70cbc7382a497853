"""One measured run: our feature store or the pandas baseline, in a process of its own.

The harness (``bench/feature_pipeline.py``) starts this module once per measurement
and reads its peak memory from the kernel when it exits, so nothing else may share
the process. It imports only what the chosen implementation needs and writes a JSON
report (row counts, seconds per phase) to ``--report``.

    python -m bench._worker ours --input raw.csv --work-dir DIR --sink parquet --report r.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

IMPLEMENTATIONS = ("ours", "pandas")
# Both implementations always write the lake (accepted sales and rejects) to Parquet.
# parquet: the feature table is written to DIR/features.parquet too (COPY from DuckDB).
# memory:  the feature table ends as an in-memory frame (Polars via Arrow, the way
#          training materialises it; a pandas DataFrame for the baseline).
SINKS = ("parquet", "memory")

# The pipeline config's defaults (configs/pipeline.yaml).
MAX_REJECT_SHARE = 0.05


def run_ours(csv_path: Path, work_dir: Path, sink: str) -> dict[str, Any]:
    """Ingest ``csv_path`` (validation + rejects), build the views, materialise features."""
    import polars as pl

    from featurestore import (
        RawSource,
        StoreSettings,
        build_store,
        connect_read_only,
        ingest,
        query,
    )

    lake_dir = work_dir / "lake"
    db_path = work_dir / "featurestore.duckdb"
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    report = ingest(RawSource("file", csv_path), lake_dir, max_reject_share=MAX_REJECT_SHARE)
    seconds["ingest"] = time.perf_counter() - started

    started = time.perf_counter()
    build_store(db_path, lake_dir, StoreSettings())
    seconds["build"] = time.perf_counter() - started

    started = time.perf_counter()
    if sink == "parquet":
        con = connect_read_only(db_path)
        try:
            con.execute(
                "COPY (SELECT * FROM features) TO ? (FORMAT parquet)",
                [str(work_dir / "features.parquet")],
            )
            feature_rows = con.sql("SELECT count(*) FROM features").fetchall()[0][0]
        finally:
            con.close()
    else:
        frame = pl.from_arrow(query(db_path, "SELECT * FROM features"))
        assert isinstance(frame, pl.DataFrame)
        feature_rows = frame.height
    seconds["features"] = time.perf_counter() - started

    return {
        "rows_read": report.rows_read,
        "rows_rejected": report.rows_rejected,
        "feature_rows": int(feature_rows),
        "reasons": report.reasons,
        "seconds": seconds,
    }


def run_pandas(csv_path: Path, work_dir: Path, sink: str) -> dict[str, Any]:
    """The same end product with the pandas twin of the SQL."""
    from bench.pandas_baseline import CleaningSettings, run_baseline

    settings = CleaningSettings(max_reject_share=MAX_REJECT_SHARE)
    result = run_baseline(csv_path, work_dir, settings, write_features=sink == "parquet")
    return {
        "rows_read": result.rows_read,
        "rows_rejected": result.rows_rejected,
        "feature_rows": len(result.features),
        "reasons": result.reasons,
        "seconds": result.seconds,
    }


def _own_peak_rss() -> int:
    """Peak resident memory of this process image, from /proc/self/status (VmHWM).

    Unlike ``ru_maxrss`` it starts counting at exec, so the harness's own memory,
    shared with the child between fork and exec, is not mixed in.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    message = "no VmHWM in /proc/self/status: peak memory needs Linux"
    raise RuntimeError(message)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="one measured run (started by the harness)")
    parser.add_argument("implementation", choices=IMPLEMENTATIONS)
    parser.add_argument("--input", type=Path, required=True, help="raw CSV file")
    parser.add_argument("--work-dir", type=Path, required=True, help="empty folder for outputs")
    parser.add_argument("--sink", choices=SINKS, default="parquet")
    parser.add_argument("--report", type=Path, required=True, help="JSON report to write")
    args = parser.parse_args(argv)

    args.work_dir.mkdir(parents=True, exist_ok=True)
    run = run_ours if args.implementation == "ours" else run_pandas
    started = time.perf_counter()
    report = run(args.input, args.work_dir, args.sink)
    report["seconds"]["total_in_process"] = time.perf_counter() - started
    report["peak_rss_bytes"] = _own_peak_rss()
    args.report.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
