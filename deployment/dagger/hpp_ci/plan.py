"""What the pipeline does, decided without Dagger: stages, tags, build arguments, secrets.

Every command here is one the project already runs outside Dagger: ``.ci/run`` for lint
and tests, ``hpp run`` for the main job, the ``docker build`` arguments that
``tests/deployment`` uses, and ``smoke.py`` for the service check. The registry password
is held in a ``RegistryCredentials`` whose ``repr`` hides it, and only ever reaches Dagger
as a secret.
"""

from __future__ import annotations

import enum
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "DEFAULT_PYTHON_IMAGE",
    "IMAGES",
    "SOURCE_EXCLUDE",
    "Image",
    "Plan",
    "PlanError",
    "RegistryCredentials",
    "Stage",
    "build_args",
    "build_plan",
    "credentials_from_environment",
    "git_revision",
    "image_tags",
]

DEFAULT_PYTHON_IMAGE = "python:3.11-slim"
DEFAULT_REGISTRY = "docker.io"
DEFAULT_TRAIN_SOURCE = "sample"
MLFLOW_PORT = 5555
SERVICE_PORT = 8000

# The registry settings, read from the environment; the password never from a flag, so
# it stays out of shell history and process lists.
REGISTRY_VARIABLE = "REGISTRY_ADDRESS"
USERNAME_VARIABLE = "REGISTRY_USERNAME"
PASSWORD_VARIABLE = "REGISTRY_PASSWORD"

# The same tree `docker build` sees through .dockerignore, plus what tests need.
SOURCE_EXCLUDE = [
    ".git",
    ".venv",
    "**/__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "data/lake",
    "data/*.duckdb",
    "models/*/",
    "mlruns",
    "mlartifacts",
    "mlflow.db",
    "test-artifacts",
]

# `bash .ci/run` is CI: sync from the lockfile, ruff, mypy, pytest. Inside Dagger there is
# no Docker engine, so the container tests skip there and the stages below stand in.
LINT_AND_TEST_COMMAND = ["bash", ".ci/run"]


class PlanError(ValueError):
    """The pipeline was asked for something it cannot do; the message says what to change."""


class Stage(enum.Enum):
    LINT_AND_TEST = "lint-and-test"
    TRAIN = "train"
    BUILD = "build"
    SMOKE = "smoke"
    SCAN = "scan"
    PUBLISH = "publish"


@dataclass(frozen=True)
class Image:
    """One image the pipeline builds: its Dockerfile and its repository name."""

    dockerfile: str
    repository: str


IMAGES = (
    Image("Dockerfile.service", "house-price-predictor-service"),
    Image("Dockerfile.ui", "house-price-predictor-ui"),
)
MLFLOW_DOCKERFILE = "deployment/mlflow/Dockerfile"


@dataclass(frozen=True)
class RegistryCredentials:
    """Where and as whom to publish. ``password`` is excluded from ``repr``."""

    registry: str
    username: str
    password: str = field(repr=False)

    def reference(self, repository: str, tag: str) -> str:
        """``<registry>/<username>/<repository>:<tag>``, as ``docker push`` spells it."""
        return f"{self.registry}/{self.username}/{repository}:{tag}"


@dataclass(frozen=True)
class Plan:
    """Everything the Dagger layer needs; printing it reveals no secret."""

    stages: tuple[Stage, ...]
    revision: str
    tags: tuple[str, ...]
    python_image: str
    train_source: str
    created: str
    credentials: RegistryCredentials | None
    skipped: dict[Stage, str]

    def runs(self, stage: Stage) -> bool:
        return stage in self.stages

    def build_args(self, *, model_bundle: str | None = None) -> dict[str, str]:
        return build_args(
            python_image=self.python_image,
            version=self.tags[0],
            revision=self.revision,
            created=self.created,
            model_bundle=model_bundle,
        )

    def describe(self) -> list[str]:
        """One line per decision, for the log: stages, tags, targets and skipped stages."""
        lines = [f"stages: {', '.join(stage.value for stage in self.stages)}"]
        lines.append(f"revision {self.revision}, tags {', '.join(self.tags)}")
        if self.credentials is not None:
            for image in IMAGES:
                for tag in self.tags:
                    lines.append(f"publish: {self.credentials.reference(image.repository, tag)}")
        lines.extend(f"skipped {stage.value}: {why}" for stage, why in self.skipped.items())
        return lines


