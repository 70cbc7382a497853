"""Model diagnostics computed now, through the service, on the feature store's sales.

The bundle records metrics and two PNG plots from training; it records neither the
per-sale holdout predictions nor feature importances. So the Model page scores the
store's ``features`` rows through ``POST /predict/batch`` and derives from the answers:

- predicted vs actual prices and log residuals, for Altair charts;
- permutation importance: how much RMSE(log) grows when one input's values are shuffled
  across the rows (seeded), averaged over a few repeats. It is model-agnostic and uses
  exactly the graph the service runs.

Most of these rows trained the model, so both describe fit, not accuracy on new houses;
the page says so and shows the bundle's holdout metrics as the honest figure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ui.batch import chunk_ranges
from ui.client import ServiceClient
from ui.errors import UiError

__all__ = [
    "Importance",
    "ScoredSales",
    "permutation_importance",
    "sample_sales",
    "score_sales",
]

logger = logging.getLogger(__name__)

_TARGET = "price"


@dataclass(frozen=True)
class ScoredSales:
    """Sales from the store with the service's answers for them, row by row."""

    inputs: dict[str, list[float | str]]
    actual: np.ndarray
    predicted: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    model_version: str
    store_rows: int

    @property
    def rows(self) -> int:
        return len(self.actual)

    @property
    def log_residuals(self) -> np.ndarray:
        return np.log(self.actual) - np.log(self.predicted)

    @property
    def rmse_log(self) -> float:
        return float(np.sqrt(np.mean(self.log_residuals**2)))

    @property
    def coverage(self) -> float:
        return float(np.mean((self.actual >= self.lower) & (self.actual <= self.upper)))


@dataclass(frozen=True)
class Importance:
    name: str
    rmse_log_increase: float  # mean over repeats
    low: float  # smallest increase seen in a repeat
    high: float  # largest


def sample_sales(
    features: pa.Table, input_names: Sequence[str], *, max_rows: int, seed: int
) -> tuple[dict[str, list[float | str]], np.ndarray, int]:
    """The inputs and prices of up to ``max_rows`` sales (a seeded sample when more)."""
    missing = [name for name in (*input_names, _TARGET) if name not in features.column_names]
    if missing:
        message = (
            f"the store's features view lacks {', '.join(missing)}; rebuild it with `hpp build`"
        )
        raise UiError(message)
    table = features.select([*input_names, _TARGET]).drop_null()
    total = table.num_rows
    if total > max_rows:
        picked = np.sort(np.random.default_rng(seed).choice(total, max_rows, replace=False))
        table = table.take(pa.array(picked))
    inputs = {name: table.column(name).to_pylist() for name in input_names}
    actual = np.asarray(table.column(_TARGET).to_pylist(), dtype=float)
    return inputs, actual, total


def score_sales(
    client: ServiceClient,
    inputs: dict[str, list[float | str]],
    actual: np.ndarray,
    *,
    chunk: int,
    store_rows: int,
) -> ScoredSales:
    started = time.perf_counter()
    predicted, lower, upper, version = _predict_columns(client, inputs, chunk)
    logger.info("scored %d store sales in %.2fs", len(actual), time.perf_counter() - started)
    return ScoredSales(inputs, actual, predicted, lower, upper, version, store_rows)


def permutation_importance(
    client: ServiceClient, scored: ScoredSales, *, repeats: int, seed: int, chunk: int
) -> list[Importance]:
    """RMSE(log) increase per shuffled input, largest first."""
    rng = np.random.default_rng(seed)
    baseline = scored.rmse_log
    results = []
    for name, values in scored.inputs.items():
        increases = []
        for _ in range(repeats):
            shuffled = dict(scored.inputs)
            shuffled[name] = [values[i] for i in rng.permutation(len(values))]
            predicted, _, _, _ = _predict_columns(client, shuffled, chunk)
            rmse = float(np.sqrt(np.mean((np.log(scored.actual) - np.log(predicted)) ** 2)))
            increases.append(rmse - baseline)
        results.append(Importance(name, float(np.mean(increases)), min(increases), max(increases)))
    return sorted(results, key=lambda item: item.rmse_log_increase, reverse=True)


def _predict_columns(
    client: ServiceClient, inputs: dict[str, list[float | str]], chunk: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    names = list(inputs)
    rows = zip(*inputs.values(), strict=True)
    houses = [dict(zip(names, values, strict=True)) for values in rows]
    predicted, lower, upper = [], [], []
    version = ""
    for part in chunk_ranges(len(houses), chunk):
        answer = client.predict_batch(houses[part.start : part.stop])
        version = answer.model.version
        for item in answer.predictions:
            predicted.append(item.predicted_price)
            lower.append(item.interval.lower)
            upper.append(item.interval.upper)
    return np.asarray(predicted), np.asarray(lower), np.asarray(upper), version
