"""The Features page's SQL explorer: a locked-down, in-memory copy of the feature store.

The store's views read Parquet files by absolute path, so a connection that may not
touch files cannot query them directly. Instead ``load_snapshot`` reads every view and
table of the store once, through a read-only connection, into Arrow tables. Each query
then runs on a fresh in-memory DuckDB connection in which those tables are registered
as views (not copied, and not writable) and which is locked down before the user's SQL
reaches it:

- ``enable_external_access=false``: no file, URL, ``ATTACH``, ``COPY … TO`` or extension
  install; ``autoload``/``autoinstall`` of extensions off; ``lock_configuration=true`` so
  the SQL cannot switch any of this back on;
- one statement, and only ``SELECT`` (with ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``, which
  DuckDB parses as selects) or ``EXPLAIN``: anything else is refused before it runs;
- at most ``max_rows`` rows are read back, and a timer interrupts a query that runs
  longer than ``timeout`` seconds; memory and threads are capped too.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from featurestore.errors import QueryError
from featurestore.store import READ_ONLY_STATEMENTS, ColumnInfo, connect_read_only
from ui.errors import ExplorerError, QueryRefused

__all__ = [
    "EXAMPLE_QUERIES",
    "ColumnInfo",
    "QueryLimits",
    "QueryResult",
    "RelationInfo",
    "Snapshot",
    "load_snapshot",
    "open_sandbox",
    "refuse_unless_read_only",
    "run_query",
    "store_key",
]

logger = logging.getLogger(__name__)

EXAMPLE_QUERIES: dict[str, str] = {
    "Prices by location": (
        "SELECT location,\n"
        "       count(*) AS sales,\n"
        "       round(median(price)) AS median_price,\n"
        "       round(median(sqft)) AS median_sqft\n"
        "FROM features\n"
        "GROUP BY location\n"
        "ORDER BY median_price DESC"
    ),
    "Prices by age band (10-year bands of age at sale)": (
        "SELECT CAST(floor(house_age / 10) * 10 AS INTEGER) AS age_band_from,\n"
        "       count(*) AS sales,\n"
        "       round(median(price)) AS median_price\n"
        "FROM features\n"
        "GROUP BY age_band_from\n"
        "ORDER BY age_band_from"
    ),
    "Price per square foot by condition": (
        "SELECT condition,\n"
        "       count(*) AS sales,\n"
        "       round(median(price / sqft)) AS median_price_per_sqft\n"
        "FROM features\n"
        "GROUP BY condition\n"
        "ORDER BY median_price_per_sqft DESC"
    ),
    "Flagged outliers": "SELECT * FROM features WHERE is_outlier ORDER BY price DESC",
    "Rows refused at ingest": "SELECT * FROM rejects",
    "Columns of the features view": "DESCRIBE features",
}

# DuckDB parses DESCRIBE, SHOW and SUMMARIZE as SELECT statements.
_BATCH_ROWS = 2048


@dataclass(frozen=True)
class QueryLimits:
    max_rows: int = 10_000
    timeout: float = 10.0
    memory_limit: str = "1GB"
    threads: int = 2


@dataclass(frozen=True)
class RelationInfo:
    name: str
    kind: str  # "view" or "table" in the store; both are read-only views here
    description: str | None
    rows: int
    columns: tuple[ColumnInfo, ...]


@dataclass(frozen=True)
class Snapshot:
    """The store's relations as Arrow tables, read at ``loaded_at``."""

    store_path: Path
    loaded_at: datetime
    relations: tuple[RelationInfo, ...]
    tables: dict[str, pa.Table]
    macros: tuple[str, ...]


@dataclass(frozen=True)
class QueryResult:
    table: pa.Table
    truncated: bool
    seconds: float


def store_key(store_path: Path) -> tuple[str, int, int]:
    """Identifies one state of the store file, for caching a snapshot of it."""
    try:
        stat = store_path.stat()
    except FileNotFoundError as err:
        message = (
            f"no feature store at {store_path}: run `hpp run` (or `hpp build`) first, "
            "or point the dashboard at another data folder with `hpp ui --data-dir`"
        )
        raise ExplorerError(message) from err
    return (str(store_path.resolve()), stat.st_mtime_ns, stat.st_size)


def load_snapshot(store_path: Path) -> Snapshot:
    """Read every view and table of the store, through a read-only connection."""
    store_key(store_path)
    started = time.perf_counter()
    try:
        store = connect_read_only(store_path)
    except QueryError as err:
        message = f"could not open the feature store {store_path} read-only: {err}"
        raise ExplorerError(message) from err
    try:
        relations, tables = _read_relations(store)
        macros = _macro_definitions(store)
    except duckdb.Error as err:
        message = f"could not read the feature store {store_path}: {err}"
        raise ExplorerError(message) from err
    finally:
        store.close()
    logger.info(
        "loaded %d relations of %s in %.2fs",
        len(relations),
        store_path,
        time.perf_counter() - started,
    )
    return Snapshot(store_path, datetime.now(UTC), relations, tables, macros)


