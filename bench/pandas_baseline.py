"""The benchmark's baseline: the feature store's ingest, cleaning and features in pandas.

A line-by-line twin of ``sql/ingest/validate.sql``, ``sql/store/sales_clean.sql`` and
``sql/store/features.sql``, written the way a pandas project would (``read_csv`` with
text columns, vectorised masks, ``to_parquet``). It produces the same three tables
as our pipeline: accepted sales, rejects with every broken rule, and the features.
``tests/bench/test_baseline_agrees.py`` checks the tables agree on generated data.

Notes
-----
Text parsing follows pandas, which agrees with DuckDB on everything the generator
writes. It differs on inputs the generator avoids: ``nan``/``inf`` prices (DuckDB
parses them as numbers and accepts the row; pandas treats ``nan`` as missing),
``1_000`` (a number only for DuckDB), and dates that are not ``YYYY-MM-DD``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from featurestore.schema import CATEGORY_SPACES

__all__ = ["BaselineResult", "CleaningSettings", "RejectShareExceeded", "run_baseline"]

_T = TypeVar("_T")

REQUIRED = ("price", "sqft", "bedrooms", "bathrooms", "location", "year_built", "condition")
OPTIONAL = ("house_id", "sale_date", "latitude", "longitude")
NUMBERS = ("price", "sqft", "bedrooms", "bathrooms", "year_built", "latitude", "longitude")
SALES_COLUMNS = (
    "house_id", "sale_date", "price", "sqft", "bedrooms", "bathrooms", "year_built",
    "location", "condition", "latitude", "longitude",
)  # fmt: skip
REJECT_TEXT_COLUMNS = (
    "price", "sqft", "bedrooms", "bathrooms", "year_built", "location", "condition", "sale_date",
)  # fmt: skip
FEATURE_COLUMNS = (
    "house_id", "sale_date", "as_of_year", "sqft", "bedrooms", "bathrooms", "year_built",
    "location", "condition", "house_age", "bed_bath_ratio", "sqft_per_bedroom", "is_outlier",
    "price",
)  # fmt: skip
# Stripped from a sale date before it is parsed, as DuckDB's cast in validate.sql does
# (tests/bench/test_baseline_agrees.py holds the two together). Categories are trimmed of
# the category rule's CATEGORY_SPACES instead.
_ASCII_WHITESPACE = " \t\n\r\f\v"


@dataclass(frozen=True)
class CleaningSettings:
    """The ``settings`` table of the store and ingest's reject threshold."""

    iqr_multiplier: float = 1.5
    max_sqft: float = 4000.0
    reference_year: int = 2024
    max_reject_share: float = 0.05


@dataclass
class BaselineResult:
    rows_read: int
    rows_rejected: int
    reasons: dict[str, int]
    features: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)


class RejectShareExceeded(RuntimeError):
    """More rows were rejected than ``CleaningSettings.max_reject_share`` allows."""


def run_baseline(
    csv_path: Path, out_dir: Path, settings: CleaningSettings, *, write_features: bool = True
) -> BaselineResult:
    """Read ``csv_path``, validate, clean and featurise it, as ingest + views do.

    The lake (``sales.parquet``, ``rejects.parquet``) always goes to ``out_dir``, as
    ingest always publishes it. The features go to ``out_dir/features.parquet`` when
    ``write_features``; otherwise the in-memory frame is the only product.
    """
    seconds: dict[str, float] = {}
    clock = _Stopwatch(seconds)

    raw = clock.time("read_csv", read_raw, csv_path)
    typed, reason = clock.time("validate", validate, raw)
    rows_read, rejected = len(typed), int(reason.notna().sum())
    reasons = reason_counts(reason)
    if rows_read and rejected / rows_read > settings.max_reject_share:
        message = f"{rejected} of {rows_read} rows rejected, more than allowed"
        raise RejectShareExceeded(message)
    sales, rejects = clock.time("split", split, raw, typed, reason)
    del raw, typed, reason
    clock.time("write_lake", write_lake, sales, rejects, out_dir)
    del rejects

    clean = clock.time("clean", clean_sales, sales, settings)
    del sales
    features = clock.time("features", derive_features, clean, settings)
    del clean
    if write_features:
        clock.time("write_features", write_table, features, out_dir / "features.parquet")
    return BaselineResult(rows_read, rejected, reasons, features, seconds)


