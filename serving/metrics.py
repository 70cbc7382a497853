"""Prometheus metrics that stay right with several worker processes.

Every series has a fixed slot in one float64 array per process: requests by route and
status, a latency histogram per route, a histogram of predicted prices, input warnings
by field and kind. With ``directory`` set (``hpp serve`` sets it for its workers) the
array is a memory-mapped file ``<directory>/<pid>.metrics``, and ``render`` sums the files
of all workers, so any worker answers ``/metrics`` for the whole service. Without it the
array is private to the process.

Why not ``prometheus_client``: a batch of 10,000 prices is one ``np.searchsorted`` here
instead of 10,000 ``observe`` calls, and the layout being fixed makes the cross-process
sum a plain array addition.
"""

from __future__ import annotations

import bisect
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from featurestore.schema import CATEGORICAL_INPUTS, NUMERIC_INPUTS
from serving.schemas import ModelRef

__all__ = ["CONTENT_TYPE", "ServiceMetrics", "instrument"]

logger = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PRICE_BUCKETS = (
    5e4, 1e5, 1.5e5, 2e5, 2.5e5, 3e5, 4e5, 5e5, 7.5e5, 1e6, 2e6, 5e6,
)  # fmt: skip
# Statuses the service answers with; anything else is counted under its class ("5xx").
STATUSES = (200, 400, 404, 405, 413, 422, 500, 503)
OTHER_ROUTE = "other"
_WARNING_KINDS = ("unknown_category", "outside_training_range")
_FILE_SUFFIX = ".metrics"
_PRICE_BOUNDS = np.asarray(PRICE_BUCKETS)


