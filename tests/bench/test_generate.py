from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from bench.generate import GeneratorSettings, generate_csv

CANONICAL = ["price", "sqft", "bedrooms", "bathrooms", "location", "year_built", "condition"]


def _read_text(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_generate_same_seed_gives_same_file(tmp_path: Path) -> None:
    settings = GeneratorSettings(rows=1500, seed=3, chunk_rows=500)

    first = generate_csv(tmp_path / "a.csv", settings)
    second = generate_csv(tmp_path / "b.csv", settings)

    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.dirty == second.dirty


@pytest.mark.parametrize(
    ("with_sale_date", "header"),
    [(True, [*CANONICAL, "sale_date"]), (False, CANONICAL)],
    ids=["with-sale-date", "no-sale-date"],
)
def test_generate_writes_canonical_columns_in_chunks(
    tmp_path: Path, with_sale_date: bool, header: list[str]
) -> None:
    settings = GeneratorSettings(rows=1234, with_sale_date=with_sale_date, chunk_rows=500)

    report = generate_csv(tmp_path / "raw.csv", settings)

    frame = _read_text(report.path)
    assert frame.columns == header
    assert frame.height == 1234


def test_generate_keeps_clean_rows_plausible(tmp_path: Path) -> None:
    report = generate_csv(tmp_path / "raw.csv", GeneratorSettings(rows=5000, dirty_share=0.0))

    frame = _read_text(report.path).select(
        pl.col("price", "sqft", "bedrooms", "bathrooms").cast(pl.Float64)
    )
    per_sqft = (frame["price"] / frame["sqft"]).to_numpy()
    assert report.dirty == {}
    assert frame.null_count().sum_horizontal().item() == 0
    # Ames itself spans $15-$276 per square foot; the jitter must stay near that.
    assert per_sqft.min() > 10
    assert per_sqft.max() < 400
    assert 100_000 < np.median(frame["price"].to_numpy()) < 250_000
