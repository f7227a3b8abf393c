"""Multi-expert voting protocol of RED-Aes (Appendix 0.A): outliers, consensus level, adaptive fusion.

Given ``n`` expert scores of one image (or of one source-edit difference), the protocol

1. flags outliers by the MAD-based modified z-score (Eqs. 9-10, Iglewicz & Hoaglin);
2. classifies the experts' agreement as high / medium / low from the standard deviation (Eq. 11);
3. fuses the scores with the method that Table 7 assigns to (consensus level, outlier situation).

What our copy of the paper lost, and what we chose (each a field of :class:`VotingConfig`):

* the outlier threshold: 3.5, the value Iglewicz & Hoaglin recommend for the modified z-score;
* the two standard-deviation cut points of Eq. 11: 0.5 and 1.0 on a 10-point scale (``ours``);
* the standard deviation is the population one (ddof 0) of all ``n`` scores;
* MAD = 0 (half or more of the experts agree exactly): Eq. 10 taken literally, i.e. ``z = +-inf`` for
  a score off the median and 0 for the scores on it, so the odd expert of two tied ones is an
  outlier: [5, 5, 10] -> 5.0 (low consensus, one outlier: median), in line with [5, 5.1, 10] -> 5.1.
  ``mad_zero="mean_ad"`` instead uses the mean absolute deviation, ``z = (x - median) / (1.253314 *
  MeanAD)`` (a common fallback; 1.253314 = sqrt(pi/2)); it gives the odd expert of 3 a fixed
  z = 2.394 < 3.5, never flagged, so [5, 5, 10] -> 5.83 (conservative average) while [5, 5.1, 10] -> 5.1;
* fewer experts than configured (a request failed for good): the protocol runs on those that
  answered. With 2 scores MAD > 0 unless they are equal, so no outlier is ever flagged (|z| = 0.6745)
  and the level of Eq. 11 picks the fusion; with 1 score that score is the vote. The engine records
  the missing answers (None) beside the vote;
* "conservative average" = ``blend * weighted average + (1 - blend) * median`` with blend 0.5;
* the robust median is Tukey's biweight location (Beers, Flynn & Gebhardt 1990) with tuning
  constant c = 6, iterated from the median; it returns the median when MAD = 0;
* the weighted median with weights summing to W is the smallest sorted score whose cumulative weight
  reaches W/2, averaged with the next one when the cumulative weight equals W/2 exactly (so uniform
  weights give the ordinary median). Weights are uniform for every level, as the paper sets them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

# Eq. 10: 0.6745 is the 0.75 quantile of N(0, 1), so 0.6745 * (x - median) / MAD ~ N(0, 1) for normal data.
MODIFIED_Z_CONSTANT = 0.6745
# Fallback scale when MAD = 0: E|X - mu| = sigma * sqrt(2/pi) for normal data, and 1 / sqrt(2/pi) = 1.253314.
MEAN_AD_CONSTANT = 1.253314
MAD_ZERO_RULES = ("infinite", "mean_ad")


class Consensus(str, enum.Enum):
    """Agreement among the experts (Eq. 11)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Outliers(str, enum.Enum):
    """The outlier situation indexing the columns of Table 7."""

    NONE = "none"
    ONE = "one"
    MULTIPLE = "multiple"


class Fusion(str, enum.Enum):
    """The fusion methods listed in Appendix 0.A, Step 3."""

    WEIGHTED_AVERAGE = "weighted_average"
    NORMAL_AVERAGE = "normal_average"
    WEIGHTED_MEDIAN = "weighted_median"
    MEDIAN = "median"
    CONSERVATIVE_AVERAGE = "conservative_average"
    ROBUST_MEDIAN = "robust_median"


# Table 7 of RED-Aes, Appendix 0.A: rows are consensus levels, columns the outlier situation.
STRATEGY_MATRIX: dict[tuple[Consensus, Outliers], Fusion] = {
    (Consensus.HIGH, Outliers.NONE): Fusion.WEIGHTED_AVERAGE,
    (Consensus.HIGH, Outliers.ONE): Fusion.NORMAL_AVERAGE,
    (Consensus.HIGH, Outliers.MULTIPLE): Fusion.WEIGHTED_MEDIAN,
    (Consensus.MEDIUM, Outliers.NONE): Fusion.WEIGHTED_AVERAGE,
    (Consensus.MEDIUM, Outliers.ONE): Fusion.NORMAL_AVERAGE,
    (Consensus.MEDIUM, Outliers.MULTIPLE): Fusion.MEDIAN,
    (Consensus.LOW, Outliers.NONE): Fusion.CONSERVATIVE_AVERAGE,
    (Consensus.LOW, Outliers.ONE): Fusion.MEDIAN,
    (Consensus.LOW, Outliers.MULTIPLE): Fusion.ROBUST_MEDIAN,
}


