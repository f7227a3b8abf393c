"""What the pipeline decides for one sampled record: its critique, each filter's verdict, the reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Statuses.
KEPT = "kept"
REJECTED = "rejected"
SURPLUS = "surplus"  # passed every filter, but its level already reached the target size

# Reason codes, in the order the checks run.
IMAGE_UNREADABLE = "image_unreadable"
GENERATION_FAILED = "generation_failed"  # the expert's retries ran out (error kept in `errors`)
TRUNCATED = "truncated"  # finish_reason "length": the critique was cut off at max_tokens
TOO_LONG = "too_long"  # more tokens than filters.max_critique_tokens although the server said "stop"
FORMAT = "format"  # the SFT target <think>critique</think><answer>score</answer> does not parse cleanly
LEAKAGE = "leakage"  # e_leak: see leakage.py for the rule codes (and "judge" for the leakage judge)
LEAKAGE_JUDGE_FAILED = "leakage_judge_failed"
MISALIGNED = "misaligned"  # e_align: the judge's level from the critique alone != the true level
ALIGNMENT_JUDGE_FAILED = "alignment_judge_failed"
FACTUAL_ERROR = "factual_error"  # e_fact: the judge listed claims the image does not support
FACTUAL_JUDGE_FAILED = "factual_judge_failed"
REASONS = (IMAGE_UNREADABLE, GENERATION_FAILED, TRUNCATED, TOO_LONG, FORMAT, LEAKAGE, LEAKAGE_JUDGE_FAILED,
           MISALIGNED, ALIGNMENT_JUDGE_FAILED, FACTUAL_ERROR, FACTUAL_JUDGE_FAILED)

# Verdicts of the stages leakage / alignment / factual.
PASS, REJECT, FAILED, SKIPPED, OFF = "pass", "reject", "failed", "skipped", "off"


@dataclass
class RecordResult:
    """One record's outcome; serialised as one line of ``records.jsonl`` (no image bytes)."""

    record_id: str
    dataset: str
    id: str
    split: str
    score: float
    raw_score: float
    level: str
    round: int  # sampling round that drew it (1 = first)
    status: str = REJECTED
    reasons: list[str] = field(default_factory=list)
    critique: str | None = None
    finish_reason: str | None = None
    verdicts: dict[str, str] = field(default_factory=dict)  # stage -> pass|reject|failed|skipped|off
    leakage: list[dict[str, str]] = field(default_factory=list)  # [{code, text}]
    predicted_level: str | None = None  # the alignment judge's level
    unsupported_claims: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # stage -> last error

    def reject(self, reason: str) -> None:
        self.status = REJECTED
        self.reasons.append(reason)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
