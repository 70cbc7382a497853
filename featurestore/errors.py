"""The feature store's one exception family.

Every message says what was wrong and what to do next; library errors are
translated at the boundary with ``raise ... from err`` so the cause survives.
"""

from __future__ import annotations

__all__ = [
    "DataCheckError",
    "FeatureStoreError",
    "IngestError",
    "QueryError",
    "SchemaError",
    "StoreBuildError",
]


class FeatureStoreError(Exception):
    """Base class for errors raised by the feature store."""


class SchemaError(FeatureStoreError):
    """A raw file does not have the canonical columns."""


class IngestError(FeatureStoreError):
    """A raw file could not be ingested (empty, unreadable, too many rejects)."""


class StoreBuildError(FeatureStoreError):
    """The SQL views could not be applied to the store."""


class QueryError(FeatureStoreError):
    """A user query failed; the message is DuckDB's own."""


class DataCheckError(FeatureStoreError):
    """One or more data checks found rows that break their rule."""
