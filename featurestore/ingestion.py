"""Ingest: raw file -> validated, typed Parquet in the lake, with every reject explained.

The lake folder holds ``sales.parquet`` (accepted rows) and ``rejects.parquet``
(refused rows with their reasons). Both are written beside the old ones and moved
into place only when the run passes, so a failed ingest never replaces good data.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from featurestore._resources import resource_path
from featurestore.errors import IngestError
from featurestore.sources import RawSource, register_raw_input

__all__ = ["IngestReport", "ingest", "read_manifest"]

logger = logging.getLogger(__name__)

SALES_FILE = "sales.parquet"
REJECTS_FILE = "rejects.parquet"
MANIFEST_FILE = "manifest.json"

# Raw text kept beside each reject so a person can see what was wrong with it.
_REJECT_COLUMNS = (
    "source_row, house_id, reject_reason, price_text AS price, sqft_text AS sqft, "
    "bedrooms_text AS bedrooms, bathrooms_text AS bathrooms, year_built_text AS year_built, "
    "location, condition, sale_date_text AS sale_date"
)
_TEXT_COLUMNS = (
    "price_text, sqft_text, bedrooms_text, bathrooms_text, year_built_text, "
    "sale_date_text, latitude_text, longitude_text"
)


@dataclass(frozen=True)
class IngestReport:
    """What one ingest read, kept and refused."""

    source: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    reasons: dict[str, int] = field(default_factory=dict)
    sales_path: Path | None = None
    rejects_path: Path | None = None
    seconds: float = 0.0

    @property
    def reject_share(self) -> float:
        return self.rows_rejected / self.rows_read if self.rows_read else 0.0


def ingest(source: RawSource, lake_dir: Path, *, max_reject_share: float) -> IngestReport:
    """Validate ``source`` and publish its rows to ``lake_dir``; raise on a failing run."""
    started = time.perf_counter()
    lake_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        register_raw_input(con, source)
        # The category rule's macros: the blank check trims what it trims.
        con.execute(resource_path("sql", "store", "macros.sql").read_text())
        con.execute(resource_path("sql", "ingest", "validate.sql").read_text())
        rows_read, rows_rejected = _count(con)
        if rows_read == 0:
            raise IngestError(f"{source.label} has a header but no data rows")
        reasons = _reason_counts(con)
        _refuse_if_too_many_rejects(
            con, source, rows_read, rows_rejected, reasons, max_reject_share
        )
        sales_path, rejects_path = _publish(con, lake_dir)
    finally:
        con.close()
    _write_manifest(lake_dir, source, rows_read, rows_rejected)
    report = IngestReport(
        source=source.label,
        rows_read=rows_read,
        rows_accepted=rows_read - rows_rejected,
        rows_rejected=rows_rejected,
        reasons=reasons,
        sales_path=sales_path,
        rejects_path=rejects_path,
        seconds=time.perf_counter() - started,
    )
    logger.info(
        "ingested %s: %d read, %d accepted, %d rejected in %.2fs -> %s",
        report.source,
        report.rows_read,
        report.rows_accepted,
        report.rows_rejected,
        report.seconds,
        sales_path,
    )
    return report


def read_manifest(lake_dir: Path) -> dict[str, object]:
    """What the last successful ingest into ``lake_dir`` read: source, rows, time."""
    path = lake_dir / MANIFEST_FILE
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text()))


def _write_manifest(lake_dir: Path, source: RawSource, rows_read: int, rejected: int) -> None:
    manifest = {
        "source": source.label,
        "rows_read": rows_read,
        "rows_rejected": rejected,
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    temporary = lake_dir / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, lake_dir / MANIFEST_FILE)


def _count(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    row = con.execute("SELECT count(*), count(reject_reason) FROM validated").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _reason_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    # A row may break several rules; count each rule once per row, without its value.
    rows = con.execute(
        """
        SELECT regexp_replace(reason, ':.*$', '') AS rule, count(*) AS n
        FROM (SELECT unnest(string_split(reject_reason, '; ')) AS reason
              FROM validated WHERE reject_reason IS NOT NULL)
        GROUP BY rule ORDER BY n DESC, rule
        """
    ).fetchall()
    return dict(Counter({rule: int(n) for rule, n in rows}))


def _refuse_if_too_many_rejects(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    rows_read: int,
    rows_rejected: int,
    reasons: dict[str, int],
    max_share: float,
) -> None:
    share = rows_rejected / rows_read
    if share <= max_share:
        return
    examples = con.execute(
        "SELECT source_row, reject_reason FROM validated WHERE reject_reason IS NOT NULL "
        "ORDER BY source_row LIMIT 5"
    ).fetchall()
    lines = [
        f"{source.label}: {rows_rejected} of {rows_read} rows rejected ({share:.1%}), "
        f"more than the allowed {max_share:.1%}. Nothing was written; the lake keeps its "
        "previous data.",
        "Reasons: " + ", ".join(f"{rule} ({n})" for rule, n in reasons.items()),
        *(f"  row {row}: {reason}" for row, reason in examples),
        "Fix the file, or raise ingest.max_reject_share in the config.",
    ]
    raise IngestError("\n".join(lines))


def _publish(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> tuple[Path, Path]:
    sales_path = lake_dir / SALES_FILE
    rejects_path = lake_dir / REJECTS_FILE
    staged_sales = lake_dir / f".{SALES_FILE}.{os.getpid()}.tmp"
    staged_rejects = lake_dir / f".{REJECTS_FILE}.{os.getpid()}.tmp"
    try:
        con.execute(
            f"COPY (SELECT * EXCLUDE (source_row, reject_reason, {_TEXT_COLUMNS}) "
            "FROM validated WHERE reject_reason IS NULL ORDER BY source_row) "
            "TO ? (FORMAT parquet)",
            [str(staged_sales)],
        )
        con.execute(
            f"COPY (SELECT {_REJECT_COLUMNS} FROM validated WHERE reject_reason IS NOT NULL "
            "ORDER BY source_row) TO ? (FORMAT parquet)",
            [str(staged_rejects)],
        )
        os.replace(staged_sales, sales_path)
        os.replace(staged_rejects, rejects_path)
    finally:
        staged_sales.unlink(missing_ok=True)
        staged_rejects.unlink(missing_ok=True)
    return sales_path, rejects_path
