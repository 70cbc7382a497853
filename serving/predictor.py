"""Turn validated houses into priced results with the bundle's ONNX graph.

The steps for a request of N houses, all column-wise:

1. split the decoded structs into one column per input;
2. refuse a year built after the current year (the only rule that moves with the clock);
3. normalise categories exactly as the feature store does (trim, then lowercase) and
   match them to the bundle's known values. A value of nothing but spaces (any Unicode
   space, or invisible characters such as a zero-width space) is refused in every mode;
   an unknown value is a warning, or a refusal in strict mode. Unknown values reach the
   graph as ``""``, which it one-hot encodes as all zeros, the same as any other unseen
   value, so no odd string reaches it. The warning says what the value does to the
   price: nothing, or for a location with market features, the whole market's values;
4. run the graph once and read price and interval;
5. attach a warning to each value outside the range the model was trained on.

A bundle trained with market features gets them by location from the bundle's online
values (as of the day after its last sale); an unknown location gets the fallback row.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np

from featurestore.schema import CATEGORICAL_INPUTS, NUMERIC_INPUTS, normalise_category
from pipelines.bundle import OnlineValues
from serving.errors import ModelLoadError
from serving.loading import OUTPUTS, LoadedModel
from serving.schemas import (
    InputWarning,
    ModelRef,
    PredictionInterval,
    PredictionItem,
    Problem,
    current_year,
    empty_category_message,
)

__all__ = ["InputRejected", "Predictor", "PricedBatch"]

logger = logging.getLogger(__name__)

# Unknown categories are fed to the graph as this value; bundles never list it.
_UNKNOWN = ""
# Spellings such as " Suburb" are remembered after the first normalisation; the cap keeps
# a client sending endless variants from growing the cache without bound.
_SPELLING_CACHE_LIMIT = 4096
_MAX_PROBLEMS = 20
_YEAR_ROW = NUMERIC_INPUTS.index("year_built")


class InputRejected(Exception):
    """Valid JSON whose values the service refuses; the app answers 422 with ``problems``."""

    def __init__(self, detail: str, problems: list[Problem]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems


@dataclass(frozen=True)
class PricedBatch:
    items: list[PredictionItem]
    prices: np.ndarray
    warnings: list[InputWarning]


class Predictor:
    """Prices houses with one onnxruntime session; safe to call from several threads."""

    def __init__(self, model: LoadedModel, *, strict_categories: bool = False) -> None:
        self.bundle = model.bundle
        self.model_ref = ModelRef(name=model.bundle.name, version=model.bundle.version)
        self.strict_categories = strict_categories
        self.ready = False
        self._session = model.session
        self._level = model.bundle.interval.level
        specs = {spec.name: spec for spec in model.bundle.feature_schema.inputs}
        self._categories = {
            name: tuple(specs[name].categories or ()) for name in CATEGORICAL_INPUTS
        }
        self._spellings: dict[str, dict[str, str]] = {
            name: {value: value for value in values} for name, values in self._categories.items()
        }
        self._ranges: dict[str, tuple[float, float]] = {}
        for name in NUMERIC_INPUTS:
            low, high = specs[name].min, specs[name].max
            if low is not None and high is not None:
                self._ranges[name] = (low, high)
        # One column per numeric input, for checking all ranges in one comparison;
        # an input without a recorded range can never be outside it.
        self._lows = np.array(
            [[self._ranges.get(name, (-np.inf, np.inf))[0]] for name in NUMERIC_INPUTS]
        )
        self._highs = np.array(
            [[self._ranges.get(name, (-np.inf, np.inf))[1]] for name in NUMERIC_INPUTS]
        )
        self._field_order = tuple(spec.name for spec in model.bundle.feature_schema.inputs)
        self._market = _MarketValues(model.online) if model.online is not None else None
        self._unknown_effects = {
            name: ", so it adds nothing to the price" for name in CATEGORICAL_INPUTS
        }
        if self._market is not None:
            self._unknown_effects["location"] = (
                ": its one-hot adds nothing and its market inputs are the whole market's "
                f"as of {self._market.as_of} (the fallback)"
            )

    def predict(
        self, houses: Sequence[msgspec.Struct], *, array_path: str | None = None
    ) -> PricedBatch:
        """Price ``houses``, the decoded request structs, in order.

        ``array_path`` is the JSON path of the array they came in (``"$.houses"``, or
        ``"$"`` for a bare list); ``None`` means one house at ``$``. Refusals cite it.
        """
        rows = map(msgspec.structs.astuple, houses)
        columns: dict[str, tuple[Any, ...]] = dict(
            zip(self._field_order, zip(*rows, strict=True), strict=True)
        )
        numeric = np.array([columns[name] for name in NUMERIC_INPUTS], dtype=np.float64)
        paths = _Paths(array_path)

        _refuse_future_years(numeric[_YEAR_ROW], paths)
        categories, warnings = self._match_categories(columns, paths)
        as_float32 = numeric.astype(np.float32)
        feeds: dict[str, np.ndarray] = dict(zip(NUMERIC_INPUTS, as_float32, strict=True))
        feeds |= {name: np.asarray(values, dtype=object) for name, values in categories.items()}
        if self._market is not None:
            feeds |= self._market.feeds(categories["location"])
        price, lower, upper = self._session.run(list(OUTPUTS), feeds)
        self._warn_outside_ranges(numeric, warnings)

        items = [
            PredictionItem(
                predicted_price=float(price[row]),
                interval=PredictionInterval(float(lower[row]), float(upper[row]), self._level),
                warnings=warnings.get(row, []),
            )
            for row in range(len(houses))
        ]
        flat = [warning for row_warnings in warnings.values() for warning in row_warnings]
        return PricedBatch(items=items, prices=price, warnings=flat)

    def self_test(self) -> None:
        """Price a typical house two ways and check the answer; set ``ready`` on success.

        The second spelling (upper case, padded) must give the same price, and the
        interval must be the bundle's: ``price * exp(+-log_halfwidth)``.
        """
        started = time.perf_counter()
        typical = self._typical_house()
        shouted = {
            name: f"  {value.upper()} " if isinstance(value, str) else value
            for name, value in typical.items()
        }
        house = msgspec.defstruct("SelfTestHouse", list(self._field_order), frozen=True)
        batch = self.predict([house(**typical), house(**shouted)], array_path="$.houses")
        first, second = batch.items
        halfwidth = self.bundle.interval.log_halfwidth
        problems = []
        if not (math.isfinite(first.predicted_price) and first.predicted_price > 0):
            problems.append(f"price {first.predicted_price} is not a positive number")
        if first.predicted_price != second.predicted_price:
            problems.append("the price changed with the spelling of a category")
        ratio = first.interval.upper / first.predicted_price
        if not math.isclose(ratio, math.exp(halfwidth), rel_tol=1e-4):
            problems.append("the graph's interval is not the one bundle.json records")
        if problems:
            message = (
                f"the model failed its start-up self-test on {typical}: {'; '.join(problems)}. "
                "Rebuild the bundle with `hpp run`."
            )
            raise ModelLoadError(message)
        self.ready = True
        logger.info(
            "self-test passed in %.1f ms: %s -> $%.0f",
            (time.perf_counter() - started) * 1e3,
            typical,
            first.predicted_price,
        )

    def _typical_house(self) -> dict[str, object]:
        house: dict[str, object] = {}
        for name in self._field_order:
            if name in self._categories:
                house[name] = (self._categories[name] or ("unknown",))[0]
            else:
                low, high = self._ranges.get(name, (1.0, 1.0))
                step = 0.5 if name == "bathrooms" else 1.0
                house[name] = round((low + high) / 2 / step) * step
        return house

    def _match_categories(
        self, columns: dict[str, tuple[Any, ...]], paths: _Paths
    ) -> tuple[dict[str, list[str]], dict[int, list[InputWarning]]]:
        matched: dict[str, list[str]] = {}
        warnings: dict[int, list[InputWarning]] = {}
        blank: list[Problem] = []
        unknown: list[Problem] = []
        for name, known in self._categories.items():
            spellings = self._spellings[name]
            values: list[str] = []
            for row, raw in enumerate(columns[name]):
                value = spellings.get(raw)
                if value is None:
                    value = self._remember(name, raw)
                if value is None:
                    value = _UNKNOWN
                    where, allowed = paths.of(row, name), list(known)
                    if _is_blank(raw):
                        blank.append(Problem(where, empty_category_message(name), name, allowed))
                    elif self.strict_categories:
                        message = self._unknown_message(name, raw)
                        unknown.append(Problem(where, message, name, allowed))
                    else:
                        message = self._unknown_message(name, raw)
                        warning = InputWarning(name, "unknown_category", message)
                        warnings.setdefault(row, []).append(warning)
                values.append(value)
            matched[name] = values
        if blank:
            raise InputRejected(_summary(blank, "blank values"), blank[:_MAX_PROBLEMS])
        if unknown:
            detail = _summary(unknown, "unknown values", note=" (strict categories are on)")
            raise InputRejected(detail, unknown[:_MAX_PROBLEMS])
        return matched, warnings

    def _unknown_message(self, name: str, raw: str) -> str:
        """What an unknown value does to the price, or (strict mode) that it is refused."""
        shown = normalise_category(raw)[:60]
        effect = "" if self.strict_categories else self._unknown_effects[name]
        return (
            f"{name} {shown!r} is not one the model knows{effect}; "
            f"known values: {', '.join(self._categories[name])}"
        )

    def _remember(self, name: str, raw: str) -> str | None:
        value = normalise_category(raw)
        spellings = self._spellings[name]
        if value not in self._categories[name]:
            return None
        if len(spellings) < _SPELLING_CACHE_LIMIT:
            spellings[raw] = value
        return value

    def _warn_outside_ranges(
        self, numeric: np.ndarray, warnings: dict[int, list[InputWarning]]
    ) -> None:
        outside = (numeric < self._lows) | (numeric > self._highs)
        if not outside.any():
            return
        for field, row in zip(*np.nonzero(outside), strict=True):
            name = NUMERIC_INPUTS[field]
            low, high = self._ranges[name]
            message = (
                f"{name} {numeric[field, row]:g} is outside the range the model was trained "
                f"on ({low:g} to {high:g}); treat the price as an extrapolation"
            )
            warning = InputWarning(name, "outside_training_range", message)
            warnings.setdefault(int(row), []).append(warning)


class _MarketValues:
    """The bundle's market values as one float32 row per known location.

    The rows were checked against the bundle when it was read
    (``pipelines.bundle.read_online_values``): one value per feature in each.
    """

    def __init__(self, online: OnlineValues) -> None:
        self.as_of = online.as_of
        self._names = tuple(online.features)
        self._rows = {
            location: np.asarray(values, dtype=np.float32)
            for location, values in online.locations.items()
        }
        self._fallback = np.asarray(online.fallback, dtype=np.float32)

    def feeds(self, locations: Sequence[str]) -> dict[str, np.ndarray]:
        matrix = np.stack([self._rows.get(location, self._fallback) for location in locations])
        return {name: np.ascontiguousarray(matrix[:, i]) for i, name in enumerate(self._names)}


class _Paths:
    """JSON paths of values in the request body, for error messages."""

    def __init__(self, array_path: str | None) -> None:
        self._array_path = array_path

    def of(self, row: int, name: str) -> str:
        if self._array_path is None:
            return f"$.{name}"
        return f"{self._array_path}[{row}].{name}"


def _is_blank(raw: str) -> bool:
    """Whether ``raw`` is nothing but what the category rule trims (spaces, zero-width)."""
    return not normalise_category(raw)


def _summary(problems: list[Problem], what: str, note: str = "") -> str:
    detail = problems[0].message + note
    if len(problems) > 1:
        detail += f"; {len(problems) - 1} more {what} in this request"
    return detail


def _refuse_future_years(years: np.ndarray, paths: _Paths) -> None:
    this_year = current_year()
    if years.max() <= this_year:
        return
    future = np.flatnonzero(years > this_year)
    row = int(future[0])
    message = f"year_built {years[row]:g} is in the future (the current year is {this_year})"
    problems = [
        Problem(paths.of(int(r), "year_built"), message, field="year_built")
        for r in future[:_MAX_PROBLEMS].tolist()
    ]
    raise InputRejected(message, problems)
