"""End to end: `hpp run` as a user runs it, in a fresh folder, checked from the outside."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from pipelines.bundle import verify_bundle
from pipelines.export import run_onnx
from serving.registry import local_bundle
from tests.conftest import HPP, run_hpp_in, write_csv

MODEL_NAME = "house-price-predictor"
GOOD = "300000,1500,3,2,Suburb,1990,Good"


def registry(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@contextlib.contextmanager
def tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's client at ``uri`` for a block. ``mlflow.set_tracking_uri`` also sets
    $MLFLOW_TRACKING_URI, which later subprocesses would inherit (a stopped server: hangs)."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        utils._tracking_uri = None  # MLflow has no public "unset"; None means "not set"
        if before is not None:
            mlflow.set_tracking_uri(before)


def snapshot(folder: Path) -> dict[str, Any]:
    """Everything a failed run must leave alone: bundles, latest, alias, lake."""
    latest = folder / "models" / "house-price" / "latest"
    bundles = sorted(p.name for p in (folder / "models" / "house-price").iterdir())
    alias = registry(f"sqlite:///{folder / 'mlflow.db'}").get_model_version_by_alias(
        MODEL_NAME, "champion"
    )
    lake = folder / "data" / "lake" / "sales.parquet"
    return {
        "latest": os.readlink(latest),
        "bundles": bundles,
        "bundle_json": (latest / "bundle.json").read_bytes(),
        "alias_version": str(alias.version),
        "lake": lake.read_bytes(),
    }


@pytest.fixture(scope="module")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample-project")
    result = run_hpp_in(folder, "run", "--source", "sample")
    assert result.returncode == 0, result.stderr
    return folder


def test_run_prints_a_summary(tmp_path: Path) -> None:
    result = run_hpp_in(tmp_path, "run", "--source", "sample")

    assert result.returncode == 0, result.stderr
    for expected in (
        "84 rows read",
        "84 accepted",
        "RMSE(log)",
        "90% interval: covers",
        "parity max relative difference",
        "bundle: models/house-price/",
        "@champion",
        "done in",
        "cv: 5 shuffled folds (seed 42)",
    ):
        assert expected in result.stdout
    assert "WARNING" not in result.stderr, result.stderr


def test_run_writes_a_verified_bundle(sample_project: Path) -> None:
    bundle_dir = sample_project / "models" / "house-price" / "latest"

    bundle = verify_bundle(bundle_dir)

    assert bundle.onnx.parity_max_relative_difference <= 1e-4
    assert bundle.onnx.inputs == [
        "sqft",
        "bedrooms",
        "bathrooms",
        "year_built",
        "location",
        "condition",
    ]
    assert bundle.training_data.rows == 84
    assert bundle.interval.level == 0.9
    assert {"onnxruntime", "xgboost-cpu", "scikit-learn"} <= set(bundle.libraries)
    locations = next(i.categories for i in bundle.feature_schema.inputs if i.name == "location")
    assert locations == ["downtown", "mountain", "rural", "suburb", "urban", "waterfront"]
    assert sorted(p.name for p in (bundle_dir / "plots").iterdir()) == [
        "predicted_vs_actual.png",
        "residuals.png",
    ]
    assert run_hpp_in(sample_project, "verify").returncode == 0


def test_run_registers_the_model_with_the_champion_alias(sample_project: Path) -> None:
    client = registry(f"sqlite:///{sample_project / 'mlflow.db'}")
    record = json.loads((sample_project / "models/house-price/latest/mlflow.json").read_text())

    version = client.get_model_version_by_alias(MODEL_NAME, "champion")
    run = client.get_run(version.run_id)

    assert str(version.version) == record["model_version"]
    assert run.info.run_id == record["run_id"]
    assert run.data.metrics["onnx_parity_max_relative_difference"] <= 1e-4
    assert {"cv_rmse_log", "cv_mae", "cv_mape", "cv_r2", "interval_cv_coverage"} <= set(
        run.data.metrics
    )
    assert run.data.tags["library.onnxruntime"]
    assert version.tags["library.xgboost-cpu"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"bundle.json", "plots"} <= artifacts


def test_registered_model_predicts_like_the_bundle(sample_project: Path) -> None:
    import mlflow
    import pandas as pd

    with tracking_uri(f"sqlite:///{sample_project / 'mlflow.db'}"):
        model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    houses = {
        "sqft": [1500.0, 2400.0],
        "bedrooms": [3.0, 4.0],
        "bathrooms": [2.0, 2.5],
        "year_built": [1990.0, 2005.0],
        "location": ["Suburb", "waterfront"],
        "condition": ["Good", "excellent"],
    }

    served = model.predict(
        pd.DataFrame(houses).astype(
            {
                "sqft": "float32",
                "bedrooms": "float32",
                "bathrooms": "float32",
                "year_built": "float32",
            }
        )
    )
    bundled = run_onnx(
        (sample_project / "models/house-price/latest/model.onnx").read_bytes(), houses
    )

    np.testing.assert_allclose(np.asarray(served["price"]), bundled["price"], rtol=1e-6)


def test_rerun_adds_a_version_and_moves_latest_and_alias(sample_project: Path) -> None:
    before = snapshot(sample_project)

    result = run_hpp_in(sample_project, "run", "--source", "sample", "--model", "ridge")

    assert result.returncode == 0, result.stderr
    after = snapshot(sample_project)
    assert len(after["bundles"]) == len(before["bundles"]) + 1
    assert after["latest"] != before["latest"]
    assert int(after["alias_version"]) == int(before["alias_version"]) + 1
    assert json.loads(after["bundle_json"])["model"]["kind"] == "ridge"


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (
            ["1,2,3,4,5,6"],
            "price,sqft,bedrooms,bathrooms,location,condition",
            "missing column(s): year_built",
        ),
        (["abc,def,3,2,Suburb,1990,Good"] * 3 + [GOOD], None, "3 of 4 rows rejected"),
        ([], None, "no data rows"),
        (
            ["-1,1500,3,2,Suburb,1990,Good", "0,-1,3,2,Suburb,1990,Good"],
            None,
            "2 of 2 rows rejected",
        ),
    ],
    ids=["missing-column", "non-numeric", "header-only", "every-row-rejected"],
)
def test_bad_input_fails_clearly_and_keeps_the_last_good_model(
    sample_project: Path, tmp_path: Path, rows: list[str], header: str | None, message: str
) -> None:
    path = (
        write_csv(tmp_path / "bad.csv", rows, header)
        if header
        else write_csv(tmp_path / "bad.csv", rows)
    )
    before = snapshot(sample_project)

    result = run_hpp_in(sample_project, "run", "--input", str(path))

    assert result.returncode != 0
    assert message in result.stderr
    assert result.stderr.count("error:") == 1
    assert "Traceback" not in result.stderr
    assert snapshot(sample_project) == before


def test_empty_file_fails_clearly(sample_project: Path, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    before = snapshot(sample_project)

    result = run_hpp_in(sample_project, "run", "--input", str(path))

    assert result.returncode != 0
    assert "is empty" in result.stderr
    assert snapshot(sample_project) == before


def test_unknown_model_fails_before_touching_anything(sample_project: Path) -> None:
    before = snapshot(sample_project)

    result = run_hpp_in(sample_project, "run", "--source", "sample", "--model", "lightgbm")

    assert result.returncode != 0
    assert "unknown model 'lightgbm'" in result.stderr
    assert snapshot(sample_project) == before


def test_config_with_unknown_model_kind_fails(sample_project: Path, tmp_path: Path) -> None:
    config = tmp_path / "catboost.yaml"
    config.write_text("kind: catboost\nparams: {}\n")
    before = snapshot(sample_project)

    result = run_hpp_in(sample_project, "run", "--source", "sample", "--model", str(config))

    assert result.returncode != 0
    assert "catboost" in result.stderr and "kind must be one of xgboost" in result.stderr
    assert snapshot(sample_project) == before


def test_sql_prints_a_table_csv_json_and_parquet(sample_project: Path) -> None:
    query = "SELECT location, count(*) AS sales FROM features GROUP BY 1 ORDER BY 1"

    table = run_hpp_in(sample_project, "sql", query)
    csv = run_hpp_in(sample_project, "sql", query, "--format", "csv")
    as_json = run_hpp_in(sample_project, "sql", query, "--format", "json")
    parquet = run_hpp_in(sample_project, "sql", query, "--output", "counts.parquet")

    assert table.returncode == 0 and "waterfront" in table.stdout
    assert csv.stdout.splitlines()[:2] == ['"location","sales"', '"downtown",17']
    assert json.loads(as_json.stdout)[0] == {"location": "downtown", "sales": 17}
    assert parquet.returncode == 0 and (sample_project / "counts.parquet").is_file()


def test_sql_refuses_writes(sample_project: Path) -> None:
    result = run_hpp_in(sample_project, "sql", "DROP VIEW features")

    assert result.returncode != 0
    assert "read-only" in result.stderr
    assert run_hpp_in(sample_project, "sql", "SELECT 1 FROM features").returncode == 0


def test_features_lists_views_with_descriptions(sample_project: Path) -> None:
    result = run_hpp_in(sample_project, "features")

    assert result.returncode == 0
    assert "house_age" in result.stdout and "at sale" in result.stdout


# -- Ames against a real MLflow server -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [
            str(mlflow),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{folder / 'server.db'}",
            "--artifacts-destination",
            str(folder / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{uri}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail(f"mlflow server did not start: {(folder / 'server.log').read_text()}")
        yield uri
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_run_on_ames_against_a_real_mlflow_server(tmp_path: Path, mlflow_server: str) -> None:
    result = run_hpp_in(tmp_path, "run", "--tracking-uri", mlflow_server)

    assert result.returncode == 0, result.stderr
    bundle = verify_bundle(tmp_path / "models" / "house-price")
    version = registry(mlflow_server).get_model_version_by_alias(MODEL_NAME, "champion")
    assert json.loads((tmp_path / "models/house-price/latest/mlflow.json").read_text())[
        "model_version"
    ] == str(version.version)
    assert not (tmp_path / "mlflow.db").exists()
    assert bundle.training_data.rows == 2929  # one Ames sale is dated before it was built
    assert bundle.onnx.parity_max_relative_difference <= 1e-4
    # Quality is recorded, not pinned: the reference is CV RMSE(log) ~0.15, coverage ~0.9.
    print(
        f"\nAmes: cv {bundle.metrics.cv}, holdout {bundle.metrics.holdout}, "
        f"interval {bundle.interval}"
    )
    assert bundle.metrics.cv.rmse_log < 0.2
    assert 0.85 <= (bundle.interval.holdout_coverage or 0) <= 0.95


@pytest.mark.slow
def test_run_uses_mlflow_tracking_uri_from_environment(tmp_path: Path, mlflow_server: str) -> None:
    result = run_hpp_in(
        tmp_path, "run", "--source", "sample", env={"MLFLOW_TRACKING_URI": mlflow_server}
    )

    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "models/house-price/latest/mlflow.json").read_text())
    assert record["tracking_uri"] == mlflow_server


def test_steps_run_one_by_one(tmp_path: Path) -> None:
    source = tmp_path / "mine.csv"
    source.write_text((Path(__file__).parents[2] / "data/raw/house_data.csv").read_text())

    for args in (
        ("ingest", "--input", str(source)),
        ("build",),
        ("train", "--model", "ridge"),
        ("verify",),
        ("register",),
    ):
        result = run_hpp_in(tmp_path, *args)
        assert result.returncode == 0, (args, result.stderr)

    bundle = verify_bundle(tmp_path / "models" / "house-price")
    assert bundle.training_data.source == str(source)
    assert bundle.model.kind == "ridge"
    version = registry(f"sqlite:///{tmp_path / 'mlflow.db'}").get_model_version_by_alias(
        MODEL_NAME, "champion"
    )
    assert str(version.version) == "1"


def test_failing_data_check_stops_the_run_and_keeps_the_model(
    sample_project: Path, tmp_path: Path
) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text("checks:\n  known_categories:\n    location: [suburb, rural]\n")
    path = write_csv(
        tmp_path / "new.csv",
        [f"{300000 + i},1500,3,2,{'Suburb' if i else 'Atlantis'},1990,Good" for i in range(30)],
    )
    before = snapshot(sample_project)

    result = run_hpp_in(sample_project, "run", "--config", str(config), "--input", str(path))
    check = run_hpp_in(sample_project, "check", "--config", str(config))

    assert result.returncode != 0
    assert "1 of 5 data checks failed" in result.stderr
    assert "'value': 'atlantis'" in result.stderr
    assert check.returncode != 0 and "FAIL" in check.stdout
    assert snapshot(sample_project) == before  # the lake too: the run put it back
    train = run_hpp_in(sample_project, "train", "--config", str(config))
    assert train.returncode != 0 and "data checks failed" in train.stderr
    assert snapshot(sample_project) == before


def test_unreachable_tracking_server_fails_fast_and_changes_nothing(
    sample_project: Path,
) -> None:
    before = snapshot(sample_project)
    started = time.monotonic()

    result = run_hpp_in(
        sample_project,
        "run",
        "--source",
        "sample",
        "--tracking-uri",
        f"http://127.0.0.1:{free_port()}",
    )

    assert result.returncode != 0
    assert "is not reachable" in result.stderr
    assert time.monotonic() - started < 60
    assert snapshot(sample_project) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sql", "SELECT 1", "--output", "/nonexistent/dir/x.parquet"), "No such file"),
        (("run", "--input", "/"), "is a folder"),
    ],
    ids=["sql-output-folder-missing", "input-is-a-folder"],
)
def test_path_errors_are_one_line(
    sample_project: Path, args: tuple[str, ...], message: str
) -> None:
    result = run_hpp_in(sample_project, *args)

    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_binary_input_is_refused_in_one_line(sample_project: Path, tmp_path: Path) -> None:
    path = tmp_path / "binary.csv"
    path.write_bytes(bytes(range(256)) * 40)

    result = run_hpp_in(sample_project, "run", "--input", str(path))

    assert result.returncode != 0
    assert "Expected a comma-separated file with a header row" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3


def test_market_features_need_sale_dates(sample_project: Path, tmp_path: Path) -> None:
    config = tmp_path / "market.yaml"
    config.write_text("training:\n  market_features: true\n")

    result = run_hpp_in(sample_project, "train", "--config", str(config))

    assert result.returncode != 0
    assert "needs a sale date on every row" in result.stderr
    assert "market_features: false" in result.stderr


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (["2008-01-01"] * 29 + [""], "this data has 1 rows without one"),
        (["2008-01-01"] * 30, "market features leave out the first month of data"),
        (["2008-01-01"] * 5 + ["2008-02-01"] * 25, "market features need a holdout of the latest"),
    ],
    ids=["some-undated", "one-month", "two-months"],
)
def test_market_features_on_too_few_dates_say_why(
    tmp_path: Path, dates: list[str], expected: str
) -> None:
    config = tmp_path / "market.yaml"
    config.write_text("training:\n  market_features: true\n")
    rows = [f"{GOOD.replace('300000', str(200000 + 1000 * i))},{d}" for i, d in enumerate(dates)]
    header = "price,sqft,bedrooms,bathrooms,location,year_built,condition,sale_date"
    data = write_csv(tmp_path / "dated.csv", rows, header=header)

    result = run_hpp_in(tmp_path, "run", "--config", str(config), "--input", str(data))

    assert result.returncode == 1, result.stderr
    assert expected in result.stderr
    assert "market_features: false" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3
    assert not (tmp_path / "models").exists()


def test_a_wrong_choice_in_the_config_lists_the_allowed_ones(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text("training:\n  cv_scheme: forward\n")

    result = run_hpp_in(tmp_path, "check", "--config", str(config))

    assert result.returncode == 1
    assert "cv_scheme" in result.stderr
    assert "allowed: random, time" in result.stderr


@pytest.mark.slow
def test_market_model_registers_with_its_market_inputs(tmp_path: Path, mlflow_server: str) -> None:
    """The shipped market config end to end: the registered model's signature and input
    example carry the five market inputs, and MLflow serves it like the bundle."""
    import mlflow
    import pandas as pd

    config = Path(__file__).resolve().parents[2] / "configs" / "market.yaml"
    result = run_hpp_in(
        tmp_path,
        "run",
        "--config",
        str(config),
        "--model",
        "ridge",
        "--tracking-uri",
        mlflow_server,
    )

    assert result.returncode == 0, result.stderr
    assert "Got error" not in result.stderr + result.stdout  # MLflow's example check passed
    assert "cv: 5 shuffled folds (seed 42, market features recomputed per fold)" in result.stdout
    assert "values by location as of 2010-07-02" in result.stdout
    bundle_dir = tmp_path / "models" / "house-price-market" / "latest"
    bundle = verify_bundle(bundle_dir)
    assert bundle.online is not None
    online = json.loads((bundle_dir / bundle.online.file).read_text())
    market = online["locations"]["north_ames"]
    houses: dict[str, list[Any]] = {
        "sqft": [1500.0, 2400.0],
        "bedrooms": [3.0, 4.0],
        "bathrooms": [2.0, 2.5],
        "year_built": [1990.0, 2005.0],
        "location": ["north_ames", "north_ames"],
        "condition": ["average", "good"],
    }
    houses |= {
        name: [value, value] for name, value in zip(bundle.online.features, market, strict=True)
    }

    with tracking_uri(mlflow_server):
        model = mlflow.pyfunc.load_model("models:/house-price-predictor-market@champion")
    inputs = [item.name for item in model.metadata.get_input_schema().inputs]
    numeric = {name: "float32" for name in houses if name not in ("location", "condition")}
    served = model.predict(pd.DataFrame(houses).astype(numeric))
    bundled = run_onnx((bundle_dir / "model.onnx").read_bytes(), houses)

    assert inputs[6:] == list(bundle.online.features)
    np.testing.assert_allclose(np.asarray(served["price"]), bundled["price"], rtol=1e-6)
    # What `hpp serve --model models:/...` downloads is the whole bundle, online values too.
    with local_bundle("models:/house-price-predictor-market@champion", mlflow_server) as folder:
        downloaded = verify_bundle(folder)
        assert downloaded.online == bundle.online
        assert (folder / bundle.online.file).read_bytes() == (
            bundle_dir / bundle.online.file
        ).read_bytes()


def test_sigterm_mid_run_puts_the_lake_back(sample_project: Path, tmp_path: Path) -> None:
    """`docker stop` or a CI timeout sends SIGTERM: the run ends like Ctrl-C, restoring."""
    project = tmp_path / "project"
    shutil.copytree(sample_project, project, symlinks=True)
    lake = project / "data" / "lake" / "sales.parquet"
    good = lake.read_bytes()
    other = write_csv(
        tmp_path / "other.csv", [GOOD.replace("300000", str(300000 + i)) for i in range(40)]
    )
    process = subprocess.Popen(
        [str(HPP), "run", "--input", str(other)],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while lake.read_bytes() == good and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)  # after ingest replaced the lake, before publishing
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 143, stderr
    assert "interrupted (SIGTERM)" in stderr
    assert lake.read_bytes() == good
    assert not list((project / "data").glob(".before-run-*"))


def test_next_run_recovers_the_lake_a_killed_run_changed(
    sample_project: Path, tmp_path: Path
) -> None:
    """SIGKILL leaves no chance to clean up; the next run restores from the killed one's backup."""
    project = tmp_path / "project"
    shutil.copytree(sample_project, project, symlinks=True)
    lake = project / "data" / "lake" / "sales.parquet"
    good = lake.read_bytes()
    other = write_csv(
        tmp_path / "other.csv", [GOOD.replace("300000", str(300000 + i)) for i in range(40)]
    )
    process = subprocess.Popen([str(HPP), "run", "--input", str(other)], cwd=project)
    deadline = time.monotonic() + 120
    while lake.read_bytes() == good and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.kill()
    process.wait(timeout=30)
    assert lake.read_bytes() != good
    assert list((project / "data").glob(".before-run-*"))

    bad = write_csv(tmp_path / "bad.csv", ["oops,1500,3,2,Suburb,1990,Good"] * 5)
    result = run_hpp_in(project, "run", "--input", str(bad))

    assert result.returncode != 0
    assert "a run killed before it could clean up" in result.stderr
    assert lake.read_bytes() == good
    assert not list((project / "data").glob(".before-run-*"))


def test_a_run_stopped_before_publishing_leaves_the_alias(
    sample_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The alias moves last: a run stopped after registering, before publishing (here by an
    interrupt injected into the publish step, in process), leaves it on the published model."""
    from featurestore import resolve_source
    from pipelines import job
    from pipelines.config import PathsConfig, PipelineConfig, load_model_config

    project = tmp_path / "project"
    shutil.copytree(sample_project, project, symlinks=True)
    before = snapshot(project)
    config = PipelineConfig(
        source="sample",
        paths=PathsConfig(data_dir=str(project / "data"), models_dir=str(project / "models")),
    )

    def interrupted(*args: Any) -> Path:
        raise KeyboardInterrupt("SIGTERM")

    monkeypatch.setattr(job.bundles, "publish_bundle", interrupted)
    uri = f"sqlite:///{project / 'mlflow.db'}"
    with pytest.raises(KeyboardInterrupt):
        job.run_job(
            config, resolve_source("sample", None), load_model_config("ridge"), tracking_uri=uri
        )

    versions = registry(uri).search_model_versions(f"name = '{MODEL_NAME}'")
    newest = max(int(v.version) for v in versions)
    assert newest == int(before["alias_version"]) + 1  # registered, never aliased
    assert snapshot(project) == before
