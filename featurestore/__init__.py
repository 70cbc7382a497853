"""SQL-centric feature store: raw files -> validated Parquet -> DuckDB views.

Submodules load on first use: the prediction service imports ``featurestore.schema``
(standard library only) and its install has no DuckDB, so importing this package must
not pull in ``ingest`` or ``store``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from featurestore.errors import (
        DataCheckError,
        FeatureStoreError,
        IngestError,
        QueryError,
        SchemaError,
        StoreBuildError,
    )
    from featurestore.ingestion import IngestReport, ingest
    from featurestore.schema import (
        CATEGORICAL_INPUTS,
        CATEGORY_NORMALISATION_RULE,
        MODEL_INPUTS,
        NUMERIC_INPUTS,
        TARGET,
        normalise_category,
    )
    from featurestore.sources import RawSource, resolve_source
    from featurestore.store import (
        StoreSettings,
        ViewInfo,
        build_store,
        catalog,
        connect_read_only,
        query,
    )

_HOMES = {
    "DataCheckError": "featurestore.errors",
    "FeatureStoreError": "featurestore.errors",
    "IngestError": "featurestore.errors",
    "QueryError": "featurestore.errors",
    "SchemaError": "featurestore.errors",
    "StoreBuildError": "featurestore.errors",
    "IngestReport": "featurestore.ingestion",
    "ingest": "featurestore.ingestion",
    "CATEGORICAL_INPUTS": "featurestore.schema",
    "CATEGORY_NORMALISATION_RULE": "featurestore.schema",
    "MODEL_INPUTS": "featurestore.schema",
    "NUMERIC_INPUTS": "featurestore.schema",
    "TARGET": "featurestore.schema",
    "normalise_category": "featurestore.schema",
    "RawSource": "featurestore.sources",
    "resolve_source": "featurestore.sources",
    "StoreSettings": "featurestore.store",
    "ViewInfo": "featurestore.store",
    "build_store": "featurestore.store",
    "catalog": "featurestore.store",
    "connect_read_only": "featurestore.store",
    "query": "featurestore.store",
}

__all__ = [
    "CATEGORICAL_INPUTS",
    "CATEGORY_NORMALISATION_RULE",
    "MODEL_INPUTS",
    "NUMERIC_INPUTS",
    "TARGET",
    "DataCheckError",
    "FeatureStoreError",
    "IngestError",
    "IngestReport",
    "QueryError",
    "RawSource",
    "SchemaError",
    "StoreBuildError",
    "StoreSettings",
    "ViewInfo",
    "build_store",
    "catalog",
    "connect_read_only",
    "ingest",
    "normalise_category",
    "query",
    "resolve_source",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'featurestore' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
