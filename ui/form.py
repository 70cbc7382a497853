"""The Predict page's form, derived from the served model's inputs (``GET /model``).

Pure functions, so the limits and defaults are testable without Streamlit. By default a
number's limits are the range the model was trained on; widened, they are the service's
own validation rule, and the service answers values outside the training range with a
warning instead of a refusal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ui.client import InputInfo

__all__ = ["LABELS", "NumberField", "label_of", "number_field"]

LABELS = {
    "sqft": "Living area (sq ft)",
    "bedrooms": "Bedrooms",
    "bathrooms": "Bathrooms",
    "year_built": "Year built",
    "location": "Location",
    "condition": "Condition",
}
_YEAR_FIELD = "year_built"


@dataclass(frozen=True)
class NumberField:
    name: str
    label: str
    help: str
    min_value: float
    max_value: float
    step: float
    default: float
    integer: bool
    format: str  # printf-style, as st.number_input takes it


def label_of(spec: InputInfo) -> str:
    return LABELS.get(spec.name, spec.name.replace("_", " ").capitalize())


def number_field(spec: InputInfo, *, widen: bool, current_year: int) -> NumberField:
    """Limits, step and starting value of one numeric input."""
    rule_low, rule_high = _rule_limits(spec, current_year)
    train_low = spec.training_min if spec.training_min is not None else rule_low
    train_high = spec.training_max if spec.training_max is not None else rule_high
    low, high = (rule_low, rule_high) if widen else (train_low, train_high)
    step = spec.step or _nice_step(train_high - train_low)
    default = min(max(_snap((train_low + train_high) / 2, step), low), high)
    integer = step == 1 and all(float(v).is_integer() for v in (low, high, default))
    trained = f"the model was trained on {train_low:g} to {train_high:g}"
    help_text = f"{spec.description}. Rule: {spec.rule}; {trained}."
    decimals = 0 if float(step).is_integer() else len(f"{step:g}".split(".")[1])
    return NumberField(
        spec.name, label_of(spec), help_text, low, high, step, default, integer, f"%.{decimals}f"
    )


def _rule_limits(spec: InputInfo, current_year: int) -> tuple[float, float]:
    step = spec.step or 1.0
    if spec.minimum is not None:
        low = spec.minimum
    elif spec.exclusive_minimum is not None:
        low = spec.exclusive_minimum + step
    else:
        low = 0.0
    high = spec.maximum if spec.maximum is not None else 1e9
    if spec.name == _YEAR_FIELD:
        # The service refuses a year in the future; its schema's maximum is only a bound.
        high = min(high, float(current_year))
    return low, high


def _nice_step(span: float) -> float:
    """A round step for the +/- buttons: about a fortieth of the span, 1, 2 or 5 x 10^k."""
    if span <= 0:
        return 1.0
    raw = span / 40
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return float(multiple * power)
    return float(10 * power)


def _snap(value: float, step: float) -> float:
    return round(value / step) * step
