"""MLflow: log a bundle's run, its ONNX model, register it and move the alias.

The tracking URI comes from the caller (``--tracking-uri`` or ``MLFLOW_TRACKING_URI``),
defaulting to an SQLite file in the working folder: MLflow 3 refuses its plain file
store unless opted in, and SQLite serves tracking, registry and aliases with no server.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from featurestore.schema import CATEGORICAL_INPUTS, NUMERIC_INPUTS
from pipelines.bundle import BUNDLE_FILE, MODEL_FILE, Bundle
from pipelines.errors import TrackingError

__all__ = [
    "RegistryRecord",
    "check_tracking_reachable",
    "default_tracking_uri",
    "log_bundle",
    "resolve_tracking_uri",
    "set_alias",
    "write_registry_record",
]

logger = logging.getLogger(__name__)

REGISTRY_FILE = "mlflow.json"


class RegistryRecord(msgspec.Struct, frozen=True):
    """Where a bundle lives in MLflow; written beside it as ``mlflow.json``."""

    tracking_uri: str
    experiment_id: str
    run_id: str
    registered_model: str
    model_version: str
    alias: str


@dataclass(frozen=True)
class _Target:
    uri: str
    artifact_root: Path | None


def default_tracking_uri(folder: Path | None = None) -> str:
    folder = (folder or Path.cwd()).resolve()
    return f"sqlite:///{folder / 'mlflow.db'}"


def resolve_tracking_uri(flag: str | None) -> str:
    return flag or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def check_tracking_reachable(uri: str, timeout: float = 5.0) -> None:
    """Fail fast when a tracking server is down, instead of after training and retries."""
    if not uri.startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout):
            return
    except (urllib.error.URLError, OSError) as err:
        message = (
            f"MLflow tracking server {uri} is not reachable ({err}); start it, or pass "
            "another --tracking-uri (default: sqlite:///./mlflow.db, no server needed)"
        )
        raise TrackingError(message) from err


def log_bundle(
    bundle_dir: Path,
    bundle: Bundle,
    *,
    tracking_uri: str,
    experiment: str,
    registered_model: str,
    alias: str,
    params: dict[str, Any],
    input_example: dict[str, list[Any]],
    move_alias: bool = True,
) -> RegistryRecord:
    """Log ``bundle_dir`` as one MLflow run, register its model and set ``alias``.

    With ``move_alias=False`` the alias is left where it is, for ``set_alias`` to move
    once the bundle is published: a run stopped in between must not leave the alias on
    a model that was never published.
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    target = _target(tracking_uri)
    mlflow.set_tracking_uri(target.uri)
    try:
        experiment_id = _experiment_id(mlflow, experiment, target.artifact_root)
        with mlflow.start_run(experiment_id=experiment_id, run_name=bundle.version) as run:
            version = _log_run(mlflow, bundle_dir, bundle, params, input_example, registered_model)
            client = mlflow.MlflowClient()
            for key, value in _library_tags(bundle).items():
                client.set_model_version_tag(registered_model, version, key, value)
            if move_alias:
                client.set_registered_model_alias(registered_model, alias, version)
    except MlflowException as err:
        message = f"MLflow at {target.uri} refused the run: {err.message}"
        raise TrackingError(message) from err
    except OSError as err:
        raise TrackingError(f"could not reach MLflow at {target.uri}: {err}") from err
    logger.info(
        "registered %s version %s as @%s (run %s)",
        registered_model,
        version,
        alias,
        run.info.run_id,
    )
    return RegistryRecord(
        target.uri, experiment_id, run.info.run_id, registered_model, str(version), alias
    )


