"""Draw realistic synthetic sales in the canonical CSV schema, resampled from Ames.

Each row starts from one real Ames sale (mapped onto the canonical schema by the
project's own `sql/sources/ames.sql`, through ``register_raw_input``) and is jittered
jointly: a size factor scales living area and, a little less than proportionally,
price, so a bigger draw of the same house costs more. A seeded share of rows is then
soiled the way real exports are: gaps the cleaning rules fill, odd casing and spaces
in categories, and rows the ingest must reject (unparseable or negative numbers,
blank categories, impossible dates).

Rows are drawn and written in chunks, so a 5M-row file needs about as much memory as
one chunk. The same seed and chunk size give the same file.

    uv run python -m bench.generate --rows 1000000 --out bench/results/data/raw_1m.csv
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["DIRTY_KINDS", "GenerationReport", "GeneratorSettings", "generate_csv", "load_ames"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GeneratorSettings:
    """How many rows to draw and how dirty to make them."""

    rows: int
    seed: int = 20240601
    dirty_share: float = 0.03
    with_sale_date: bool = True
    chunk_rows: int = 250_000


@dataclass(frozen=True)
class GenerationReport:
    path: Path
    rows: int
    bytes_written: int
    seconds: float
    dirty: dict[str, int] = field(default_factory=dict)

    @property
    def rows_to_reject(self) -> int:
        """Rows soiled in a way ingest must refuse (each soiled row has one kind)."""
        rejected = {kind.name for kind in DIRTY_KINDS if kind.rejected}
        return sum(n for name, n in self.dirty.items() if name in rejected)


def load_ames() -> dict[str, np.ndarray]:
    """Return the Ames sales in the canonical schema, one NumPy array per column."""
    import duckdb

    from featurestore.sources import RawSource, register_raw_input

    con = duckdb.connect()
    try:
        register_raw_input(con, RawSource("ames"))
        columns = con.sql(
            "SELECT price, sqft, bedrooms, bathrooms, location, year_built, condition, "
            "year(sale_date) AS sale_year, month(sale_date) AS sale_month FROM raw_input"
        ).fetchnumpy()
    finally:
        con.close()
    return {name: np.asarray(values) for name, values in columns.items()}


def generate_csv(path: Path, settings: GeneratorSettings) -> GenerationReport:
    """Write ``settings.rows`` synthetic sales to the CSV file ``path``."""
    started = time.perf_counter()
    ames = load_ames()
    path.parent.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(settings.seed)
    chunks = -(-settings.rows // settings.chunk_rows)
    dirty: Counter[str] = Counter()
    with path.open("wb") as handle:
        for index, chunk_seed in enumerate(seeds.spawn(chunks)):
            rng = np.random.default_rng(chunk_seed)
            rows = min(settings.chunk_rows, settings.rows - index * settings.chunk_rows)
            frame = _draw_clean_rows(ames, rng, rows)
            frame, kinds = _soil(frame, rng, settings.dirty_share, settings.with_sale_date)
            dirty.update(kinds)
            if not settings.with_sale_date:
                frame = frame.drop("sale_date")
            frame.write_csv(handle, include_header=index == 0)
    report = GenerationReport(
        path=path,
        rows=settings.rows,
        bytes_written=path.stat().st_size,
        seconds=time.perf_counter() - started,
        dirty=dict(sorted(dirty.items())),
    )
    logger.info(
        "wrote %d rows (%d soiled) to %s: %.1f MB in %.1fs",
        report.rows,
        sum(dirty.values()),
        path,
        report.bytes_written / 1e6,
        report.seconds,
    )
    return report


def _draw_clean_rows(
    ames: dict[str, np.ndarray], rng: np.random.Generator, rows: int
) -> pl.DataFrame:
    pick = rng.integers(0, len(ames["price"]), rows)
    # One size factor per draw moves area and price together; price elasticity below 1
    # and its own noise keep price per square foot in the Ames range.
    size = np.exp(rng.normal(0.0, 0.10, rows))
    sqft = np.maximum(np.rint(ames["sqft"][pick] * size), 300)
    price = ames["price"][pick] * size**0.9 * np.exp(rng.normal(0.0, 0.06, rows))
    price = np.maximum(np.rint(price / 100) * 100, 10_000)

    bedrooms = ames["bedrooms"][pick].astype(np.int64)
    grows = (size > 1.15) & (rng.random(rows) < 0.5)
    shrinks = (size < 0.87) & (bedrooms > 1) & (rng.random(rows) < 0.5)
    bedrooms = bedrooms + grows - shrinks

    sale_year = ames["sale_year"][pick].astype(np.int64)
    year_built = ames["year_built"][pick] + rng.integers(-2, 3, rows)
    year_built = np.clip(year_built, 1872, sale_year)
    sale_date = _iso_dates(sale_year, ames["sale_month"][pick], rng.integers(1, 29, rows))

    return pl.DataFrame(
        {
            "price": price.astype(np.int64),
            "sqft": sqft.astype(np.int64),
            "bedrooms": bedrooms,
            "bathrooms": ames["bathrooms"][pick].astype(np.float64),
            "location": ames["location"][pick].astype(str),
            "year_built": year_built.astype(np.int64),
            "condition": ames["condition"][pick].astype(str),
            "sale_date": sale_date,
        }
    ).with_columns(pl.all().cast(pl.String))


def _iso_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> pl.Series:
    frame = pl.DataFrame({"y": year, "m": month, "d": day})
    return frame.select(pl.date("y", "m", "d").dt.to_string("%Y-%m-%d")).to_series()


# --- soiling -------------------------------------------------------------------------
# Each kind rewrites one column at the chosen rows. Kinds marked `rejected` must be
# refused by ingest; the others are repaired by the cleaning rules.

Columns = dict[str, pl.Series]
Edit = Callable[[Columns, np.ndarray, np.random.Generator], list[str | None]]
ValueEdit = Callable[[str, np.random.Generator], str]


@dataclass(frozen=True)
class _DirtyKind:
    name: str
    column: str
    edit: Edit
    weight: float
    rejected: bool
    needs_sale_date: bool = False


def _per_value(column: str, *styles: ValueEdit) -> Edit:
    """Rewrite each chosen value of ``column`` with one of ``styles``, picked at random."""

    def edit(columns: Columns, at: np.ndarray, rng: np.random.Generator) -> list[str | None]:
        values = columns[column].gather(at).to_list()
        picks = rng.integers(0, len(styles), len(values))
        return [
            styles[p](v, rng) if v is not None else None for v, p in zip(values, picks, strict=True)
        ]

    return edit


def _missing(columns: Columns, at: np.ndarray, rng: np.random.Generator) -> list[str | None]:
    return [None] * at.size


def _tokens(*tokens: str) -> Edit:
    def edit(columns: Columns, at: np.ndarray, rng: np.random.Generator) -> list[str | None]:
        return [tokens[i] for i in rng.integers(0, len(tokens), at.size)]

    return edit


def _built_in_future(
    columns: Columns, at: np.ndarray, rng: np.random.Generator
) -> list[str | None]:
    years = date.today().year + rng.integers(1, 30, at.size)
    return [str(year) for year in years]


def _sold_before_built(
    columns: Columns, at: np.ndarray, rng: np.random.Generator
) -> list[str | None]:
    built = columns["year_built"].gather(at).cast(pl.Int64).to_list()
    years_before = rng.integers(1, 6, at.size)
    return [f"{year - int(back)}-03-01" for year, back in zip(built, years_before, strict=True)]


def _sold_in_future(columns: Columns, at: np.ndarray, rng: np.random.Generator) -> list[str | None]:
    years = date.today().year + rng.integers(2, 6, at.size)
    return [f"{year}-06-01" for year in years]


def _messy_category(column: str) -> Edit:
    return _per_value(
        column,
        lambda v, rng: v.upper(),
        lambda v, rng: v.lower(),
        lambda v, rng: f"  {v} ",
        lambda v, rng: f" {v.upper()}",
    )


DIRTY_KINDS: tuple[_DirtyKind, ...] = (
    # Repaired by cleaning: median / most-frequent fill, category normalisation.
    _DirtyKind("missing_bedrooms", "bedrooms", _missing, 1.0, rejected=False),
    _DirtyKind("missing_bathrooms", "bathrooms", _missing, 1.0, rejected=False),
    _DirtyKind("missing_year_built", "year_built", _missing, 1.0, rejected=False),
    _DirtyKind("missing_location", "location", _missing, 1.0, rejected=False),
    _DirtyKind("missing_condition", "condition", _missing, 1.0, rejected=False),
    _DirtyKind("messy_location", "location", _messy_category("location"), 3.0, rejected=False),
    _DirtyKind("messy_condition", "condition", _messy_category("condition"), 3.0, rejected=False),
    # Refused by ingest, each with its reason.
    _DirtyKind("missing_price", "price", _missing, 0.5, rejected=True),
    _DirtyKind(
        # Spreadsheet exports: "215,000" and "$215000" are not numbers for ingest.
        "formatted_price",
        "price",
        _per_value("price", lambda v, rng: f"{int(v):,}", lambda v, rng: f"${v}"),
        0.5,
        rejected=True,
    ),
    _DirtyKind("text_price", "price", _tokens("n/a", "unknown", "?", "call"), 0.3, rejected=True),
    _DirtyKind(
        "negative_price",
        "price",
        _per_value("price", lambda v, rng: f"-{v}"),
        0.3,
        rejected=True,
    ),
    _DirtyKind("text_sqft", "sqft", _tokens("12a", "n/a", "1500 sq ft", "-"), 0.3, rejected=True),
    _DirtyKind("zero_sqft", "sqft", _tokens("0"), 0.2, rejected=True),
    _DirtyKind("negative_bedrooms", "bedrooms", _tokens("-1", "-2"), 0.2, rejected=True),
    _DirtyKind("text_bedrooms", "bedrooms", _tokens("three", "3+"), 0.2, rejected=True),
    _DirtyKind("negative_bathrooms", "bathrooms", _tokens("-1.0", "-0.5"), 0.2, rejected=True),
    _DirtyKind("blank_location", "location", _tokens("   ", " "), 0.2, rejected=True),
    _DirtyKind("blank_condition", "condition", _tokens("  "), 0.2, rejected=True),
    _DirtyKind("future_year_built", "year_built", _built_in_future, 0.2, rejected=True),
    _DirtyKind(
        "built_after_sale",
        "sale_date",
        _sold_before_built,
        0.3,
        rejected=True,
        needs_sale_date=True,
    ),
    _DirtyKind(
        "bad_sale_date",
        "sale_date",
        _tokens("May 2008", "2008-13-01", "13/05/2008", "unknown"),
        0.3,
        rejected=True,
        needs_sale_date=True,
    ),
    _DirtyKind(
        "future_sale_date",
        "sale_date",
        _sold_in_future,
        0.2,
        rejected=True,
        needs_sale_date=True,
    ),
)


def _soil(
    frame: pl.DataFrame, rng: np.random.Generator, share: float, with_sale_date: bool
) -> tuple[pl.DataFrame, Counter[str]]:
    """Give ``share`` of the rows one dirty kind each; return the frame and the counts."""
    kinds = [k for k in DIRTY_KINDS if with_sale_date or not k.needs_sale_date]
    weights = np.array([k.weight for k in kinds])
    count = int(rng.binomial(frame.height, share))
    rows = rng.choice(frame.height, size=count, replace=False)
    chosen = rng.choice(len(kinds), size=count, p=weights / weights.sum())
    columns = {name: frame[name] for name in frame.columns}
    soiled: Counter[str] = Counter()
    for position, kind in enumerate(kinds):
        at = np.sort(rows[chosen == position])
        if at.size == 0:
            continue
        values = kind.edit(columns, at, rng)
        columns[kind.column] = columns[kind.column].scatter(at, values)
        soiled[kind.name] += int(at.size)
    return pl.DataFrame(list(columns.values())), soiled


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="number of data rows")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=GeneratorSettings.seed)
    parser.add_argument(
        "--dirty-share",
        type=float,
        default=GeneratorSettings.dirty_share,
        help="share of rows soiled (about 40%% of those are rejects)",
    )
    parser.add_argument("--no-sale-date", action="store_true", help="leave out sale_date")
    parser.add_argument("--chunk-rows", type=int, default=GeneratorSettings.chunk_rows)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = GeneratorSettings(
        rows=args.rows,
        seed=args.seed,
        dirty_share=args.dirty_share,
        with_sale_date=not args.no_sale_date,
        chunk_rows=args.chunk_rows,
    )
    report = generate_csv(args.out, settings)
    print(f"{report.rows} rows -> {report.path} ({report.bytes_written / 1e6:.1f} MB)")
    print("soiled rows: " + ", ".join(f"{k} {n}" for k, n in report.dirty.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
