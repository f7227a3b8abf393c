"""Relative rank rewards over a batch of images: Aes-R1's FRank fidelity (Eqs. 3-5) and the
Thurstone fidelity reward of VisualQuality-R1, which differs only in ties and two epsilons.

Scope: every image of ``preds`` is compared with every other one. To compare within groups instead
(what the released Aes-R1 code does: one device's micro-batch of 8 images), pass a (G, N, K) stack
of groups, or let ``compute_rewards(..., groups=...)`` build the stacks from one group id per image.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numpy.typing import ArrayLike

from reward_fns.batch import (
    GroupStats,
    as_batch,
    comparison_weights,
    group_stats,
    label_order,
    pairwise_average,
)

# "A small positive constant to avoid division-by-zero" (Eq. 3); the released code uses 1e-6.
GAMMA = 1e-6
# Eq. 5 sets p_c = 1 when s_i >= s_j, so a tied pair counts as "i preferred" from both sides.
AES_R1_TIE = 1.0
# VisualQuality-R1 gives a tied pair p_c = 0.5 and adds 1e-6 inside both square roots of Eq. 4.
THURSTONE_TIE = 0.5
THURSTONE_FIDELITY_EPS = 1e-6
# erfc(9) = 4.1e-37, the last float32 value above the denormal range; capping there changes a
# reward by less than sqrt(erfc(9) / 2) = 5e-19.
ERFC_CAP = 9.0


def rank_reward(
    preds: ArrayLike,
    valid: ArrayLike,
    gt: ArrayLike,
    gamma: float = GAMMA,
    tie: float = AES_R1_TIE,
    ddof: int = 1,
    fidelity_eps: float = 0.0,
) -> np.ndarray:
    """Relative rank reward of Aes-R1, Eqs. 3-5, for every output of every image of the batch.

    For output ``k`` of image ``i`` and every other comparable image ``j``:
    ``p = Phi((o_ik - mu_j) / sqrt(sigma_i^2 + sigma_j^2 + gamma))`` (Eq. 3),
    ``p_c = 1 if s_i > s_j, tie if s_i == s_j, 0 if s_i < s_j`` (Eq. 5, ``tie=1`` is its ``>=``),
    ``r = mean_j sqrt(p_c p + e) + sqrt((1 - p_c)(1 - p) + e)`` (Eq. 4, ``e = fidelity_eps``).

    Args:
        preds: (N, K) predicted scores; entries where ``valid`` is False are ignored. A (G, N, K)
            stack is G independent batches (``j`` runs over the images of ``i``'s batch only).
        valid: (N, K) bool, False for unparseable outputs and padding; same shape as ``preds``.
        gt: (N,) ground-truth scores; (G, N) for a stack.
        gamma: added to the variance sum of Eq. 3 (> 0 unless every image has spread).
        tie: p_c of a tied pair, in [0, 1].
        ddof: delta degrees of freedom of the variance over an image's valid outputs.
        fidelity_eps: added inside each square root of Eq. 4 (0 in the paper, 1e-6 in peers' code).

    Returns:
        ``preds``'s shape, float64, in [0, 1] for ``fidelity_eps = 0``; 0 for invalid outputs and for images
        with nothing to compare with. Missing-prediction policy: see ``reward_fns.batch``.
    """
    if not gamma >= 0:
        raise ValueError(f"rank_reward: gamma must be >= 0, got {gamma}")
    if not 0.0 <= tie <= 1.0:
        raise ValueError(f"rank_reward: tie must be in [0, 1], got {tie}")
    if not fidelity_eps >= 0:
        raise ValueError(f"rank_reward: fidelity_eps must be >= 0, got {fidelity_eps}")
    batch = as_batch(preds, valid, gt, "rank_reward")
    stats = group_stats(batch, ddof)
    order = label_order(batch.gt)
    average = comparison_weights(stats)
    var = torch.from_numpy(stats.var).float()
    inv_scale = torch.rsqrt(var[..., :, None] + var[..., None, :] + gamma)  # Eq. 3
    ties = order == 0
    soft = ties & (0.0 < tie < 1.0)  # tied pairs whose p_c is neither 0 nor 1 need both roots of Eq. 4
    hard = average.masked_fill(soft, 0.0)
    order.masked_fill_(ties, 1.0 if tie >= 0.5 else -1.0)  # Eq. 5: p_c = 1 (tie = 1, its ">=") or 0 (tie = 0)

    # With p_c in {0, 1}, Eq. 4 is sqrt(Phi(+-z) + e) + sqrt(e), and Phi(x) = erfc(-x / sqrt 2) / 2.
    # Arguments are capped at ERFC_CAP: beyond it erfc underflows to float32 denormals, whose
    # arithmetic is ~100x slower on x86 (a converged policy's tiny spreads hit this every step).
    eps = float(fidelity_eps)
    scale = inv_scale.mul_(order.mul_(-1.0 / math.sqrt(2.0)))
    if eps == 0.0:  # sqrt(erfc / 2) = sqrt(erfc) / sqrt 2: fold the constant into the weights
        reward = pairwise_average(batch.preds, stats.mean, scale, hard / math.sqrt(2.0), lambda x: x.clamp_(max=ERFC_CAP).erfc_().sqrt_())
    else:
        reward = pairwise_average(batch.preds, stats.mean, scale, hard, lambda x: x.clamp_(max=ERFC_CAP).erfc_().mul_(0.5).add_(eps).sqrt_())
        reward += math.sqrt(eps) * hard.sum(dim=-1, keepdim=True).double().numpy()
    if bool(soft.any()):
        soft_weights = average.masked_fill(~soft, 0.0).double().numpy()
        reward += _soft_target_terms(batch.preds, stats, gamma, soft_weights, tie, eps)
    return np.where(batch.valid, reward, 0.0)


def thurstone_reward(preds: ArrayLike, valid: ArrayLike, gt: ArrayLike, gamma: float = GAMMA, ddof: int = 1) -> np.ndarray:
    """VisualQuality-R1's Thurstone fidelity reward: Eqs. 3-5 with p_c = 0.5 for ties and 1e-6 inside Eq. 4's roots.

    Same batch interface, shapes and missing-prediction policy as :func:`rank_reward`; values in
    [2e-3, 1 + 2e-3] for valid outputs.
    """
    return rank_reward(preds, valid, gt, gamma=gamma, tie=THURSTONE_TIE, ddof=ddof, fidelity_eps=THURSTONE_FIDELITY_EPS)


def _soft_target_terms(
    preds: np.ndarray, stats: GroupStats, gamma: float, weights: np.ndarray, tie: float, eps: float
) -> np.ndarray:
    """Eq. 4 on the (usually few) pairs with 0 < p_c < 1, where both square roots are needed.

    Shapes as in :func:`rank_reward`: preds (..., N, K), weights (..., N, N); leading dims are batches.
    """
    *batch, rows, cols = np.nonzero(weights)
    i, j = (*batch, rows), (*batch, cols)
    z = (preds[i] - stats.mean[j][:, None]) / np.sqrt(stats.var[i] + stats.var[j] + gamma)[:, None]  # Eq. 3
    p = torch.special.ndtr(torch.from_numpy(z)).numpy()
    fidelity = np.sqrt(tie * p + eps) + np.sqrt((1.0 - tie) * (1.0 - p) + eps)  # Eq. 4
    out = np.zeros_like(preds)
    np.add.at(out, i, weights[(*batch, rows, cols)][:, None] * fidelity)
    return out
