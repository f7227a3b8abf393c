"""Gaussian score policies for the reward bench: a stand-in for the VLM's distribution over answers."""

from __future__ import annotations

import math

import numpy as np
import torch


class TabularPolicy(torch.nn.Module):
    """A free mean and log-spread per image: ``o ~ N(mean_i, std_i^2)``.

    The initial means mimic a vanilla VLM (Aes-R1 Fig. 5: inflated scores with weak ordering):
    ``init_mean + init_slope * (label - label mean) + init_noise * N(0, 1)``.
    """

    def __init__(self, labels: np.ndarray, init_mean: float, init_slope: float, init_noise: float, init_std: float, seed: int):
        super().__init__()
        rng = np.random.default_rng(seed)
        prior = init_mean + init_slope * (labels - labels.mean()) + init_noise * rng.standard_normal(labels.size)
        self.mean = torch.nn.Parameter(torch.tensor(prior, dtype=torch.float64))
        self.log_std = torch.nn.Parameter(torch.full((labels.size,), math.log(init_std), dtype=torch.float64))

    def forward(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.from_numpy(idx)
        return self.mean[index], self.log_std[index].exp()


class FeaturePolicy(torch.nn.Module):
    """``mean_i = b + w . x_i`` over noisy image features, one shared log-spread.

    Features carry the label only through ``signal * z_i * u + N(0, I)`` (``z`` the standardised
    label, ``u`` a random unit direction), so means learned on training images transfer to unseen
    ones only as far as the features allow: the generalisation side of Table 2's out-of-domain columns.
    """

    def __init__(self, features: np.ndarray, init_mean: float, init_std: float):
        super().__init__()
        self.features = torch.tensor(features, dtype=torch.float64)
        self.weight = torch.nn.Parameter(torch.zeros(features.shape[1], dtype=torch.float64))
        self.bias = torch.nn.Parameter(torch.tensor(init_mean, dtype=torch.float64))
        self.log_std = torch.nn.Parameter(torch.tensor(math.log(init_std), dtype=torch.float64))

    def forward(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.bias + self.features[torch.from_numpy(idx)] @ self.weight
        return mean, self.log_std.exp().expand_as(mean)


def noisy_features(labels: np.ndarray, dim: int, signal: float, seed: int) -> np.ndarray:
    """(n, dim) features whose only link to the label is ``signal * z * u`` under unit noise."""
    rng = np.random.default_rng(seed)
    direction = rng.standard_normal(dim)
    direction /= np.linalg.norm(direction)
    z = (labels - labels.mean()) / labels.std()
    return signal * z[:, None] * direction[None, :] + rng.standard_normal((labels.size, dim))
