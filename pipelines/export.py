"""ONNX export: the six raw inputs in, price and interval out, in one graph.

The graph has three parts joined by name:

1. preprocessing built here with ``onnx.helper``: lowercase the categories, derive
   house age, bed/bath ratio and area per bedroom, one-hot encode densely;
2. the estimator converted by skl2onnx (XGBoost through onnxmltools' converter);
3. post-processing: back from log scale to dollars, and the conformal interval.

``check_parity`` compares the graph with the native model on real rows and raises
when they disagree by more than ``PARITY_TOLERANCE`` (relative).
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from featurestore.schema import CATEGORICAL_INPUTS, NUMERIC_INPUTS
from pipelines.errors import ExportError
from pipelines.features import FeatureEncoder

__all__ = [
    "OUTPUTS",
    "PARITY_TOLERANCE",
    "ParityReport",
    "check_parity",
    "export_onnx",
    "graph_inputs",
    "run_onnx",
]

logger = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-4
OUTPUTS = ("price", "price_lower", "price_upper")
# ai.onnx.ml needs an explicit opset with current skl2onnx/onnxmltools (MISSION.md).
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
_MODEL_PREFIX = "model_"


@dataclass(frozen=True)
class ParityReport:
    rows: int
    max_relative_difference: float
    tolerance: float = PARITY_TOLERANCE


def export_onnx(
    estimator: Any,
    encoder: FeatureEncoder,
    *,
    target: str,
    reference_year: int,
    log_halfwidth: float,
    metadata: dict[str, str] | None = None,
) -> onnx.ModelProto:
    """Return one ONNX graph computing price and interval from the six raw inputs."""
    core = _convert_estimator(estimator, len(encoder.feature_names))
    core = onnx.compose.add_prefix(core, prefix=_MODEL_PREFIX)
    features = _MODEL_PREFIX + core.graph.input[0].name.removeprefix(_MODEL_PREFIX)
    prediction = core.graph.output[0].name

    pre_nodes, pre_init = _preprocessing(encoder, reference_year, features)
    post_nodes, post_init = _postprocessing(prediction, target, log_halfwidth)

    graph = helper.make_graph(
        [*pre_nodes, *core.graph.node, *post_nodes],
        "house_price",
        inputs=[
            _input(name, TensorProto.FLOAT)
            for name in graph_inputs(encoder)
            if name not in CATEGORICAL_INPUTS
        ]
        + [_input(name, TensorProto.STRING) for name in CATEGORICAL_INPUTS],
        outputs=[helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N"]) for n in OUTPUTS],
        initializer=[*pre_init, *core.graph.initializer, *post_init],
    )
    ml_version = max((o.version for o in core.opset_import if o.domain == "ai.onnx.ml"), default=1)
    model = helper.make_model(
        graph,
        opset_imports=[
            helper.make_opsetid("", TARGET_OPSET[""]),
            helper.make_opsetid("ai.onnx.ml", ml_version),
        ],
        producer_name="house-price-predictor",
        doc_string="House price in dollars with a conformal interval, from six raw inputs.",
    )
    model.ir_version = core.ir_version
    for key, value in (metadata or {}).items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as err:
        raise ExportError(f"the exported ONNX graph is invalid: {err}") from err
    return model


def graph_inputs(encoder: FeatureEncoder) -> list[str]:
    """The graph's input names: the six raw fields, then any market features."""
    return [*NUMERIC_INPUTS, *CATEGORICAL_INPUTS, *encoder.market_features_]


def run_onnx(model_bytes: bytes, inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Run the graph with onnxruntime on column-wise inputs."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    feeds = {
        item.name: np.asarray(
            inputs[item.name], dtype=object if item.type == "tensor(string)" else np.float32
        )
        for item in session.get_inputs()
    }
    return dict(zip(OUTPUTS, session.run(list(OUTPUTS), feeds), strict=True))


def check_parity(
    model_bytes: bytes,
    estimator: Any,
    encoder: FeatureEncoder,
    inputs: dict[str, Any],
    *,
    target: str,
    reference_year: int,
) -> ParityReport:
    """Compare the graph's prices with the native model's; raise past the tolerance."""
    native = estimator.predict(encoder.transform_inputs(inputs, reference_year))
    native = np.asarray(native, dtype=np.float64).ravel()
    if target == "log":
        native = np.exp(native)
    exported = run_onnx(model_bytes, inputs)["price"].astype(np.float64)
    scale = np.maximum(np.abs(native), 1.0)
    worst = float(np.max(np.abs(exported - native) / scale)) if len(native) else 0.0
    if not worst <= PARITY_TOLERANCE:
        row = int(np.argmax(np.abs(exported - native) / scale))
        message = (
            f"ONNX export disagrees with the native model: max relative difference "
            f"{worst:.2e} > {PARITY_TOLERANCE:.0e} (row {row}: native {native[row]:.2f}, "
            f"onnx {exported[row]:.2f}). The bundle was not written."
        )
        raise ExportError(message)
    logger.info("parity: %d rows, max relative difference %.2e", len(native), worst)
    return ParityReport(rows=len(native), max_relative_difference=worst)


