"""Fixtures: a real bundle trained on the sample, and the real service on 127.0.0.1.

The bundle is built once per session with the ``hpp`` CLI (ingest, build, train: no
MLflow). Each service is ``hpp serve`` in a subprocess on a free port, waited for until
``/ready`` answers, and stopped by its PID at teardown.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

HPP = str(Path(sys.executable).with_name("hpp"))
MARKET_CONFIG = Path(__file__).parents[2] / "configs" / "market.yaml"
# The test service's limits, small so the 413/422 paths are cheap to reach.
MAX_BATCH = 50
MAX_BODY_BYTES = 64 * 1024
_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class RunningService:
    url: str
    pid: int
    log: Path


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``hpp ingest/build/train`` made ``models/house-price``."""
    folder = tmp_path_factory.mktemp("sample-project")
    for step in (["ingest", "--source", "sample"], ["build"], ["train"]):
        run_hpp(step, cwd=folder, check=True)
    return folder


@pytest.fixture(scope="session")
def bundle_dir(sample_project: Path) -> Path:
    return (sample_project / "models" / "house-price" / "latest").resolve()


@pytest.fixture(scope="session")
def bundle_copy(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Return a function giving a fresh copy of the bundle folder, for tests that damage it."""

    def copy() -> Path:
        target = tmp_path_factory.mktemp("bundle-copy") / "bundle"
        shutil.copytree(bundle_dir, target)
        return target

    return copy


@pytest.fixture(scope="session")
def service(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """The service with default settings except small limits; one worker."""
    flags = ["--max-batch", str(MAX_BATCH), "--max-body-bytes", str(MAX_BODY_BYTES)]
    with running_service(bundle_dir, flags, tmp_path_factory.mktemp("service")) as running:
        yield running


@pytest.fixture(scope="session")
def strict_service(
    bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """Strict categories, two workers (so /metrics must add up across processes)."""
    flags = ["--strict-categories", "--workers", "2"]
    with running_service(bundle_dir, flags, tmp_path_factory.mktemp("strict")) as running:
        yield running


@pytest.fixture(scope="session")
def market_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle trained on Ames with market features by the shipped ``configs/market.yaml``.

    Market features need sale dates, which only the Ames data has: about 20 s on two
    cores, so only tests marked slow use it.
    """
    folder = tmp_path_factory.mktemp("ames-market")
    for step in ("ingest", "build", "train"):
        run_hpp([step, "--config", str(MARKET_CONFIG)], cwd=folder, check=True)
    return (folder / "models" / "house-price-market" / "latest").resolve()


@pytest.fixture(scope="session")
def market_service(
    market_bundle: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningService]:
    """``hpp serve --model <project>/models/house-price-market``, as serving/README.md shows."""
    named = market_bundle.parent  # models/house-price-market, served as its latest
    with running_service(named, [], tmp_path_factory.mktemp("market")) as running:
        yield running


@pytest.fixture
def client(service: RunningService) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=service.url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def onnx_session(bundle_dir: Path) -> Any:
    import onnxruntime as ort

    return ort.InferenceSession(str(bundle_dir / "model.onnx"), providers=["CPUExecutionProvider"])


def onnx_prices(session: Any, houses: list[dict[str, Any]]) -> np.ndarray:
    """onnxruntime's own answer for ``houses``, categories given as the graph expects them."""
    feeds = {
        name: np.asarray([house[name] for house in houses], dtype=np.float32)
        for name in ("sqft", "bedrooms", "bathrooms", "year_built")
    }
    feeds |= {
        name: np.asarray([house[name] for house in houses], dtype=object)
        for name in ("location", "condition")
    }
    price, lower, upper = session.run(["price", "price_lower", "price_upper"], feeds)
    return np.stack([price, lower, upper], axis=1)


def run_hpp(
    args: list[str], *, cwd: Path, check: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [HPP, *args],
        cwd=cwd,
        env=env or _clean_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and completed.returncode != 0:
        message = f"hpp {' '.join(args)} exited {completed.returncode}:\n{completed.stderr}"
        raise AssertionError(message)
    return completed


@contextlib.contextmanager
def running_service(bundle: Path, flags: list[str], folder: Path) -> Iterator[RunningService]:
    port = free_port()
    log = folder / "service.log"
    command = [HPP, "serve", "--model", str(bundle), "--port", str(port), *flags]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=folder, env=_clean_environment(), stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        yield RunningService(url=url, pid=process.pid, log=log)
    finally:
        _stop(process)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"hpp serve exited {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"hpp serve not ready after {_START_TIMEOUT:.0f}s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _clean_environment() -> dict[str, str]:
    """This environment without HPP_* or MLflow variables that would change the service."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HPP_") and key != "MLFLOW_TRACKING_URI"
    }
