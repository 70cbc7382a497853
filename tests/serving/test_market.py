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


def test_service_sees_what_the_offline_view_computes_after_the_cut_off(
    market_bundle: Path, market_service: RunningService, tmp_path: Path
) -> None:
    """A sale dated on the bundle's as-of day, priced through the service, gets the same
    market inputs as the offline SQL view computes for it from the lake."""
    import duckdb
    import onnxruntime as ort

    from featurestore import StoreSettings, build_store, query

    online = json.loads((market_bundle / "online_features.json").read_text())
    lake = market_bundle.parents[2] / "data" / "lake"
    new_lake = tmp_path / "lake"
    new_lake.mkdir()
    duckdb.sql(f"""
        COPY (
            SELECT * FROM read_parquet('{lake / "sales.parquet"}')
            UNION ALL BY NAME
            (SELECT * REPLACE ('new-sale' AS house_id, DATE '{online["as_of"]}' AS sale_date)
             FROM read_parquet('{lake / "sales.parquet"}') WHERE location = 'College_Creek'
             LIMIT 1)
        ) TO '{new_lake / "sales.parquet"}' (FORMAT parquet)
    """)
    (new_lake / "rejects.parquet").write_bytes((lake / "rejects.parquet").read_bytes())
    build_store(tmp_path / "store.duckdb", new_lake, StoreSettings())
    names = ", ".join(online["features"])
    [offline] = query(
        tmp_path / "store.duckdb",
        f"SELECT {names} FROM market_features WHERE house_id = 'new-sale'",
    ).to_pylist()

    assert list(offline.values()) == online["locations"]["college_creek"]
    session = ort.InferenceSession(str(market_bundle / "model.onnx"))
    served = httpx.post(f"{market_service.url}/predict", json=HOUSE).json()
    expected = _onnx_price(session, HOUSE, online["features"], list(offline.values()))
    assert served["predicted_price"] == expected
