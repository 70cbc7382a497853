"""The dashboard's pages: Streamlit scripts, run by ``ui/app.py``'s navigation, not imported."""
