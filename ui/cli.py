"""``hpp ui``: start the Streamlit dashboard (``ui/app.py``) with this project's settings.

The pipeline config (``--config``, ``--data-dir``, ``--models-dir``) gives the feature
store and the models folder; ``--api-url`` (or ``$API_URL``) the prediction service. They
reach the Streamlit process as the environment variables of ``ui.settings``, and this
process becomes ``streamlit run`` (exec), so stopping it stops the dashboard.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

from ui.errors import UiError
from ui.settings import DEFAULT_API_URL, ENVIRONMENT, settings_from_environment

__all__ = ["APP", "configure_parser", "streamlit_command", "ui_command"]

APP = Path(__file__).resolve().with_name("app.py")
EXIT_ERROR = 1
EXIT_USAGE = 2


def configure_parser(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dashboard")
    group.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (0.0.0.0 in a container)"
    )
    group.add_argument("--port", type=int, default=8501, help="port to listen on (8501)")
    group.add_argument(
        "--api-url",
        help=f"the prediction service (default: ${ENVIRONMENT['api_url']}, else {DEFAULT_API_URL})",
    )
    group.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI for the Model page "
        "(default: $MLFLOW_TRACKING_URI, else the one recorded beside the bundle)",
    )
    group.add_argument("--max-rows", type=int, help="most rows a SQL query returns (10000)")
    group.add_argument("--query-timeout", type=float, help="seconds a SQL query may run (10)")


def ui_command(args: argparse.Namespace) -> int:
    """Resolve the settings, check them, then replace this process with Streamlit."""
    if importlib.util.find_spec("streamlit") is None:
        print(
            "error: the dashboard needs the ui extra: `uv sync --extra ui` "
            "(or `pip install 'house-price-predictor[ui]'`)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    environment = dashboard_environment(args, os.environ)
    try:
        settings = settings_from_environment(environment)
    except UiError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"dashboard at http://{args.host}:{args.port} — service {settings.api_url}, "
        f"feature store {settings.store_path}, models {settings.bundle_root}",
        file=sys.stderr,
    )
    sys.stderr.flush()
    command = streamlit_command(args.host, args.port)
    os.execve(command[0], command, environment)
    return 0  # not reached: execve replaces this process


def dashboard_environment(
    args: argparse.Namespace, environ: os._Environ[str] | dict[str, str]
) -> dict[str, str]:
    """``environ`` plus the dashboard's variables, resolved from flags and the config."""
    from pipelines.config import load_pipeline_config

    config = load_pipeline_config(getattr(args, "config", None))
    data_dir = getattr(args, "data_dir", None) or config.data_dir
    models_dir = getattr(args, "models_dir", None) or config.models_dir
    values = {
        "store_path": str((Path(data_dir) / config.store_path.name).resolve()),
        "models_dir": str(Path(models_dir).resolve()),
        "bundle_name": config.bundle.name,
        "registered_model": config.mlflow.registered_model,
        "api_url": args.api_url,
        "tracking_uri": args.tracking_uri,
        "max_rows": args.max_rows,
        "query_timeout": args.query_timeout,
    }
    environment = dict(environ)
    for name, value in values.items():
        if value is not None:
            environment[ENVIRONMENT[name]] = str(value)
    # Streamlit's usage statistics would call out to the internet; this dashboard never does.
    environment["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    return environment


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]
