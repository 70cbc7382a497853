"""Model bundles: ``models/<name>/<version>/`` holding ``model.onnx`` and ``bundle.json``.

This module needs only the standard library and msgspec, so the prediction service
can read and verify bundles without the training stack.

A bundle is written into a hidden staging folder and renamed into place in one step;
``models/<name>/latest`` is a symlink swapped atomically afterwards. A run that fails
before the rename leaves the last good bundle and ``latest`` as they were.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import msgspec

from pipelines.errors import BundleError
from pipelines.owners import is_abandoned, owner_tag

__all__ = [
    "BUNDLE_FILE",
    "FORMAT_VERSION",
    "LATEST",
    "MODEL_FILE",
    "Bundle",
    "OnlineSpec",
    "OnlineValues",
    "discard_staging",
    "new_staging_dir",
    "new_version",
    "publish_bundle",
    "read_bundle",
    "read_online_values",
    "resolve_bundle_dir",
    "sha256_file",
    "sweep_abandoned_staging",
    "verify_bundle",
    "write_bundle_json",
]

FORMAT_VERSION = 1
BUNDLE_FILE = "bundle.json"
MODEL_FILE = "model.onnx"
LATEST = "latest"
_STAGING = ".staging-"


class InputSpec(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    type: Literal["float", "string"]
    description: str
    min: float | None = None
    max: float | None = None
    categories: list[str] | None = None


class FeatureSchema(msgspec.Struct, frozen=True):
    inputs: list[InputSpec]
    model_features: list[str]
    reference_year: int
    category_normalisation: str
    graph_normalisation: str


class IntervalSpec(msgspec.Struct, frozen=True):
    level: float
    method: str
    log_halfwidth: float
    calibration_rows: int
    cv_coverage: float
    holdout_coverage: float | None
    holdout_median_width: float | None


class MetricSet(msgspec.Struct, frozen=True):
    rows: int
    rmse_log: float
    mae: float
    mape: float
    r2: float


class MetricsSpec(msgspec.Struct, frozen=True):
    cv: MetricSet
    cv_rmse_log_folds: list[float]
    holdout: MetricSet | None
    cv_scheme: str | None = None
    """How the CV folds were cut, in words (absent from bundles made before it was added)."""


class OnnxSpec(msgspec.Struct, frozen=True):
    file: str
    sha256: str
    size_bytes: int
    opset: dict[str, int]
    inputs: list[str]
    outputs: list[str]
    parity_rows: int
    parity_max_relative_difference: float


class ModelSpec(msgspec.Struct, frozen=True):
    kind: str
    target: str
    params: dict[str, object]


class TrainingData(msgspec.Struct, frozen=True):
    source: str
    rows: int
    fit_rows: int
    holdout_rows: int
    holdout_rule: str
    sha256: str
    sale_date_min: str | None
    sale_date_max: str | None


class OnlineSpec(msgspec.Struct, frozen=True):
    """Market values the service looks up by location (``online_features.json``)."""

    file: str
    sha256: str
    as_of: str
    features: list[str]
    fallback: str


class OnlineValues(msgspec.Struct, frozen=True):
    """Contents of ``online_features.json``: per normalised location, one value per feature."""

    as_of: str
    features: list[str]
    locations: dict[str, list[float]]
    fallback: list[float]


class Bundle(msgspec.Struct, frozen=True):
    format_version: int
    name: str
    version: str
    created_at: str
    model: ModelSpec
    onnx: OnnxSpec
    feature_schema: FeatureSchema
    interval: IntervalSpec
    metrics: MetricsSpec
    training_data: TrainingData
    libraries: dict[str, str]
    online: OnlineSpec | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_version() -> str:
    """A sortable, unique version label: UTC time plus a short random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def new_staging_dir(models_dir: Path, name: str) -> Path:
    """A hidden folder beside the bundles, on the same file system, for an atomic rename.

    Its name records the host and process that own it, so that the next run on the same
    host can sweep the folders of runs that were killed before they could clean up.
    """
    folder = models_dir / name
    if folder.is_dir():
        sweep_abandoned_staging(folder)
    staging = folder / f"{_STAGING}{owner_tag()}-{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    return staging


def sweep_abandoned_staging(folder: Path) -> list[Path]:
    """Remove staging folders left by processes of this host that no longer run.

    A folder of another host (a models directory shared over a volume) or of a live
    process is left alone.
    """
    removed = []
    for staging in folder.glob(f"{_STAGING}*"):
        if not is_abandoned(staging.name.removeprefix(_STAGING).rpartition("-")[0]):
            continue
        shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging)
    return removed


def discard_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def write_bundle_json(directory: Path, bundle: Bundle) -> Path:
    path = directory / BUNDLE_FILE
    path.write_bytes(msgspec.json.format(msgspec.json.encode(bundle), indent=2) + b"\n")
    return path


