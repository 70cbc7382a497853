"""The benchmark is fair only if its pandas baseline computes what the feature store does.

Both run on one small generated file with a high share of dirty rows, and every
product is compared: accepted sales, rejects with their reasons, and the features
(written to Parquet, and materialised in memory).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from bench.generate import GenerationReport, GeneratorSettings, generate_csv
from bench.pandas_baseline import BaselineResult, CleaningSettings, run_baseline
from featurestore import (
    IngestReport,
    RawSource,
    StoreSettings,
    build_store,
    connect_read_only,
    ingest,
    query,
)

ROWS = 3000
# Far dirtier than the benchmark's 3%, so that every rule fires within a few thousand rows.
DIRTY_SHARE = 0.3
EVERY_RULE = {
    "price is missing",
    "price is not a number",
    "price must be positive",
    "sqft is not a number",
    "sqft must be positive",
    "bedrooms is not a number",
    "bedrooms must not be negative",
    "bathrooms must not be negative",
    "year_built is in the future",
    "location is empty",
    "condition is empty",
}
DATE_RULES = {
    "year_built is after the sale",
    "sale_date is not a date",
    "sale_date is in the future",
}


class _Runs:
    def __init__(self, folder: Path, with_sale_date: bool) -> None:
        settings = GeneratorSettings(
            rows=ROWS, seed=11, dirty_share=DIRTY_SHARE, with_sale_date=with_sale_date,
            chunk_rows=1000,
        )  # fmt: skip
        self.with_sale_date = with_sale_date
        self.generated: GenerationReport = generate_csv(folder / "raw.csv", settings)
        self.csv = self.generated.path
        self.ours_dir = folder / "ours"
        self.pandas_dir = folder / "pandas"
        self.report: IngestReport = ingest(
            RawSource("file", self.csv), self.ours_dir / "lake", max_reject_share=1.0
        )
        build_store(self.ours_dir / "store.duckdb", self.ours_dir / "lake", StoreSettings())
        con = connect_read_only(self.ours_dir / "store.duckdb")
        try:
            con.execute(
                "COPY (SELECT * FROM features) TO ? (FORMAT parquet)",
                [str(self.ours_dir / "features.parquet")],
            )
        finally:
            con.close()
        self.baseline: BaselineResult = run_baseline(
            self.csv, self.pandas_dir, CleaningSettings(max_reject_share=1.0)
        )


@pytest.fixture(scope="module", params=[True, False], ids=["with-sale-date", "no-sale-date"])
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> _Runs:
    return _Runs(tmp_path_factory.mktemp("agree"), with_sale_date=request.param)


def _parquet(path: Path, order_by: str) -> pl.DataFrame:
    return pl.read_parquet(path).sort(order_by)


def test_baseline_reads_and_rejects_the_same_rows(runs: _Runs) -> None:
    assert runs.baseline.rows_read == runs.report.rows_read == ROWS
    assert runs.baseline.rows_rejected == runs.report.rows_rejected
    assert runs.baseline.reasons == runs.report.reasons


def test_generated_file_breaks_every_rule(runs: _Runs) -> None:
    expected = EVERY_RULE | (DATE_RULES if runs.with_sale_date else set())

    assert set(runs.report.reasons) == expected
    assert runs.report.rows_rejected == runs.generated.rows_to_reject


@pytest.mark.parametrize("table", ["sales", "rejects"])
def test_baseline_lake_matches_ingest(runs: _Runs, table: str) -> None:
    ours = pl.read_parquet(runs.ours_dir / "lake" / f"{table}.parquet")
    theirs = pl.read_parquet(runs.pandas_dir / f"{table}.parquet")

    assert_frame_equal(theirs, ours, check_exact=True)


def test_baseline_features_file_matches_view(runs: _Runs) -> None:
    ours = _parquet(runs.ours_dir / "features.parquet", "house_id")
    theirs = _parquet(runs.pandas_dir / "features.parquet", "house_id")

    assert_frame_equal(theirs, ours, check_exact=True)
    assert ours.height == ROWS - runs.report.rows_rejected
    assert ours["is_outlier"].sum() > 0


def test_baseline_features_in_memory_match_view(runs: _Runs) -> None:
    ours = pl.from_arrow(query(runs.ours_dir / "store.duckdb", "SELECT * FROM features"))
    in_memory = run_baseline(
        runs.csv, runs.pandas_dir / "again", CleaningSettings(max_reject_share=1.0),
        write_features=False,
    )  # fmt: skip
    theirs = pl.from_pandas(in_memory.features)

    assert isinstance(ours, pl.DataFrame)
    assert not (runs.pandas_dir / "again" / "features.parquet").exists()
    # pandas holds dates as timestamps; the Parquet writer casts them, here we do.
    theirs = theirs.with_columns(pl.col("sale_date").cast(pl.Date))
    assert_frame_equal(theirs.sort("house_id"), ours.sort("house_id"), check_exact=True)
