"""The canonical house schema shared by ingest, the SQL views, training and serving."""

from __future__ import annotations

__all__ = [
    "CATEGORICAL_INPUTS",
    "CATEGORY_NORMALISATION_RULE",
    "EARLIEST_YEAR_BUILT",
    "MODEL_INPUTS",
    "NUMERIC_INPUTS",
    "OPTIONAL_COLUMNS",
    "PLAUSIBLE_RANGES",
    "REQUIRED_COLUMNS",
    "TARGET",
    "normalise_category",
]

TARGET = "price"

# The six fields a caller supplies for one house, in the order the ONNX graph names them.
NUMERIC_INPUTS: tuple[str, ...] = ("sqft", "bedrooms", "bathrooms", "year_built")
CATEGORICAL_INPUTS: tuple[str, ...] = ("location", "condition")
MODEL_INPUTS: tuple[str, ...] = NUMERIC_INPUTS + CATEGORICAL_INPUTS

REQUIRED_COLUMNS: tuple[str, ...] = (TARGET, *MODEL_INPUTS)
OPTIONAL_COLUMNS: tuple[str, ...] = ("house_id", "sale_date", "latitude", "longitude")

# Physically plausible inputs, inclusive: the ranges the data checks hold every training
# row to (sql/checks/value_ranges.sql), and so the ranges the service accepts. A year built
# also may not be in the future (ingest, sql/ingest/validate.sql), a ceiling that moves with
# the calendar. tests/serving/test_bounds.py runs the SQL check on the edges of these.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "sqft": (1, 20_000),
    "bedrooms": (0, 20),
    "bathrooms": (0, 15),
}
EARLIEST_YEAR_BUILT = 1700

# One rule, applied by the cleaned SQL view, by training and by the service. The ONNX
# graph lowercases too (StringNormalizer), but ONNX has no operator that trims, so a
# runtime other than our service must trim before calling the graph.
CATEGORY_NORMALISATION_RULE = "trim surrounding whitespace, then lowercase"


def normalise_category(value: str) -> str:
    """Return ``value`` normalised the way the feature store normalises categories."""
    return value.strip(_ASCII_WHITESPACE).lower()


# The same characters SQL's ``normalise_category`` macro strips (sql/store/macros.sql).
_ASCII_WHITESPACE = " \t\n\r\f\v"
