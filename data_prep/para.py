"""PARA (Yang et al., CVPR 2022) from its release: the GIAA annotation CSVs and ``imgs/<session>/``.

Release layout::

    annotation/PARA-GiaaTrain.csv   columns include imageName, sessionId, aestheticScore_1.0 ..
    annotation/PARA-GiaaTest.csv    aestheticScore_5.0 (vote shares), aestheticScore_mean,
                                    aestheticScore_std, then attribute columns; 3,000 test rows
    imgs/<sessionId>/<imageName>

Score: ``aestheticScore_mean`` on 1..5; ``aestheticScore_std`` is kept as ``vote_std`` (the release
gives no rating count). Split (Aes-R1 Appendix C: official): the two files; an image in both is
kept in test and its train line reported as ``duplicate_id``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from data_prep.label_collector import LabelCollector
from data_prep.native_files import parse_float, read_csv_rows, require_file
from data_prep.normalisation import DEFAULT_METHOD
from data_prep.records import LabelSet

DATASET = "para"
SOURCE = "PARA (Yang et al. 2022): annotation/PARA-Giaa{Train,Test}.csv and imgs/<sessionId>/ from the PARA release"
FILES = {"test": "PARA-GiaaTest.csv", "train": "PARA-GiaaTrain.csv"}
COLUMNS = {
    "image": ["imageName"], "session": ["sessionId"], "mean": ["aestheticScore_mean"], "std": ["aestheticScore_std"],
}


def read_labels(annotation: Path, images: Path, method: str = DEFAULT_METHOD) -> LabelSet:
    """Read the GIAA test then train CSV (so test wins a duplicate)."""
    files = {split: require_file(Path(annotation) / name, f"PARA {split} annotation {name}") for split, name in FILES.items()}
    collector = LabelCollector(DATASET, method)
    for split, path in files.items():
        for line, row in read_csv_rows(path, COLUMNS):
            raw = parse_float(row["mean"], path, line, "aestheticScore_mean")
            std = parse_float(row["std"], path, line, "aestheticScore_std")
            image = Path(images) / row["session"] / row["image"]
            collector.add(row["image"], split, raw, image, file=path, line=line, vote_std=std)
    definition = {"kind": "official", "train": os.path.abspath(files["train"]), "test": os.path.abspath(files["test"])}
    return collector.label_set([files["train"], files["test"]], definition)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), help="the PARA folder holding annotation/ and imgs/")
    parser.add_argument("--annotation", type=Path, help="folder with PARA-GiaaTrain.csv and PARA-GiaaTest.csv (default: ROOT/annotation)")
    parser.add_argument("--images", type=Path, help="folder with the session folders (default: ROOT/imgs)")


def labels_from_args(args: argparse.Namespace) -> LabelSet:
    return read_labels(args.annotation or args.root / "annotation", args.images or args.root / "imgs", args.normalisation)
