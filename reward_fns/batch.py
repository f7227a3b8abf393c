"""The batch interface shared by the cross-image rewards, and the statistics they all need.

A batch is ``N`` images with up to ``K`` outputs each: ``preds`` (N, K) float, ``valid`` (N, K) bool
(False for an output whose answer did not parse, and for padding when images have fewer than K
outputs), ``gt`` (N,) labels. Invalid entries of ``preds`` may hold anything (NaN usually).

A stack of ``G`` independent batches of the same size, ``preds`` (G, N, K), ``valid`` (G, N, K) and
``gt`` (G, N), is accepted everywhere: an image is compared only with the images of its own batch.
This is how ``compute_rewards(..., groups=...)`` evaluates every comparison group of one size in a
single call (any leading dimensions work; the last two are always images and outputs).

Missing predictions, decided once for every batch reward:
* an invalid output earns 0, the floor of every term;
* an image's mean ``mu`` and variance ``sigma^2`` come from its valid outputs only; with a single valid
  output (or fewer than ``ddof + 1``) its variance is 0 (``gamma`` keeps Eq. 3 finite);
* an image with no valid output cannot be compared with: it is left out of every other image's
  average over ``j != i`` (the average runs over the images that remain);
* an image with nobody left to compare with earns 0 from the batch term (no information).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Batch:
    """A validated (N, K) batch; ``preds`` has 0 wherever ``valid`` is False."""

    preds: np.ndarray  # (N, K) float64
    valid: np.ndarray  # (N, K) bool
    gt: np.ndarray  # (N,) float64


def as_batch(preds: ArrayLike, valid: ArrayLike, gt: ArrayLike, where: str) -> Batch:
    """Check shapes and values and return clean float64/bool arrays, or raise ValueError saying what is wrong.

    Shapes: ``preds``/``valid`` (..., N, K) and ``gt`` (..., N); leading dimensions stack independent batches.
    """
    preds = np.asarray(preds, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    gt = np.asarray(gt, dtype=np.float64)
    if preds.ndim < 2:
        raise ValueError(f"{where}: preds must be (N images, K outputs), got shape {preds.shape}")
    if valid.shape != preds.shape:
        raise ValueError(f"{where}: valid has shape {valid.shape}, preds has {preds.shape}; they must match")
    if gt.shape != preds.shape[:-1]:
        raise ValueError(f"{where}: gt must have shape {preds.shape[:-1]}, one label per image, got {gt.shape}")
    if not np.all(np.isfinite(gt)):
        raise ValueError(f"{where}: ground truth must be finite; images {np.flatnonzero(~np.isfinite(gt))[:5]} are not")
    valid = valid & np.isfinite(preds)  # a NaN marked valid is still not a prediction
    return Batch(np.where(valid, preds, 0.0), valid, gt)


@dataclass(frozen=True)
class GroupStats:
    """Per-image statistics of the valid predictions (Eq. 3: mu_j and sigma_j^2)."""

    mean: np.ndarray  # (..., N) float64, 0 where no valid output
    var: np.ndarray  # (..., N) float64, 0 where fewer than ddof + 1 valid outputs
    count: np.ndarray  # (..., N) int, number of valid outputs

    @property
    def comparable(self) -> np.ndarray:
        """(..., N) bool: images with at least one valid output, which others can be compared with."""
        return self.count > 0


def group_stats(batch: Batch, ddof: int = 1) -> GroupStats:
    """Mean and variance (with ``ddof``, 1 = unbiased as in the released code) over each image's valid outputs."""
    count = batch.valid.sum(axis=-1)
    mean = batch.preds.sum(axis=-1) / np.maximum(count, 1)
    centred = np.where(batch.valid, batch.preds - mean[..., None], 0.0)
    denom = count - ddof
    var = np.where(denom > 0, np.square(centred).sum(axis=-1) / np.maximum(denom, 1), 0.0)
    return GroupStats(mean, var, count)


def comparison_weights(stats: GroupStats) -> torch.Tensor:
    """(..., N, N) float32 weights that average over the comparable ``j != i`` (rows with none are all 0)."""
    n = stats.count.shape[-1]
    allowed = torch.from_numpy(stats.comparable)[..., None, :] & ~torch.eye(n, dtype=torch.bool)
    per_row = allowed.sum(dim=-1, keepdim=True).clamp_(min=1)
    return allowed.float().div_(per_row)


def label_order(gt: np.ndarray) -> torch.Tensor:
    """(..., N, N) float32 ``sign(s_i - s_j)``: +1 where image i is rated higher, 0 for ties."""
    labels = torch.from_numpy(gt)
    return torch.sign(labels[..., :, None] - labels[..., None, :]).float()  # compared in float64: no false ties


# Rows of images processed at once: bounds the (rows, K, N) float32 buffer to ~64 MB at N = 4096.
_ROW_CHUNK = 1024


def pairwise_average(
    preds: np.ndarray,
    mean: np.ndarray,
    scale: torch.Tensor,
    weights: torch.Tensor,
    link: Callable[[torch.Tensor], torch.Tensor],
) -> np.ndarray:
    """``out[i, k] = sum_j weights[i, j] * link((preds[i, k] - mean[j]) * scale[i, j])``, vectorised.

    The O(N^2 K) core of every cross-image reward. It runs in float32 torch (single-precision
    ``erfc``/``sigmoid`` are several times faster than float64 ones; rewards need ~1e-6, not 1e-15),
    chunked over rows to bound memory, and never loops over pairs in Python.

    Args:
        preds: (..., N, K) predictions. mean: (..., N) comparator means mu_j.
        scale: (..., N, N) float32 factor applied to each difference. weights: (..., N, N) float32
            averaging weights. Leading dimensions are independent batches (``j`` runs within one).
        link: elementwise torch function of the scaled differences; it may (and should, for speed)
            work in place on its argument, a fresh buffer.
    Returns:
        (..., N, K) float64.
    """
    shape = preds.shape
    n, k = shape[-2:]
    o = torch.from_numpy(np.ascontiguousarray(preds, dtype=np.float32)).reshape(-1, k)
    mu = torch.from_numpy(np.ascontiguousarray(mean, dtype=np.float32))
    # Stacked batches become one (rows, N) problem: each row carries the comparator columns of its own batch.
    neg_shift = (mu[..., None, :] * -scale).reshape(-1, n)  # -mu_j * scale_ij
    scale, weights = scale.reshape(-1, n), weights.reshape(-1, n)
    out = torch.empty((o.shape[0], k), dtype=torch.float32)
    for start in range(0, o.shape[0], _ROW_CHUNK):
        rows = slice(start, min(start + _ROW_CHUNK, o.shape[0]))
        arg = torch.addcmul(neg_shift[rows, None, :], o[rows, :, None], scale[rows, None, :])
        out[rows] = link(arg).mul_(weights[rows, None, :]).sum(dim=-1)
    return out.double().numpy().reshape(shape)