def read_raw(path: Path) -> pd.DataFrame:
    """Every column as text; only an empty field is missing (DuckDB's CSV default)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [name.lower() for name in frame.columns]
    missing = [name for name in REQUIRED if name not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s): {', '.join(missing)}")
    for name in OPTIONAL:
        if name not in frame.columns:
            frame[name] = pd.Series(np.nan, index=frame.index, dtype=object)
    return frame


def validate(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Type the raw rows; return them with ``reject_reason`` (NaN for a good row)."""
    typed = pd.DataFrame(index=raw.index)
    typed["source_row"] = np.arange(1, len(raw) + 1, dtype=np.int64)
    house_id = raw["house_id"].str.strip(" ")
    typed["house_id"] = house_id.where(house_id != "", np.nan).fillna(
        typed["source_row"].astype(str)
    )
    typed["sale_date"] = pd.to_datetime(
        raw["sale_date"].str.strip(_ASCII_WHITESPACE), format="%Y-%m-%d", errors="coerce"
    )
    for name in NUMBERS:
        typed[name] = pd.to_numeric(raw[name], errors="coerce").astype(np.float64)
    for name in ("location", "condition"):
        typed[name] = raw[name]
    return typed, _reasons(raw, typed)


# A rule: the rows that break it, the message, and the column whose raw text follows
# the message (as in 'price is not a number: 12a'), or None.
_Rule = tuple[pd.Series, str, pd.Series | None]


def _reasons(raw: pd.DataFrame, typed: pd.DataFrame) -> pd.Series:
    today = pd.Timestamp(date.today())
    sale_year = typed["sale_date"].dt.year
    rules: list[_Rule] = [
        (raw["price"].isna(), "price is missing", None),
        _not_a_number(raw, typed, "price"),
        (typed["price"] <= 0, "price must be positive", None),
        (raw["sqft"].isna(), "sqft is missing", None),
        _not_a_number(raw, typed, "sqft"),
        (typed["sqft"] <= 0, "sqft must be positive", None),
        _not_a_number(raw, typed, "bedrooms"),
        (typed["bedrooms"] < 0, "bedrooms must not be negative", None),
        _not_a_number(raw, typed, "bathrooms"),
        (typed["bathrooms"] < 0, "bathrooms must not be negative", None),
        _not_a_number(raw, typed, "year_built"),
        (typed["year_built"] > today.year, "year_built is in the future", None),
        (typed["year_built"] > sale_year, "year_built is after the sale", None),
        (
            raw["sale_date"].notna() & typed["sale_date"].isna(),
            "sale_date is not a date: ",
            raw["sale_date"],
        ),
        (typed["sale_date"] > today, "sale_date is in the future", None),
        _not_a_number(raw, typed, "latitude"),
        _not_a_number(raw, typed, "longitude"),
        (_blank(raw["location"]), "location is empty", None),
        (_blank(raw["condition"]), "condition is empty", None),
        (
            typed["house_id"].duplicated(keep=False),
            "house_id is not unique: ",
            typed["house_id"],
        ),
    ]
    hits = [mask.to_numpy(dtype=bool, na_value=False) for mask, _, _ in rules]
    rows = np.flatnonzero(np.logical_or.reduce(hits))
    # Messages are built for the broken rows only: a few thousand, not millions.
    pieces = []
    for hit, (_, message, value) in zip(hits, rules, strict=True):
        broken = hit[rows]
        piece = np.full(rows.size, None, dtype=object)
        if value is None:
            piece[broken] = message
        else:
            piece[broken] = [message + str(v) for v in value.to_numpy()[rows[broken]]]
        pieces.append(piece)
    joined = ["; ".join(p for p in row if p is not None) for row in zip(*pieces, strict=True)]
    reason = pd.Series(np.nan, index=raw.index, dtype=object)
    reason.iloc[rows] = joined
    return reason


def _not_a_number(raw: pd.DataFrame, typed: pd.DataFrame, name: str) -> _Rule:
    mask = raw[name].notna() & typed[name].isna()
    return mask, f"{name} is not a number: ", raw[name]


def _blank(text: pd.Series) -> pd.Series:
    return text.notna() & (text.str.strip(CATEGORY_SPACES) == "")


