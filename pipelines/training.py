"""Training: holdout split, k-fold CV, conformal interval, final fit.

The bundled model is the one fitted on every non-holdout row, so the holdout
metrics and interval coverage describe exactly the model that is shipped.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from sklearn.model_selection import KFold

from featurestore.schema import NUMERIC_INPUTS, TARGET
from pipelines.config import ModelConfig, TrainingConfig
from pipelines.errors import PipelineError
from pipelines.features import FeatureEncoder
from pipelines.models import build_estimator

__all__ = [
    "MIN_ROWS",
    "Interval",
    "MarketWithout",
    "Metrics",
    "TrainingResult",
    "conformal_halfwidth",
    "cv_folds",
    "describe_cv",
    "fingerprint",
    "observed_ranges",
    "regression_metrics",
    "split_holdout",
    "train",
]

logger = logging.getLogger(__name__)

MIN_ROWS = 20


@dataclass(frozen=True)
class Metrics:
    rows: int
    rmse_log: float
    mae: float
    mape: float
    r2: float

    def as_dict(self) -> dict[str, float]:
        return {"rmse_log": self.rmse_log, "mae": self.mae, "mape": self.mape, "r2": self.r2}


@dataclass(frozen=True)
class Interval:
    """Split-conformal interval on the log scale: price * exp(+-log_halfwidth)."""

    level: float
    log_halfwidth: float
    calibration_rows: int
    cv_coverage: float
    holdout_coverage: float | None
    holdout_median_width: float | None


@dataclass
class TrainingResult:
    model_config: ModelConfig
    estimator: Any
    encoder: FeatureEncoder
    reference_year: int
    holdout_rule: str
    train_frame: pl.DataFrame
    holdout_frame: pl.DataFrame
    cv: Metrics
    cv_rmse_log_folds: list[float]
    holdout: Metrics | None
    interval: Interval
    holdout_predictions: np.ndarray
    fingerprint: str
    seconds: float
    fit_rows: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def predict(self, frame: pl.DataFrame) -> np.ndarray:
        """Dollar predictions of the fitted model for rows of the features view."""
        return _to_price(
            self.estimator.predict(self.encoder.transform(frame)), self.model_config.target
        )


MarketWithout = Callable[[Sequence[str]], pl.DataFrame]
"""Market features of every sale (``house_id`` + columns) with the given sales' prices unread."""


def train(
    frame: pl.DataFrame,
    model: ModelConfig,
    config: TrainingConfig,
    market_without: MarketWithout | None = None,
) -> TrainingResult:
    """Fit and evaluate ``model`` on the rows of the features view in ``frame``.

    With market features and shuffled folds, ``market_without`` recomputes them per fold
    with the fold's validation prices hidden (see ``cv_folds``).
    """
    started = time.perf_counter()
    if frame.height < MIN_ROWS:
        message = f"only {frame.height} usable rows; training needs at least {MIN_ROWS}"
        raise PipelineError(message)
    build_estimator(model, seed=config.seed)  # a bad config fails before any fitting

    # With market features a random holdout sale can be earlier than training sales whose
    # market features read its price: the holdout would no longer be unseen.
    train_frame, holdout_frame, rule = split_holdout(
        frame, config.holdout_fraction, config.seed, by_date_only=config.market_features
    )
    encoder = FeatureEncoder.fit(train_frame, market=config.market_features)
    logger.info("split: %d train, %d holdout (%s)", train_frame.height, holdout_frame.height, rule)

    oof, scored, fold_scores = _cross_validate(train_frame, encoder, model, config, market_without)
    y_train = train_frame.get_column(TARGET).to_numpy()[scored]
    cv = regression_metrics(y_train, oof)
    halfwidth = conformal_halfwidth(y_train, oof, config.interval_level)
    logger.info("cv: rmse_log %.4f, mae %.0f, r2 %.3f", cv.rmse_log, cv.mae, cv.r2)

    estimator = _fit(train_frame, encoder, model, config)
    holdout_pred = _to_price(estimator.predict(encoder.transform(holdout_frame)), model.target)
    y_holdout = holdout_frame.get_column(TARGET).to_numpy()
    holdout = regression_metrics(y_holdout, holdout_pred) if holdout_frame.height else None
    interval = Interval(
        level=config.interval_level,
        log_halfwidth=halfwidth,
        calibration_rows=len(oof),
        cv_coverage=_coverage(y_train, oof, halfwidth),
        holdout_coverage=_coverage(y_holdout, holdout_pred, halfwidth)
        if holdout_frame.height
        else None,
        holdout_median_width=float(np.median(holdout_pred * 2 * math.sinh(halfwidth)))
        if holdout_frame.height
        else None,
    )
    return TrainingResult(
        model_config=model,
        estimator=estimator,
        encoder=encoder,
        reference_year=int(train_frame.get_column("as_of_year").max()),  # type: ignore[arg-type]
        holdout_rule=rule,
        train_frame=train_frame,
        holdout_frame=holdout_frame,
        cv=cv,
        cv_rmse_log_folds=fold_scores,
        holdout=holdout,
        interval=interval,
        holdout_predictions=holdout_pred,
        fingerprint=fingerprint(frame),
        seconds=time.perf_counter() - started,
        fit_rows=int(_fit_mask(train_frame, config).sum()),
    )


