"""deployment/README.md's commands name files, flags and images that exist, and tests run them.

The container tests run the same builds and checks for real; this keeps the README in step
with them: every `docker build` names a linted Dockerfile with the flags the tests use, every
`docker run` an image the README built, every pipeline invocation parses (as a dry run).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.conftest import REPO, run_hpp_in
from tests.deployment.test_dockerfiles import DOCKERFILES

README = (REPO / "deployment" / "README.md").read_text()


def commands() -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL):
        for line in block.splitlines():
            command = line.split("  #", 1)[0].strip()
            if command:
                lines.append(command)
    return lines


COMMANDS = commands()


def words_of(prefix: str) -> list[list[str]]:
    return [shlex.split(c) for c in COMMANDS if c.startswith(prefix)]


def option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_readme_has_commands_for_every_piece() -> None:
    for piece in ("docker build", "docker run", "docker-compose", "kubectl", "devenv"):
        assert any(c.startswith(piece) for c in COMMANDS), piece
    assert any("deployment/dagger/main.py" in c for c in COMMANDS)


@pytest.mark.parametrize("words", words_of("docker build"), ids=lambda w: option(w, "-f"))
def test_docker_builds_name_linted_dockerfiles_with_host_network(words: list[str]) -> None:
    assert option(words, "-f") in DOCKERFILES
    assert option(words, "--network") == "host"
    assert words[-1] in {".", "deployment/mlflow"}


def test_docker_runs_use_images_the_readme_builds() -> None:
    built = {option(words, "-t") for words in words_of("docker build")}
    for words in words_of("docker run"):
        images = [w for w in words if w in built]
        assert images, f"docker run of an image the README does not build: {shlex.join(words)}"


def test_compose_files_and_kubernetes_folders_exist() -> None:
    for words in words_of("docker-compose"):
        if "-f" in words:
            assert (REPO / option(words, "-f")).is_file()
    for words in words_of("kubectl"):
        assert (REPO / option(words, "-k") / "kustomization.yaml").is_file()


def test_hpp_commands_are_known() -> None:
    help_text = run_hpp_in(REPO, "--help").stdout
    known = set(re.findall(r"^    (\w+)", help_text, flags=re.MULTILINE))

    assert set(re.findall(r"uv run hpp (\w+)", README)) <= known


@pytest.mark.parametrize(
    "command",
    [c for c in COMMANDS if "deployment/dagger/main.py" in c and c.startswith(("uv", "REG"))],
)
def test_pipeline_invocations_parse(command: str) -> None:
    words = shlex.split(command)
    environment = {"PATH": "/usr/bin:/bin"}
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        environment[name] = value
    arguments = words[words.index("deployment/dagger/main.py") + 1 :]
    if "--dry-run" not in arguments:
        arguments.append("--dry-run")
    result = subprocess.run(
        [sys.executable, str(REPO / "deployment/dagger/main.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "stages: " in result.stdout
    assert environment.get("REGISTRY_PASSWORD", "\0") not in result.stdout + result.stderr
