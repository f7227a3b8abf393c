"""RED-Aes relative ranking consistency reward (Sec. 3.2.3, Eq. 6 of red-aes-paper.md).

Each image serves as an anchor: output ``k`` of image ``i`` is compared with the mean prediction
``mu_j`` of every other image of the group, and the direction of ``o_ik - mu_j`` is scored against
the direction of the ground-truth difference ``d_ij = s_i - s_j`` by a soft Kendall concordance
``kappa = sigmoid(sign(d_ij) * (o_ik - mu_j) / tau)``, weighted by a gap-aware weight.

Our copy of the paper keeps the prose of Eq. 6 but not its symbols, so the weight is our reading
of it: ``w_ij = |d_ij|`` "emphasises pairs with large aesthetic differences while suppressing
near-ties" (a tie weighs exactly 0), and the reward is the weighted mean
``r_ik = sum_j w_ij kappa_ikj / sum_j w_ij`` so it stays in [0, 1] whatever the group's label spread.
The temperature value of the paper did not survive either; ``TAU`` is our choice (see below).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import ArrayLike

from reward_fns.batch import (
    as_batch,
    comparison_weights,
    group_stats,
    label_order,
    pairwise_average,
)

# A prediction 0.1 above a lower-rated image's mean (a typical label gap on [0, 1]) scores
# sigmoid(1) = 0.73; 0.3 above scores 0.95.
TAU = 0.1


def consistency_reward(preds: ArrayLike, valid: ArrayLike, gt: ArrayLike, tau: float = TAU) -> np.ndarray:
    """Relative ranking consistency reward (RED-Aes Eq. 6, as read above).

    Args:
        preds: (N, K) predicted scores; entries where ``valid`` is False are ignored. A (G, N, K)
            stack is G independent groups (each image compared within its own group only).
        valid: (N, K) bool, False for unparseable outputs and padding; same shape as ``preds``.
        gt: (N,) ground-truth scores (or any scores whose differences are the relative labels); (G, N) for a stack.
        tau: temperature of the soft concordance (> 0).

    Returns:
        ``preds``'s shape, float64, in [0, 1]; 0 for invalid outputs and for images whose comparable partners
        all tie with them (total weight 0). Missing-prediction policy: see ``reward_fns.batch``.
    """
    if not tau > 0:
        raise ValueError(f"consistency_reward: tau must be > 0, got {tau}")
    batch = as_batch(preds, valid, gt, "consistency_reward")
    stats = group_stats(batch, ddof=1)
    labels = torch.from_numpy(batch.gt)
    gap = (labels[..., :, None] - labels[..., None, :]).abs_().float() * (comparison_weights(stats) > 0)  # gap-aware weight
    weights = gap / gap.sum(dim=-1, keepdim=True).clamp_(min=torch.finfo(torch.float32).tiny)
    reward = pairwise_average(batch.preds, stats.mean, label_order(batch.gt) / tau, weights, _capped_sigmoid)
    return np.where(batch.valid, reward, 0.0)


# sigmoid(-80) = 1.8e-35 is still a normal float32; beyond it results turn denormal (~100x slower
# arithmetic on x86) while changing the reward by less than 2e-35.
SIGMOID_CAP = 80.0


def _capped_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return x.clamp_(-SIGMOID_CAP, SIGMOID_CAP).sigmoid_()
