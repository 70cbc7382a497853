"""Every page of the dashboard, run with Streamlit's AppTest against the real service.

The service is `hpp serve` on 127.0.0.1 with a bundle built from the sample data; the
expected numbers come from that service and that bundle, never from the test.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.conftest import APP

pytestmark = pytest.mark.slow

HOUSE = {
    "sqft": 1800.0,
    "bedrooms": 3,
    "bathrooms": 2.0,
    "year_built": 1995,
    "location": "urban",
    "condition": "good",
}
RUN_SECONDS = 60


def open_page(page: str | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=RUN_SECONDS)
    app.run()
    if page is not None:
        app.switch_page(f"pages/{page}.py")
        app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def money(value: float) -> str:
    return f"${value:,.0f}"


def texts(elements: Any) -> str:
    return "\n".join(str(element.value) for element in elements)


def button(app: AppTest, label: str) -> Any:
    matches = [b for b in app.button if b.label.startswith(label)]
    assert matches, f"no button {label!r} among {[b.label for b in app.button]}"
    return matches[0]


def bundle_input(bundle: dict[str, Any], name: str) -> dict[str, Any]:
    return next(spec for spec in bundle["feature_schema"]["inputs"] if spec["name"] == name)


# -- Predict --------------------------------------------------------------------------


def test_predict_form_offers_exactly_the_bundles_categories(
    dashboard_env: pytest.MonkeyPatch, service_url: str, bundle: dict[str, Any]
) -> None:
    dashboard_env.setenv("API_URL", service_url)

    app = open_page()

    for name in ("location", "condition"):
        choices = app.selectbox(key=f"input-{name}").options
        assert choices == bundle_input(bundle, name)["categories"]


def test_predict_form_limits_are_the_training_ranges(
    dashboard_env: pytest.MonkeyPatch, service_url: str, bundle: dict[str, Any]
) -> None:
    dashboard_env.setenv("API_URL", service_url)

    app = open_page()

    for name in ("sqft", "bedrooms", "bathrooms", "year_built"):
        field = app.number_input(key=f"input-{name}-False")
        spec = bundle_input(bundle, name)
        assert (field.min, field.max) == (spec["min"], spec["max"])


def test_predict_shows_the_services_price_interval_and_model(
    dashboard_env: pytest.MonkeyPatch, service_url: str
) -> None:
    dashboard_env.setenv("API_URL", service_url)
    expected = httpx.post(f"{service_url}/predict", json=HOUSE).json()
    app = open_page()

    for name, value in HOUSE.items():
        if isinstance(value, str):
            app.selectbox(key=f"input-{name}").set_value(value)
        else:
            app.number_input(key=f"input-{name}-False").set_value(value)
    button(app, "Predict price").click()
    app.run()

    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    interval = expected["interval"]
    assert metrics["Predicted price"] == money(expected["predicted_price"])
    assert metrics[f"{interval['level']:.0%} interval"] == (
        f"{money(interval['lower'])} to {money(interval['upper'])}"
    )
    captions = texts(app.caption)
    assert f"version `{expected['model']['version']}`" in captions
    assert "response time" in captions and " ms, measured by this page" in captions
    assert not app.warning  # a house inside the training ranges has no warnings


def test_predict_shows_the_services_warnings_outside_the_training_range(
    dashboard_env: pytest.MonkeyPatch, service_url: str, bundle: dict[str, Any]
) -> None:
    dashboard_env.setenv("API_URL", service_url)
    app = open_page()
    app.toggle[0].set_value(True)
    app.run()
    too_small = bundle_input(bundle, "sqft")["min"] - 500

    app.number_input(key="input-sqft-True").set_value(too_small)
    button(app, "Predict price").click()
    app.run()

    assert not app.exception
    assert "outside the range the model was trained on" in texts(app.warning)
    assert any(metric.label == "Predicted price" for metric in app.metric)


def test_predict_with_the_service_down_shows_the_error_and_no_price(
    dashboard_env: pytest.MonkeyPatch, unreachable_url: str
) -> None:
    dashboard_env.setenv("API_URL", unreachable_url)

    app = open_page()

    error = texts(app.error)
    assert "unavailable" in error
    assert unreachable_url in error
    assert "hpp serve" in error
    assert not app.metric
    assert not app.number_input and not app.selectbox


# -- Batch ----------------------------------------------------------------------------


def test_batch_lists_bad_rows_with_their_reasons(
    dashboard_env: pytest.MonkeyPatch, service_url: str
) -> None:
    dashboard_env.setenv("API_URL", service_url)
    upload = (
        "sqft,bedrooms,bathrooms,location,year_built,condition\n"
        "1800,3,2,Urban,1995,Good\n"
        "-40,3,2,Urban,1995,Good\n"
        "1800,2.5,2,Urban,1995,Good\n"
        "1800,3,2,,3000,Good\n"
        "lots,3,2,Urban,1995,Good\n"
    )
    app = open_page("batch")

    app.file_uploader[0].set_value(("houses.csv", upload.encode(), "text/csv"))
    app.run()

    assert not app.exception
    assert "4 of 5 rows cannot be scored" in texts(app.warning)
    bad = app.dataframe[0].value
    assert list(bad["line"]) == [3, 4, 5, 6]
    reasons = list(bad["reasons"])
    assert "sqft -40: the rule is from 1 to 20,000 square feet" in reasons[0]
    assert "bedrooms 2.5: the rule is a whole number" in reasons[1]
    assert "location is missing" in reasons[2] and "year_built 3000" in reasons[2]
    assert "sqft 'lots' is not a number" in reasons[3]
    assert button(app, "Score 1 valid rows")


def test_batch_refuses_a_file_without_the_required_columns(
    dashboard_env: pytest.MonkeyPatch, service_url: str
) -> None:
    dashboard_env.setenv("API_URL", service_url)
    app = open_page("batch")

    app.file_uploader[0].set_value(("houses.csv", b"sqft,beds\n1800,3\n", "text/csv"))
    app.run()

    error = texts(app.error)
    assert "missing columns: bedrooms, bathrooms, year_built, location, condition" in error
    assert not app.button


def test_batch_scores_through_the_service_and_offers_the_csv(
    dashboard_env: pytest.MonkeyPatch, service_url: str, sample_project: Path
) -> None:
    dashboard_env.setenv("API_URL", service_url)
    sample = (Path(__file__).resolve().parents[2] / "data" / "raw" / "house_data.csv").read_text()
    houses = list(csv.DictReader(io.StringIO(sample)))
    body = {
        "houses": [
            {
                name: row[name] if name in ("location", "condition") else float(row[name])
                for name in HOUSE
            }
            for row in houses
        ]
    }
    expected = httpx.post(f"{service_url}/predict/batch", json=body).json()["predictions"]
    app = open_page("batch")
    app.file_uploader[0].set_value(("house_data.csv", sample.encode(), "text/csv"))
    app.run()

    button(app, f"Score {len(houses)} valid rows").click()
    app.run()

    assert not app.exception
    assert f"All {len(houses)} rows pass" in texts(app.success)
    scored = app.dataframe[-1].value
    assert list(scored["predicted_price"]) == [f"{p['predicted_price']:.2f}" for p in expected]
    assert list(scored["price"]) == [row["price"] for row in houses]
    assert app.get("vega_lite_chart"), "no histogram"
    assert app.get("download_button")


# -- Features -------------------------------------------------------------------------


def run_sql(app: AppTest, sql: str) -> AppTest:
    app.text_area(key="sql").set_value(sql)
    button(app, "Run query").click()
    app.run()
    assert not app.exception
    return app


def test_features_runs_the_first_example_as_a_table_and_chart(
    dashboard_env: pytest.MonkeyPatch,
) -> None:
    app = open_page("features")

    table = app.dataframe[-1].value
    assert list(table.columns) == ["location", "sales", "median_price", "median_sqft"]
    assert table["sales"].sum() == 84  # every sale of the sample, grouped by location
    assert app.get("vega_lite_chart")
    assert not app.error


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM features", "the explorer is read-only: DELETE statements are refused"),
        ("CREATE TABLE copy AS SELECT * FROM features", "CREATE statements are refused"),
        ("COPY features TO 'out.csv'", "COPY statements are refused"),
        ("SELECT * FROM read_csv('/etc/passwd')", "Permission Error"),
        ("SELECT 1; SELECT 2", "exactly one SQL statement"),
        ("SELEC price FROM features", 'Parser Error: syntax error at or near "SELEC"'),
        ("SELECT nope FROM features", 'Referenced column "nope" not found'),
    ],
    ids=["delete", "create", "copy", "read-file", "two-statements", "syntax", "column"],
)
def test_features_shows_refusals_and_the_databases_message(
    dashboard_env: pytest.MonkeyPatch, sql: str, message: str
) -> None:
    app = run_sql(open_page("features"), sql)

    assert message in texts(app.error)


def test_features_without_a_store_says_how_to_build_one(
    dashboard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dashboard_env.setenv("HPP_UI_STORE", str(tmp_path / "missing.duckdb"))

    app = open_page("features")

    assert "no feature store at" in texts(app.error)
    assert "hpp run" in texts(app.error)


# -- Model ----------------------------------------------------------------------------


def test_model_shows_the_bundles_metrics_and_registered_versions(
    dashboard_env: pytest.MonkeyPatch, service_url: str, bundle: dict[str, Any]
) -> None:
    dashboard_env.setenv("API_URL", service_url)

    app = open_page("model")

    metrics = app.dataframe[0].value
    cv, holdout = bundle["metrics"]["cv"], bundle["metrics"]["holdout"]
    assert list(metrics["sales"]) == [cv["rows"], holdout["rows"]]
    assert list(metrics["RMSE(log)"]) == [f"{cv['rmse_log']:.4f}", f"{holdout['rmse_log']:.4f}"]
    coverage = {metric.label: metric.value for metric in app.metric}
    interval = bundle["interval"]
    assert coverage["Coverage in cross-validation"] == f"{interval['cv_coverage']:.1%}"
    page = texts(app.markdown)
    assert bundle["training_data"]["sha256"] in page
    assert "This is the bundle the service is serving" in texts(app.success)
    versions = app.dataframe[-1].value
    assert list(versions["version"]) == ["1"]
    assert list(versions["aliases"]) == ["champion"]
    assert list(versions["bundle"]) == [bundle["version"]]
    # CV folds, predicted vs actual, residuals, permutation importance
    assert len(app.get("vega_lite_chart")) == 4
    assert not app.error


def test_model_with_the_service_down_still_describes_the_bundle(
    dashboard_env: pytest.MonkeyPatch, unreachable_url: str, bundle: dict[str, Any]
) -> None:
    dashboard_env.setenv("API_URL", unreachable_url)

    app = open_page("model")

    assert unreachable_url in texts(app.error)
    assert "latest bundle on disk" in texts(app.warning)
    assert f"{bundle['metrics']['cv']['rmse_log']:.4f}" in list(app.dataframe[0].value["RMSE(log)"])
    assert "Diagnostics on the store's sales need the service" in texts(app.info)
