"""Altair charts of the dashboard; each takes plain columns and returns a chart.

Streamlit renders these natively (``st.altair_chart``); nothing here draws HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from ui.diagnostics import Importance, ScoredSales

__all__ = [
    "ChartKind",
    "chartable_columns",
    "cv_folds_chart",
    "importance_chart",
    "predicted_vs_actual_chart",
    "prediction_histogram",
    "query_chart",
    "residuals_chart",
]

ChartKind = Literal["bar", "line", "point"]
AxisType = Literal["quantitative", "nominal", "temporal"]
_DOLLARS = "$,.0f"


def prediction_histogram(prices: Sequence[float], *, bins: int = 30) -> alt.Chart:
    frame = pd.DataFrame({"predicted_price": list(prices)})
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(
                "predicted_price:Q",
                bin=alt.Bin(maxbins=bins),
                title="predicted price ($)",
                axis=alt.Axis(format=_DOLLARS),
            ),
            y=alt.Y("count():Q", title="houses"),
        )
    )


def predicted_vs_actual_chart(scored: ScoredSales) -> alt.LayerChart:
    frame = _scored_frame(scored)
    low = float(min(frame["actual"].min(), frame["predicted"].min()))
    high = float(max(frame["actual"].max(), frame["predicted"].max()))
    scale = alt.Scale(type="log", domain=[low, high], nice=False)
    points = (
        alt.Chart(frame)
        .mark_circle(size=30, opacity=0.6)
        .encode(
            x=alt.X("actual:Q", scale=scale, title="actual sale price ($)"),
            y=alt.Y("predicted:Q", scale=scale, title="predicted price ($)"),
            tooltip=[
                alt.Tooltip("actual:Q", format=_DOLLARS),
                alt.Tooltip("predicted:Q", format=_DOLLARS),
                *_input_tooltips(scored),
            ],
        )
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"actual": [low, high], "predicted": [low, high]}))
        .mark_line(color="black", strokeWidth=1)
        .encode(x="actual:Q", y="predicted:Q")
    )
    return alt.LayerChart(layer=[points, diagonal])


def residuals_chart(scored: ScoredSales) -> alt.LayerChart:
    frame = _scored_frame(scored)
    points = (
        alt.Chart(frame)
        .mark_circle(size=30, opacity=0.6)
        .encode(
            x=alt.X("predicted:Q", scale=alt.Scale(type="log"), title="predicted price ($)"),
            y=alt.Y("log_residual:Q", title="log(actual) - log(predicted)"),
            tooltip=[
                alt.Tooltip("actual:Q", format=_DOLLARS),
                alt.Tooltip("predicted:Q", format=_DOLLARS),
                alt.Tooltip("log_residual:Q", format=".3f"),
                *_input_tooltips(scored),
            ],
        )
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="black").encode(y="y:Q")
    return alt.LayerChart(layer=[points, zero])


def importance_chart(importances: Sequence[Importance]) -> alt.LayerChart:
    frame = pd.DataFrame(
        {
            "input": [item.name for item in importances],
            "increase": [item.rmse_log_increase for item in importances],
            "low": [item.low for item in importances],
            "high": [item.high for item in importances],
        }
    )
    order = list(frame["input"])
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("increase:Q", title="increase in RMSE(log) when shuffled"),
            y=alt.Y("input:N", sort=order, title=None),
            tooltip=[
                "input",
                alt.Tooltip("increase:Q", format=".4f", title="mean increase"),
                alt.Tooltip("low:Q", format=".4f", title="smallest"),
                alt.Tooltip("high:Q", format=".4f", title="largest"),
            ],
        )
    )
    spread = (
        alt.Chart(frame)
        .mark_rule(color="black")
        .encode(x="low:Q", x2="high:Q", y=alt.Y("input:N", sort=order))
    )
    return alt.LayerChart(layer=[bars, spread])


def cv_folds_chart(rmse_by_fold: Sequence[float]) -> alt.Chart:
    frame = pd.DataFrame(
        {"fold": [f"fold {i + 1}" for i in range(len(rmse_by_fold))], "rmse_log": rmse_by_fold}
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("fold:N", title=None, sort=None),
            y=alt.Y("rmse_log:Q", title="RMSE(log)"),
            tooltip=["fold", alt.Tooltip("rmse_log:Q", format=".4f")],
        )
        .properties(height=220)
    )


def chartable_columns(table: pa.Table) -> tuple[list[str], list[str]]:
    """Column names usable as an x axis (any) and as a y axis (numeric)."""
    numeric = [
        field.name
        for field in table.schema
        if pa.types.is_integer(field.type)
        or pa.types.is_floating(field.type)
        or pa.types.is_decimal(field.type)
    ]
    return list(table.column_names), numeric


def query_chart(table: pa.Table, x: str, y: str, kind: ChartKind) -> alt.Chart:
    """One numeric column ``y`` against any column ``x``, in the order the query gave."""
    frame = pd.DataFrame(
        {"x": _plain(table.column(x)), "y": np.asarray(_plain(table.column(y)), dtype=float)}
    )
    x_type = _axis_type(table.schema.field(x).type, kind)
    chart = alt.Chart(frame)
    marks = {"bar": chart.mark_bar, "line": chart.mark_line, "point": chart.mark_circle}
    return marks[kind]().encode(
        x=alt.X("x", type=x_type, title=x, sort=None),
        y=alt.Y("y:Q", title=y),
        tooltip=[alt.Tooltip("x", type=x_type, title=x), alt.Tooltip("y:Q", title=y)],
    )


def _axis_type(kind: pa.DataType, chart: ChartKind) -> AxisType:
    if pa.types.is_temporal(kind):
        return "temporal"
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    # Bars read best with one bar per value, in the query's order.
    return "quantitative" if numeric and chart != "bar" else "nominal"


def _scored_frame(scored: ScoredSales) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "actual": scored.actual,
            "predicted": scored.predicted,
            "log_residual": scored.log_residuals,
        }
    )
    for name, values in scored.inputs.items():
        frame[name] = values
    return frame


def _input_tooltips(scored: ScoredSales) -> list[str]:
    return list(scored.inputs)


def _plain(column: pa.ChunkedArray) -> list[object]:
    # Decimals (e.g. DuckDB's sum of integers) become floats Altair can plot.
    if pa.types.is_decimal(column.type):
        return [None if v is None else float(v) for v in column.to_pylist()]
    return list(column.to_pylist())
