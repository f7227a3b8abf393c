"""What an unparseable answer counts as in the metrics: a written, configurable policy.

A model output without a valid ``<answer>`` score (``reward_fns.parse_answer`` gives ``score=None``)
is a *parse failure*. Peers' evaluation scripts replace it with a random score, which hides the failure
and adds noise; here failures are always counted and reported next to the metrics, and one of two
policies decides what they count as:

* ``drop`` (default): a failed sample is left out of its image's mean; an image whose samples all
  failed is left out of the metric. The table shows how many images were left out, so a checkpoint
  cannot look good by refusing hard images without it being visible.
* ``fill``: a failed sample counts as ``fill_value`` (default 0.5, the middle of the [0, 1] scale).
  Every image stays in the metric, and failures pull its score toward the middle of the scale. An
  image with no sample at all (unreadable, so never sent to the model) counts as one failed sample
  scored ``fill_value``; such images are counted apart (``empty_images``) and shown in the table.

Per-image means are rounded with ``metrics.as_compared``, so an image whose samples all say 0.7 has
prediction 0.7 however many of them parsed (float means would give 0.7 or 0.6999999999999998, and a
constant model would get a correlation).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from recipe.aesr1.evaluation.metrics import as_compared

POLICIES = ("drop", "fill")

DEFAULT_FILL_VALUE = 0.5
"""Middle of the [0, 1] scale of Appendix B: the least informative constant a failure can stand for."""


@dataclass(frozen=True)
class ParseFailurePolicy:
    """``kind`` is one of ``POLICIES``; ``fill_value`` in [0, 1] is used only by ``fill``."""

    kind: str = "drop"
    fill_value: float = DEFAULT_FILL_VALUE

    def __post_init__(self) -> None:
        if self.kind not in POLICIES:
            raise ValueError(f"unknown parse-failure policy {self.kind!r}; valid: {list(POLICIES)}")
        if not 0.0 <= self.fill_value <= 1.0:
            raise ValueError(f"fill_value must lie in [0, 1], got {self.fill_value}")

    def describe(self) -> str:
        """One sentence for reports."""
        if self.kind == "drop":
            return "parse failures dropped (failed samples leave the image mean; all-failed images leave the metric)"
        return f"parse failures counted as score {self.fill_value:g}"


@dataclass(frozen=True)
class ImageScores:
    """Per-image predictions after the policy, ready for the metrics.

    Attributes:
        pred: shape (m,), the mean over the kept samples of each kept image.
        spread: shape (m,), population std over those samples (0 for one sample).
        kept: shape (n,), bool, which of the n input images are in ``pred``.
        failed_samples: number of samples without a score, over all n images.
        failed_images: number of images none of whose samples has a score (``empty_images`` included).
        empty_images: number of images with no sample at all (e.g. unreadable images).
        total_samples: number of samples over all n images.
    """

    pred: np.ndarray
    spread: np.ndarray
    kept: np.ndarray
    failed_samples: int
    failed_images: int
    empty_images: int
    total_samples: int


def apply_policy(sample_scores: Sequence[Sequence[float | None]], policy: ParseFailurePolicy) -> ImageScores:
    """Turn each image's sample scores (None for a failure) into one prediction per image.

    ``sample_scores[i]`` holds the parsed scores of image i's samples; an image with no samples at
    all (generation never produced output) counts as one failed image and one ``empty_images``; under
    ``fill`` it stays in the metric at ``fill_value``.
    """
    pred, spread, kept = [], [], []
    failed_samples = failed_images = empty_images = total = 0
    for scores in sample_scores:
        total += len(scores)
        valid = [s for s in scores if s is not None]
        failed_samples += len(scores) - len(valid)
        failed_images += not valid
        empty_images += not scores
        if policy.kind == "drop":
            values = valid
        else:  # an image without samples stands for one failed sample
            values = [policy.fill_value if s is None else s for s in scores] or [policy.fill_value]
        kept.append(bool(values))
        if values:
            pred.append(float(np.mean(values)))
            spread.append(float(np.std(values)))
    return ImageScores(
        pred=as_compared(np.asarray(pred, dtype=np.float64)),
        spread=np.asarray(spread, dtype=np.float64),
        kept=np.asarray(kept, dtype=bool),
        failed_samples=failed_samples,
        failed_images=failed_images,
        empty_images=empty_images,
        total_samples=total,
    )


def add_policy_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("parse failures")
    group.add_argument("--policy", choices=POLICIES, default="drop", help="drop failed samples/images, or fill them")
    group.add_argument(
        "--fill-value", type=float, default=DEFAULT_FILL_VALUE, help="score a failure counts as with --policy fill"
    )


def policy_from_args(args: argparse.Namespace) -> ParseFailurePolicy:
    return ParseFailurePolicy(args.policy, args.fill_value)
