"""Predict: price one house with the served model.

The form is built from ``GET /model``: numeric inputs limited to the training ranges
(or, on request, to the service's own rules), category choices exactly the bundle's.
The answer shown is the service's: price, interval and level, model and version,
warnings, and the round trip measured here. If the service is down, nothing is shown
but the error.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from ui._page import client, connect_service, money, page_settings, show_unavailable
from ui.client import ModelInfo, TimedPrediction
from ui.errors import ServiceRefused, ServiceUnavailable, UnexpectedAnswer
from ui.form import label_of, number_field


def main() -> None:
    st.title("Predict a house price")
    settings = page_settings()
    info = connect_service(settings)
    if info is None:
        return

    widen = st.toggle(
        "Allow values outside the training range",
        help="The service prices them, with a warning: the model extrapolates there.",
    )
    house = _form(info, widen=widen)
    if house is None:
        return
    try:
        with client(settings) as service:
            answer = service.predict(house)
    except ServiceUnavailable as err:
        show_unavailable(settings, err)
        return
    except ServiceRefused as err:
        st.error(f"The service refused this house ({err.status}): {err.detail}")
        for problem in err.problems:
            st.markdown(f"- {problem}")
        return
    except UnexpectedAnswer as err:
        st.error(str(err))
        return
    _show(answer, info)


def _form(info: ModelInfo, *, widen: bool) -> dict[str, float | int | str] | None:
    house: dict[str, float | int | str] = {}
    with st.form("house"):
        numbers, categories = st.columns(2)
        for spec in info.inputs:
            if spec.kind == "category":
                with categories:
                    choices = spec.categories or []
                    house[spec.name] = st.selectbox(
                        label_of(spec),
                        choices,
                        help=f"{spec.description}. The values the model was trained on.",
                        key=f"input-{spec.name}",
                    )
                continue
            field = number_field(spec, widen=widen, current_year=date.today().year)
            with numbers:
                if field.integer:
                    house[spec.name] = st.number_input(
                        field.label,
                        min_value=int(field.min_value),
                        max_value=int(field.max_value),
                        value=int(field.default),
                        step=int(field.step),
                        help=field.help,
                        key=f"input-{spec.name}-{widen}",
                    )
                else:
                    house[spec.name] = st.number_input(
                        field.label,
                        min_value=float(field.min_value),
                        max_value=float(field.max_value),
                        value=float(field.default),
                        step=float(field.step),
                        format=field.format,
                        help=field.help,
                        key=f"input-{spec.name}-{widen}",
                    )
        submitted = st.form_submit_button("Predict price", type="primary")
    return house if submitted else None


def _show(answer: TimedPrediction, info: ModelInfo) -> None:
    prediction = answer.prediction
    interval = prediction.interval
    price, band = st.columns(2)
    price.metric("Predicted price", money(prediction.predicted_price))
    band.metric(
        f"{interval.level:.0%} interval", f"{money(interval.lower)} to {money(interval.upper)}"
    )
    st.caption(
        f"Model **{prediction.model.name}** version `{prediction.model.version}` · "
        f"response time {answer.seconds * 1000:.1f} ms, measured by this page "
        "(the HTTP round trip to the service)."
    )
    for warning in prediction.warnings:
        st.warning(warning.message, icon=":material/warning:")
    st.caption(_interval_note(info))


def _interval_note(info: ModelInfo) -> str:
    interval = info.interval
    note = (
        f"The interval is the service's {interval.level:.0%} interval "
        f"({interval.method}); in cross-validation it covered {interval.cv_coverage:.1%} "
        "of sales"
    )
    holdout = info.metrics.holdout
    if interval.holdout_coverage is not None and holdout is not None:
        note += f", and {interval.holdout_coverage:.1%} of {holdout.rows} held-out sales"
    return note + "."


main()
