"""A bundle trained with market features: the service feeds them by location.

Market features need sale dates, which only the Ames data has, so the bundle is trained
on Ames here (``market_bundle`` in conftest): marked slow.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from serving import ModelLoadError, load_model
from tests.serving.conftest import RunningService

pytestmark = pytest.mark.slow

HOUSE = {
    "sqft": 1500,
    "bedrooms": 3,
    "bathrooms": 2,
    "location": "College_Creek",
    "year_built": 1995,
    "condition": "Average",
}
UNKNOWN_LOCATION = HOUSE | {"location": "Atlantis"}

Online = dict[str, Any]


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
        (UNKNOWN_LOCATION, online["fallback"]),
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


def test_unknown_location_warning_says_it_takes_the_whole_market(
    market_bundle: Path, market_service: RunningService
) -> None:
    online = json.loads((market_bundle / "online_features.json").read_text())
    url = market_service.url
    says = (
        "location 'atlantis' is not one the model knows: its one-hot adds nothing and its "
        f"market inputs are the whole market's as of {online['as_of']} (the fallback); "
        "known values: "
    )

    single = httpx.post(f"{url}/predict", json=UNKNOWN_LOCATION).json()
    batch = httpx.post(f"{url}/predict/batch", json={"houses": [HOUSE, UNKNOWN_LOCATION]})
    bare = httpx.post(f"{url}/batch-predict", json=[HOUSE, UNKNOWN_LOCATION])

    [warning] = single["warnings"]
    assert warning["field"] == "location"
    assert warning["code"] == "unknown_category"
    assert warning["message"].startswith(says)
    assert "college_creek" in warning["message"]
    for answer in (batch, bare):
        known, unknown = answer.json()["predictions"]
        assert known["warnings"] == []
        assert unknown["warnings"] == single["warnings"]
        assert unknown["predicted_price"] == single["predicted_price"]


def test_model_lists_the_market_values_and_the_fallback(
    market_bundle: Path, market_service: RunningService
) -> None:
    online = json.loads((market_bundle / "online_features.json").read_text())
    described = json.loads((market_bundle / "bundle.json").read_text())
    names = online["features"]

    model = httpx.get(f"{market_service.url}/model").json()
    market = model["market_values"]

    assert market["as_of"] == model["market_values_as_of"] == online["as_of"]
    assert all(list(row["values"]) == names for row in market["locations"])
    by_location = {row["location"]: list(row["values"].values()) for row in market["locations"]}
    assert by_location == online["locations"]
    assert list(market["fallback"]) == names
    assert list(market["fallback"].values()) == online["fallback"]
    assert market["fallback_rule"] == described["online"]["fallback"]


def test_model_documents_the_market_values_in_openapi(market_service: RunningService) -> None:
    schemas = httpx.get(f"{market_service.url}/schema/openapi.json").json()["components"]
    schemas = schemas["schemas"]

    field = schemas["ModelInfo"]["properties"]["market_values"]
    assert {"$ref": "#/components/schemas/MarketValuesInfo"} in field["oneOf"]
    assert "fallback" in field["description"]
    market = schemas["MarketValuesInfo"]
    assert set(market["required"]) == {"as_of", "locations", "fallback", "fallback_rule"}
    values = schemas["LocationMarketValues"]["properties"]["values"]
    assert values["additionalProperties"] == {"type": "number"}
    assert "market feature" in values["description"]


def _short_location_row(online: Online) -> None:
    online["locations"]["college_creek"].pop()


def _short_fallback(online: Online) -> None:
    online["fallback"].pop()


def _truncated_features(online: Online) -> None:
    online["features"].pop()


DAMAGES: list[tuple[str, Callable[[Online], None], str]] = [
    ("short_location_row", _short_location_row, "location 'college_creek' has 4 values"),
    ("short_fallback", _short_fallback, "fallback has 4 values, expected 5"),
    ("truncated_features", _truncated_features, "but bundle.json's online.features are"),
]


@pytest.mark.parametrize(("damage", "says"), [d[1:] for d in DAMAGES], ids=[d[0] for d in DAMAGES])
def test_damaged_online_file_is_refused_at_start_up(
    market_bundle: Path,
    tmp_path: Path,
    damage: Callable[[Online], None],
    says: str,
) -> None:
    """Damage with its checksum updated, as an edit on purpose would: only the content
    check catches it, before a request for that location can fail."""
    bundle = tmp_path / "bundle"
    shutil.copytree(market_bundle, bundle)
    path = bundle / "online_features.json"
    online = json.loads(path.read_text())
    damage(online)
    path.write_text(json.dumps(online))
    described = json.loads((bundle / "bundle.json").read_text())
    described["online"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (bundle / "bundle.json").write_text(json.dumps(described))

    with pytest.raises(ModelLoadError) as caught:
        load_model(bundle)

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path.resolve()}: ")
    assert says in message
