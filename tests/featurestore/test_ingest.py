from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from featurestore import IngestError, RawSource, SchemaError, ingest, resolve_source
from tests.conftest import SAMPLE_CSV, write_csv

GOOD = "300000,1500,3,2,Suburb,1990,Good"


def _ingest(path: Path, lake: Path, share: float = 1.0):
    return ingest(RawSource("file", path), lake, max_reject_share=share)


def _rows(path: Path) -> list[tuple]:
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}')").fetchall()


def test_ingest_sample_accepts_every_row(tmp_path: Path) -> None:
    report = ingest(resolve_source("sample", None), tmp_path / "lake", max_reject_share=0.0)

    assert (report.rows_read, report.rows_accepted, report.rows_rejected) == (84, 84, 0)
    assert len(_rows(tmp_path / "lake" / "sales.parquet")) == 84
    assert _rows(tmp_path / "lake" / "rejects.parquet") == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",1500,3,2,Suburb,1990,Good", "price is missing"),
        ("0,1500,3,2,Suburb,1990,Good", "price must be positive"),
        ("300000,-5,3,2,Suburb,1990,Good", "sqft must be positive"),
        ("300000,12a,3,2,Suburb,1990,Good", "sqft is not a number: 12a"),
        ("300000,1500,-1,2,Suburb,1990,Good", "bedrooms must not be negative"),
        ("300000,1500,3,-2,Suburb,1990,Good", "bathrooms must not be negative"),
        ("300000,1500,3,2,Suburb,2999,Good", "year_built is in the future"),
        ("300000,1500,3,2,   ,1990,Good", "location is empty"),
        ('300000,1500,3,2,Suburb,1990," "', "condition is empty"),
        ('300000,1500,3,2,"\t",1990,Good', "location is empty"),
        ('300000,1500,3,2,Suburb,1990,"\n"', "condition is empty"),
        ("300000,1500,3,2,\u00a0\u200b,1990,Good", "location is empty"),
        ("nan,1500,3,2,Suburb,1990,Good", "price is not a finite number"),
        ("300000,1500,3,2,Suburb,nan,Good", "year_built is not a finite number"),
        ("300000,inf,3,2,Suburb,1990,Good", "sqft is not a finite number"),
        ("300000,1500,3,1e400,Suburb,1990,Good", "bathrooms is not a finite number"),
    ],
    ids=[
        "no-price",
        "zero-price",
        "negative-sqft",
        "text-sqft",
        "negative-bedrooms",
        "negative-bathrooms",
        "built-in-future",
        "blank-location",
        "blank-condition",
        "tab-location",
        "newline-condition",
        "no-break-and-zero-width-location",
        "nan-price",
        "nan-year",
        "infinite-sqft",
        "overflowing-bathrooms",
    ],
)
def test_ingest_rejects_bad_row_with_reason(tmp_path: Path, row: str, reason: str) -> None:
    path = write_csv(tmp_path / "raw.csv", [GOOD, row])

    report = _ingest(path, tmp_path / "lake")

    assert report.rows_rejected == 1
    rejects = duckdb.sql(
        f"SELECT source_row, reject_reason FROM read_parquet('{tmp_path}/lake/rejects.parquet')"
    ).fetchall()
    assert rejects == [(2, reason)]


def test_ingest_rejects_build_after_sale_and_bad_dates(tmp_path: Path) -> None:
    header = "price,sqft,bedrooms,bathrooms,location,year_built,condition,sale_date"
    path = write_csv(
        tmp_path / "raw.csv",
        [
            GOOD + ",2008-05-01",
            "300000,1500,3,2,Suburb,2009,Good,2008-05-01",
            "300000,1500,3,2,Suburb,1990,Good,May 2008",
            "300000,1500,3,2,Suburb,1990,Good,2999-01-01",
        ],
        header=header,
    )

    _ingest(path, tmp_path / "lake")

    reasons = [
        r
        for (r,) in duckdb.sql(
            f"SELECT reject_reason FROM read_parquet('{tmp_path}/lake/rejects.parquet')"
        ).fetchall()
    ]
    assert reasons == [
        "year_built is after the sale",
        "sale_date is not a date: May 2008",
        "sale_date is in the future",
    ]


