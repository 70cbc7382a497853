"""Model tier: ONNX parity with the native model, sane behaviour, category handling."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import polars as pl
import pytest

from featurestore import MODEL_INPUTS
from pipelines.config import TrainingConfig, load_model_config
from pipelines.errors import ExportError
from pipelines.export import check_parity, export_onnx, run_onnx
from pipelines.features import NUMERIC_FEATURES, derive_features
from pipelines.training import TrainingResult, train

KINDS = ["xgboost", "random_forest", "hist_gradient_boosting", "ridge"]


def fit_and_export(frame: pl.DataFrame, kind: str) -> tuple[TrainingResult, bytes]:
    result = train(frame, load_model_config(kind), TrainingConfig(cv_folds=2))
    model = export_onnx(
        result.estimator,
        result.encoder,
        target=result.model_config.target,
        reference_year=result.reference_year,
        log_halfwidth=result.interval.log_halfwidth,
    )
    return result, model.SerializeToString()


def inputs_of(frame: pl.DataFrame) -> dict[str, list[Any]]:
    return {name: frame.get_column(name).to_list() for name in MODEL_INPUTS}


@pytest.fixture(scope="module")
def ames_xgboost(ames_frame: pl.DataFrame) -> tuple[TrainingResult, bytes]:
    return fit_and_export(ames_frame, "xgboost")


def house(**changes: Any) -> dict[str, list[Any]]:
    base: dict[str, Any] = {
        "sqft": 1500.0,
        "bedrooms": 3.0,
        "bathrooms": 2.0,
        "year_built": 1975.0,
        "location": "north_ames",
        "condition": "average",
    }
    return {name: [changes.get(name, value)] for name, value in base.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_onnx_matches_native_model(sample_frame: pl.DataFrame, kind: str) -> None:
    result, model = fit_and_export(sample_frame, kind)

    report = check_parity(
        model,
        result.estimator,
        result.encoder,
        inputs_of(sample_frame),
        target=result.model_config.target,
        reference_year=result.reference_year,
    )

    assert report.rows == sample_frame.height
    assert report.max_relative_difference <= 1e-4


def test_onnx_matches_native_model_on_ames(
    ames_frame: pl.DataFrame, ames_xgboost: tuple[TrainingResult, bytes]
) -> None:
    result, model = ames_xgboost

    report = check_parity(
        model,
        result.estimator,
        result.encoder,
        inputs_of(ames_frame),
        target="log",
        reference_year=result.reference_year,
    )

    assert report.max_relative_difference <= 1e-4


def test_parity_failure_is_loud(sample_frame: pl.DataFrame) -> None:
    result, _ = fit_and_export(sample_frame, "ridge")
    _, other_model = fit_and_export(sample_frame.with_columns(pl.col("price") * 2), "ridge")

    with pytest.raises(ExportError, match="disagrees with the native model"):
        check_parity(
            other_model,
            result.estimator,
            result.encoder,
            inputs_of(sample_frame),
            target="log",
            reference_year=result.reference_year,
        )


def test_graph_derives_the_same_features_as_the_sql_view(ames_frame: pl.DataFrame) -> None:
    year = 2008
    rows = ames_frame.filter(pl.col("as_of_year") == year)

    derived = derive_features(inputs_of(rows), reference_year=year)

    for name in NUMERIC_FEATURES:
        np.testing.assert_array_equal(
            derived[name].astype(np.float32), rows.get_column(name).to_numpy().astype(np.float32)
        )


def test_interval_brackets_the_price(ames_xgboost: tuple[TrainingResult, bytes]) -> None:
    _, model = ames_xgboost

    out = run_onnx(model, house())

    assert out["price_lower"][0] < out["price"][0] < out["price_upper"][0]


def test_bigger_house_is_not_cheaper(ames_xgboost: tuple[TrainingResult, bytes]) -> None:
    _, model = ames_xgboost
    sizes = [900.0, 1300.0, 1800.0, 2400.0, 3000.0]

    prices = [run_onnx(model, house(sqft=s))["price"][0] for s in sizes]

    assert prices[-1] > prices[0] * 1.3
    assert all(b >= a * 0.98 for a, b in itertools.pairwise(prices)), prices


def test_newer_house_is_not_cheaper(ames_xgboost: tuple[TrainingResult, bytes]) -> None:
    _, model = ames_xgboost

    old = run_onnx(model, house(year_built=1920.0))["price"][0]
    new = run_onnx(model, house(year_built=2005.0))["price"][0]

    assert new > old


@pytest.mark.parametrize("spelling", ["north_ames", "North_Ames", "NORTH_AMES"])
def test_category_case_does_not_change_the_price(
    ames_xgboost: tuple[TrainingResult, bytes], spelling: str
) -> None:
    _, model = ames_xgboost

    price = run_onnx(model, house(location=spelling))["price"][0]

    assert price == run_onnx(model, house())["price"][0]


def test_location_matters(ames_xgboost: tuple[TrainingResult, bytes]) -> None:
    _, model = ames_xgboost

    cheap = run_onnx(model, house(location="meadow_village"))["price"][0]
    dear = run_onnx(model, house(location="northridge_heights"))["price"][0]

    assert dear > cheap * 1.2
