"""`hpp serve`: placeholder until the service lands (issue 3)."""

from __future__ import annotations

import argparse


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="bundle folder or models:/<name>@<alias>")


def serve_command(args: argparse.Namespace) -> int:
    raise SystemExit("error: the prediction service is not built yet (issue 3)")
