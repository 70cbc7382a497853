"""The Dagger pipeline's own logic: tags, stages, credentials; a dry run tells no secret."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hpp_ci import smoke
from hpp_ci.plan import (
    IMAGES,
    PlanError,
    RegistryCredentials,
    Stage,
    build_plan,
    credentials_from_environment,
    image_tags,
)

from tests.conftest import REPO

MAIN = REPO / "deployment" / "dagger" / "main.py"
SECRET = "hunter2-not-for-logs"
CREDENTIALS = RegistryCredentials("ghcr.io", "someone", SECRET)


def dry_run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run(
        [sys.executable, str(MAIN), "--dry-run", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def test_image_tags_are_the_short_sha_and_latest() -> None:
    assert image_tags("51d73fb", dirty=False) == ("51d73fb", "latest")


def test_image_tags_of_a_dirty_tree_never_include_latest() -> None:
    assert image_tags("51d73fb", dirty=True) == ("51d73fb-dirty",)


@pytest.mark.parametrize("revision", ["", "HEAD", "51d73fb; rm -rf /", "ABCDEFG"])
def test_image_tags_refuse_what_is_not_a_sha(revision: str) -> None:
    with pytest.raises(PlanError, match="git SHA"):
        image_tags(revision, dirty=False)


def test_without_credentials_publish_is_skipped_and_says_why() -> None:
    plan = build_plan(revision="51d73fb", dirty=False, credentials=None)

    assert plan.stages == (Stage.LINT_AND_TEST, Stage.TRAIN, Stage.BUILD, Stage.SMOKE, Stage.SCAN)
    assert "REGISTRY_PASSWORD" in plan.skipped[Stage.PUBLISH]


def test_with_credentials_publish_runs_last() -> None:
    plan = build_plan(revision="51d73fb", dirty=False, credentials=CREDENTIALS)

    assert plan.stages[-1] is Stage.PUBLISH
    assert Stage.PUBLISH not in plan.skipped


def test_a_dirty_tree_is_not_published_even_with_credentials() -> None:
    plan = build_plan(revision="51d73fb", dirty=True, credentials=CREDENTIALS)

    assert not plan.runs(Stage.PUBLISH)
    assert "uncommitted" in plan.skipped[Stage.PUBLISH]


@pytest.mark.parametrize(
    ("skip_tests", "scan", "left_out"),
    [(True, True, {Stage.LINT_AND_TEST}), (False, False, {Stage.SCAN}), (False, True, set())],
    ids=["skip-tests", "no-scan", "all"],
)
def test_flags_leave_out_only_their_stage(
    skip_tests: bool, scan: bool, left_out: set[Stage]
) -> None:
    plan = build_plan(
        revision="51d73fb", dirty=False, credentials=CREDENTIALS, skip_tests=skip_tests, scan=scan
    )

    assert set(Stage) - set(plan.stages) == left_out
    assert set(plan.skipped) == left_out


def test_publish_targets_every_image_under_every_tag() -> None:
    plan = build_plan(revision="51d73fb", dirty=False, credentials=CREDENTIALS)
    targets = [line.removeprefix("publish: ") for line in plan.describe() if "publish:" in line]

    assert targets == [
        f"ghcr.io/someone/{image.repository}:{tag}"
        for image in IMAGES
        for tag in ("51d73fb", "latest")
    ]


def test_build_args_carry_the_oci_labels() -> None:
    now = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
    plan = build_plan(
        revision="51d73fb", dirty=False, credentials=None, python_image="local/py", now=now
    )

    assert plan.build_args() == {
        "PYTHON_IMAGE": "local/py",
        "VERSION": "51d73fb",
        "REVISION": "51d73fb",
        "CREATED": "2026-05-04T03:02:01Z",
    }
    assert plan.build_args(model_bundle="models/x")["MODEL_BUNDLE"] == "models/x"


def test_credentials_need_both_username_and_password() -> None:
    with pytest.raises(PlanError, match="REGISTRY_PASSWORD is not set"):
        credentials_from_environment({"REGISTRY_USERNAME": "someone"})
    with pytest.raises(PlanError, match="REGISTRY_USERNAME is not set"):
        credentials_from_environment({"REGISTRY_PASSWORD": SECRET})


def test_no_credentials_at_all_means_none() -> None:
    assert credentials_from_environment({}) is None


def test_credentials_default_to_docker_hub_and_flags_win() -> None:
    environ = {"REGISTRY_USERNAME": "env-user", "REGISTRY_PASSWORD": SECRET}

    default = credentials_from_environment(environ)
    chosen = credentials_from_environment(environ, registry="ghcr.io", username="flag-user")

    assert default is not None and default.registry == "docker.io"
    assert chosen is not None and (chosen.registry, chosen.username) == ("ghcr.io", "flag-user")


def test_secrets_stay_out_of_repr_and_the_plan() -> None:
    plan = build_plan(revision="51d73fb", dirty=False, credentials=CREDENTIALS)

    assert SECRET not in repr(CREDENTIALS)
    assert SECRET not in repr(plan)
    assert SECRET not in "\n".join(plan.describe())


def test_dry_run_prints_the_plan_and_never_the_password() -> None:
    env = {"REGISTRY_USERNAME": "someone", "REGISTRY_PASSWORD": SECRET}
    result = dry_run("--revision", "abcdef1", env=env)

    assert result.returncode == 0, result.stderr
    assert "publish: docker.io/someone/house-price-predictor-service:latest" in result.stdout
    assert SECRET not in result.stdout + result.stderr


def test_dry_run_with_half_the_credentials_fails_with_the_fix() -> None:
    result = dry_run("--revision", "abcdef1", env={"REGISTRY_USERNAME": "someone"})

    assert result.returncode == 2
    assert "REGISTRY_PASSWORD is not set" in result.stderr


def test_dry_run_reads_the_revision_from_git() -> None:
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short=7", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = dry_run()

    assert result.returncode == 0, result.stderr
    assert f"revision {head}," in result.stdout


@pytest.mark.parametrize(
    "body",
    [
        {"predicted_price": -1.0, "interval": {"lower": -2.0, "upper": 0.0}},
        {"predicted_price": float("nan"), "interval": {"lower": 0.0, "upper": 1.0}},
        {"predicted_price": 5.0, "interval": {"lower": 6.0, "upper": 7.0}},
        {"predicted_price": 5.0},
    ],
    ids=["negative", "nan", "outside-interval", "no-interval"],
)
def test_smoke_check_rejects_answers_that_are_not_predictions(body: dict[str, object]) -> None:
    with pytest.raises(smoke.SmokeError):
        smoke._check_prediction(body)


def test_smoke_check_fails_fast_when_nothing_listens() -> None:
    with pytest.raises(smoke.SmokeError, match="did not answer 200"):
        smoke.wait_ready("http://127.0.0.1:9", timeout=1.0)
