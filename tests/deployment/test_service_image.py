"""The service image, run for real: ready, same answer as outside Docker, non-root, lean."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HPP
from tests.deployment._docker import (
    BuiltImage,
    Container,
    docker,
    free_port,
    run_container,
    wait_for_http,
)

pytestmark = pytest.mark.containers

START_TIMEOUT = 90.0
SMOKE = Path(__file__).resolve().parents[2] / "deployment" / "dagger" / "hpp_ci" / "smoke.py"


def smoke_check(base_url: str) -> dict[str, Any]:
    """deployment/dagger/hpp_ci/smoke.py, the same check the Dagger pipeline runs."""
    result = subprocess.run(
        [sys.executable, str(SMOKE), base_url], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.fixture(scope="module")
def service_container(service_image: BuiltImage, network: str) -> Iterator[Container]:
    """The image as built, bundle baked in, no mounts, read-only root as in Kubernetes."""
    options = ["--read-only", "--tmpfs", "/tmp"]
    with run_container(service_image.tag, network=network, ports=[8000], options=options) as ran:
        wait_for_http(f"{ran.url(8000)}/ready", timeout=START_TIMEOUT, container=ran)
        yield ran


@pytest.fixture(scope="module")
def local_service(sample_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``hpp serve`` outside Docker on 127.0.0.1, on the same bundle."""
    port = free_port()
    log = tmp_path_factory.mktemp("local-service") / "serve.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HPP_", "MLFLOW_"))}
    command = [str(HPP), "serve", "--model", str(sample_bundle), "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=environment, stdout=sink, stderr=sink)
    try:
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{url}/ready", timeout=START_TIMEOUT)
        except AssertionError as err:
            raise AssertionError(f"{err}\nhpp serve's log:\n{log.read_text()}") from err
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_service_image_answers_ready_and_predicts(service_container: Container) -> None:
    answer = smoke_check(service_container.url(8000))

    assert answer["model"]["name"] == "house-price"


def test_service_image_predicts_what_the_service_outside_docker_predicts(
    service_container: Container, local_service: str
) -> None:
    in_docker = smoke_check(service_container.url(8000))
    outside = smoke_check(local_service)

    assert in_docker == outside


def test_service_image_serves_the_baked_bundle(
    service_container: Container, sample_bundle: Path
) -> None:
    bundle = json.loads((sample_bundle / "bundle.json").read_text())
    answer = smoke_check(service_container.url(8000))

    assert answer["model"]["version"] == bundle["version"]


def test_service_process_runs_as_non_root(service_container: Container) -> None:
    status = service_container.exec(["cat", "/proc/1/status"], check=True).stdout
    uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))

    assert set(uids) == {"10001"}


@pytest.mark.parametrize("module", ["sklearn", "xgboost", "pandas", "joblib"])
def test_training_stack_is_absent(service_container: Container, module: str) -> None:
    result = service_container.exec(["python3", "-c", f"import {module}"])

    assert result.returncode != 0
    assert f"No module named '{module}'" in result.stderr


def test_service_image_carries_oci_labels(service_image: BuiltImage, revision: str) -> None:
    labels = json.loads(
        docker(
            ["image", "inspect", "--format", "{{json .Config.Labels}}", service_image.tag]
        ).stdout
    )

    assert labels["org.opencontainers.image.version"] == service_image.tag.rsplit(":", 1)[1]
    assert labels["org.opencontainers.image.revision"] == revision
    assert labels["org.opencontainers.image.created"] == "2026-01-01T00:00:00Z"


def test_service_image_without_a_bundle_exits_with_one_line(
    service_image: BuiltImage, network: str, tmp_path: Path
) -> None:
    # An empty folder mounted over the baked models: what a user sees with a wrong mount.
    empty = tmp_path / "models"
    empty.mkdir()
    result = docker(
        ["run", "--rm", "--network", network, "-v", f"{empty}:/app/models:ro", service_image.tag],
        check=False,
        timeout=120,
    )

    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ")
    assert "/app/models/house-price" in result.stderr