def reason_counts(reason: pd.Series) -> dict[str, int]:
    """How many rejected rows broke each rule (the rule's text before any ':')."""
    rules = reason.dropna().str.split("; ").explode().str.replace(r":.*$", "", regex=True)
    counts = rules.value_counts()
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return {rule: int(n) for rule, n in ordered}


def split(
    raw: pd.DataFrame, typed: pd.DataFrame, reason: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accepted rows in the lake's column order, and the rejects with their raw text."""
    accepted = reason.isna().to_numpy()
    sales = typed.loc[accepted, list(SALES_COLUMNS)].reset_index(drop=True)
    rejects = typed.loc[~accepted, ["source_row", "house_id"]].copy()
    rejects["reject_reason"] = reason[~accepted]
    for name in REJECT_TEXT_COLUMNS:
        rejects[name] = raw.loc[~accepted, name]
    return sales, rejects.reset_index(drop=True)


def clean_sales(sales: pd.DataFrame, settings: CleaningSettings) -> pd.DataFrame:
    """``sales_clean``: normalised categories, median / mode fill, outlier flag.

    Works on ``sales`` in place (a copy would cost the baseline memory it does not
    need) and returns it.
    """
    clean = sales
    for name in ("location", "condition"):
        clean[name] = clean[name].str.strip(CATEGORY_SPACES).str.lower()

    gaps = clean[["bedrooms", "bathrooms", "year_built", "location", "condition"]].isna()
    for name in ("bedrooms", "bathrooms", "year_built"):
        # quantile_disc(x, 0.5): the lower middle value, one that occurs in the data.
        clean[name] = clean[name].fillna(clean[name].quantile(0.5, interpolation="lower"))
    for name in ("location", "condition"):
        clean[name] = clean[name].fillna(_most_frequent(clean[name]))
    clean["was_imputed"] = gaps.any(axis=1)

    q1, q3 = clean["price"].quantile([0.25, 0.75])
    fence = settings.iqr_multiplier * (q3 - q1)
    clean["is_outlier"] = (
        (clean["price"] < q1 - fence)
        | (clean["price"] > q3 + fence)
        | (clean["sqft"] > settings.max_sqft)
    )
    return clean


def _most_frequent(values: pd.Series) -> str | float:
    counts = values.value_counts()
    if counts.empty:
        return np.nan
    # Ties broken alphabetically, as the SQL does.
    return str(min(counts[counts == counts.max()].index))


def derive_features(clean: pd.DataFrame, settings: CleaningSettings) -> pd.DataFrame:
    """``features``: house age at sale and the two ratios, in the view's column order."""
    features = clean[["house_id", "sale_date"]].copy()
    features["as_of_year"] = (
        clean["sale_date"].dt.year.fillna(settings.reference_year).astype(np.int64)
    )
    for name in ("sqft", "bedrooms", "bathrooms", "year_built", "location", "condition"):
        features[name] = clean[name]
    features["house_age"] = features["as_of_year"] - clean["year_built"]
    # np.fmax ignores a missing side, like SQL's greatest().
    features["bed_bath_ratio"] = clean["bedrooms"] / np.fmax(clean["bathrooms"], 0.5)
    features["sqft_per_bedroom"] = clean["sqft"] / np.fmax(clean["bedrooms"], 1.0)
    features["is_outlier"] = clean["is_outlier"]
    features["price"] = clean["price"]
    return features[list(FEATURE_COLUMNS)]


def write_lake(sales: pd.DataFrame, rejects: pd.DataFrame, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_table(sales, out_dir / "sales.parquet")
    write_table(rejects, out_dir / "rejects.parquet")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to Parquet with the column types DuckDB writes."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for position, column in enumerate(table.schema):
        if pa.types.is_timestamp(column.type):
            typed = table.column(position).cast(pa.date32())
        elif pa.types.is_null(column.type):
            # An all-missing text column (e.g. no sale_date in the file) has no type in
            # pandas; DuckDB keeps it VARCHAR.
            typed = table.column(position).cast(pa.string())
        else:
            continue
        table = table.set_column(position, column.name, typed)
    pq.write_table(table, path)


class _Stopwatch:
    def __init__(self, seconds: dict[str, float]) -> None:
        self._seconds = seconds

    def time(self, name: str, step: Callable[..., _T], *args: Any) -> _T:
        started = time.perf_counter()
        result = step(*args)
        self._seconds[name] = time.perf_counter() - started
        return result
