"""Agreement between predicted scores and human labels (MOS), as IAA papers report it.

Aes-R1 Sec. 4.1 (and Q-Align, pyiqa) report *raw* PLCC and SRCC between the model's scores and the
normalised MOS; that is the headline here. Some IQA papers (DeQA-Score, the VQEG tradition) first map
predictions through a 4-parameter logistic fitted to the labels and report PLCC of the mapped scores;
``plcc_logistic`` offers that as an option and every report names which one it used.

Conventions for all functions: ``pred`` and ``label`` are 1-D float arrays of the same length ``n``.
A correlation is undefined (NaN is returned, never an exception) when ``n < 3`` (two points always
correlate at +-1, which says nothing) or when either side is constant, e.g. a model that answers 0.5
for every image. Mismatched lengths or NaN inputs raise.

Scores are compared as the numbers they are, not as their float spellings: a per-image mean of answers
given to two decimals is 0.7 whether it was computed from two samples (0.7) or three
(0.6999999999999998), and mean([0.6, 0.8]) = 0.7000000000000001 is the same 0.7. ``as_compared``
rounds to ``SCORE_DECIMALS`` places; constancy, ties (SRCC, KRCC) and histogram bins use it.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.optimize
import scipy.stats

# Fewest (prediction, label) pairs a correlation is reported for: with two it is always +-1.
MIN_PAIRS = 3

# Decimal places at which two scores count as equal. Means of K answers with two decimals are
# multiples of 1/(100 K), far apart at 1e-10 for any K a run uses; float error is ~1e-16.
SCORE_DECIMALS = 10

# Fewest pairs the 4-parameter logistic PLCC is reported for. Four free parameters fit noise: on
# uncorrelated scores (mean of 100 seeds) the monotone fit lifts PLCC by +0.15 at n = 10, +0.08 at
# n = 50, +0.06 at n = 100 and +0.04 at n = 300 (the unconstrained fit: +0.46, +0.23, +0.17, +0.10).
MIN_LOGISTIC_PAIRS = 100


def as_compared(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to ``SCORE_DECIMALS`` places: equal numbers get equal floats.

    Args:
        values: any shape, finite floats.
    Returns:
        float64 array of the same shape.
    """
    return np.round(np.asarray(values, dtype=np.float64), SCORE_DECIMALS)


def is_constant(values: np.ndarray) -> bool:
    """True when every value is the same number (at ``SCORE_DECIMALS``), or there are none."""
    compared = as_compared(values)
    return compared.size == 0 or bool(np.ptp(compared) == 0.0)


def _checked_pair(pred: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(pred, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    if pred.ndim != 1 or label.ndim != 1 or pred.shape != label.shape:
        raise ValueError(f"pred and label must be 1-D of equal length, got shapes {pred.shape} and {label.shape}")
    if not (np.isfinite(pred).all() and np.isfinite(label).all()):
        raise ValueError("pred and label must be finite; apply the parse-failure policy before the metrics")
    return pred, label


def _undefined(pred: np.ndarray, label: np.ndarray) -> bool:
    return pred.size < MIN_PAIRS or is_constant(pred) or is_constant(label)


def plcc(pred: np.ndarray, label: np.ndarray) -> float:
    """Pearson linear correlation coefficient in [-1, 1] (raw, no fitting; Aes-R1 Sec. 4.1)."""
    pred, label = _checked_pair(pred, label)
    if _undefined(pred, label):
        return math.nan
    return float(scipy.stats.pearsonr(pred, label).statistic)


def srcc(pred: np.ndarray, label: np.ndarray) -> float:
    """Spearman rank-order correlation in [-1, 1]; ties (``as_compared``) get average ranks (Aes-R1 Sec. 4.1)."""
    pred, label = _checked_pair(pred, label)
    if _undefined(pred, label):
        return math.nan
    return float(scipy.stats.spearmanr(as_compared(pred), as_compared(label)).statistic)


def krcc(pred: np.ndarray, label: np.ndarray) -> float:
    """Kendall rank correlation (tau-b, which accounts for ties, ``as_compared``) in [-1, 1]."""
    pred, label = _checked_pair(pred, label)
    if _undefined(pred, label):
        return math.nan
    return float(scipy.stats.kendalltau(as_compared(pred), as_compared(label)).statistic)


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
    """Least-squares fit of ``logistic4`` mapping ``pred`` onto ``label``, increasing in ``pred``.

    The fit is constrained to beta1 >= beta2 (the curve rises): an unconstrained fit flips a falling
    curve onto an anti-correlated model and reports it as well correlated (raw PLCC -0.83 -> +0.85).
    Returns ``[beta1, beta2, beta3, beta4]`` with beta4 > 0, or None when the fit does not converge
    or the data cannot support it (fewer than ``MIN_LOGISTIC_PAIRS`` points, constant input).
    """
    pred, label = _checked_pair(pred, label)
    if pred.size < MIN_LOGISTIC_PAIRS or _undefined(pred, label):
        return None

    # Fitted as beta1 = beta2 + u**2, so the curve can only rise, and without bounds, so curve_fit keeps
    # its fast Levenberg-Marquardt solver (bounds force "trf", 8x slower on 20K images, same fit).
    def rising(x: np.ndarray, u: float, beta2: float, beta3: float, beta4: float) -> np.ndarray:
        return logistic4(x, beta2 + u * u, beta2, beta3, beta4)

    # The usual starting point: the label range, centred on the predictions.
    start = [math.sqrt(float(np.ptp(label))), float(label.min()), float(np.mean(pred)), float(np.std(pred))]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.optimize.OptimizeWarning)
            (u, beta2, beta3, beta4), _ = scipy.optimize.curve_fit(rising, pred, label, p0=start, maxfev=20000)
    except RuntimeError:  # curve_fit's "optimal parameters not found"
        return None
    rise, beta4 = u * u, abs(beta4)  # logistic4 uses |beta4|: report the positive one
    params = np.array([beta2 + rise, beta2, beta3, beta4])
    return params if np.isfinite(params).all() else None


def plcc_logistic(pred: np.ndarray, label: np.ndarray) -> float:
    """PLCC after the increasing 4-parameter logistic fit (DeQA-style option, never the default).

    NaN when the fit fails or ``n < MIN_LOGISTIC_PAIRS``. When the best increasing map is flat (the
    predictions are not positively related to the labels, so no rising curve beats a constant), the
    identity map is kept and the raw PLCC is returned, so a negative correlation stays negative.
    SRCC is unchanged by any increasing map, so only PLCC has this variant.
    """
    params = fit_logistic4(pred, label)
    if params is None:
        return math.nan
    pred = np.asarray(pred, dtype=np.float64)
    mapped = logistic4(pred, *params)
    return plcc(pred if is_constant(mapped) else mapped, label)


METRICS = {"plcc": plcc, "srcc": srcc, "krcc": krcc, "mae": mae, "plcc_logistic": plcc_logistic}
"""Every metric by the name used in reports and on the command line."""


def metric_by_name(name: str):
    """Look a metric up by its report name; an unknown name fails and lists the valid ones."""
    try:
        return METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; valid: {sorted(METRICS)}") from None