def run_query(snapshot: Snapshot, sql: str, limits: QueryLimits) -> QueryResult:
    """Run one read-only statement on a locked-down connection over ``snapshot``."""
    refuse_unless_read_only(sql)
    connection = open_sandbox(snapshot, limits)
    timer = threading.Timer(limits.timeout, connection.interrupt)
    started = time.perf_counter()
    timer.start()
    try:
        table, truncated = _fetch_capped(connection, sql, limits.max_rows)
    except duckdb.InterruptException as err:
        message = (
            f"the query was stopped after {limits.timeout:g} s, the explorer's time limit; "
            "narrow it with WHERE or LIMIT, or aggregate with GROUP BY"
        )
        raise ExplorerError(message) from err
    except duckdb.Error as err:
        raise ExplorerError(str(err)) from err
    finally:
        timer.cancel()
        connection.close()
    return QueryResult(table, truncated, time.perf_counter() - started)


def refuse_unless_read_only(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as err:
        raise ExplorerError(str(err)) from err
    if len(statements) != 1:
        message = f"give exactly one SQL statement; this text has {len(statements)}"
        raise QueryRefused(message)
    kind = statements[0].type.name
    if kind not in READ_ONLY_STATEMENTS:
        message = (
            f"the explorer is read-only: {kind} statements are refused. Use SELECT (or "
            "DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); the views themselves are defined by the "
            "files under sql/store and rebuilt with `hpp build`."
        )
        raise QueryRefused(message)


def _read_relations(
    store: duckdb.DuckDBPyConnection,
) -> tuple[tuple[RelationInfo, ...], dict[str, pa.Table]]:
    named = store.execute(
        "SELECT view_name, 'view', comment FROM duckdb_views() "
        "WHERE NOT internal AND NOT temporary AND schema_name = 'main' "
        "UNION ALL "
        "SELECT table_name, 'table', comment FROM duckdb_tables() "
        "WHERE NOT internal AND NOT temporary AND schema_name = 'main' "
        "ORDER BY 1"
    ).fetchall()
    descriptions = {
        (table, column): comment
        for table, column, comment in store.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() "
            "WHERE NOT internal AND schema_name = 'main'"
        ).fetchall()
    }
    relations: list[RelationInfo] = []
    tables: dict[str, pa.Table] = {}
    for name, kind, comment in named:
        table = store.sql(f"SELECT * FROM {_quote(name)}").to_arrow_table()
        columns = tuple(
            ColumnInfo(field.name, str(field.type), descriptions.get((name, field.name)))
            for field in table.schema
        )
        relations.append(RelationInfo(name, kind, comment, table.num_rows, columns))
        tables[name] = table
    return tuple(relations), tables


def _macro_definitions(store: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    rows = store.execute(
        "SELECT function_name, function_type, parameters, macro_definition "
        "FROM duckdb_functions() "
        "WHERE function_type IN ('macro', 'table_macro') AND NOT internal "
        "AND schema_name = 'main'"
    ).fetchall()
    statements = []
    for name, kind, parameters, definition in rows:
        table = "TABLE " if kind == "table_macro" else ""
        arguments = ", ".join(_quote(p) for p in parameters)
        statements.append(f"CREATE MACRO {_quote(name)}({arguments}) AS {table}{definition}")
    return tuple(statements)


def _create_macros(connection: duckdb.DuckDBPyConnection, statements: tuple[str, ...]) -> None:
    """Create the store's macros; one that uses another waits until that one exists."""
    pending = list(statements)
    while pending:
        failed: list[str] = []
        error: duckdb.Error | None = None
        for statement in pending:
            try:
                connection.execute(statement)
            except duckdb.CatalogException as err:
                failed.append(statement)
                error = err
        if len(failed) == len(pending):
            assert error is not None
            raise error
        pending = failed


def open_sandbox(snapshot: Snapshot, limits: QueryLimits) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection over ``snapshot``, locked down; the caller closes it."""
    connection = duckdb.connect(":memory:")
    try:
        for name, table in snapshot.tables.items():
            connection.register(name, table)
        _create_macros(connection, snapshot.macros)
        # Order matters: temp_directory cannot change once external access is off.
        connection.execute("SET temp_directory = ''")
        connection.execute(f"SET memory_limit = '{limits.memory_limit}'")
        connection.execute(f"SET threads = {int(limits.threads)}")
        connection.execute("SET autoinstall_known_extensions = false")
        connection.execute("SET autoload_known_extensions = false")
        connection.execute("SET allow_community_extensions = false")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except duckdb.Error as err:
        connection.close()
        raise ExplorerError(f"could not prepare the query sandbox: {err}") from err
    return connection


def _fetch_capped(
    connection: duckdb.DuckDBPyConnection, sql: str, max_rows: int
) -> tuple[pa.Table, bool]:
    relation = connection.sql(sql)
    if relation is None:
        return pa.table({}), False
    reader = relation.to_arrow_reader(_BATCH_ROWS)
    batches: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        batches.append(batch)
        rows += batch.num_rows
        if rows > max_rows:
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    return table.slice(0, max_rows), rows > max_rows


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
