"""The pipelines' one exception family; messages say what to do next."""

from __future__ import annotations

__all__ = ["BundleError", "ConfigError", "ExportError", "PipelineError", "TrackingError"]


class PipelineError(Exception):
    """Base class for errors raised by the training pipelines."""


class ConfigError(PipelineError):
    """A config file or flag is invalid."""


class ExportError(PipelineError):
    """The ONNX export failed or disagrees with the native model."""


class BundleError(PipelineError):
    """A model bundle is missing, incomplete or fails verification."""


class TrackingError(PipelineError):
    """MLflow could not be reached or refused a request."""
