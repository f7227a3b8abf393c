"""TAD66K (He et al., IJCAI 2022) from the authors' ``dataset.zip``: merged label CSVs + one image folder.

Release layout::

    dataset/merge/train.csv   header ``image,score``, CRLF, 52,248 rows
    dataset/merge/test.csv    same header, 14,079 rows
    <images>/<image>          the name as written in the ``image`` column (some contain ``@``)

Use ``merge/``, not the per-theme CSVs (478 images of the per-theme train files sit in the merged
test file). Scores are mean ratings on 1..10. Split (Aes-R1 Appendix C: official): the two files.
An image listed in both is kept in test and its train line reported as ``duplicate_id``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from data_prep.label_collector import LabelCollector
from data_prep.native_files import parse_float, read_csv_rows, require_file
from data_prep.normalisation import DEFAULT_METHOD
from data_prep.records import LabelSet

DATASET = "tad66k"
SOURCE = "TAD66K (He et al. 2022): dataset/merge/{train,test}.csv and the image folder from the authors' dataset.zip"
COLUMNS = {"image": ["image", "imageName", "image_name", "name"], "score": ["score", "mos", "mean_score"]}


def read_labels(labels: Path, images: Path, method: str = DEFAULT_METHOD) -> LabelSet:
    """Read ``labels/test.csv`` then ``labels/train.csv`` (so test wins a duplicate)."""
    files = {
        split: require_file(Path(labels) / f"{split}.csv", f"TAD66K merged {split} labels ({split}.csv in the merge/ folder)")
        for split in ("test", "train")
    }
    collector = LabelCollector(DATASET, method)
    for split, path in files.items():
        for line, row in read_csv_rows(path, COLUMNS):
            raw = parse_float(row["score"], path, line, "score")
            collector.add(row["image"], split, raw, Path(images) / row["image"], file=path, line=line)
    definition = {"kind": "official", "train": os.path.abspath(files["train"]), "test": os.path.abspath(files["test"])}
    return collector.label_set([files["train"], files["test"]], definition)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", type=Path, required=True, help="the merge/ folder holding train.csv and test.csv")
    parser.add_argument("--images", type=Path, required=True, help="folder with the images named as in the image column")


def labels_from_args(args: argparse.Namespace) -> LabelSet:
    return read_labels(args.labels, args.images, args.normalisation)
