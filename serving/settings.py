"""Service settings: one typed struct, filled from CLI flags over ``HPP_*`` variables.

Precedence is flag > environment variable > default. The constraints live on the
struct, so a bad value fails once, at start-up, naming both the flag and the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import msgspec

from serving.errors import SettingsError

__all__ = [
    "DEFAULT_MODEL",
    "ENVIRONMENT",
    "ServiceSettings",
    "resolve_settings",
    "settings_from_environment",
]

DEFAULT_MODEL = "models/house-price"

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class ServiceSettings(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Everything ``hpp serve`` can be told; see ``ENVIRONMENT`` for the variable names."""

    model: str = DEFAULT_MODEL
    """A bundle folder, ``models/<name>`` (its latest), or ``models:/<name>@<alias>``."""
    host: str = "127.0.0.1"
    port: Port = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    cors_origins: list[str] = []
    """Origins allowed to call the API from a browser; none unless listed."""
    max_batch: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=1 << 30)] = 4 << 20
    strict_categories: bool = False
    """Refuse (422) an unknown location or condition instead of warning about it."""
    ort_threads: Annotated[int, msgspec.Meta(ge=0, le=256)] = 1
    """onnxruntime intra-op threads per worker; 0 lets onnxruntime choose."""
    tracking_uri: str | None = None
    """MLflow tracking URI, only for ``models:/`` locations."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"


# Setting name -> environment variable. MLflow's own variable names its tracking URI.
ENVIRONMENT: dict[str, str] = {
    "model": "HPP_MODEL",
    "host": "HPP_HOST",
    "port": "HPP_PORT",
    "workers": "HPP_WORKERS",
    "cors_origins": "HPP_CORS_ORIGINS",
    "max_batch": "HPP_MAX_BATCH",
    "max_body_bytes": "HPP_MAX_BODY_BYTES",
    "strict_categories": "HPP_STRICT_CATEGORIES",
    "ort_threads": "HPP_ORT_THREADS",
    "tracking_uri": "MLFLOW_TRACKING_URI",
    "log_level": "HPP_LOG_LEVEL",
}

_LIST_SETTINGS = frozenset({"cors_origins"})
# The flag of each setting is --<name with dashes>, except where it is given once per value.
_FLAG_EXCEPTIONS = {"cors_origins": "--cors-origin"}
_ERROR_PATH = re.compile(r"`\$\.(\w+)`")


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings given as environment variables, as raw strings (lists split on commas)."""
    values: dict[str, Any] = {}
    for name, variable in ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None or raw.strip() == "":
            continue
        if name in _LIST_SETTINGS:
            values[name] = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            values[name] = raw.strip()
    return values


def resolve_settings(
    flags: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> ServiceSettings:
    """Merge flags (``None`` = not given) over environment variables over defaults."""
    values = settings_from_environment(environ or {})
    values |= {name: value for name, value in flags.items() if value is not None}
    try:
        return msgspec.convert(values, ServiceSettings, strict=False)
    except msgspec.ValidationError as err:
        raise SettingsError(_explain(err)) from err


def _explain(err: msgspec.ValidationError) -> str:
    match = _ERROR_PATH.search(str(err))
    if match is None:
        return f"invalid service settings: {err}"
    name = match.group(1)
    flag = _FLAG_EXCEPTIONS.get(name, "--" + name.replace("_", "-"))
    reason = str(err).split(" - at ")[0]
    return f"invalid {flag} (or ${ENVIRONMENT[name]}): {reason}"