def test_ingest_lists_every_broken_rule_of_a_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "raw.csv", [GOOD, "abc,-1,3,2,,1990,Good"])

    _ingest(path, tmp_path / "lake")

    [(reason,)] = duckdb.sql(
        f"SELECT reject_reason FROM read_parquet('{tmp_path}/lake/rejects.parquet')"
    ).fetchall()
    assert reason == "price is not a number: abc; sqft must be positive"


def test_ingest_keeps_missing_optional_values_for_the_cleaning_rules(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "raw.csv", [GOOD, "250000,1200,,,,,"])

    report = _ingest(path, tmp_path / "lake")

    assert report.rows_rejected == 0


def test_ingest_rejects_duplicate_house_ids(tmp_path: Path) -> None:
    header = "house_id,price,sqft,bedrooms,bathrooms,location,year_built,condition"
    path = write_csv(tmp_path / "raw.csv", ["a," + GOOD, "b," + GOOD, "b," + GOOD], header=header)

    report = _ingest(path, tmp_path / "lake")

    assert report.rows_rejected == 2
    assert report.reasons == {"house_id is not unique": 2}


def test_ingest_refuses_too_many_rejects_and_keeps_previous_lake(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _ingest(SAMPLE_CSV, lake)
    before = (lake / "sales.parquet").read_bytes()
    bad = write_csv(tmp_path / "bad.csv", [GOOD, "x,1,1,1,a,1990,b", "y,1,1,1,a,1990,b"])

    with pytest.raises(IngestError, match=r"2 of 3 rows rejected \(66.7%\)") as caught:
        _ingest(bad, lake, share=0.05)

    assert "price is not a number (2)" in str(caught.value)
    assert "max_reject_share" in str(caught.value)
    assert (lake / "sales.parquet").read_bytes() == before
    assert sorted(p.name for p in lake.iterdir()) == [
        "manifest.json",
        "rejects.parquet",
        "sales.parquet",
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("price,sqft,bedrooms,bathrooms,location,condition", r"missing column\(s\): year_built\."),
        (
            "price,sqft,bedrooms,bathrooms,location,year_built,condition,colour",
            r"unexpected column\(s\): colour\.",
        ),
    ],
    ids=["missing", "unexpected"],
)
def test_ingest_names_wrong_columns(tmp_path: Path, header: str, message: str) -> None:
    row = ",".join("1" for _ in header.split(","))
    path = write_csv(tmp_path / "raw.csv", [row], header=header)

    with pytest.raises(SchemaError, match=message):
        _ingest(path, tmp_path / "lake")

    assert not (tmp_path / "lake" / "sales.parquet").exists()


def test_ingest_refuses_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")

    with pytest.raises(IngestError, match="is empty"):
        _ingest(path, tmp_path / "lake")


def test_ingest_refuses_header_without_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "raw.csv", [])

    with pytest.raises(IngestError, match="no data rows"):
        _ingest(path, tmp_path / "lake")


def test_ingest_reads_parquet(tmp_path: Path) -> None:
    parquet = tmp_path / "raw.parquet"
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{SAMPLE_CSV}')) TO '{parquet}' (FORMAT parquet)")

    report = _ingest(parquet, tmp_path / "lake")

    assert report.rows_accepted == 84


def test_ingest_refuses_unknown_file_type(tmp_path: Path) -> None:
    path = tmp_path / "raw.xlsx"
    path.write_text("x")

    with pytest.raises(IngestError, match=r"must be \.csv or \.parquet"):
        _ingest(path, tmp_path / "lake")


def test_resolve_source_refuses_unknown_name() -> None:
    with pytest.raises(IngestError, match="unknown source 'zillow'"):
        resolve_source("zillow", None)
