"""``aesr1-eval``: measure a checkpoint on the benchmarks as Aes-R1 Tables 1-4 do.

    aesr1-eval run --model CKPT --backend vllm --data DATA/eval --out runs/ckpt
    aesr1-eval summarize --out runs/ckpt --policy fill --plcc logistic
    aesr1-eval compare --run base=runs/qwen --run rapo=runs/ckpt --out runs/compare

``run`` writes predictions as it goes and resumes when rerun with the same options; ``summarize``
recomputes metrics/tables/plots from saved predictions; ``compare`` puts several runs in one table
with paired bootstrap tests against the first. ``aesr1-eval ray ...`` runs ``run`` on a Ray cluster
(``aesr1-eval ray --help``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from recipe.aesr1.evaluation.backends import SamplingSettings
from recipe.aesr1.evaluation.benchmark_table import PLCC_MODES
from recipe.aesr1.evaluation.cli_options import (
    add_backend_args,
    add_policy_args,
    add_sampling_args,
    backend_from_args,
    policy_from_args,
    sampling_from_args,
)
from recipe.aesr1.evaluation.compare import compare_runs
from recipe.aesr1.evaluation.runner import EvaluationSettings, evaluate, summarize_run


def _add_metric_args(parser: argparse.ArgumentParser) -> None:
    add_policy_args(parser)
    group = parser.add_argument_group("metrics")
    group.add_argument(
        "--plcc", choices=PLCC_MODES, default="raw", help="raw Pearson (paper) or after a 4-parameter logistic fit"
    )
    group.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples for 95%% intervals")
    group.add_argument("--bootstrap-seed", type=int, default=0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aesr1-eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="score benchmark images with a model, then report")
    add_backend_args(run)
    data = run.add_argument_group("data")
    data.add_argument("--data", nargs="+", required=True, help="evaluation-table parquet files, folders or globs")
    data.add_argument("--split", default="test", help="split to evaluate (default: test)")
    data.add_argument("--limit", type=int, help="first N images per benchmark (quick runs)")
    data.add_argument("--batch-size", type=int, default=16, help="images per backend call")
    run.add_argument("--out", required=True, help="run folder (predictions, metrics, tables, plots)")
    run.add_argument("--name", help="row name in the table (default: the model folder name)")
    add_sampling_args(run)
    _add_metric_args(run)

    summarize = commands.add_parser("summarize", help="recompute metrics, tables and plots from a run folder")
    summarize.add_argument("--out", required=True, help="run folder written by `run`")
    summarize.add_argument("--name", help="row name in the table (default: the model folder name)")
    _add_metric_args(summarize)

    compare = commands.add_parser("compare", help="several runs in one table, paired tests vs the first")
    compare.add_argument("--run", action="append", required=True, metavar="NAME=FOLDER", help="a run folder (repeat)")
    compare.add_argument("--out", required=True, help="folder for comparison.md/.csv/.json")
    compare.add_argument("--no-paper-rows", action="store_true", help="leave out the paper's Table 1 rows")
    _add_metric_args(compare)
    return parser


def _settings(args: argparse.Namespace, sampling: SamplingSettings | None = None) -> EvaluationSettings:
    extra = {}
    if args.command == "run":
        extra = {"split": args.split, "limit": args.limit, "batch_size": args.batch_size}
    return EvaluationSettings(
        sampling=sampling or SamplingSettings(),
        policy=policy_from_args(args),
        plcc_mode=args.plcc,
        n_resamples=args.n_resamples,
        bootstrap_seed=args.bootstrap_seed,
        **extra,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ray"]:  # distributed mode on Ray Data: recipe/aesr1/distributed/cli.py
        from recipe.aesr1.distributed.cli import eval_main

        return eval_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "run":
        settings = _settings(args, sampling_from_args(args))
        summary = evaluate(backend_from_args(args), args.model, args.data, args.out, settings, args.name)
        print((Path(args.out) / "table.md").read_text())
        print(json.dumps(summary["average"], indent=2))
    elif args.command == "summarize":
        summarize_run(args.out, _settings(args), args.name)
        print((Path(args.out) / "table.md").read_text())
    else:
        runs = {}
        for item in args.run:
            name, sep, folder = item.partition("=")
            if not sep or not name or not folder:
                raise SystemExit(f"--run expects NAME=FOLDER, got {item!r}")
            runs[name] = folder
        compare_runs(runs, args.out, _settings(args), with_paper_rows=not args.no_paper_rows)
        print((Path(args.out) / "comparison.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
