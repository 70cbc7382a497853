"""The delivery pipeline of House Price Predictor, on Dagger (``deployment/dagger/main.py``).

``plan`` decides what runs (stages, image tags, build arguments, credentials) with no
Dagger import, so it is unit-tested; ``pipeline`` is a thin layer that hands those
decisions to Dagger; ``smoke`` is the stdlib-only check that the tests in
``tests/deployment`` also run against the real service container.
"""

from __future__ import annotations

from hpp_ci.plan import (
    IMAGES,
    Plan,
    PlanError,
    RegistryCredentials,
    Stage,
    build_plan,
    credentials_from_environment,
    image_tags,
)

__all__ = [
    "IMAGES",
    "Plan",
    "PlanError",
    "RegistryCredentials",
    "Stage",
    "build_plan",
    "credentials_from_environment",
    "image_tags",
]
