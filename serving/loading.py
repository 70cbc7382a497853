"""Load a model bundle for serving: verify it, open one onnxruntime session, cross-check.

Nothing here unpickles anything: the bundle is ``bundle.json`` (msgspec) plus an ONNX
graph, so a library upgrade on the training side cannot break serving.

Checks, in order, each failing with :class:`ModelLoadError`:

1. ``bundle.json`` parses and ``model.onnx`` matches its recorded SHA-256
   (``pipelines.bundle.verify_bundle``);
2. onnxruntime accepts the graph;
3. the graph's inputs and outputs are the ones the service feeds and reads;
4. the graph's own metadata (bundle name, version, reference year, written at export)
   agrees with ``bundle.json``, so an edited description cannot pass for the model.

A bundle trained with market features (``training.market_features``) also carries
``online_features.json``: market values per location, checked against its SHA-256 and
against ``bundle.json`` (features, date, one number per feature in every row, the
model's locations; ``pipelines.bundle.read_online_values``), and fed to the graph's
extra inputs by the predictor.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from featurestore.schema import CATEGORICAL_INPUTS, MODEL_INPUTS, NUMERIC_INPUTS
from pipelines.bundle import (
    Bundle,
    OnlineValues,
    read_online_values,
    resolve_bundle_dir,
    verify_bundle,
)
from pipelines.errors import BundleError
from serving.errors import ModelLoadError

__all__ = ["OUTPUTS", "LoadedModel", "load_model"]

logger = logging.getLogger(__name__)

OUTPUTS = ("price", "price_lower", "price_upper")

_INPUT_TYPES = {name: "tensor(float)" for name in NUMERIC_INPUTS} | {
    name: "tensor(string)" for name in CATEGORICAL_INPUTS
}


@dataclass(frozen=True)
class LoadedModel:
    """A verified bundle and the one onnxruntime session that runs it."""

    bundle: Bundle
    directory: Path
    session: Any  # onnxruntime.InferenceSession; onnxruntime ships no type stubs
    online: OnlineValues | None = None
    """Market values by location, for a bundle trained with market features."""


def load_model(location: Path, *, ort_threads: int = 1) -> LoadedModel:
    """Verify the bundle at ``location`` and open its graph; raise ``ModelLoadError``."""
    started = time.perf_counter()
    try:
        directory = resolve_bundle_dir(location)
        bundle = verify_bundle(directory)
        online = read_online_values(directory, bundle)
    except BundleError as err:
        raise ModelLoadError(str(err)) from err

    session = _open_session(directory / bundle.onnx.file, ort_threads)
    _check_signature(session, bundle, directory, online)
    _check_metadata(session, bundle, directory)
    logger.info(
        "loaded %s %s from %s in %.2fs",
        bundle.name,
        bundle.version,
        directory,
        time.perf_counter() - started,
    )
    return LoadedModel(bundle=bundle, directory=directory, session=session, online=online)


def _open_session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle threads spinning for work would take CPU from the HTTP workers on a small
    # machine; the single-row latency this costs is below measurement noise (bench/).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # onnxruntime raises its own untyped Fail/InvalidGraph errors
        message = f"onnxruntime cannot load {path}: {err}. Rebuild the bundle with `hpp run`."
        raise ModelLoadError(message) from err


def _check_signature(
    session: Any, bundle: Bundle, directory: Path, online: OnlineValues | None
) -> None:
    declared = [spec.name for spec in bundle.feature_schema.inputs]
    inputs = {node.name: node.type for node in session.get_inputs()}
    outputs = {node.name for node in session.get_outputs()}
    market = online.features if online is not None else []
    expected = _INPUT_TYPES | {name: "tensor(float)" for name in market}
    problems = []
    if sorted(declared) != sorted(MODEL_INPUTS):
        problems.append(f"bundle.json declares inputs {declared}, expected {list(MODEL_INPUTS)}")
    if inputs != expected:
        problems.append(f"the graph takes {inputs}, expected {expected}")
    if missing := [name for name in OUTPUTS if name not in outputs]:
        problems.append(f"the graph lacks outputs {missing}")
    if problems:
        message = (
            f"{directory} is not a bundle this service can serve: {'; '.join(problems)}. "
            "Rebuild it with this version's `hpp run`."
        )
        raise ModelLoadError(message)


def _check_metadata(session: Any, bundle: Bundle, directory: Path) -> None:
    recorded = session.get_modelmeta().custom_metadata_map
    described = {
        "bundle.name": bundle.name,
        "bundle.version": bundle.version,
        "reference_year": str(bundle.feature_schema.reference_year),
    }
    differing = [
        f"{key} is {value!r} in bundle.json but {recorded.get(key)!r} in the graph"
        for key, value in described.items()
        if recorded.get(key) != value
    ]
    if differing:
        message = (
            f"{directory / 'bundle.json'} does not describe its model.onnx "
            f"({'; '.join(differing)}): the file was edited or mixed up. "
            "Restore the bundle or rebuild it with `hpp run`."
        )
        raise ModelLoadError(message)
