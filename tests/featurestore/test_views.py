"""Each SQL view on tiny hand-made tables: NULLs, zero bathrooms, casing, outliers, dates."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from featurestore import QueryError, StoreBuildError, StoreSettings, build_store, catalog, query
from featurestore.schema import CATEGORY_SPACES, normalise_category
from featurestore.store import sql_files_in_order
from tests.conftest import REPO
from tests.featurestore.tables import make_store, one, row


def test_clean_normalises_category_case_and_spaces(tmp_path: Path) -> None:
    db = make_store(
        tmp_path,
        [
            row("1", location="  Suburb "),
            row("2", location="SUBURB"),
            row("3", location="suburb\t"),
            row("4", condition=" Fair"),
        ],
    )

    assert one(db, "SELECT DISTINCT location FROM sales_clean") == [("suburb",)]
    assert one(db, "SELECT condition FROM sales_clean WHERE house_id = '4'") == [("fair",)]


@pytest.mark.parametrize("space", list(CATEGORY_SPACES), ids=lambda c: f"U+{ord(c):04X}")
def test_sql_and_python_trim_the_same_characters(tmp_path: Path, space: str) -> None:
    """The category rule is one rule: the SQL macro, Python and the service agree."""
    values = [f"{space}North_Ames{space}", f"North{space}Ames", f"{space}{space}"]
    con = duckdb.connect()
    con.execute((REPO / "sql" / "store" / "macros.sql").read_text())

    in_sql = [con.execute("SELECT normalise_category(?)", [v]).fetchone()[0] for v in values]

    assert in_sql == [normalise_category(v) for v in values]
    assert in_sql[0] == "north_ames"
    assert in_sql[1] == f"north{space}ames".lower()  # only the ends are trimmed
    assert in_sql[2] == ""


def test_sql_and_python_lowercase_every_character_alike() -> None:
    """Categories are lowercased by DuckDB in training and by Python in the service."""
    chars = [chr(c) for c in range(0x21, 0x30000) if not 0xD800 <= c <= 0xDFFF]
    con = duckdb.connect()
    con.execute((REPO / "sql" / "store" / "macros.sql").read_text())
    rows = con.execute(
        "SELECT c, normalise_category(c) FROM unnest(?::VARCHAR[]) AS t(c)", [chars]
    ).fetchall()

    assert [c for c, lowered in rows if normalise_category(c) != lowered] == []
    for word in ["İSTANBUL", "ΣΑΣ", "Ångström", "ÉCOLE-Nord"]:
        in_sql = con.execute("SELECT normalise_category(?)", [word]).fetchone()
        assert in_sql == (normalise_category(word),)


def test_characters_that_are_not_spaces_are_kept() -> None:
    con = duckdb.connect()
    con.execute((REPO / "sql" / "store" / "macros.sql").read_text())
    for value in ["-north_ames-", "\u00adx\u00ad", "é", "_x_"]:
        assert con.execute("SELECT normalise_category(?)", [value]).fetchone()[0] == value.lower()
        assert normalise_category(value) == value.lower()


def test_clean_fills_missing_numbers_with_median_and_categories_with_mode(tmp_path: Path) -> None:
    db = make_store(
        tmp_path,
        [
            row("1", bedrooms=2, bathrooms=1, year_built=1950, location="B"),
            row("2", bedrooms=3, bathrooms=2, year_built=1970, location="A"),
            row("3", bedrooms=5, bathrooms=3, year_built=2000, location="A"),
            row("4", bedrooms=None, bathrooms=None, year_built=None, location=None, condition=None),
        ],
    )

    filled = one(
        db,
        "SELECT bedrooms, bathrooms, year_built, location, condition, was_imputed "
        "FROM sales_clean WHERE house_id = '4'",
    )

    # quantile_disc: a value that occurs (3 of 2, 3, 5), never an average like 2.5
    assert filled == [(3.0, 2.0, 1970.0, "a", "good", True)]


def test_clean_mode_breaks_ties_alphabetically(tmp_path: Path) -> None:
    db = make_store(
        tmp_path, [row("1", location="Zed"), row("2", location="Alpha"), row("3", location=None)]
    )

    assert one(db, "SELECT location FROM sales_clean WHERE house_id = '3'") == [("alpha",)]


def test_clean_flags_price_outliers_by_iqr(tmp_path: Path) -> None:
    prices = [100_000, 110_000, 120_000, 130_000, 140_000, 150_000, 2_000_000]
    db = make_store(tmp_path, [row(str(i), p) for i, p in enumerate(prices)])

    flagged = one(db, "SELECT price FROM sales_clean WHERE is_outlier ORDER BY price")

    assert flagged == [(2_000_000.0,)]


def test_clean_iqr_multiplier_comes_from_settings(tmp_path: Path) -> None:
    prices = [100_000, 110_000, 120_000, 130_000, 140_000, 150_000, 2_000_000]
    db = make_store(
        tmp_path,
        [row(str(i), p) for i, p in enumerate(prices)],
        StoreSettings(iqr_multiplier=100.0),
    )

    assert one(db, "SELECT count(*) FROM sales_clean WHERE is_outlier") == [(0,)]


def test_clean_flags_houses_above_max_sqft(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1", sqft=1500), row("2", sqft=4500), row("3", sqft=1600)])

    assert one(db, "SELECT house_id FROM sales_clean WHERE is_outlier") == [("2",)]


def test_features_bed_bath_ratio_is_finite_with_zero_bathrooms(tmp_path: Path) -> None:
    db = make_store(
        tmp_path, [row("1", bedrooms=2, bathrooms=0), row("2", bedrooms=0, bathrooms=1)]
    )

    ratios = one(
        db, "SELECT house_id, bed_bath_ratio, sqft_per_bedroom FROM features ORDER BY house_id"
    )

    assert ratios == [("1", 4.0, 750.0), ("2", 0.0, 1500.0)]


def test_features_age_is_measured_at_the_sale(tmp_path: Path) -> None:
    db = make_store(
        tmp_path,
        [
            row("1", year_built=1990, sale_date="2008-06-01"),
            row("2", year_built=1990, sale_date="2010-01-01"),
        ],
    )

    assert one(db, "SELECT house_age FROM features ORDER BY house_id") == [(18.0,), (20.0,)]


def test_features_age_without_sale_date_uses_reference_year(tmp_path: Path) -> None:
    db = make_store(
        tmp_path, [row("1", year_built=1990, sale_date=None)], StoreSettings(reference_year=2020)
    )

    assert one(db, "SELECT as_of_year, house_age FROM features") == [(2020, 30.0)]


def test_sql_files_are_ordered_by_dependency(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE VIEW top AS SELECT * FROM middle;")
    (tmp_path / "b.sql").write_text("CREATE VIEW middle AS SELECT * FROM base;")
    (tmp_path / "c.sql").write_text(
        "-- mentions top in a comment only\nCREATE VIEW base AS SELECT 1 AS x;"
    )

    assert [p.name for p in sql_files_in_order(tmp_path)] == ["c.sql", "b.sql", "a.sql"]


def test_sql_files_in_a_cycle_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("CREATE VIEW one AS SELECT * FROM two;")
    (tmp_path / "b.sql").write_text("CREATE VIEW two AS SELECT * FROM one;")

    with pytest.raises(StoreBuildError, match="cycle"):
        sql_files_in_order(tmp_path)


def test_store_sql_files_apply_in_order() -> None:
    names = [p.name for p in sql_files_in_order(REPO / "sql" / "store")]

    assert names.index("sales.sql") < names.index("sales_clean.sql") < names.index("features.sql")
    assert names.index("macros.sql") < names.index("sales_clean.sql")


def test_failed_build_keeps_previous_views(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1")])
    broken = tmp_path / "sql"
    broken.mkdir()
    (broken / "bad.sql").write_text("CREATE OR REPLACE VIEW features AS SELECT nonsense FROM x;")

    with pytest.raises(StoreBuildError, match="keeps its previous views"):
        build_store(db, tmp_path / "lake", StoreSettings(), sql_dir=broken)

    assert one(db, "SELECT house_id FROM features") == [("1",)]


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE x AS SELECT 1",
        "DROP VIEW features",
        "COPY (SELECT 1) TO '/tmp/hpp-should-not-exist.csv'",
        "ATTACH '/tmp/hpp-other.duckdb' AS other",
        "SELECT 1; SELECT 2",
    ],
    ids=["create", "drop", "copy", "attach", "two-statements"],
)
def test_query_refuses_anything_but_one_read(tmp_path: Path, statement: str) -> None:
    db = make_store(tmp_path, [row("1")])

    with pytest.raises(QueryError):
        query(db, statement)

    assert one(db, "SELECT count(*) FROM features") == [(1,)]


def test_query_reports_duckdb_error(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1")])

    with pytest.raises(QueryError, match="no_such_column"):
        query(db, "SELECT no_such_column FROM features")


def test_catalog_has_descriptions_from_the_sql_files(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1")])

    views = {view.name: view for view in catalog(db)}

    assert {"sales", "sales_clean", "features", "rejects"} <= set(views)
    columns = {c.name: c.description for c in views["features"].columns}
    assert "at sale" in (columns["house_age"] or "")
    assert views["features"].description


def test_catalog_knows_dependencies_and_point_in_time_views(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1")])

    views = {view.name: view for view in catalog(db)}

    assert views["features"].depends_on == ("sales_clean", "settings")
    assert views["sales_clean"].depends_on == ("sales", "settings")
    assert views["market_features"].point_in_time
    assert not views["features"].point_in_time
    assert all(c.description for c in views["features"].columns)
    assert all(c.description for c in views["market_features"].columns)


def test_store_keeps_working_after_the_data_folder_moves(tmp_path: Path) -> None:
    (tmp_path / "before").mkdir()
    make_store(tmp_path / "before", [row("1"), row("2")])

    moved = tmp_path / "after"
    (tmp_path / "before").rename(moved)

    assert one(moved / "store.duckdb", "SELECT count(*) FROM features") == [(2,)]
