"""The Litestar application: routes, error answers, OpenAPI, metrics.

``create_app`` takes a loaded model and the settings and returns a Litestar app; it
reads no files and no environment itself (``serving.server`` does that for workers).

Endpoints: ``POST /predict``, ``POST /predict/batch`` (and its alias ``/batch-predict``
taking a bare list), ``GET /health``, ``GET /ready``, ``GET /model``, ``GET /metrics``,
and the OpenAPI schema with interactive docs under ``/schema``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.config.cors import CORSConfig
from litestar.exceptions import ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.params import JSONBody
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from serving.body import MsgspecBody, require_json
from serving.loading import LoadedModel
from serving.metrics import CONTENT_TYPE, ServiceMetrics, instrument
from serving.predictor import InputRejected, Predictor, PricedBatch
from serving.schemas import (
    BatchPrediction,
    ErrorBody,
    Health,
    ModelInfo,
    Prediction,
    Readiness,
    build_request_types,
    current_year,
    model_info,
)
from serving.settings import ServiceSettings

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

    # The request types are built from the bundle at start-up (build_request_types);
    # Litestar resolves these names through the app's signature_namespace.
    House = msgspec.Struct
    HouseList = list[msgspec.Struct]

    class HouseBatch(msgspec.Struct):
        houses: list[msgspec.Struct]


__all__ = ["ROUTES", "SCHEMA_PATH", "create_app"]

logger = logging.getLogger(__name__)

SCHEMA_PATH = "/schema"
# Route labels in /metrics; every path under /schema counts as "/schema".
ROUTES = (
    "/predict",
    "/predict/batch",
    "/batch-predict",
    "/health",
    "/ready",
    "/model",
    "/metrics",
    SCHEMA_PATH,
)
# Below this many houses a batch is priced on the event loop; above it, in a thread,
# so one large batch does not hold up single predictions (onnxruntime releases the GIL).
_THREAD_THRESHOLD = 100

_BODY_ERRORS = {
    HTTP_400_BAD_REQUEST: ResponseSpec(
        ErrorBody, generate_examples=False, description="The body is missing or not JSON."
    ),
    HTTP_413_REQUEST_ENTITY_TOO_LARGE: ResponseSpec(
        ErrorBody, generate_examples=False, description="The body is over the size limit."
    ),
    HTTP_415_UNSUPPORTED_MEDIA_TYPE: ResponseSpec(
        ErrorBody,
        generate_examples=False,
        description="The body is declared as something other than `application/json`.",
    ),
    HTTP_422_UNPROCESSABLE_ENTITY: ResponseSpec(
        ErrorBody,
        generate_examples=False,
        description="A value breaks a rule, a batch is over the limit, or (strict mode) "
        "a category is unknown; `extra` lists each problem with its JSON path.",
    ),
}


def create_app(
    model: LoadedModel,
    settings: ServiceSettings,
    *,
    metrics_dir: Path | None = None,
    extra_route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """Build the service for ``model``; it turns ready once its self-test has passed."""
    predictor = Predictor(model, strict_categories=settings.strict_categories)
    types = build_request_types(model.bundle.feature_schema, max_batch=settings.max_batch)
    metrics = ServiceMetrics(ROUTES, metrics_dir)

    # Rebuilt when the year turns, so /model always states the year-built ceiling in force.
    @functools.lru_cache(maxsize=1)
    def describe(this_year: int) -> ModelInfo:
        return model_info(
            model.bundle,
            online=model.online,
            strict_categories=settings.strict_categories,
            max_batch=settings.max_batch,
            this_year=this_year,
        )

    app = Litestar(
        route_handlers=[
            *_route_handlers(predictor, metrics, describe, settings),
            *extra_route_handlers,
        ],
        signature_namespace={
            "House": types.house,
            "HouseBatch": types.batch,
            "HouseList": types.house_list,
        },
        on_startup=[predictor.self_test],
        request_max_body_size=settings.max_body_bytes,
        cors_config=_cors(settings.cors_origins),
        openapi_config=_openapi(model),
        exception_handlers={
            InputRejected: _refused,
            RequestEntityTooLarge: _too_large(settings.max_body_bytes),
            ValidationException: _unusable_body,
            HTTP_500_INTERNAL_SERVER_ERROR: _internal_error,
        },
        logging_config=None,  # the process edge (serving.server, hpp serve) configures it
    )
    # Counted around Litestar's own handler (where it adds CORS), so answers that never
    # reach a route (404, 405, 413) are counted too.
    app.asgi_handler = instrument(app.asgi_handler, metrics, _route_labels(app))
    return app


def _route_handlers(
    predictor: Predictor,
    metrics: ServiceMetrics,
    describe: Callable[[int], ModelInfo],
    settings: ServiceSettings,
) -> list[HTTPRouteHandler]:
    strict = "refused (422)" if settings.strict_categories else "answered with a warning"
    predict_description = (
        "Price one house. Categories match the model's known values ignoring case and "
        f"surrounding spaces; an unknown one is {strict}. A value outside the training "
        "range is answered with a warning. The interval is the bundle's calibrated "
        f"{predictor.bundle.interval.level:.0%} interval."
    )
    # The three pricing routes: JSON bodies only, decoded by msgspec, the same error answers.
    pricing = functools.partial(
        post,
        dto=MsgspecBody,
        return_dto=None,
        guards=[require_json],
        status_code=200,
        responses=_BODY_ERRORS,
        tags=["predictions"],
    )

    @pricing(
        "/predict",
        summary="Price one house",
        description=predict_description,
    )
    async def predict(data: JSONBody[House]) -> Prediction:
        priced = predictor.predict([data])
        _record(priced)
        item = priced.items[0]
        return Prediction(item.predicted_price, item.interval, predictor.model_ref, item.warnings)

    @pricing(
        "/predict/batch",
        summary=f"Price up to {settings.max_batch:,} houses",
        description="One result per house, in the order sent. " + predict_description,
    )
    async def predict_batch(data: JSONBody[HouseBatch]) -> BatchPrediction:
        return await _price_many(data.houses, "$.houses")

    @pricing(
        "/batch-predict",
        summary="Alias of /predict/batch taking a bare list of houses",
        description="The teaching project's body: a JSON array of houses.",
    )
    async def batch_predict(data: HouseList) -> BatchPrediction:
        return await _price_many(data, "$")

    async def _price_many(houses: Sequence[msgspec.Struct], array_path: str) -> BatchPrediction:
        if len(houses) < _THREAD_THRESHOLD:
            priced = predictor.predict(houses, array_path=array_path)
        else:
            priced = await sync_to_thread(predictor.predict, houses, array_path=array_path)
        _record(priced)
        return BatchPrediction(predictor.model_ref, priced.items)

    def _record(priced: PricedBatch) -> None:
        metrics.observe_prices(priced.prices)
        if priced.warnings:
            metrics.observe_warnings((warning.field, warning.code) for warning in priced.warnings)

    @get("/health", tags=["operations"], summary="The process is alive")
    async def health() -> Health:
        return Health(status="ok")

    @get(
        "/ready",
        tags=["operations"],
        summary="The model is loaded and passed its self-test",
        responses={
            HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
                Readiness, generate_examples=False, description="Not ready yet."
            )
        },
    )
    async def ready() -> Response[Readiness]:
        if predictor.ready:
            return Response(Readiness(True, predictor.model_ref, "self-test passed"))
        body = Readiness(False, predictor.model_ref, "the start-up self-test has not passed")
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE)

    @get("/model", tags=["operations"], summary="The model served and its feature schema")
    async def model() -> ModelInfo:
        return describe(current_year())

    @get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics of all workers",
        media_type=CONTENT_TYPE,
    )
    async def metrics_endpoint() -> Response[bytes]:
        return Response(metrics.render(predictor.model_ref), media_type=CONTENT_TYPE)

    return [predict, predict_batch, batch_predict, health, ready, model, metrics_endpoint]


def _route_labels(app: Litestar) -> dict[str, str]:
    labels: dict[str, str] = {}
    for route in app.routes:
        if route.path.startswith(SCHEMA_PATH):
            labels[route.path] = SCHEMA_PATH
        elif route.path in ROUTES:
            labels[route.path] = route.path
    return labels


def _cors(origins: list[str]) -> CORSConfig | None:
    if not origins:
        return None
    return CORSConfig(allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["*"])


def _openapi(model: LoadedModel) -> OpenAPIConfig:
    bundle = model.bundle
    description = (
        f"Prices houses with model **{bundle.name} {bundle.version}** ({bundle.model.kind}, "
        f"trained on {bundle.training_data.rows:,} {bundle.training_data.source} sales). "
        "Errors share one shape: `status_code`, `detail`, and `extra` listing each problem "
        "with its JSON path."
    )
    return OpenAPIConfig(
        title="House Price Predictor",
        version=_service_version(),
        description=description,
        path=SCHEMA_PATH,
        render_plugins=[SwaggerRenderPlugin()],
    )


def _service_version() -> str:
    try:
        return metadata.version("house-price-predictor")
    except metadata.PackageNotFoundError:
        return "0+unknown"


# -- error answers ----------------------------------------------------------------------


def _error(status: int, detail: str, extra: Any = None) -> Response[ErrorBody]:
    return Response(ErrorBody(status, detail, extra), status_code=status)


def _refused(request: Request[Any, Any, Any], exc: InputRejected) -> Response[ErrorBody]:
    return _error(HTTP_422_UNPROCESSABLE_ENTITY, exc.detail, exc.problems)


def _too_large(limit: int) -> Any:
    detail = (
        f"the request body is larger than the limit of {limit:,} bytes; send fewer houses "
        "per request, or start the service with a larger --max-body-bytes"
    )

    def handler(request: Request[Any, Any, Any], exc: RequestEntityTooLarge) -> Response[ErrorBody]:
        return _error(HTTP_413_REQUEST_ENTITY_TOO_LARGE, detail)

    return handler


def _unusable_body(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[ErrorBody]:
    # Litestar raises this itself only when the body is missing: ours raise 400/422.
    detail = f"{request.method} {request.url.path} needs a JSON body; the request had none"
    return _error(HTTP_400_BAD_REQUEST, detail)


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    logger.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    return _error(HTTP_500_INTERNAL_SERVER_ERROR, "internal error; the service logged it")
