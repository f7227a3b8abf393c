"""AVA (Murray et al., CVPR 2012) from its release: ``AVA.txt``, the test list and ``images/``.

Release layout (``AVA_dataset/``)::

    AVA.txt                                    15 whitespace-separated columns, no header:
                                               row index, image id, vote counts for 1..10,
                                               semantic tag 1, semantic tag 2, challenge id
    aesthetics_image_lists/generic_test.jpgl   one test image id per line
    images/<id>.jpg

Score: the MOS of the vote distribution on 1..10; the vote count and the vote std are kept.
Split (Aes-R1 Appendix C: official): ids in ``generic_test.jpgl`` are test, every other id is
train. Test ids absent from ``AVA.txt`` are reported.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from pathlib import Path

from data_prep.label_collector import LabelCollector
from data_prep.native_files import parse_count, read_whitespace_rows, require_file
from data_prep.normalisation import DEFAULT_METHOD
from data_prep.records import LabelSet

DATASET = "ava"
SOURCE = "AVA (Murray et al. 2012): AVA.txt, aesthetics_image_lists/generic_test.jpgl and images/ from the AVA_dataset release"
N_COLUMNS = 15
VOTE_COLUMNS = range(2, 12)  # columns 3..12 hold the counts of votes 1..10


def vote_statistics(counts: Sequence[int]) -> tuple[float, float, int]:
    """Mean, population std and number of votes of AVA's 10-bin distribution (votes 1..10).

    ``mean = sum(s * c_s) / n``, ``std = sqrt(sum(c_s * (s - mean)^2) / n)``, ``n = sum(c_s)``.
    Raises ValueError when there are no votes.
    """
    if len(counts) != 10:
        raise ValueError(f"AVA has 10 vote bins, got {len(counts)}")
    total = sum(counts)
    if total <= 0:
        raise ValueError("no votes")
    mean = sum(score * count for score, count in zip(range(1, 11), counts)) / total
    variance = sum(count * (score - mean) ** 2 for score, count in zip(range(1, 11), counts)) / total
    return mean, math.sqrt(variance), total


def read_test_ids(path: Path) -> list[tuple[int, str]]:
    """``(line, id)`` of a ``.jpgl`` list (an id per line; a trailing ``.jpg`` is accepted)."""
    return [(line, fields[0].removesuffix(".jpg")) for line, fields in read_whitespace_rows(path, n_columns=1)]


def read_labels(ava_txt: Path, test_list: Path, images: Path, method: str = DEFAULT_METHOD) -> LabelSet:
    """Read AVA's votes and official test list into records (see the module docstring)."""
    ava_txt = require_file(ava_txt, "AVA.txt (vote counts)")
    test_list = require_file(test_list, "generic_test.jpgl (AVA test list)")
    test_ids = {id for _, id in read_test_ids(test_list)}
    collector = LabelCollector(DATASET, method)
    for line, fields in read_whitespace_rows(ava_txt, n_columns=N_COLUMNS):
        id = fields[1]
        counts = [parse_count(fields[column], ava_txt, line, column + 1) for column in VOTE_COLUMNS]
        if sum(counts) == 0:
            collector.report(id, "no_votes", "all ten vote counts are 0", ava_txt, line)
            continue
        mean, std, total = vote_statistics(counts)
        split = "test" if id in test_ids else "train"
        collector.add(id, split, mean, Path(images) / f"{id}.jpg", file=ava_txt, line=line, vote_count=total, vote_std=std)
    for line, id in read_test_ids(test_list):
        if id not in collector.records:
            collector.report(id, "test_id_not_in_labels", "listed in the test list but not in AVA.txt", test_list, line)
    definition = {"kind": "official", "test": os.path.abspath(test_list), "train": "every other id of AVA.txt"}
    return collector.label_set([ava_txt, test_list], definition)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, help="the AVA_dataset folder (default locations of the files below)")
    parser.add_argument("--ava-txt", type=Path, help="AVA.txt (default: ROOT/AVA.txt)")
    parser.add_argument("--test-list", type=Path, help="test list (default: ROOT/aesthetics_image_lists/generic_test.jpgl)")
    parser.add_argument("--images", type=Path, help="image folder with <id>.jpg (default: ROOT/images)")


def labels_from_args(args: argparse.Namespace) -> LabelSet:
    root = args.root or Path(".")
    return read_labels(
        args.ava_txt or root / "AVA.txt",
        args.test_list or root / "aesthetics_image_lists" / "generic_test.jpgl",
        args.images or root / "images",
        args.normalisation,
    )
