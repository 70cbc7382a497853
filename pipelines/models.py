"""Estimators by name. Every model sees the same dense float32 feature matrix."""

from __future__ import annotations

from typing import Any

from sklearn.base import RegressorMixin

from pipelines.config import ModelConfig
from pipelines.errors import ConfigError

__all__ = ["build_estimator"]


def build_estimator(config: ModelConfig, *, seed: int) -> RegressorMixin:
    """Return an unfitted estimator for ``config``; bad parameters fail here, not mid-run."""
    params: dict[str, Any] = dict(config.params)
    try:
        return _construct(config.kind, params, seed)
    except (TypeError, ValueError) as err:
        message = f"model {config.kind!r}: invalid params {params}: {err}"
        raise ConfigError(message) from err


def _construct(kind: str, params: dict[str, Any], seed: int) -> RegressorMixin:
    if kind == "xgboost":
        from xgboost import XGBRegressor

        # XGBoost accepts these silently and trains an empty or broken model.
        for name, low in (("n_estimators", 1), ("max_depth", 0), ("learning_rate", 1e-12)):
            value = params.get(name, low)
            if not (isinstance(value, int | float) and value >= low):
                raise ValueError(f"{name} must be a number >= {low:g}, got {value!r}")

        params.setdefault("random_state", seed)
        params.setdefault("n_jobs", 2)
        params.setdefault("tree_method", "hist")
        estimator: Any = XGBRegressor(**params)
    elif kind == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        params.setdefault("random_state", seed)
        params.setdefault("n_jobs", 2)
        estimator = RandomForestRegressor(**params)
    elif kind == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingRegressor

        params.setdefault("random_state", seed)
        estimator = HistGradientBoostingRegressor(**params)
    elif kind == "ridge":
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        estimator = make_pipeline(StandardScaler(), Ridge(**params))
    else:
        raise ConfigError(f"unknown model kind {kind!r}")
    # Constructors accept anything (XGBoost only warns at fit time), so a typo in a
    # config is caught here, before any data is touched.
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    known = set(type(final)().get_params())
    unknown = sorted(set(params) - known - {"random_state", "n_jobs", "tree_method"})
    if unknown:
        message = f"unknown parameter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(known))}"
        raise ValueError(message)
    if hasattr(final, "_parameter_constraints"):  # scikit-learn estimators only
        final._validate_params()
    return estimator
