from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from featurestore import StoreSettings, build_store, ingest, query, resolve_source


def features_frame(source: str, folder: Path) -> pl.DataFrame:
    ingest(resolve_source(source, None), folder / "lake", max_reject_share=0.05)
    build_store(folder / "store.duckdb", folder / "lake", StoreSettings())
    frame = pl.from_arrow(query(folder / "store.duckdb", "SELECT * FROM features"))
    assert isinstance(frame, pl.DataFrame)
    return frame


@pytest.fixture(scope="session")
def sample_frame(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    return features_frame("sample", tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="session")
def ames_frame(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    return features_frame("ames", tmp_path_factory.mktemp("ames"))
