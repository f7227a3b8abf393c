"""Bursts: the hash/time relation, connected components, ranks within bursts, and real photo files."""

import random
from datetime import datetime

import pytest
from curation_photos import VARIANTS, photo_like_scene, save_photo
from PIL import Image

from recipe.aesr1.curation.bursts import (
    BurstSettings,
    Fingerprint,
    annotate_bursts,
    capture_time,
    find_bursts,
    fingerprint,
    fingerprint_file,
    rank_bursts,
)


def _slow_bursts(prints, settings):
    """Reference: flood fill over the pairwise relation, numbered by first member."""
    n = len(prints)

    def near(i, j):
        a, b = prints[i], prints[j]
        if a is None or b is None or bin(a.phash ^ b.phash).count("1") > settings.max_distance:
            return False
        return a.taken_at is None or b.taken_at is None or abs(a.taken_at - b.taken_at) <= settings.max_gap_s

    label = [None] * n
    count = 0
    for i in range(n):
        if label[i] is not None or not any(near(i, j) for j in range(n) if j != i):
            continue
        stack, label[i] = [i], count
        while stack:
            k = stack.pop()
            for j in range(n):
                if j != k and label[j] is None and near(k, j):
                    label[j] = count
                    stack.append(j)
        count += 1
    return label


@pytest.mark.parametrize("seed", range(25))
def test_find_bursts_matches_the_slow_reference(seed):
    rng = random.Random(seed)
    bases = [rng.getrandbits(64) for _ in range(4)]
    prints = []
    for _ in range(rng.randint(0, 14)):
        if rng.random() < 0.1:
            prints.append(None)
            continue
        flips = sum(1 << rng.randrange(64) for _ in range(rng.randint(0, 8)))
        taken = None if rng.random() < 0.3 else rng.choice([0.0, 5.0, 20.0, 100.0])
        prints.append(Fingerprint(rng.choice(bases) ^ flips, taken))
    settings = BurstSettings(max_distance=rng.choice([4, 8, 12]), max_gap_s=rng.choice([10.0, 30.0]))
    assert find_bursts(prints, settings) == _slow_bursts(prints, settings)
    assert find_bursts(prints, settings, block=3) == _slow_bursts(prints, settings)  # blocks change nothing


def test_capture_times_separate_lookalikes_and_chain_a_pan():
    same = 0xF0F0F0F0F0F0F0F0
    prints = [Fingerprint(same, 0.0), Fingerprint(same, 3600.0), Fingerprint(same, None), Fingerprint(same ^ 0b111, 3605.0)]
    # 0 and 1 are an hour apart; 2 has no time, so it links to both and joins them (single linkage)
    assert find_bursts(prints, BurstSettings(max_distance=4, max_gap_s=30)) == [0, 0, 0, 0]
    assert find_bursts(prints[:2] + prints[3:], BurstSettings(max_distance=4, max_gap_s=30)) == [None, 0, 0]
    assert find_bursts([Fingerprint(same, 0.0)]) == [None] and find_bursts([]) == []


def test_ranks_within_bursts_and_the_first_best_frame():
    rows = [{"path": f"{k}.jpg", "score": s} for k, s in enumerate([0.5, 0.7, 0.7, 0.2, None])]
    prints = [Fingerprint(1, None), Fingerprint(1, None), Fingerprint(1, None), Fingerprint(1 << 40 | 0xFFFF, None), Fingerprint(1, None)]
    annotated = annotate_bursts(rows, prints, BurstSettings(max_distance=2))
    assert [r["burst"] for r in annotated] == ["burst-001", "burst-001", "burst-001", "", "burst-001"]
    assert [r["burst_rank"] for r in annotated] == [3, 1, 1, None, None]
    assert [r["burst_best"] for r in annotated] == [False, True, False, False, False]  # tie: the first
    assert [r["burst_size"] for r in annotated] == [4, 4, 4, 1, 4]
    assert rank_bursts([None, 0, 0], [0.9, None, 0.1]) == [None, None, 1]
    with pytest.raises(ValueError, match="0..64"):
        BurstSettings(max_distance=65)


def test_near_identical_files_without_capture_times_are_found_by_the_hash_alone(tmp_path):
    files = []
    for seed in range(8):
        files.append(save_photo(photo_like_scene(seed), tmp_path / f"scene{seed}.jpg"))
    for name, make in VARIANTS.items():  # three variants of scene 0, one of scene 5
        files.append(save_photo(make(photo_like_scene(0)), tmp_path / f"scene0_{name}.jpg"))
    files.append(save_photo(VARIANTS["crop"](photo_like_scene(5)), tmp_path / "scene5_crop.jpg"))
    bursts = find_bursts([fingerprint_file(f, 262_144) for f in files])
    by_name = {f.stem: b for f, b in zip(files, bursts)}
    assert {k for k, b in by_name.items() if b == by_name["scene0"]} == {"scene0", "scene0_crop", "scene0_brighter", "scene0_darker"}
    assert by_name["scene5"] == by_name["scene5_crop"] != by_name["scene0"]
    assert all(by_name[f"scene{k}"] is None for k in (1, 2, 3, 4, 6, 7))


def test_capture_time_is_read_from_exif_and_bad_dates_are_no_time(tmp_path):
    path = save_photo(photo_like_scene(1), tmp_path / "a.jpg", datetime(2026, 5, 1, 9, 0, 3))
    assert fingerprint_file(path, 262_144).taken_at == datetime(2026, 5, 1, 9, 0, 3).timestamp()
    image = Image.new("RGB", (8, 8))
    exif = image.getexif()
    exif[0x0132] = "not a date"
    assert capture_time(image) is None and fingerprint(image).taken_at is None
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    assert fingerprint_file(tmp_path / "broken.jpg", 262_144) is None
