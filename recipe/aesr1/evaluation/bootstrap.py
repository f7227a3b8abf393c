"""Bootstrap confidence intervals for the metrics, and a paired test between two checkpoints.

The paper reports point estimates only. Its test sets are small (PARA/AADB splits of a few hundred
images, ~250 in the quick configurations), so a difference of 0.01 PLCC between two checkpoints is
often noise; these intervals say how much.

Resampling is over images, with replacement, paired (an image keeps its prediction and its label),
percentile intervals, seeded with ``numpy.random.default_rng(seed)`` so a report is reproducible.
Resamples on which a metric is undefined (e.g. all-equal predictions) are left out and counted.

The paired test's p-value counts the observed data as one of the resamples (the usual Monte Carlo
p-value, Davison & Hinkley 1997, ch. 4: (1 + #{extreme draws}) / (B + 1) per tail), so with B
resamples it is never below 2 / (B + 1): a bootstrap cannot show p = 0. Below ``MIN_PAIRED_IMAGES``
common images no test is made.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95

MIN_PAIRED_IMAGES = 30
"""Fewest common images a paired test is made on. With a handful of images the resamples repeat the
same few points and the p-value says nothing (3 common images: p = 0.93 in one check, 0 in another)."""


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
    """metric(A) - metric(B) on the same images, its interval, and a two-sided bootstrap p-value.

    ``metric_a``/``metric_b`` are each checkpoint's metric on these images; ``n_images`` their number.
    ``p_value`` is NaN when no test was made (fewer than ``min_images`` images, or no valid resample).
    """

    delta: float
    interval: BootstrapInterval
    p_value: float
    metric_a: float = math.nan
    metric_b: float = math.nan
    n_images: int = 0

    @property
    def p_floor(self) -> float:
        """The smallest p-value these resamples can give, 2 / (B + 1)."""
        return 2.0 / (self.interval.n_valid + 1) if self.interval.n_valid else math.nan


def format_p_value(p_value: float, n_valid: int) -> str:
    """``p`` for reports: three decimals, ``< 0.001`` below that; at the floor 2/(B+1), ``<= floor``."""
    if math.isnan(p_value):
        return "-"
    if n_valid and p_value <= 2.0 / (n_valid + 1):
        return f"<= {2.0 / (n_valid + 1):.2g}"
    return "< 0.001" if p_value < 0.001 else f"{p_value:.3f}"


def check_bootstrap_settings(n_resamples: int, confidence: float) -> None:
    """Raise unless ``n_resamples >= 1`` and ``0 < confidence < 1``."""
    if not isinstance(n_resamples, numbers.Integral) or n_resamples < 1:
        raise ValueError(f"n_resamples must be an integer >= 1, got {n_resamples!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")


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
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> BootstrapInterval:
    """Percentile bootstrap interval of ``metric(pred, label)``; NaN bounds for fewer than 2 images."""
    check_bootstrap_settings(n_resamples, confidence)
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
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
    min_images: int = MIN_PAIRED_IMAGES,
) -> PairedComparison:
    """Is checkpoint A better than B on these images? Both are scored on the same resampled images.

    The p-value is two-sided: twice the smaller tail share of the resampled deltas on either side of
    zero, each tail counted as (1 + k) / (B + 1) (capped at 1), i.e. the bootstrap test of
    H0: delta = 0. With fewer than ``min_images`` images only the point values are returned.
    """
    check_bootstrap_settings(n_resamples, confidence)
    pred_a = np.asarray(pred_a, dtype=np.float64)
    pred_b = np.asarray(pred_b, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    if not pred_a.shape == pred_b.shape == label.shape:
        raise ValueError(f"paired test needs the same images: shapes {pred_a.shape}, {pred_b.shape}, {label.shape}")
    metric_a, metric_b = metric(pred_a, label), metric(pred_b, label)
    delta = metric_a - metric_b
    points = {"metric_a": metric_a, "metric_b": metric_b, "n_images": int(label.size)}
    if label.size < max(2, min_images):
        empty = BootstrapInterval(delta, math.nan, math.nan, confidence, 0, 0)
        return PairedComparison(delta, empty, math.nan, **points)
    draws = np.array(
        [
            metric(pred_a[idx], label[idx]) - metric(pred_b[idx], label[idx])
            for idx in resample_indices(label.size, n_resamples, seed)
        ]
    )
    interval = _percentile_interval(delta, draws, confidence)
    finite = draws[np.isfinite(draws)]
    if finite.size == 0:
        return PairedComparison(delta, interval, math.nan, **points)
    tail = min(np.sum(finite <= 0.0), np.sum(finite >= 0.0))
    p_value = min(1.0, 2.0 * (1.0 + tail) / (finite.size + 1.0))
    return PairedComparison(delta, interval, float(p_value), **points)
