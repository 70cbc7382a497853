"""The dashboard's entry point: ``streamlit run ui/app.py`` (``hpp ui`` does this for you).

Four pages, each a script under ``ui/pages``: Predict (one house through the service),
Batch (a CSV file through the service), Features (SQL over the feature store) and
Model (what the served model is and how well it does).
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="House Price Predictor", page_icon=":material/home:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/predict.py", title="Predict", icon=":material/sell:", default=True),
        st.Page("pages/batch.py", title="Batch", icon=":material/table_view:"),
        st.Page("pages/features.py", title="Features", icon=":material/database:"),
        st.Page("pages/model.py", title="Model", icon=":material/insights:"),
    ]
)
navigation.run()
