"""Per-step training metrics of RAPO, logged through verl's logger under ``rapo/``.

What they answer: is the model still answering in the right format (parse-failure rate), is its
score distribution drifting away from the labels' (prediction vs label mean/std), does it order and
calibrate the batch (PLCC/SRCC of predictions vs labels), how much each reward term pays, and how
long the answers are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from recipe.aesr1.evaluation.metrics import plcc, srcc

PREFIX = "rapo"


def plcc_srcc(pred: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """PLCC and SRCC of the evaluation's own metrics (NaN under 3 points or when either side is constant)."""
    return plcc(pred, label), srcc(pred, label)


def rapo_step_metrics(
    uids: Sequence[Hashable],
    preds: Sequence[float],
    gt: Sequence[float],
    term_values: Mapping[str, Sequence[float]],
    total_reward: Sequence[float],
    response_lengths: Sequence[int],
) -> dict[str, float]:
    """Metrics of one training batch of M outputs.

    Args:
        uids: (M,) image id per output; label statistics count each image once.
        preds: (M,) parsed score per output, NaN where the answer did not parse.
        gt: (M,) label per output.
        term_values: term -> (M,) unweighted value of each reward term (per-sample and batch terms).
        total_reward: (M,) final reward of each output (what the advantage sees).
        response_lengths: (M,) response tokens per output.

    Returns:
        ``rapo/reward/<term>/mean``, ``rapo/reward/total/mean``, ``rapo/parse_failure_rate``,
        ``rapo/pred/{mean,std}`` (parsed outputs), ``rapo/label/{mean,std}`` (one per image),
        ``rapo/batch_plcc``, ``rapo/batch_srcc`` (parsed outputs vs their labels, NaN when undefined),
        ``rapo/response_length/mean``.
    """
    preds = np.asarray(preds, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if preds.shape != gt.shape or preds.shape != (len(uids),):
        raise ValueError(f"rapo_step_metrics: {len(uids)} uids, {preds.shape} preds, {gt.shape} labels")
    if preds.size == 0:
        raise ValueError("rapo_step_metrics: empty batch")
    valid = np.isfinite(preds)
    _, first = np.unique(np.asarray([str(u) for u in uids]), return_index=True)
    image_labels = gt[first]
    nan = float("nan")
    plcc, srcc = plcc_srcc(preds[valid], gt[valid])
    out = {
        f"{PREFIX}/parse_failure_rate": float(1.0 - valid.mean()),
        f"{PREFIX}/pred/mean": float(preds[valid].mean()) if valid.any() else nan,
        f"{PREFIX}/pred/std": float(preds[valid].std()) if valid.any() else nan,
        f"{PREFIX}/label/mean": float(image_labels.mean()),
        f"{PREFIX}/label/std": float(image_labels.std()),
        f"{PREFIX}/batch_plcc": plcc,
        f"{PREFIX}/batch_srcc": srcc,
        f"{PREFIX}/reward/total/mean": float(np.mean(total_reward)),
        f"{PREFIX}/response_length/mean": float(np.mean(response_lengths)),
    }
    for term, values in term_values.items():
        out[f"{PREFIX}/reward/{term}/mean"] = float(np.mean(values))
    return out


def advantage_image_means(uids: Sequence[str], advantages: Sequence[float]) -> float:
    """``max_i |mean_k A_ik|``: how far the advantages of each image's K outputs are from zero mean.

    GRPO (Eq. 9) standardises rewards within each image's group of K outputs, so this is ~0 (up to
    float error) when verl grouped the outputs by image as RAPO needs; logged as
    ``rapo/advantage/max_abs_image_mean`` after the advantage step.

    Args:
        uids: (M,) image id per output.
        advantages: (M,) the outcome advantage of each output (its value on the response tokens).
    """
    values = np.asarray(advantages, dtype=np.float64)
    keys = np.asarray([str(u) for u in uids])
    if values.shape != keys.shape or values.size == 0:
        raise ValueError(f"advantage_image_means: {keys.size} uids and {values.shape} advantages")
    _, inverse = np.unique(keys, return_inverse=True)
    means = np.bincount(inverse, weights=values) / np.bincount(inverse)
    return float(np.max(np.abs(means)))