def image_tags(revision: str, *, dirty: bool) -> tuple[str, ...]:
    """The short SHA and ``latest``; a dirty tree gets ``<sha>-dirty`` and never ``latest``."""
    if not re.fullmatch(r"[0-9a-f]{7,40}", revision):
        message = f"revision must be a short or full git SHA (hex), got {revision!r}"
        raise PlanError(message)
    if dirty:
        return (f"{revision}-dirty",)
    return (revision, "latest")


def build_args(
    *,
    python_image: str,
    version: str,
    revision: str,
    created: str,
    model_bundle: str | None = None,
) -> dict[str, str]:
    """The ``--build-arg`` values of Dockerfile.service and Dockerfile.ui (OCI labels)."""
    values = {
        "PYTHON_IMAGE": python_image,
        "VERSION": version,
        "REVISION": revision,
        "CREATED": created,
    }
    if model_bundle is not None:
        values["MODEL_BUNDLE"] = model_bundle
    return values


def credentials_from_environment(
    environ: Mapping[str, str], *, registry: str | None = None, username: str | None = None
) -> RegistryCredentials | None:
    """Credentials when a username and a password are both given; none when neither is.

    Half a set (a username without a password, or the reverse) is an error, not a quiet
    skip of the publish stage.
    """
    username = username or environ.get(USERNAME_VARIABLE) or None
    password = environ.get(PASSWORD_VARIABLE) or None
    registry = registry or environ.get(REGISTRY_VARIABLE) or DEFAULT_REGISTRY
    if username is None and password is None:
        return None
    if username is None or password is None:
        missing = USERNAME_VARIABLE if username is None else PASSWORD_VARIABLE
        message = (
            f"publishing needs both ${USERNAME_VARIABLE} (or --registry-user) and "
            f"${PASSWORD_VARIABLE}; {missing} is not set. Set it, or unset the other to "
            "build without publishing."
        )
        raise PlanError(message)
    return RegistryCredentials(registry=registry, username=username, password=password)


def build_plan(
    *,
    revision: str,
    dirty: bool,
    credentials: RegistryCredentials | None,
    skip_tests: bool = False,
    scan: bool = True,
    python_image: str = DEFAULT_PYTHON_IMAGE,
    train_source: str = DEFAULT_TRAIN_SOURCE,
    now: datetime | None = None,
) -> Plan:
    """Decide the stages: train, build and smoke always; the rest by request and credentials."""
    tags = image_tags(revision, dirty=dirty)
    skipped: dict[Stage, str] = {}
    stages: list[Stage] = []
    if skip_tests:
        skipped[Stage.LINT_AND_TEST] = "--skip-tests given"
    else:
        stages.append(Stage.LINT_AND_TEST)
    stages += [Stage.TRAIN, Stage.BUILD, Stage.SMOKE]
    if scan:
        stages.append(Stage.SCAN)
    else:
        skipped[Stage.SCAN] = "--no-scan given"
    if credentials is None:
        skipped[Stage.PUBLISH] = (
            f"no registry credentials (set ${USERNAME_VARIABLE} and ${PASSWORD_VARIABLE})"
        )
    elif dirty:
        skipped[Stage.PUBLISH] = "the work tree has uncommitted changes; commit first"
    else:
        stages.append(Stage.PUBLISH)
    created = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Plan(
        stages=tuple(stages),
        revision=revision,
        tags=tags,
        python_image=python_image,
        train_source=train_source,
        created=created,
        credentials=credentials,
        skipped=skipped,
    )


def git_revision(repo: Path) -> tuple[str, bool]:
    """The short SHA of HEAD and whether tracked files have uncommitted changes."""
    revision = _git(repo, ["rev-parse", "--short=7", "HEAD"])
    dirty = bool(_git(repo, ["status", "--porcelain", "--untracked-files=no"]))
    return revision, dirty


def _git(repo: Path, args: Sequence[str]) -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as err:
        message = f"cannot read the git revision of {repo} (git {' '.join(args)}): {err}"
        raise PlanError(message) from err
    return result.stdout.strip()
