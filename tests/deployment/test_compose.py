"""docker-compose.yaml with docker-compose v1: the stack comes up, answers, and goes down."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.deployment._docker import BuiltImage, docker, free_port, wait_for_http
from tests.deployment.conftest import IMAGE_PREFIX, SESSION_TAG
from tests.deployment.test_service_image import smoke_check

pytestmark = pytest.mark.containers

COMPOSE_FILES = [
    REPO / "docker-compose.yaml",
    REPO / "deployment" / "mlflow" / "docker-compose.yaml",
]
ENV_EXAMPLE = REPO / ".env.example"
UP_TIMEOUT = 300.0

# The UI's own client, run inside the UI container against the address compose gave it.
REACH_SERVICE = """
import os
from ui.client import ServiceClient
with ServiceClient(os.environ["API_URL"], timeout=10) as service:
    ready = service.readiness()
    info = service.model_info()
print(os.environ["API_URL"], ready.ready, info.name, info.version)
"""


@dataclass(frozen=True)
class Stack:
    project: str
    env_file: Path
    service_port: int
    ui_port: int

    def compose(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        command = ["docker-compose", "--project-name", self.project]
        command += ["--env-file", str(self.env_file), "-f", str(REPO / "docker-compose.yaml")]
        result = subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=timeout, cwd=REPO
        )
        assert result.returncode == 0, f"docker-compose {' '.join(args)}:\n{result.stderr}"
        return result

    def container(self, service: str) -> str:
        return self.compose("ps", "-q", service).stdout.strip()


def env_file_from_example(target: Path, overrides: dict[str, str]) -> Path:
    """.env.example with some values replaced: every key it sets must already be there."""
    lines = ENV_EXAMPLE.read_text().splitlines()
    keys = {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}
    assert set(overrides) <= keys, f"not in .env.example: {set(overrides) - keys}"
    replaced = [
        f"{key}={overrides[key]}" if (key := line.split("=", 1)[0]) in overrides else line
        for line in lines
    ]
    target.write_text("\n".join(replaced) + "\n")
    return target


@pytest.fixture(scope="module")
def stack(
    service_image: BuiltImage,
    ui_image: BuiltImage,
    sample_project: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose v1 is not installed (docker-up installs it)")
    folder = tmp_path_factory.mktemp("compose")
    service_port, ui_port = free_port(), free_port()
    env_file = env_file_from_example(
        folder / "compose.env",
        {
            "HPP_IMAGE_PREFIX": IMAGE_PREFIX,
            "HPP_VERSION": SESSION_TAG,
            "HPP_MODELS_DIR": str(sample_project / "models"),
            "HPP_DATA_DIR": str(sample_project / "data"),
            "HPP_SERVICE_PORT": str(service_port),
            "HPP_UI_PORT": str(ui_port),
        },
    )
    running = Stack(f"hpp-test-{SESSION_TAG}", env_file, service_port, ui_port)
    try:
        # `up` returns once the UI started, which compose holds back until the service is
        # healthy (depends_on: condition: service_healthy).
        running.compose("up", "-d", "--no-build", timeout=UP_TIMEOUT)
        yield running
    finally:
        running.compose("down", "--volumes", "--remove-orphans", "--timeout", "10")
        left = docker(
            ["ps", "-a", "-q", "--filter", f"label=com.docker.compose.project={running.project}"]
        ).stdout.split()
        assert left == [], f"containers left after down: {left}"


@pytest.mark.parametrize("compose_file", COMPOSE_FILES, ids=["stack", "mlflow"])
def test_compose_file_is_valid_for_docker_compose_v1(
    docker_engine: str, compose_file: Path
) -> None:
    result = subprocess.run(
        ["docker-compose", "--env-file", str(ENV_EXAMPLE), "-f", str(compose_file), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )

    assert result.returncode == 0, result.stderr


def test_env_example_lists_every_compose_variable() -> None:
    used = set()
    for compose_file in COMPOSE_FILES:
        used |= set(re.findall(r"\$\{([A-Z_]+)", compose_file.read_text()))
    listed = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE.read_text(), flags=re.MULTILINE))

    assert used == listed


def test_service_becomes_healthy(stack: Stack) -> None:
    health = docker(["inspect", "--format", "{{.State.Health.Status}}", stack.container("service")])

    assert health.stdout.strip() == "healthy"


def test_prediction_through_the_published_port(stack: Stack) -> None:
    answer = smoke_check(f"http://127.0.0.1:{stack.service_port}")

    assert answer["predicted_price"] > 0


def test_ui_health_endpoint_answers(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.ui_port}/_stcore/health"
    wait_for_http(url, timeout=60)

    with urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.read().decode().strip() == "ok"


def test_ui_reaches_the_service_by_its_compose_name(stack: Stack, sample_bundle: Path) -> None:
    version = json.loads((sample_bundle / "bundle.json").read_text())["version"]
    result = stack.compose("exec", "-T", "ui", "python3", "-c", REACH_SERVICE)

    assert result.stdout.split() == ["http://service:8000", "True", "house-price", version]


@pytest.mark.parametrize("service", ["service", "ui"])
def test_stack_runs_as_non_root_on_a_read_only_root(stack: Stack, service: str) -> None:
    container = stack.container(service)
    config = json.loads(docker(["inspect", "--format", "{{json .}}", container]).stdout)
    uid = docker(["exec", container, "id", "-u"]).stdout.strip()

    assert uid == "10001"
    assert config["HostConfig"]["ReadonlyRootfs"] is True


def test_ui_image_has_no_training_stack_nor_mlflow(stack: Stack) -> None:
    container = stack.container("ui")
    for module in ("sklearn", "xgboost", "mlflow"):
        result = docker(["exec", container, "python3", "-c", f"import {module}"], check=False)
        assert f"No module named '{module}'" in result.stderr, module
