"""Per-sample part of the Aes-R1 rewards, called by verl's reward loop for each output as it finishes.

verl 0.9.1 scores one output at a time (``RewardManagerBase.run_single``), so this file computes only
what one output determines: the parsed score and the per-sample terms of the configured reward
(``error`` Eq. 6, ``binary`` Eq. 13, ``format``). The cross-image terms (``rank`` Eqs. 3-5,
``thurstone``, ``consistency``) need the whole batch; ``recipe.aesr1.rapo.trainer`` adds them before
the advantage, reading ``pred`` and ``parse_failed`` from the ``reward_extra_info`` returned here.

Configured in YAML as ``reward.custom_reward_function`` with ``path: pkg://recipe.aesr1.rapo.reward``,
``name: compute_score`` and ``reward_kwargs: {reward, weights, params}``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from reward_fns import RewardSpec, parse_answer, sample_rewards

# Keys every output returns besides its per-sample terms and "score" (verl needs equal keys per sample).
PRED_KEY = "pred"  # parsed score in [0, 1], NaN when the answer did not parse
PARSE_FAILED_KEY = "parse_failed"  # 1.0 when no score could be read, else 0.0
FORMAT_OK_KEY = "format_ok"  # 1.0 when the output follows Appendix B exactly
LABEL_KEY = "label"  # the sample's ground truth, for the batch terms on validation (rapo.validation)


def _plain(value: Any) -> Any:
    """OmegaConf containers (what verl passes from reward_kwargs) to plain dicts/lists."""
    if isinstance(value, (DictConfig, ListConfig)):
        return OmegaConf.to_container(value, resolve=True)
    return value


@lru_cache(maxsize=16)
def _spec_from_json(key: str) -> RewardSpec:
    reward, weights, params = json.loads(key)
    return RewardSpec.parse(reward, weights=weights, params=params)


def reward_spec(
    reward: str, weights: Mapping[str, float] | None = None, params: Mapping[str, Mapping] | None = None
) -> RewardSpec:
    """Parse (once per process) the reward named in the config; raises ValueError for an unknown term."""
    key = json.dumps([reward, _plain(weights) or {}, _plain(params) or {}], sort_keys=True)
    return _spec_from_json(key)


def _label(ground_truth: Any, extra_info: Mapping | None) -> float:
    """The MOS label of one sample, checked: a finite float in [0, 1] (data_prep normalises every dataset)."""
    try:
        gt = float(ground_truth)
    except (TypeError, ValueError):
        gt = math.nan
    if not (math.isfinite(gt) and 0.0 <= gt <= 1.0):
        sample = (extra_info or {}).get("id", "<no extra_info.id>")
        raise ValueError(
            f"reward_model.ground_truth of sample {sample!r} must be a float in [0, 1], got {ground_truth!r}"
        )
    return gt


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping | None = None,
    reward: str = "error+rank",
    weights: Mapping[str, float] | None = None,
    params: Mapping[str, Mapping] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Reward of one output for verl's reward loop.

    Args:
        data_source: the parquet's ``data_source`` (unused: every dataset is scored alike).
        solution_str: the decoded response.
        ground_truth: ``reward_model.ground_truth``, the normalised MOS in [0, 1].
        extra_info: the parquet's ``extra_info`` (its ``id`` names the sample in errors).
        reward, weights, params: the reward spec (``reward.custom_reward_function.reward_kwargs``).

    Returns:
        ``{"score": weighted sum of the per-sample terms, <term>: unweighted value for each per-sample
        term, "pred": parsed score or NaN, "parse_failed": 0/1, "format_ok": 0/1, "label": ground_truth}``;
        the same keys for
        every output of a run. A reward made only of batch terms scores 0 here.
    """
    spec = reward_spec(reward, weights, params)
    gt = _label(ground_truth, extra_info)
    parsed = parse_answer(solution_str)
    out = sample_rewards(spec, parsed.score, gt, format_ok=parsed.format_ok)
    out[PRED_KEY] = math.nan if parsed.score is None else float(parsed.score)
    out[PARSE_FAILED_KEY] = float(parsed.score is None)
    out[FORMAT_OK_KEY] = float(parsed.format_ok)
    out[LABEL_KEY] = gt
    return out
