"""Metrics: Prometheus text, slots per series, and the sum over worker processes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serving.metrics import ServiceMetrics
from serving.schemas import ModelRef

MODEL = ModelRef(name="house-price", version="v1")
ROUTES = ("/predict", "/health")


def _series(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            values[series] = float(value)
    return values


def test_requests_are_counted_by_route_and_status() -> None:
    metrics = ServiceMetrics(ROUTES)
    metrics.observe_request("/predict", 200, 0.002)
    metrics.observe_request("/predict", 200, 0.0004)
    metrics.observe_request("/predict", 422, 0.001)
    metrics.observe_request("/elsewhere", 404, 0.0001)
    metrics.observe_request("/health", 418, 0.0001)
    values = _series(metrics.render(MODEL).decode())
    assert values['hpp_requests_total{route="/predict",status="200"}'] == 2
    assert values['hpp_requests_total{route="/predict",status="422"}'] == 1
    assert values['hpp_requests_total{route="other",status="404"}'] == 1
    assert values['hpp_requests_total{route="/health",status="4xx"}'] == 1
    assert values['hpp_request_duration_seconds_bucket{route="/predict",le="0.0005"}'] == 1
    assert values['hpp_request_duration_seconds_bucket{route="/predict",le="0.001"}'] == 2
    assert values['hpp_request_duration_seconds_bucket{route="/predict",le="+Inf"}'] == 3
    assert values['hpp_request_duration_seconds_count{route="/predict"}'] == 3


def test_price_histogram_takes_single_prices_and_batches_alike() -> None:
    metrics = ServiceMetrics(ROUTES)
    metrics.observe_prices(np.array([120_000.0], dtype=np.float32))
    metrics.observe_prices(np.array([90_000.0, 100_000.0, 3_000_000.0], dtype=np.float32))
    values = _series(metrics.render(MODEL).decode())
    assert values['hpp_predicted_price_dollars_bucket{le="100000"}'] == 2
    assert values['hpp_predicted_price_dollars_bucket{le="150000"}'] == 3
    assert values['hpp_predicted_price_dollars_bucket{le="+Inf"}'] == 4
    assert values["hpp_predicted_price_dollars_count"] == 4
    assert values["hpp_predicted_price_dollars_sum"] == 3_310_000


def test_render_is_prometheus_text_with_model_info() -> None:
    text = ServiceMetrics(ROUTES).render(ModelRef(name='a"b', version="1")).decode()
    assert "# TYPE hpp_requests_total counter" in text
    assert "# TYPE hpp_request_duration_seconds histogram" in text
    assert 'hpp_model_info{name="a\\"b",version="1"} 1' in text
    assert text.endswith("\n")


def test_workers_sharing_a_folder_are_summed(tmp_path: Path) -> None:
    first = ServiceMetrics(ROUTES, tmp_path, worker="101")
    second = ServiceMetrics(ROUTES, tmp_path, worker="102")
    first.observe_request("/predict", 200, 0.001)
    second.observe_request("/predict", 200, 0.001)
    second.observe_request("/predict", 200, 0.001)
    second.observe_warnings([("location", "unknown_category")])
    for metrics in (first, second):
        values = _series(metrics.render(MODEL).decode())
        assert values['hpp_requests_total{route="/predict",status="200"}'] == 3
        assert values['hpp_input_warnings_total{field="location",kind="unknown_category"}'] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["101.metrics", "102.metrics"]
