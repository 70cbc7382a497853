"""Dashboard settings: one typed struct, read from environment variables on every page run.

``hpp ui`` resolves the pipeline config (``--config``, ``--data-dir``, ``--models-dir``)
and hands the result to the Streamlit process as the variables in ``ENVIRONMENT``. Run
the app any other way (``streamlit run ui/app.py``, a container) and whatever is not set
comes from ``configs/pipeline.yaml`` in the working folder, exactly as ``hpp`` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import msgspec

from ui.errors import UiError

__all__ = ["DEFAULT_API_URL", "ENVIRONMENT", "UiSettings", "settings_from_environment"]

DEFAULT_API_URL = "http://localhost:8000"

Seconds = Annotated[float, msgspec.Meta(gt=0, le=600)]


class UiSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything the pages need to know; see ``ENVIRONMENT`` for the variable names."""

    store_path: str
    models_dir: str
    bundle_name: str
    registered_model: str
    api_url: Annotated[str, msgspec.Meta(pattern=r"^https?://[^/\s]+")] = DEFAULT_API_URL
    tracking_uri: str | None = None
    """MLflow tracking URI; unset means the one recorded beside the bundle (mlflow.json)."""
    max_rows: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000
    """Most rows the SQL explorer returns; a longer result is cut and says so."""
    query_timeout: Seconds = 10.0
    """Seconds a query may run before the explorer interrupts it."""
    request_timeout: Seconds = 30.0
    """Seconds to wait for the prediction service before reporting it unavailable."""
    batch_chunk: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1_000
    """Houses per POST /predict/batch request (capped by the service's own limit)."""

    @property
    def store(self) -> Path:
        return Path(self.store_path)

    @property
    def bundle_root(self) -> Path:
        """``models/<bundle name>``: its version folders and the ``latest`` link."""
        return Path(self.models_dir) / self.bundle_name


ENVIRONMENT: dict[str, str] = {
    "api_url": "API_URL",
    "store_path": "HPP_UI_STORE",
    "models_dir": "HPP_UI_MODELS_DIR",
    "bundle_name": "HPP_UI_BUNDLE",
    "registered_model": "HPP_UI_REGISTERED_MODEL",
    "tracking_uri": "MLFLOW_TRACKING_URI",
    "max_rows": "HPP_UI_MAX_ROWS",
    "query_timeout": "HPP_UI_QUERY_TIMEOUT",
    "request_timeout": "HPP_UI_REQUEST_TIMEOUT",
    "batch_chunk": "HPP_UI_BATCH_CHUNK",
}

# Settings that the pipeline config supplies when their variable is not set.
_FROM_PIPELINE_CONFIG = ("store_path", "models_dir", "bundle_name", "registered_model")
_ERROR_PATH = re.compile(r"`\$\.(\w+)`")


def settings_from_environment(environ: Mapping[str, str]) -> UiSettings:
    """Build the settings from ``environ``, filling gaps from the pipeline config."""
    values: dict[str, Any] = {
        name: environ[variable].strip()
        for name, variable in ENVIRONMENT.items()
        if environ.get(variable, "").strip()
    }
    missing = [name for name in _FROM_PIPELINE_CONFIG if name not in values]
    if missing:
        values = _pipeline_defaults() | values
    try:
        return msgspec.convert(values, UiSettings, strict=False)
    except msgspec.ValidationError as err:
        raise UiError(_explain(err)) from err


def _pipeline_defaults() -> dict[str, str]:
    # The same file and defaults `hpp` reads; imported here so a settings-complete
    # environment (a container) never needs the pipeline config at all.
    from pipelines.config import load_pipeline_config
    from pipelines.errors import ConfigError

    try:
        config = load_pipeline_config(None)
    except ConfigError as err:
        raise UiError(f"cannot read the pipeline config: {err}") from err
    return {
        "store_path": str(config.store_path),
        "models_dir": str(config.models_dir),
        "bundle_name": config.bundle.name,
        "registered_model": config.mlflow.registered_model,
    }


def _explain(err: msgspec.ValidationError) -> str:
    match = _ERROR_PATH.search(str(err))
    if match is None:
        return f"invalid dashboard settings: {err}"
    name = match.group(1)
    reason = str(err).split(" - at ")[0]
    return f"invalid ${ENVIRONMENT[name]}: {reason}"
