"""Figures of an evaluation run: the distribution overlay of Aes-R1 Fig. 1a and per-benchmark scatter."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from data_prep.atomic_files import write_bytes_atomic  # noqa: E402
from recipe.aesr1.evaluation.metrics import as_compared  # noqa: E402
from recipe.aesr1.evaluation.paper_reference import DISPLAY_NAMES  # noqa: E402

# Edges at the numbers 0, 0.025, ..., 1 (linspace alone gives 0.7000000000000001, which puts a 0.7
# answer in the bin below 0.7); predictions come rounded the same way (``failure_policy``).
BINS = as_compared(np.linspace(0.0, 1.0, 41))


def _grid(n: int) -> tuple[plt.Figure, np.ndarray]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _save(fig: plt.Figure, path: Path) -> None:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(path, buffer.getvalue())


def plot_distributions(data: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | Path, model: str = "") -> None:
    """Fig. 1a: density of ground-truth scores vs predicted scores, one panel per benchmark.

    ``data[benchmark] = (pred, label)``, both 1-D in [0, 1], for the images kept by the policy;
    both are binned as the numbers they are (``metrics.as_compared``).
    """
    fig, axes = _grid(len(data))
    for ax, (benchmark, (pred, label)) in zip(axes, data.items(), strict=False):
        pred, label = as_compared(pred), as_compared(label)
        if len(pred) == 0:  # every answer failed to parse: nothing to draw, say so
            ax.text(0.5, 0.5, "no scored images", ha="center", va="center", transform=ax.transAxes)
        else:
            ax.hist(label, bins=BINS, density=True, alpha=0.45, color="tab:gray", label="ground truth")
            ax.hist(
                pred,
                bins=BINS,
                density=True,
                histtype="step",
                linewidth=1.8,
                color="tab:red",
                label=model or "prediction",
            )
            ax.legend(fontsize=8)
        ax.set_title(f"{DISPLAY_NAMES.get(benchmark, benchmark)} (n={len(pred)})")
        ax.set_xlabel("score")
        ax.set_ylabel("density")
    _save(fig, Path(path))


def plot_scatter(
    data: Mapping[str, tuple[np.ndarray, np.ndarray]], metrics: Mapping[str, tuple[float, float]], path: str | Path
) -> None:
    """Predicted vs ground-truth score per benchmark, with the y = x line and PLCC/SRCC in the title."""
    fig, axes = _grid(len(data))
    for ax, (benchmark, (pred, label)) in zip(axes, data.items(), strict=False):
        ax.scatter(label, pred, s=8, alpha=0.5)
        ax.plot([0, 1], [0, 1], color="black", linewidth=0.8, linestyle="--")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        plcc, srcc = metrics.get(benchmark, (math.nan, math.nan))
        ax.set_title(f"{DISPLAY_NAMES.get(benchmark, benchmark)}: PLCC {plcc:.3f} SRCC {srcc:.3f}", fontsize=10)
        ax.set_xlabel("ground truth")
        ax.set_ylabel("prediction")
    _save(fig, Path(path))
