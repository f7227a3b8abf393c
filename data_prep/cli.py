"""Command line: ``python -m data_prep <dataset|mix> ...`` (console script ``aesr1-prep``).

Each dataset subcommand reads the release's own files (its ``--help`` says which and where they
come from) and writes ``<out>/{table,rl}/*.parquet``, ``manifest.json`` and ``report.jsonl``.
``mix`` builds the Aes-R1 Sec. 4.2 training mixture from converted AVA, TAD66K and FLICKR-AES.

Every mode applies the project's pixel budget (``data_prep.pixel_budget``, 262,144 pixels = 512x512
by default): what the parquet points at or embeds is what the model receives.
A release that differs from its documented format stops the run with one line naming the file,
line and column (``--debug`` adds the traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from data_prep import aadb, ava, flickr_aes, mixture, para, tad66k
from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import DEFAULT_PIXEL_CAP, ImageOptions
from data_prep.layouts import LAYOUTS
from data_prep.native_files import NativeFormatError
from data_prep.normalisation import DEFAULT_METHOD, METHODS
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from data_prep.sharding import DEFAULT_SHARD_BYTES

CONVERTERS = {module.DATASET: module for module in (ava, tad66k, flickr_aes, para, aadb)}


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("--out", type=Path, required=True, help="output folder (a rerun resumes from its finished shards)")
    group.add_argument("--layout", choices=(*LAYOUTS, "both"), default="both", help="table (evaluation), rl (RLHFDataset) or both")
    group.add_argument("--shard-size-mb", type=float, default=DEFAULT_SHARD_BYTES / 2**20, help="target size of one parquet shard")
    group = parser.add_argument_group("images")
    group.add_argument(
        "--embed", action="store_true",
        help=(
            "store image bytes in the parquet, once: in rl/ when both layouts are written (the table reads them from there) "
            "(default: absolute paths: the original file, or a prepared copy under OUT/images/)"
        ),
    )
    group.add_argument(
        "--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
        help=f"pixel budget of what the model receives, in every mode (default {DEFAULT_MAX_PIXELS} = 512x512; 0: off)",
    )
    group.add_argument("--pixel-cap", type=int, default=DEFAULT_PIXEL_CAP, help="skip images above this many pixels (decompression bombs)")
    group.add_argument("--min-side", type=int, default=16, help="skip images with a side shorter than this")
    group = parser.add_argument_group("run")
    group.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="image worker processes (1: no pool)")
    group.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_debug_argument(parser)


def _add_debug_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")


def _layouts(choice: str) -> tuple[str, ...]:
    return LAYOUTS if choice == "both" else (choice,)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aesr1-prep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, module in CONVERTERS.items():
        sub = commands.add_parser(name, help=module.SOURCE, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.add_argument("--normalisation", choices=METHODS, default=DEFAULT_METHOD, help="minmax: (x-lo)/(hi-lo); max: x/hi")
        _add_output_arguments(sub)
    mix = commands.add_parser(
        "mix", help="Aes-R1 Sec. 4.2 training mixture", description=mixture.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    mixture.add_arguments(mix)
    _add_debug_argument(mix)
    return parser


USER_ERRORS = (NativeFormatError, OSError, ValueError)
"""Errors about the user's files or arguments: printed as one line (their messages name the place)."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"aesr1-prep {args.command}: error: {error}\n(run with --debug for the traceback)", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "mix":
        manifest = mixture.run_from_args(args)
        print(mixture.summary(manifest))
        return 0
    labels = CONVERTERS[args.command].labels_from_args(args)
    image = ImageOptions(
        embed=args.embed, max_pixels=args.max_pixels or None, pixel_cap=args.pixel_cap, min_side=args.min_side,
    )
    options = WriteOptions(
        image=image, layouts=_layouts(args.layout), workers=max(1, args.workers),
        shard_bytes=int(args.shard_size_mb * 2**20), progress=not args.no_progress,
    )
    manifest = write_dataset(labels, args.out, options)
    for split, counts in manifest["counts"].items():
        print(f"{args.command} {split}: {counts['written']} written of {counts['listed']} listed, {counts['skipped_images']} images skipped")
        if counts["written"] == 0:
            print(f"WARNING: {args.command} {split}: no image was written, so the split has no parquet file", file=sys.stderr)
    if manifest["skipped_by_reason"]:
        print(f"skipped or reported, by reason: {manifest['skipped_by_reason']} (details: {Path(args.out) / 'report.jsonl'})")
    budget = manifest["images"]["budget"]["max_pixels"]
    print(f"images: pixel budget {budget if budget else 'off'}; {manifest['images']['changes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
