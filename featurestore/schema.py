"""The canonical house schema shared by ingest, the SQL views, training and serving."""

from __future__ import annotations

__all__ = [
    "CATEGORICAL_INPUTS",
    "CATEGORY_NORMALISATION_RULE",
    "CATEGORY_SPACES",
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
CATEGORY_NORMALISATION_RULE = "trim surrounding whitespace (Unicode spaces too), then lowercase"

# What the rule trims: every character Python's str.isspace() accepts (ASCII whitespace,
# the information separators, NEL, no-break and the other Unicode spaces, line and
# paragraph separators) and the invisible zero-width characters a copy from a web page or
# spreadsheet brings along. SQL's ``normalise_category`` macro (sql/store/macros.sql) and
# ingest's blank check (sql/ingest/validate.sql) spell out the same set;
# tests/featurestore/test_views.py holds the three to it, character by character.
CATEGORY_SPACES = (
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)


def normalise_category(value: str) -> str:
    """Return ``value`` normalised the way the feature store normalises categories."""
    value = value.strip(CATEGORY_SPACES)
    if value.isascii():
        return value.lower()
    # Character by character, each to one character, as DuckDB's lower() does: str.lower()
    # turns "İ" into two characters and lowercases a final "Σ" by its context.
    return "".join(_one_lower(char) for char in value)


def _one_lower(char: str) -> str:
    lowered = char.lower()
    return lowered if len(lowered) == 1 else lowered[0]
