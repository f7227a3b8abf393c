"""``aesr1-score``: score your photos with an aesthetic judge, with its reasoning.

    aesr1-score ~/photos --model CKPT --backend vllm --out scores.csv
    aesr1-score "shoot/*.jpg" --model CKPT --backend hf --top-k 5 --out best.jsonl
    aesr1-score a.jpg b.png --model gpt-4.1 --backend openai --n 4 --out scores.jsonl

Inputs are files, folders (``--recursive`` for subfolders) and glob patterns. Every input file gets a
row: ``status`` is ``ok``/``converted``/``downscaled`` when it was scored, ``no_score`` when the model
gave no parseable answer (or the endpoint refused the image), or ``missing``/``unreadable``/
``too_large``; ``detail`` gives the reason.
``score`` is the mean over ``--n`` samples (``spread`` their std), ``level`` is bad/fair/good
(Aes-R1 Appendix E.2), ``reasoning`` the critique of the first scored sample.

For people who look at photos (``recipe/aesr1/curation``): ``--bursts`` groups near-identical shots and
marks each burst's best frame (columns ``burst``, ``burst_size``, ``burst_rank``, ``burst_best``),
``--xmp`` writes star-rating sidecars that photo tools read, ``--html sheet.html`` a contact sheet.

``aesr1-score ray ...`` scores on a Ray cluster into parquet shards (``aesr1-score ray --help``).

Images above the pixel budget (``--max-pixels``, default 262,144 = 512 x 512, the project's one budget
in ``data_prep.pixel_budget``) are shrunk first, as in training; each row records the budget.
With ``--out``, rows are logged to ``<out>.partial.jsonl`` as their replies arrive, and the log is kept:
rerunning the same command after an interruption scores only the files not yet done, and after the end
scores none.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from data_prep.atomic_files import write_csv_atomic, write_text_atomic
from data_prep.decode import decode_image
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.curation.outputs import add_curation_args, curate_from_args
from recipe.aesr1.endpoints.chat_client import FatalEndpointError
from recipe.aesr1.scoring.backends import (
    InferenceBackend,
    SamplingSettings,
    generate_each,
    image_seed,
)
from recipe.aesr1.scoring.cli_options import (
    add_backend_args,
    add_image_args,
    add_sampling_args,
    backend_from_args,
    sampling_from_args,
)
from recipe.aesr1.scoring.inputs import collect_inputs
from recipe.aesr1.scoring.records import BACKEND_ERROR, PredictionStore, sample_record
from recipe.aesr1.scoring.scorer import ImageScore, summarize_samples


def score_files(
    backend: InferenceBackend,
    paths: list[Path],
    sampling: SamplingSettings,
    batch_size: int = 8,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    prompt: str = SCORING_PROMPT,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """One result row per path, in input order; ``on_row`` sees each row as soon as its reply arrives."""
    rows: dict[int, dict] = {}
    progress = tqdm(total=len(paths), desc="scoring", unit="img")

    def emit(index: int, status: str, detail: str, samples: list) -> None:
        verdict = summarize_samples([sample_record(s) for s in samples], image_seed(sampling.seed, str(paths[index])))
        row = _row(paths[index], status, detail, verdict)
        rows[index] = {**row, "max_pixels": max_pixels}
        if on_row is not None:
            on_row(rows[index])
        progress.update(1)

    for start in range(0, len(paths), batch_size):
        chunk = range(start, min(start + batch_size, len(paths)))
        loaded = {i: decode_image(paths[i], max_pixels) for i in chunk}
        usable = [i for i in chunk if loaded[i].usable]
        for i in chunk:
            if not loaded[i].usable:
                emit(i, loaded[i].status, loaded[i].detail, [])
        if usable:
            seeds = [image_seed(sampling.seed, str(paths[i])) for i in usable]
            generate_each(
                backend,
                [loaded[i].image for i in usable],
                prompt,
                sampling,
                seeds,
                lambda k, samples: emit(usable[k], loaded[usable[k]].status, loaded[usable[k]].detail, samples),
            )
    progress.close()
    return [rows[i] for i in range(len(paths))]


def _row(path: Path, status: str, detail: str, verdict: ImageScore) -> dict:
    """The output row of one file: its decode ``status``/``detail``, unless the judge gave no score."""
    samples = verdict.samples
    if samples and verdict.score is None:
        reasons = ", ".join(sorted({s["reason"] for s in samples}))
        status = "no_score"
        errors = f"; {verdict.error}" if verdict.error else ""
        detail = f"no parseable answer in {len(samples)} sample(s): {reasons}{errors}"
    first = verdict.first_sample
    return {
        "path": str(path),
        "status": status,
        "detail": detail,
        "score": None if verdict.score is None else round(verdict.score, 4),
        "spread": None if verdict.spread is None else round(verdict.spread, 4),
        "level": verdict.level,
        "n_scored": verdict.n_scored,
        "n_samples": len(samples),
        "n_backend_errors": sum(s["reason"] == BACKEND_ERROR for s in samples),
        "reasoning": verdict.reasoning,
        "response": first["text"] if first else "",
    }


def rank_rows(rows: list[dict]) -> list[dict]:
    """Scored rows from best to worst (ties keep input order), each with its 1-based ``rank``."""
    scored = sorted((r for r in rows if r["score"] is not None), key=lambda r: -r["score"])
    return [{**r, "rank": k} for k, r in enumerate(scored, start=1)]


def write_rows(rows: list[dict], out: Path) -> None:
    """CSV or JSONL by the file extension, written atomically."""
    if out.suffix.lower() == ".csv":
        write_csv_atomic(out, rows)
    else:
        write_text_atomic(out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def partial_log_path(out: Path) -> Path:
    """The row log of a run writing ``out``: ``<out>.partial.jsonl``, one line per scored file.

    It is kept after ``out`` is written, so rerunning a finished command sends no request.
    """
    return out.with_name(out.name + ".partial.jsonl")


def score_to_file(
    backend: InferenceBackend,
    paths: list[Path],
    sampling: SamplingSettings,
    out: Path | None,
    top_k: int | None = None,
    batch_size: int = 8,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    retry_failed: bool = False,
    annotate: Callable[[list[dict]], list[dict]] | None = None,
) -> list[dict]:
    """Score ``paths`` and write ``out`` (all rows in input order, or the ``top_k`` best ranked).

    ``annotate`` sees every row (in input order) before ``out`` is written and may add columns
    (the curation outputs: ``recipe/aesr1/curation/outputs.py``).

    Rows are logged to ``partial_log_path(out)`` as their replies arrive, so a rerun after an
    interruption scores only the files not yet logged, and a rerun after the end scores none (same
    options expected; a log made with another ``max_pixels`` is refused). ``retry_failed`` sends again the
    files whose requests all failed (``backend_error``). Returns every row, in input order.
    """
    if out is not None and out.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise SystemExit(f"--out must end in .csv or .jsonl, got {out}")
    log = PredictionStore(partial_log_path(out), key="path") if out is not None else None
    if log is not None:
        other = sorted({str(r.get("max_pixels")) for r in log.records.values()} - {str(max_pixels)})
        if other:
            raise SystemExit(
                f"{log.path}: rows scored with --max-pixels {', '.join(other)}, not {max_pixels}; "
                "use another --out or delete the log to score again"
            )
    todo = [p for p in paths if log is None or str(p) not in log or (retry_failed and _failed(log.records[str(p)]))]
    on_row = (lambda row: log.append(row, replace=True)) if log is not None else None
    fresh = score_files(backend, todo, sampling, batch_size, max_pixels, on_row=on_row)
    done = {r["path"]: r for r in fresh} if log is None else log.records
    rows = [done[str(p)] for p in paths]
    if annotate is not None:
        rows = annotate(rows)
    if out is not None:
        write_rows(rank_rows(rows)[:top_k] if top_k else rows, out)
    return rows


def _failed(row: dict) -> bool:
    """A row whose every sample is a ``backend_error``: the endpoint never answered for this file."""
    return row["n_samples"] > 0 and row.get("n_backend_errors") == row["n_samples"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aesr1-score", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("inputs", nargs="+", help="image files, folders or glob patterns")
    parser.add_argument("--recursive", action="store_true", help="also look in subfolders of input folders")
    parser.add_argument("--out", type=Path, help="results file, .csv or .jsonl (default: print only)")
    parser.add_argument("--top-k", type=int, help="keep the K best images, ranked (best-shot selection)")
    parser.add_argument("--batch-size", type=int, default=8, help="images per backend call")
    parser.add_argument("--retry-failed", action="store_true", help="send again files whose requests all failed")
    add_backend_args(parser)
    add_image_args(parser)
    add_sampling_args(parser)
    add_curation_args(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ray"]:  # distributed mode on Ray Data: recipe/aesr1/curation/ray_cli.py
        from recipe.aesr1.curation.ray_cli import score_main

        return score_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    paths = collect_inputs(args.inputs, args.recursive)
    if not paths:
        raise SystemExit(f"no image files found in {args.inputs}")
    backend = backend_from_args(args)
    sampling = sampling_from_args(args)
    try:
        rows = score_to_file(
            backend, paths, sampling, args.out, args.top_k, args.batch_size, args.max_pixels, args.retry_failed,
            annotate=lambda rows: curate_from_args(rows, args),
        )
    except FatalEndpointError as error:  # its message is redacted and names the endpoint
        print(f"error: {error}", file=sys.stderr)
        return 3
    shown = rank_rows(rows)[: args.top_k] if args.top_k else rows
    skipped = [r for r in rows if r["score"] is None]
    for r in shown:
        score = "  -  " if r["score"] is None else f"{r['score']:.2f}"
        prefix = f"#{r['rank']:<3d} " if "rank" in r else ""
        burst = f"  [{r['burst']} #{r['burst_rank'] or '-'}{' best' if r['burst_best'] else ''}]" if r.get("burst") else ""
        print(f"{prefix}{score} {r['level'] or r['status']:<10s} {r['path']}{burst}")
    if skipped:
        print(f"\n{len(skipped)} of {len(rows)} file(s) without a score:", file=sys.stderr)
        for r in skipped:
            print(f"  {r['path']}: {r['status']} ({r['detail']})", file=sys.stderr)
    if args.out:
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