def _convert_estimator(estimator: Any, n_features: int) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    _register_xgboost()
    try:
        with warnings.catch_warnings():
            # skl2onnx's HistGradientBoosting converter writes booleans into an ints
            # attribute; protobuf 6 warns, protobuf 7 refuses (hence protobuf<7 in
            # pyproject.toml). The values are 0/1 either way, so the graph is right.
            warnings.filterwarnings(
                "ignore",
                message=r"Field onnx\.AttributeProto\.ints: Expected an int, got a boolean",
                category=DeprecationWarning,
            )
            return convert_sklearn(
                estimator,
                initial_types=[("features", FloatTensorType([None, n_features]))],
                target_opset=TARGET_OPSET,
            )
    except Exception as err:  # skl2onnx raises bare RuntimeError/TypeError/...
        raise ExportError(f"could not convert {type(estimator).__name__} to ONNX: {err}") from err


def _register_xgboost() -> None:
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes
    from xgboost import XGBRegressor

    update_registered_converter(
        XGBRegressor,
        "XGBoostXGBRegressor",
        calculate_linear_regressor_output_shapes,
        convert_xgboost,
    )


def _input(name: str, elem_type: int) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem_type, ["N"])


def _constant(name: str, value: float | list[int]) -> onnx.TensorProto:
    array = np.asarray(value, dtype=np.int64 if isinstance(value, list) else np.float32)
    return numpy_helper.from_array(array, name)


def _preprocessing(
    encoder: FeatureEncoder, reference_year: int, output: str
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    """Nodes that turn the six inputs into the model's feature matrix ``output``."""
    init = [
        _constant("reference_year", float(reference_year)),
        _constant("half", 0.5),
        _constant("one", 1.0),
        _constant("axis1", [1]),
    ]
    nodes = [
        # Same formulas as sql/store/features.sql and pipelines.features.derive_features.
        helper.make_node("Sub", ["reference_year", "year_built"], ["house_age"]),
        helper.make_node("Max", ["bathrooms", "half"], ["bathrooms_floor"]),
        helper.make_node("Div", ["bedrooms", "bathrooms_floor"], ["bed_bath_ratio"]),
        helper.make_node("Max", ["bedrooms", "one"], ["bedrooms_floor"]),
        helper.make_node("Div", ["sqft", "bedrooms_floor"], ["sqft_per_bedroom"]),
    ]
    blocks = []
    for name in encoder.numeric_names:
        nodes.append(helper.make_node("Unsqueeze", [name, "axis1"], [f"{name}_col"]))
        blocks.append(f"{name}_col")
    for name, values in encoder.categories_.items():
        if not values:
            continue
        # Locale "C" exists in every C++ runtime (the default, en_US.UTF-8, is missing
        # from slim images and makes onnxruntime refuse the graph); it lowercases ASCII.
        nodes.append(
            helper.make_node(
                "StringNormalizer",
                [name],
                [f"{name}_lower"],
                case_change_action="LOWER",
                locale="C",
            )
        )
        # zeros=1: an unseen category encodes as all zeros rather than failing;
        # the service reports it to the caller as a warning (or refuses it when strict).
        nodes.append(
            helper.make_node(
                "OneHotEncoder",
                [f"{name}_lower"],
                [f"{name}_onehot"],
                domain="ai.onnx.ml",
                cats_strings=values,
                zeros=1,
            )
        )
        blocks.append(f"{name}_onehot")
    nodes.append(helper.make_node("Concat", blocks, [output], axis=1))
    return nodes, init


def _postprocessing(
    prediction: str, target: str, log_halfwidth: float
) -> tuple[list[onnx.NodeProto], list[onnx.TensorProto]]:
    init = [
        _constant("axis1_post", [1]),
        _constant("lower_factor", math.exp(-log_halfwidth)),
        _constant("upper_factor", math.exp(log_halfwidth)),
    ]
    raw = "prediction_flat"
    nodes = [helper.make_node("Squeeze", [prediction, "axis1_post"], [raw])]
    if target == "log":
        nodes.append(helper.make_node("Exp", [raw], ["price"]))
    else:
        nodes.append(helper.make_node("Identity", [raw], ["price"]))
    nodes += [
        helper.make_node("Mul", ["price", "lower_factor"], ["price_lower"]),
        helper.make_node("Mul", ["price", "upper_factor"], ["price_upper"]),
    ]
    return nodes, init
