"""Where the dashboard's settings come from: `hpp ui` flags, the pipeline config, variables."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_hpp_in
from ui.cli import dashboard_environment, streamlit_command
from ui.client import InputInfo
from ui.errors import UiError
from ui.form import number_field
from ui.settings import DEFAULT_API_URL, settings_from_environment

COMPLETE = {
    "HPP_UI_STORE": "data/featurestore.duckdb",
    "HPP_UI_MODELS_DIR": "models",
    "HPP_UI_BUNDLE": "house-price",
    "HPP_UI_REGISTERED_MODEL": "house-price-predictor",
}


def flags(**given: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "config": None,
        "data_dir": None,
        "models_dir": None,
        "api_url": None,
        "tracking_uri": None,
        "max_rows": None,
        "query_timeout": None,
    }
    return argparse.Namespace(**(values | given))


def test_settings_default_to_the_local_service() -> None:
    settings = settings_from_environment(COMPLETE)

    assert settings.api_url == DEFAULT_API_URL
    assert settings.store == Path("data/featurestore.duckdb")


def test_settings_fill_gaps_from_the_pipeline_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "pipeline.yaml").write_text("paths:\n  data_dir: elsewhere\n")
    monkeypatch.chdir(tmp_path)

    settings = settings_from_environment({"API_URL": "http://127.0.0.1:9000"})

    assert settings.store == Path("elsewhere/featurestore.duckdb")
    assert settings.bundle_root == Path("models/house-price")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HPP_UI_MAX_ROWS", "0", r"invalid \$HPP_UI_MAX_ROWS"),
        ("HPP_UI_QUERY_TIMEOUT", "soon", r"invalid \$HPP_UI_QUERY_TIMEOUT"),
        ("API_URL", "localhost:8000", r"invalid \$API_URL"),
    ],
    ids=["rows", "timeout", "url-without-scheme"],
)
def test_bad_settings_name_their_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(UiError, match=message):
        settings_from_environment(COMPLETE | {variable: value})


def test_hpp_ui_flags_and_config_become_the_apps_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    given = flags(data_dir=Path("lake-folder"), api_url="http://127.0.0.1:9", max_rows=50)

    environment = dashboard_environment(given, {"API_URL": "http://ignored:1", "KEEP": "1"})

    assert environment["HPP_UI_STORE"] == str(tmp_path / "lake-folder" / "featurestore.duckdb")
    assert environment["HPP_UI_MODELS_DIR"] == str(tmp_path / "models")
    assert environment["API_URL"] == "http://127.0.0.1:9"
    assert environment["HPP_UI_MAX_ROWS"] == "50"
    assert environment["KEEP"] == "1"
    assert environment["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] == "false"


def test_streamlit_is_started_headless_without_usage_statistics() -> None:
    command = streamlit_command("127.0.0.1", 8599)

    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4].endswith("ui/app.py")
    for flag, value in [
        ("--server.port", "8599"),
        ("--server.address", "127.0.0.1"),
        ("--server.headless", "true"),
        ("--browser.gatherUsageStats", "false"),
    ]:
        assert command[command.index(flag) + 1] == value


def test_hpp_ui_refuses_a_bad_setting_before_starting(tmp_path: Path) -> None:
    result = run_hpp_in(tmp_path, "ui", "--api-url", "not-a-url")

    assert result.returncode == 2
    assert "invalid $API_URL" in result.stderr


SQFT = InputInfo(
    "sqft",
    "number",
    "Living area",
    "greater than 0 and at most 1,000,000",
    exclusive_minimum=0,
    maximum=1e6,
    training_min=1350,
    training_max=3850,
)
YEAR = InputInfo(
    "year_built",
    "number",
    "Year built",
    "a whole year from 1000 to the current year",
    minimum=1000,
    maximum=9999,
    step=1,
    training_min=1947,
    training_max=2019,
)


def test_form_limits_are_the_training_range_unless_widened() -> None:
    narrow = number_field(SQFT, widen=False, current_year=2026)
    wide = number_field(SQFT, widen=True, current_year=2026)

    assert (narrow.min_value, narrow.max_value) == (1350, 3850)
    assert wide.min_value > 0 and wide.max_value == 1e6
    assert narrow.default == 2600 and narrow.format == "%.0f"


def test_form_year_stops_at_the_current_year_and_is_whole() -> None:
    field = number_field(YEAR, widen=True, current_year=2026)

    assert (field.min_value, field.max_value) == (1000, 2026)
    assert field.integer and field.step == 1


def test_the_dashboard_needs_no_training_stack(tmp_path: Path) -> None:
    # The UI image installs only core + the ui extra (Dockerfile.ui).
    script = (
        "import sys\n"
        "import ui.batch, ui.charts, ui.cli, ui.client, ui.diagnostics, ui.explorer\n"
        "import ui.form, ui.settings, ui.tracking\n"
        "heavy = ('sklearn', 'xgboost', 'mlflow', 'polars', 'onnxruntime', 'matplotlib')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert result.stdout.strip() == ""
