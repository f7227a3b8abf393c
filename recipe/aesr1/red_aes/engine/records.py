"""What the RED-Aes data engine decides, record by record, and the label arithmetic of the groups.

Scales: experts and judges answer on a 10-point scale; labels are stored on [0, 1] with the same
min-max rule data_prep applies to AVA (``(s - 1) / 9``), so a difference ``d`` on the 10-point scale
is ``d / 9`` on [0, 1].
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from data_prep.normalisation import Scale, normalise_score

EXPERT_SCALE = Scale(1.0, 10.0)

# Reasons a source, pair or group is dropped (counted in report.json).
IMAGE_UNREADABLE = "image_unreadable"  # the source image has no bytes/path or does not decode
ANCHOR_FAILED = "anchor_failed"  # no anchor expert answered
INSTRUCTION_FAILED = "instruction_failed"  # the instruction expert gave no usable instruction(s)
EDIT_FAILED = "edit_failed"
VIESCORE_FAILED = "viescore_failed"  # no VIEScore judge answered
VIESCORE_LOW = "viescore_below_threshold"
TOO_FEW_EDITS = "too_few_successful_edits"  # Eq. 1
JUDGE_FAILED = "judge_failed"  # a judge did not answer: unanimity cannot be established
NOT_UNANIMOUS = "judges_not_unanimous"
NOT_IMPROVED = "not_improved"  # unanimous, but PT needs improvement
NO_VALID_PAIR = "no_valid_pair"
OVERLAPS_EVALUATION = "overlaps_evaluation"  # the source is an image of sources.evaluation (id or hash)
ANALYSIS_LEAKS = "analysis_leaks_score"  # every expert analysis writes a score (AesCoT's e_leak rule)


def to_unit_score(score10: float) -> float:
    """A 10-point score (1..10) on the [0, 1] label scale."""
    return normalise_score(score10, EXPERT_SCALE)


def to_unit_difference(difference10: float) -> float:
    """A 10-point score difference on the [0, 1] label scale."""
    return difference10 / (EXPERT_SCALE.hi - EXPERT_SCALE.lo)


def unanimous_direction(differences: list[float]) -> int:
    """+1 / -1 when every judge gives a difference of that sign, 0 otherwise (a zero breaks unanimity)."""
    signs = {int(np.sign(d)) for d in differences}
    return signs.pop() if len(signs) == 1 and 0 not in signs else 0


def viescore_verdict(scores: list[float], threshold: float, aggregate: str = "min") -> tuple[float, bool]:
    """``(aggregated VIEScore, passed)`` of one edit from its judges' scores on [0, 10].

    Appendix 0.C: an edit succeeds with a score *above* 7.5, so exactly the threshold fails. ``min``
    (default) asks every judge to pass, the reading of the paper's "strict threshold"; ``mean`` averages
    the judges (lets one lenient judge carry a doubtful edit).
    """
    if not scores:
        raise ValueError("viescore_verdict: no VIEScore judge answered")
    value = float(np.min(scores) if aggregate == "min" else np.mean(scores))
    return value, value > threshold


def group_ground_truth(anchor: float, differences: list[float]) -> tuple[list[float], float, float]:
    """RL labels on [0, 1] of a source (first) and its variants, ``anchor + d_i``, kept in [0, 1].

    The consistency reward uses label differences only, so a group that leaves [0, 1] is shifted
    as a whole (differences kept); one whose differences span more than 1 is also compressed
    towards its source (order kept, gaps scaled). Returns ``(labels, shift, scale)``.
    """
    values = np.array([0.0] + list(differences))
    span = float(values.max() - values.min())
    scale = 1.0 if span <= 1.0 else 1.0 / span
    values = anchor + values * scale
    shift = float(max(0.0, -values.min()) - max(0.0, values.max() - 1.0))
    values = np.clip(values + shift, 0.0, 1.0)  # clip only removes float round-off here
    return values.tolist(), shift, scale


@dataclass
class Anchor:
    """Consensus score of one source (Appendix 0.A over the anchor experts)."""

    score10: float  # on the experts' 1-10 scale (a table MOS in [0, 1] is mapped back to it)
    analysis: str  # calibration CoT: the closest expert's analysis that does not leak a score, or ""
    expert_scores: list[float | None]
    method: str  # Table 7 fusion method, or "table" for the table's MOS

    @property
    def unit(self) -> float:
        return to_unit_score(self.score10)


@dataclass
class PairResult:
    """One source-edit pair through the VIEScore filter and the judges."""

    editor: str
    instruction: str
    category: str = ""  # engine_prompts.EDIT_CATEGORIES key named by the instruction expert
    edit_type: str = ""  # content | quality (Table 3's edit types)
    edited_path: str | None = None  # relative to the output directory
    viescore: float | None = None
    judge_differences: list[float | None] = field(default_factory=list)  # 10-point scale
    difference10: float | None = None  # consensus (voting protocol)
    reasoning: str = ""  # reasoning of the judge closest to the consensus
    method: str = ""
    reason: str = ""  # empty when the pair is valid

    @property
    def valid(self) -> bool:
        return not self.reason

    @property
    def difference(self) -> float:
        """Consensus difference on the [0, 1] label scale."""
        assert self.difference10 is not None
        return to_unit_difference(self.difference10)


@dataclass
class SourceResult:
    """Everything decided for one source image."""

    record_id: str
    dataset: str
    id: str
    image_path: str | None  # original path (or None when the table embeds bytes)
    anchor: Anchor | None = None
    analysis: str = ""  # instruction expert's analysis of the deficiencies (PT)
    pt_pairs: list[PairResult] = field(default_factory=list)
    pt_choice: int | None = None  # index of the pair chosen for pre-training (Eq. 3)
    rl_pairs: list[PairResult] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # part (pt/rl/calibration) -> drop reason
    error: str = ""  # why the source image could not be read

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EngineReport:
    """Counts of decisions (report.json)."""

    sources: int = 0
    max_pixels: int = 0  # the pixel budget sources and edits were held to
    source_pool: dict[str, Any] = field(default_factory=dict)  # engine_sources.read_pool_candidates' record
    evaluation_overlap: Counter = field(default_factory=Counter)  # "id" / "hash" -> sources found
    targets: dict[str, Any] = field(default_factory=dict)  # RED-20k size targets, written and shortfall
    drops: Counter = field(default_factory=Counter)  # "part/reason" -> count
    pair_reasons: Counter = field(default_factory=Counter)  # "part/reason" of dropped pairs
    pt_samples: int = 0
    rl_groups: int = 0
    rl_group_sizes: Counter = field(default_factory=Counter)
    rl_groups_shifted: int = 0
    rl_groups_compressed: int = 0
    calibration_samples: int = 0
    edit_types: Counter = field(default_factory=Counter)  # "pt/content", "rl/quality", ... of written pairs
    requests_made: int = 0
    torn_log_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("drops", "pair_reasons", "rl_group_sizes", "edit_types", "evaluation_overlap"):
            data[key] = {str(k): v for k, v in sorted(getattr(self, key).items())}
        return data
