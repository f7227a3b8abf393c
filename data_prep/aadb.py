"""AADB (Kong et al., ECCV 2016) from its release: the regression score lists + the image folder.

Release layout::

    imgListFiles_label/imgListTrainRegression_score.txt        ``<image name> <score>``, 8,458 lines
    imgListFiles_label/imgListValidationRegression_score.txt   500 lines
    imgListFiles_label/imgListTestNewRegression_score.txt      1,000 lines (the corrected test list;
                                                               ``imgListTestRegression_score.txt`` is not used)
    datasetImages_originalSize/<image name>

Scores are already in [0, 1] ((mean rating - 1) / 4). 127 images sit in both Train and TestNew;
they are kept once and the second listing is reported as ``duplicate_id``.
Split: default ``seeded`` (Aes-R1's authors: 9:1 at random, seed 42, over all unique images) so
that Table 1 can be reproduced; ``official`` keeps Train / Validation / TestNew, with the overlap
in test only.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from data_prep.label_collector import LabelCollector
from data_prep.native_files import parse_float, read_whitespace_rows, require_file
from data_prep.normalisation import DEFAULT_METHOD
from data_prep.records import LabelSet
from data_prep.splits import (
    DEFAULT_SEED,
    DEFAULT_TEST_FRACTION,
    describe_seeded,
    seeded_test_ids,
)

DATASET = "aadb"
SOURCE = "AADB (Kong et al. 2016): imgListFiles_label/imgList{Train,Validation,TestNew}Regression_score.txt and datasetImages_originalSize/"
# Read order decides which listing of a duplicated image is kept: test first, as in the official split.
LIST_FILES = {
    "test": "imgListTestNewRegression_score.txt",
    "val": "imgListValidationRegression_score.txt",
    "train": "imgListTrainRegression_score.txt",
}


def read_labels(
    labels: Path, images: Path, method: str = DEFAULT_METHOD, split: str = "seeded", seed: int = DEFAULT_SEED,
    test_fraction: float = DEFAULT_TEST_FRACTION,
) -> LabelSet:
    """Read the three lists and split (see the module docstring)."""
    files = {name: require_file(Path(labels) / file, f"AADB list {file}") for name, file in LIST_FILES.items()}
    collector = LabelCollector(DATASET, method)
    listed: set[str] = set()
    for list_split, path in files.items():
        for line, fields in read_whitespace_rows(path, n_columns=2):
            listed.add(fields[0])
            collector.add(fields[0], list_split, parse_float(fields[1], path, line, 2), Path(images) / fields[0], file=path, line=line)
    if split == "seeded":
        # Over the listed ids, valid label or not: a bad label must not move other images between splits.
        test_ids = seeded_test_ids(listed, seed, test_fraction)
        collector.assign_splits(lambda record: "test" if record.id in test_ids else "train")
        definition = describe_seeded(seed, test_fraction) | {"over": "the unique images listed in Train, Validation and TestNew (valid label or not)"}
    elif split == "official":
        definition = {"kind": "official", **{name: os.path.abspath(path) for name, path in files.items()}, "overlap": "kept in test only"}
    else:
        raise ValueError(f"unknown AADB split {split!r}; expected 'seeded' or 'official'")
    return collector.label_set(list(files.values()), definition)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), help="the AADB folder holding imgListFiles_label/ and datasetImages_originalSize/")
    parser.add_argument("--labels", type=Path, help="folder with the regression score lists (default: ROOT/imgListFiles_label)")
    parser.add_argument("--images", type=Path, help="image folder (default: ROOT/datasetImages_originalSize)")
    parser.add_argument("--split", choices=("seeded", "official"), default="seeded", help="seeded 9:1 (Aes-R1, default) or Train/Validation/TestNew")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the 9:1 split (Aes-R1's authors: 42)")
    parser.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION, help="test share of the seeded split")


def labels_from_args(args: argparse.Namespace) -> LabelSet:
    return read_labels(
        args.labels or args.root / "imgListFiles_label", args.images or args.root / "datasetImages_originalSize",
        args.normalisation, args.split, args.seed, args.test_fraction,
    )
