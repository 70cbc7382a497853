"""``hpp serve``: check the bundle once, then start the prediction service.

The refusals happen here, in the supervising process, before any worker starts: a
missing, damaged or edited bundle, a graph onnxruntime rejects, or a failed self-test
prints one line to stderr and exits 1. Bad settings, including an address the service
cannot listen on (a port already in use), exit 2.

This module imports only the service's own dependencies; it never reads the pipeline
config (that needs the training stack), so ``--config`` and ``--data-dir`` are refused.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

import msgspec

from serving.errors import ServingError, SettingsError
from serving.settings import DEFAULT_MODEL, ENVIRONMENT, ServiceSettings

__all__ = ["configure_parser", "serve_command"]

logger = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_USAGE = 2


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the service's flags; each defaults to its environment variable, then a default."""
    group = parser.add_argument_group(
        "service", "each flag falls back to the environment variable shown, then the default"
    )

    def flag(name: str, setting: str, help_text: str, **options: Any) -> None:
        group.add_argument(
            name,
            dest=setting,
            default=None,
            help=f"{help_text} [${ENVIRONMENT[setting]}]",
            **options,
        )

    flag(
        "--model",
        "model",
        f"bundle folder, models/<name> (its latest) or models:/<name>@<alias> "
        f"(default: {DEFAULT_MODEL}, or <--models-dir>/house-price)",
        metavar="LOCATION",
    )
    flag(
        "--host",
        "host",
        "address to listen on (default: 127.0.0.1; 0.0.0.0 in a container)",
        metavar="ADDRESS",
    )
    flag("--port", "port", "port to listen on (default: 8000)", type=int, metavar="N")
    flag("--workers", "workers", "worker processes (default: 1)", type=int, metavar="N")
    flag(
        "--cors-origin",
        "cors_origins",
        "an origin allowed to call from a browser; repeat for more (default: none; "
        "the variable takes a comma-separated list)",
        action="append",
        metavar="ORIGIN",
    )
    flag(
        "--max-batch",
        "max_batch",
        "most houses in one batch request (default: 10000)",
        type=int,
        metavar="N",
    )
    flag(
        "--max-body-bytes",
        "max_body_bytes",
        "largest request body, larger is 413 (default: 4194304)",
        type=int,
        metavar="BYTES",
    )
    flag(
        "--strict-categories",
        "strict_categories",
        "refuse unknown categories with 422 instead of a warning (default: off)",
        action=argparse.BooleanOptionalAction,
    )
    flag(
        "--ort-threads",
        "ort_threads",
        "onnxruntime threads per worker (default: 1)",
        type=int,
        metavar="N",
    )
    flag(
        "--tracking-uri",
        "tracking_uri",
        "MLflow tracking URI, for models:/ locations (default: sqlite:///mlflow.db here)",
        metavar="URI",
    )
    flag(
        "--log-level",
        "log_level",
        "log level (default: info)",
        choices=("debug", "info", "warning", "error"),
    )


def serve_command(args: argparse.Namespace) -> int:
    """Resolve settings, verify and self-test the bundle, then serve until stopped."""
    from serving.loading import load_model
    from serving.predictor import Predictor
    from serving.registry import local_bundle
    from serving.server import check_address, configure_logging, run_server
    from serving.settings import resolve_settings

    if getattr(args, "config", None) is not None or getattr(args, "data_dir", None) is not None:
        print(
            "error: hpp serve reads no pipeline config or data folder; name the bundle with "
            f"--model (or ${ENVIRONMENT['model']}), e.g. --model models/house-price",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        settings = resolve_settings(_flags(args), os.environ)
        configure_logging(settings.log_level)
        check_address(settings.host, settings.port)
        with local_bundle(settings.model, settings.tracking_uri) as location:
            model = load_model(location, ort_threads=settings.ort_threads)
            Predictor(model).self_test()
            settings = msgspec.structs.replace(settings, model=str(model.directory))
            _announce(settings, model.bundle.name, model.bundle.version)
            del model
            run_server(settings)
    except SettingsError as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except ServingError as err:
        print(f"error: {_one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    return 0


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    names = [name for name in ENVIRONMENT if hasattr(args, name)]
    flags = {name: getattr(args, name) for name in names}
    models_dir = getattr(args, "models_dir", None)
    if (
        flags.get("model") is None
        and models_dir is not None
        and ENVIRONMENT["model"] not in os.environ
    ):
        flags["model"] = str(Path(models_dir) / Path(DEFAULT_MODEL).name)
    return flags


def _announce(settings: ServiceSettings, name: str, version: str) -> None:
    categories = "refused" if settings.strict_categories else "warned about"
    logger.info(
        "serving %s %s at http://%s:%d with %d worker(s); unknown categories are %s; "
        "docs at /schema/swagger",
        name,
        version,
        settings.host,
        settings.port,
        settings.workers,
        categories,
    )


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())
