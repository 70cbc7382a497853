from __future__ import annotations

from pathlib import Path

import pytest

from featurestore.checks import raise_for_failures, run_checks
from featurestore.errors import DataCheckError
from tests.featurestore.tables import make_store, row

KNOWN = {"location": ["Suburb", "Rural"], "condition": ["good"]}


def results_by_name(db: Path, known: dict[str, list[str]] | None = None) -> dict[str, int]:
    return {r.name: r.violations for r in run_checks(db, known_categories=known)}


def test_clean_store_passes_every_check(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1"), row("2", location="rural")])

    results = run_checks(db, known_categories=KNOWN)

    assert all(result.passed for result in results)
    assert {r.name for r in results} == {
        "known_categories",
        "model_inputs_not_null",
        "sale_dates_not_in_future",
        "unique_house_ids",
        "value_ranges",
    }
    raise_for_failures(results)


@pytest.mark.parametrize(
    ("bad_row", "check"),
    [
        (row("x", location="Downtown"), "known_categories"),
        (row("x", sale_date="2999-01-01"), "sale_dates_not_in_future"),
        (row("1"), "unique_house_ids"),
        (row("x", sqft=50_000), "value_ranges"),
        (row("x", year_built=2010, sale_date="2008-01-01"), "value_ranges"),
    ],
    ids=["unknown-location", "future-sale", "duplicate-id", "huge-house", "built-after-sale"],
)
def test_each_check_finds_its_violation(tmp_path: Path, bad_row: tuple, check: str) -> None:
    db = make_store(tmp_path, [row("1"), bad_row])

    counts = results_by_name(db, KNOWN)

    assert counts[check] >= 1
    assert sum(counts.values()) == counts[check]


def test_categories_are_not_checked_without_a_vocabulary(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1", location="Anywhere")])

    assert results_by_name(db)["known_categories"] == 0


def test_failure_report_names_check_count_and_rows(tmp_path: Path) -> None:
    db = make_store(tmp_path, [row("1"), row("x", location="Downtown")])

    with pytest.raises(DataCheckError) as caught:
        raise_for_failures(run_checks(db, known_categories=KNOWN))

    report = str(caught.value)
    assert "1 of 5 data checks failed" in report
    assert "known_categories: 1 row(s)" in report
    assert "'value': 'downtown'" in report
