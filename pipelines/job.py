"""The main job's steps: ingest -> build views -> train and export -> register -> publish.

Each step is a function the CLI also exposes as a command of its own. ``run_job``
chains them; a bundle is published (renamed into place, ``latest`` moved) only after
every earlier step, MLflow registration included, has succeeded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import msgspec
import polars as pl

from featurestore import (
    CATEGORICAL_INPUTS,
    CATEGORY_NORMALISATION_RULE,
    NUMERIC_INPUTS,
    IngestReport,
    RawSource,
    build_store,
    ingest,
    query,
)
from featurestore.checks import CheckResult, raise_for_failures, run_checks
from featurestore.ingestion import read_manifest
from featurestore.online import market_features_without, market_snapshot
from pipelines import bundle as bundles
from pipelines.config import ModelConfig, PipelineConfig
from pipelines.errors import PipelineError
from pipelines.export import (
    OUTPUTS,
    TARGET_OPSET,
    ParityReport,
    check_parity,
    export_onnx,
    graph_inputs,
)
from pipelines.features import MARKET_FEATURES
from pipelines.owners import is_abandoned, owner_tag
from pipelines.plots import write_diagnostic_plots
from pipelines.tracking import (
    RegistryRecord,
    check_tracking_reachable,
    log_bundle,
    set_alias,
    write_registry_record,
)
from pipelines.training import (
    MIN_ROWS,
    MarketWithout,
    TrainingResult,
    describe_cv,
    observed_ranges,
    train,
)

__all__ = [
    "JobSummary",
    "StagedBundle",
    "build_step",
    "check_step",
    "ingest_step",
    "market_recomputer",
    "publish_step",
    "register_step",
    "run_job",
    "train_step",
    "training_frame",
]

logger = logging.getLogger(__name__)

# The lake and store as they were before a run, kept until the run has finished.
_BACKUP = ".before-run-"

_LIBRARIES = (
    "duckdb",
    "polars",
    "pyarrow",
    "numpy",
    "scikit-learn",
    "xgboost-cpu",
    "onnx",
    "skl2onnx",
    "onnxmltools",
    "onnxruntime",
    "mlflow",
    "msgspec",
)
_INPUT_DESCRIPTIONS = {
    "sqft": "Above-grade living area, square feet",
    "bedrooms": "Bedrooms above grade",
    "bathrooms": "Full bathrooms plus 0.5 per half bathroom",
    "year_built": "Year of original construction",
    "location": "Neighbourhood or area",
    "condition": "Overall condition",
}

StepDisplay = Callable[[str], AbstractContextManager[object]]


@dataclass
class StagedBundle:
    """A complete bundle in its staging folder, verified but not yet published."""

    directory: Path
    bundle: bundles.Bundle
    result: TrainingResult
    parity: ParityReport
    input_example: dict[str, list[Any]]


@dataclass
class JobSummary:
    ingest: IngestReport
    views: list[str]
    bundle: bundles.Bundle
    bundle_dir: Path
    registry: RegistryRecord
    seconds: float


def ingest_step(config: PipelineConfig, source: RawSource) -> IngestReport:
    return ingest(source, config.lake_dir, max_reject_share=config.ingest.max_reject_share)


def build_step(config: PipelineConfig) -> list[str]:
    return build_store(config.store_path, config.lake_dir, config.store_settings())


def check_step(config: PipelineConfig) -> list[CheckResult]:
    """Run the data checks; raise with a readable report when any fails."""
    results = run_checks(config.store_path, known_categories=config.known_categories)
    raise_for_failures(results)
    return results


def train_step(config: PipelineConfig, model: ModelConfig) -> StagedBundle:
    """Train, export with parity check and write a staged bundle; publish nothing."""
    frame = training_frame(config)
    result = train(frame, model, config.training, market_recomputer(config))
    version = bundles.new_version()
    onnx_model = export_onnx(
        result.estimator,
        result.encoder,
        target=model.target,
        reference_year=result.reference_year,
        log_halfwidth=result.interval.log_halfwidth,
        metadata={
            "bundle.name": config.bundle.name,
            "bundle.version": version,
            "reference_year": str(result.reference_year),
        },
    )
    model_bytes = onnx_model.SerializeToString()
    parity_frame = result.holdout_frame if result.holdout_frame.height else result.train_frame
    parity_inputs = {
        name: parity_frame.get_column(name).to_list() for name in graph_inputs(result.encoder)
    }
    parity = check_parity(
        model_bytes,
        result.estimator,
        result.encoder,
        parity_inputs,
        target=model.target,
        reference_year=result.reference_year,
    )

    staging = bundles.new_staging_dir(config.models_dir, config.bundle.name)
    try:
        (staging / bundles.MODEL_FILE).write_bytes(model_bytes)
        _write_plots(result, staging / "plots")
        online = _write_online_values(config, result, staging)
        described = _describe(config, model, result, parity, version, staging, online)
        bundles.write_bundle_json(staging, described)
        bundles.verify_bundle(staging)
    except BaseException:
        bundles.discard_staging(staging)
        raise
    example = {name: values[:3] for name, values in parity_inputs.items()}
    return StagedBundle(staging, described, result, parity, example)


def market_recomputer(config: PipelineConfig) -> MarketWithout:
    """Market features of the store's sales with some prices hidden (per-fold CV)."""

    def market_without(hidden: Sequence[str]) -> pl.DataFrame:
        return market_features_without(config.store_path, hidden, MARKET_FEATURES)

    return market_without


