"""``aesr1-eval``: measure a checkpoint on the benchmarks as Aes-R1 Tables 1-4 do.

    aesr1-eval run --model CKPT --backend vllm --data DATA/eval --out runs/ckpt
    aesr1-eval summarize --out runs/ckpt --policy fill --plcc logistic
    aesr1-eval compare --run base=runs/qwen --run rapo=runs/ckpt --out runs/compare
    aesr1-eval entropy --model CKPT --backend hf --data DATA/eval --out runs/ckpt/entropy_table3.json

``run`` writes predictions as it goes and resumes when rerun with the same options; ``summarize``
recomputes metrics/tables/plots from saved predictions; ``compare`` puts several runs in one table
with paired bootstrap tests against the first; ``entropy`` measures Table 3's average token entropy
(temperature 1.0, full vocabulary, a sample of the RL training prompts).
``aesr1-eval ray ...`` runs ``run`` on a Ray cluster (``aesr1-eval ray --help``).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from recipe.aesr1.endpoints.chat_client import FatalEndpointError
from recipe.aesr1.evaluation.benchmark_table import PLCC_MODES
from recipe.aesr1.evaluation.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    check_bootstrap_settings,
)
from recipe.aesr1.evaluation.compare import compare_runs
from recipe.aesr1.evaluation.failure_policy import add_policy_args, policy_from_args
from recipe.aesr1.evaluation.policy_entropy import (
    DEFAULT_N_PROMPTS,
    ROLLOUT_MAX_NEW_TOKENS,
    measure_policy_entropy,
)
from recipe.aesr1.evaluation.runner import EvaluationSettings, evaluate, summarize_run
from recipe.aesr1.scoring.backends import SamplingSettings
from recipe.aesr1.scoring.cli_options import (
    add_backend_args,
    add_image_args,
    add_sampling_args,
    backend_from_args,
    sampling_from_args,
)


def _add_metric_args(parser: argparse.ArgumentParser) -> None:
    add_policy_args(parser)
    group = parser.add_argument_group("metrics")
    group.add_argument(
        "--plcc", choices=PLCC_MODES, default="raw", help="raw Pearson (paper) or after a 4-parameter logistic fit"
    )
    group.add_argument(
        "--n-resamples", type=int, default=DEFAULT_RESAMPLES, help="bootstrap resamples (recorded in metrics.json)"
    )
    group.add_argument(
        "--confidence",
        type=float,
        default=DEFAULT_CONFIDENCE,
        help="bootstrap interval level in (0, 1), default 0.95 (recorded in metrics.json)",
    )
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
    data.add_argument(
        "--retry-failed", action="store_true", help="on a rerun, send again images whose requests all failed"
    )
    add_image_args(run)
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

    entropy = commands.add_parser(
        "entropy", help="Table 3's average token entropy: T=1.0, full vocabulary, sampled RL training prompts"
    )
    add_backend_args(entropy)
    entropy.add_argument("--data", nargs="+", required=True, help="evaluation-table parquet files, folders or globs")
    entropy.add_argument("--split", default="train", help="split the RL prompts come from (default: train)")
    entropy.add_argument("--n-prompts", type=int, default=DEFAULT_N_PROMPTS, help="prompts sampled (seeded)")
    entropy.add_argument("--n", type=int, default=1, help="responses per prompt (RAPO rollouts use 4)")
    entropy.add_argument("--max-new-tokens", type=int, default=ROLLOUT_MAX_NEW_TOKENS, help="Appendix C: 1024")
    entropy.add_argument("--seed", type=int, default=0, help="seeds the prompt sample and the sampling")
    entropy.add_argument("--batch-size", type=int, default=8, help="images per backend call")
    entropy.add_argument("--out", required=True, help="JSON file to write")
    return parser


def _settings(args: argparse.Namespace, sampling: SamplingSettings | None = None) -> EvaluationSettings:
    try:  # before any generation: a bad level must not cost a whole run
        check_bootstrap_settings(args.n_resamples, args.confidence)
    except ValueError as error:
        raise SystemExit(f"aesr1-eval: {error}") from None
    extra = {}
    if args.command == "run":
        extra = {
            "split": args.split,
            "limit": args.limit,
            "batch_size": args.batch_size,
            "max_pixels": args.max_pixels,
            "retry_failed": args.retry_failed,
        }
    return EvaluationSettings(
        sampling=sampling or SamplingSettings(),
        policy=policy_from_args(args),
        plcc_mode=args.plcc,
        n_resamples=args.n_resamples,
        confidence=args.confidence,
        bootstrap_seed=args.bootstrap_seed,
        **extra,
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ray"]:  # distributed mode on Ray Data: recipe/aesr1/evaluation/ray_eval.py
        from recipe.aesr1.evaluation.ray_eval import eval_main

        return eval_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.command == "run":
        settings = _settings(args, sampling_from_args(args))
        try:
            summary = evaluate(backend_from_args(args), args.model, args.data, args.out, settings, args.name)
        except FatalEndpointError as error:  # its message is redacted and names the endpoint
            print(f"error: {error}", file=sys.stderr)
            return 3
        print((Path(args.out) / "table.md").read_text())
        print(json.dumps(summary["average"], indent=2))
    elif args.command == "entropy":
        figure = measure_policy_entropy(
            backend_from_args(args),
            args.data,
            args.out,
            n_prompts=args.n_prompts,
            seed=args.seed,
            samples_per_prompt=args.n,
            max_new_tokens=args.max_new_tokens,
            batch_size=args.batch_size,
            split=args.split,
        )
        print(
            f"Average token entropy: {figure.token_mean:.3f} nats token-mean, "
            f"{figure.seq_mean_token_mean:.3f} seq-mean-token-mean ({figure.label}, {figure.n_tokens} tokens)"
        )
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
