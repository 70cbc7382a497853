"""Model quality with and without point-in-time market features, on the same rows.

Not a speed benchmark: it answers "do the market inputs make the model better?" the way
the main job would measure it. It ingests Ames into a throw-away folder, builds the store,
and trains the configured model four times on the same sales (the first month, which has
no earlier market, is left out of all four): market features off and on, under shuffled
folds (market features recomputed per fold with the fold's validation prices hidden) and
under forward chaining. Each run also scores the latest-dates holdout.

    uv run python -m bench.market_features
    uv run python -m bench.market_features --model random_forest --folds 5

Results go to ``bench/results/market_features-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from featurestore import resolve_source
from pipelines.config import (
    PathsConfig,
    PipelineConfig,
    TrainingConfig,
    load_model_config,
)
from pipelines.job import build_step, ingest_step, market_recomputer, training_frame
from pipelines.training import train

RESULTS = Path(__file__).parent / "results"


def compare(model_name: str, folds: int, seed: int, data_dir: Path) -> list[dict[str, Any]]:
    base = PipelineConfig(paths=PathsConfig(data_dir=str(data_dir)))
    ingest_step(base, resolve_source("ames", None))
    build_step(base)
    model = load_model_config(model_name)
    with_market = training_frame(_with(base, market=True, scheme="random", folds=folds, seed=seed))
    kept = with_market.get_column("house_id")
    plain = training_frame(base).filter(pl.col("house_id").is_in(kept.implode()))
    rows = []
    for scheme in ("random", "time"):
        for market in (False, True):
            config = _with(base, market=market, scheme=scheme, folds=folds, seed=seed)
            started = time.perf_counter()
            result = train(
                with_market if market else plain,
                model,
                config.training,
                market_recomputer(config),
            )
            assert result.holdout is not None
            rows.append(
                {
                    "cv_scheme": scheme,
                    "market_features": market,
                    "rows": with_market.height,
                    "cv_scored_rows": result.cv.rows,
                    "cv_rmse_log": result.cv.rmse_log,
                    "cv_mae": result.cv.mae,
                    "holdout_rows": result.holdout.rows,
                    "holdout_rmse_log": result.holdout.rmse_log,
                    "holdout_mae": result.holdout.mae,
                    "holdout_coverage": result.interval.holdout_coverage,
                    "seconds": time.perf_counter() - started,
                }
            )
            logging.info("%s", rows[-1])
    return rows


def _with(
    base: PipelineConfig, *, market: bool, scheme: str, folds: int, seed: int
) -> PipelineConfig:
    training = TrainingConfig(
        market_features=market,
        cv_scheme=scheme,  # type: ignore[arg-type]
        cv_folds=folds,
        seed=seed,
    )
    return PipelineConfig(paths=base.paths, training=training)


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| CV folds | market features | CV RMSE(log) | CV MAE $ | holdout RMSE(log) "
        "| holdout MAE $ | interval coverage (holdout) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['cv_scheme']} | {'yes' if row['market_features'] else 'no'} "
            f"| {row['cv_rmse_log']:.4f} | {row['cv_mae']:,.0f} | {row['holdout_rmse_log']:.4f} "
            f"| {row['holdout_mae']:,.0f} | {row['holdout_coverage']:.1%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="xgboost", help="model name in configs/models/")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    with tempfile.TemporaryDirectory(prefix="hpp-market-") as folder:
        rows = compare(args.model, args.folds, args.seed, Path(folder) / "data")
    print(table(rows))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"market_features-{stamp}.json"
    meta = {
        "model": args.model,
        "folds": args.folds,
        "seed": args.seed,
        "machine": platform.platform(),
    }
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
