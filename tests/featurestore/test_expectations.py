"""Data tier: expectations over the `features` view built from the real sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from featurestore import StoreSettings, build_store, ingest, query, resolve_source
from pipelines.features import NUMERIC_FEATURES

MODEL_COLUMNS = (*NUMERIC_FEATURES, "year_built", "location", "condition")


@pytest.fixture(scope="module", params=["sample", "ames"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp(request.param)
    ingest(resolve_source(request.param, None), folder / "lake", max_reject_share=0.05)
    build_store(folder / "store.duckdb", folder / "lake", StoreSettings())
    return folder / "store.duckdb"


def scalar(db: Path, sql: str) -> object:
    table = query(db, sql)
    return table.column(0)[0].as_py()


@pytest.mark.parametrize("column", MODEL_COLUMNS)
def test_model_inputs_have_no_nulls(store: Path, column: str) -> None:
    assert scalar(store, f"SELECT count(*) FROM features WHERE {column} IS NULL") == 0


def test_house_ids_are_unique(store: Path) -> None:
    assert scalar(store, "SELECT count(*) - count(DISTINCT house_id) FROM features") == 0


def test_every_accepted_sale_has_a_feature_row(store: Path) -> None:
    assert scalar(store, "SELECT count(*) FROM features") == scalar(
        store, "SELECT count(*) FROM sales"
    )


@pytest.mark.parametrize(
    ("condition", "why"),
    [
        ("sqft <= 0 OR sqft > 20000", "living area out of range"),
        ("bedrooms < 0 OR bedrooms > 20", "bedrooms out of range"),
        ("bathrooms < 0 OR bathrooms > 15", "bathrooms out of range"),
        ("house_age < 0 OR house_age > 300", "age at sale out of range"),
        ("NOT isfinite(bed_bath_ratio) OR NOT isfinite(sqft_per_bedroom)", "non-finite ratio"),
        ("price <= 0", "non-positive price"),
        (
            "location <> lower(trim(location)) OR condition <> lower(trim(condition))",
            "category not normalised",
        ),
    ],
    ids=["sqft", "bedrooms", "bathrooms", "age", "ratios", "price", "categories"],
)
def test_feature_ranges(store: Path, condition: str, why: str) -> None:
    assert scalar(store, f"SELECT count(*) FROM features WHERE {condition}") == 0, why


def test_ames_keeps_its_other_columns_queryable(store: Path) -> None:
    columns = {row["column_name"] for row in query(store, "DESCRIBE sales").to_pylist()}
    if "Lot_Area" not in columns:
        pytest.skip("the sample has only the canonical columns")

    assert scalar(store, "SELECT count(*) FROM sales WHERE Mas_Vnr_Type IS NULL") == 0
    assert scalar(store, "SELECT count(DISTINCT location) FROM features") == 28
    assert scalar(store, "SELECT min(sale_date) FROM features").isoformat() == "2006-01-01"
