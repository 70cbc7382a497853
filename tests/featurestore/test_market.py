"""Point-in-time market features: hand-computed cases and a no-peeking regression test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from featurestore import StoreSettings, build_store, catalog, ingest, query, resolve_source
from featurestore.online import market_features_without, market_snapshot
from tests.featurestore.tables import make_store, one, row

MARKET = (
    "loc_ppsf_median_12m, loc_sales_12m, loc_ppsf_median_36m, loc_sales_36m, "
    "all_ppsf_median_12m, all_sales_12m, all_ppsf_trend_12m"
)


def market(db: Path, house_id: str) -> tuple:
    [values] = one(db, f"SELECT {MARKET} FROM market_features WHERE house_id = '{house_id}'")
    return values


@pytest.fixture
def store(tmp_path: Path) -> Path:
    # price / sqft: 100, 200 (same day, location a), 50 (location b), then later sales.
    return make_store(
        tmp_path,
        [
            row("a1", 100_000, sqft=1000, location="A", sale_date="2006-01-01"),
            row("a2", 200_000, sqft=1000, location="a ", sale_date="2006-01-01"),
            row("b1", 50_000, sqft=1000, location="B", sale_date="2006-02-01"),
            row("a3", 300_000, sqft=1000, location="A", sale_date="2006-03-01"),
            row("a4", 400_000, sqft=1000, location="A", sale_date="2007-02-01"),
            row("a5", 500_000, sqft=1000, location="A", sale_date="2008-01-01"),
            row("u1", 100_000, sqft=1000, location="A", sale_date=None),
        ],
    )


def test_first_month_has_no_market(store: Path) -> None:
    assert market(store, "a1") == (None, 0, None, 0, None, 0, None)


def test_same_day_sales_do_not_see_each_other(store: Path) -> None:
    assert market(store, "a1") == market(store, "a2")


def test_location_without_earlier_sales_has_none_but_the_market_does(store: Path) -> None:
    # b1: nothing earlier in b; the market saw a1 and a2 (100, 200) in January.
    assert market(store, "b1") == (None, 0, None, 0, 150.0, 2, None)


def test_medians_and_counts_of_earlier_sales(store: Path) -> None:
    # a3 (March 2006): location a earlier = 100, 200; market = 100, 200, 50.
    assert market(store, "a3") == (150.0, 2, 150.0, 2, 100.0, 3, None)


def test_windows_drop_sales_older_than_their_length(store: Path) -> None:
    # a4 (Feb 2007): the 12-month window starts Feb 2006, so January's a1/a2 drop out of it
    # but stay in the 36-month one. The year before that (Feb 2005 - Jan 2006): a1, a2.
    assert market(store, "a4") == (300.0, 1, 200.0, 3, 175.0, 2, 175.0 / 150.0 - 1)


def test_trend_compares_with_the_year_before(store: Path) -> None:
    # a5 (Jan 2008): last 12 months (Jan-Dec 2007) = a4 (400); the year before
    # (Jan-Dec 2006) = a1, a2, b1, a3 (100, 200, 50, 300) -> median 150.
    assert market(store, "a5") == (400.0, 1, 250.0, 4, 400.0, 1, 400.0 / 150.0 - 1)


def test_undated_sales_get_no_market_features(store: Path) -> None:
    assert market(store, "u1") == (None, 0, None, 0, None, 0, None)


COLUMNS = [name.strip() for name in MARKET.split(",")]


def test_hidden_prices_leave_the_windows_but_the_sales_keep_their_rows(store: Path) -> None:
    stored = query(store, "SELECT * FROM market_features ORDER BY house_id")

    frame = market_features_without(store, ["a3"], COLUMNS)
    by_id = {row["house_id"]: tuple(row[c] for c in COLUMNS) for row in frame.to_dicts()}

    # a4 (Feb 2007) without a3's price: no location sale in the 12 months before it; a1, a2
    # in the 36; the market's 12 months hold b1 alone; the year before, a1 and a2.
    assert by_id["a4"] == (None, 0, 150.0, 2, 50.0, 1, 50.0 / 150.0 - 1)
    # a3's own features never read its price, so hiding it changes nothing for a3.
    assert by_id["a3"] == market(store, "a3")
    assert set(by_id) == {"a1", "a2", "b1", "a3", "a4", "a5", "u1"}
    # The what-if was rolled back: the stored view and its inputs are as they were.
    assert query(store, "SELECT * FROM market_features ORDER BY house_id").equals(stored)
    assert one(store, "SELECT count(*) FROM market_hidden") == [(0,)]


def test_snapshot_keeps_locations_and_ids_that_look_like_its_own(tmp_path: Path) -> None:
    """A location named like the fallback, ids like probe ids: each still gets its own."""
    db = make_store(
        tmp_path,
        [
            row("probe-0", 100_000, sqft=1000, location="*", sale_date="2008-01-01"),
            row("probe-%", 300_000, sqft=1000, location="A", sale_date="2008-02-01"),
            row("x-probe-1", 500_000, sqft=1000, location="A", sale_date="2008-03-01"),
        ],
    )
    columns = ["loc_ppsf_median_12m", "loc_sales_12m", "all_ppsf_median_12m", "all_sales_12m"]

    snapshot = market_snapshot(db, dt.date(2008, 4, 1), ["*", "a"], columns)

    assert snapshot.locations == {"*": [100.0, 1, 300.0, 3], "a": [400.0, 2, 300.0, 3]}
    assert snapshot.fallback == [None, 0, 300.0, 3]
    assert one(db, "SELECT count(*) FROM market_probes") == [(0,)]


@pytest.fixture(scope="module")
def ames(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ames-market")
    ingest(resolve_source("ames", None), folder / "lake", max_reject_share=0.05)
    build_store(folder / "store.duckdb", folder / "lake", StoreSettings())
    return folder / "store.duckdb", folder / "lake"


@pytest.mark.parametrize("cut", ["2007-01-01", "2008-06-01", "2010-03-01"])
def test_market_features_never_read_the_sale_or_later_prices(
    ames: tuple[Path, Path], tmp_path: Path, cut: str
) -> None:
    db, lake = ames
    sql = f"SELECT * FROM market_features WHERE sale_date = DATE '{cut}' ORDER BY house_id"
    before = query(db, sql)
    assert before.num_rows > 10

    # Scramble the price of every sale on or after the cut, the cut month's own included.
    shuffled_lake = tmp_path / "lake"
    shuffled_lake.mkdir()
    duckdb.sql(f"""
        COPY (
            SELECT * REPLACE (
                CASE WHEN sale_date >= DATE '{cut}'
                     THEN (hash(house_id) % 900000 + 10000)::DOUBLE ELSE price END AS price)
            FROM read_parquet('{lake / "sales.parquet"}')
        ) TO '{shuffled_lake / "sales.parquet"}' (FORMAT parquet)
    """)
    (shuffled_lake / "rejects.parquet").write_bytes((lake / "rejects.parquet").read_bytes())
    build_store(tmp_path / "store.duckdb", shuffled_lake, StoreSettings(iqr_multiplier=1e9))
    after = query(tmp_path / "store.duckdb", sql)

    assert after.equals(before)


def test_hidden_prices_never_reach_any_market_feature(
    ames: tuple[Path, Path], tmp_path: Path
) -> None:
    """What a shuffled CV fold relies on: with a fold's prices hidden, scrambling those
    prices changes no sale's market features."""
    db, lake = ames
    hidden = [
        row["house_id"]
        for row in query(db, "SELECT house_id FROM sales WHERE hash(house_id) % 5 = 0").to_pylist()
    ]
    assert len(hidden) > 400
    before = market_features_without(db, hidden, COLUMNS).sort("house_id")

    scrambled_lake = tmp_path / "lake"
    scrambled_lake.mkdir()
    duckdb.sql(f"""
        COPY (
            SELECT * REPLACE (
                CASE WHEN hash(house_id) % 5 = 0
                     THEN (hash(house_id || 'x') % 900000 + 10000)::DOUBLE ELSE price END
                AS price)
            FROM read_parquet('{lake / "sales.parquet"}')
        ) TO '{scrambled_lake / "sales.parquet"}' (FORMAT parquet)
    """)
    (scrambled_lake / "rejects.parquet").write_bytes((lake / "rejects.parquet").read_bytes())
    build_store(tmp_path / "store.duckdb", scrambled_lake, StoreSettings(iqr_multiplier=1e9))
    after = market_features_without(tmp_path / "store.duckdb", hidden, COLUMNS).sort("house_id")

    assert after.equals(before)
    # ...while without hiding them, the scrambled prices do show (the test can fail).
    everything = "SELECT * FROM market_features ORDER BY house_id"
    assert not query(tmp_path / "store.duckdb", everything).equals(query(db, everything))


def test_catalog_describes_every_column_and_flags_the_point_in_time_ones(
    ames: tuple[Path, Path],
) -> None:
    views = {view.name: view for view in catalog(ames[0])}

    undescribed = [
        f"{view.name}.{column.name}"
        for view in views.values()
        for column in view.columns
        if not column.description
    ]
    timed = {column.name for column in views["market_features"].columns if column.point_in_time}

    assert undescribed == []
    assert timed == {c.name for c in views["market_features"].columns} - {
        "house_id",
        "sale_date",
        "location",
    }
    assert {"market_ppsf_12m", "loc_sales_36m"} <= timed
    assert not any(column.point_in_time for column in views["features"].columns)
    assert views["market_features"].point_in_time and not views["features"].point_in_time
