"""What a converter reads from a release: one labelled image per :class:`Record`, plus issues.

Every dataset converter produces a :class:`LabelSet`; the shared writer turns it into parquet. A
label line that cannot become a record (duplicate id, score outside the scale, image in two
splits) is kept as an :class:`Issue` and written to the run's report, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Record:
    """One labelled image.

    Attributes:
        id: the image's identifier as the release's label file writes it (unique in a dataset).
        dataset: ``ava`` | ``tad66k`` | ``flickr_aes`` | ``para`` | ``aadb``.
        split: ``train`` | ``val`` | ``test``.
        raw_score: the label on the dataset's native scale.
        score: ``raw_score`` normalised to [0, 1].
        image_path: absolute path of the image file (it may be missing: the writer checks).
        vote_count: number of ratings behind the mean, where the release gives them.
        vote_std: population std of those ratings on the native scale, where known.
    """

    id: str
    dataset: str
    split: str
    raw_score: float
    score: float
    image_path: str
    vote_count: int | None = None
    vote_std: float | None = None


@dataclass(frozen=True)
class Issue:
    """A label-level problem found while reading a release (the record is not written)."""

    id: str
    reason: str
    detail: str
    file: str = ""
    line: int | None = None

    def as_dict(self) -> dict:
        return {"stage": "labels", "id": self.id, "reason": self.reason, "detail": self.detail, "file": self.file, "line": self.line}


@dataclass
class LabelSet:
    """Everything a converter learned from a release, ready for :func:`data_prep.convert.write_dataset`.

    Attributes:
        dataset: dataset name.
        records: labelled images; the writer sorts them by (split, id).
        issues: label-level problems, written to the report.
        source_files: label/split files read (checksummed into the manifest).
        split_definition: how train/val/test were decided (written to the manifest).
        normalisation: the score normalisation used (written to the manifest).
    """

    dataset: str
    records: list[Record]
    issues: list[Issue] = field(default_factory=list)
    source_files: list[Path] = field(default_factory=list)
    split_definition: dict = field(default_factory=dict)
    normalisation: dict = field(default_factory=dict)
