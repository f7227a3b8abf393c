"""Bootstrap confidence intervals for the metrics, and a paired test between two checkpoints.

The paper reports point estimates only. Its test sets are small (PARA/AADB splits of a few hundred
images, ~250 in the quick configurations), so a difference of 0.01 PLCC between two checkpoints is
often noise; these intervals say how much.

Resampling is over images, with replacement, paired (an image keeps its prediction and its label),
percentile intervals, seeded with ``numpy.random.default_rng(seed)`` so a report is reproducible.
Resamples on which a metric is undefined (e.g. all-equal predictions) are left out and counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class BootstrapInterval:
    """A percentile interval ``[low, high]`` around ``estimate`` from ``n_valid`` finite resamples."""

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int
    n_valid: int


@dataclass(frozen=True)
class PairedComparison:
    """metric(A) - metric(B) on the same images, its interval, and a two-sided bootstrap p-value."""

    delta: float
    interval: BootstrapInterval
    p_value: float


def resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    """Index matrix of shape (n_resamples, n), each row a draw of n images with replacement."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(n_resamples, n))


def _percentile_interval(estimate: float, draws: np.ndarray, confidence: float) -> BootstrapInterval:
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        low = high = math.nan
    else:
        tail = (1.0 - confidence) / 2.0 * 100.0
        low, high = (float(v) for v in np.percentile(finite, [tail, 100.0 - tail]))
    return BootstrapInterval(estimate, low, high, confidence, int(draws.size), int(finite.size))


def bootstrap_ci(
    pred: np.ndarray,
    label: np.ndarray,
    metric: Metric,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> BootstrapInterval:
    """Percentile bootstrap interval of ``metric(pred, label)``; NaN bounds for fewer than 2 images."""
    pred = np.asarray(pred, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    estimate = metric(pred, label)
    if pred.size < 2:
        return BootstrapInterval(estimate, math.nan, math.nan, confidence, 0, 0)
    draws = np.array([metric(pred[idx], label[idx]) for idx in resample_indices(pred.size, n_resamples, seed)])
    return _percentile_interval(estimate, draws, confidence)


def paired_bootstrap_test(
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    label: np.ndarray,
    metric: Metric,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedComparison:
    """Is checkpoint A better than B on these images? Both are scored on the same resampled images.

    The p-value is two-sided: twice the smaller share of resampled deltas on either side of zero
    (capped at 1), i.e. the bootstrap test of H0: delta = 0.
    """
    pred_a = np.asarray(pred_a, dtype=np.float64)
    pred_b = np.asarray(pred_b, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    if not pred_a.shape == pred_b.shape == label.shape:
        raise ValueError(f"paired test needs the same images: shapes {pred_a.shape}, {pred_b.shape}, {label.shape}")
    delta = metric(pred_a, label) - metric(pred_b, label)
    if label.size < 2:
        return PairedComparison(delta, BootstrapInterval(delta, math.nan, math.nan, confidence, 0, 0), math.nan)
    draws = np.array(
        [
            metric(pred_a[idx], label[idx]) - metric(pred_b[idx], label[idx])
            for idx in resample_indices(label.size, n_resamples, seed)
        ]
    )
    interval = _percentile_interval(delta, draws, confidence)
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return PairedComparison(delta, interval, math.nan)
    p_value = min(1.0, 2.0 * min(np.mean(finite <= 0.0), np.mean(finite >= 0.0)))
    return PairedComparison(delta, interval, float(p_value))