class ServiceMetrics:
    """Counters and histograms in fixed slots; see the module docstring."""

    def __init__(
        self, routes: Sequence[str], directory: Path | None = None, *, worker: str | None = None
    ) -> None:
        self.routes = (*routes, OTHER_ROUTE)
        self._route_index = {route: i for i, route in enumerate(self.routes)}
        self._statuses = (*(str(code) for code in STATUSES), "1xx", "2xx", "3xx", "4xx", "5xx")
        self._status_index = {code: i for i, code in enumerate(STATUSES)}
        self._warning_keys = [
            (field, kind)
            for field in (*NUMERIC_INPUTS, *CATEGORICAL_INPUTS)
            for kind in _WARNING_KINDS
        ]
        self._warning_index = {key: i for i, key in enumerate(self._warning_keys)}

        n_routes, n_statuses = len(self.routes), len(self._statuses)
        n_latency = len(LATENCY_BUCKETS) + 1
        self._requests = 0
        self._latency_counts = self._requests + n_routes * n_statuses
        self._latency_sums = self._latency_counts + n_routes * n_latency
        self._price_counts = self._latency_sums + n_routes
        self._price_sum = self._price_counts + len(PRICE_BUCKETS) + 1
        self._warnings = self._price_sum + 1
        self.size = self._warnings + len(self._warning_keys)
        self._n_statuses = n_statuses
        self._n_latency = n_latency
        self._directory = directory
        self._values = self._allocate(directory, worker or str(os.getpid()))

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        route_slot = self._route_index.get(route, len(self.routes) - 1)
        status_slot = self._status_index.get(status)
        if status_slot is None:
            status_slot = len(STATUSES) + min(max(status // 100, 1), 5) - 1
        values = self._values
        values[self._requests + route_slot * self._n_statuses + status_slot] += 1
        bucket = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        values[self._latency_counts + route_slot * self._n_latency + bucket] += 1
        values[self._latency_sums + route_slot] += seconds

    def observe_prices(self, prices: np.ndarray) -> None:
        if len(prices) == 1:  # a single prediction: plain Python beats numpy's call overhead
            price = float(prices[0])
            self._values[self._price_counts + bisect.bisect_left(PRICE_BUCKETS, price)] += 1
            self._values[self._price_sum] += price
            return
        buckets = np.searchsorted(_PRICE_BOUNDS, prices)
        counts = np.bincount(buckets, minlength=len(PRICE_BUCKETS) + 1)
        start = self._price_counts
        self._values[start : start + len(counts)] += counts
        self._values[self._price_sum] += float(np.sum(prices, dtype=np.float64))

    def observe_warnings(self, keys: Iterable[tuple[str, str]]) -> None:
        for key in keys:
            slot = self._warning_index.get(key)
            if slot is not None:
                self._values[self._warnings + slot] += 1

    def render(self, model: ModelRef) -> bytes:
        """The Prometheus text exposition of all workers' values added together."""
        values = self._collect()
        lines: list[str] = []
        lines += _header(
            "hpp_requests_total", "counter", "HTTP requests answered, by route and status."
        )
        for r, route in enumerate(self.routes):
            for s, status in enumerate(self._statuses):
                count = values[self._requests + r * self._n_statuses + s]
                if count:
                    labels = f'route="{route}",status="{status}"'
                    lines.append(f"hpp_requests_total{{{labels}}} {_number(count)}")
        lines += _header(
            "hpp_request_duration_seconds", "histogram", "Time from request to last response byte."
        )
        for r, route in enumerate(self.routes):
            start = self._latency_counts + r * self._n_latency
            lines += _histogram(
                "hpp_request_duration_seconds",
                f'route="{route}",',
                LATENCY_BUCKETS,
                values[start : start + self._n_latency],
                values[self._latency_sums + r],
            )
        lines += _header(
            "hpp_predicted_price_dollars", "histogram", "Predicted prices, in dollars."
        )
        lines += _histogram(
            "hpp_predicted_price_dollars",
            "",
            PRICE_BUCKETS,
            values[self._price_counts : self._price_counts + len(PRICE_BUCKETS) + 1],
            values[self._price_sum],
        )
        lines += _header(
            "hpp_input_warnings_total", "counter", "Warnings returned with predictions, by field."
        )
        for i, (field, kind) in enumerate(self._warning_keys):
            lines.append(
                f'hpp_input_warnings_total{{field="{field}",kind="{kind}"}} '
                f"{_number(values[self._warnings + i])}"
            )
        lines += _header("hpp_model_info", "gauge", "The model being served (always 1).")
        labels = f'name="{_escape(model.name)}",version="{_escape(model.version)}"'
        lines.append(f"hpp_model_info{{{labels}}} 1")
        return ("\n".join(lines) + "\n").encode()

    def _allocate(self, directory: Path | None, worker: str) -> Any:
        if directory is None:
            return np.zeros(self.size, dtype=np.float64)
        path = directory / f"{worker}{_FILE_SUFFIX}"
        values = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(self.size,))
        logger.debug("metrics of this worker in %s", path)
        return values

    def _collect(self) -> np.ndarray:
        if self._directory is None:
            return np.array(self._values)
        total = np.zeros(self.size, dtype=np.float64)
        for path in sorted(self._directory.glob(f"*{_FILE_SUFFIX}")):
            try:
                values = np.load(path, mmap_mode="r")
            except (OSError, ValueError):  # a worker that is still creating its file
                continue
            if values.shape == total.shape:
                total += values
        return total


def instrument(app: Any, metrics: ServiceMetrics, route_of: dict[str, str]) -> Any:
    """Wrap an ASGI app so every HTTP response is counted, 404s and 413s included.

    ``route_of`` maps request paths to route labels; unknown paths count as ``other``,
    so a scanner cannot create a series per path it tries.
    """

    async def instrumented(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_observe(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                route = route_of.get(scope["path"], OTHER_ROUTE)
                metrics.observe_request(route, status, time.perf_counter() - started)

        await app(scope, receive, send_and_observe)

    return instrumented


def _header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _histogram(
    name: str, labels: str, bounds: Sequence[float], counts: np.ndarray, total: float
) -> list[str]:
    cumulative = np.cumsum(counts)
    lines = [
        f'{name}_bucket{{{labels}le="{bound:g}"}} {_number(count)}'
        for bound, count in zip(bounds, cumulative[:-1], strict=True)
    ]
    lines.append(f'{name}_bucket{{{labels}le="+Inf"}} {_number(cumulative[-1])}')
    bare = labels.rstrip(",")
    suffix = f"{{{bare}}}" if bare else ""
    lines.append(f"{name}_sum{suffix} {_number(total)}")
    lines.append(f"{name}_count{suffix} {_number(cumulative[-1])}")
    return lines


def _number(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
