"""Data checks: SQL queries under ``sql/checks`` that return the rows breaking a rule.

A check passes when its query returns no rows. The first comment line of each file,
``-- check: ...``, says what the rule is; the report names the check, counts the
violating rows and shows a few of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from featurestore._resources import resource_path
from featurestore.errors import DataCheckError
from featurestore.schema import normalise_category
from featurestore.store import connect_read_only

__all__ = ["CheckResult", "raise_for_failures", "run_checks"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    name: str
    description: str
    violations: int
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.violations == 0


def run_checks(
    db_path: Path,
    *,
    known_categories: Mapping[str, Sequence[str]] | None = None,
    checks_dir: Path | None = None,
    sample_rows: int = 5,
) -> list[CheckResult]:
    """Run every check against the store, read-only; return one result per check.

    ``known_categories`` (the config's ``checks.known_categories``) becomes a temporary
    table for the vocabulary check, so the rules come from the config in force now.
    """
    checks_dir = checks_dir or resource_path("sql", "checks")
    con = connect_read_only(db_path)
    try:
        con.execute("CREATE TEMP TABLE known_categories (column_name VARCHAR, value VARCHAR)")
        rows = [
            (column, normalise_category(value))
            for column, values in (known_categories or {}).items()
            for value in values
        ]
        if rows:
            con.executemany("INSERT INTO known_categories VALUES (?, ?)", rows)
        return [_run(con, path, sample_rows) for path in sorted(checks_dir.glob("*.sql"))]
    finally:
        con.close()


def raise_for_failures(results: list[CheckResult]) -> None:
    """Raise :class:`DataCheckError` with a readable report if any check failed."""
    failed = [result for result in results if not result.passed]
    if not failed:
        return
    lines = [f"{len(failed)} of {len(results)} data checks failed:"]
    for result in failed:
        lines.append(f"  {result.name}: {result.violations} row(s) — {result.description}")
        lines.extend(f"    {row}" for row in result.sample)
    lines.append(
        "Fix the source data (explore it with `hpp sql`), or the rule's setting in the "
        "config (e.g. checks.known_categories), and run again; the last good model bundle "
        "and the lake's previous data are kept."
    )
    raise DataCheckError("\n".join(lines))


def _run(con: duckdb.DuckDBPyConnection, path: Path, sample_rows: int) -> CheckResult:
    text = path.read_text()
    description = _description(text) or path.stem
    body = text.strip().rstrip(";")
    try:
        [(count,)] = con.execute(f"SELECT count(*) FROM ({body})").fetchall()
        relation = con.sql(f"SELECT * FROM ({body}) LIMIT {sample_rows}")
        sample = relation.to_arrow_table().to_pylist()
    except duckdb.Error as err:
        message = f"data check {path} could not run: {err}"
        raise DataCheckError(message) from err
    logger.info("check %s: %d violation(s)", path.stem, count)
    return CheckResult(path.stem, description, int(count), sample)


def _description(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines).removeprefix("check:").strip()
