"""Model: what the served model is, how well it does, and where it came from.

Sources, each named on the page: the bundle on disk (``bundle.json``: metrics, interval
calibration, training-data fingerprint, libraries, the training-time plots), the
service (which version is served; diagnostics computed now on the store's sales), and,
when the bundle was registered, MLflow (its run, and every registered version with its
aliases).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from pipelines.bundle import BUNDLE_FILE, LATEST, Bundle, MetricSet, read_bundle
from pipelines.errors import BundleError
from ui._page import connect_service, money, page_settings, store_snapshot
from ui.charts import (
    cv_folds_chart,
    importance_chart,
    predicted_vs_actual_chart,
    residuals_chart,
)
from ui.client import ModelInfo, ServiceClient
from ui.diagnostics import (
    Importance,
    ScoredSales,
    permutation_importance,
    sample_sales,
    score_sales,
)
from ui.errors import UiError
from ui.explorer import store_key
from ui.settings import UiSettings
from ui.tracking import read_registry_record, read_run, read_versions

DIAGNOSTIC_ROWS = 3_000
IMPORTANCE_REPEATS = 3
SEED = 0


def main() -> None:
    st.title("The model")
    settings = page_settings()
    info = connect_service(settings)
    located = _locate_bundle(settings, info)
    if located is None:
        return
    bundle_dir, bundle = located

    _summary(bundle, bundle_dir, info)
    _accuracy(bundle)
    _interval(bundle)
    if info is not None and info.version == bundle.version:
        _diagnostics(settings, info, bundle)
    else:
        st.info(
            "Diagnostics on the store's sales need the service running this bundle "
            f"({bundle.version})."
        )
    _training_plots(bundle_dir)
    _training_data(bundle)
    _libraries(bundle)
    _mlflow(settings, bundle_dir)


def _locate_bundle(settings: UiSettings, info: ModelInfo | None) -> tuple[Path, Bundle] | None:
    root = settings.bundle_root
    served = root / info.version if info is not None else None
    directory = served if served is not None and (served / BUNDLE_FILE).is_file() else root / LATEST
    try:
        bundle = read_bundle(directory)
    except BundleError as err:
        st.error(
            f"No model bundle to describe: {err}. Train one with `hpp run`, or point the "
            "dashboard at another models folder with `hpp ui --models-dir`."
        )
        return None
    return directory.resolve(), bundle


def _summary(bundle: Bundle, bundle_dir: Path, info: ModelInfo | None) -> None:
    st.markdown(
        f"**{bundle.name}** version `{bundle.version}` — a {bundle.model.kind} model on the "
        f"{bundle.model.target} price, created {bundle.created_at}. Bundle: `{bundle_dir}`."
    )
    if info is None:
        st.warning("The service is unavailable, so this is the latest bundle on disk.")
    elif info.version != bundle.version:
        st.warning(
            f"The service serves {info.name} `{info.version}`, which is not in "
            f"`{bundle_dir.parent}`; this page describes the latest bundle there instead."
        )
    else:
        st.success("This is the bundle the service is serving.", icon=":material/check:")


def _accuracy(bundle: Bundle) -> None:
    st.header("Accuracy")
    metrics = bundle.metrics
    rows = [("cross-validation (out of fold)", metrics.cv)]
    if metrics.holdout is not None:
        rows.append(("holdout (never used in fitting)", metrics.holdout))
    st.dataframe(_metrics_frame(rows), hide_index=True, width="stretch")
    st.caption(f"Holdout: {bundle.training_data.holdout_rule}.")
    if metrics.cv_rmse_log_folds:
        st.altair_chart(cv_folds_chart(metrics.cv_rmse_log_folds), width="stretch")


def _metrics_frame(rows: list[tuple[str, MetricSet]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "set": [label for label, _ in rows],
            "sales": [m.rows for _, m in rows],
            "RMSE(log)": [f"{m.rmse_log:.4f}" for _, m in rows],
            "MAE": [money(m.mae) for _, m in rows],
            "MAPE": [f"{m.mape:.1%}" for _, m in rows],
            "R² (price)": [f"{m.r2:.3f}" for _, m in rows],
        }
    )


def _interval(bundle: Bundle) -> None:
    st.header("Prediction interval")
    interval = bundle.interval
    level, cv, holdout = st.columns(3)
    level.metric("Level", f"{interval.level:.0%}")
    cv.metric("Coverage in cross-validation", f"{interval.cv_coverage:.1%}")
    if interval.holdout_coverage is not None and bundle.metrics.holdout is not None:
        holdout.metric(
            f"Coverage on {bundle.metrics.holdout.rows} holdout sales",
            f"{interval.holdout_coverage:.1%}",
        )
    width = (
        f" Median width on the holdout: {money(interval.holdout_median_width)}."
        if interval.holdout_median_width is not None
        else ""
    )
    st.caption(
        f"Method: {interval.method}, calibrated on {interval.calibration_rows:,} sales.{width}"
    )


def _diagnostics(settings: UiSettings, info: ModelInfo, bundle: Bundle) -> None:
    st.header("Diagnostics on the feature store's sales")
    try:
        scored, importances = _computed_diagnostics(settings, info)
    except UiError as err:
        st.error(f"Could not compute the diagnostics: {err}")
        return
    sampled = (
        f"A seeded sample of {scored.rows:,} of the {scored.store_rows:,}"
        if scored.rows < scored.store_rows
        else f"All {scored.rows:,}"
    )
    st.caption(
        f"{sampled} sales in the store, priced now by the service "
        f"({info.name} {scored.model_version}) as of {bundle.feature_schema.reference_year} "
        f"(house age = {bundle.feature_schema.reference_year} minus year built). The model was "
        f"fitted on {bundle.training_data.fit_rows:,} of the "
        f"{bundle.training_data.rows:,} sales it was trained from, so these charts show "
        f"fit more than accuracy on new houses; the holdout row above is the honest "
        f"figure. Here: RMSE(log) {scored.rmse_log:.4f}, interval coverage "
        f"{scored.coverage:.1%}."
    )
    actual, residual = st.columns(2)
    with actual:
        st.subheader("Predicted vs actual")
        st.altair_chart(predicted_vs_actual_chart(scored), width="stretch")
    with residual:
        st.subheader("Residuals")
        st.altair_chart(residuals_chart(scored), width="stretch")
    st.subheader("Permutation importance")
    st.altair_chart(importance_chart(importances), width="stretch")
    st.caption(
        f"How much RMSE(log) on these sales grows when one input's values are shuffled "
        f"across them (mean of {IMPORTANCE_REPEATS} seeded shuffles; the line spans the "
        "smallest to the largest). Derived features such as house age move with their input."
    )


def _computed_diagnostics(
    settings: UiSettings, info: ModelInfo
) -> tuple[ScoredSales, list[Importance]]:
    key = store_key(settings.store)
    return _cached_diagnostics(settings.api_url, info.version, key, settings.request_timeout)


@st.cache_data(max_entries=4, show_spinner="Scoring the store's sales through the service…")
def _cached_diagnostics(
    api_url: str, version: str, store: tuple[str, int, int], timeout: float
) -> tuple[ScoredSales, list[Importance]]:
    snapshot = store_snapshot(Path(store[0]))
    if "features" not in snapshot.tables:
        raise UiError(f"the store {store[0]} has no features view; run `hpp build`")
    with ServiceClient(api_url, timeout=timeout) as service:
        info = service.model_info()
        names = [spec.name for spec in info.inputs]
        chunk = min(info.max_batch, 10_000)
        inputs, actual, total = sample_sales(
            snapshot.tables["features"], names, max_rows=DIAGNOSTIC_ROWS, seed=SEED
        )
        scored = score_sales(service, inputs, actual, chunk=chunk, store_rows=total)
        importances = permutation_importance(
            service, scored, repeats=IMPORTANCE_REPEATS, seed=SEED, chunk=chunk
        )
    return scored, importances


def _training_plots(bundle_dir: Path) -> None:
    plots = sorted((bundle_dir / "plots").glob("*.png"))
    if not plots:
        return
    with st.expander("Holdout plots saved at training time (bundle `plots/`)"):
        columns = st.columns(len(plots))
        for column, plot in zip(columns, plots, strict=True):
            column.image(str(plot), caption=plot.name)


def _training_data(bundle: Bundle) -> None:
    st.header("Training data")
    data = bundle.training_data
    dates = (
        f"sales from {data.sale_date_min} to {data.sale_date_max}"
        if data.sale_date_min
        else "no sale dates"
    )
    st.markdown(
        f"Source **{data.source}**: {data.rows:,} sales ({data.fit_rows:,} fitted, "
        f"{data.holdout_rows:,} held out), {dates}.  \n"
        "Training-data fingerprint (SHA-256 of its rows by house_id, as CSV): "
        f"`{data.sha256}`  \n"
        f"ONNX graph: `{bundle.onnx.sha256}`, {bundle.onnx.size_bytes:,} bytes; largest "
        f"relative difference from the native model "
        f"{bundle.onnx.parity_max_relative_difference:.1e} on {bundle.onnx.parity_rows} rows."
    )


def _libraries(bundle: Bundle) -> None:
    with st.expander("Library versions used for training"):
        st.dataframe(
            pd.DataFrame(
                {"library": list(bundle.libraries), "version": list(bundle.libraries.values())}
            ),
            hide_index=True,
        )


def _mlflow(settings: UiSettings, bundle_dir: Path) -> None:
    st.header("MLflow")
    try:
        record = read_registry_record(bundle_dir)
    except UiError as err:
        st.error(str(err))
        return
    tracking_uri = settings.tracking_uri or (record.tracking_uri if record else None)
    if tracking_uri is None:
        st.info(
            "This bundle was not registered (no mlflow.json beside it) and no tracking URI "
            "is configured: set MLFLOW_TRACKING_URI or run `hpp register`."
        )
        return
    registered = record.registered_model if record else settings.registered_model
    st.caption(f"Tracking URI: `{tracking_uri}`")
    try:
        if record is not None:
            run = read_run(tracking_uri, record.run_id)
            st.markdown(
                f"Run `{run.run_id}` ({run.name}), {run.status.lower()}, started {run.started}; "
                f"registered as **{record.registered_model}** version {record.model_version}."
            )
        versions = read_versions(tracking_uri, registered)
    except UiError as err:
        st.error(str(err))
        return
    st.subheader(f"Registered versions of {registered}")
    st.dataframe(
        pd.DataFrame(
            {
                "version": [v.version for v in versions],
                "aliases": [", ".join(v.aliases) for v in versions],
                "bundle": [v.bundle_version or "" for v in versions],
                "created": [v.created for v in versions],
                "status": [v.status for v in versions],
                "run": [v.run_id or "" for v in versions],
            }
        ),
        hide_index=True,
        width="stretch",
    )


main()
