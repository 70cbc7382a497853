"""Docker helpers for the container tests: build, run, wait, clean up — by ID, never by name.

Every call is ``docker`` (or ``docker-compose``) in a subprocess with a timeout, so a hung
engine fails a test instead of hanging CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "BuiltImage",
    "Container",
    "DockerUnavailable",
    "build_image",
    "docker",
    "docker_problem",
    "free_port",
    "http_json",
    "remove_image",
    "run_container",
    "wait_for_http",
]

BUILD_TIMEOUT = 900.0


class DockerUnavailable(RuntimeError):
    """No engine answers: the reason says how to get one."""


@dataclass(frozen=True)
class BuiltImage:
    id: str
    tag: str
    seconds: float


@dataclass(frozen=True)
class Container:
    id: str
    ports: dict[int, int]
    """container port -> host port on 127.0.0.1"""

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{self.ports[port]}"

    def logs(self) -> str:
        result = docker(["logs", self.id], check=False)
        return result.stdout + result.stderr

    def exec(
        self, command: Sequence[str], *, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return docker(["exec", self.id, *command], check=check, timeout=60)


def docker(
    args: Sequence[str], *, check: bool = True, timeout: float = 120.0, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, input=input
    )
    if check and result.returncode != 0:
        message = f"docker {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}"
        raise AssertionError(message)
    return result


def docker_problem(base_image: str) -> str | None:
    """Why container tests cannot run here, or None when they can."""
    if shutil.which("docker") is None:
        return 'no docker client; run `eval "$(../shared/containers/docker-up)"` first'
    try:
        info = docker(["info", "--format", "{{.ServerVersion}}"], check=False, timeout=30)
    except subprocess.TimeoutExpired:
        return "docker info timed out: the engine does not answer"
    if info.returncode != 0:
        return f"no Docker engine answers ({info.stderr.strip()[:200]}); run docker-up first"
    image = docker(["image", "inspect", base_image], check=False, timeout=30)
    if image.returncode != 0:
        return f"base image {base_image} is not present; docker-up builds it (PYTHON_BASE_IMAGE)"
    return None


def build_image(
    dockerfile: Path,
    context: Path,
    tag: str,
    build_args: Mapping[str, str],
    log: Path,
) -> BuiltImage:
    """``docker build --network host`` as the README says; the full log goes to ``log``."""
    command = ["build", "--network", "host", "-f", str(dockerfile), "-t", tag]
    for name, value in build_args.items():
        command += ["--build-arg", f"{name}={value}"]
    started = time.perf_counter()
    env = os.environ | {"DOCKER_BUILDKIT": "1"}
    with log.open("w") as sink:
        result = subprocess.run(
            ["docker", *command, str(context)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=BUILD_TIMEOUT,
            env=env,
        )
    if result.returncode != 0:
        tail = log.read_text()[-6000:]
        raise AssertionError(f"docker build of {dockerfile.name} failed:\n{tail}")
    image_id = docker(["image", "inspect", "--format", "{{.Id}}", tag]).stdout.strip()
    return BuiltImage(id=image_id, tag=tag, seconds=time.perf_counter() - started)


def remove_image(image: BuiltImage) -> None:
    """Remove the session's tag. Docker deletes the image only when no other tag names it, so
    an identical image someone built under their own name survives."""
    docker(["rmi", image.tag], check=False)


@contextlib.contextmanager
def run_container(
    image: str,
    *,
    network: str,
    ports: Sequence[int] = (),
    args: Sequence[str] = (),
    options: Sequence[str] = (),
) -> Iterator[Container]:
    """``docker run -d`` with ports published on 127.0.0.1; removed (with volumes) after."""
    published = {port: free_port() for port in ports}
    command = ["run", "-d", "--network", network, *options]
    for port, host_port in published.items():
        command += ["-p", f"127.0.0.1:{host_port}:{port}"]
    container_id = docker([*command, image, *args]).stdout.strip()
    try:
        yield Container(id=container_id, ports=published)
    finally:
        docker(["rm", "-f", "-v", container_id], check=False, timeout=60)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, *, timeout: float, container: Container | None = None) -> None:
    """Poll ``url`` until it answers 200; fail with the container's logs after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            last = str(err)
        time.sleep(0.5)
    logs = container.logs()[-4000:] if container is not None else ""
    raise AssertionError(f"{url} did not answer 200 within {timeout:.0f}s ({last})\n{logs}")


def http_json(url: str, body: Any | None = None, *, timeout: float = 10.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())
