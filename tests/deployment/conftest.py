"""Fixtures for the delivery tests: the engine, a sample bundle, and each image built once.

Container tests skip with the reason when no Docker engine answers, and fail instead when
``HPP_REQUIRE_CONTAINERS=1`` (``.ci/run`` sets it after docker-up). Images are built once
per session with the same ``docker build`` arguments the README gives, tagged
``hpp-test/<repository>:<session tag>``, and removed by ID at the end; the build cache
stays, so a second session rebuilds in seconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, run_hpp_in
from tests.deployment._docker import (
    BuiltImage,
    build_image,
    docker,
    docker_problem,
    remove_image,
)

# deployment/dagger is a folder of scripts, not a package of the project: put it on the path
# the way `python deployment/dagger/main.py` does.
DAGGER_DIR = REPO / "deployment" / "dagger"
if str(DAGGER_DIR) not in sys.path:
    sys.path.insert(0, str(DAGGER_DIR))

IMAGE_PREFIX = "hpp-test"
SESSION_TAG = f"t{uuid.uuid4().hex[:8]}"
REQUIRE_VARIABLE = "HPP_REQUIRE_CONTAINERS"


def base_image() -> str:
    return os.environ.get("PYTHON_BASE_IMAGE", "python:3.11-slim")


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The base image name, once an engine answers; skip (or fail in CI) otherwise."""
    problem = docker_problem(base_image())
    if problem is not None:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_VARIABLE}=1 but containers cannot run: {problem}")
        pytest.skip(f"container tests need Docker: {problem}")
    return base_image()


@pytest.fixture(scope="session")
def network(docker_engine: str) -> Iterator[str]:
    """A user-defined bridge: docker-up's engine runs with --bridge=none (no default network)."""
    name = f"hpp-test-{SESSION_TAG}"
    docker(["network", "create", name])
    yield name
    docker(["network", "rm", name], check=False)


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``hpp`` ingested the sample, built the store and trained a bundle."""
    folder = tmp_path_factory.mktemp("deployment-project")
    for step in (["ingest", "--source", "sample"], ["build"], ["train"]):
        result = run_hpp_in(folder, *step)
        assert result.returncode == 0, f"hpp {' '.join(step)} failed:\n{result.stderr}"
    return folder


@pytest.fixture(scope="session")
def sample_bundle(sample_project: Path) -> Path:
    return (sample_project / "models" / "house-price" / "latest").resolve()


@pytest.fixture(scope="session")
def build_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-logs")


@pytest.fixture(scope="session")
def image_builder(docker_engine: str, build_logs: Path) -> Iterator[Callable[..., BuiltImage]]:
    """Build an image once under a session tag; every image built is removed at the end."""
    built: list[BuiltImage] = []

    def build(
        dockerfile: str, repository: str, context: Path = REPO, **build_args: str
    ) -> BuiltImage:
        image = build_image(
            REPO / dockerfile,
            context,
            f"{IMAGE_PREFIX}/{repository}:{SESSION_TAG}",
            {"PYTHON_IMAGE": docker_engine, **build_args},
            build_logs / f"{repository}.log",
        )
        built.append(image)
        print(f"built {image.tag} in {image.seconds:.0f}s")
        return image

    yield build
    for image in built:
        remove_image(image)


@pytest.fixture(scope="session")
def revision() -> str:
    result = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short=7", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "0000000"


@pytest.fixture(scope="session")
def service_image(
    image_builder: Callable[..., BuiltImage], sample_bundle: Path, revision: str
) -> BuiltImage:
    """Dockerfile.service with the sample bundle baked in (MODEL_BUNDLE).

    The bundle must sit inside the build context, so it is copied under models/ (ignored by
    git) for the length of the build and removed right after.
    """
    staging = REPO / "models" / f".test-bundle-{SESSION_TAG}"
    shutil.copytree(sample_bundle, staging)
    try:
        return image_builder(
            "Dockerfile.service",
            "house-price-predictor-service",
            MODEL_BUNDLE=str(staging.relative_to(REPO)),
            VERSION=SESSION_TAG,
            REVISION=revision,
            CREATED="2026-01-01T00:00:00Z",
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="session")
def ui_image(image_builder: Callable[..., BuiltImage], revision: str) -> BuiltImage:
    return image_builder(
        "Dockerfile.ui", "house-price-predictor-ui", VERSION=SESSION_TAG, REVISION=revision
    )


@pytest.fixture(scope="session")
def mlflow_image(image_builder: Callable[..., BuiltImage]) -> BuiltImage:
    return image_builder(
        "deployment/mlflow/Dockerfile",
        "house-price-predictor-mlflow",
        context=REPO / "deployment" / "mlflow",
    )
