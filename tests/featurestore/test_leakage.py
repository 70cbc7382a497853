"""Leakage guard: no model input may be computed from the price of the row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from featurestore import StoreSettings, build_store, ingest, query, resolve_source
from pipelines.features import NUMERIC_FEATURES

# Every column of the view except the target and the outlier flag (which is about the
# price by design and is never a model input): a new feature is covered automatically.
MODEL_COLUMNS = "* EXCLUDE (price, is_outlier)"


@pytest.mark.parametrize("source", ["sample", "ames"])
def test_model_inputs_do_not_change_when_prices_are_shuffled(tmp_path: Path, source: str) -> None:
    lake = tmp_path / "lake"
    ingest(resolve_source(source, None), lake, max_reject_share=0.05)
    db = tmp_path / "store.duckdb"
    build_store(db, lake, StoreSettings())
    before = query(db, f"SELECT {MODEL_COLUMNS} FROM features ORDER BY house_id")

    # Give every house another house's price (and scale them), then rebuild the views.
    sales = lake / "sales.parquet"
    duckdb.sql(f"""
        COPY (
            WITH shuffled AS (
                SELECT house_id, price * 3 + 17 AS price,
                    row_number() OVER (ORDER BY hash(house_id || 'x')) AS slot
                FROM read_parquet('{sales}')
            ), originals AS (
                SELECT * EXCLUDE (price), row_number() OVER (ORDER BY house_id) AS slot
                FROM read_parquet('{sales}')
            )
            SELECT originals.* EXCLUDE (slot), shuffled.price
            FROM originals JOIN shuffled USING (slot)
        ) TO '{tmp_path / "shuffled.parquet"}' (FORMAT parquet)
    """)
    (tmp_path / "shuffled.parquet").replace(sales)
    build_store(db, lake, StoreSettings())
    after = query(db, f"SELECT {MODEL_COLUMNS} FROM features ORDER BY house_id")

    assert query(db, "SELECT count(*) FROM features").column(0)[0].as_py() == before.num_rows
    assert after.equals(before)


def test_model_feature_names_never_mention_price() -> None:
    assert not any("price" in name for name in NUMERIC_FEATURES)
