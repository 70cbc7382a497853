"""What MLflow knows about the model: the bundle's run and the registered versions.

Read-only. MLflow is optional for the dashboard (it comes with the ``pipeline`` extra),
so it is imported here only when a page asks, and its absence says how to install it.
An SQLite tracking URI that names no existing file is refused rather than opened,
because opening it would create an empty tracking database as a side effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from pipelines.tracking import REGISTRY_FILE, RegistryRecord
from ui.errors import UiError

__all__ = [
    "RegistryRecord",
    "RunSummary",
    "VersionSummary",
    "read_registry_record",
    "read_run",
    "read_versions",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    name: str | None
    status: str
    started: str
    metrics: dict[str, float]
    params: dict[str, str]
    tags: dict[str, str]


@dataclass(frozen=True)
class VersionSummary:
    version: str
    aliases: tuple[str, ...]
    run_id: str | None
    created: str
    status: str
    bundle_version: str | None


def read_registry_record(bundle_dir: Path) -> RegistryRecord | None:
    path = bundle_dir / REGISTRY_FILE
    if not path.is_file():
        return None
    try:
        return msgspec.json.decode(path.read_bytes(), type=RegistryRecord)
    except msgspec.DecodeError as err:
        message = f"{path} is not a registry record as `hpp register` writes it: {err}"
        raise UiError(message) from err


def read_run(tracking_uri: str, run_id: str) -> RunSummary:
    client = _client(tracking_uri)
    run = _call(tracking_uri, partial(client.get_run, run_id))
    return RunSummary(
        run_id=run.info.run_id,
        name=run.info.run_name,
        status=run.info.status,
        started=_time(run.info.start_time),
        metrics=dict(run.data.metrics),
        params=dict(run.data.params),
        tags={k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
    )


def read_versions(tracking_uri: str, registered_model: str) -> list[VersionSummary]:
    """Every version of ``registered_model``, newest first, with its aliases."""
    client = _client(tracking_uri)
    quoted = registered_model.replace("'", "\\'")
    versions = _call(tracking_uri, partial(client.search_model_versions, f"name = '{quoted}'"))
    # search_model_versions leaves `aliases` empty (MLflow 3.x); the registered model has them.
    model = _call(tracking_uri, partial(client.get_registered_model, registered_model))
    aliases_of: dict[str, list[str]] = {}
    for alias, number in (model.aliases or {}).items():
        aliases_of.setdefault(str(number), []).append(alias)
    bundle_of_run: dict[str, str | None] = {}
    summaries = []
    for version in versions:
        run_id = version.run_id
        if run_id and run_id not in bundle_of_run:
            run = _call(tracking_uri, partial(client.get_run, run_id))
            bundle_of_run[run_id] = run.data.tags.get("bundle.version")
        summaries.append(
            VersionSummary(
                version=str(version.version),
                aliases=tuple(sorted(aliases_of.get(str(version.version), []))),
                run_id=run_id,
                created=_time(version.creation_timestamp),
                status=str(version.status),
                bundle_version=bundle_of_run.get(run_id) if run_id else None,
            )
        )
    return sorted(summaries, key=_version_number, reverse=True)


def _version_number(summary: VersionSummary) -> int:
    return int(summary.version) if summary.version.isdigit() else 0


def _client(tracking_uri: str) -> Any:
    if tracking_uri.startswith("sqlite:///"):
        database = Path(tracking_uri.removeprefix("sqlite:///"))
        if not database.is_file():
            message = (
                f"no MLflow database at {database} (tracking URI {tracking_uri}); "
                "`hpp run` creates it, or set MLFLOW_TRACKING_URI to your tracking server"
            )
            raise UiError(message)
    try:
        from mlflow import MlflowClient
    except ImportError as err:
        message = (
            "reading MLflow needs the mlflow package: "
            "`uv sync --extra pipeline` (or `pip install 'house-price-predictor[pipeline]'`)"
        )
        raise UiError(message) from err
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def _call(tracking_uri: str, request: Callable[[], Any]) -> Any:
    from mlflow.exceptions import MlflowException

    try:
        return request()
    except MlflowException as err:
        raise UiError(f"MLflow at {tracking_uri}: {err.message}") from err
    except OSError as err:
        raise UiError(f"could not reach MLflow at {tracking_uri}: {err}") from err


def _time(milliseconds: int | None) -> str:
    if milliseconds is None:
        return ""
    return datetime.fromtimestamp(milliseconds / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
