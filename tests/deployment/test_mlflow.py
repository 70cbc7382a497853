"""deployment/mlflow: the server image starts, answers its REST API, and keeps data in /mlflow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deployment._docker import BuiltImage, Container, http_json, run_container, wait_for_http

pytestmark = pytest.mark.containers

# A fresh SQLite store runs MLflow's migrations first: about 50 s on the vfs driver here.
START_TIMEOUT = 180.0


@pytest.fixture(scope="module")
def mlflow_server(mlflow_image: BuiltImage, network: str) -> Iterator[Container]:
    with run_container(mlflow_image.tag, network=network, ports=[5555]) as ran:
        wait_for_http(f"{ran.url(5555)}/health", timeout=START_TIMEOUT, container=ran)
        yield ran


def test_mlflow_server_answers_its_api(mlflow_server: Container) -> None:
    api = f"{mlflow_server.url(5555)}/api/2.0/mlflow"

    created = http_json(f"{api}/experiments/create", {"name": "house-price-predictor"})
    found = http_json(f"{api}/experiments/get-by-name?experiment_name=house-price-predictor")

    assert found["experiment"]["experiment_id"] == created["experiment_id"]


def test_mlflow_server_stores_in_the_volume_as_non_root(mlflow_server: Container) -> None:
    listing = mlflow_server.exec(["ls", "-n", "/mlflow"], check=True).stdout
    uid = mlflow_server.exec(["id", "-u"], check=True).stdout.strip()

    assert uid == "10001"
    assert "mlflow.db" in listing
    assert "artifacts" in listing
