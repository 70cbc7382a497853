"""What `market_features` says under a what-if, computed by the view itself.

Two what-ifs, both filled in inside a transaction that is rolled back, so the stored file
is left as it was:

- *probes*: priceless sales at a location on a date (``market_probes``). The bundle's
  online values are the features of such probes, so serving gets exactly the numbers
  training would have computed.
- *hidden prices*: sales whose prices the windows must not read (``market_hidden``).
  Cross-validation hides a fold's validation sales, so the market features of the rows
  it fits on never carry a price it is scored on.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from featurestore.store import connect

__all__ = ["MarketSnapshot", "market_features_without", "market_snapshot"]


@dataclass(frozen=True)
class MarketSnapshot:
    """What ``market_features`` gives a sale on one date: per location, and the fallback.

    ``fallback`` is the row of a sale at no known location (no earlier sales of its own):
    the whole market's values, which the service uses for a location it does not know.
    """

    as_of: dt.date
    locations: dict[str, list[float | None]]
    fallback: list[float | None]


def market_snapshot(
    db_path: Path, as_of: dt.date, locations: Sequence[str], columns: Sequence[str]
) -> MarketSnapshot:
    """``columns`` of ``market_features`` for a sale on ``as_of`` at each location."""
    # Ids no real sale can have (a fresh UUID each time), mapped back by position; the
    # last probe has no location and so gets the fallback.
    prefix = f"probe-{uuid.uuid4().hex}-"
    places: list[str | None] = [*locations, None]
    probes = [(f"{prefix}{index}", as_of, place) for index, place in enumerate(places)]
    selected = ", ".join(columns)
    with _what_if(db_path) as con:
        con.executemany("INSERT INTO market_probes VALUES (?, ?, ?)", probes)
        rows = con.execute(
            f"SELECT house_id, {selected} FROM market_features WHERE starts_with(house_id, ?)",
            [prefix],
        ).fetchall()
    by_index = {int(house_id.removeprefix(prefix)): list(values) for house_id, *values in rows}
    return MarketSnapshot(
        as_of=as_of,
        locations={location: by_index[index] for index, location in enumerate(locations)},
        fallback=by_index[len(locations)],
    )


def market_features_without(
    db_path: Path, hidden: Sequence[str], columns: Sequence[str]
) -> pl.DataFrame:
    """``house_id`` and ``columns`` of ``market_features`` with the ``hidden`` prices unread.

    Every sale keeps its row; only the windows forget the hidden sales' prices (their
    counts drop too), as if those sales had not been priced yet.
    """
    selected = ", ".join(columns)
    with _what_if(db_path) as con:
        con.execute("INSERT INTO market_hidden SELECT * FROM unnest(?::VARCHAR[])", [list(hidden)])
        frame = pl.from_arrow(
            con.sql(f"SELECT house_id, {selected} FROM market_features").to_arrow_table()
        )
    assert isinstance(frame, pl.DataFrame)
    return frame


@contextlib.contextmanager
def _what_if(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection inside a transaction that is always rolled back: the file stays as it was."""
    con = connect(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        yield con
        con.execute("ROLLBACK")
    finally:
        con.close()  # an open transaction is discarded with the connection
