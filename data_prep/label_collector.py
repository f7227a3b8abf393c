"""Collecting records from label lines: normalisation, range checks and duplicate ids in one place.

Duplicate policy (all datasets): the first line with an id wins; every later line with that id is
reported as ``duplicate_id`` with its file and line, saying whether its score agreed.
A score outside the dataset's native scale is reported as ``score_out_of_range`` and not written;
when most scores of one file are outside it, the file is on another scale (e.g. TAD66K divided by
10) and reading stops with a :class:`ScaleError` naming the file and the scale its values fit.
"""

from __future__ import annotations

import dataclasses
import os
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from data_prep.normalisation import NATIVE_SCALES, describe, normalise_score
from data_prep.records import SPLITS, Issue, LabelSet, Record

SCORE_TOLERANCE = 1e-6
OFF_SCALE_SHARE = 0.5  # more than this share of a file's scores off-scale: the file is on another scale
KNOWN_SCALES = ((0.0, 1.0), (1.0, 5.0), (0.0, 5.0), (1.0, 10.0), (0.0, 10.0), (0.0, 100.0))


class ScaleError(ValueError):
    """Most scores of a label file lie outside the dataset's native scale."""


def fitting_scale(values: list[float]) -> str:
    """The smallest usual rating scale holding ``values``, as ``[lo, hi]`` (or ``none of ...``)."""
    low, high = min(values), max(values)
    for lo, hi in KNOWN_SCALES:
        if lo - SCORE_TOLERANCE <= low and high <= hi + SCORE_TOLERANCE:
            return f"[{lo:g}, {hi:g}]"
    return f"none of {[list(scale) for scale in KNOWN_SCALES]}"


class LabelCollector:
    """Accumulates a dataset's records and issues; ``label_set`` hands them to the writer."""

    def __init__(self, dataset: str, method: str):
        self.dataset = dataset
        self.method = method
        self.scale = NATIVE_SCALES[dataset]
        self.records: dict[str, Record] = {}
        self.issues: list[Issue] = []
        self._checked: dict[str, list[float]] = defaultdict(list)
        self._off_scale: dict[str, list[float]] = defaultdict(list)

    def in_scale(self, value: float, file: Path | str) -> bool:
        """Whether ``value`` lies on the native scale; counted per file for the whole-file check."""
        inside = self.scale.lo - SCORE_TOLERANCE <= value <= self.scale.hi + SCORE_TOLERANCE
        self._checked[str(file)].append(value)
        if not inside:
            self._off_scale[str(file)].append(value)
        return inside

    def check_scales(self) -> None:
        """Raise :class:`ScaleError` for a file whose scores are mostly off the native scale."""
        for file, off in self._off_scale.items():
            values = self._checked[file]
            if len(off) > OFF_SCALE_SHARE * len(values):
                raise ScaleError(
                    f"{file}: {len(off)} of {len(values)} scores lie outside {self.dataset}'s native scale "
                    f"[{self.scale.lo:g}, {self.scale.hi:g}]; found {min(values):g} to {max(values):g}, which fits the scale "
                    f"{fitting_scale(values)}. Is it the release's own file? Rescale it to [{self.scale.lo:g}, {self.scale.hi:g}] first."
                )

    def add(
        self, id: str, split: str, raw_score: float, image_path: Path | str, *, file: Path, line: int,
        vote_count: int | None = None, vote_std: float | None = None,
    ) -> None:
        """Add one label line (see the module docstring for duplicates and out-of-range scores)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if id in self.records:
            first = self.records[id]
            same = abs(first.raw_score - raw_score) <= SCORE_TOLERANCE
            agreement = "same score" if same else f"conflicting score {raw_score} (kept {first.raw_score})"
            self.report(id, "duplicate_id", f"{agreement}; first seen in split {first.split}", file, line)
            return
        if not self.in_scale(raw_score, file):
            self.report(id, "score_out_of_range", f"{raw_score} outside [{self.scale.lo}, {self.scale.hi}]", file, line)
            return
        score = min(1.0, max(0.0, normalise_score(raw_score, self.scale, self.method)))
        self.records[id] = Record(
            id=id, dataset=self.dataset, split=split, raw_score=raw_score, score=score,
            image_path=os.path.abspath(image_path), vote_count=vote_count, vote_std=vote_std,
        )

    def report(self, id: str, reason: str, detail: str, file: Path | str = "", line: int | None = None) -> None:
        self.issues.append(Issue(id=id, reason=reason, detail=detail, file=str(file), line=line))

    def assign_splits(self, split_of: Callable[[Record], str]) -> None:
        """Re-assign every record's split (for splits decided after all labels are read)."""
        self.records = {id: dataclasses.replace(record, split=split_of(record)) for id, record in self.records.items()}

    def remove(self, id: str, reason: str, detail: str) -> None:
        """Drop a record that was added, reporting why."""
        del self.records[id]
        self.report(id, reason, detail)

    def label_set(self, source_files: list[Path], split_definition: dict) -> LabelSet:
        """The records and issues, after the whole-file scale check (see the module docstring)."""
        self.check_scales()
        return LabelSet(
            dataset=self.dataset, records=list(self.records.values()), issues=self.issues, source_files=list(source_files),
            split_definition=split_definition, normalisation=describe(self.dataset, self.method),
        )
