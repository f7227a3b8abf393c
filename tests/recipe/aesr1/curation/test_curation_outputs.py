"""``aesr1-score --bursts --xmp --html`` with the main job's trained judge on a shoot of its held-out
pictures plus near-identical frames: bursts as constructed, the judge's best frame, sidecars exiftool
reads, a contact sheet chromium loads."""

import csv
import json
import subprocess
from pathlib import Path

from curation_photos import (
    ARTIFACTS,
    held_out_originals,
    open_in_chromium,
    require_binary,
    write_shoot,
)
from trained_main_job import SIZES

from recipe.aesr1.curation import cli as score_cli
from recipe.aesr1.curation.xmp import RatingScale


def test_a_shoot_curated_by_the_trained_judge(main_job, tmp_path):
    shoot = tmp_path / "shoot"
    constructed = write_shoot(held_out_originals(main_job, 8), shoot, burst_of=3)  # 8 + 3 x 4 = 20 photos
    out = tmp_path / "scores.csv"
    argv = [
        str(shoot), "--out", str(out), "--backend", "hf", "--model", str(main_job / "models" / "rapo"), "--device", "cpu",
        "--temperature", "0", "--max-new-tokens", str(SIZES.max_response_length),
        "--bursts", "--xmp", "--xmp-thresholds", "0.5,0.6,0.7,0.8", "--html", str(tmp_path / "sheet.html"),
    ]  # fmt: skip
    assert score_cli.main(argv) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 20 and all(r["status"] == "ok" and r["score"] for r in rows)  # the trained judge answers

    # bursts as constructed: each original with its three frames, every other picture alone
    by_name = {Path(r["path"]).name: r for r in rows}
    found = {}
    for name, row in by_name.items():
        if row["burst"]:
            found.setdefault(row["burst"], set()).add(name)
    expected = {}
    for name, stem in constructed.items():
        expected.setdefault(stem, set()).add(name)
    assert sorted(map(sorted, found.values())) == sorted(map(sorted, expected.values()))
    # the best frame of each burst is the one the judge scored highest (the first of equals)
    for members in found.values():
        frames = sorted(members)
        scores = {n: float(by_name[n]["score"]) for n in frames}
        best = [n for n in frames if by_name[n]["burst_best"] == "True"]
        assert len(best) == 1 and scores[best[0]] == max(scores.values())
        # the softened frame (blurred, desaturated) is never the best, nor above its original
        soft, original = next(n for n in frames if n.endswith("_soft.jpg")), min(frames, key=len)
        assert best[0] != soft and scores[soft] <= scores[original], scores

    # sidecars: exiftool reads the rating the mapping gives and the critique; the photos are untouched
    scale = RatingScale((0.5, 0.6, 0.7, 0.8))
    exiftool = require_binary("exiftool")
    tags = json.loads(subprocess.run([exiftool, "-j", "-XMP:Rating", "-XMP:Description", *map(str, sorted(shoot.glob("*.xmp")))],
                                     capture_output=True, text=True, check=True).stdout)
    assert len(tags) == 20
    for tag in tags:
        row = by_name[Path(tag["SourceFile"]).with_suffix(".jpg").name]
        assert tag["Rating"] == scale.stars(float(row["score"])) and tag["Description"] == row["reasoning"]

    # the contact sheet: 20 thumbnails decoded, no console error, nothing fetched from elsewhere
    seen = open_in_chromium(tmp_path / "sheet.html", ARTIFACTS / "contact_sheet_main_job.png")
    assert seen["problems"] == [] and len(seen["images"]) == 20
    assert all(done and width > 0 for _, done, width in seen["images"])

    # rerunning resumes: nothing is scored again, and the same outputs come back
    sidecar = next(shoot.glob("*.xmp")).read_text()
    assert score_cli.main(argv) == 0
    assert list(csv.DictReader(out.open())) == rows and next(shoot.glob("*.xmp")).read_text() == sidecar
