from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from pipelines.config import ModelConfig, TrainingConfig, load_model_config
from pipelines.errors import ConfigError, PipelineError
from pipelines.models import build_estimator
from pipelines.training import conformal_halfwidth, regression_metrics, split_holdout, train


def test_holdout_takes_the_latest_sales(ames_frame: pl.DataFrame) -> None:
    fit, holdout, rule = split_holdout(ames_frame, 0.15, seed=1)

    assert fit.get_column("sale_date").max() < holdout.get_column("sale_date").min()
    assert fit.height + holdout.height == ames_frame.height
    assert 0.12 < holdout.height / ames_frame.height < 0.18
    assert "on or after" in rule


def test_holdout_without_dates_is_a_seeded_random_share(sample_frame: pl.DataFrame) -> None:
    first = split_holdout(sample_frame, 0.2, seed=7)
    again = split_holdout(sample_frame, 0.2, seed=7)
    other = split_holdout(sample_frame, 0.2, seed=8)

    assert first[1].height == round(sample_frame.height * 0.2)
    assert first[1].equals(again[1])
    assert not first[1].equals(other[1])
    assert "seeded random" in first[2]


def test_metrics_on_known_values() -> None:
    metrics = regression_metrics(np.array([100.0, 200.0]), np.array([110.0, 180.0]))

    assert metrics.mae == pytest.approx(15.0)
    assert metrics.mape == pytest.approx((0.1 + 0.1) / 2)
    assert metrics.r2 == pytest.approx(1 - (100 + 400) / 5000)
    expected = np.sqrt((np.log(100 / 110) ** 2 + np.log(200 / 180) ** 2) / 2)
    assert metrics.rmse_log == pytest.approx(expected)


def test_conformal_halfwidth_is_the_finite_sample_quantile() -> None:
    y_true = np.exp(np.arange(1, 20, dtype=float) / 100)  # |log residual| = 0.01 .. 0.19
    y_pred = np.ones_like(y_true)

    # n = 19, level 0.9: rank ceil(20 * 0.9) = 18 -> the 18th smallest score
    assert conformal_halfwidth(y_true, y_pred, 0.9) == pytest.approx(0.18)


def test_conformal_refuses_too_few_rows() -> None:
    with pytest.raises(PipelineError, match="too few"):
        conformal_halfwidth(np.ones(5), np.ones(5), 0.9)


def test_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown model 'lightgbm'.*xgboost"):
        load_model_config("lightgbm")


def test_unknown_model_parameter_is_a_config_error() -> None:
    config = ModelConfig(kind="xgboost", params={"n_estimator": 10})

    with pytest.raises(ConfigError, match=r"unknown parameter.*n_estimator"):
        build_estimator(config, seed=0)


def test_invalid_sklearn_parameter_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="max_features"):
        build_estimator(ModelConfig(kind="random_forest", params={"max_features": -3}), seed=0)


def test_training_on_too_few_rows_is_refused(sample_frame: pl.DataFrame) -> None:
    with pytest.raises(PipelineError, match="at least"):
        train(sample_frame.head(5), load_model_config("ridge"), TrainingConfig())


def test_training_reports_cv_holdout_and_interval(sample_frame: pl.DataFrame) -> None:
    result = train(sample_frame, load_model_config("ridge"), TrainingConfig(cv_folds=3))

    assert result.cv.rows + (result.holdout.rows if result.holdout else 0) == sample_frame.height
    assert len(result.cv_rmse_log_folds) == 3
    assert result.interval.log_halfwidth > 0
    assert 0.0 <= (result.interval.holdout_coverage or 0.0) <= 1.0
    assert result.reference_year == 2024  # the sample has no sale dates: the configured year


@pytest.mark.parametrize("params", [{"n_estimators": -3}, {"learning_rate": 0}, {"max_depth": -1}])
def test_xgboost_nonsense_parameters_are_config_errors(params: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="must be a number"):
        build_estimator(ModelConfig(kind="xgboost", params=params), seed=0)