def training_frame(config: PipelineConfig) -> pl.DataFrame:
    """Rows of the features view, joined with their market features when configured."""
    sql = "SELECT * FROM features"
    if config.training.market_features:
        columns = ", ".join(f"m.{name}" for name in MARKET_FEATURES)
        sql = f"SELECT f.*, {columns} FROM features AS f JOIN market_features AS m USING (house_id)"
    frame = pl.from_arrow(query(config.store_path, sql))
    assert isinstance(frame, pl.DataFrame)
    if not config.training.market_features:
        return frame
    undated = frame.get_column("sale_date").null_count()
    if undated:
        which = "has none" if undated == frame.height else f"has {undated} rows without one"
        message = (
            f"training.market_features needs a sale date on every row, and this data {which} "
            "(the sample has no dates): set training.market_features: false"
        )
        raise PipelineError(message)
    # The first month of data has no earlier sale to describe its market.
    usable = frame.filter(pl.col("market_ppsf_12m").is_not_null())
    logger.info(
        "market features: %d rows without an earlier month left out", frame.height - usable.height
    )
    if usable.height < MIN_ROWS:
        message = (
            f"market features leave out the first month of data (it has no earlier market): "
            f"{usable.height} of {frame.height} rows remain, and training needs {MIN_ROWS}; "
            "add earlier sales or set training.market_features: false"
        )
        raise PipelineError(message)
    return usable


def register_step(
    config: PipelineConfig,
    bundle_dir: Path,
    tracking_uri: str,
    input_example: dict[str, list[Any]] | None = None,
    *,
    move_alias: bool = True,
) -> RegistryRecord:
    """Log the bundle in ``bundle_dir`` to MLflow, register it and set the alias."""
    bundle_dir = bundles.resolve_bundle_dir(bundle_dir)
    described = bundles.verify_bundle(bundle_dir)
    example = input_example or _example_from_schema(described)
    record = log_bundle(
        bundle_dir,
        described,
        tracking_uri=tracking_uri,
        experiment=config.mlflow.experiment,
        registered_model=config.mlflow.registered_model,
        alias=config.mlflow.alias,
        params=_run_params(config, described),
        input_example=example,
        move_alias=move_alias,
    )
    write_registry_record(bundle_dir, record)
    return record


def run_job(
    config: PipelineConfig,
    source: RawSource,
    model: ModelConfig,
    *,
    tracking_uri: str,
    display: StepDisplay | None = None,
) -> JobSummary:
    """The main job, end to end. Raises on the first failing step; publishes last."""
    started = time.perf_counter()
    step = display or _silent
    check_tracking_reachable(tracking_uri)  # before any work, not after training
    with _restored_on_failure(config.lake_dir, config.store_path):
        with step("ingest"):
            report = ingest_step(config, source)
        with step("build views"):
            views = build_step(config)
        with step("data checks"):
            check_step(config)
        with step("train, export, check parity"):
            staged = train_step(config, model)
        try:
            with step("register in MLflow"):
                record = register_step(
                    config, staged.directory, tracking_uri, staged.input_example, move_alias=False
                )
            with step("publish bundle"):
                published = bundles.publish_bundle(staged.directory, staged.bundle.version)
        except BaseException:
            bundles.discard_staging(staged.directory)
            raise
    # Last, once the bundle is in place: a run stopped before this leaves the alias on the
    # last published model. (Stopped just before it: `latest` is new, the alias still old.)
    with step(f"move @{record.alias}"):
        set_alias(record)
    return JobSummary(
        report, views, staged.bundle, published, record, time.perf_counter() - started
    )


