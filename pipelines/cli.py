"""``hpp``: the command line of House Price Predictor.

Presentation lives here (progress, tables, colours); the steps live in
``pipelines.job`` and ``featurestore``. Every failure prints one clear message to
stderr and exits non-zero.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["main"]

logger = logging.getLogger("hpp")

EXIT_ERROR = 1
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # An unreachable tracking server should fail in seconds, not after minutes of retries.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "long_running_server", False):
        # `docker stop`, a CI timeout or `kill` end a run the way Ctrl-C does, so a
        # half-done run puts the lake and store back (the service and the UI have their own).
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt as stop:
        print(f"interrupted ({stop})" if str(stop) else "interrupted", file=sys.stderr)
        return 143 if str(stop) == "SIGTERM" else 130
    except Exception as err:
        if _terminated:
            # DuckDB turns an interrupt inside a query into its own "Query interrupted".
            print("interrupted (SIGTERM)", file=sys.stderr)
            return 143
        if not isinstance(err, OSError) and not _is_ours(err):
            raise
        # Ours, or a path the user gave that cannot be read or written: one line, no trace.
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR


_terminated = False


def _interrupt(signum: int, frame: object) -> None:
    global _terminated
    _terminated = True
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _is_ours(err: Exception) -> bool:
    from featurestore.errors import FeatureStoreError
    from pipelines.errors import PipelineError

    return isinstance(err, FeatureStoreError | PipelineError)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpp", description="House Price Predictor: feature store, training, bundles."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every step")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="the main job: ingest, build, train, register")
    _config_flags(run)
    _source_flags(run)
    _model_flag(run)
    _tracking_flag(run)
    run.set_defaults(handler=run_command)

    ingest = commands.add_parser("ingest", help="raw file -> validated Parquet in the lake")
    _config_flags(ingest)
    _source_flags(ingest)
    ingest.set_defaults(handler=ingest_command)

    build = commands.add_parser("build", help="(re)apply the SQL views of the feature store")
    _config_flags(build)
    build.set_defaults(handler=build_command)

    check = commands.add_parser("check", help="run the data checks in sql/checks")
    _config_flags(check)
    check.set_defaults(handler=check_command)

    train = commands.add_parser("train", help="train, export to ONNX and publish a bundle")
    _config_flags(train)
    _model_flag(train)
    train.set_defaults(handler=train_command)

    register = commands.add_parser("register", help="log a bundle to MLflow, set the alias")
    _config_flags(register)
    _tracking_flag(register)
    register.add_argument("--bundle", type=Path, help="bundle folder (default: the latest)")
    register.set_defaults(handler=register_command)

    sql = commands.add_parser("sql", help="run read-only SQL against the feature store")
    _config_flags(sql)
    sql.add_argument("query", help='e.g. "SELECT location, count(*) FROM features GROUP BY 1"')
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sql.add_argument("--output", type=Path, help="write the result to FILE.parquet instead")
    sql.set_defaults(handler=sql_command)

    features = commands.add_parser("features", help="list the views, columns, descriptions")
    _config_flags(features)
    features.set_defaults(handler=features_command)

    verify = commands.add_parser("verify", help="check a bundle's files against bundle.json")
    _config_flags(verify)
    verify.add_argument("bundle", type=Path, nargs="?", help="bundle folder (default: latest)")
    verify.set_defaults(handler=verify_command)

    serve = commands.add_parser("serve", help="start the prediction service (serving/)")
    # The service reads no pipeline config (that needs the training stack): a bundle only.
    serve.add_argument("--models-dir", type=Path, help="folder holding models/<name>/")
    _serving_cli().configure_parser(serve)
    serve.set_defaults(
        handler=lambda args: _serving_cli().serve_command(args), long_running_server=True
    )

    ui = commands.add_parser("ui", help="start the Streamlit dashboard (ui/)")
    _config_flags(ui)
    _ui_cli().configure_parser(ui)
    ui.set_defaults(handler=lambda args: _ui_cli().ui_command(args), long_running_server=True)
    return parser


def _ui_cli() -> Any:
    from ui import cli

    return cli


def _serving_cli() -> Any:
    # Imported lazily: the service's own install has no training stack.
    from serving import cli

    return cli


def _config_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="pipeline YAML (default: configs/pipeline.yaml if present)"
    )
    parser.add_argument("--data-dir", type=Path, help="override paths.data_dir")
    parser.add_argument("--models-dir", type=Path, help="override paths.models_dir")


def _source_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--source", choices=("ames", "sample"), help="built-in data (default: the config's, ames)"
    )
    group.add_argument("--input", type=Path, help="your own CSV or Parquet file")


def _model_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model name in configs/models/ or a model YAML path")


def _tracking_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else sqlite:///./mlflow.db)",
    )


def _config(args: argparse.Namespace) -> Any:
    import msgspec

    from pipelines.config import PathsConfig, load_pipeline_config

    config = load_pipeline_config(args.config)
    paths = config.paths
    if args.data_dir is not None or args.models_dir is not None:
        paths = PathsConfig(
            data_dir=str(args.data_dir or paths.data_dir),
            models_dir=str(args.models_dir or paths.models_dir),
        )
    source = getattr(args, "source", None) or config.source
    return msgspec.structs.replace(config, paths=paths, source=source)


def _model(args: argparse.Namespace, config: Any) -> Any:
    from pipelines.config import load_model_config

    return load_model_config(args.model or config.training.model)


def _source(args: argparse.Namespace, config: Any) -> Any:
    from featurestore import resolve_source

    return resolve_source(None if args.input else config.source, args.input)


# -- commands ---------------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    from pipelines.job import run_job
    from pipelines.tracking import resolve_tracking_uri

    config = _config(args)
    model = _model(args, config)  # a bad model config fails before any data is touched
    source = _source(args, config)
    console = _console()
    console.print(f"[bold]hpp run[/]: {source.label} -> {model.kind} model")
    summary = run_job(
        config,
        source,
        model,
        tracking_uri=resolve_tracking_uri(args.tracking_uri),
        display=_step_display(console),
    )
    _print_summary(console, summary)
    return 0


def ingest_command(args: argparse.Namespace) -> int:
    from pipelines.job import ingest_step

    config = _config(args)
    report = ingest_step(config, _source(args, config))
    _console().print(_ingest_line(report))
    return 0


def build_command(args: argparse.Namespace) -> int:
    from pipelines.job import build_step

    config = _config(args)
    views = build_step(config)
    _console().print(f"{config.store_path}: views {', '.join(views)}")
    return 0


def check_command(args: argparse.Namespace) -> int:
    from rich.table import Table

    from featurestore.checks import run_checks

    config = _config(args)
    results = run_checks(config.store_path, known_categories=config.known_categories)
    table = Table(title=f"data checks on {config.store_path}", title_justify="left")
    for column in ("check", "result", "rows", "rule"):
        table.add_column(column)
    for result in results:
        verdict = "[green]pass[/]" if result.passed else "[red]FAIL[/]"
        table.add_row(result.name, verdict, str(result.violations), result.description)
    console = _console()
    console.print(table)
    for result in results:
        for row in result.sample:
            console.print(f"  {result.name}: {row}")
    failed = sum(not result.passed for result in results)
    if failed:
        print(f"error: {failed} of {len(results)} data checks failed", file=sys.stderr)
        return EXIT_ERROR
    return 0


def train_command(args: argparse.Namespace) -> int:
    from pipelines import bundle as bundles
    from pipelines.job import check_step, publish_step, train_step

    config = _config(args)
    model = _model(args, config)
    check_step(config)  # never publish a model of data that fails its checks
    staged = train_step(config, model)
    try:
        published = publish_step(staged)
    except BaseException:
        bundles.discard_staging(staged.directory)
        raise
    console = _console()
    _print_metrics(console, staged.bundle)
    console.print(f"bundle: {published}")
    return 0


def register_command(args: argparse.Namespace) -> int:
    from pipelines.job import register_step
    from pipelines.tracking import resolve_tracking_uri

    config = _config(args)
    location = args.bundle or config.models_dir / config.bundle.name
    record = register_step(config, location, resolve_tracking_uri(args.tracking_uri))
    _console().print(
        f"registered {record.registered_model} version {record.model_version} "
        f"as @{record.alias} (run {record.run_id}, {record.tracking_uri})"
    )
    return 0


def sql_command(args: argparse.Namespace) -> int:
    from featurestore import query

    config = _config(args)
    table = query(config.store_path, args.query)
    if args.output is not None:
        _write_parquet(table, args.output)
        print(f"wrote {table.num_rows} rows to {args.output}", file=sys.stderr)
    elif args.format == "csv":
        import pyarrow.csv as pa_csv

        pa_csv.write_csv(table, sys.stdout.buffer)
    elif args.format == "json":
        import polars as pl

        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        sys.stdout.write(frame.write_json() + "\n")
    else:
        _print_table(table)
    return 0


def features_command(args: argparse.Namespace) -> int:
    from rich.table import Table

    from featurestore import catalog

    config = _config(args)
    table = Table(title=f"features in {config.store_path}", title_justify="left")
    for heading in ("view", "column", "type", "point-in-time", "depends on", "description"):
        table.add_column(heading)
    for view in catalog(config.store_path):
        depends = ", ".join(view.depends_on)
        table.add_row(
            view.name,
            "",
            "view",
            "yes" if view.point_in_time else "no",
            depends,
            view.description or "",
            style="bold",
        )
        for column in view.columns:
            timed = "yes" if column.point_in_time else "no"
            table.add_row("", column.name, column.type, timed, "", column.description or "")
    _console().print(table)
    return 0


def verify_command(args: argparse.Namespace) -> int:
    from pipelines.bundle import verify_bundle

    config = _config(args)
    location = args.bundle or config.models_dir / config.bundle.name
    described = verify_bundle(location)
    print(f"ok: {described.name} {described.version}, model.onnx sha256 {described.onnx.sha256}")
    if described.online is not None:
        online = described.online
        print(f"ok: {online.file} sha256 {online.sha256}, values as of {online.as_of}")
    return 0


# -- presentation -----------------------------------------------------------------------


def _console() -> Any:
    from rich.console import Console

    # Piped output is read by programs and pagers: do not fold tables at 80 columns.
    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, width=width)


def _step_display(console: Any) -> Any:
    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.perf_counter()
        with console.status(f"{name} …"):
            try:
                yield
            except BaseException:
                seconds = time.perf_counter() - started
                console.print(f"[red]✗[/] {name} failed after {seconds:.1f}s")
                raise
        console.print(f"[green]✓[/] {name} [dim]({time.perf_counter() - started:.1f}s)[/]")

    return step


def _ingest_line(report: Any) -> str:
    reasons = ", ".join(f"{rule} ({n})" for rule, n in report.reasons.items()) or "none"
    return (
        f"ingest {report.source}: {report.rows_read} rows read, {report.rows_accepted} accepted, "
        f"{report.rows_rejected} rejected (reasons: {reasons}) -> {report.sales_path}"
    )


def _print_metrics(console: Any, described: Any) -> None:
    from rich.table import Table

    table = Table(title="metrics", title_justify="left")
    for column in ("set", "rows", "RMSE(log)", "MAE $", "MAPE", "R² ($)"):
        table.add_column(column, justify="right")
    for label, metrics in (("cv", described.metrics.cv), ("holdout", described.metrics.holdout)):
        if metrics is not None:
            table.add_row(
                label,
                str(metrics.rows),
                f"{metrics.rmse_log:.4f}",
                f"{metrics.mae:,.0f}",
                f"{metrics.mape:.1%}",
                f"{metrics.r2:.3f}",
            )
    console.print(table)
    interval = described.interval
    coverage = (
        f"{interval.holdout_coverage:.1%} of {described.metrics.holdout.rows} holdout sales"
        if interval.holdout_coverage is not None
        else "no holdout"
    )
    width = (
        f", median width ${interval.holdout_median_width:,.0f}"
        if interval.holdout_median_width is not None
        else ""
    )
    console.print(
        f"{interval.level:.0%} interval: covers {coverage}{width} (cv {interval.cv_coverage:.1%})"
    )
    if described.metrics.cv_scheme:
        console.print(f"cv: {described.metrics.cv_scheme}")
    console.print(f"holdout: {described.training_data.holdout_rule}")
    if described.online is not None:
        console.print(
            f"market inputs: {', '.join(described.online.features)}, "
            f"values by location as of {described.online.as_of} ({described.online.file})"
        )
    console.print(
        f"onnx: {described.onnx.size_bytes:,} bytes, parity max relative difference "
        f"{described.onnx.parity_max_relative_difference:.1e} "
        f"on {described.onnx.parity_rows} rows"
    )


def _print_summary(console: Any, summary: Any) -> None:
    console.print(_ingest_line(summary.ingest))
    _print_metrics(console, summary.bundle)
    record = summary.registry
    console.print(f"bundle: {summary.bundle_dir}")
    console.print(
        f"mlflow: run {record.run_id}, model {record.registered_model} "
        f"version {record.model_version} @{record.alias} ({record.tracking_uri})"
    )
    console.print(f"[bold]done[/] in {summary.seconds:.1f}s")


def _print_table(table: Any, max_rows: int = 50) -> None:
    from rich.table import Table

    view = Table()
    for name in table.column_names:
        view.add_column(name)
    for row in table.slice(0, max_rows).to_pylist():
        view.add_row(*("NULL" if v is None else str(v) for v in row.values()))
    console = _console()
    console.print(view)
    if table.num_rows > max_rows:
        console.print(f"… {table.num_rows - max_rows} more rows (use --format csv or --output)")


def _write_parquet(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    from featurestore.errors import QueryError

    if path.suffix.lower() != ".parquet":
        raise QueryError(f"--output must name a .parquet file, not {path}")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
