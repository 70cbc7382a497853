"""Run the service: uvicorn (with uvloop and httptools), each worker loading the bundle.

``run_server`` hands the resolved settings to the workers through the environment and
starts uvicorn, chosen over granian by measurement (``bench/README.md``: less server CPU
per request and shorter tails on this 2-core machine). Each worker calls
``app_from_environment``, which works as an app factory for any ASGI server, e.g.
``granian --interface asgi --factory serving.server:app_from_environment`` with
``HPP_MODEL`` set.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import msgspec
from litestar import Litestar

from serving.app import create_app
from serving.errors import SettingsError
from serving.loading import load_model
from serving.registry import REGISTRY_PREFIX
from serving.settings import ServiceSettings, resolve_settings

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

__all__ = ["APP_FACTORY", "app_from_environment", "configure_logging", "run_server"]

logger = logging.getLogger(__name__)

APP_FACTORY = "serving.server:app_from_environment"
# Set by run_server for its workers: the settings as JSON, and the shared metrics folder.
_SETTINGS_VARIABLE = "HPP_SERVICE_SETTINGS"
_METRICS_VARIABLE = "HPP_METRICS_DIR"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def app_from_environment(
    extra_route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """Worker entry point: settings from the environment, bundle loaded, app built."""
    settings = _worker_settings()
    configure_logging(settings.log_level)
    if settings.model.startswith(REGISTRY_PREFIX):
        message = (
            f"{settings.model}: a registry location is downloaded by `hpp serve`; "
            "an app factory needs a bundle folder in $HPP_MODEL"
        )
        raise SettingsError(message)
    model = load_model(Path(settings.model), ort_threads=settings.ort_threads)
    metrics_dir = os.environ.get(_METRICS_VARIABLE)
    return create_app(
        model,
        settings,
        metrics_dir=Path(metrics_dir) if metrics_dir else None,
        extra_route_handlers=extra_route_handlers,
    )


def run_server(settings: ServiceSettings) -> None:
    """Serve until SIGINT/SIGTERM; ``settings.model`` must be a local bundle folder.

    With several workers uvicorn starts them with the ``spawn`` method, so no
    onnxruntime state crosses a fork; with one, the app runs in this process.
    """
    import uvicorn

    # uvicorn re-raises the SIGTERM it shut down on once it is done; without a handler of
    # ours that would end the process before the metrics folder is removed.
    signal.signal(signal.SIGTERM, _exit_quietly)
    with tempfile.TemporaryDirectory(prefix="hpp-metrics-") as metrics_dir:
        os.environ[_SETTINGS_VARIABLE] = msgspec.json.encode(settings).decode()
        os.environ[_METRICS_VARIABLE] = metrics_dir
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_config=None,  # configure_logging has set up this process's logging
            log_level=settings.log_level,
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=10,
        )


def configure_logging(level: str) -> None:
    """The process edge: one stderr handler if none exists; ours and uvicorn's at ``level``."""
    if not logging.getLogger().handlers:
        logging.basicConfig(format=_LOG_FORMAT)
    for name in ("serving", "uvicorn"):
        logging.getLogger(name).setLevel(level.upper())


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _worker_settings() -> ServiceSettings:
    encoded = os.environ.get(_SETTINGS_VARIABLE)
    if encoded is None:
        return resolve_settings({}, os.environ)
    return msgspec.json.decode(encoded, type=ServiceSettings)