@contextlib.contextmanager
def _restored_on_failure(lake_dir: Path, store_path: Path) -> Iterator[None]:
    """Put the lake's files and the store back as they were if any later step fails.

    Ingest replaces the lake's files by rename, so hard links taken beforehand keep the
    old contents at no cost. The store holds only views and small settings tables and is
    changed in place, so it is copied. A failed check, training or registration restores
    both, and the store reads the last good data with the last good settings again. A run
    killed outright (SIGKILL, power loss) cannot restore anything; the next run does it
    from the backup the killed one left (see ``_recover_killed_runs``).
    """
    folder = lake_dir.parent
    _recover_killed_runs(folder, lake_dir, store_path)
    backup = folder / f"{_BACKUP}{owner_tag()}"
    shutil.rmtree(backup, ignore_errors=True)
    (backup / "lake").mkdir(parents=True)
    previous = [path for path in lake_dir.glob("*") if path.is_file()] if lake_dir.is_dir() else []
    for path in previous:
        os.link(path, backup / "lake" / path.name)
    if store_path.is_file():
        shutil.copy2(store_path, backup / store_path.name)
    try:
        yield
    except BaseException:
        _restore(backup, lake_dir, store_path)
        logger.info("run failed: restored the previous lake and store in %s", folder)
        raise
    finally:
        shutil.rmtree(backup, ignore_errors=True)


def _restore(backup: Path, lake_dir: Path, store_path: Path) -> None:
    """Make the lake and the store what ``backup`` saved (nothing, if it saved nothing)."""
    saved = {path.name for path in (backup / "lake").iterdir()}
    if lake_dir.is_dir():
        for path in lake_dir.iterdir():
            if path.is_file() and path.name not in saved:
                path.unlink()  # written by the failed run where there was nothing before
    for name in saved:
        os.replace(backup / "lake" / name, lake_dir / name)
    if (backup / store_path.name).is_file():
        os.replace(backup / store_path.name, store_path)
    elif store_path.is_file():
        store_path.unlink()


def _recover_killed_runs(folder: Path, lake_dir: Path, store_path: Path) -> None:
    """Restore the lake and store from the backup of a run on this host that was killed."""
    for backup in sorted(folder.glob(f"{_BACKUP}*")):
        if not is_abandoned(backup.name.removeprefix(_BACKUP)) or not (backup / "lake").is_dir():
            continue
        _restore(backup, lake_dir, store_path)
        shutil.rmtree(backup, ignore_errors=True)
        logger.warning(
            "a run killed before it could clean up had changed %s; restored the lake and "
            "store it had saved",
            folder,
        )


def publish_step(staged: StagedBundle) -> Path:
    return bundles.publish_bundle(staged.directory, staged.bundle.version)


