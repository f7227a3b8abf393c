"""Scoring a group of images: a GRPO group (K images of one prompt) or a burst of photos.

One call scores every image of every group in one pass through ``AestheticReward`` (so batching,
concurrency, content seeds and failure handling are the scorer's) and returns, per group, each
image's verdict and its rank within the group. A trainer that wants relative rewards reads the ranks
(or centres the scores within the group); a photographer reads the best frame.

Ranks are competition ranks, 1 = best (``scipy.stats.rankdata(-score, method="min")``): tied scores
share the better rank. An image without a score has no rank (None) and never counts as best.

>>> rank_within_group([0.4, 0.9, None, 0.4])
[2, 1, None, 2]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata

from recipe.aesr1.scoring.scorer import AestheticReward, ImageScore


def rank_within_group(scores: Sequence[float | None]) -> list[int | None]:
    """Competition ranks (1 = highest score) of the scored images; None where there is no score."""
    scored = [i for i, score in enumerate(scores) if score is not None]
    ranks: list[int | None] = [None] * len(scores)
    if scored:
        values = -np.asarray([scores[i] for i in scored], dtype=np.float64)
        for i, rank in zip(scored, rankdata(values, method="min"), strict=True):
            ranks[i] = int(rank)
    return ranks


@dataclass(frozen=True)
class GroupScore:
    """The judge's verdicts on one group, in input order, with ranks within the group."""

    key: Hashable
    indices: list[int]  # positions of the group's images in the call's input
    results: list[ImageScore]
    ranks: list[int | None]

    @property
    def scores(self) -> list[float | None]:
        return [r.score for r in self.results]

    @property
    def spreads(self) -> list[float | None]:
        """Each image's std over the judge's n samples (0 for n = 1; None without a score)."""
        return [r.spread for r in self.results]

    @property
    def best(self) -> int | None:
        """Position within the group of the best-scored image (the first of tied bests); None if none scored."""
        return next((i for i, rank in enumerate(self.ranks) if rank == 1), None)

    def to_json(self) -> dict:
        return {
            "key": self.key, "indices": self.indices, "scores": self.scores, "ranks": self.ranks,
            "spreads": self.spreads, "status": [r.status for r in self.results], "best": self.best,
        }  # fmt: skip


def group_members(group_ids: Sequence[Hashable]) -> dict[Hashable, list[int]]:
    """Positions of each group's members; groups in order of their first member."""
    members: dict[Hashable, list[int]] = {}
    for index, key in enumerate(group_ids):
        members.setdefault(key, []).append(index)
    return members


def ranks_within_groups(scores: Sequence[float | None], group_ids: Sequence[Hashable]) -> list[int | None]:
    """Each score's competition rank within its group (``rank_within_group``); None where there is no score.

    >>> ranks_within_groups([0.2, 0.9, 0.5, 0.1], ["a", "b", "a", "b"])
    [2, 1, 1, 2]
    """
    if len(scores) != len(group_ids):
        raise ValueError(f"{len(scores)} scores but {len(group_ids)} group ids")
    ranks: list[int | None] = [None] * len(scores)
    for indices in group_members(group_ids).values():
        for index, rank in zip(indices, rank_within_group([scores[i] for i in indices]), strict=True):
            ranks[index] = rank
    return ranks


def group_results(results: Sequence[ImageScore], group_ids: Sequence[Hashable]) -> list[GroupScore]:
    """Cut per-image verdicts into groups (in order of each group's first image) and rank each."""
    if len(results) != len(group_ids):
        raise ValueError(f"{len(results)} verdicts but {len(group_ids)} group ids")
    ranks = ranks_within_groups([r.score for r in results], group_ids)
    return [
        GroupScore(key, indices, [results[i] for i in indices], [ranks[i] for i in indices])
        for key, indices in group_members(group_ids).items()
    ]


def score_groups(reward: AestheticReward, images: object, group_ids: Sequence[Hashable] | None = None) -> list[GroupScore]:
    """Score ``images`` (anything ``AestheticReward.score`` takes) once and rank them within their groups.

    ``group_ids`` gives each image's group (any hashable; None: all images are one group, key 0).
    """
    results = reward.score(images)
    return group_results(results, [0] * len(results) if group_ids is None else group_ids)
