"""The Dagger layer: each stage of a ``Plan`` as Dagger calls, and nothing else.

The decisions (stages, tags, build arguments, credentials) live in ``hpp_ci.plan``; the
commands are the project's own (``.ci/run``, ``hpp run``, the Dockerfiles, ``smoke.py``).
Dagger's engine cannot be fetched on the project's development machines, so this module
is type-checked there, and every command it runs is run for real by ``tests/deployment``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import dagger
from dagger import dag

from hpp_ci.plan import (
    IMAGES,
    LINT_AND_TEST_COMMAND,
    MLFLOW_DOCKERFILE,
    MLFLOW_PORT,
    SERVICE_PORT,
    SOURCE_EXCLUDE,
    Image,
    Plan,
    Stage,
)

__all__ = ["run_pipeline"]

logger = logging.getLogger(__name__)

UV_VERSION = "0.13.9"
# Trivy reads the image as an OCI tarball; CRITICAL findings with a fix available fail.
TRIVY_IMAGE = "aquasec/trivy:0.58.1"
# models/house-price/latest inside the build context, after the train stage put it there.
TRAINED_BUNDLE = "models/house-price/latest"
SMOKE_SCRIPT = "deployment/dagger/hpp_ci/smoke.py"
SERVICE_IMAGE = IMAGES[0]


async def run_pipeline(plan: Plan, repo: Path) -> None:
    """Run the plan's stages in order against the source tree at ``repo``."""
    async with dagger.connection(dagger.Config(log_output=sys.stderr)):
        source = dag.host().directory(str(repo), exclude=SOURCE_EXCLUDE)

        if plan.runs(Stage.LINT_AND_TEST):
            await _lint_and_test(plan, source).sync()
            logger.info("lint and tests passed")

        models = _train(plan, source)
        context = source.with_directory("models", models)
        images = {image: _build(plan, context, image) for image in IMAGES}
        for image, container in images.items():
            await container.sync()
            logger.info("built %s", image.repository)

        answer = await _smoke(plan, source, images[SERVICE_IMAGE]).stdout()
        logger.info("service smoke check: %s", answer.strip())

        if plan.runs(Stage.SCAN):
            for image, container in images.items():
                await _scan(container).sync()
                logger.info("scanned %s: no fixable critical vulnerability", image.repository)

        if plan.runs(Stage.PUBLISH):
            for address in await _publish(plan, images):
                logger.info("published %s", address)


def _python(plan: Plan) -> dagger.Container:
    """The base image with uv, and uv's cache kept between runs."""
    return (
        dag.container()
        .from_(plan.python_image)
        .with_mounted_cache("/root/.cache/uv", dag.cache_volume("hpp-uv"))
        .with_env_variable("UV_LINK_MODE", "copy")
        .with_exec(["python3", "-m", "pip", "install", "--quiet", f"uv=={UV_VERSION}"])
    )


def _lint_and_test(plan: Plan, source: dagger.Directory) -> dagger.Container:
    return (
        _python(plan)
        .with_directory("/src", source)
        .with_workdir("/src")
        .with_env_variable("CI", "true")
        .with_exec(LINT_AND_TEST_COMMAND)
    )


def _train(plan: Plan, source: dagger.Directory) -> dagger.Directory:
    """``hpp run`` against an MLflow server bound as ``mlflow``; returns ``models/``."""
    mlflow = (
        source.directory("deployment/mlflow")
        .docker_build(
            dockerfile=Path(MLFLOW_DOCKERFILE).name,
            build_args=[dagger.BuildArg(name="PYTHON_IMAGE", value=plan.python_image)],
        )
        .with_exposed_port(MLFLOW_PORT)
        .as_service()
    )
    trainer = (
        _python(plan)
        .with_directory("/src", source)
        .with_workdir("/src")
        .with_exec(["uv", "sync", "--locked", "--no-dev", "--extra", "pipeline"])
        .with_service_binding("mlflow", mlflow)
        .with_env_variable("MLFLOW_TRACKING_URI", f"http://mlflow:{MLFLOW_PORT}")
        .with_exec(["uv", "run", "--no-sync", "hpp", "run", "--source", plan.train_source])
    )
    return trainer.directory("/src/models")


def _build(plan: Plan, context: dagger.Directory, image: Image) -> dagger.Container:
    bundle = TRAINED_BUNDLE if image == SERVICE_IMAGE else None
    arguments = plan.build_args(model_bundle=bundle)
    return context.docker_build(
        dockerfile=image.dockerfile,
        build_args=[dagger.BuildArg(name=name, value=value) for name, value in arguments.items()],
    )


def _smoke(plan: Plan, source: dagger.Directory, service: dagger.Container) -> dagger.Container:
    """The service image as a Dagger service, checked by smoke.py from a second container."""
    running = service.with_exposed_port(SERVICE_PORT).as_service(use_entrypoint=True)
    return (
        dag.container()
        .from_(plan.python_image)
        .with_file("/smoke.py", source.file(SMOKE_SCRIPT))
        .with_service_binding("service", running)
        .with_exec(["python3", "/smoke.py", f"http://service:{SERVICE_PORT}"])
    )


def _scan(image: dagger.Container) -> dagger.Container:
    return (
        dag.container()
        .from_(TRIVY_IMAGE)
        .with_file("/image.tar", image.as_tarball())
        .with_exec(
            [
                "trivy",
                "image",
                "--input",
                "/image.tar",
                "--severity",
                "CRITICAL",
                "--ignore-unfixed",
                "--exit-code",
                "1",
                "--no-progress",
            ]
        )
    )


async def _publish(plan: Plan, images: dict[Image, dagger.Container]) -> list[str]:
    """Push every image under every tag; the password reaches Dagger only as a secret."""
    credentials = plan.credentials
    assert credentials is not None, "the plan runs publish only with credentials"
    secret = dag.set_secret("registry-password", credentials.password)
    published = []
    for image, container in images.items():
        authenticated = container.with_registry_auth(
            credentials.registry, credentials.username, secret
        )
        for tag in plan.tags:
            published.append(
                await authenticated.publish(credentials.reference(image.repository, tag))
            )
    return published