@contextlib.contextmanager
def _silent(name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    logger.info("step %s done in %.2fs", name, time.perf_counter() - started)


def _write_plots(result: TrainingResult, directory: Path) -> None:
    if result.holdout_frame.height:
        y_true = result.holdout_frame.get_column("price").to_numpy()
        write_diagnostic_plots(y_true, result.holdout_predictions, directory, label="holdout")


def _describe(
    config: PipelineConfig,
    model: ModelConfig,
    result: TrainingResult,
    parity: ParityReport,
    version: str,
    staging: Path,
    online: bundles.OnlineSpec | None,
) -> bundles.Bundle:
    frame = pl.concat([result.train_frame, result.holdout_frame])
    ranges = observed_ranges(result.train_frame)
    inputs = [
        bundles.InputSpec(name, "float", _INPUT_DESCRIPTIONS[name], *ranges[name])
        for name in NUMERIC_INPUTS
    ] + [
        bundles.InputSpec(
            name, "string", _INPUT_DESCRIPTIONS[name], categories=result.encoder.categories_[name]
        )
        for name in CATEGORICAL_INPUTS
    ]
    dates = frame.get_column("sale_date").drop_nulls()
    model_path = staging / bundles.MODEL_FILE
    cv, holdout = result.cv, result.holdout
    return bundles.Bundle(
        format_version=bundles.FORMAT_VERSION,
        name=config.bundle.name,
        version=version,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        model=bundles.ModelSpec(model.kind, model.target, dict(model.params)),
        onnx=bundles.OnnxSpec(
            file=bundles.MODEL_FILE,
            sha256=bundles.sha256_file(model_path),
            size_bytes=model_path.stat().st_size,
            opset=dict(TARGET_OPSET),
            inputs=graph_inputs(result.encoder),
            outputs=list(OUTPUTS),
            parity_rows=parity.rows,
            parity_max_relative_difference=parity.max_relative_difference,
        ),
        feature_schema=bundles.FeatureSchema(
            inputs=inputs,
            model_features=result.encoder.feature_names,
            reference_year=result.reference_year,
            category_normalisation=CATEGORY_NORMALISATION_RULE,
            graph_normalisation="lowercase (ASCII) only: trim before calling the graph",
        ),
        interval=bundles.IntervalSpec(
            level=result.interval.level,
            method="split conformal on out-of-fold |log residuals|: price * exp(+-log_halfwidth)",
            log_halfwidth=result.interval.log_halfwidth,
            calibration_rows=result.interval.calibration_rows,
            cv_coverage=result.interval.cv_coverage,
            holdout_coverage=result.interval.holdout_coverage,
            holdout_median_width=result.interval.holdout_median_width,
        ),
        metrics=bundles.MetricsSpec(
            cv=bundles.MetricSet(cv.rows, cv.rmse_log, cv.mae, cv.mape, cv.r2),
            cv_rmse_log_folds=result.cv_rmse_log_folds,
            holdout=bundles.MetricSet(
                holdout.rows, holdout.rmse_log, holdout.mae, holdout.mape, holdout.r2
            )
            if holdout
            else None,
            cv_scheme=describe_cv(config.training),
        ),
        training_data=bundles.TrainingData(
            source=str(read_manifest(config.lake_dir).get("source", "unknown")),
            rows=frame.height,
            fit_rows=result.fit_rows,
            holdout_rows=result.holdout_frame.height,
            holdout_rule=result.holdout_rule,
            sha256=result.fingerprint,
            sale_date_min=str(dates.min()) if len(dates) else None,
            sale_date_max=str(dates.max()) if len(dates) else None,
        ),
        libraries=_library_versions(),
        online=online,
    )


def _write_online_values(
    config: PipelineConfig, result: TrainingResult, staging: Path
) -> bundles.OnlineSpec | None:
    """Market values per location as of the day after the last sale, for the service."""
    if not result.encoder.market_features_:
        return None
    frame = pl.concat([result.train_frame, result.holdout_frame])
    last_sale = frame.get_column("sale_date").max()
    assert isinstance(last_sale, dt.date)
    as_of = last_sale + dt.timedelta(days=1)
    names = list(result.encoder.market_features_)
    locations = result.encoder.categories_["location"]
    snapshot = market_snapshot(config.store_path, as_of, locations, names)
    rows = [*snapshot.locations.values(), snapshot.fallback]
    if any(value is None for row in rows for value in row):
        raise PipelineError(f"market features as of {as_of} are incomplete: {snapshot}")
    online = bundles.OnlineValues(
        as_of=as_of.isoformat(),
        features=names,
        locations={
            location: [float(v) for v in row if v is not None]
            for location, row in snapshot.locations.items()
        },
        fallback=[float(v) for v in snapshot.fallback if v is not None],
    )
    path = staging / "online_features.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(online), indent=2) + b"\n")
    return bundles.OnlineSpec(
        file=path.name,
        sha256=bundles.sha256_file(path),
        as_of=online.as_of,
        features=names,
        fallback="a location with no earlier sales, or unknown to the model, takes the "
        "whole market's values (`fallback`)",
    )


def _library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def _run_params(config: PipelineConfig, described: bundles.Bundle) -> dict[str, Any]:
    return {
        "model": {
            "kind": described.model.kind,
            "target": described.model.target,
            **described.model.params,
        },
        "training": msgspec.structs.asdict(config.training),
        "cleaning": msgspec.structs.asdict(config.cleaning),
        "data": {
            "source": described.training_data.source,
            "rows": described.training_data.rows,
            "holdout_rule": described.training_data.holdout_rule,
        },
        "reference_year": described.feature_schema.reference_year,
    }


def _example_from_schema(described: bundles.Bundle) -> dict[str, list[Any]]:
    example: dict[str, list[Any]] = {}
    for spec in described.feature_schema.inputs:
        if spec.type == "float":
            example[spec.name] = [spec.min, spec.max]
        else:
            categories = spec.categories or [""]
            example[spec.name] = [categories[0], categories[-1]]
    return example
