"""The DuckDB feature store: SQL views from ``sql/store`` over the lake's Parquet.

``build_store`` (re)applies every view in dependency order inside one transaction,
so a broken SQL file leaves the previous views in place. Queries go through a
read-only connection.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

import duckdb
import pyarrow as pa

from featurestore._resources import resource_path
from featurestore.errors import QueryError, StoreBuildError

__all__ = [
    "READ_ONLY_STATEMENTS",
    "ColumnInfo",
    "StoreSettings",
    "ViewInfo",
    "build_store",
    "catalog",
    "connect",
    "connect_read_only",
    "query",
    "sql_files_in_order",
]

logger = logging.getLogger(__name__)

_DEFINITION = re.compile(
    r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+)?(?:VIEW|TABLE|MACRO)\s+(\w+)", re.IGNORECASE
)
_COMMENT = re.compile(r"--[^\n]*")
_WORD = re.compile(r"\b\w+\b")


@dataclass(frozen=True)
class StoreSettings:
    """Parameters the SQL views read from the ``settings`` table."""

    iqr_multiplier: float = 1.5
    max_sqft: float = 4000.0
    reference_year: int = 2024


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    description: str | None
    point_in_time: bool = False


@dataclass(frozen=True)
class ViewInfo:
    name: str
    description: str | None
    columns: tuple[ColumnInfo, ...]
    depends_on: tuple[str, ...] = ()
    point_in_time: bool = False


# Views whose values depend on when a sale happened and are computed from earlier sales
# only (sql/store/market.sql); anything built on them is point-in-time too.
POINT_IN_TIME_VIEWS = frozenset({"market_features"})
# Their columns that say *which* sale a row describes rather than measure its past.
_SALE_KEYS = frozenset({"house_id", "sale_date", "location"})
# What a column the source brought along (every Ames attribute) is, when SQL cannot say.
_EXTRA_COLUMN = "Column of the source file, carried through as ingested; not a model input."
_RAW_COLUMN = "As written in the raw file (text), so the reject can be fixed and re-sent."
_SOURCE_ROW = "Data row number in the raw file (1 = the first row after the header)."


def sql_files_in_order(sql_dir: Path) -> list[Path]:
    """Return the ``.sql`` files of ``sql_dir`` so that each comes after what it uses."""
    files = sorted(sql_dir.glob("*.sql"))
    defined_by: dict[str, Path] = {}
    for path in files:
        for name in _DEFINITION.findall(_strip_comments(path.read_text())):
            defined_by[name.lower()] = path
    needs: dict[Path, set[Path]] = {}
    for path in files:
        words = {word.lower() for word in _WORD.findall(_strip_comments(path.read_text()))}
        needs[path] = {defined_by[w] for w in words if w in defined_by} - {path}
    ordered: list[Path] = []
    visiting: list[Path] = []

    def visit(path: Path) -> None:
        if path in ordered:
            return
        if path in visiting:
            cycle = " -> ".join(p.name for p in [*visiting, path])
            raise StoreBuildError(f"SQL files depend on each other in a cycle: {cycle}")
        visiting.append(path)
        for dependency in sorted(needs[path]):
            visit(dependency)
        visiting.pop()
        ordered.append(path)

    for path in files:
        visit(path)
    return ordered


def build_store(
    db_path: Path,
    lake_dir: Path,
    settings: StoreSettings,
    *,
    sql_dir: Path | None = None,
) -> list[str]:
    """Apply the store's SQL files to ``db_path``; return the names of its views."""
    started = time.perf_counter()
    sql_dir = sql_dir or resource_path("sql", "store")
    if not (lake_dir / "sales.parquet").is_file():
        message = f"no ingested data in {lake_dir}: run `hpp ingest` first"
        raise StoreBuildError(message)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    variables = {"lake_dir": _sql_string_body(_lake_reference(db_path, lake_dir))}
    try:
        con = connect(db_path)
    except QueryError as err:
        raise StoreBuildError(str(err)) from err
    try:
        con.execute("BEGIN TRANSACTION")
        _write_settings(con, settings)
        for path in sql_files_in_order(sql_dir):
            text = Template(path.read_text()).safe_substitute(variables)
            try:
                con.execute(text)
            except duckdb.Error as err:
                con.execute("ROLLBACK")
                message = f"{path}: {err}. The store keeps its previous views."
                raise StoreBuildError(message) from err
            logger.debug("applied %s", path)
        con.execute("COMMIT")
        views = [
            row[0]
            for row in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name"
            ).fetchall()
        ]
    finally:
        con.close()
    logger.info("built %s: %d views in %.2fs", db_path, len(views), time.perf_counter() - started)
    return views


