"""Model locations: a bundle on disk, or ``models:/<name>@<alias>`` in MLflow's registry.

MLflow is not part of the service install (``pip install 'house-price-predictor[serve]'``);
a ``models:/`` location needs it and says how to get it: ``mlflow-skinny`` talks to a
tracking server, a local ``sqlite:///`` store needs the full ``mlflow``. The registered
model holds the ONNX graph (``mlflow.onnx`` flavour, artifact path ``model``) and its run
holds ``bundle.json`` (and, for a model with market inputs, ``online_features.json``); all
are downloaded once, at start-up, into a temporary bundle folder that the usual checks
(``serving.loading``) then verify like any other.
"""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.bundle import BUNDLE_FILE, MODEL_FILE, read_bundle
from serving.errors import ModelLoadError

__all__ = ["REGISTRY_PREFIX", "local_bundle"]

logger = logging.getLogger(__name__)

REGISTRY_PREFIX = "models:/"
_REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")
_INSTALL_HINT = (
    "`pip install mlflow-skinny` for a tracking server (http://...), or `pip install mlflow` "
    "for a sqlite:/// store (it brings pandas and scikit-learn into the service's "
    "environment); or pass the bundle folder instead"
)


@contextlib.contextmanager
def local_bundle(location: str, tracking_uri: str | None = None) -> Iterator[Path]:
    """Yield a folder holding the bundle; a registry download lives until the block ends."""
    if not location.startswith(REGISTRY_PREFIX):
        yield Path(location)
        return
    with tempfile.TemporaryDirectory(prefix="hpp-registry-") as folder:
        yield _download(location, tracking_uri or _default_tracking_uri(), Path(folder))


def _download(location: str, tracking_uri: str, folder: Path) -> Path:
    match = _REGISTRY_URI.match(location)
    if match is None:
        message = (
            f"{location!r} is not a registry location: use models:/<name>@<alias> "
            "(e.g. models:/house-price-predictor@champion) or models:/<name>/<version>"
        )
        raise ModelLoadError(message)
    mlflow = _import_mlflow(location)
    from mlflow.exceptions import MlflowException

    name = match.group("name")
    try:
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        if match.group("alias"):
            version = client.get_model_version_by_alias(name, match.group("alias"))
        else:
            version = client.get_model_version(name, match.group("version"))
        # The version's own artifact URI: a models:/ URI would be resolved against the
        # process-wide default registry, not this client's (measured with MLflow 3.17).
        model_dir = mlflow.artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(name, version.version),
            dst_path=str(folder / "registry-model"),
            tracking_uri=tracking_uri,
        )
        described = mlflow.artifacts.download_artifacts(
            run_id=version.run_id,
            artifact_path=BUNDLE_FILE,
            dst_path=str(folder / "registry-run"),
            tracking_uri=tracking_uri,
        )
        online = _online_file(Path(described))
        if online is not None:
            online = mlflow.artifacts.download_artifacts(
                run_id=version.run_id,
                artifact_path=online,
                dst_path=str(folder / "registry-run"),
                tracking_uri=tracking_uri,
            )
    except MlflowException as err:
        raise ModelLoadError(f"MLflow at {tracking_uri} cannot give {location}: {err}") from err
    except OSError as err:
        raise ModelLoadError(f"could not download {location} from {tracking_uri}: {err}") from err

    bundle_dir = folder / "bundle"
    bundle_dir.mkdir()
    if online is not None:
        shutil.copyfile(online, bundle_dir / Path(online).name)
    graph = Path(model_dir) / MODEL_FILE
    if not graph.is_file():
        message = f"{location} (version {version.version}) has no {MODEL_FILE}: not an ONNX model"
        raise ModelLoadError(message)
    shutil.copyfile(graph, bundle_dir / MODEL_FILE)
    shutil.copyfile(described, bundle_dir / BUNDLE_FILE)
    logger.info("downloaded %s (version %s, run %s)", location, version.version, version.run_id)
    return bundle_dir


def _online_file(described: Path) -> str | None:
    """The bundle's online-values file name, when its ``bundle.json`` lists one."""
    bundle = read_bundle(described.parent)
    return bundle.online.file if bundle.online is not None else None


def _import_mlflow(location: str) -> Any:
    try:
        import mlflow
    except ImportError as err:
        message = f"serving {location} needs MLflow, which the service install leaves out: "
        raise ModelLoadError(message + _INSTALL_HINT) from err
    return mlflow


def _default_tracking_uri() -> str:
    # The same default as `hpp run` (pipelines.tracking), which the service may not import.
    return f"sqlite:///{(Path.cwd() / 'mlflow.db').resolve()}"
