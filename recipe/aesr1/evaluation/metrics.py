"""Agreement between predicted scores and human labels (MOS), as IAA papers report it.

Aes-R1 Sec. 4.1 (and Q-Align, pyiqa) report *raw* PLCC and SRCC between the model's scores and the
normalised MOS; that is the headline here. Some IQA papers (DeQA-Score, the VQEG tradition) first map
predictions through a 4-parameter logistic fitted to the labels and report PLCC of the mapped scores;
``plcc_logistic`` offers that as an option and every report names which one it used.

Conventions for all functions: ``pred`` and ``label`` are 1-D float arrays of the same length ``n``.
A correlation is undefined (NaN is returned, never an exception) when ``n < 3`` (two points always
correlate at +-1, which says nothing) or when either side is constant, e.g. a model that answers 0.5
for every image. Mismatched lengths or NaN inputs raise.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.optimize
import scipy.stats

# Fewest (prediction, label) pairs a correlation is reported for: with two it is always +-1.
MIN_PAIRS = 3


def _checked_pair(pred: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    if pred.ndim != 1 or label.ndim != 1 or pred.shape != label.shape:
        raise ValueError(f"pred and label must be 1-D of equal length, got shapes {pred.shape} and {label.shape}")
    if not (np.isfinite(pred).all() and np.isfinite(label).all()):
        raise ValueError("pred and label must be finite; apply the parse-failure policy before the metrics")
    return pred, label


def _undefined(pred: np.ndarray, label: np.ndarray) -> bool:
    return pred.size < MIN_PAIRS or np.ptp(pred) == 0.0 or np.ptp(label) == 0.0


def plcc(pred: np.ndarray, label: np.ndarray) -> float:
    """Pearson linear correlation coefficient in [-1, 1] (raw, no fitting; Aes-R1 Sec. 4.1)."""
    pred, label = _checked_pair(pred, label)
    if _undefined(pred, label):
        return math.nan
    return float(scipy.stats.pearsonr(pred, label).statistic)


def srcc(pred: np.ndarray, label: np.ndarray) -> float:
    """Spearman rank-order correlation in [-1, 1]; ties get average ranks (Aes-R1 Sec. 4.1)."""
    pred, label = _checked_pair(pred, label)
    if _undefined(pred, label):
        return math.nan
    return float(scipy.stats.spearmanr(pred, label).statistic)


def krcc(pred: np.ndarray, label: np.ndarray) -> float:
    """Kendall rank correlation (tau-b, which accounts for ties) in [-1, 1]."""
    pred, label = _checked_pair(pred, label)
    if _undefined(pred, label):
        return math.nan
    return float(scipy.stats.kendalltau(pred, label).statistic)


def mae(pred: np.ndarray, label: np.ndarray) -> float:
    """Mean absolute error on the [0, 1] score scale; NaN for empty input."""
    pred, label = _checked_pair(pred, label)
    if pred.size == 0:
        return math.nan
    return float(np.mean(np.abs(pred - label)))


def logistic4(x: np.ndarray, beta1: float, beta2: float, beta3: float, beta4: float) -> np.ndarray:
    """The 4-parameter logistic of the VQEG protocol used by DeQA-Score before PLCC.

    f(x) = (beta1 - beta2) / (1 + exp(-(x - beta3) / |beta4|)) + beta2, rising from beta2 to beta1
    with midpoint beta3 and slope scale |beta4|.
    """
    z = np.clip(-(np.asarray(x, dtype=np.float64) - beta3) / abs(beta4), -500.0, 500.0)
    return (beta1 - beta2) / (1.0 + np.exp(z)) + beta2


def fit_logistic4(pred: np.ndarray, label: np.ndarray) -> np.ndarray | None:
    """Least-squares fit of ``logistic4`` mapping ``pred`` onto ``label``.

    Returns the parameters ``[beta1, beta2, beta3, beta4]``, or None when the fit does not converge
    or the data cannot support it (fewer than 4 points, constant input).
    """
    pred, label = _checked_pair(pred, label)
    if pred.size < 4 or _undefined(pred, label):
        return None
    # The usual starting point: the label range, centred on the predictions.
    start = [label.max(), label.min(), float(np.mean(pred)), float(np.std(pred)) or 1.0]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.optimize.OptimizeWarning)
            params, _ = scipy.optimize.curve_fit(logistic4, pred, label, p0=start, maxfev=20000)
    except RuntimeError:  # curve_fit's "optimal parameters not found"
        return None
    return params if np.isfinite(params).all() else None


def plcc_logistic(pred: np.ndarray, label: np.ndarray) -> float:
    """PLCC after the 4-parameter logistic fit (DeQA-style option, never the default).

    NaN when the fit fails. SRCC is unchanged by any increasing map, so only PLCC has this variant.
    """
    params = fit_logistic4(pred, label)
    if params is None:
        return math.nan
    return plcc(logistic4(np.asarray(pred, dtype=np.float64), *params), label)


METRICS = {"plcc": plcc, "srcc": srcc, "krcc": krcc, "mae": mae, "plcc_logistic": plcc_logistic}
"""Every metric by the name used in reports and on the command line."""


def metric_by_name(name: str):
    """Look a metric up by its report name; an unknown name fails and lists the valid ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; valid: {sorted(METRICS)}") from None
