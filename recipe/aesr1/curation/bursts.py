"""Bursts: near-identical shots of one moment, found by a perceptual hash and the capture time.

Two photos are in one burst when their 64-bit perceptual hashes (``imagehash.phash``: DCT of a 32 x 32
grey thumbnail; robust to re-encoding, small crops and small exposure changes) differ in at most
``max_distance`` bits, and, when both carry an EXIF capture time, were taken at most ``max_gap_s``
apart. Bursts are the connected components of that relation (single linkage: a slow pan is one burst).
Photos without a near-duplicate are in no burst.

Within a burst the judge's scores give ranks (``scoring.groups.ranks_within_groups``, the ranking of
the reward service's group scoring); rank 1 is the burst's best frame (ties: the first in input order).
An absolute score saturates among near-identical frames; what matters for picking is the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from data_prep.decode import decode_image
from recipe.aesr1.scoring.groups import group_members, ranks_within_groups

DEFAULT_MAX_DISTANCE = 10  # bits of 64; measured on the tests' crops and exposure changes (README)
DEFAULT_MAX_GAP_S = 30.0
_EXIF_IFD = 0x8769
_DATETIME_ORIGINAL = 0x9003
_DATETIME = 0x0132


@dataclass(frozen=True)
class BurstSettings:
    max_distance: int = DEFAULT_MAX_DISTANCE
    max_gap_s: float = DEFAULT_MAX_GAP_S

    def __post_init__(self) -> None:
        if not 0 <= self.max_distance <= 64:
            raise ValueError(f"max_distance counts bits of a 64-bit hash: 0..64, got {self.max_distance}")
        if self.max_gap_s < 0:
            raise ValueError(f"max_gap_s must be >= 0, got {self.max_gap_s}")


@dataclass(frozen=True)
class Fingerprint:
    """What burst finding needs of one photo: its perceptual hash and capture time (None if unknown)."""

    phash: int
    taken_at: float | None


def fingerprint(image: Image.Image) -> Fingerprint:
    """The photo's 64-bit pHash and its EXIF capture time (DateTimeOriginal, else DateTime), as POSIX seconds."""
    import imagehash

    bits = imagehash.phash(image.convert("RGB")).hash.flatten()
    return Fingerprint(int("".join("1" if b else "0" for b in bits), 2), capture_time(image))


def capture_time(image: Image.Image) -> float | None:
    """EXIF DateTimeOriginal (else DateTime) as naive POSIX seconds; None when absent or malformed."""
    try:
        exif = image.getexif()
        value = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
        return datetime.strptime(str(value).strip("\x00 "), "%Y:%m:%d %H:%M:%S").timestamp() if value else None
    except (ValueError, TypeError, OSError):
        return None  # a camera's malformed date is no capture time, not a failed photo


def find_bursts(
    prints: Sequence[Fingerprint | None], settings: BurstSettings = BurstSettings(), block: int = 1024
) -> list[int | None]:
    """Burst number (0, 1, ... in order of each burst's first photo) per photo; None: no burst.

    ``None`` fingerprints (photos that could not be read) are in no burst. Every pair is compared
    (quadratic time), ``block`` photos against all others at a time (memory ``block`` x N).
    """
    known = [i for i, p in enumerate(prints) if p is not None]
    bursts: list[int | None] = [None] * len(prints)
    if len(known) < 2:
        return bursts
    hashes = np.asarray([prints[i].phash for i in known], dtype=np.uint64)
    times = np.array([np.nan if prints[i].taken_at is None else prints[i].taken_at for i in known])
    rows, cols = [], []
    for start in range(0, len(known), block):
        stop = min(start + block, len(known))
        near = np.bitwise_count(hashes[start:stop, None] ^ hashes[None, :]) <= settings.max_distance
        near &= ~(np.abs(times[start:stop, None] - times[None, :]) > settings.max_gap_s)  # NaN: a time unknown never separates
        r, c = np.nonzero(near)
        keep = c > r + start  # each pair once, no self-pairs
        rows.append(r[keep] + start)
        cols.append(c[keep])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(known), len(known)))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    numbering: dict[int, int] = {}
    for position, label in enumerate(labels):
        if sizes[label] > 1:
            bursts[known[position]] = numbering.setdefault(int(label), len(numbering))
    return bursts


def rank_bursts(bursts: Sequence[int | None], scores: Sequence[float | None]) -> list[int | None]:
    """Rank of each photo within its burst (1 = best); None outside a burst or without a score."""
    ranks = ranks_within_groups(scores, bursts)
    return [None if burst is None else rank for burst, rank in zip(bursts, ranks, strict=True)]


def annotate_bursts(rows: list[dict], prints: Sequence[Fingerprint | None], settings: BurstSettings = BurstSettings()) -> list[dict]:
    """Scored rows (``score`` may be None) with ``burst`` ("burst-001" or ""), ``burst_size``,
    ``burst_rank`` and ``burst_best`` (the burst's first rank-1 frame)."""
    bursts = find_bursts(prints, settings)
    ranks = rank_bursts(bursts, [row.get("score") for row in rows])
    sizes = {b: len(members) for b, members in group_members(bursts).items() if b is not None}
    width = max(3, len(str(len(sizes))))
    best_seen: set[int] = set()
    annotated = []
    for row, burst, rank in zip(rows, bursts, ranks, strict=True):
        best = burst is not None and rank == 1 and burst not in best_seen
        if best:
            best_seen.add(burst)
        annotated.append({
            **row, "burst": "" if burst is None else f"burst-{burst + 1:0{width}d}",
            "burst_size": sizes.get(burst, 1), "burst_rank": rank, "burst_best": best,
        })  # fmt: skip
    return annotated


def fingerprint_file(path: Path, max_pixels: int) -> Fingerprint | None:
    """The fingerprint of an image file through the project's guarded decoder; None when unreadable.

    The capture time is read from the file's EXIF (the decoder's downscaled copy carries none).
    """
    loaded = decode_image(path, max_pixels)
    if not loaded.usable:
        return None
    phash = fingerprint(loaded.image).phash
    try:
        with Image.open(path) as original:
            taken_at = capture_time(original)
    except (OSError, ValueError, Image.DecompressionBombError):
        taken_at = None
    return Fingerprint(phash, taken_at)
