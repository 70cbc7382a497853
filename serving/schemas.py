"""Request and response schemas as msgspec Structs.

The request structs are built at start-up from the bundle's feature schema: field order,
descriptions, training ranges and known categories come from ``bundle.json``; the rules
that make an input physically valid (a plausible area, whole bedrooms, bathrooms in half
steps) are declared once in ``FIELD_RULES`` and enforced by msgspec while decoding. Their
ranges are ``featurestore.schema.PLAUSIBLE_RANGES``, the ones the training data is checked
against, so the service never prices a house the training data could not contain. Two
rules msgspec cannot state are the predictor's: a year built in the future (the ceiling
moves with the calendar) and a category of nothing but spaces.
Values that are valid but unusual (outside the training range, an unknown category) are
not errors: the predictor answers with a warning, or refuses them in strict mode.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar.enums import RequestEncodingType
from litestar.params import Body

from featurestore.schema import EARLIEST_YEAR_BUILT, PLAUSIBLE_RANGES
from pipelines.bundle import (
    Bundle,
    FeatureSchema,
    InputSpec,
    MetricsSpec,
    OnlineValues,
    TrainingData,
)

__all__ = [
    "FIELD_RULES",
    "BatchPrediction",
    "ErrorBody",
    "FieldRule",
    "Health",
    "InputInfo",
    "InputWarning",
    "IntervalInfo",
    "LocationMarketValues",
    "MarketValuesInfo",
    "ModelInfo",
    "ModelRef",
    "Prediction",
    "PredictionInterval",
    "PredictionItem",
    "Problem",
    "Readiness",
    "RequestTypes",
    "build_request_types",
    "current_year",
    "empty_category_message",
    "model_info",
]


@dataclass(frozen=True)
class FieldRule:
    """What a valid value of one input looks like, for msgspec, OpenAPI and people."""

    kind: Literal["number", "category"]
    text: str
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    max_length: int | None = None
    up_to_this_year: bool = False
    """The maximum is the current year, checked per request by the predictor."""

    def meta(self, description: str, example: Any) -> msgspec.Meta:
        # msgspec refuses a literal that overflows a float (1e999) itself, and JSON cannot
        # spell NaN, so every number that reaches the predictor is finite.
        constraints: dict[str, Any] = {
            "ge": self.minimum,
            "gt": self.exclusive_minimum,
            "le": self.maximum,
            "multiple_of": self.step,
            "min_length": 1 if self.kind == "category" else None,
            "max_length": self.max_length,
        }
        return msgspec.Meta(
            **{key: value for key, value in constraints.items() if value is not None},
            description=f"{description}. Rule: {self.text}.",
            examples=[example],
        )

    def maximum_in(self, this_year: int) -> float | None:
        """The largest value accepted in ``this_year``."""
        return float(this_year) if self.up_to_this_year else self.maximum


def _number_rule(name: str, text: str, step: float | None = None) -> FieldRule:
    low, high = PLAUSIBLE_RANGES[name]
    described = text.format(low=f"{low:,g}", high=f"{high:,g}")
    return FieldRule("number", described, low, None, high, step)


FIELD_RULES: dict[str, FieldRule] = {
    "sqft": _number_rule("sqft", "from {low} to {high} square feet"),
    "bedrooms": _number_rule("bedrooms", "a whole number from {low} to {high}", step=1),
    "bathrooms": _number_rule("bathrooms", "a multiple of 0.5 from {low} to {high}", step=0.5),
    "year_built": FieldRule(
        "number",
        f"a whole year from {EARLIEST_YEAR_BUILT} to the current year",
        minimum=EARLIEST_YEAR_BUILT,
        step=1,
        up_to_this_year=True,
    ),
    "location": FieldRule("category", "1 to 100 characters, not all spaces", max_length=100),
    "condition": FieldRule("category", "1 to 100 characters, not all spaces", max_length=100),
}


def current_year() -> int:
    """The year-built ceiling: the current year in local time."""
    return time.localtime().tm_year


def empty_category_message(name: str) -> str:
    """The refusal of a ``location`` or ``condition`` that is empty or only spaces."""
    return (
        f"{name} is empty (blank or only spaces); send the {name}'s name, "
        "e.g. one of the known values GET /model lists"
    )


@dataclass(frozen=True)
class RequestTypes:
    """The request types built from one bundle (see ``build_request_types``)."""

    house: type[msgspec.Struct]
    batch: type[msgspec.Struct]
    house_list: Any  # Annotated[list[house], Meta(...)]: the /batch-predict body
    field_names: tuple[str, ...]


def build_request_types(schema: FeatureSchema, *, max_batch: int) -> RequestTypes:
    """Build ``House``, ``HouseBatch`` and the bare-list body from the bundle's inputs."""
    fields = [(spec.name, _annotation(spec)) for spec in schema.inputs]
    house = msgspec.defstruct(
        "House", fields, forbid_unknown_fields=True, frozen=True, module=__name__
    )
    described = f"1 to {max_batch:,} houses; results come back in the same order."
    house_list = Annotated[
        list[house],  # type: ignore[valid-type]
        msgspec.Meta(min_length=1, max_length=max_batch, description=described),
        # Litestar's body marker: it documents the list limits from here, not from Meta.
        Body(
            media_type=RequestEncodingType.JSON,
            min_items=1,
            max_items=max_batch,
            description=described,
        ),
    ]
    batch = msgspec.defstruct(
        "HouseBatch",
        [("houses", house_list)],
        forbid_unknown_fields=True,
        frozen=True,
        module=__name__,
    )
    names = tuple(spec.name for spec in schema.inputs)
    return RequestTypes(house=house, batch=batch, house_list=house_list, field_names=names)


