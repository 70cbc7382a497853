"""Scoring a CSV file: read it, check every row against the served model's rules, chunk it.

The rules come from ``GET /model`` (each input's ``rule``, bounds and step), so the file is
checked exactly as the service will check each house; a row that breaks one is listed
with its line and reasons and is not sent. Unknown categories are not errors here: the
service prices them with a warning, which lands in the scored file's ``warnings`` column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ui.client import InputInfo, ModelRef, PredictionItem
from ui.errors import UiError

__all__ = [
    "OUTPUT_COLUMNS",
    "BadRow",
    "FileProblem",
    "ParsedFile",
    "chunk_ranges",
    "lines_of_problems",
    "parse_upload",
    "scored_csv",
]

OUTPUT_COLUMNS = (
    "predicted_price",
    "interval_lower",
    "interval_upper",
    "interval_level",
    "warnings",
    "error",
    "model_version",
)
# The one rule that moves with the calendar; the service checks it per request too.
_YEAR_FIELD = "year_built"
_HOUSE_PATH = re.compile(r"^\$\.houses\[(\d+)\]")


class FileProblem(UiError):
    """The file cannot be scored at all: not UTF-8 CSV, no rows, columns missing."""


@dataclass(frozen=True)
class BadRow:
    line: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ParsedFile:
    """A checked file: every row as read, and the valid ones as houses for the service."""

    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    lines: list[int]
    houses: list[dict[str, float | str]]
    house_rows: list[int]  # index into ``rows`` of each house
    bad_rows: list[BadRow]


def parse_upload(
    data: bytes, inputs: Sequence[InputInfo], *, max_rows: int, current_year: int
) -> ParsedFile:
    """Read CSV bytes and check each row; raise ``FileProblem`` if none can be checked."""
    reader = csv.reader(io.StringIO(_decode(data)))
    header = [name.strip() for name in next(reader, [])]
    if not any(header):
        raise FileProblem("the file is empty: expected a header line and at least one row")
    by_name = _match_columns(header, inputs)

    rows: list[dict[str, str]] = []
    lines: list[int] = []
    houses: list[dict[str, float | str]] = []
    house_rows: list[int] = []
    bad_rows: list[BadRow] = []
    for values in reader:
        if not any(value.strip() for value in values):
            continue  # a blank line
        if len(rows) == max_rows:
            message = f"the file has more than {max_rows:,} rows: split it and score the parts"
            raise FileProblem(message)
        row = dict(zip(header, (value.strip() for value in values), strict=False))
        house, reasons = _check_row(row, by_name, inputs, current_year)
        if len(values) != len(header):
            reasons.append(f"{len(values)} values for {len(header)} columns")
        rows.append(row)
        lines.append(reader.line_num)
        if reasons:
            bad_rows.append(BadRow(reader.line_num, tuple(reasons)))
        else:
            houses.append(house)
            house_rows.append(len(rows) - 1)
    if not rows:
        raise FileProblem("the file has a header but no rows")
    return ParsedFile(tuple(header), rows, lines, houses, house_rows, bad_rows)


def chunk_ranges(total: int, size: int) -> list[range]:
    return [range(start, min(start + size, total)) for start in range(0, total, size)]


def lines_of_problems(problems: Sequence[str], chunk_lines: Sequence[int]) -> list[str]:
    """Rewrite the service's ``$.houses[i]`` locations as the file's line numbers."""
    rewritten = []
    for problem in problems:
        match = _HOUSE_PATH.match(problem)
        if match and int(match.group(1)) < len(chunk_lines):
            line = chunk_lines[int(match.group(1))]
            problem = f"line {line}, " + problem[match.end() :].lstrip(".")
        rewritten.append(problem)
    return rewritten


def scored_csv(parsed: ParsedFile, predictions: Sequence[PredictionItem], model: ModelRef) -> bytes:
    """Every row of the file, in order, with its prediction or the reason it has none."""
    by_row = dict(zip(parsed.house_rows, predictions, strict=True))
    reasons = {bad.line: "; ".join(bad.reasons) for bad in parsed.bad_rows}
    buffer = io.StringIO()
    # A file scored before is scored afresh: its old output columns are replaced.
    kept = [name for name in parsed.columns if name not in OUTPUT_COLUMNS]
    writer = csv.DictWriter(
        buffer, fieldnames=[*kept, *OUTPUT_COLUMNS], extrasaction="ignore", restval=""
    )
    writer.writeheader()
    for index, row in enumerate(parsed.rows):
        item = by_row.get(index)
        extra: dict[str, str] = {name: "" for name in OUTPUT_COLUMNS}
        if item is not None:
            extra |= {
                "predicted_price": f"{item.predicted_price:.2f}",
                "interval_lower": f"{item.interval.lower:.2f}",
                "interval_upper": f"{item.interval.upper:.2f}",
                "interval_level": f"{item.interval.level:g}",
                "warnings": "; ".join(w.message for w in item.warnings),
                "model_version": f"{model.name} {model.version}",
            }
        else:
            extra["error"] = reasons.get(parsed.lines[index], "not scored")
        writer.writerow(row | extra)
    return buffer.getvalue().encode()


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        message = f"the file is not UTF-8 text (byte {err.start}): save it as UTF-8 CSV"
        raise FileProblem(message) from err


def _match_columns(header: Sequence[str], inputs: Sequence[InputInfo]) -> dict[str, str]:
    """Map each input name to the file's column for it (names match ignoring case)."""
    by_lower: dict[str, str] = {}
    for name in header:
        if name.lower() in by_lower:
            message = f"the header names column {name!r} twice (ignoring case)"
            raise FileProblem(message)
        by_lower[name.lower()] = name
    missing = [spec.name for spec in inputs if spec.name.lower() not in by_lower]
    if missing:
        message = (
            f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"The file has: {', '.join(header)}. "
            f"Expected: {', '.join(spec.name for spec in inputs)} (any order; price optional)"
        )
        raise FileProblem(message)
    return {spec.name: by_lower[spec.name.lower()] for spec in inputs}


def _check_row(
    row: dict[str, str],
    columns: dict[str, str],
    inputs: Sequence[InputInfo],
    current_year: int,
) -> tuple[dict[str, float | str], list[str]]:
    house: dict[str, float | str] = {}
    reasons: list[str] = []
    for spec in inputs:
        raw = row.get(columns[spec.name], "")
        if raw == "":
            reasons.append(f"{spec.name} is missing")
            continue
        if spec.kind == "category":
            house[spec.name] = raw
            continue
        value, reason = _check_number(spec, raw, current_year)
        if reason is None:
            house[spec.name] = value
        else:
            reasons.append(reason)
    return house, reasons


def _check_number(spec: InputInfo, raw: str, current_year: int) -> tuple[float, str | None]:
    try:
        value = float(raw)
    except ValueError:
        return math.nan, f"{spec.name} {raw!r} is not a number"
    broken = (
        not math.isfinite(value)
        or (spec.exclusive_minimum is not None and value <= spec.exclusive_minimum)
        or (spec.minimum is not None and value < spec.minimum)
        or (spec.maximum is not None and value > spec.maximum)
        or (spec.step is not None and not _is_multiple(value, spec.step))
    )
    if broken:
        return value, f"{spec.name} {raw}: the rule is {spec.rule}"
    if spec.name == _YEAR_FIELD and value > current_year:
        return value, f"{spec.name} {raw} is in the future (this year is {current_year})"
    return value, None


def _is_multiple(value: float, step: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-9
