"""The service as benchmarked: the production app plus one constant route, the HTTP floor.

``POST /bench/constant`` reads the request body and answers a fixed prediction-sized
JSON document without decoding or predicting, so it costs exactly what the server,
Litestar and the metrics wrapper cost. It lives here, never in ``serving``.

Run by ``bench/serve_bench.py`` as an app factory:
``uvicorn --factory bench.serve_app:create_bench_app`` (or granian, the same way).
"""

from __future__ import annotations

from litestar import Litestar, Request, Response, post

from serving.server import app_from_environment

__all__ = ["CONSTANT_PATH", "create_bench_app"]

CONSTANT_PATH = "/bench/constant"
_CONSTANT_BODY = (
    b'{"predicted_price":511372.5,"interval":{"lower":471328.28125,"upper":554818.875,'
    b'"level":0.9},"model":{"name":"house-price","version":"20261204T154726Z-dddd57"},'
    b'"warnings":[]}'
)


@post(CONSTANT_PATH, status_code=200, include_in_schema=False)
async def constant(request: Request[object, object, object]) -> Response[bytes]:
    await request.body()
    return Response(_CONSTANT_BODY, media_type="application/json")


def create_bench_app() -> Litestar:
    return app_from_environment(extra_route_handlers=[constant])
