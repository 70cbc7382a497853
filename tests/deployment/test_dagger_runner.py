"""Dockerfile.dagger-runner: a non-root user reaches the host's Docker socket and runs the plan.

The Dagger engine itself cannot be fetched here, so the runner is checked up to the
point where the SDK would start it: ``--dry-run`` from the entry script.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.deployment._docker import BuiltImage, docker

pytestmark = pytest.mark.containers

SOCKET = Path("/var/run/docker.sock")


@pytest.fixture(scope="module")
def runner_image(image_builder: Callable[..., BuiltImage]) -> BuiltImage:
    if not SOCKET.exists():
        pytest.fail(f"{SOCKET} is missing: the runner is built for a host socket")
    return image_builder(
        "Dockerfile.dagger-runner", "dagger-runner", DOCKER_GID=str(SOCKET.stat().st_gid)
    )


def run_runner(image: BuiltImage, *args: str, entrypoint: str | None = None) -> str:
    command = ["run", "--rm", "-v", f"{SOCKET}:/var/run/docker.sock", "-v", f"{REPO}:/repo:ro"]
    if entrypoint is not None:
        command += ["--entrypoint", entrypoint]
    result = docker([*command, image.tag, *args], check=True, timeout=120)
    return result.stdout


def test_runner_uses_docker_as_non_root(runner_image: BuiltImage) -> None:
    output = run_runner(
        runner_image, "-c", "id -u; docker version --format '{{.Server.Version}}'", entrypoint="sh"
    )
    uid, server = output.split()

    assert uid == "10001"
    assert server


def test_runner_prints_the_plan_without_secrets(runner_image: BuiltImage) -> None:
    command = [
        "run",
        "--rm",
        "-v",
        f"{SOCKET}:/var/run/docker.sock",
        "-v",
        f"{REPO}:/repo:ro",
        "-e",
        "REGISTRY_USERNAME=someone",
        "-e",
        "REGISTRY_PASSWORD=not-to-be-printed",
        runner_image.tag,
        "--dry-run",
        "--revision",
        "abcdef1",
    ]
    result = docker(command, timeout=120)

    assert "stages: lint-and-test, train, build, smoke, scan, publish" in result.stdout
    assert "docker.io/someone/house-price-predictor-ui:abcdef1" in result.stdout
    assert "not-to-be-printed" not in result.stdout + result.stderr
