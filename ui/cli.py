"""`hpp ui`: placeholder until the dashboard lands (issue 4)."""

from __future__ import annotations

import argparse


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8501)


def ui_command(args: argparse.Namespace) -> int:
    raise SystemExit("error: the dashboard is not built yet (issue 4)")