def _annotation(spec: InputSpec) -> Any:
    rule = FIELD_RULES[spec.name]
    if rule.kind == "category":
        known = ", ".join(spec.categories or [])
        description = f"{spec.description}; known values (any case, spaces ignored): {known}"
        example = (spec.categories or ["unknown"])[0]
        return Annotated[str, rule.meta(description, example)]
    described = spec.description
    if spec.min is not None and spec.max is not None:
        described += f"; the model was trained on {spec.min:g} to {spec.max:g}"
    return Annotated[float, rule.meta(described, _typical(spec, rule))]


def _typical(spec: InputSpec, rule: FieldRule) -> float:
    low = spec.min if spec.min is not None else 1.0
    high = spec.max if spec.max is not None else low
    step = rule.step or 1.0
    return round((low + high) / 2 / step) * step


# -- responses ------------------------------------------------------------------------


class PredictionInterval(msgspec.Struct, frozen=True):
    lower: float
    upper: float
    level: float


class ModelRef(msgspec.Struct, frozen=True):
    name: str
    version: str


class InputWarning(msgspec.Struct, frozen=True):
    field: str
    code: Literal["unknown_category", "outside_training_range"]
    message: str


class Prediction(msgspec.Struct, frozen=True):
    predicted_price: float
    interval: PredictionInterval
    model: ModelRef
    warnings: list[InputWarning]


class PredictionItem(msgspec.Struct, frozen=True):
    predicted_price: float
    interval: PredictionInterval
    warnings: list[InputWarning]


class BatchPrediction(msgspec.Struct, frozen=True):
    model: ModelRef
    predictions: list[PredictionItem]


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """One reason a request was refused: where in the body, and what would be accepted."""

    location: str
    message: str
    field: str | None = None
    allowed: list[str] | None = None


class ErrorBody(msgspec.Struct, frozen=True, omit_defaults=True):
    """The body of every 4xx/5xx answer (Litestar's error shape)."""

    status_code: int
    detail: str
    extra: list[Problem] | dict[str, Any] | None = None


class Health(msgspec.Struct, frozen=True):
    status: Literal["ok"]


class Readiness(msgspec.Struct, frozen=True):
    ready: bool
    model: ModelRef
    detail: str


class InputInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """One input as a form needs it: the rule, the training range, the known values."""

    name: str
    kind: Literal["number", "category"]
    description: str
    rule: str
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    training_min: float | None = None
    training_max: float | None = None
    categories: list[str] | None = None


