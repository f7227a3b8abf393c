"""``aesr1-score``'s curation outputs, the same from a serial run and from ``aesr1-score ray``:
``--bursts`` (burst, rank within it, best frame), ``--xmp`` (star-rating sidecars), ``--html`` (contact sheet).

They run on the scored rows after scoring, so a resumed run writes them from every row, old and new.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from recipe.aesr1.curation.bursts import (
    DEFAULT_MAX_DISTANCE,
    DEFAULT_MAX_GAP_S,
    BurstSettings,
    annotate_bursts,
    fingerprint_file,
)
from recipe.aesr1.curation.contact_sheet import write_contact_sheet
from recipe.aesr1.curation.xmp import (
    NAMINGS,
    RatingScale,
    sidecar_conflicts,
    write_sidecar,
)


def add_curation_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("curation")
    group.add_argument("--bursts", action="store_true", help="group near-identical shots, rank each burst, mark its best frame")
    group.add_argument("--burst-max-distance", type=int, default=DEFAULT_MAX_DISTANCE,
                       help="most differing bits of two photos' 64-bit perceptual hashes in one burst")
    group.add_argument("--burst-max-gap", type=float, default=DEFAULT_MAX_GAP_S,
                       help="most seconds between two photos' EXIF capture times in one burst (when both have one)")
    group.add_argument("--xmp", action="store_true", help="write an XMP sidecar per photo: xmp:Rating 1-5 and the critique")
    group.add_argument("--xmp-thresholds", type=RatingScale.parse, default=RatingScale(),
                       help="4 increasing scores where 2, 3, 4 and 5 stars start (default 0.2,0.4,0.6,0.8)")
    group.add_argument("--xmp-naming", choices=NAMINGS, default="adobe", help="IMG_1.xmp (adobe) or IMG_1.jpg.xmp (darktable)")
    group.add_argument("--xmp-overwrite", action="store_true", help="replace ratings and descriptions a person set")
    group.add_argument("--html", type=Path, help="write a contact sheet: one self-contained HTML page")


def with_bursts(rows: list[dict], settings: BurstSettings, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[dict]:
    """Rows with their burst fields; files that cannot be read are in no burst."""
    prints = [fingerprint_file(Path(row["path"]), max_pixels) if row.get("path") else None for row in rows]
    return annotate_bursts(rows, prints, settings)


def write_sidecars(rows: list[dict], scale: RatingScale, naming: str, overwrite: bool, model: str) -> dict[str, list[str]]:
    """A sidecar for every scored photo file; returns ``{"written": [...], "skipped": ["path: why", ...]}``.

    Photos that would share one sidecar (``IMG_1.jpg`` and ``IMG_1.png`` under adobe naming) get none,
    as does an existing sidecar that is not XMP we can merge: each is listed in ``skipped``.
    """
    files = [Path(r["path"]) for r in rows if r.get("path") and r.get("score") is not None]
    clashes = {photo for photos in sidecar_conflicts(files, naming).values() for photo in photos}
    report: dict[str, list[str]] = {"written": [], "skipped": []}
    for row in rows:
        photo = Path(row["path"]) if row.get("path") else None
        if photo is None or row.get("score") is None:
            continue
        if photo in clashes:
            report["skipped"].append(f"{photo}: shares a sidecar with another photo (use --xmp-naming darktable)")
            continue
        try:
            path = write_sidecar(photo, row["score"], row.get("reasoning", ""), row.get("level", ""), model, scale, naming, overwrite)
        except (ValueError, OSError) as error:
            report["skipped"].append(f"{photo}: {error}")
        else:
            report["written"].append(str(path))
    return report


def curate_from_args(rows: list[dict], args: argparse.Namespace) -> list[dict]:
    """Apply the curation options to scored rows (``path``, ``score``, ``reasoning``, ...); returns the rows
    (with burst fields under ``--bursts``) and prints what was written."""
    if args.bursts:
        rows = with_bursts(rows, BurstSettings(args.burst_max_distance, args.burst_max_gap), getattr(args, "max_pixels", DEFAULT_MAX_PIXELS))
        bursts = {r["burst"] for r in rows if r["burst"]}
        print(f"{len(bursts)} burst(s) among {len(rows)} photos")
    if args.xmp:
        report = write_sidecars(rows, args.xmp_thresholds, args.xmp_naming, args.xmp_overwrite, args.model)
        print(f"wrote {len(report['written'])} XMP sidecar(s)")
        for line in report["skipped"]:
            print(f"  no sidecar: {line}")
    if args.html:
        write_contact_sheet(rows, args.html, model=Path(args.model).name)
        print(f"wrote {args.html}")
    return rows