def split_holdout(
    frame: pl.DataFrame, fraction: float, seed: int, *, by_date_only: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """Hold out the latest sales by date, or a seeded random share when there are none.

    ``by_date_only`` refuses the random share (with the reason dates cannot be used).
    """
    frame = frame.sort("house_id")
    dates = frame.get_column("sale_date")
    if dates.null_count() == 0:
        cutoff = dates.sort()[int(frame.height * (1 - fraction))]
        holdout = frame.filter(pl.col("sale_date") >= cutoff)
        if 0 < holdout.height < frame.height:
            rule = f"sales on or after {cutoff} (latest {holdout.height / frame.height:.1%})"
            return frame.filter(pl.col("sale_date") < cutoff), holdout, rule
    why = (
        f"{dates.null_count()} of {frame.height} rows have no sale date"
        if dates.null_count()
        else f"{dates.n_unique()} distinct sale date(s) are too few to hold out the latest"
    )
    if by_date_only:
        message = (
            f"market features need a holdout of the latest sales, but {why}; "
            "add data or set training.market_features: false"
        )
        raise PipelineError(message)
    rng = np.random.default_rng(seed)
    is_holdout = np.zeros(frame.height, dtype=bool)
    is_holdout[rng.permutation(frame.height)[: max(1, round(frame.height * fraction))]] = True
    rule = f"seeded random {fraction:.0%} of rows (seed {seed}; {why})"
    mask = pl.Series(is_holdout)
    return frame.filter(~mask), frame.filter(mask), rule


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> Metrics:
    """RMSE of log prices, and MAE, MAPE and R^2 in dollars."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    log_error = np.log(y_true) - np.log(np.maximum(y_pred, 1.0))
    error = y_true - y_pred
    total = np.sum((y_true - y_true.mean()) ** 2)
    return Metrics(
        rows=len(y_true),
        rmse_log=float(np.sqrt(np.mean(log_error**2))),
        mae=float(np.mean(np.abs(error))),
        mape=float(np.mean(np.abs(error) / y_true)),
        r2=float(1 - np.sum(error**2) / total) if total > 0 else float("nan"),
    )


def conformal_halfwidth(y_true: np.ndarray, y_pred: np.ndarray, level: float) -> float:
    """The split-conformal quantile of |log residual| for ``level`` coverage.

    Residuals come from out-of-fold predictions: each from a model that never saw
    the row, which is what split conformal needs of its calibration set.
    """
    scores = np.sort(np.abs(np.log(y_true) - np.log(np.maximum(y_pred, 1.0))))
    rank = math.ceil((len(scores) + 1) * level)
    if rank > len(scores):
        message = (
            f"{len(scores)} calibration rows are too few for a {level:.0%} interval; "
            f"lower training.interval_level or add data"
        )
        raise PipelineError(message)
    return float(scores[rank - 1])


def fingerprint(frame: pl.DataFrame) -> str:
    """SHA-256 of the training rows (sorted by house_id, written as CSV)."""
    return hashlib.sha256(frame.sort("house_id").write_csv().encode()).hexdigest()


def observed_ranges(frame: pl.DataFrame) -> dict[str, tuple[float, float]]:
    ranges = {}
    for name in NUMERIC_INPUTS:
        values = frame.get_column(name).cast(pl.Float64)
        ranges[name] = (float(values.min()), float(values.max()))  # type: ignore[arg-type]
    return ranges


def cv_folds(frame: pl.DataFrame, config: TrainingConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """(fit rows, validation rows) per fold, by the configured scheme.

    ``random``: shuffled k-fold. A fit row's point-in-time market features may read the
    price of an earlier validation row, so with market features each fold recomputes them
    with its validation prices hidden (``_cross_validate``). ``time``: forward chaining —
    the rows are cut by sale date into k + 1 blocks (a date never straddles two) and fold i
    fits on blocks 0..i and validates on block i + 1, so no model sees a sale later than
    those it scores.
    The first block is never scored.
    """
    if config.cv_scheme == "random":
        folds = KFold(n_splits=config.cv_folds, shuffle=True, random_state=config.seed)
        return list(folds.split(np.arange(frame.height)))
    dates = frame.get_column("sale_date")
    if dates.null_count():
        message = "time-ordered cross-validation needs a sale date on every row"
        raise PipelineError(message)
    ordinal = dates.cast(pl.Int64).to_numpy()
    cuts = np.quantile(ordinal, np.linspace(0, 1, config.cv_folds + 2)[1:-1], method="lower")
    block = np.searchsorted(np.unique(cuts), ordinal, side="right")
    return [
        (np.flatnonzero(block <= fold), np.flatnonzero(block == fold + 1))
        for fold in range(int(block.max()))
    ]


def describe_cv(config: TrainingConfig) -> str:
    """The CV scheme in words, as the run summary and ``bundle.json`` report it."""
    if config.cv_scheme == "time":
        return f"forward chaining by sale date ({config.cv_folds} folds)"
    recomputed = ", market features recomputed per fold" if config.market_features else ""
    return f"{config.cv_folds} shuffled folds (seed {config.seed}{recomputed})"


def _cross_validate(
    frame: pl.DataFrame,
    encoder: FeatureEncoder,
    model: ModelConfig,
    config: TrainingConfig,
    market_without: MarketWithout | None,
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """Out-of-fold predictions, the rows they cover, and RMSE(log) per fold."""
    recompute = bool(encoder.market_features_) and config.cv_scheme == "random"
    if recompute and market_without is None:
        message = "shuffled folds with market features need the store to recompute them per fold"
        raise PipelineError(message)
    oof = np.full(frame.height, np.nan)
    scores = []
    folds = cv_folds(frame, config)
    for index, (fit_idx, val_idx) in enumerate(folds, start=1):
        fold_frame = frame
        if recompute:
            assert market_without is not None
            hidden = frame.get_column("house_id").gather(val_idx).to_list()
            fold_frame = _replace_market(frame, market_without(hidden), encoder.market_features_)
        fit_part, val_part = fold_frame[fit_idx], fold_frame[val_idx]
        estimator = _fit(fit_part, encoder, model, config)
        oof[val_idx] = _to_price(estimator.predict(encoder.transform(val_part)), model.target)
        y_val = val_part.get_column(TARGET).to_numpy()
        scores.append(regression_metrics(y_val, oof[val_idx]).rmse_log)
        logger.debug("fold %d/%d: rmse_log %.4f", index, len(folds), scores[-1])
    scored = ~np.isnan(oof)
    return oof[scored], scored, scores


def _replace_market(
    frame: pl.DataFrame, market: pl.DataFrame, names: Sequence[str]
) -> pl.DataFrame:
    """``frame`` with its market columns taken from ``market`` (matched by house_id)."""
    replaced = frame.drop(names).join(
        market.select("house_id", *names), on="house_id", how="left", maintain_order="left"
    )
    missing = replaced.select(pl.any_horizontal(pl.col(names).is_null()).sum()).item()
    if missing:
        message = (
            f"{missing} rows lost their market features when a fold's validation prices "
            "were hidden (too little earlier data); use training.cv_scheme: time"
        )
        raise PipelineError(message)
    return replaced.select(frame.columns)


def _fit_mask(frame: pl.DataFrame, config: TrainingConfig) -> np.ndarray:
    if not config.drop_outliers_from_fit:
        return np.ones(frame.height, dtype=bool)
    return ~frame.get_column("is_outlier").to_numpy().astype(bool)


def _fit(
    frame: pl.DataFrame, encoder: FeatureEncoder, model: ModelConfig, config: TrainingConfig
) -> Any:
    fit_frame = frame.filter(pl.Series(_fit_mask(frame, config)))
    estimator = build_estimator(model, seed=config.seed)
    target = fit_frame.get_column(TARGET).to_numpy().astype(np.float64)
    estimator.fit(encoder.transform(fit_frame), np.log(target) if model.target == "log" else target)
    return estimator


def _to_price(raw: np.ndarray, target: str) -> np.ndarray:
    raw = np.asarray(raw, dtype=np.float64).ravel()
    return np.exp(raw) if target == "log" else raw


def _coverage(y_true: np.ndarray, y_pred: np.ndarray, halfwidth: float) -> float:
    scores = np.abs(np.log(y_true) - np.log(np.maximum(y_pred, 1.0)))
    return float(np.mean(scores <= halfwidth))
