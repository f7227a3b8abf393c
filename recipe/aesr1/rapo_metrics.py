"""Per-step training metrics of RAPO, logged through verl's logger under ``rapo/``.

What they answer: is the model still answering in the right format (parse-failure rate), is its
score distribution drifting away from the labels' (prediction vs label mean/std), does it order and
calibrate the batch (PLCC/SRCC of predictions vs labels), how much each reward term pays, and how
long the answers are.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from scipy import stats

PREFIX = "rapo"


def plcc_srcc(pred: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """PLCC and SRCC (scipy), NaN when fewer than 2 points or either side is constant."""
    if pred.size < 2 or np.ptp(pred) == 0 or np.ptp(label) == 0:
        return float("nan"), float("nan")
    return float(stats.pearsonr(pred, label)[0]), float(stats.spearmanr(pred, label)[0])


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
