"""Per-output rewards that compare one prediction with its own image's label (no batch needed).

Both accept numpy-broadcastable arrays (or scalars). A missing prediction is NaN (what the
batch interface stores for an output whose answer could not be parsed) and gets reward 0, the
floor: below every reward a parsed prediction can earn, so a parse failure is never preferred.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

# Aes-R1 Sec. 4.3 / Appendix C: sigma = 0.1. The released code adds 1e-5 so a far-off prediction
# still earns more than a parse failure.
SIGMA = 0.1
ERROR_EPS = 1e-5
# Q-Insight (the binary reward Aes-R1 Table 2 ablates) accepts |d| < 0.35 on a 1-5 scale, i.e. a
# quarter of 0.35 on our [0, 1] labels.
BINARY_THRESHOLD = 0.35 / 4


def error_reward(pred: ArrayLike, gt: ArrayLike, sigma: float = SIGMA, eps: float = ERROR_EPS) -> np.ndarray:
    """Absolute error reward, Eq. 6 of Aes-R1: ``exp(-0.5 * (|pred - gt| / sigma)**2) + eps``.

    Args:
        pred: predicted scores, any shape; NaN marks a missing prediction (reward 0).
        gt: ground-truth scores, broadcastable against ``pred``.
        sigma: width of the Gaussian kernel (> 0).
        eps: floor added to every parsed prediction (>= 0).

    Returns:
        float64 array of the broadcast shape, values in ``[eps, 1 + eps]`` or 0 for missing.
    """
    if not sigma > 0:
        raise ValueError(f"error_reward: sigma must be > 0, got {sigma}")
    if not eps >= 0:
        raise ValueError(f"error_reward: eps must be >= 0, got {eps}")
    pred, gt = _as_float(pred), _as_float(gt)
    _check_labels(gt, "error_reward")
    reward = np.exp(-0.5 * np.square((pred - gt) / sigma)) + eps  # Eq. 6
    return np.where(np.isnan(pred), 0.0, reward)


def binary_reward(pred: ArrayLike, gt: ArrayLike, threshold: float = BINARY_THRESHOLD) -> np.ndarray:
    """Binary outcome reward, Eq. 13 of Aes-R1: 1 if ``|pred - gt| < threshold`` else 0.

    Args:
        pred: predicted scores, any shape; NaN marks a missing prediction (reward 0).
        gt: ground-truth scores, broadcastable against ``pred``.
        threshold: the tolerance epsilon of Eq. 13 (> 0).
    """
    if not threshold > 0:
        raise ValueError(f"binary_reward: threshold must be > 0, got {threshold}")
    pred, gt = _as_float(pred), _as_float(gt)
    _check_labels(gt, "binary_reward")
    with np.errstate(invalid="ignore"):  # NaN < x is False: a missing prediction earns 0
        return (np.abs(pred - gt) < threshold).astype(np.float64)  # Eq. 13


def _as_float(x: ArrayLike) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _check_labels(gt: np.ndarray, where: str) -> None:
    if not np.all(np.isfinite(gt)):
        raise ValueError(f"{where}: ground truth must be finite, got {gt[~np.isfinite(gt)][:5]} (a label is missing)")
