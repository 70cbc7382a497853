"""The service's one exception family; every message says what to do next.

These are start-up and configuration errors. Problems with a client's request are
HTTP responses (400, 413, 422), built in ``serving.body`` and ``serving.app``.
"""

from __future__ import annotations

__all__ = ["ModelLoadError", "ServingError", "SettingsError"]


class ServingError(Exception):
    """Base class for errors that stop the prediction service from starting."""


class SettingsError(ServingError):
    """A flag or environment variable has a value the service cannot use."""


class ModelLoadError(ServingError):
    """The model bundle is missing, damaged, or fails its start-up self-test."""
