"""Online market values: what `market_features` gives a sale at each location on a date.

The values are computed by the offline view itself: priceless probe sales are added to
``market_probes`` inside a transaction that is rolled back, so the stored file is left
as it was and serving gets exactly the numbers training would have computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from featurestore.store import connect

__all__ = ["FALLBACK", "market_snapshot"]

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