class IntervalInfo(msgspec.Struct, frozen=True):
    level: float
    method: str
    cv_coverage: float
    holdout_coverage: float | None


_FeatureValues = Annotated[
    dict[str, float],
    msgspec.Meta(
        description="One value per market feature, by name (`market_features` lists them).",
        examples=[{"market_ppsf_12m": 119.2, "market_trend_12m": -0.0033}],
    ),
]


class LocationMarketValues(msgspec.Struct, frozen=True):
    """The market inputs fed to the model for a house at one known location."""

    location: Annotated[str, msgspec.Meta(description="The location as the model knows it.")]
    values: _FeatureValues


class MarketValuesInfo(msgspec.Struct, frozen=True):
    """The market inputs the service feeds by location, as of the day after the last sale."""

    as_of: Annotated[str, msgspec.Meta(description="The date the values hold for (ISO 8601).")]
    locations: list[LocationMarketValues]
    fallback: Annotated[
        dict[str, float],
        msgspec.Meta(
            description="The whole market's values, fed for a location the model does not know.",
        ),
    ]
    fallback_rule: Annotated[
        str, msgspec.Meta(description="When the fallback is used, as bundle.json states it.")
    ]


class ModelInfo(msgspec.Struct, frozen=True):
    name: str
    version: str
    created_at: str
    kind: str
    target: str
    onnx_sha256: str
    inputs: list[InputInfo]
    reference_year: int
    category_normalisation: str
    strict_categories: bool
    max_batch: int
    market_features: list[str]
    """Inputs the service adds by location from the bundle (none unless trained so)."""
    market_values_as_of: str | None
    market_values: Annotated[
        MarketValuesInfo | None,
        msgspec.Meta(
            description="The market inputs fed by location, and the fallback for a location "
            "the model does not know; null for a model trained without market features."
        ),
    ]
    interval: IntervalInfo
    metrics: MetricsSpec
    training_data: TrainingData


def model_info(
    bundle: Bundle,
    *,
    online: OnlineValues | None,
    strict_categories: bool,
    max_batch: int,
    this_year: int,
) -> ModelInfo:
    """Describe ``bundle`` (and its ``online`` market values) as served.

    The year-built ceiling is ``this_year``.
    """
    schema = bundle.feature_schema
    interval = bundle.interval
    return ModelInfo(
        name=bundle.name,
        version=bundle.version,
        created_at=bundle.created_at,
        kind=bundle.model.kind,
        target=bundle.model.target,
        onnx_sha256=bundle.onnx.sha256,
        inputs=[_input_info(spec, this_year) for spec in schema.inputs],
        reference_year=schema.reference_year,
        category_normalisation=schema.category_normalisation,
        strict_categories=strict_categories,
        max_batch=max_batch,
        market_features=list(bundle.online.features) if bundle.online else [],
        market_values_as_of=bundle.online.as_of if bundle.online else None,
        market_values=_market_values_info(bundle, online),
        interval=IntervalInfo(
            interval.level, interval.method, interval.cv_coverage, interval.holdout_coverage
        ),
        metrics=bundle.metrics,
        training_data=bundle.training_data,
    )


def _market_values_info(bundle: Bundle, online: OnlineValues | None) -> MarketValuesInfo | None:
    if bundle.online is None or online is None:
        return None
    names = online.features
    return MarketValuesInfo(
        as_of=online.as_of,
        locations=[
            LocationMarketValues(location, dict(zip(names, row, strict=True)))
            for location, row in sorted(online.locations.items())
        ],
        fallback=dict(zip(names, online.fallback, strict=True)),
        fallback_rule=bundle.online.fallback,
    )


def _input_info(spec: InputSpec, this_year: int) -> InputInfo:
    rule = FIELD_RULES[spec.name]
    return InputInfo(
        name=spec.name,
        kind=rule.kind,
        description=spec.description,
        rule=rule.text,
        minimum=rule.minimum,
        exclusive_minimum=rule.exclusive_minimum,
        maximum=rule.maximum_in(this_year),
        step=rule.step,
        training_min=spec.min,
        training_max=spec.max,
        categories=list(spec.categories) if spec.categories is not None else None,
    )
