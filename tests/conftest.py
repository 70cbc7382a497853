"""Shared fixtures: the real `hpp` CLI in a subprocess, in a throw-away project folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_CSV = REPO / "data" / "raw" / "house_data.csv"
HPP = Path(sys.executable).with_name("hpp")

RunHpp = Callable[..., subprocess.CompletedProcess[str]]


def run_hpp_in(
    folder: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `hpp ARGS` in ``folder`` the way a user would, capturing its output."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    environment |= env or {}
    return subprocess.run(
        [str(HPP), *args],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty folder to run `hpp` in, as a newcomer would."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


@pytest.fixture
def run_hpp(project: Path) -> RunHpp:
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_hpp_in(project, *args, env=env)

    return run


def write_csv(
    path: Path,
    rows: list[str],
    header: str = "price,sqft,bedrooms,bathrooms,location,year_built,condition",
) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def copy_sample(folder: Path) -> Path:
    target = folder / "house_data.csv"
    shutil.copy(SAMPLE_CSV, target)
    return target
