"""The Streamlit dashboard (``hpp ui``) on top of the prediction service and the feature store.

Pages live in ``ui/pages`` and stay thin; what they show is computed in these modules:
``settings`` (environment variables, else the pipeline config), ``client`` (the service's
HTTP contract), ``form`` (the Predict form from ``GET /model``), ``batch`` (checking and
scoring a CSV file), ``explorer`` (locked-down SQL over the feature store),
``diagnostics`` (predictions and permutation importance on the store's sales),
``tracking`` (MLflow run and registered versions), ``charts`` (Altair) and ``cli``.
"""

from __future__ import annotations

from ui.errors import (
    ExplorerError,
    QueryRefused,
    ServiceRefused,
    ServiceUnavailable,
    UiError,
    UnexpectedAnswer,
)
from ui.settings import UiSettings, settings_from_environment

__all__ = [
    "ExplorerError",
    "QueryRefused",
    "ServiceRefused",
    "ServiceUnavailable",
    "UiError",
    "UiSettings",
    "UnexpectedAnswer",
    "settings_from_environment",
]
