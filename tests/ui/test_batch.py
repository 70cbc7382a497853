"""Checking an uploaded CSV against the served model's rules, and writing the scored file."""

from __future__ import annotations

import csv
import io

import pytest

from ui.batch import (
    FileProblem,
    ParsedFile,
    chunk_ranges,
    lines_of_problems,
    parse_upload,
    scored_csv,
)
from ui.client import InputInfo, InputWarning, Interval, ModelRef, PredictionItem

# The inputs as `GET /model` describes them (issue 3's contract), trimmed to what matters.
INPUTS = [
    InputInfo(
        "sqft", "number", "Living area", "from 1 to 20,000 square feet", minimum=1, maximum=20_000
    ),
    InputInfo(
        "bedrooms",
        "number",
        "Bedrooms",
        "a whole number from 0 to 100",
        minimum=0,
        maximum=100,
        step=1,
    ),
    InputInfo(
        "bathrooms",
        "number",
        "Bathrooms",
        "a multiple of 0.5 from 0 to 100",
        minimum=0,
        maximum=100,
        step=0.5,
    ),
    InputInfo(
        "year_built",
        "number",
        "Year built",
        "a whole year from 1000 to the current year",
        minimum=1000,
        maximum=9999,
        step=1,
    ),
    InputInfo("location", "category", "Area", "1 to 100 characters", categories=["urban"]),
    InputInfo("condition", "category", "Condition", "1 to 100 characters", categories=["good"]),
]
HEADER = "sqft,bedrooms,bathrooms,location,year_built,condition"


def parse(text: str, max_rows: int = 100) -> ParsedFile:
    return parse_upload(text.encode(), INPUTS, max_rows=max_rows, current_year=2026)


def test_valid_rows_become_houses_in_the_services_types() -> None:
    parsed = parse(f"{HEADER},price\n1800,3,2.5,Urban ,1995,Good,300000\n")

    assert parsed.houses == [
        {
            "sqft": 1800.0,
            "bedrooms": 3.0,
            "bathrooms": 2.5,
            "year_built": 1995.0,
            "location": "Urban",
            "condition": "Good",
        }
    ]
    assert parsed.bad_rows == []


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0,3,2,urban,1995,good", "sqft 0: the rule is from 1 to 20,000 square feet"),
        ("1800,-1,2,urban,1995,good", "bedrooms -1: the rule is a whole number"),
        ("1800,3,2.25,urban,1995,good", "bathrooms 2.25: the rule is a multiple of 0.5"),
        ("1800,3,2,urban,2031,good", "year_built 2031 is in the future (this year is 2026)"),
        ("1800,3,2,,1995,good", "location is missing"),
        ("nan,3,2,urban,1995,good", "sqft nan: the rule is"),
        ("big,3,2,urban,1995,good", "sqft 'big' is not a number"),
        ("1800,3,2,urban,1995", "condition is missing"),
        ("1800,3,2,urban,1995,good,extra", "7 values for 6 columns"),
    ],
    ids=["zero-area", "negative", "half-step", "future", "missing", "nan", "text", "short", "long"],
)
def test_bad_rows_are_listed_with_line_and_reason(row: str, reason: str) -> None:
    parsed = parse(f"{HEADER}\n1800,3,2,urban,1995,good\n{row}\n")

    assert len(parsed.houses) == 1
    assert [bad.line for bad in parsed.bad_rows] == [3]
    assert any(reason in text for text in parsed.bad_rows[0].reasons), parsed.bad_rows


def test_missing_columns_are_named() -> None:
    with pytest.raises(FileProblem, match="missing columns: bathrooms, condition"):
        parse("sqft,bedrooms,location,year_built\n1,1,a,2000\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "empty"), (HEADER.encode() + b"\n", "no rows"), (b"\xff\xfe\x00", "not UTF-8")],
    ids=["empty", "header-only", "binary"],
)
def test_unusable_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(FileProblem, match=message):
        parse_upload(data, INPUTS, max_rows=10, current_year=2026)


def test_too_many_rows_are_refused() -> None:
    with pytest.raises(FileProblem, match="more than 2 rows"):
        parse(f"{HEADER}\n" + "1800,3,2,urban,1995,good\n" * 3, max_rows=2)


def test_scored_csv_keeps_every_row_in_order() -> None:
    parsed = parse(f"{HEADER},price\n1800,3,2,urban,1995,good,1\n0,3,2,urban,1995,good,2\n")
    item = PredictionItem(
        123456.789,
        Interval(100000.0, 150000.0, 0.9),
        [InputWarning("location", "unknown_category", "location 'x' is unknown")],
    )

    scored = list(
        csv.DictReader(io.StringIO(scored_csv(parsed, [item], ModelRef("m", "v1")).decode()))
    )

    assert [row["price"] for row in scored] == ["1", "2"]
    assert scored[0]["predicted_price"] == "123456.79"
    assert scored[0]["warnings"] == "location 'x' is unknown"
    assert scored[0]["model_version"] == "m v1"
    assert scored[1]["predicted_price"] == ""
    assert "sqft 0" in scored[1]["error"]


def test_chunks_cover_every_row_once() -> None:
    assert [list(part) for part in chunk_ranges(5, 2)] == [[0, 1], [2, 3], [4]]


def test_service_problem_locations_become_file_lines() -> None:
    problems = ["$.houses[1].location: too long", "$: body"]

    assert lines_of_problems(problems, [10, 12]) == ["line 12, location: too long", "$: body"]
