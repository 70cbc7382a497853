"""Smoke check of a running prediction service: ``python3 smoke.py http://host:8000``.

Standard library only, so it runs in any Python container (Dagger's) and on the host
(``tests/deployment``). It waits for ``/ready``, posts one house to ``/predict``, checks
the answer's shape, and prints that answer as JSON on stdout. Exit 0 on success; 1 with
one line on stderr saying what failed.
"""

from __future__ import annotations

import json
import math
import sys
import time
import urllib.error
import urllib.request
from typing import Any

__all__ = ["EXAMPLE_HOUSE", "SmokeError", "check_service", "main", "predict", "wait_ready"]

# The first house of data/raw/house_data.csv, price left out.
EXAMPLE_HOUSE: dict[str, Any] = {
    "sqft": 1527,
    "bedrooms": 2,
    "bathrooms": 1.5,
    "location": "Suburb",
    "year_built": 1956,
    "condition": "Good",
}


class SmokeError(RuntimeError):
    """The service is not ready in time, or answered something that is not a prediction."""


def wait_ready(base_url: str, *, timeout: float = 60.0) -> None:
    """Poll ``/ready`` until it answers 200, or raise ``SmokeError`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/ready", timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as err:
            last = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            last = str(err)
        time.sleep(0.5)
    raise SmokeError(f"{base_url}/ready did not answer 200 within {timeout:.0f}s (last: {last})")


def predict(base_url: str, house: dict[str, Any] = EXAMPLE_HOUSE) -> dict[str, Any]:
    """POST one house to ``/predict`` and return the decoded answer, checked for shape."""
    request = urllib.request.Request(
        f"{base_url}/predict",
        data=json.dumps(house).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            body: dict[str, Any] = json.loads(answer.read())
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")[:300]
        raise SmokeError(f"POST {base_url}/predict answered {err.code}: {detail}") from err
    except (urllib.error.URLError, OSError) as err:
        raise SmokeError(f"POST {base_url}/predict failed: {err}") from err
    _check_prediction(body)
    return body


def check_service(base_url: str, *, timeout: float = 60.0) -> dict[str, Any]:
    base_url = base_url.rstrip("/")
    wait_ready(base_url, timeout=timeout)
    return predict(base_url)


def _check_prediction(body: dict[str, Any]) -> None:
    price = body.get("predicted_price")
    interval = body.get("interval") or {}
    if not isinstance(price, int | float) or not math.isfinite(price) or price <= 0:
        raise SmokeError(f"/predict gave no positive finite predicted_price: {body}")
    lower, upper = interval.get("lower"), interval.get("upper")
    if not (isinstance(lower, int | float) and isinstance(upper, int | float)):
        raise SmokeError(f"/predict gave no interval: {body}")
    if not lower <= price <= upper:
        raise SmokeError(f"/predict price {price} is outside its interval [{lower}, {upper}]")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: smoke.py BASE_URL   e.g. smoke.py http://127.0.0.1:8000", file=sys.stderr)
        return 2
    try:
        body = check_service(argv[1])
    except SmokeError as err:
        print(f"smoke check failed: {err}", file=sys.stderr)
        return 1
    print(json.dumps(body, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
