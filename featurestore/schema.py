"""The canonical house schema shared by ingest, the SQL views, training and serving."""

from __future__ import annotations

__all__ = [
    "CATEGORICAL_INPUTS",
    "CATEGORY_NORMALISATION_RULE",
    "MODEL_INPUTS",
    "NUMERIC_INPUTS",
    "OPTIONAL_COLUMNS",
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

# One rule, applied by the cleaned SQL view, by training and by the service. The ONNX
# graph lowercases too (StringNormalizer), but ONNX has no operator that trims, so a
# runtime other than our service must trim before calling the graph.
CATEGORY_NORMALISATION_RULE = "trim surrounding whitespace, then lowercase"


def normalise_category(value: str) -> str:
    """Return ``value`` normalised the way the feature store normalises categories."""
    return value.strip(_ASCII_WHITESPACE).lower()


# The same characters SQL's ``normalise_category`` macro strips (sql/store/macros.sql).
_ASCII_WHITESPACE = " \t\n\r\f\v"
