"""RAPO's batch terms and batch correlations on verl's validation samples.

verl's ``_validate`` scores each validation output alone (the reward loop), so its ``val-core/*/reward``
holds only the per-sample terms: a rank-only reward validates as 0 while it trains at ~0.7. This module
takes what verl collected for the whole validation set (one entry per final output: data source, uid,
``reward`` and the ``reward_extra_info`` of ``recipe.aesr1.rapo.reward``), compares the images in
the groups of a :class:`ComparisonScope` (chunks, ``ComparisonScope.for_validation``) within each data
source, exactly as the training hook compares the images of one batch, adds the weighted batch terms to ``reward`` and records each term, so that the validation
curve means what the training curve means. It also gives PLCC/SRCC over each source's parsed outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recipe.aesr1.rapo.metrics import plcc_srcc
from recipe.aesr1.rapo.reward import LABEL_KEY, PRED_KEY
from recipe.aesr1.rapo.scope import ComparisonScope, batch_term_rewards
from reward_fns import RewardSpec


def add_validation_batch_terms(
    spec: RewardSpec,
    data_sources: Sequence[str],
    uids: Sequence[str],
    infos: dict[str, list],
    scope: ComparisonScope,
) -> dict[str, float]:
    """Add the batch terms to verl's validation lists in place; return ``val-aux/<source>/rapo/*`` metrics.

    Args:
        spec: the run's reward.
        data_sources: (M,) data source of each final validation output.
        uids: (M,) image id of each output (the ``val_kwargs.n`` outputs of one image share it).
        infos: verl's ``reward_extra_infos_dict``: ``reward`` and each ``reward_extra_info`` key, (M,) lists.
            ``reward`` gains the weighted batch terms; each batch term gets its own (M,) list.
        scope: the comparison groups, applied within each data source (sources are never mixed).

    Returns:
        ``val-aux/<source>/rapo/{plcc,srcc}`` over the parsed outputs and ``.../parse_failure_rate``.

    Raises:
        ValueError: when ``pred``/``label`` are missing (the reward function is not the recipe's).
    """
    m = len(uids)
    missing = [key for key in (PRED_KEY, LABEL_KEY) if len(infos.get(key, [])) != m]
    if missing:
        raise ValueError(
            f"validation outputs lack reward_extra_info {missing} for all {m} samples: RAPO validation needs "
            "reward.custom_reward_function.path=pkg://recipe.aesr1.rapo.reward"
        )
    preds = np.array([np.nan if p is None else float(p) for p in infos[PRED_KEY]], dtype=np.float64)
    labels = np.array(infos[LABEL_KEY], dtype=np.float64)
    sources = np.array([str(s) for s in data_sources], dtype=object)
    reward = np.array(infos["reward"], dtype=np.float64)
    groups: list = [None] * m
    for source in sorted(set(sources)):
        rows = np.flatnonzero(sources == source)
        for row, group in zip(rows, scope.group_ids([uids[i] for i in rows]), strict=True):
            groups[row] = (source, group)
    added = batch_term_rewards(spec, uids, preds, labels, groups)
    reward += added.total
    metrics: dict[str, float] = {}
    for source in sorted(set(sources)):
        rows = np.flatnonzero(sources == source)
        valid = np.isfinite(preds[rows])
        plcc, srcc = plcc_srcc(preds[rows][valid], labels[rows][valid])
        prefix = f"val-aux/{source}/rapo"
        metrics |= {f"{prefix}/plcc": plcc, f"{prefix}/srcc": srcc}
        metrics[f"{prefix}/parse_failure_rate"] = float(1 - valid.mean())
    infos["reward"] = reward.tolist()
    for term, values in added.components.items():
        infos[term] = values.tolist()
    return metrics
