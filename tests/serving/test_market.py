"""A bundle trained with market features: the service feeds them by location.

Market features need sale dates, which only the Ames data has, so the bundle is trained
on Ames here (about a minute on two cores): marked slow.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.serving.conftest import RunningService, run_hpp, running_service

pytestmark = pytest.mark.slow

HOUSE = {
    "sqft": 1500,
    "bedrooms": 3,
    "bathrooms": 2,
    "location": "College_Creek",
    "year_built": 1995,
    "condition": "Average",
}


@pytest.fixture(scope="module")
def market_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ames-market")
    config = folder / "pipeline.yaml"
    config.write_text("source: ames\ntraining:\n  market_features: true\n")
    for step in ("ingest", "build", "train"):
        run_hpp([step, "--config", str(config)], cwd=folder, check=True)
    return (folder / "models" / "house-price" / "latest").resolve()


@pytest.fixture(scope="module")
def market_service(
    market_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    with running_service(market_bundle, [], tmp_path_factory.mktemp("market")) as service:
        yield service


def test_market_values_are_fed_by_location(
    market_bundle: Path, market_service: RunningService
) -> None:
    import onnxruntime as ort

    online = json.loads((market_bundle / "online_features.json").read_text())
    session = ort.InferenceSession(str(market_bundle / "model.onnx"))
    model = httpx.get(f"{market_service.url}/model").json()
    assert model["market_features"] == online["features"]
    assert model["market_values_as_of"] == online["as_of"]

    known = _normalised(HOUSE["location"])
    assert known in online["locations"]
    for house, values in [
        (HOUSE, online["locations"][known]),
        (HOUSE | {"location": "Atlantis"}, online["fallback"]),
    ]:
        body = httpx.post(f"{market_service.url}/predict", json=house).json()
        assert body["predicted_price"] == _onnx_price(session, house, online["features"], values)


def _normalised(value: str) -> str:
    return value.strip().lower()


def _onnx_price(
    session: Any, house: dict[str, Any], names: list[str], values: list[float]
) -> float:
    feeds: dict[str, np.ndarray] = {
        name: np.asarray([house[name]], dtype=np.float32)
        for name in ("sqft", "bedrooms", "bathrooms", "year_built")
    }
    location = _normalised(house["location"])
    known = {i.name for i in session.get_inputs()}
    # Any unseen location encodes as zeros; the service sends "" for one.
    feeds["location"] = np.asarray([location], dtype=object)
    feeds["condition"] = np.asarray([_normalised(house["condition"])], dtype=object)
    feeds |= {
        name: np.asarray([value], dtype=np.float32)
        for name, value in zip(names, values, strict=True)
    }
    assert set(feeds) == known
    return float(session.run(["price"], feeds)[0][0])
