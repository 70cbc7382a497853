"""The dashboard's one exception family; every message says what to do next.

Pages catch these and show them as failures: nothing is invented in their place.
"""

from __future__ import annotations

__all__ = [
    "ExplorerError",
    "QueryRefused",
    "ServiceRefused",
    "ServiceUnavailable",
    "UiError",
    "UnexpectedAnswer",
]


class UiError(Exception):
    """Base class for errors the dashboard shows to its user."""


class ServiceUnavailable(UiError):
    """The prediction service could not be reached, or is not ready."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"the prediction service at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


class ServiceRefused(UiError):
    """The service answered with an error status (4xx/5xx) and its own explanation."""

    def __init__(self, url: str, status: int, detail: str, problems: list[str]) -> None:
        super().__init__(f"{url} answered {status}: {detail}")
        self.url = url
        self.status = status
        self.detail = detail
        self.problems = problems


class UnexpectedAnswer(UiError):
    """The service answered 2xx with a body that does not match the documented contract."""


class ExplorerError(UiError):
    """The feature store could not be opened for exploring, or a query failed."""


class QueryRefused(ExplorerError):
    """A statement the read-only explorer does not run (writes, settings, several)."""
