"""One simulated GRPO run: sample K scores per image, reward them, GRPO advantages, policy-gradient step."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

from recipe.aesr1.evaluation import metrics as eval_metrics
from recipe.aesr1.rapo.scope import ComparisonScope
from recipe.aesr1.reward_bench.policy import (
    FeaturePolicy,
    TabularPolicy,
    noisy_features,
)
from reward_fns import RewardSpec, compute_rewards


@dataclass(frozen=True)
class BenchSettings:
    """Knobs of a simulated run (the YAML ``configs/reward_bench.yaml`` documents each)."""

    k: int = 4
    batch_images: int = 32
    rank_group_size: int | None = None
    steps: int = 1000
    lr: float = 0.01
    parse_failure_rate: float = 0.02
    round_decimals: int | None = 2
    policy: str = "tabular"
    init_mean: float = 0.75
    init_slope: float = 0.3
    init_noise: float = 0.1
    init_std: float = 0.15
    feature_dim: int = 16
    feature_signal: float = 1.5
    eval_every: int = 20


@dataclass
class RunResult:
    design: str
    seed: int
    metrics: dict[str, float]
    curve: dict[str, list[float]] = field(default_factory=dict)
    predictions: np.ndarray | None = None
    labels: np.ndarray | None = None


def correlations(pred: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(PLCC, SRCC) of the evaluation's own metrics; NaN when the predictions are constant (undefined, not zero)
    or not finite (a diverged policy)."""
    if not np.isfinite(pred).all():
        return float("nan"), float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return eval_metrics.plcc(pred, labels), eval_metrics.srcc(pred, labels)


def batch_rewards(spec: RewardSpec, preds: np.ndarray, valid: np.ndarray, gt: np.ndarray, group_size: int | None) -> np.ndarray:
    """(N, K) per-output rewards; the cross-image terms compare within the training hook's scope.

    ``group_size`` is ``rapo.rank_group_size`` (None: the whole batch). The images' ids are their
    positions, so the hook's chunks of sorted uids are runs of consecutive images here (the batch is
    already in random order, as verl's uuid4 uids are).
    """
    groups = ComparisonScope(rank_group_size=group_size).group_ids(range(len(gt)))
    return compute_rewards(spec, preds, valid, gt, groups=groups).total


def simulate(spec: RewardSpec, train: np.ndarray, test: np.ndarray, settings: BenchSettings, seed: int) -> RunResult:
    """Train a policy on ``train`` labels under reward ``spec``; evaluate on ``test`` (feature policy)
    or on the training images themselves (tabular policy, which cannot generalise)."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    if settings.policy == "tabular":
        policy = TabularPolicy(train, settings.init_mean, settings.init_slope, settings.init_noise, settings.init_std, seed)
        eval_idx, eval_labels = np.arange(train.size), train
    elif settings.policy == "features":
        labels = np.concatenate([train, test])
        policy = FeaturePolicy(noisy_features(labels, settings.feature_dim, settings.feature_signal, seed), settings.init_mean, settings.init_std)
        eval_idx, eval_labels = np.arange(train.size, labels.size), test
    else:
        raise ValueError(f"policy must be 'tabular' or 'features', got {settings.policy!r}")
    optimizer = torch.optim.Adam(policy.parameters(), lr=settings.lr)
    k, n = settings.k, min(settings.batch_images, train.size)
    curve: dict[str, list[float]] = {"step": [], "plcc": [], "srcc": [], "reward": [], "invalid": []}
    order, cursor, rewards_seen, invalid_seen = rng.permutation(train.size), 0, [], []

    def evaluate(step: int) -> None:
        with torch.no_grad():
            pred = policy(eval_idx)[0].clamp(0.0, 1.0).numpy()
        plcc, srcc = correlations(pred, eval_labels)
        curve["step"].append(step)
        curve["plcc"].append(plcc)
        curve["srcc"].append(srcc)
        curve["reward"].append(float(np.mean(rewards_seen[-settings.eval_every:])) if rewards_seen else float("nan"))
        curve["invalid"].append(float(np.mean(invalid_seen[-settings.eval_every:])) if invalid_seen else float("nan"))

    evaluate(0)
    for step in range(1, settings.steps + 1):
        if cursor + n > train.size:  # new epoch
            order, cursor = rng.permutation(train.size), 0
        idx = order[cursor : cursor + n]
        cursor += n
        mean, std = policy(idx)
        with torch.no_grad():
            samples = (mean[:, None] + std[:, None] * torch.randn(n, k, dtype=torch.float64)).numpy()
        answers = np.round(samples, settings.round_decimals) if settings.round_decimals is not None else samples
        parse_failed = rng.uniform(size=(n, k)) < settings.parse_failure_rate
        valid = ~parse_failed & (answers >= 0.0) & (answers <= 1.0)  # out of [0, 1] does not parse
        reward = batch_rewards(spec, answers, valid, train[idx], settings.rank_group_size)
        advantage, _ = compute_grpo_outcome_advantage(
            torch.from_numpy(reward.reshape(-1, 1)), torch.ones(n * k, 1), np.repeat(idx, k)
        )
        log_prob = torch.distributions.Normal(mean[:, None], std[:, None]).log_prob(torch.from_numpy(samples))
        # A simulated parse failure happens whatever the sampled score: it carries no gradient.
        weight = torch.from_numpy(~parse_failed).double()
        loss = -(advantage.reshape(n, k) * log_prob * weight).sum() / (n * k)  # Eq. 10 with one token per answer
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        rewards_seen.append(float(reward.mean()))
        invalid_seen.append(float(1.0 - valid.mean()))
        if step % settings.eval_every == 0 or step == settings.steps:
            evaluate(step)

    with torch.no_grad():
        pred = policy(eval_idx)[0].clamp(0.0, 1.0).numpy()
    plcc, srcc = correlations(pred, eval_labels)
    metrics = {
        "plcc": plcc,
        "srcc": srcc,
        "pred_mean": float(pred.mean()),
        "pred_std": float(pred.std()),
        "label_mean": float(eval_labels.mean()),
        "label_std": float(eval_labels.std()),
        "mae": float(np.abs(pred - eval_labels).mean()),
        "invalid_rate": float(np.mean(invalid_seen[-settings.eval_every:])),
    }
    return RunResult(spec.name, seed, metrics, curve, pred, eval_labels)
