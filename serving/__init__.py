"""The prediction service: Litestar + msgspec on onnxruntime (``hpp serve``).

It needs only numpy, msgspec, onnxruntime, litestar and uvicorn: the install
``pip install 'house-price-predictor[serve]'`` has neither scikit-learn, XGBoost, joblib
nor pandas, and nothing here loads a pickle.

Modules, in the order a request meets them: ``settings`` (flags and ``HPP_*``
variables), ``registry`` (``models:/`` locations), ``loading`` (verify the bundle, open
the session), ``schemas`` (request and response structs), ``body`` (decoding, 400/422),
``predictor`` (categories, warnings, the graph), ``metrics`` (Prometheus), ``app``
(routes), ``server`` (uvicorn workers), ``cli`` (``hpp serve``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from serving.app import create_app
    from serving.errors import ModelLoadError, ServingError, SettingsError
    from serving.loading import LoadedModel, load_model
    from serving.predictor import InputRejected, Predictor
    from serving.settings import ServiceSettings, resolve_settings

__all__ = [
    "InputRejected",
    "LoadedModel",
    "ModelLoadError",
    "Predictor",
    "ServiceSettings",
    "ServingError",
    "SettingsError",
    "create_app",
    "load_model",
    "resolve_settings",
]

# Imported on first use: `hpp` builds its `serve` parser through serving.cli on every
# command, and an install without the serve extra has no Litestar to import.
_HOMES = {
    "create_app": "serving.app",
    "InputRejected": "serving.predictor",
    "Predictor": "serving.predictor",
    "LoadedModel": "serving.loading",
    "load_model": "serving.loading",
    "ModelLoadError": "serving.errors",
    "ServingError": "serving.errors",
    "SettingsError": "serving.errors",
    "ServiceSettings": "serving.settings",
    "resolve_settings": "serving.settings",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'serving' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
