"""Pieces every page shares: settings, the service connection, the store snapshot.

Failures are shown as failures: a page that cannot reach what it needs says which
address or file it tried and how to start it, and shows no figures in their place.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from ui.client import ModelInfo, ServiceClient
from ui.errors import ServiceRefused, ServiceUnavailable, UiError, UnexpectedAnswer
from ui.explorer import Snapshot, load_snapshot, store_key
from ui.settings import ENVIRONMENT, UiSettings, settings_from_environment

__all__ = [
    "client",
    "connect_service",
    "forget_snapshots",
    "money",
    "page_settings",
    "show_unavailable",
    "store_snapshot",
]


def page_settings() -> UiSettings:
    """The settings for this run of the page; stops the page if they are invalid."""
    try:
        return settings_from_environment(os.environ)
    except UiError as err:
        st.error(f"The dashboard is misconfigured: {err}")
        st.stop()
        raise  # st.stop() raises; this keeps type checkers certain


def client(settings: UiSettings) -> ServiceClient:
    return ServiceClient(settings.api_url, timeout=settings.request_timeout)


def connect_service(settings: UiSettings) -> ModelInfo | None:
    """Check ``/ready`` and read ``/model``; on failure show why and return None."""
    try:
        with client(settings) as service:
            service.readiness()
            info = service.model_info()
    except ServiceUnavailable as err:
        show_unavailable(settings, err)
        return None
    except (ServiceRefused, UnexpectedAnswer) as err:
        st.error(f"The prediction service answered, but not as expected: {err}")
        return None
    _sidebar(settings, info)
    return info


def show_unavailable(settings: UiSettings, err: ServiceUnavailable) -> None:
    st.error(
        f"**The prediction service is unavailable.** Tried `{err.url}`: {err.reason}.\n\n"
        "Start it in the project folder with `hpp serve` (after `hpp run` has trained a "
        "model), or point the dashboard at a running service with "
        f"`hpp ui --api-url http://HOST:PORT` (or the `{ENVIRONMENT['api_url']}` variable). "
        "Nothing is predicted while it is down.",
        icon=":material/cloud_off:",
    )
    with st.sidebar:
        st.caption(f"Service: `{settings.api_url}` — unavailable")


def _sidebar(settings: UiSettings, info: ModelInfo) -> None:
    with st.sidebar:
        st.caption(
            f"Service: `{settings.api_url}` — ready  \n"
            f"Model: **{info.name}** `{info.version}` ({info.kind})"
        )


def store_snapshot(store_path: Path) -> Snapshot:
    """The store's relations, read once per state of the store file."""
    key = store_key(store_path)
    return _cached_snapshot(*key)


@st.cache_resource(max_entries=2, show_spinner="Reading the feature store…")
def _cached_snapshot(path: str, mtime_ns: int, size: int) -> Snapshot:
    return load_snapshot(Path(path))


def forget_snapshots() -> None:
    _cached_snapshot.clear()


def money(value: float) -> str:
    return f"${value:,.0f}"
