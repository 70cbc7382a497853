"""Start-up: refusals with one line and a non-zero exit, the registry path, the import set."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.serving.conftest import free_port, run_hpp, running_service

Damage = Callable[[Path], None]


def _truncate_model(bundle: Path) -> None:
    model = bundle / "model.onnx"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])


def _edit_bundle_json(key: str, value: object) -> Damage:
    def edit(bundle: Path) -> None:
        described = json.loads((bundle / "bundle.json").read_text())
        section, _, field = key.rpartition(".")
        (described[section] if section else described)[field] = value
        (bundle / "bundle.json").write_text(json.dumps(described))

    return edit


def _break_json(bundle: Path) -> None:
    (bundle / "bundle.json").write_text((bundle / "bundle.json").read_text()[:-20])


def _remove_model(bundle: Path) -> None:
    (bundle / "model.onnx").unlink()


REFUSALS: list[tuple[str, Damage, str]] = [
    ("truncated_model", _truncate_model, "does not match its checksum"),
    ("missing_model", _remove_model, "model.onnx is missing"),
    ("edited_checksum", _edit_bundle_json("onnx.sha256", "0" * 64), "does not match its checksum"),
    ("edited_version", _edit_bundle_json("version", "20990101T000000Z-bad"), "does not describe"),
    ("edited_name", _edit_bundle_json("name", "other-model"), "does not describe"),
    (
        "edited_interval",
        _edit_bundle_json("interval.log_halfwidth", 0.5),
        "interval is not the one bundle.json records",
    ),
    ("broken_json", _break_json, "not a valid bundle description"),
]


@pytest.mark.parametrize(
    ("damage", "says"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_damaged_bundle_is_refused_with_one_line(
    bundle_copy: Callable[[], Path], tmp_path: Path, damage: Damage, says: str
) -> None:
    bundle = bundle_copy()
    damage(bundle)
    completed = run_hpp(["serve", "--model", str(bundle), "--port", str(free_port())], cwd=tmp_path)
    assert completed.returncode == 1
    [reason] = _error_lines(completed.stderr)
    assert says in reason


def test_missing_bundle_is_refused(tmp_path: Path) -> None:
    completed = run_hpp(["serve", "--port", str(free_port())], cwd=tmp_path)
    assert completed.returncode == 1
    [reason] = _error_lines(completed.stderr)
    assert "no model bundle at models/house-price" in reason
    assert "hpp run" in reason


@pytest.mark.parametrize(
    ("args", "environment", "says"),
    [
        (["--port", "0"], {}, "invalid --port (or $HPP_PORT)"),
        ([], {"HPP_WORKERS": "many"}, "invalid --workers (or $HPP_WORKERS)"),
        ([], {"HPP_STRICT_CATEGORIES": "perhaps"}, "invalid --strict-categories"),
        (["--config", "configs/pipeline.yaml"], {}, "unrecognized arguments: --config"),
    ],
    ids=["port_flag", "workers_env", "strict_env", "config_flag"],
)
def test_bad_settings_exit_2(
    tmp_path: Path, args: list[str], environment: dict[str, str], says: str
) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HPP_")} | environment
    completed = run_hpp(["serve", *args], cwd=tmp_path, env=env)
    assert completed.returncode == 2
    assert says in completed.stderr


def test_busy_port_is_refused_with_one_line(bundle_dir: Path, tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        completed = run_hpp(
            ["serve", "--model", str(bundle_dir), "--port", str(port)], cwd=tmp_path
        )
    assert completed.returncode == 2
    [reason] = _error_lines(completed.stderr)
    assert reason.startswith(f"error: port {port} on 127.0.0.1 is already in use; ")
    assert "pass --port N" in reason


def test_server_that_fails_to_start_is_one_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from serving.errors import ServingError
    from serving.server import run_server
    from serving.settings import ServiceSettings

    def fail_to_start(*args: object, **kwargs: object) -> None:
        raise SystemExit(3)  # uvicorn's exit when it could not bind or start the app

    monkeypatch.setattr(uvicorn, "run", fail_to_start)
    # run_server sets these and a SIGTERM handler for its workers; undone after the test.
    monkeypatch.setattr(signal, "signal", lambda *args: None)
    for variable in ("HPP_SERVICE_SETTINGS", "HPP_METRICS_DIR"):
        monkeypatch.setenv(variable, "")
    with pytest.raises(ServingError, match=r"did not start on 127\.0\.0\.1:8000; the log"):
        run_server(ServiceSettings())


def test_registry_location_is_downloaded_and_served(
    sample_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tracking = f"sqlite:///{sample_project / 'mlflow.db'}"
    run_hpp(["register", "--tracking-uri", tracking], cwd=sample_project, check=True)
    location = "models:/house-price-predictor@champion"
    folder = tmp_path_factory.mktemp("registry-service")
    with running_service(Path(location), ["--tracking-uri", tracking], folder) as service:
        model = httpx.get(f"{service.url}/model").json()
    described = json.loads((sample_project / "models/house-price/latest/bundle.json").read_text())
    assert model["version"] == described["version"]
    assert model["onnx_sha256"] == described["onnx"]["sha256"]


def test_registry_location_without_mlflow_says_how_to_install(tmp_path: Path) -> None:
    script = """
        import sys
        sys.modules["mlflow"] = None  # as in the service install, which has no MLflow
        from serving.registry import local_bundle
        from serving.errors import ModelLoadError
        try:
            with local_bundle("models:/house-price-predictor@champion"):
                pass
        except ModelLoadError as err:
            print(err)
    """
    output = _fresh_python(script, cwd=tmp_path)
    assert "needs MLflow" in output
    assert "pip install mlflow-skinny" in output


# The rule: the service never imports these.
TRAINING_STACK = ("sklearn", "xgboost", "joblib", "pandas")
# Not in the service install either (pyproject's `serve` extra), so importing them fails there.
NOT_IN_SERVE_INSTALL = ("duckdb", "polars", "pyarrow", "mlflow")


@pytest.fixture(scope="module")
def app_imports(bundle_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Top-level modules imported by building and running the app in a fresh interpreter."""
    script = f"""
        import sys
        from pathlib import Path
        from litestar.testing import TestClient
        from serving import ServiceSettings, create_app, load_model

        app = create_app(load_model(Path({str(bundle_dir)!r})), ServiceSettings())
        house = dict(sqft=1850, bedrooms=3, bathrooms=2.5, location="Suburb",
                     year_built=1994, condition="Good")
        with TestClient(app) as client:
            assert client.get("/ready").json()["ready"] is True
            assert client.post("/predict", json=house).status_code == 200
            houses = {{"houses": [house] * 200}}
            assert client.post("/predict/batch", json=houses).status_code == 200
            assert client.get("/metrics").status_code == 200
        print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}})))
    """
    output = _fresh_python(script, cwd=tmp_path_factory.mktemp("fresh"))
    return set(output.split())


def test_app_imports_no_training_stack(app_imports: set[str]) -> None:
    assert app_imports.isdisjoint(TRAINING_STACK), app_imports & set(TRAINING_STACK)


def test_app_imports_only_the_serve_install(app_imports: set[str]) -> None:
    assert app_imports.isdisjoint(NOT_IN_SERVE_INSTALL), app_imports & set(NOT_IN_SERVE_INSTALL)


def test_serve_command_imports_no_training_stack(tmp_path: Path) -> None:
    script = """
        import sys
        from pipelines.cli import main
        code = main(["serve", "--model", "no-such-bundle"])
        assert code == 1, code
        print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
    """
    imported = set(_fresh_python(script, cwd=tmp_path).split())
    assert imported.isdisjoint((*TRAINING_STACK, "polars", "mlflow")), imported


def _error_lines(stderr: str) -> list[str]:
    """The reason lines; anything else on stderr must be a log line."""
    lines = stderr.strip().splitlines()
    assert all(line.startswith(("error: ", "INFO ", "WARNING ")) for line in lines), stderr
    return [line for line in lines if line.startswith("error: ")]


def _fresh_python(script: str, *, cwd: Path) -> str:
    completed = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", textwrap.dedent(script)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout
