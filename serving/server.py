"""Run the service: uvicorn (with uvloop and httptools), each worker loading the bundle.

``run_server`` hands the resolved settings to the workers through the environment and
starts uvicorn, chosen over granian by measurement (``bench/README.md``: less server CPU
per request and shorter tails on this 2-core machine). Each worker calls
``app_from_environment``, which works as an app factory for any ASGI server, e.g.
``granian --interface asgi --factory serving.server:app_from_environment`` with
``HPP_MODEL`` set.

``hpp serve`` calls ``check_address`` before it loads anything, so an address uvicorn
could not listen on (a port in use, a privileged port, a host that is not this machine's)
is a ``SettingsError`` of one line, not uvicorn's log and its exit status 3.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import msgspec
from litestar import Litestar

from serving.app import create_app
from serving.errors import ServingError, SettingsError
from serving.loading import load_model
from serving.registry import REGISTRY_PREFIX
from serving.settings import ServiceSettings, resolve_settings

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

__all__ = [
    "APP_FACTORY",
    "app_from_environment",
    "check_address",
    "configure_logging",
    "run_server",
]

logger = logging.getLogger(__name__)

APP_FACTORY = "serving.server:app_from_environment"
# Set by run_server for its workers: the settings as JSON, and the shared metrics folder.
_SETTINGS_VARIABLE = "HPP_SERVICE_SETTINGS"
_METRICS_VARIABLE = "HPP_METRICS_DIR"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn's exit status when the server did not start (uvicorn.config.STARTUP_FAILURE).
_UVICORN_STARTUP_FAILURE = 3


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
        try:
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
        except SystemExit as stop:
            if stop.code != _UVICORN_STARTUP_FAILURE:
                raise
            # uvicorn has logged why (e.g. the port was taken after check_address ran).
            message = (
                f"the service did not start on {settings.host}:{settings.port}; "
                "the log lines above say why"
            )
            raise ServingError(message) from stop


def check_address(host: str, port: int) -> None:
    """Raise ``SettingsError`` unless the server could listen on ``host:port`` now.

    Binds and releases each address ``host`` resolves to, with the socket options asyncio
    uses for the server (SO_REUSEADDR; IPv6 only on IPv6 sockets), so a port left in
    TIME_WAIT counts as free and one with a listener does not.
    """
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        message = (
            f"cannot listen on host {host!r}: {err.strerror}; pass --host with an address "
            "of this machine, e.g. --host 127.0.0.1"
        )
        raise SettingsError(message) from err
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as err:
                raise SettingsError(_unusable_address(host, port, err)) from err


def _unusable_address(host: str, port: int, err: OSError) -> str:
    if err.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use; pass --port N (or set $HPP_PORT)"
    if err.errno == errno.EACCES:
        return (
            f"no permission to listen on port {port} on {host} (ports below 1024 need "
            "privileges); pass --port N with N above 1023"
        )
    return (
        f"cannot listen on {host}:{port} ({err.strerror}); pass --host with an address of "
        "this machine, or another --port"
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
