"""Run the delivery pipeline on Dagger: ``uv run python deployment/dagger/main.py``.

Stages: lint and tests (``.ci/run``), the main job against an MLflow service, both
images, a smoke check of the service image, an image scan, and, when registry
credentials are given, publishing both images tagged with the short git SHA and
``latest``. ``--dry-run`` prints the plan and exits without Dagger.

Credentials come from the environment only: ``REGISTRY_USERNAME`` and
``REGISTRY_PASSWORD`` (and ``REGISTRY_ADDRESS``, default docker.io). The password is
handed to Dagger as a secret and never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from hpp_ci.plan import (
    DEFAULT_PYTHON_IMAGE,
    DEFAULT_TRAIN_SOURCE,
    Plan,
    PlanError,
    build_plan,
    credentials_from_environment,
    git_revision,
)

REPO = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        plan = _plan(args)
    except PlanError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in plan.describe():
        print(line)
    if args.dry_run:
        return 0
    return _run(plan, args.repo)


def _plan(args: argparse.Namespace) -> Plan:
    revision, dirty = git_revision(args.repo)
    if args.revision is not None:
        revision, dirty = args.revision, False
    credentials = credentials_from_environment(
        os.environ, registry=args.registry, username=args.registry_user
    )
    return build_plan(
        revision=revision,
        dirty=dirty,
        credentials=credentials,
        skip_tests=args.skip_tests,
        scan=not args.no_scan,
        python_image=args.python_image,
        train_source=args.train_source,
    )


def _run(plan: Plan, repo: Path) -> int:
    try:
        # Imported here: --dry-run needs neither the SDK nor an engine.
        import dagger
        from hpp_ci.pipeline import run_pipeline
    except ModuleNotFoundError as err:
        print(
            f"error: {err}; install it with `uv sync` (dagger-io is a dev dependency)",
            file=sys.stderr,
        )
        return 1
    try:
        asyncio.run(run_pipeline(plan, repo))
    except dagger.DaggerError as err:
        print(f"error: the pipeline failed: {err}", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deployment/dagger/main.py",
        description="Test, train, build, check, scan and (with credentials) publish.",
    )
    parser.add_argument("--repo", type=Path, default=REPO, help="source tree (default: this one)")
    parser.add_argument(
        "--python-image", default=DEFAULT_PYTHON_IMAGE, help="base image for every stage"
    )
    parser.add_argument(
        "--train-source",
        choices=("sample", "ames"),
        default=DEFAULT_TRAIN_SOURCE,
        help="data for the main job (default: the 84-row sample, fast)",
    )
    parser.add_argument("--skip-tests", action="store_true", help="leave out lint and tests")
    parser.add_argument("--no-scan", action="store_true", help="leave out the image scan")
    parser.add_argument("--registry", help="registry address (default: $REGISTRY_ADDRESS)")
    parser.add_argument("--registry-user", help="registry user (default: $REGISTRY_USERNAME)")
    parser.add_argument("--revision", help="tag images with this SHA instead of git's HEAD")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
