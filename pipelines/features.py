"""The model's view of a house: derived numbers plus dense one-hot categories.

Training reads the derived columns from the SQL ``features`` view; serving cannot run
SQL, so the ONNX graph recomputes them from the six inputs (pipelines/export.py).
``derive_features`` is the NumPy twin of both, used for the parity check and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from featurestore.schema import CATEGORICAL_INPUTS, normalise_category

__all__ = ["MARKET_FEATURES", "NUMERIC_FEATURES", "FeatureEncoder", "derive_features"]

# Order matters: it is the column order of the matrix the model is fitted on.
NUMERIC_FEATURES: tuple[str, ...] = (
    "sqft",
    "bedrooms",
    "bathrooms",
    "house_age",
    "bed_bath_ratio",
    "sqft_per_bedroom",
)

# Point-in-time market inputs from the `market_features` view (sql/store/market.sql).
# In the ONNX graph they are inputs of their own, which the service looks up by location.
MARKET_FEATURES: tuple[str, ...] = (
    "market_loc_ppsf_12m",
    "market_loc_ppsf_36m",
    "market_loc_sales_12m",
    "market_ppsf_12m",
    "market_trend_12m",
)


def derive_features(inputs: dict[str, Any], reference_year: int) -> dict[str, np.ndarray]:
    """Compute the numeric features from raw inputs, as of ``reference_year``.

    Same formulas as ``sql/store/features.sql``; the arithmetic is done in float64
    and rounded once to float32, which for a single +, -, * or / of float32 values
    equals float32 arithmetic, so the ONNX graph gets identical numbers.
    """
    sqft = np.asarray(inputs["sqft"], dtype=np.float64)
    bedrooms = np.asarray(inputs["bedrooms"], dtype=np.float64)
    bathrooms = np.asarray(inputs["bathrooms"], dtype=np.float64)
    year_built = np.asarray(inputs["year_built"], dtype=np.float64)
    return {
        "sqft": sqft,
        "bedrooms": bedrooms,
        "bathrooms": bathrooms,
        "house_age": reference_year - year_built,
        "bed_bath_ratio": bedrooms / np.maximum(bathrooms, 0.5),
        "sqft_per_bedroom": sqft / np.maximum(bedrooms, 1.0),
    }


@dataclass
class FeatureEncoder:
    """Turns feature rows into the dense float32 matrix the model is fitted on.

    One-hot columns are dense on purpose: XGBoost reads a sparse zero as "missing",
    which made the teaching project's exported graph disagree with its model.
    """

    categories_: dict[str, list[str]]
    market_features_: tuple[str, ...] = ()

    @classmethod
    def fit(cls, frame: pl.DataFrame, *, market: bool = False) -> FeatureEncoder:
        categories = {
            name: sorted(frame.get_column(name).drop_nulls().unique().to_list())
            for name in CATEGORICAL_INPUTS
        }
        return cls(categories, MARKET_FEATURES if market else ())

    @property
    def numeric_names(self) -> list[str]:
        return [*NUMERIC_FEATURES, *self.market_features_]

    @property
    def feature_names(self) -> list[str]:
        names = self.numeric_names
        for column, values in self.categories_.items():
            names.extend(f"{column}={value}" for value in values)
        return names

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        """Encode a frame holding the numeric features and normalised categories."""
        numeric = {name: frame.get_column(name).to_numpy() for name in self.numeric_names}
        categorical = {name: frame.get_column(name).to_numpy() for name in self.categories_}
        return self._assemble(numeric, categorical)

    def transform_inputs(self, inputs: dict[str, Any], reference_year: int) -> np.ndarray:
        """Encode raw inputs (the six fields, and market values) the way the graph does."""
        categorical = {
            name: np.array([normalise_category(str(v)) for v in inputs[name]], dtype=object)
            for name in self.categories_
        }
        numeric = derive_features(inputs, reference_year)
        numeric |= {name: np.asarray(inputs[name], np.float64) for name in self.market_features_}
        return self._assemble(numeric, categorical)

    def _assemble(
        self, numeric: dict[str, np.ndarray], categorical: dict[str, np.ndarray]
    ) -> np.ndarray:
        blocks = [numeric[name].astype(np.float32)[:, None] for name in self.numeric_names]
        for name, values in self.categories_.items():
            codes = categorical[name]
            if not values:
                continue
            blocks.append(np.stack([codes == value for value in values], axis=1).astype(np.float32))
        return np.hstack(blocks)
