"""Typed configuration for the main job, loaded from YAML and checked once.

Constraints are declared on the structs; code that receives a config trusts it.
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import msgspec

from featurestore._resources import resource_path
from featurestore.store import StoreSettings
from pipelines.errors import ConfigError

__all__ = [
    "MODEL_KINDS",
    "CleaningConfig",
    "ModelConfig",
    "PipelineConfig",
    "load_model_config",
    "load_pipeline_config",
]

MODEL_KINDS = ("xgboost", "random_forest", "hist_gradient_boosting", "ridge")

Share = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Level = Annotated[float, msgspec.Meta(gt=0.5, lt=1.0)]


class PathsConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    data_dir: str = "data"
    models_dir: str = "models"


class IngestConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    max_reject_share: Share = 0.05


class CleaningConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    iqr_multiplier: Annotated[float, msgspec.Meta(gt=0)] = 1.5
    max_sqft: Annotated[float, msgspec.Meta(gt=0)] = 4000.0
    reference_year: Annotated[int, msgspec.Meta(ge=1800, le=2200)] = 2024


class ChecksConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    known_categories: dict[Literal["location", "condition"], list[str]] = {}


class TrainingConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    model: str = "xgboost"
    holdout_fraction: Annotated[float, msgspec.Meta(gt=0.0, lt=0.9)] = 0.15
    cv_folds: Annotated[int, msgspec.Meta(ge=2, le=20)] = 5
    seed: int = 42
    drop_outliers_from_fit: bool = False
    market_features: bool = False
    cv_scheme: Literal["random", "time"] = "random"
    interval_level: Level = 0.9


class BundleConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] = "house-price"


class MlflowConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    experiment: str = "house-price-predictor"
    registered_model: str = "house-price-predictor"
    alias: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")] = "champion"


class PipelineConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    source: Literal["ames", "sample"] = "ames"
    paths: PathsConfig = PathsConfig()
    ingest: IngestConfig = IngestConfig()
    cleaning: CleaningConfig = CleaningConfig()
    training: TrainingConfig = TrainingConfig()
    bundle: BundleConfig = BundleConfig()
    mlflow: MlflowConfig = MlflowConfig()
    checks: ChecksConfig = ChecksConfig()

    @property
    def known_categories(self) -> dict[str, list[str]]:
        return {str(column): values for column, values in self.checks.known_categories.items()}

    def store_settings(self) -> StoreSettings:
        cleaning = self.cleaning
        return StoreSettings(
            iqr_multiplier=cleaning.iqr_multiplier,
            max_sqft=cleaning.max_sqft,
            reference_year=cleaning.reference_year,
        )

    @property
    def data_dir(self) -> Path:
        return Path(self.paths.data_dir)

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "featurestore.duckdb"

    @property
    def models_dir(self) -> Path:
        return Path(self.paths.models_dir)


class ModelConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    kind: Literal["xgboost", "random_forest", "hist_gradient_boosting", "ridge"]
    target: Literal["log", "raw"] = "log"
    params: dict[str, Any] = {}


def load_pipeline_config(path: Path | None) -> PipelineConfig:
    """Load the pipeline config; with no path, ``configs/pipeline.yaml`` if present."""
    if path is None:
        default = Path("configs/pipeline.yaml")
        if not default.is_file():
            return PipelineConfig()
        path = default
    return _decode(path, PipelineConfig)


def load_model_config(name_or_path: str) -> ModelConfig:
    """Load a model config by name (``configs/models/<name>.yaml``) or by file path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = _model_config_path(name_or_path)
    hint = f"kind must be one of {', '.join(MODEL_KINDS)}; target one of log, raw"
    return _decode(path, ModelConfig, hint=hint)


def _model_config_path(name: str) -> Path:
    for folder in (Path("configs/models"), resource_path("configs", "models")):
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in resource_path("configs", "models").glob("*.yaml"))
    message = (
        f"unknown model {name!r}: use one of {', '.join(known)}, "
        "or the path of a model YAML file (kind: one of " + ", ".join(MODEL_KINDS) + ")"
    )
    raise ConfigError(message)


_T = TypeVar("_T")


def _decode(path: Path, kind: type[_T], hint: str = "") -> _T:
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        return msgspec.yaml.decode(path.read_bytes(), type=kind)
    except msgspec.ValidationError as err:
        allowed = _allowed_values(kind, str(err))
        message = f"{path}: {err}" + (f"; allowed: {allowed}" if allowed else "")
        raise ConfigError(message + (f" ({hint})" if hint else "")) from err
    except msgspec.DecodeError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from err


def _allowed_values(kind: type, error: str) -> str:
    """For a refused choice ("Invalid enum value ... at `$.a.b`"), the values it allows."""
    match = re.search(r"Invalid enum value .* at `\$\.([\w.]+)`", error)
    if match is None:
        return ""
    field: Any = kind
    for name in match.group(1).split("."):
        hints = typing.get_type_hints(field, include_extras=True) if isinstance(field, type) else {}
        if name not in hints:
            return ""
        field = hints[name]
        while typing.get_origin(field) is typing.Annotated:
            field = typing.get_args(field)[0]
    if typing.get_origin(field) is not typing.Literal:
        return ""
    return ", ".join(str(value) for value in typing.get_args(field))