def set_alias(record: RegistryRecord) -> None:
    """Point ``record.alias`` at ``record.model_version`` (the last step of a run)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    uri = _target(record.tracking_uri).uri
    try:
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        client.set_registered_model_alias(
            record.registered_model, record.alias, record.model_version
        )
    except MlflowException as err:
        message = (
            f"MLflow at {uri} refused to move @{record.alias}: {err}; the bundle is published, "
            "so `hpp register` can set the alias once MLflow is back"
        )
        raise TrackingError(message) from err
    except OSError as err:
        message = (
            f"could not reach MLflow at {uri} to move @{record.alias} ({err}); the bundle is "
            "published, so `hpp register` can set the alias once MLflow is back"
        )
        raise TrackingError(message) from err


def write_registry_record(bundle_dir: Path, record: RegistryRecord) -> Path:
    path = bundle_dir / REGISTRY_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_bytes(msgspec.json.format(msgspec.json.encode(record), indent=2) + b"\n")
    os.replace(temporary, path)
    return path


def _target(uri: str) -> _Target:
    # A local store keeps its artifacts beside the database, not in whatever folder
    # the process happens to run from (MLflow's default is ./mlruns of the cwd).
    if uri.startswith("sqlite:///"):
        database = Path(uri.removeprefix("sqlite:///"))
        return _Target(uri, database.parent / "mlartifacts")
    return _Target(uri, None)


def _experiment_id(mlflow: Any, name: str, artifact_root: Path | None) -> str:
    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location = artifact_root.resolve().as_uri() if artifact_root else None
    return str(mlflow.create_experiment(name, artifact_location=location))


def _log_run(
    mlflow: Any,
    bundle_dir: Path,
    bundle: Bundle,
    params: dict[str, Any],
    input_example: dict[str, list[Any]],
    registered_model: str,
) -> str:
    import onnx

    mlflow.log_params(_flatten(params))
    mlflow.log_metrics(_metrics(bundle))
    mlflow.set_tags(
        {
            "bundle.name": bundle.name,
            "bundle.version": bundle.version,
            "data.source": bundle.training_data.source,
            "data.sha256": bundle.training_data.sha256,
            "onnx.sha256": bundle.onnx.sha256,
            **_library_tags(bundle),
        }
    )
    mlflow.log_artifact(str(bundle_dir / BUNDLE_FILE))
    if bundle.online is not None:
        # The market values the graph's extra inputs take, by location: a registry user
        # (and `hpp serve --model models:/...`) needs them beside the model.
        mlflow.log_artifact(str(bundle_dir / bundle.online.file))
    plots = bundle_dir / "plots"
    if plots.is_dir():
        mlflow.log_artifacts(str(plots), artifact_path="plots")
    # MLflow's conda.yaml writer asks pip for its version and warns when pip is missing, as
    # it is from uv environments; the requirements are stated below, so the warning is noise.
    environment_log = logging.getLogger("mlflow.utils.environment")
    level = environment_log.level
    environment_log.setLevel(logging.ERROR)
    try:
        model_info = mlflow.onnx.log_model(
            onnx.load(bundle_dir / MODEL_FILE),
            name="model",
            signature=_signature(_market_inputs(bundle)),
            input_example=_example_frame(input_example, _market_inputs(bundle)),
            registered_model_name=registered_model,
            onnx_execution_providers=["CPUExecutionProvider"],
            # Stated, not inferred: inference loads the model in a subprocess (seconds) and
            # needs pip inside the environment, which uv does not install.
            pip_requirements=_serving_requirements(bundle),
        )
    finally:
        environment_log.setLevel(level)
    return str(model_info.registered_model_version)


def _serving_requirements(bundle: Bundle) -> list[str]:
    libraries = bundle.libraries
    return [
        f"{name}=={libraries[name]}"
        for name in ("onnx", "onnxruntime", "numpy")
        if name in libraries
    ]


def _market_inputs(bundle: Bundle) -> list[str]:
    """The graph's market-feature inputs (after the six raw fields), if it has any."""
    return list(bundle.online.features) if bundle.online is not None else []


def _signature(market: list[str]) -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema, TensorSpec

    inputs: list[ColSpec | TensorSpec] = [ColSpec("float", name) for name in NUMERIC_INPUTS]
    inputs += [ColSpec("string", name) for name in CATEGORICAL_INPUTS]
    inputs += [ColSpec("float", name) for name in market]
    outputs: list[ColSpec | TensorSpec] = [
        ColSpec("float", name) for name in ("price", "price_lower", "price_upper")
    ]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def _example_frame(example: dict[str, list[Any]], market: list[str]) -> Any:
    import numpy as np
    import pandas as pd

    columns: dict[str, Any] = {
        name: np.asarray(example[name], dtype=np.float32) for name in [*NUMERIC_INPUTS, *market]
    }
    columns |= {name: [str(v) for v in example[name]] for name in CATEGORICAL_INPUTS}
    return pd.DataFrame(columns)


def _metrics(bundle: Bundle) -> dict[str, float]:
    metrics = {f"cv_{k}": v for k, v in msgspec.structs.asdict(bundle.metrics.cv).items()}
    if bundle.metrics.holdout is not None:
        holdout = msgspec.structs.asdict(bundle.metrics.holdout)
        metrics |= {f"holdout_{k}": v for k, v in holdout.items()}
    interval = bundle.interval
    metrics |= {
        "interval_level": interval.level,
        "interval_log_halfwidth": interval.log_halfwidth,
        "interval_cv_coverage": interval.cv_coverage,
        "onnx_parity_max_relative_difference": bundle.onnx.parity_max_relative_difference,
        "onnx_size_bytes": bundle.onnx.size_bytes,
    }
    if interval.holdout_coverage is not None:
        metrics["interval_holdout_coverage"] = interval.holdout_coverage
    if interval.holdout_median_width is not None:
        metrics["interval_holdout_median_width"] = interval.holdout_median_width
    return {key: float(value) for key, value in metrics.items()}


def _library_tags(bundle: Bundle) -> dict[str, str]:
    return {f"library.{name}": version for name, version in bundle.libraries.items()}


def _flatten(params: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= _flatten(value, prefix=f"{name}.")
        else:
            flat[name] = str(value)
    return flat
