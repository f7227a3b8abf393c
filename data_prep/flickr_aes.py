"""FLICKR-AES (Ren et al., ICCV 2017) from its release: per-worker ratings, image scores, ``40K/``.

Release files::

    FLICKR-AES_image_labeled_by_each_worker.csv   header ``worker, imagePair, score`` (values
                                                  preceded by spaces), ratings 1..5, 5 per image
    FLICKR-AES_image_score.txt                    ``<image name> <score>``, lines may start with
                                                  spaces (optional: cross-checked only)
    40K/<image name>

Score: the mean of the worker ratings (1..5), recomputed from the worker file, with its count and
population std. A rating outside 1..5 (``rating_out_of_range``) or a second rating of the same image
by the same worker (``duplicate_rating``, the first is kept) is reported with its line and left out
of the mean; an image left without ratings is reported (``no_valid_ratings``) and not written.
The score file is compared with that mean, read both as ``mean / 5`` and as the mean itself; the
closer reading and the images that disagree by more than 0.01 are reported.
Split: no official generic split. Default (Aes-R1's authors): seeded 9:1, seed 42. Option
``test-workers``: every image rated by a worker listed in a file (the field's 37 test workers,
4,737 images) is test.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
from collections import defaultdict
from pathlib import Path

from data_prep.label_collector import LabelCollector
from data_prep.native_files import (
    parse_float,
    read_csv_rows,
    read_whitespace_rows,
    require_file,
)
from data_prep.normalisation import DEFAULT_METHOD
from data_prep.records import LabelSet
from data_prep.splits import (
    DEFAULT_SEED,
    DEFAULT_TEST_FRACTION,
    describe_seeded,
    seeded_test_ids,
)

DATASET = "flickr_aes"
SOURCE = (
    "FLICKR-AES (Ren et al. 2017): FLICKR-AES_image_labeled_by_each_worker.csv, FLICKR-AES_image_score.txt, 40K/ "
    "from the authors' release (github.com/alanspike/personalizedImageAesthetics)"
)
WORKER_FILE = "FLICKR-AES_image_labeled_by_each_worker.csv"
SCORE_FILE = "FLICKR-AES_image_score.txt"
COLUMNS = {"worker": ["worker", "workerId"], "image": ["imagePair", "image", "imageName"], "score": ["score", "rating"]}
AGREEMENT_TOLERANCE = 0.01


def read_worker_ratings(path: Path) -> dict[str, list[tuple[str, float, int]]]:
    """image -> [(worker, rating, line)] in file order."""
    ratings: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for line, row in read_csv_rows(path, COLUMNS):
        ratings[row["image"]].append((row["worker"], parse_float(row["score"], path, line, "score"), line))
    return ratings


def read_score_file(path: Path) -> dict[str, tuple[float, int]]:
    """image -> (score, line) of ``FLICKR-AES_image_score.txt``."""
    return {fields[0]: (parse_float(fields[1], path, line, 2), line) for line, fields in read_whitespace_rows(path, n_columns=2)}


def read_labels(
    worker_csv: Path, images: Path, score_txt: Path | None = None, method: str = DEFAULT_METHOD, split: str = "seeded",
    seed: int = DEFAULT_SEED, test_fraction: float = DEFAULT_TEST_FRACTION, test_workers: Path | None = None,
) -> LabelSet:
    """Read the ratings, cross-check the score file, and split (see the module docstring)."""
    worker_csv = require_file(worker_csv, f"{WORKER_FILE} (per-worker ratings)")
    sources = [worker_csv]
    collector = LabelCollector(DATASET, method)
    ratings = read_worker_ratings(worker_csv)
    for image, entries in ratings.items():
        values = _valid_ratings(collector, image, entries, worker_csv)
        if not values:
            collector.report(image, "no_valid_ratings", f"none of its {len(entries)} ratings is usable", worker_csv, entries[0][2])
            continue
        collector.add(
            image, "train", statistics.fmean(values), Path(images) / image, file=worker_csv, line=entries[0][2],
            vote_count=len(values), vote_std=statistics.pstdev(values),
        )
    collector.check_scales()
    definition: dict
    if split == "seeded":
        # Over every listed image, so that a bad label does not move other images between splits.
        test_ids = seeded_test_ids(ratings, seed, test_fraction)
        definition = describe_seeded(seed, test_fraction)
    elif split == "test-workers":
        if test_workers is None:
            raise ValueError("--split test-workers needs --test-workers FILE (one worker id per line)")
        test_workers = require_file(test_workers, "test worker list")
        sources.append(test_workers)
        workers = {fields[0] for _, fields in read_whitespace_rows(test_workers, n_columns=1)}
        test_ids = {image for image, entries in ratings.items() if any(worker in workers for worker, _, _ in entries)}
        definition = {"kind": "test-workers", "workers": os.path.abspath(test_workers), "n_workers": len(workers)}
    else:
        raise ValueError(f"unknown FLICKR-AES split {split!r}; expected 'seeded' or 'test-workers'")
    collector.assign_splits(lambda record: "test" if record.id in test_ids else "train")
    if score_txt is not None:
        score_txt = require_file(score_txt, f"{SCORE_FILE} (image scores)")
        sources.append(score_txt)
        definition["score_file_check"] = _cross_check(collector, read_score_file(score_txt), score_txt)
    return collector.label_set(sources, definition)


def _valid_ratings(collector: LabelCollector, image: str, entries: list[tuple[str, float, int]], path: Path) -> list[float]:
    """The image's ratings on the 1..5 scale, one per worker (see the module docstring)."""
    kept: dict[str, float] = {}
    for worker, rating, line in entries:
        if not collector.in_scale(rating, path):
            collector.report(image, "rating_out_of_range", f"worker {worker} rated {rating:g}, outside [1, 5]; left out of the mean", path, line)
        elif worker in kept:
            agreement = "same rating" if kept[worker] == rating else f"conflicting rating {rating:g} (kept {kept[worker]:g})"
            collector.report(image, "duplicate_rating", f"worker {worker} again, {agreement}; left out of the mean", path, line)
        else:
            kept[worker] = rating
    return list(kept.values())


