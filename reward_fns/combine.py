"""Rewards named by their terms: ``"error+rank"`` is RAPO (Eq. 7 of Aes-R1), ``"binary"``, ``"rank"``,
``"binary+rank"`` ... are the ablations of its Table 2, ``"thurstone"`` and ``"consistency"`` the peers'.

A spec is parsed once (at start-up, so a typo fails before the first rollout) and then evaluated
either on a whole (N, K) batch, or one output at a time for its per-sample terms (what verl's
reward loop can compute) with the batch terms added later by the trainer hook. The batch terms
compare each image with the other images of its comparison group (``groups``: one id per image;
the whole batch by default).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from reward_fns.consistency import consistency_reward
from reward_fns.grouping import group_blocks
from reward_fns.pointwise import binary_reward, error_reward
from reward_fns.rank import rank_reward, thurstone_reward


def format_reward(format_ok: ArrayLike) -> np.ndarray:
    """1 for an output in the exact format of Appendix B, else 0 (the peers' format reward)."""
    return np.asarray(format_ok, dtype=np.float64)


@dataclass(frozen=True)
class Term:
    fn: Callable[..., np.ndarray]
    scope: str  # "sample": fn(pred, gt, **params); "batch": fn(preds, valid, gt, **params); "format": fn(format_ok)


TERMS: dict[str, Term] = {
    "error": Term(error_reward, "sample"),
    "binary": Term(binary_reward, "sample"),
    "format": Term(format_reward, "format"),
    "rank": Term(rank_reward, "batch"),
    "thurstone": Term(thurstone_reward, "batch"),
    "consistency": Term(consistency_reward, "batch"),
}
_POSITIONAL = {"sample": 2, "batch": 3, "format": 1}


@dataclass(frozen=True)
class RewardSpec:
    """Which terms make the reward, their weights and their hyper-parameters.

    Build with :meth:`parse`; ``weights`` default to 1 per term (the paper's Eq. 7 and the peers'
    released sums), ``params`` default to each function's defaults (the paper's values).
    """

    terms: tuple[str, ...]
    weights: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        name: str,
        weights: Mapping[str, float] | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> "RewardSpec":
        """``RewardSpec.parse("error+rank", weights={"rank": 0.5}, params={"error": {"sigma": 0.05}})``."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"reward name must be a non-empty string like 'error+rank', got {name!r}")
        terms = tuple(t.strip() for t in name.split("+"))
        unknown = [t for t in terms if t not in TERMS]
        if unknown:
            raise ValueError(f"unknown reward term(s) {unknown} in {name!r}; known terms: {sorted(TERMS)}")
        if len(set(terms)) != len(terms):
            raise ValueError(f"reward {name!r} names a term twice")
        weights = dict(weights or {})
        params = {k: dict(v) for k, v in (params or {}).items()}
        for kind, given in (("weights", weights), ("params", params)):
            extra = sorted(set(given) - set(terms))
            if extra:
                raise ValueError(f"reward {name!r}: {kind} given for term(s) {extra} that it does not contain")
        for term, value in weights.items():
            if not np.isfinite(value):
                raise ValueError(f"reward {name!r}: weight of {term!r} must be finite, got {value}")
        for term, kwargs in params.items():
            fn = TERMS[term].fn
            accepted = list(inspect.signature(fn).parameters)[_POSITIONAL[TERMS[term].scope]:]
            bad = sorted(set(kwargs) - set(accepted))
            if bad:
                raise ValueError(f"reward {name!r}: {term!r} has no parameter(s) {bad}; it accepts {accepted}")
        return cls(terms, weights, params)

    @property
    def name(self) -> str:
        return "+".join(self.terms)

    @property
    def batch_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if TERMS[t].scope == "batch")

    @property
    def sample_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if TERMS[t].scope != "batch")

    def weight(self, term: str) -> float:
        return float(self.weights.get(term, 1.0))

    def term_values(
        self,
        term: str,
        preds: np.ndarray,
        valid: np.ndarray,
        gt: np.ndarray,
        format_ok=None,
        blocks: list[np.ndarray] | None = None,
    ) -> np.ndarray:
        """Unweighted (N, K) values of one term on an (N, K) batch with (N,) labels.

        ``blocks`` (from ``grouping.group_blocks``) limits a batch term to comparisons within each
        group: each (G_s, s) block of image indices is evaluated as one (G_s, s, K) stack.
        """
        entry, kwargs = TERMS[term], self.params.get(term, {})
        if entry.scope == "batch":
            if blocks is None:
                return entry.fn(preds, valid, gt, **kwargs)
            out = np.zeros(preds.shape)
            for members in blocks:  # one call per distinct group size
                out[members] = entry.fn(preds[members], valid[members], gt[members], **kwargs)
            return out
        if entry.scope == "format":
            if format_ok is None:
                raise ValueError(f"reward {self.name!r} has a format term: pass format_ok")
            return entry.fn(format_ok)
        pred = np.where(valid, preds, np.nan)
        return entry.fn(pred, gt[:, None], **kwargs)


@dataclass(frozen=True)
class RewardBreakdown:
    """Per-output totals and the unweighted value of every term, for the advantage and for logging."""

    total: np.ndarray  # (N, K)
    components: dict[str, np.ndarray]  # term -> (N, K)


def compute_rewards(
    spec: RewardSpec,
    preds: ArrayLike,
    valid: ArrayLike,
    gt: ArrayLike,
    format_ok: ArrayLike | None = None,
    scope: str = "all",
    groups: Sequence[Hashable] | None = None,
) -> RewardBreakdown:
    """Evaluate a reward on a batch: ``total = sum_t weight_t * term_t`` (Eq. 7 for ``error+rank``).

    Args:
        spec: the parsed reward.
        preds, valid: (N, K) predictions and validity mask; gt: (N,) labels.
        format_ok: (N, K) bool, needed only when the spec has a ``format`` term.
        scope: ``"all"``, ``"sample"`` (per-output terms only) or ``"batch"`` (cross-image terms only).
        groups: (N,) one hashable comparison-group id per image, or None for one group (the whole
            batch, Sec. 3.3's mini training batch). The batch terms compare image ``i`` only with the
            images of its group: the mean over ``j != i`` of Eq. 4 runs over ``i``'s group, as if each
            group were a batch of its own; an image alone in its group earns 0 from them. Per-sample
            terms do not depend on it.

    >>> spec = RewardSpec.parse("rank")
    >>> preds, valid, gt = [[0.2], [0.8], [0.3], [0.6]], [[True]] * 4, [0.1, 0.9, 0.4, 0.5]
    >>> whole = compute_rewards(spec, preds, valid, gt).total
    >>> pairs = compute_rewards(spec, preds, valid, gt, groups=["a", "a", "b", "c"]).total
    >>> bool(pairs[2, 0] == pairs[3, 0] == 0.0)  # alone in its group: nobody to rank against
    True
    """
    if scope not in ("all", "sample", "batch"):
        raise ValueError(f"scope must be 'all', 'sample' or 'batch', got {scope!r}")
    preds = np.asarray(preds, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    gt = np.asarray(gt, dtype=np.float64)
    if preds.ndim != 2 or valid.shape != preds.shape or gt.shape != (preds.shape[0],):
        raise ValueError(f"compute_rewards: need preds/valid (N, K) and gt (N,), got {preds.shape}, {valid.shape}, {gt.shape}")
    terms = {"all": spec.terms, "sample": spec.sample_terms, "batch": spec.batch_terms}[scope]
    blocks = None
    if groups is not None:
        if len(groups) != preds.shape[0]:
            raise ValueError(f"compute_rewards: groups must give one id per image ({preds.shape[0]}), got {len(groups)}")
        blocks = group_blocks(groups)
    components = {t: spec.term_values(t, preds, valid, gt, format_ok, blocks) for t in terms}
    total = np.zeros(preds.shape)
    for term, values in components.items():
        total += spec.weight(term) * values
    return RewardBreakdown(total, components)


def sample_rewards(spec: RewardSpec, score: float | None, gt: float, format_ok: bool = False) -> dict[str, float]:
    """Per-sample terms of ``spec`` for one output (verl's reward loop sees one sample at a time).

    Returns the unweighted value of each per-sample term and ``"score"``, their weighted sum. A
    spec made only of batch terms gives ``{"score": 0.0}``: the trainer hook adds the rest.
    """
    valid = score is not None
    breakdown = compute_rewards(
        spec, [[score if valid else np.nan]], [[valid]], [gt], format_ok=[[bool(format_ok)]], scope="sample"
    )
    out = {term: float(values[0, 0]) for term, values in breakdown.components.items()}
    out["score"] = float(breakdown.total[0, 0])
    return out
