"""SQL-centric feature store: raw files -> validated Parquet -> DuckDB views."""

from featurestore.errors import (
    FeatureStoreError,
    IngestError,
    QueryError,
    SchemaError,
    StoreBuildError,
)
from featurestore.ingest import IngestReport, ingest
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

__all__ = [
    "CATEGORICAL_INPUTS",
    "CATEGORY_NORMALISATION_RULE",
    "MODEL_INPUTS",
    "NUMERIC_INPUTS",
    "TARGET",
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
