"""Tiny hand-made sales tables, written to a lake and built into a store."""

from __future__ import annotations

from pathlib import Path

import duckdb

from featurestore import StoreSettings, build_store, query

COLUMNS = (
    "house_id VARCHAR, sale_date DATE, price DOUBLE, sqft DOUBLE, bedrooms DOUBLE, "
    "bathrooms DOUBLE, year_built DOUBLE, location VARCHAR, condition VARCHAR, "
    "latitude DOUBLE, longitude DOUBLE"
)


def make_store(tmp_path: Path, rows: list[tuple], settings: StoreSettings | None = None) -> Path:
    lake = tmp_path / "lake"
    lake.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute(f"CREATE TABLE sales ({COLUMNS})")
    con.executemany("INSERT INTO sales VALUES (" + ", ".join("?" * 11) + ")", rows)
    con.execute(f"COPY sales TO '{lake / 'sales.parquet'}' (FORMAT parquet)")
    con.execute(
        f"COPY (SELECT 1 AS source_row, 'x' AS reject_reason) TO "
        f"'{lake / 'rejects.parquet'}' (FORMAT parquet)"
    )
    db = tmp_path / "store.duckdb"
    build_store(db, lake, settings or StoreSettings())
    return db


def row(
    house_id: str,
    price: float = 200_000,
    *,
    sqft: float = 1500,
    bedrooms: float | None = 3,
    bathrooms: float | None = 2,
    year_built: float | None = 1990,
    location: str | None = "Suburb",
    condition: str | None = "Good",
    sale_date: str | None = "2008-06-01",
) -> tuple:
    return (
        house_id,
        sale_date,
        price,
        sqft,
        bedrooms,
        bathrooms,
        year_built,
        location,
        condition,
        None,
        None,
    )


def one(db: Path, sql: str) -> list[tuple]:
    return [tuple(r.values()) for r in query(db, sql).to_pylist()]
