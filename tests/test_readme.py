"""The README's commands are the ones CI runs, and its code examples run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, run_hpp_in

README = (REPO / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_opens_with_setup_and_main_job_then_tests() -> None:
    first = code_blocks("bash")[0].splitlines()

    assert first[0].split("#")[0].strip() == "uv sync --all-extras && uv run hpp run"
    assert first[1].split("#")[0].strip() == "uv sync --all-extras && uv run pytest"
    assert README.index("```bash") < README.index("## ")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()

    assert "uv sync --all-extras --locked" in ci
    assert re.search(r"^uv run pytest$", ci, flags=re.MULTILINE)


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme-project")
    result = run_hpp_in(folder, "run", "--source", "sample")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("block", range(len(code_blocks("python"))))
def test_readme_python_examples_run(sample_project: Path, block: int) -> None:
    code = code_blocks("python")[block]

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=sample_project,
        # As a newcomer runs it: no MLflow settings of this test session leak in.
        env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_readme_hpp_commands_are_known_commands() -> None:
    commands = set(re.findall(r"uv run hpp (\w+)", README))
    help_text = run_hpp_in(REPO, "--help").stdout

    assert commands <= set(re.findall(r"^    (\w+)", help_text, flags=re.MULTILINE))