def _cross_check(collector: LabelCollector, file_scores: dict[str, tuple[float, int]], path: Path) -> dict:
    """Compare the score file with the recomputed means; report disagreements and missing images."""
    pairs = [(collector.records[image].raw_score, value, image, line) for image, (value, line) in file_scores.items() if image in collector.records]
    readings = {"mean / 5": lambda mean: mean / 5.0, "mean": lambda mean: mean}
    error = {name: statistics.median([abs(f(mean) - value) for mean, value, _, _ in pairs]) if pairs else math.nan for name, f in readings.items()}
    reading = min(readings, key=lambda name: error[name])
    disagreeing = 0
    for mean, value, image, line in pairs:
        if abs(readings[reading](mean) - value) > AGREEMENT_TOLERANCE:
            disagreeing += 1
            collector.report(image, "score_file_disagrees", f"score file {value}, worker mean {mean:.4f} read as {reading}", path, line)
    for image, (_, line) in file_scores.items():
        if image not in collector.records:
            collector.report(image, "no_worker_ratings", "in the score file but not in the worker file (not written)", path, line)
    return {"reading": reading, "median_abs_difference": error[reading], "disagreeing": disagreeing, "compared": len(pairs)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", type=Path, default=Path("."), help=f"folder holding {WORKER_FILE}, {SCORE_FILE} and 40K/")
    parser.add_argument("--worker-csv", type=Path, help=f"per-worker ratings (default: ROOT/{WORKER_FILE})")
    parser.add_argument("--score-txt", type=Path, help=f"image scores to cross-check (default: ROOT/{SCORE_FILE} if present)")
    parser.add_argument("--images", type=Path, help="image folder (default: ROOT/40K)")
    parser.add_argument(
        "--split", choices=("seeded", "test-workers"), default="seeded", help="seeded 9:1 (Aes-R1, default) or the test workers' images"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the 9:1 split (Aes-R1's authors: 42)")
    parser.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION, help="test share of the seeded split")
    parser.add_argument("--test-workers", type=Path, help="file with one test worker id per line (for --split test-workers)")


def labels_from_args(args: argparse.Namespace) -> LabelSet:
    score_txt = args.score_txt or (args.root / SCORE_FILE if (args.root / SCORE_FILE).is_file() else None)
    return read_labels(
        args.worker_csv or args.root / WORKER_FILE, args.images or args.root / "40K", score_txt, args.normalisation,
        args.split, args.seed, args.test_fraction, args.test_workers,
    )
