"""Features: plain DuckDB SQL over the feature store, read-only and capped.

Queries run on a locked-down in-memory copy of the store's views (``ui.explorer``): no
files, no network, no writes, at most ``max_rows`` rows and ``query_timeout`` seconds.
A failed query shows DuckDB's own message.
"""

from __future__ import annotations

from typing import cast

import pandas as pd
import streamlit as st

from ui._page import forget_snapshots, page_settings, store_snapshot
from ui.charts import ChartKind, chartable_columns, query_chart
from ui.errors import ExplorerError
from ui.explorer import EXAMPLE_QUERIES, QueryLimits, QueryResult, Snapshot, run_query
from ui.settings import UiSettings

_PICK = "Choose an example…"


def main() -> None:
    st.title("Explore the feature store")
    settings = page_settings()
    try:
        snapshot = store_snapshot(settings.store)
    except ExplorerError as err:
        st.error(str(err))
        return
    _catalog(snapshot)

    st.selectbox("Example queries", [_PICK, *EXAMPLE_QUERIES], key="example", on_change=_pick)
    if "sql" not in st.session_state:
        st.session_state["sql"] = next(iter(EXAMPLE_QUERIES.values()))
    st.text_area("SQL (DuckDB dialect, one read-only statement)", key="sql", height=180)
    run_now = st.button("Run query", type="primary")
    st.caption(
        f"Read-only: SELECT, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN. At most "
        f"{settings.max_rows:,} rows and {settings.query_timeout:g} s per query; no file "
        "or network access."
    )
    sql = str(st.session_state["sql"])
    if run_now or st.session_state.get("ran_sql") is None:
        _run(snapshot, sql, settings)
    _show_outcome()


def _pick() -> None:
    example = st.session_state["example"]
    if example in EXAMPLE_QUERIES:
        st.session_state["sql"] = EXAMPLE_QUERIES[example]


def _catalog(snapshot: Snapshot) -> None:
    loaded = snapshot.loaded_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    names = ", ".join(f"`{relation.name}`" for relation in snapshot.relations)
    left, right = st.columns([5, 1])
    left.caption(f"`{snapshot.store_path}`, read at {loaded}: {names}")
    if right.button("Reload", help="Read the store again, e.g. after `hpp run`"):
        forget_snapshots()
        st.rerun()
    with st.expander("Views and columns"):
        for relation in snapshot.relations:
            st.markdown(
                f"**{relation.name}** ({relation.kind}, {relation.rows:,} rows) — "
                f"{relation.description or 'no description'}"
            )
            st.dataframe(
                pd.DataFrame(
                    {
                        "column": [c.name for c in relation.columns],
                        "type": [c.type for c in relation.columns],
                        "description": [c.description or "" for c in relation.columns],
                    }
                ),
                hide_index=True,
                width="stretch",
            )


def _run(snapshot: Snapshot, sql: str, settings: UiSettings) -> None:
    limits = QueryLimits(max_rows=settings.max_rows, timeout=settings.query_timeout)
    outcome: QueryResult | str
    try:
        outcome = run_query(snapshot, sql, limits)
    except ExplorerError as err:
        outcome = str(err)
    st.session_state["ran_sql"] = sql
    st.session_state["outcome"] = outcome


def _show_outcome() -> None:
    outcome = st.session_state.get("outcome")
    if isinstance(outcome, str):
        st.error(outcome, icon=":material/error:")
        return
    if not isinstance(outcome, QueryResult):
        return
    table = outcome.table
    cut = f" (cut at the limit of {table.num_rows:,} rows)" if outcome.truncated else ""
    st.caption(f"{table.num_rows:,} rows{cut} in {outcome.seconds * 1000:.0f} ms")
    st.dataframe(table, hide_index=True, width="stretch")
    _chart(outcome)


def _chart(outcome: QueryResult) -> None:
    table = outcome.table
    axes, numeric = chartable_columns(table)
    if table.num_rows == 0 or not numeric:
        st.caption("No numeric column to chart.")
        return
    x_column, y_column, kind_column = st.columns(3)
    x = x_column.selectbox("x", axes, index=0, key="chart-x")
    y_choices = [name for name in numeric if name != x] or numeric
    # A price column, when there is one, is what most example queries are about.
    preferred = next((i for i, name in enumerate(y_choices) if "price" in name), 0)
    y = y_column.selectbox("y", y_choices, index=preferred, key="chart-y")
    kind = kind_column.selectbox("chart", ["bar", "line", "point"], key="chart-kind")
    if x is None or y is None:
        return
    chart = query_chart(table, x, y, cast(ChartKind, kind))
    st.altair_chart(chart, width="stretch")


main()
