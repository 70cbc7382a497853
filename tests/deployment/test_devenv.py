"""devenv.nix evaluates, and its scripts are the commands the rest of the project runs.

Nix is not on these machines by default: with Debian's nix-bin installed (no network
needed), the module is evaluated against stand-in packages; without it these tests skip.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import REPO, run_hpp_in

NIX = shutil.which("nix-instantiate")
PACKAGES = ["python311", "git", "docker-client", "docker-compose", "hadolint", "dagger"]
# Evaluate the module with every package replaced by its name: checks syntax, structure and
# that it uses no package outside this list (real nixpkgs cannot be fetched here).
EVALUATE = """
let
  stub = builtins.listToAttrs (map (n: { name = n; value = n; }) (builtins.fromJSON ''%s''));
  shell = import ./devenv.nix { pkgs = stub; };
in {
  scripts = builtins.mapAttrs (name: script: script.exec) shell.scripts;
  python = shell.languages.python.package;
  uvSync = shell.languages.python.uv.sync;
  test = shell.enterTest;
}
"""


@pytest.fixture(scope="module")
def devenv() -> dict[str, object]:
    if NIX is None:
        pytest.skip("nix-instantiate is not installed (Debian: apt-get install nix-bin)")
    result = subprocess.run(
        [NIX, "--eval", "--strict", "--json", "-E", EVALUATE % json.dumps(PACKAGES)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    evaluated: dict[str, object] = json.loads(result.stdout)
    return evaluated


def scripts(devenv: dict[str, object]) -> dict[str, str]:
    found = devenv["scripts"]
    assert isinstance(found, dict)
    return found


def test_devenv_yaml_names_nixpkgs() -> None:
    inputs = yaml.safe_load((REPO / "devenv.yaml").read_text())["inputs"]

    assert "nixpkgs" in inputs


def test_devenv_has_python_311_and_syncs_every_extra(devenv: dict[str, object]) -> None:
    assert devenv["python"] == "python311"
    assert devenv["uvSync"] == {"enable": True, "allExtras": True}


def test_devenv_has_a_script_per_common_task(devenv: dict[str, object]) -> None:
    assert {"hpp-run", "hpp-serve", "hpp-ui", "stack-up", "pipeline"} <= set(scripts(devenv))


def test_devenv_scripts_are_valid_shell(devenv: dict[str, object]) -> None:
    for name, body in scripts(devenv).items():
        result = subprocess.run(["bash", "-n"], input=body, capture_output=True, text=True)
        assert result.returncode == 0, f"{name}: {result.stderr}"


def test_devenv_scripts_call_existing_hpp_commands_and_files(devenv: dict[str, object]) -> None:
    help_text = run_hpp_in(REPO, "--help").stdout
    known = set(re.findall(r"^    (\w+)", help_text, flags=re.MULTILINE))
    bodies = " ".join(scripts(devenv).values())

    assert set(re.findall(r"uv run hpp (\w+)", bodies)) <= known
    for path in re.findall(r"(deployment/\S+\.py)", bodies):
        assert (REPO / path).is_file(), path
