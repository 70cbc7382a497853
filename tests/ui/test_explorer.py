"""The SQL explorer's guarantees: read-only, no files or network, capped rows and time."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from featurestore import StoreSettings, build_store, ingest, resolve_source
from ui.errors import ExplorerError, QueryRefused
from ui.explorer import (
    EXAMPLE_QUERIES,
    QueryLimits,
    Snapshot,
    load_snapshot,
    open_sandbox,
    run_query,
)

LIMITS = QueryLimits(max_rows=100, timeout=2.0)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explorer")
    ingest(resolve_source("sample", None), folder / "lake", max_reject_share=0.05)
    build_store(folder / "store.duckdb", folder / "lake", StoreSettings())
    return folder / "store.duckdb"


@pytest.fixture(scope="module")
def snapshot(store: Path) -> Snapshot:
    return load_snapshot(store)


def test_snapshot_holds_every_view_with_its_descriptions(snapshot: Snapshot) -> None:
    names = {relation.name: relation for relation in snapshot.relations}

    assert {"features", "sales", "sales_clean", "rejects", "settings"} <= set(names)
    assert names["features"].rows == 84
    described = {c.name: c.description for c in names["features"].columns}
    assert "never measured from today" in (described["house_age"] or "")


@pytest.mark.parametrize("name", list(EXAMPLE_QUERIES), ids=range(len(EXAMPLE_QUERIES)))
def test_example_queries_run(snapshot: Snapshot, name: str) -> None:
    result = run_query(snapshot, EXAMPLE_QUERIES[name], LIMITS)

    assert not result.truncated


def test_select_from_features_works_with_the_stores_macro(snapshot: Snapshot) -> None:
    sql = "SELECT count(*) AS n, normalise_category('  SubUrb ') AS c FROM features"

    result = run_query(snapshot, sql, LIMITS)

    assert result.table.to_pylist() == [{"n": 84, "c": "suburb"}]


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("DELETE FROM features", "DELETE"),
        ("UPDATE features SET price = 0", "UPDATE"),
        ("INSERT INTO settings VALUES (1, 1, 1)", "INSERT"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("DROP VIEW features", "DROP"),
        ("COPY features TO '/tmp/out.csv'", "COPY"),
        ("EXPORT DATABASE '/tmp/out'", "EXPORT"),
        ("ATTACH '/tmp/other.duckdb'", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("SET enable_external_access = true", "SET"),
        ("PRAGMA database_list", "PRAGMA"),
        ("CALL pragma_version()", "CALL"),
    ],
    ids=lambda value: value.split()[0] if " " in value else value,
)
def test_statements_other_than_reads_are_refused(snapshot: Snapshot, sql: str, kind: str) -> None:
    with pytest.raises(QueryRefused, match=f"{kind} statements are refused"):
        run_query(snapshot, sql, LIMITS)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('https://127.0.0.1:9/x.parquet')",
    ],
    ids=["read_csv", "read_text", "glob", "url"],
)
def test_reading_files_or_urls_is_refused(snapshot: Snapshot, sql: str) -> None:
    with pytest.raises(ExplorerError, match="Permission Error"):
        run_query(snapshot, sql, LIMITS)


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO '{folder}/out.csv'",
        "ATTACH '{folder}/other.duckdb'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
    ],
    ids=["copy", "attach", "install", "load", "external-access", "unlock"],
)
def test_the_sandbox_itself_refuses_what_the_statement_check_would(
    snapshot: Snapshot, tmp_path: Path, sql: str
) -> None:
    # A second line of defence: even past the statement check, the connection says no.
    connection = open_sandbox(snapshot, LIMITS)
    try:
        with pytest.raises(duckdb.Error, match=r"disabled|locked|Permission"):
            connection.execute(sql.format(folder=tmp_path))
    finally:
        connection.close()
    assert list(tmp_path.iterdir()) == []


def test_the_snapshot_views_cannot_be_changed(snapshot: Snapshot) -> None:
    connection = open_sandbox(snapshot, LIMITS)
    try:
        with pytest.raises(duckdb.Error):
            connection.execute("DELETE FROM features")
    finally:
        connection.close()

    assert run_query(snapshot, "SELECT count(*) AS n FROM features", LIMITS).table[
        "n"
    ].to_pylist() == [84]


def test_rows_are_capped_and_the_cut_is_reported(snapshot: Snapshot) -> None:
    result = run_query(snapshot, "SELECT * FROM range(1000000)", LIMITS)

    assert result.table.num_rows == LIMITS.max_rows
    assert result.truncated


def test_a_long_query_is_interrupted(snapshot: Snapshot) -> None:
    limits = QueryLimits(max_rows=10, timeout=0.5)
    sql = "SELECT sum(a.range * 2) FROM range(1000000000000) a"

    with pytest.raises(ExplorerError, match=r"stopped after 0.5 s"):
        run_query(snapshot, sql, limits)


def test_a_missing_store_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ExplorerError, match="run `hpp run`"):
        load_snapshot(tmp_path / "none.duckdb")
