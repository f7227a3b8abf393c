"""Command line: ``python -m recipe.aesr1.aescot [--config FILE] [key=value ...]`` (console: aesr1-aescot)."""

from __future__ import annotations

import argparse
import logging
import sys

from recipe.aesr1.aescot.config import config_to_yaml, load_config
from recipe.aesr1.aescot.levels import LEVELS, target_sizes
from recipe.aesr1.aescot.outputs import write_outputs
from recipe.aesr1.aescot.pipeline import run
from recipe.aesr1.aescot.sampling import expand_inputs, order_by_level, read_candidates
from recipe.aesr1.aescot.statistics import format_statistics
from recipe.aesr1.endpoints.chat_client import FatalEndpointError

_EPILOG = """\
examples:
  # AesCoT-3K from prepared parquet, expert and judges on a local vLLM server
  python -m recipe.aesr1.aescot --config configs/aescot.yaml \\
      sampling.inputs='[data/ava,data/tad66k,data/flickr_aes]' output.dir=outputs/aescot3k
  # AesCoT-10K with a hosted expert (key read from $OPENAI_API_KEY, never written anywhere)
  python -m recipe.aesr1.aescot --config configs/aescot.yaml sampling.preset=aescot-10k \\
      expert.base_url=https://api.openai.com/v1 expert.model=gpt-4.1
  # any size, balanced over bad/fair/good
  python -m recipe.aesr1.aescot --config configs/aescot.yaml sampling.preset=null sampling.size=300

Killing the run and starting the same command again resumes it from OUTPUT_DIR/requests.jsonl.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aesr1-aescot",
        description="Build the AesCoT cold-start reasoning set (Aes-R1 Sec. 3.2): balanced sampling, expert "
        "critiques with the score hidden, leakage/alignment/factual filters, SFT parquet for verl, "
        "statistics and a human-audit page.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Configuration
    parser.add_argument("--config", help="YAML config (e.g. configs/aescot.yaml); schema defaults when omitted")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="OmegaConf dot-list overrides, e.g. sampling.size=300 expert.max_concurrency=32")
    # Modes
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.add_argument("--dry-run", action="store_true",
                        help="read the inputs, print per-level availability and targets, make no request")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    overrides = list(args.overrides) + (["show_progress=false"] if args.quiet else [])
    try:
        return _run(args, load_config(args.config, overrides))
    except FatalEndpointError as error:  # its message is redacted and names the endpoint
        print(f"error: {error}", file=sys.stderr)
        return 3
    except (ValueError, FileNotFoundError) as error:  # bad config or inputs: the message names the key or file
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, config) -> int:
    if args.print_config:
        print(config_to_yaml(config))
        return 0
    if args.dry_run:
        target = target_sizes(config.sampling.preset, config.sampling.size)
        candidates = read_candidates(expand_inputs(list(config.sampling.inputs)), config.sampling.split,
                                     list(config.sampling.datasets))
        available = order_by_level(candidates, config.sampling.seed).available()
        for level in LEVELS:
            short = max(0, target[level] - available[level])
            print(f"{level:<5} target {target[level]:>6}  available {available[level]:>7}  shortfall {short}")
        return 0
    result = run(config)
    paths, stats = write_outputs(config, result)
    print(format_statistics(stats))
    print(f"\nSFT set: {paths.sft}  ({len(result.kept)} rows)\nstatistics: {paths.stats}\n"
          f"per-record verdicts: {paths.records}\naudit page: {paths.audit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