@dataclass(frozen=True)
class VotingConfig:
    """Knobs of the protocol; the defaults are the choices listed in the module docstring."""

    outlier_threshold: float = 3.5  # |z_i| > threshold flags expert i (Iglewicz & Hoaglin)
    sigma_high: float = 0.5  # Eq. 11: sigma <= sigma_high -> high consensus (ours, 10-point scale)
    sigma_low: float = 1.0  # Eq. 11: sigma > sigma_low -> low consensus (ours, 10-point scale)
    conservative_blend: float = 0.5  # share of the weighted average in the conservative average (ours)
    biweight_c: float = 6.0  # Tukey biweight tuning constant for location (Beers et al. 1990)
    mad_zero: str = "infinite"  # MAD = 0: "infinite" (Eq. 10 literally) or "mean_ad" (fallback, docstring)
    # Consensus level -> expert weights; absent or None = uniform, as the paper sets them for n = 3.
    weights: dict[str, list[float] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.outlier_threshold > 0:
            raise ValueError(f"VotingConfig.outlier_threshold must be > 0, got {self.outlier_threshold}")
        if not 0 <= self.sigma_high <= self.sigma_low:
            raise ValueError(
                f"VotingConfig needs 0 <= sigma_high <= sigma_low, got {self.sigma_high}, {self.sigma_low}"
            )
        if not 0 <= self.conservative_blend <= 1:
            raise ValueError(f"VotingConfig.conservative_blend must be in [0, 1], got {self.conservative_blend}")
        if self.mad_zero not in MAD_ZERO_RULES:
            raise ValueError(f"VotingConfig.mad_zero must be one of {MAD_ZERO_RULES}, got {self.mad_zero!r}")
        unknown = set(self.weights) - {level.value for level in Consensus}
        if unknown:
            raise ValueError(f"VotingConfig.weights: unknown consensus levels {sorted(unknown)}; use high/medium/low")


@dataclass(frozen=True)
class Vote:
    """The protocol's outcome for one item.

    Attributes:
        score: the fused score.
        consensus: the level of Eq. 11.
        outliers: (n,) bool, experts flagged by Eq. 10.
        method: the Table 7 cell's fusion method.
        std: population standard deviation of the scores.
    """

    score: float
    consensus: Consensus
    outliers: np.ndarray
    method: Fusion
    std: float

    @property
    def outlier_situation(self) -> Outliers:
        return outlier_situation(self.outliers)


def _scores(scores: ArrayLike) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"voting: expected a non-empty 1-D array of expert scores, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"voting: expert scores must be finite, got {x.tolist()}")
    return x


def median_absolute_deviation(scores: ArrayLike) -> float:
    """Eq. 9: ``MAD = median_i |x_i - median(x)|``."""
    x = _scores(scores)
    return float(np.median(np.abs(x - np.median(x))))


def modified_z_scores(scores: ArrayLike, mad_zero: str = "infinite") -> np.ndarray:
    """Eq. 10: ``z_i = 0.6745 (x_i - median) / MAD``.

    When MAD = 0, ``mad_zero="infinite"`` follows Eq. 10 (``+-inf`` off the median, 0 on it);
    ``"mean_ad"`` uses the MeanAD fallback (module docstring).

    Returns:
        (n,) float64; all zeros when every score is equal.
    """
    x = _scores(scores)
    centred = x - np.median(x)
    mad = float(np.median(np.abs(centred)))
    if mad > 0:
        return MODIFIED_Z_CONSTANT * centred / mad
    if mad_zero == "infinite":
        return np.where(centred == 0, 0.0, np.copysign(np.inf, centred))
    mean_ad = float(np.mean(np.abs(centred)))
    if mean_ad == 0:
        return np.zeros_like(x)
    return centred / (MEAN_AD_CONSTANT * mean_ad)


def outlier_mask(
    scores: ArrayLike, threshold: float = VotingConfig.outlier_threshold, mad_zero: str = "infinite"
) -> np.ndarray:
    """Step 1: (n,) bool, True where ``|z_i| > threshold``."""
    return np.abs(modified_z_scores(scores, mad_zero)) > threshold


def outlier_situation(outliers: ArrayLike) -> Outliers:
    """Column of Table 7: no outliers, one outlier, or multiple outliers."""
    count = int(np.count_nonzero(outliers))
    return Outliers.NONE if count == 0 else Outliers.ONE if count == 1 else Outliers.MULTIPLE


def consensus_level(scores: ArrayLike, sigma_high: float = 0.5, sigma_low: float = 1.0) -> Consensus:
    """Eq. 11: high if sigma <= sigma_high, medium if sigma <= sigma_low, else low (sigma: ddof 0)."""
    sigma = float(np.std(_scores(scores)))
    return Consensus.HIGH if sigma <= sigma_high else Consensus.MEDIUM if sigma <= sigma_low else Consensus.LOW


def _weights(weights: ArrayLike | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not np.any(w > 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"voting: weights must be {n} finite non-negative numbers, not all 0; got {w.tolist()}")
    return w


def weighted_average(scores: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Weighted Average: ``sum_i w_i x_i / sum_i w_i`` (uniform weights when None)."""
    x = _scores(scores)
    w = _weights(weights, x.size)
    return float(np.dot(w, x) / w.sum())


def normal_average(scores: ArrayLike, outliers: ArrayLike) -> float:
    """Normal Average: arithmetic mean of the scores not flagged as outliers (all, if all are flagged)."""
    x = _scores(scores)
    keep = ~np.asarray(outliers, dtype=bool)
    if keep.shape != x.shape:
        raise ValueError(f"normal_average: outliers has shape {keep.shape}, scores {x.shape}")
    return float(x[keep].mean()) if keep.any() else float(x.mean())


def weighted_median(scores: ArrayLike, weights: ArrayLike | None = None) -> float:
    """Weighted Median: the lower weighted median, averaged with the next score on an exact half (docstring)."""
    x = _scores(scores)
    w = _weights(weights, x.size)
    order = np.argsort(x, kind="stable")
    x, w = x[order][w[order] > 0], w[order][w[order] > 0]
    cumulative = np.cumsum(w)
    half = cumulative[-1] / 2
    k = int(np.searchsorted(cumulative, half - 1e-12 * cumulative[-1]))  # first index reaching W/2
    if np.isclose(cumulative[k], half) and k + 1 < x.size:
        return float((x[k] + x[k + 1]) / 2)
    return float(x[k])


def median(scores: ArrayLike) -> float:
    """Median: the standard median of all scores (outliers included)."""
    return float(np.median(_scores(scores)))


def conservative_average(scores: ArrayLike, weights: ArrayLike | None = None, blend: float = 0.5) -> float:
    """Conservative Average: ``blend * weighted_average + (1 - blend) * median``."""
    return blend * weighted_average(scores, weights) + (1 - blend) * median(scores)


def tukey_biweight_location(scores: ArrayLike, c: float = 6.0, tol: float = 1e-10, max_iter: int = 100) -> float:
    """Robust Median: Tukey's biweight location estimate (Beers, Flynn & Gebhardt 1990).

    Iterates ``M <- sum_i w_i x_i / sum_i w_i`` with ``w_i = (1 - u_i^2)^2`` for ``|u_i| < 1`` (else 0)
    and ``u_i = (x_i - M) / (c * MAD)``, starting from the median; MAD is that of the input around
    its median and stays fixed. Returns the median when MAD = 0.
    """
    x = _scores(scores)
    location = float(np.median(x))
    mad = float(np.median(np.abs(x - location)))
    if mad == 0:
        return location
    for _ in range(max_iter):
        u = (x - location) / (c * mad)
        w = np.where(np.abs(u) < 1, (1 - u**2) ** 2, 0.0)
        updated = float(np.dot(w, x) / w.sum())  # w > 0 at the median's neighbours, so the sum is positive
        if abs(updated - location) <= tol * max(1.0, abs(location)):
            return updated
        location = updated
    return location


def vote(scores: ArrayLike, config: VotingConfig = VotingConfig()) -> Vote:
    """Appendix 0.A, Steps 1-3 for one item's ``n`` expert scores."""
    x = _scores(scores)
    outliers = outlier_mask(x, config.outlier_threshold, config.mad_zero)
    level = consensus_level(x, config.sigma_high, config.sigma_low)
    method = STRATEGY_MATRIX[(level, outlier_situation(outliers))]
    weights = config.weights.get(level.value)
    if method is Fusion.WEIGHTED_AVERAGE:
        score = weighted_average(x, weights)
    elif method is Fusion.NORMAL_AVERAGE:
        score = normal_average(x, outliers)
    elif method is Fusion.WEIGHTED_MEDIAN:
        score = weighted_median(x, weights)
    elif method is Fusion.MEDIAN:
        score = median(x)
    elif method is Fusion.CONSERVATIVE_AVERAGE:
        score = conservative_average(x, weights, config.conservative_blend)
    else:
        score = tukey_biweight_location(x, config.biweight_c)
    return Vote(score, level, outliers, method, float(np.std(x)))


def vote_many(scores: ArrayLike, config: VotingConfig = VotingConfig()) -> np.ndarray:
    """(m, n) expert scores of m items -> (m,) fused scores (``vote`` per row)."""
    matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"vote_many: expected (items, experts), got shape {matrix.shape}")
    return np.array([vote(row, config).score for row in matrix])
