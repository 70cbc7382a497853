"""The service over HTTP: predictions, warnings, every error class, operations endpoints."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from featurestore.schema import PLAUSIBLE_RANGES
from serving import ServiceSettings, create_app, load_model
from tests.serving.conftest import MAX_BATCH, MAX_BODY_BYTES, RunningService, onnx_prices

HOUSE: dict[str, Any] = {
    "sqft": 1850,
    "bedrooms": 3,
    "bathrooms": 2.5,
    "location": "suburb",
    "year_built": 1994,
    "condition": "good",
}
HOUSES = [
    HOUSE,
    HOUSE | {"sqft": 2600, "location": "waterfront", "condition": "excellent"},
    HOUSE | {"bedrooms": 5, "bathrooms": 4, "location": "rural", "year_built": 1950},
    HOUSE | {"sqft": 1400, "bedrooms": 2, "bathrooms": 1, "location": "urban", "condition": "fair"},
    HOUSE | {"location": "downtown", "condition": "poor", "year_built": 2019},
]


def test_predict_equals_onnxruntime_on_the_same_inputs(
    client: httpx.Client, onnx_session: Any
) -> None:
    expected = onnx_prices(onnx_session, HOUSES)
    for house, (price, lower, upper) in zip(HOUSES, expected, strict=True):
        body = client.post("/predict", json=house).json()
        assert body["predicted_price"] == float(price)
        assert body["interval"]["lower"] == float(lower)
        assert body["interval"]["upper"] == float(upper)
        assert body["warnings"] == []


def test_predict_reports_model_and_interval_level(client: httpx.Client) -> None:
    body = client.post("/predict", json=HOUSE).json()
    model = client.get("/model").json()
    assert body["model"] == {"name": model["name"], "version": model["version"]}
    assert body["interval"]["level"] == model["interval"]["level"] == 0.9
    assert body["interval"]["lower"] < body["predicted_price"] < body["interval"]["upper"]


def test_batch_preserves_order(client: httpx.Client, onnx_session: Any) -> None:
    houses = HOUSES + HOUSES[::-1]
    response = client.post("/predict/batch", json={"houses": houses})
    assert response.status_code == 200
    prices = [item["predicted_price"] for item in response.json()["predictions"]]
    assert prices == [float(p) for p in onnx_prices(onnx_session, houses)[:, 0]]


def test_batch_predict_alias_takes_a_bare_list(client: httpx.Client) -> None:
    wrapped = client.post("/predict/batch", json={"houses": HOUSES}).json()
    bare = client.post("/batch-predict", json=HOUSES).json()
    assert bare == wrapped
    assert len(bare["predictions"]) == len(HOUSES)


@pytest.mark.parametrize(
    "spelling", ["Suburb", "SUBURB", "  suburb", "suburb\t", " SuBuRb \n"], ids=repr
)
def test_categories_match_ignoring_case_and_surrounding_spaces(
    client: httpx.Client, spelling: str
) -> None:
    reference = client.post("/predict", json=HOUSE).json()
    body = client.post("/predict", json=HOUSE | {"location": spelling}).json()
    assert body["predicted_price"] == reference["predicted_price"]
    assert body["warnings"] == []


def test_unknown_category_is_served_with_a_warning(client: httpx.Client, onnx_session: Any) -> None:
    body = client.post("/predict", json=HOUSE | {"location": "Moon Base"}).json()
    [warning] = body["warnings"]
    assert warning["field"] == "location"
    assert warning["code"] == "unknown_category"
    assert warning["message"].startswith(
        "location 'moon base' is not one the model knows, so it adds nothing to the price; "
    )
    assert "suburb" in warning["message"] and "waterfront" in warning["message"]
    # The graph one-hot encodes any unseen value as zeros; the service sends "".
    [expected] = onnx_prices(onnx_session, [HOUSE | {"location": ""}])
    assert body["predicted_price"] == float(expected[0])


@pytest.mark.parametrize(
    ("field", "value"),
    [("sqft", 9000), ("bedrooms", 9), ("bathrooms", 0.5), ("year_built", 1890)],
    ids=["sqft", "bedrooms", "bathrooms", "year_built"],
)
def test_value_outside_training_range_is_served_with_a_warning(
    client: httpx.Client, field: str, value: float
) -> None:
    response = client.post("/predict", json=HOUSE | {field: value})
    assert response.status_code == 200
    [warning] = response.json()["warnings"]
    assert warning["field"] == field
    assert warning["code"] == "outside_training_range"
    assert "trained on" in warning["message"]


INVALID = [
    ("sqft_zero", HOUSE | {"sqft": 0}, "$.sqft", "from 1 to 20,000 square feet"),
    ("sqft_negative", HOUSE | {"sqft": -120}, "$.sqft", "from 1 to 20,000 square feet"),
    ("sqft_tiny", HOUSE | {"sqft": 1e-30}, "$.sqft", "from 1 to 20,000 square feet"),
    ("sqft_huge", HOUSE | {"sqft": 20_001}, "$.sqft", "from 1 to 20,000 square feet"),
    ("bedrooms_many", HOUSE | {"bedrooms": 21}, "$.bedrooms", "from 0 to 20"),
    ("bathrooms_many", HOUSE | {"bathrooms": 15.5}, "$.bathrooms", "from 0 to 15"),
    ("year_too_early", HOUSE | {"year_built": 1699}, "$.year_built", "from 1700"),
    ("bedrooms_fraction", HOUSE | {"bedrooms": 2.5}, "$.bedrooms", "whole number"),
    ("bedrooms_negative", HOUSE | {"bedrooms": -1}, "$.bedrooms", "whole number"),
    ("bathrooms_quarter", HOUSE | {"bathrooms": 1.25}, "$.bathrooms", "multiple of 0.5"),
    ("bathrooms_negative", HOUSE | {"bathrooms": -0.5}, "$.bathrooms", "multiple of 0.5"),
    ("year_future", HOUSE | {"year_built": 2999}, "$.year_built", "in the future"),
    ("year_fraction", HOUSE | {"year_built": 1994.5}, "$.year_built", "whole year"),
    ("missing_field", {k: v for k, v in HOUSE.items() if k != "condition"}, "$", "condition"),
    ("unknown_field", HOUSE | {"price_per_sqft": 1}, "$", "price_per_sqft"),
    ("number_as_string", HOUSE | {"sqft": "1850"}, "$.sqft", "Expected `float`"),
    ("empty_category", HOUSE | {"location": ""}, "$.location", "location is empty"),
]


@pytest.mark.parametrize(
    ("body", "location", "says"), [case[1:] for case in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_value_is_422_naming_field_and_rule(
    client: httpx.Client, body: dict[str, Any], location: str, says: str
) -> None:
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    error = response.json()
    assert error["status_code"] == 422
    assert says in error["detail"]
    assert error["extra"][0]["location"] == location


BLANK = [
    ("space", " "),
    ("tab_newline", "\t\n "),
    ("no_break_space", "\u00a0"),
    ("em_and_ideographic_spaces", "\u2003\u3000"),
    ("line_separator", "\u2028"),
    ("zero_width_space", "\u200b"),
    ("byte_order_mark_and_space", "\ufeff "),
]


@pytest.mark.parametrize("field", ["location", "condition"])
@pytest.mark.parametrize("value", [case[1] for case in BLANK], ids=[case[0] for case in BLANK])
def test_blank_category_is_422_saying_it_is_empty(
    client: httpx.Client, field: str, value: str
) -> None:
    response = client.post("/predict", json=HOUSE | {field: value})
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["detail"].startswith(f"{field} is empty")
    assert "GET /model" in error["detail"]
    [problem] = error["extra"]
    assert problem["location"] == f"$.{field}"
    assert problem["field"] == field
    assert "suburb" in problem["allowed"] or "good" in problem["allowed"]


def test_blank_category_in_a_batch_points_at_the_row(client: httpx.Client) -> None:
    houses = [HOUSE, HOUSE | {"location": "\u00a0\u00a0"}, HOUSE | {"condition": " "}]
    response = client.post("/predict/batch", json={"houses": houses})
    assert response.status_code == 422
    error = response.json()
    assert [problem["location"] for problem in error["extra"]] == [
        "$.houses[1].location",
        "$.houses[2].condition",
    ]
    assert "1 more blank values" in error["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded", "text/csv"],
)
def test_body_declared_as_another_type_is_415(client: httpx.Client, content_type: str) -> None:
    body = json.dumps(HOUSE)
    for path, sent in (("/predict", body), ("/predict/batch", json.dumps({"houses": [HOUSE]}))):
        response = client.post(path, content=sent, headers={"content-type": content_type})
        assert response.status_code == 415, response.text
        error = response.json()
        assert error["status_code"] == 415
        assert "Content-Type: application/json" in error["detail"]
        assert content_type.split(";")[0] in error["detail"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=UTF-8", "application/vnd.house+json", None],
    ids=["json", "json_charset", "json_suffix", "none"],
)
def test_json_body_is_accepted_under_json_types_or_none(
    client: httpx.Client, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/predict", content=json.dumps(HOUSE), headers=headers)
    assert response.status_code == 200, response.text


def test_non_finite_number_is_422(client: httpx.Client) -> None:
    # JSON cannot spell NaN or infinity; an overflowing literal is the way they arrive.
    body = b'{"sqft": 1e999, "bedrooms": 3, "bathrooms": 2, "location": "suburb", '
    body += b'"year_built": 1994, "condition": "good"}'
    response = client.post("/predict", content=body)
    assert response.status_code == 422
    assert response.json()["extra"][0]["location"] == "$.sqft"


def test_batch_refusal_points_at_the_row(client: httpx.Client) -> None:
    houses = [HOUSE, HOUSE, HOUSE | {"bathrooms": 1.3}]
    response = client.post("/predict/batch", json={"houses": houses})
    assert response.status_code == 422
    assert response.json()["extra"][0]["location"] == "$.houses[2].bathrooms"
    response = client.post("/batch-predict", json=[HOUSE, HOUSE | {"year_built": 3000}])
    assert response.json()["extra"][0]["location"] == "$[1].year_built"


@pytest.mark.parametrize(
    "body",
    [b'{"sqft": 1850, ', b"not json", b'{"sqft": NaN}', b"\xff\xfe"],
    ids=["truncated", "text", "nan_token", "bytes"],
)
def test_malformed_json_is_400(client: httpx.Client, body: bytes) -> None:
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


def test_empty_body_is_400(client: httpx.Client) -> None:
    response = client.post("/predict", content=b"")
    assert response.status_code == 400
    assert "needs a JSON body" in response.json()["detail"]


def test_body_over_the_limit_is_413(client: httpx.Client) -> None:
    body = b'{"houses": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = client.post("/predict/batch", content=body)
    assert response.status_code == 413
    assert f"{MAX_BODY_BYTES:,} bytes" in response.json()["detail"]


def test_batch_over_the_limit_is_422_with_the_limit(client: httpx.Client) -> None:
    response = client.post("/predict/batch", json={"houses": [HOUSE] * (MAX_BATCH + 1)})
    assert response.status_code == 422
    assert f"at most {MAX_BATCH}" in response.json()["detail"]
    response = client.post("/batch-predict", json=[HOUSE] * (MAX_BATCH + 1))
    assert response.status_code == 422


def test_empty_batch_is_422(client: httpx.Client) -> None:
    assert client.post("/predict/batch", json={"houses": []}).status_code == 422


def test_unknown_path_and_method(client: httpx.Client) -> None:
    assert client.get("/nope").status_code == 404
    assert client.get("/predict").status_code == 405


def test_health_and_ready(client: httpx.Client) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True


def test_model_describes_the_feature_schema(client: httpx.Client, bundle_dir: Path) -> None:
    described = json.loads((bundle_dir / "bundle.json").read_text())
    model = client.get("/model").json()
    assert model["version"] == described["version"]
    assert model["created_at"] == described["created_at"]
    inputs = {item["name"]: item for item in model["inputs"]}
    for spec in described["feature_schema"]["inputs"]:
        item = inputs[spec["name"]]
        assert item["description"] == spec["description"]
        assert item.get("categories") == spec.get("categories")
        assert item.get("training_min") == spec.get("min")
        assert item.get("training_max") == spec.get("max")
    assert inputs["bathrooms"]["step"] == 0.5
    assert model["metrics"]["cv"]["rows"] == described["metrics"]["cv"]["rows"]
    assert model["interval"]["level"] == described["interval"]["level"]
    assert model["strict_categories"] is False
    assert model["max_batch"] == MAX_BATCH
    assert (model["market_features"], model["market_values_as_of"]) == ([], None)
    assert model["market_values"] is None


def test_model_states_the_limits_the_service_enforces(client: httpx.Client) -> None:
    inputs = {item["name"]: item for item in client.get("/model").json()["inputs"]}
    this_year = time.localtime().tm_year
    assert (inputs["year_built"]["minimum"], inputs["year_built"]["maximum"]) == (1700, this_year)
    assert client.post("/predict", json=HOUSE | {"year_built": this_year}).status_code == 200
    assert client.post("/predict", json=HOUSE | {"year_built": this_year + 1}).status_code == 422
    for name, (low, high) in PLAUSIBLE_RANGES.items():
        assert (inputs[name]["minimum"], inputs[name]["maximum"]) == (low, high)
        step = inputs[name].get("step", 1)
        for value, status in ((low, 200), (high, 200), (low - step, 422), (high + step, 422)):
            response = client.post("/predict", json=HOUSE | {name: value})
            assert response.status_code == status, (name, value, response.text)


def test_openapi_schema_and_docs_are_served(client: httpx.Client) -> None:
    schema = client.get("/schema/openapi.json").json()
    assert {"/predict", "/predict/batch", "/batch-predict", "/model", "/metrics"} <= set(
        schema["paths"]
    )
    house = schema["components"]["schemas"]["House"]["properties"]
    assert house["bathrooms"]["multipleOf"] == 0.5
    assert "suburb" in house["location"]["description"]
    assert client.get("/schema/swagger").status_code == 200


def test_no_cors_headers_by_default(client: httpx.Client) -> None:
    response = client.post("/predict", json=HOUSE, headers={"origin": "https://example.org"})
    assert "access-control-allow-origin" not in response.headers


def test_not_ready_until_the_self_test_has_passed(bundle_dir: Path) -> None:
    from litestar.testing import TestClient

    app = create_app(load_model(bundle_dir), ServiceSettings())
    not_started = TestClient(app)  # outside `with`, the start-up hooks have not run
    response = not_started.get("/ready")
    assert response.status_code == 503
    assert response.json()["ready"] is False
    assert not_started.get("/health").status_code == 200
    with TestClient(app) as started:
        assert started.get("/ready").status_code == 200


def test_configured_cors_origin_is_allowed(bundle_dir: Path) -> None:
    from litestar.testing import TestClient

    settings = ServiceSettings(cors_origins=["https://dashboard.example"])
    app = create_app(load_model(bundle_dir), settings)
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    with TestClient(app) as http:
        allowed = http.options(
            "/predict", headers={"origin": "https://dashboard.example", **preflight}
        )
        other = http.post("/predict", json=HOUSE, headers={"origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://dashboard.example"
    assert "access-control-allow-origin" not in other.headers


def test_metrics_count_what_was_sent(client: httpx.Client) -> None:
    before = _metrics(client)
    for _ in range(3):
        client.post("/predict", json=HOUSE)
    client.post("/predict", json=HOUSE | {"location": "atlantis"})
    client.post("/predict", json=HOUSE | {"bedrooms": 0.5})
    client.post("/predict/batch", json={"houses": HOUSES})
    client.get("/nope")
    after = _metrics(client)

    def delta(series: str) -> float:
        return after.get(series, 0.0) - before.get(series, 0.0)

    assert delta('hpp_requests_total{route="/predict",status="200"}') == 4
    assert delta('hpp_requests_total{route="/predict",status="422"}') == 1
    assert delta('hpp_requests_total{route="/predict/batch",status="200"}') == 1
    assert delta('hpp_requests_total{route="other",status="404"}') == 1
    assert delta('hpp_request_duration_seconds_count{route="/predict"}') == 5
    assert delta("hpp_predicted_price_dollars_count") == 4 + len(HOUSES)
    assert delta('hpp_input_warnings_total{field="location",kind="unknown_category"}') == 1
    assert 'hpp_model_info{name="house-price"' in client.get("/metrics").text


def test_strict_mode_refuses_unknown_categories_listing_allowed_values(
    strict_service: RunningService,
) -> None:
    with httpx.Client(base_url=strict_service.url) as http:
        assert http.post("/predict", json=HOUSE | {"location": " SUBURB "}).status_code == 200
        response = http.post("/predict", json=HOUSE | {"location": "Moon"})
        assert response.status_code == 422
        [problem] = response.json()["extra"]
        assert problem["location"] == "$.location"
        assert problem["message"].startswith("location 'moon' is not one the model knows; known")
        assert problem["allowed"] == [
            "downtown",
            "mountain",
            "rural",
            "suburb",
            "urban",
            "waterfront",
        ]
        blank = http.post("/predict", json=HOUSE | {"location": "\u00a0"})
        assert blank.status_code == 422
        assert blank.json()["detail"].startswith("location is empty")
        batch = [HOUSE, HOUSE | {"condition": "meh"}]
        response = http.post("/predict/batch", json={"houses": batch})
        assert response.json()["extra"][0]["location"] == "$.houses[1].condition"
        assert http.get("/model").json()["strict_categories"] is True


def test_metrics_add_up_across_workers(strict_service: RunningService) -> None:
    with httpx.Client(base_url=strict_service.url) as http:
        before = _metrics(http)
        # New connections each time, so the kernel spreads them over both workers.
        for _ in range(20):
            httpx.post(f"{strict_service.url}/predict", json=HOUSE)
        time.sleep(0.1)
        after = _metrics(http)
    series = 'hpp_requests_total{route="/predict",status="200"}'
    assert after[series] - before.get(series, 0.0) == 20


def _metrics(http: httpx.Client) -> dict[str, float]:
    text = http.get("/metrics").text
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            values[series] = float(value)
    assert all(re.match(r"^hpp_\w+", series) for series in values)
    return values


def test_prices_are_finite(client: httpx.Client) -> None:
    prices = [client.post("/predict", json=house).json()["predicted_price"] for house in HOUSES]
    assert np.all(np.isfinite(prices))
