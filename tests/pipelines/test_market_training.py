"""Training with point-in-time market features: leak-free CV, online values, agreement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from featurestore import StoreSettings, build_store, ingest, query, resolve_source
from featurestore.online import market_features_without, market_snapshot
from pipelines.config import TrainingConfig, load_model_config
from pipelines.errors import PipelineError
from pipelines.features import MARKET_FEATURES
from pipelines.training import cv_folds, split_holdout, train


@pytest.fixture(scope="module")
def ames_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ames-online")
    ingest(resolve_source("ames", None), folder / "lake", max_reject_share=0.05)
    build_store(folder / "store.duckdb", folder / "lake", StoreSettings())
    return folder / "store.duckdb", folder / "lake"


def test_time_folds_never_fit_on_later_sales(ames_frame: pl.DataFrame) -> None:
    config = TrainingConfig(cv_folds=4, cv_scheme="time")
    dates = ames_frame.get_column("sale_date").to_numpy()

    folds = cv_folds(ames_frame, config)

    assert len(folds) == 4
    for fit_idx, val_idx in folds:
        assert dates[fit_idx].max() < dates[val_idx].min()
    scored = np.concatenate([val for _, val in folds])
    assert len(scored) == len(set(scored.tolist())) > 0.7 * ames_frame.height


def test_online_values_equal_the_offline_view_for_a_sale_after_the_cut_off(
    ames_store: tuple[Path, Path], tmp_path: Path
) -> None:
    db, lake = ames_store
    as_of = dt.date(2010, 7, 2)  # the day after the last Ames sale month starts
    online = market_snapshot(db, as_of, ["north_ames", "northridge"], list(MARKET_FEATURES))

    # Offline: a real new sale on that day, through ingest's Parquet and the SQL views.
    new_lake = tmp_path / "lake"
    new_lake.mkdir()
    duckdb.sql(f"""
        COPY (
            SELECT * FROM read_parquet('{lake / "sales.parquet"}')
            UNION ALL BY NAME
            SELECT * REPLACE ('new-' || house_id AS house_id, DATE '{as_of}' AS sale_date,
                              price * 10 AS price)
            FROM read_parquet('{lake / "sales.parquet"}')
            WHERE house_id IN ('ames-1', 'ames-1100')
        ) TO '{new_lake / "sales.parquet"}' (FORMAT parquet)
    """)
    (new_lake / "rejects.parquet").write_bytes((lake / "rejects.parquet").read_bytes())
    build_store(tmp_path / "store.duckdb", new_lake, StoreSettings(iqr_multiplier=1e9))
    offline = {
        row["location"]: [row[name] for name in MARKET_FEATURES]
        for row in query(
            tmp_path / "store.duckdb", "SELECT * FROM market_features WHERE house_id LIKE 'new-%'"
        ).to_pylist()
    }

    assert set(offline) == {"north_ames", "northridge"}
    for location, values in offline.items():
        assert values == online.locations[location]


def test_online_fallback_is_the_whole_market(ames_store: tuple[Path, Path]) -> None:
    db, _ = ames_store

    online = market_snapshot(db, dt.date(2010, 7, 2), ["north_ames"], list(MARKET_FEATURES))

    fallback = dict(zip(MARKET_FEATURES, online.fallback, strict=True))
    assert fallback["market_loc_ppsf_12m"] == fallback["market_ppsf_12m"]
    assert fallback["market_loc_sales_12m"] == 0
    assert online.fallback[3:] == online.locations["north_ames"][3:]


def test_snapshot_leaves_the_store_unchanged(ames_store: tuple[Path, Path]) -> None:
    db, _ = ames_store

    market_snapshot(db, dt.date(2010, 7, 2), ["north_ames"], list(MARKET_FEATURES))

    assert query(db, "SELECT count(*) FROM market_probes").column(0)[0].as_py() == 0


def market_frame(db: Path) -> pl.DataFrame:
    columns = ", ".join(f"m.{name}" for name in MARKET_FEATURES)
    frame = pl.from_arrow(
        query(
            db,
            f"SELECT f.*, {columns} FROM features AS f JOIN market_features AS m "
            "USING (house_id) WHERE m.market_ppsf_12m IS NOT NULL",
        )
    )
    assert isinstance(frame, pl.DataFrame)
    return frame


def test_shuffled_folds_recompute_market_features_without_their_validation_prices(
    ames_store: tuple[Path, Path],
) -> None:
    db, _ = ames_store
    frame = market_frame(db)
    config = TrainingConfig(market_features=True, cv_scheme="random", cv_folds=4)
    hidden_per_fold: list[set[str]] = []

    def market_without(hidden: Sequence[str]) -> pl.DataFrame:
        hidden_per_fold.append(set(hidden))
        return market_features_without(db, hidden, MARKET_FEATURES)

    result = train(frame, load_model_config("ridge"), config, market_without)

    fit_rows, _, _ = split_holdout(frame, config.holdout_fraction, config.seed)
    ids = fit_rows.get_column("house_id").to_list()
    folds = cv_folds(fit_rows, config)
    assert hidden_per_fold == [{ids[i] for i in val} for _, val in folds]
    assert set().union(*hidden_per_fold) == set(ids)
    assert result.cv.rows == len(ids)


def test_shuffled_folds_with_market_features_refuse_to_run_without_the_store(
    ames_store: tuple[Path, Path],
) -> None:
    frame = market_frame(ames_store[0])
    config = TrainingConfig(market_features=True, cv_scheme="random")

    with pytest.raises(PipelineError, match="recompute them per fold"):
        train(frame, load_model_config("ridge"), config)


def test_each_fold_trains_on_the_recomputed_values(ames_store: tuple[Path, Path]) -> None:
    """The values a fold gets from the store are the ones it uses: blank ones stop it."""
    db, _ = ames_store
    config = TrainingConfig(market_features=True, cv_scheme="random")

    def blank_market(hidden: Sequence[str]) -> pl.DataFrame:
        market = market_features_without(db, hidden, MARKET_FEATURES)
        return market.with_columns(pl.lit(None, pl.Float64).alias("market_ppsf_12m"))

    with pytest.raises(PipelineError, match="lost their market features"):
        train(market_frame(db), load_model_config("ridge"), config, blank_market)
