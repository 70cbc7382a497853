"""Batch: score a CSV file through ``POST /predict/batch``.

The file is checked against the served model's rules first; bad rows are listed with
their line and reasons and are not sent. The valid rows go to the service in chunks
(no larger than its ``max_batch``) under a progress bar; the answers are shown as a
table and a histogram and can be downloaded as CSV, with every row of the file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from ui._page import client, connect_service, money, page_settings, show_unavailable
from ui.batch import (
    OUTPUT_COLUMNS,
    FileProblem,
    ParsedFile,
    chunk_ranges,
    lines_of_problems,
    parse_upload,
    scored_csv,
)
from ui.charts import prediction_histogram
from ui.client import ModelInfo, ModelRef, PredictionItem
from ui.errors import ServiceRefused, ServiceUnavailable, UnexpectedAnswer
from ui.settings import UiSettings

MAX_ROWS = 200_000


@dataclass(frozen=True)
class Scored:
    file_digest: str
    model: ModelRef
    predictions: list[PredictionItem]
    csv: bytes


def main() -> None:
    st.title("Score a file of houses")
    settings = page_settings()
    info = connect_service(settings)
    if info is None:
        return
    names = ", ".join(spec.name for spec in info.inputs)
    upload = st.file_uploader(
        f"CSV with the columns {names} (any order; other columns, such as price, are kept)",
        type=["csv"],
    )
    if upload is None:
        return
    data = upload.getvalue()
    try:
        parsed = parse_upload(data, info.inputs, max_rows=MAX_ROWS, current_year=date.today().year)
    except FileProblem as err:
        st.error(f"**{upload.name} cannot be scored:** {err}")
        return
    _show_check(parsed)
    if not parsed.houses:
        return

    digest = hashlib.sha256(data).hexdigest()
    previous = st.session_state.get("scored")
    if not (isinstance(previous, Scored) and previous.file_digest == digest):
        label = f"Score {len(parsed.houses):,} valid rows with {info.name} {info.version}"
        if not st.button(label, type="primary"):
            return
        previous = _score(settings, info, parsed, digest)
        if previous is None:
            return
        st.session_state["scored"] = previous
    _show_scores(parsed, previous, upload.name)


def _show_check(parsed: ParsedFile) -> None:
    total = len(parsed.rows)
    if not parsed.bad_rows:
        st.success(f"All {total:,} rows pass the service's rules.")
        return
    st.warning(
        f"**{len(parsed.bad_rows):,} of {total:,} rows cannot be scored** and will not be "
        "sent; the scored file lists them with their reasons."
    )
    st.dataframe(
        pd.DataFrame(
            {
                "line": [bad.line for bad in parsed.bad_rows],
                "reasons": ["; ".join(bad.reasons) for bad in parsed.bad_rows],
            }
        ),
        hide_index=True,
        width="stretch",
    )


def _score(settings: UiSettings, info: ModelInfo, parsed: ParsedFile, digest: str) -> Scored | None:
    size = min(settings.batch_chunk, info.max_batch)
    chunks = chunk_ranges(len(parsed.houses), size)
    progress = st.progress(0.0, text=f"Scoring in {len(chunks)} request(s) of up to {size:,}…")
    predictions: list[PredictionItem] = []
    model: ModelRef | None = None
    try:
        with client(settings) as service:
            for done, chunk in enumerate(chunks, start=1):
                houses = parsed.houses[chunk.start : chunk.stop]
                answer = service.predict_batch(houses)
                predictions.extend(answer.predictions)
                model = answer.model
                progress.progress(done / len(chunks), text=f"{chunk.stop:,} rows scored")
    except ServiceUnavailable as err:
        show_unavailable(settings, err)
        return None
    except ServiceRefused as err:
        lines = [parsed.lines[parsed.house_rows[i]] for i in chunk]
        first, last = lines[0], lines[-1]
        st.error(f"The service refused rows {first} to {last} ({err.status}): {err.detail}")
        for problem in lines_of_problems(err.problems, lines):
            st.markdown(f"- {problem}")
        return None
    except UnexpectedAnswer as err:
        st.error(str(err))
        return None
    assert model is not None  # at least one chunk: parsed.houses is not empty
    return Scored(digest, model, predictions, scored_csv(parsed, predictions, model))


def _show_scores(parsed: ParsedFile, scored: Scored, file_name: str) -> None:
    prices = np.asarray([item.predicted_price for item in scored.predictions])
    st.subheader(f"{len(prices):,} predictions by {scored.model.name} {scored.model.version}")
    median, lowest, highest = st.columns(3)
    median.metric("Median predicted price", money(float(np.median(prices))))
    lowest.metric("Lowest", money(float(prices.min())))
    highest.metric("Highest", money(float(prices.max())))
    warned = sum(1 for item in scored.predictions if item.warnings)
    if warned:
        st.info(f"{warned:,} rows were priced with warnings; see the `warnings` column.")
    _accuracy_note(parsed, scored)

    st.altair_chart(prediction_histogram(prices.tolist()), width="stretch")
    table = pd.read_csv(_as_file(scored.csv), dtype=str, keep_default_na=False)
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button(
        "Download the scored CSV",
        data=scored.csv,
        file_name=file_name.removesuffix(".csv") + "-scored.csv",
        mime="text/csv",
        type="primary",
    )
    st.caption(f"Added columns: {', '.join(OUTPUT_COLUMNS)}.")


def _accuracy_note(parsed: ParsedFile, scored: Scored) -> None:
    """When the file carries sale prices, how far off the predictions are on it."""
    column = next((name for name in parsed.columns if name.lower() == "price"), None)
    if column is None:
        return
    actual, predicted, inside = [], [], []
    for row_index, item in zip(parsed.house_rows, scored.predictions, strict=True):
        try:
            price = float(parsed.rows[row_index].get(column, ""))
        except ValueError:
            continue
        if price > 0:
            actual.append(price)
            predicted.append(item.predicted_price)
            inside.append(item.interval.lower <= price <= item.interval.upper)
    if not actual:
        return
    error = np.abs(np.asarray(actual) - np.asarray(predicted))
    level = scored.predictions[0].interval.level
    st.caption(
        f"Your file has prices for {len(actual):,} scored rows: mean absolute error "
        f"{money(float(error.mean()))}, and the {level:.0%} interval contains "
        f"{np.mean(inside):.1%} of them. If the model was trained on these sales, this "
        "measures fit, not accuracy on new houses."
    )


def _as_file(data: bytes) -> object:
    import io

    return io.BytesIO(data)


main()
