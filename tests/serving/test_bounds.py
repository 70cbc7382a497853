"""The service accepts exactly the numbers the training data may hold, no wider.

Training rows pass ``sql/checks/value_ranges.sql`` (run on the ``features`` view before
every training); the service's limits come from ``featurestore.schema.PLAUSIBLE_RANGES``.
These tests run that SQL check and the service's decoder on the same edge values, so a
change to either side that lets them drift apart fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pytest

from featurestore._resources import resource_path
from featurestore.checks import run_checks
from featurestore.schema import EARLIEST_YEAR_BUILT, PLAUSIBLE_RANGES
from serving.loading import load_model
from serving.predictor import InputRejected, Predictor
from serving.schemas import build_request_types

HOUSE: dict[str, Any] = {
    "sqft": 1850,
    "bedrooms": 3,
    "bathrooms": 2,
    "location": "suburb",
    "year_built": 1994,
    "condition": "good",
}
# One step past each edge: the smallest change the service's step rules allow.
STEPS = {"sqft": 0.5, "bedrooms": 1, "bathrooms": 0.5, "year_built": 1}
EDGES: list[tuple[str, str, float, bool]] = [
    case
    for name, (low, high) in PLAUSIBLE_RANGES.items()
    for case in (
        (f"{name}_lowest", name, low, True),
        (f"{name}_highest", name, high, True),
        (f"{name}_below", name, low - STEPS[name], False),
        (f"{name}_above", name, high + STEPS[name], False),
    )
] + [
    ("year_built_earliest", "year_built", EARLIEST_YEAR_BUILT, True),
    ("year_built_before", "year_built", EARLIEST_YEAR_BUILT - 1, False),
]


@pytest.fixture(scope="module")
def value_ranges_check(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the shipped value-ranges check."""
    folder = tmp_path_factory.mktemp("checks")
    shutil.copy(resource_path("sql", "checks") / "value_ranges.sql", folder)
    return folder


@pytest.fixture(scope="module")
def service_accepts(bundle_dir: Path) -> Any:
    model = load_model(bundle_dir)
    types = build_request_types(model.bundle.feature_schema, max_batch=1)
    decoder = msgspec.json.Decoder(types.house)
    predictor = Predictor(model)

    def accepts(house: dict[str, Any]) -> bool:
        try:
            predictor.predict([decoder.decode(json.dumps(house))])
        except (msgspec.ValidationError, InputRejected):
            return False
        return True

    return accepts


@pytest.mark.parametrize(
    ("name", "value", "plausible"), [case[1:] for case in EDGES], ids=[case[0] for case in EDGES]
)
def test_service_and_data_check_agree_on_the_edges(
    tmp_path: Path,
    value_ranges_check: Path,
    service_accepts: Any,
    name: str,
    value: float,
    plausible: bool,
) -> None:
    house = HOUSE | {name: value}
    assert _passes_the_data_check(tmp_path / "store.duckdb", value_ranges_check, house) is plausible
    assert service_accepts(house) is plausible


def _passes_the_data_check(db_path: Path, checks_dir: Path, house: dict[str, Any]) -> bool:
    """Whether a ``features`` row of ``house`` passes sql/checks/value_ranges.sql."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            """
            CREATE TABLE features AS SELECT
                'edge' AS house_id, ?::DOUBLE AS sqft, ?::DOUBLE AS bedrooms,
                ?::DOUBLE AS bathrooms, ?::DOUBLE AS year_built, 10.0 AS house_age,
                1.0 AS bed_bath_ratio, 600.0 AS sqft_per_bedroom
            """,
            [house["sqft"], house["bedrooms"], house["bathrooms"], house["year_built"]],
        )
    [result] = run_checks(db_path, checks_dir=checks_dir)
    return result.passed