def connect(db_path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store so that its views find the lake relative to the store's folder.

    The views read ``lake/…`` (a path relative to the folder holding the database), and
    DuckDB resolves relative paths through ``file_search_path``; so the whole data folder
    can be moved or mounted elsewhere (a container) without rebuilding the views.
    """
    try:
        con = duckdb.connect(str(db_path), read_only=read_only)
        folder = _sql_string_body(db_path.resolve().parent.as_posix())
        con.execute(f"SET file_search_path = '{folder}'")
    except duckdb.Error as err:
        raise QueryError(f"could not open the feature store {db_path}: {err}") from err
    return con


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """Open the store for reading; writes through this connection fail."""
    if not db_path.is_file():
        message = f"no feature store at {db_path}: run `hpp build` (or `hpp run`) first"
        raise QueryError(message)
    return connect(db_path, read_only=True)


def query(db_path: Path, sql: str) -> pa.Table:
    """Run one read-only statement (SELECT, DESCRIBE, SHOW, EXPLAIN) against the store."""
    _refuse_writes(sql)
    con = connect_read_only(db_path)
    try:
        relation = con.sql(sql)
        return relation.to_arrow_table() if relation is not None else pa.table({})
    except duckdb.Error as err:
        raise QueryError(str(err)) from err
    finally:
        con.close()


# DuckDB statement types that only read (DESCRIBE, SHOW and SUMMARIZE parse as SELECT).
READ_ONLY_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})


def _refuse_writes(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise QueryError(str(err)) from err
    if len(statements) != 1:
        message = f"give exactly one SQL statement, got {len(statements)}"
        raise QueryError(message)
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        keyword = sql.split(maxsplit=1)[0].upper() if sql.strip() else kind
        message = (
            f"the feature store is queried read-only: {keyword} statements are refused. "
            "Use SELECT (or DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); to change the views, "
            "edit the files under sql/store and run `hpp build`."
        )
        raise QueryError(message)


def catalog(db_path: Path) -> list[ViewInfo]:
    """List the store's views: columns, descriptions, dependencies, point-in-time or not."""
    con = connect_read_only(db_path)
    try:
        views = con.execute(
            "SELECT view_name, comment, sql FROM duckdb_views() WHERE NOT internal "
            "ORDER BY view_name"
        ).fetchall()
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal"
            ).fetchall()
        }
        columns = con.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY table_name, column_index"
        ).fetchall()
    finally:
        con.close()
    names = {name for name, _, _ in views} | tables
    direct = {
        name: {w for w in _WORD.findall(_strip_comments(sql).lower()) if w in names} - {name}
        for name, _, sql in views
    }

    def closure(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        found = set(direct.get(name, ()))
        for dependency in direct.get(name, ()):
            if dependency not in seen:
                found |= closure(dependency, seen | {name})
        return found

    point_in_time = {name for name, _, _ in views if ({name} | closure(name)) & POINT_IN_TIME_VIEWS}
    by_view: dict[str, list[ColumnInfo]] = {}
    described = {(table, column): comment for table, column, _, comment in columns if comment}
    for table, column, data_type, comment in columns:
        if comment is None and table == "sales_clean":
            comment = described.get(("sales", column), _EXTRA_COLUMN)
        elif comment is None and table == "sales":
            comment = _EXTRA_COLUMN
        elif comment is None and table == "rejects":
            comment = _SOURCE_ROW if column == "source_row" else _RAW_COLUMN
        timed = table in point_in_time and column not in _SALE_KEYS
        by_view.setdefault(table, []).append(ColumnInfo(column, data_type, comment, timed))
    return [
        ViewInfo(
            name,
            comment,
            tuple(by_view.get(name, [])),
            depends_on=tuple(sorted(direct[name])),
            point_in_time=name in point_in_time,
        )
        for name, comment, _ in views
    ]


def _write_settings(con: duckdb.DuckDBPyConnection, settings: StoreSettings) -> None:
    con.execute(
        "CREATE OR REPLACE TABLE settings AS SELECT ?::DOUBLE AS iqr_multiplier, "
        "?::DOUBLE AS max_sqft, ?::INTEGER AS reference_year",
        [settings.iqr_multiplier, settings.max_sqft, settings.reference_year],
    )
    con.execute("COMMENT ON TABLE settings IS 'Cleaning parameters from the pipeline config.'")
    con.execute(
        "CREATE OR REPLACE TABLE market_probes (house_id VARCHAR, sale_date DATE, location VARCHAR)"
    )
    con.execute(
        "COMMENT ON TABLE market_probes IS 'Priceless what-if sales for the market_features "
        "view; always empty in the stored file (training fills it inside a rolled-back "
        "transaction).'"
    )
    con.execute("CREATE OR REPLACE TABLE market_hidden (house_id VARCHAR)")
    con.execute(
        "COMMENT ON TABLE market_hidden IS 'Sales whose prices the market_features view must "
        "not read; always empty in the stored file (cross-validation fills it with a fold''s "
        "validation sales inside a rolled-back transaction).'"
    )


def _lake_reference(db_path: Path, lake_dir: Path) -> str:
    """The lake as the views should name it: relative to the store's folder when inside it."""
    lake, folder = lake_dir.resolve(), db_path.resolve().parent
    return lake.relative_to(folder).as_posix() if lake.is_relative_to(folder) else lake.as_posix()


def _strip_comments(text: str) -> str:
    return _COMMENT.sub("", text)


def _sql_string_body(value: str) -> str:
    return value.replace("'", "''")
