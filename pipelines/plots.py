"""Diagnostic plots of a training run, written as PNG files (matplotlib, no display)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_diagnostic_plots"]


def write_diagnostic_plots(
    y_true: np.ndarray, y_pred: np.ndarray, directory: Path, *, label: str
) -> list[Path]:
    """Predicted-vs-actual and residual plots of ``label`` predictions; return the files."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    written = []

    figure, axes = plt.subplots(figsize=(5.5, 5))
    axes.scatter(y_true, y_pred, s=6, alpha=0.5)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    axes.plot([low, high], [low, high], color="black", linewidth=1)
    axes.set(
        xscale="log",
        yscale="log",
        xlabel="actual price ($)",
        ylabel="predicted price ($)",
        title=f"Predicted vs actual ({label}, {len(y_true)} sales)",
    )
    written.append(_save(figure, directory / "predicted_vs_actual.png"))

    figure, axes = plt.subplots(figsize=(6, 4))
    residuals = np.log(y_true) - np.log(y_pred)
    axes.scatter(y_pred, residuals, s=6, alpha=0.5)
    axes.axhline(0, color="black", linewidth=1)
    axes.set(
        xscale="log",
        xlabel="predicted price ($)",
        ylabel="log(actual) - log(predicted)",
        title=f"Residuals ({label})",
    )
    written.append(_save(figure, directory / "residuals.png"))
    plt.close("all")
    return written


def _save(figure: object, path: Path) -> Path:
    figure.tight_layout()  # type: ignore[attr-defined]
    figure.savefig(path, dpi=110)  # type: ignore[attr-defined]
    return path
