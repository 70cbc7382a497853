"""Fixtures for the dashboard tests: a sample project, the real service, the app.

The service is the real one (``hpp serve``) started as a subprocess on 127.0.0.1 with
a bundle the main job built from the sample data; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import HPP, run_hpp_in

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
READY_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment() -> dict[str, str]:
    """The environment minus anything that would point a child at another model or store."""
    prefixes = ("MLFLOW_", "HPP_", "API_URL", "STREAMLIT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def start(
    command: list[str], folder: Path, env: dict[str, str], log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group, so its workers are stopped with it
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process this test session started, and the workers it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args} exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(process)
    pytest.fail(f"{url} did not answer within {READY_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where `hpp run --source sample` built the store, a bundle and MLflow."""
    folder = tmp_path_factory.mktemp("ui-project")
    result = run_hpp_in(folder, "run", "--source", "sample")
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture(scope="session")
def bundle(sample_project: Path) -> dict[str, Any]:
    path = sample_project / "models" / "house-price" / "latest" / "bundle.json"
    return dict(json.loads(path.read_text()))


@pytest.fixture(scope="session")
def service_url(sample_project: Path) -> Iterator[str]:
    port = free_port()
    log = sample_project / "serve.log"
    command = [str(HPP), "serve", "--model", "models/house-price", "--host", "127.0.0.1"]
    process = start([*command, "--port", str(port)], sample_project, clean_environment(), log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/ready", process, log)
        yield url
    finally:
        stop(process)


@pytest.fixture
def dashboard_env(monkeypatch: pytest.MonkeyPatch, sample_project: Path) -> pytest.MonkeyPatch:
    """The variables `hpp ui` hands the app, pointing at the sample project (no service)."""
    for name in list(os.environ):
        if name.startswith(("MLFLOW_", "HPP_UI_", "API_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HPP_UI_STORE", str(sample_project / "data" / "featurestore.duckdb"))
    monkeypatch.setenv("HPP_UI_MODELS_DIR", str(sample_project / "models"))
    monkeypatch.setenv("HPP_UI_BUNDLE", "house-price")
    monkeypatch.setenv("HPP_UI_REGISTERED_MODEL", "house-price-predictor")
    return monkeypatch


@pytest.fixture
def unreachable_url() -> str:
    """An address on this machine where nothing listens."""
    return f"http://127.0.0.1:{free_port()}"
