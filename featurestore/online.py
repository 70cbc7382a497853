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

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from featurestore.store import connect

__all__ = ["FALLBACK", "market_features_without", "market_snapshot"]

FALLBACK = "*"
_PROBE = "__probe__"


def market_snapshot(
    db_path: Path, as_of: dt.date, locations: Sequence[str], columns: Sequence[str]
) -> dict[str, list[float | None]]:
    """``columns`` of ``market_features`` for a sale on ``as_of`` at each location.

    The key ``FALLBACK`` holds the values for a location with no earlier sales (the
    whole market's), which is what the service uses for a location it does not know.
    """
    probes: list[tuple[str, dt.date, str | None]] = [
        (f"{_PROBE}{location}", as_of, location) for location in locations
    ]
    probes.append((f"{_PROBE}{FALLBACK}", as_of, None))
    selected = ", ".join(columns)
    con = connect(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        con.executemany("INSERT INTO market_probes VALUES (?, ?, ?)", probes)
        rows = con.execute(
            f"SELECT house_id, {selected} FROM market_features WHERE house_id LIKE ?",
            [f"{_PROBE}%"],
        ).fetchall()
        con.execute("ROLLBACK")
    finally:
        con.close()
    return {house_id.removeprefix(_PROBE): list(values) for house_id, *values in rows}


def market_features_without(
    db_path: Path, hidden: Sequence[str], columns: Sequence[str]
) -> pl.DataFrame:
    """``house_id`` and ``columns`` of ``market_features`` with the ``hidden`` prices unread.

    Every sale keeps its row; only the windows forget the hidden sales' prices (their
    counts drop too), as if those sales had not been priced yet.
    """
    selected = ", ".join(columns)
    con = connect(db_path)
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute("INSERT INTO market_hidden SELECT * FROM unnest(?::VARCHAR[])", [list(hidden)])
        frame = pl.from_arrow(
            con.sql(f"SELECT house_id, {selected} FROM market_features").to_arrow_table()
        )
        con.execute("ROLLBACK")
    finally:
        con.close()
    assert isinstance(frame, pl.DataFrame)
    return frame
