"""A typed client for the prediction service (``hpp serve``), as the dashboard uses it.

The response structs mirror the service's documented answers (issue 3: ``GET /model``,
``GET /ready``, ``POST /predict``, ``POST /predict/batch``) and decode leniently: fields
the dashboard does not show are ignored, a missing field is an ``UnexpectedAnswer``.
Transport failures become ``ServiceUnavailable`` and error statuses ``ServiceRefused``,
each carrying the address tried, so a page can say exactly what went wrong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, TypeVar

import httpx
import msgspec

from pipelines.bundle import MetricsSpec, TrainingData
from ui.errors import ServiceRefused, ServiceUnavailable, UnexpectedAnswer

__all__ = [
    "BatchPrediction",
    "House",
    "InputInfo",
    "ModelInfo",
    "Prediction",
    "PredictionItem",
    "Readiness",
    "ServiceClient",
    "TimedPrediction",
]

logger = logging.getLogger(__name__)

House = Mapping[str, float | int | str]


class InputInfo(msgspec.Struct, frozen=True):
    """One model input as ``GET /model`` describes it: its rule and its training range."""

    name: str
    kind: Literal["number", "category"]
    description: str
    rule: str
    minimum: float | None = None
    exclusive_minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    training_min: float | None = None
    training_max: float | None = None
    categories: list[str] | None = None


class IntervalInfo(msgspec.Struct, frozen=True):
    level: float
    method: str
    cv_coverage: float
    holdout_coverage: float | None = None


class ModelInfo(msgspec.Struct, frozen=True):
    name: str
    version: str
    created_at: str
    kind: str
    inputs: list[InputInfo]
    interval: IntervalInfo
    metrics: MetricsSpec
    training_data: TrainingData
    max_batch: int
    strict_categories: bool = False


class ModelRef(msgspec.Struct, frozen=True):
    name: str
    version: str


class Readiness(msgspec.Struct, frozen=True):
    ready: bool
    model: ModelRef
    detail: str


class Interval(msgspec.Struct, frozen=True):
    lower: float
    upper: float
    level: float


class InputWarning(msgspec.Struct, frozen=True):
    field: str
    code: str
    message: str


class Prediction(msgspec.Struct, frozen=True):
    predicted_price: float
    interval: Interval
    model: ModelRef
    warnings: list[InputWarning]


class PredictionItem(msgspec.Struct, frozen=True):
    predicted_price: float
    interval: Interval
    warnings: list[InputWarning]


class BatchPrediction(msgspec.Struct, frozen=True):
    model: ModelRef
    predictions: list[PredictionItem]


class TimedPrediction(msgspec.Struct, frozen=True):
    """A prediction and the round trip this client measured for it, in seconds."""

    prediction: Prediction
    seconds: float


class _Problem(msgspec.Struct, frozen=True):
    location: str = ""
    message: str = ""


class _ErrorBody(msgspec.Struct, frozen=True):
    detail: str = ""
    extra: list[_Problem] | dict[str, Any] | None = None


_T = TypeVar("_T")


class ServiceClient:
    """Calls one service at ``base_url``; use as a context manager to close its connections."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def model_info(self) -> ModelInfo:
        return self._call("GET", "/model", ModelInfo)

    def readiness(self) -> Readiness:
        """The service's ``/ready`` answer; not being ready is ``ServiceUnavailable``."""
        try:
            readiness = self._call("GET", "/ready", Readiness)
        except ServiceRefused as err:
            raise ServiceUnavailable(self._url("/ready"), f"not ready: {err.detail}") from err
        if not readiness.ready:
            raise ServiceUnavailable(self._url("/ready"), f"not ready: {readiness.detail}")
        return readiness

    def predict(self, house: House) -> TimedPrediction:
        started = time.perf_counter()
        prediction = self._call("POST", "/predict", Prediction, body=dict(house))
        return TimedPrediction(prediction, time.perf_counter() - started)

    def predict_batch(self, houses: Sequence[House]) -> BatchPrediction:
        body = {"houses": [dict(house) for house in houses]}
        answer = self._call("POST", "/predict/batch", BatchPrediction, body=body)
        if len(answer.predictions) != len(houses):
            message = (
                f"{self._url('/predict/batch')} answered {len(answer.predictions)} "
                f"predictions for {len(houses)} houses"
            )
            raise UnexpectedAnswer(message)
        return answer

    def _call(self, method: str, path: str, kind: type[_T], body: Any = None) -> _T:
        url = self._url(path)
        content = msgspec.json.encode(body) if body is not None else None
        headers = {"content-type": "application/json"} if content is not None else None
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException as err:
            raise ServiceUnavailable(url, f"no answer within the timeout ({err})") from err
        except httpx.HTTPError as err:
            raise ServiceUnavailable(url, _transport_reason(err)) from err
        logger.debug(
            "%s %s -> %d in %.1f ms",
            method,
            url,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        if response.status_code >= 400:
            raise _refusal(url, response)
        try:
            return msgspec.json.decode(response.content, type=kind)
        except msgspec.DecodeError as err:
            message = f"{url} answered in an unexpected shape ({err}); is API_URL our service?"
            raise UnexpectedAnswer(message) from err

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _transport_reason(err: httpx.HTTPError) -> str:
    reason = str(err) or type(err).__name__
    if isinstance(err, httpx.ConnectError):
        return f"could not connect ({reason})"
    return reason


def _refusal(url: str, response: httpx.Response) -> ServiceRefused:
    try:
        body = msgspec.json.decode(response.content, type=_ErrorBody)
    except msgspec.DecodeError:
        text = response.text.strip()[:300] or response.reason_phrase
        return ServiceRefused(url, response.status_code, text, [])
    problems: list[str] = []
    if isinstance(body.extra, list):
        problems = [f"{p.location}: {p.message}" if p.location else p.message for p in body.extra]
    detail = body.detail or response.reason_phrase
    return ServiceRefused(url, response.status_code, detail, problems)