def publish_bundle(staging: Path, version: str) -> Path:
    """Rename ``staging`` to its version folder and point ``latest`` at it."""
    verify_bundle(staging)
    target = staging.parent / version
    if target.exists():
        raise BundleError(f"bundle {target} already exists; refusing to overwrite it")
    os.replace(staging, target)
    link = staging.parent / LATEST
    temporary = staging.parent / f".{LATEST}-{uuid.uuid4().hex}"
    temporary.symlink_to(version, target_is_directory=True)
    os.replace(temporary, link)
    return target


def resolve_bundle_dir(location: Path) -> Path:
    """Accept a bundle folder, ``models/<name>`` (its latest) or ``models/<name>/latest``."""
    if (location / BUNDLE_FILE).is_file():
        return location.resolve()
    if (location / LATEST / BUNDLE_FILE).is_file():
        return (location / LATEST).resolve()
    message = (
        f"no model bundle at {location}: expected {location / BUNDLE_FILE} or "
        f"{location / LATEST / BUNDLE_FILE}. Train one with `hpp run` (or `hpp train`)."
    )
    raise BundleError(message)


def read_bundle(directory: Path) -> Bundle:
    path = directory / BUNDLE_FILE
    try:
        return msgspec.json.decode(path.read_bytes(), type=Bundle)
    except FileNotFoundError as err:
        raise BundleError(f"{path} is missing") from err
    except msgspec.DecodeError as err:
        raise BundleError(f"{path} is not a valid bundle description: {err}") from err


def verify_bundle(location: Path) -> Bundle:
    """Read a bundle and check its files: ``model.onnx`` and ``online_features.json``
    against their recorded SHA-256, and the online values against ``bundle.json``
    (see ``read_online_values``)."""
    directory = resolve_bundle_dir(location)
    bundle = read_bundle(directory)
    if bundle.format_version != FORMAT_VERSION:
        message = (
            f"{directory}: bundle format {bundle.format_version} is not supported "
            f"(this code reads format {FORMAT_VERSION})"
        )
        raise BundleError(message)
    model = directory / bundle.onnx.file
    _check_sha256(model, bundle.onnx.sha256)
    if bundle.online is not None:
        _check_sha256(directory / bundle.online.file, bundle.online.sha256)
        read_online_values(directory, bundle)
    return bundle


def read_online_values(directory: Path, bundle: Bundle) -> OnlineValues | None:
    """The bundle's online market values, or None when the model uses none.

    The values must fit ``bundle.json``: the same features in the same order and the
    same as-of date, one number per feature in every row (the fallback's too), and one
    row for each location the model knows, no more. A checksum alone cannot tell: it
    holds for a file edited on purpose, or written by a faulty run.
    """
    if bundle.online is None:
        return None
    path = directory / bundle.online.file
    try:
        # msgspec refuses a number that overflows a float (1e999), and JSON has no NaN,
        # so every value decoded here is finite.
        values = msgspec.json.decode(path.read_bytes(), type=OnlineValues)
    except (OSError, msgspec.DecodeError) as err:
        raise BundleError(f"{path} is not a valid online feature file: {err}") from err

    problems = _online_problems(values, bundle.online, _known_locations(bundle))
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        message = (
            f"{path}: {problems[0]}{more}; the file does not fit {BUNDLE_FILE}. "
            "Rebuild the bundle with `hpp run`."
        )
        raise BundleError(message)
    return values


def _online_problems(values: OnlineValues, spec: OnlineSpec, known: list[str]) -> list[str]:
    problems = []
    if values.features != spec.features:
        problems.append(
            f"features are {values.features}, "
            f"but {BUNDLE_FILE}'s online.features are {spec.features}"
        )
    if values.as_of != spec.as_of:
        problems.append(
            f"as_of is {values.as_of!r}, but {BUNDLE_FILE}'s online.as_of is {spec.as_of!r}"
        )
    rows = [("fallback", values.fallback)]
    rows += [(f"location {name!r}", row) for name, row in values.locations.items()]
    problems += [
        f"{label} has {len(row)} values, expected {len(spec.features)} (one per feature)"
        for label, row in rows
        if len(row) != len(spec.features)
    ]
    known_set = set(known)
    problems += [
        f"location {name!r} is not one the model knows (not among {BUNDLE_FILE}'s categories)"
        for name in values.locations
        if name not in known_set
    ]
    problems += [
        f"known location {name!r} has no row (it would be priced on the fallback)"
        for name in known
        if name not in values.locations
    ]
    return problems


def _known_locations(bundle: Bundle) -> list[str]:
    specs = [spec for spec in bundle.feature_schema.inputs if spec.name == "location"]
    return list(specs[0].categories or []) if specs else []


def _check_sha256(path: Path, expected: str) -> None:
    if not path.is_file():
        raise BundleError(f"{path} is missing")
    actual = sha256_file(path)
    if actual != expected:
        message = (
            f"{path} does not match its checksum in {BUNDLE_FILE} "
            f"(expected {expected[:12]}…, found {actual[:12]}…): "
            "the file is damaged or was replaced. Rebuild it with `hpp run`."
        )
        raise BundleError(message)
