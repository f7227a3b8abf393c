"""Evaluate one checkpoint on benchmark tables: predictions (resumable) -> metrics -> table and plots.

Output folder of a run::

    run.json                     model, backend, prompt hash, sampling settings, pixel budget (checked on resume)
    predictions/<benchmark>.jsonl one line per image, appended as produced (see predictions.py)
    metrics.json                 per-benchmark metrics with bootstrap intervals, failure counts,
                                 average token entropy, critique checks, and the averages
    table.md, table.csv          Table 1 layout / long format with intervals
    distribution.png, scatter.png Fig. 1a overlay, prediction vs label per benchmark

Rerunning the same command after a crash scores only the images missing from the predictions.
Metrics can be recomputed from the predictions alone (``summarize_run``), e.g. with another policy.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from data_prep.atomic_files import (
    write_csv_atomic,
    write_json_atomic,
    write_text_atomic,
)
from data_prep.decode import USABLE, decode_table_image
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from data_prep.prompts import SCORING_PROMPT
from data_prep.tables import BenchmarkRow, find_parquet_files, iter_rows
from recipe.aesr1.evaluation.benchmark_table import (
    BenchmarkMetrics,
    average_over_benchmarks,
    csv_rows,
    markdown_table,
    score_benchmark,
)
from recipe.aesr1.evaluation.bootstrap import DEFAULT_CONFIDENCE, DEFAULT_RESAMPLES
from recipe.aesr1.evaluation.entropy import EntropyFigure, entropy_figure
from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy, apply_policy
from recipe.aesr1.evaluation.paper_reference import BENCHMARK_ORDER, TABLE1_ROWS
from recipe.aesr1.evaluation.plots import plot_distributions, plot_scatter
from recipe.aesr1.scoring.backends.base import (
    InferenceBackend,
    Sample,
    SamplingSettings,
    generate_each,
    image_seed,
)
from recipe.aesr1.scoring.critique import summarize_critiques
from recipe.aesr1.scoring.records import (
    BACKEND_ERROR,
    PredictionStore,
    check_or_write_header,
    sample_record,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationSettings:
    """Everything that decides the numbers of a run besides the model.

    ``limit`` keeps the first N test images of each benchmark (quick looks; the table says n).
    ``batch_size`` is how many images go to the backend per call (vLLM batches them; hf loops).
    ``max_pixels`` is the project's one pixel budget (``data_prep.pixel_budget``), recorded in run.json.
    ``retry_failed`` sends again, on a rerun, the images whose requests all failed (retries ran out).
    """

    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    policy: ParseFailurePolicy = field(default_factory=ParseFailurePolicy)
    plcc_mode: str = "raw"
    split: str = "test"
    limit: int | None = None
    batch_size: int = 16
    n_resamples: int = DEFAULT_RESAMPLES
    confidence: float = DEFAULT_CONFIDENCE
    bootstrap_seed: int = 0
    max_pixels: int = DEFAULT_MAX_PIXELS
    prompt: str = SCORING_PROMPT
    retry_failed: bool = False  # score again images whose every sample is a backend_error (not recorded)


def run_header(model: str, backend: str, settings: EvaluationSettings) -> dict:
    return {
        "model": model,
        "backend": backend,
        "prompt_sha256": hashlib.sha256(settings.prompt.encode()).hexdigest(),
        "sampling": settings.sampling.to_json(),
        "split": settings.split,
        "max_pixels": settings.max_pixels,
    }


def _select_rows(files: Sequence[Path], settings: EvaluationSettings) -> dict[str, list[BenchmarkRow]]:
    by_benchmark: dict[str, list[BenchmarkRow]] = defaultdict(list)
    seen: dict[str, set[str]] = defaultdict(set)
    for row in iter_rows(files, settings.split):
        if row.id in seen[row.dataset]:
            raise ValueError(f"benchmark {row.dataset}: image id {row.id!r} appears twice in {list(map(str, files))}")
        seen[row.dataset].add(row.id)
        if settings.limit is None or len(by_benchmark[row.dataset]) < settings.limit:
            by_benchmark[row.dataset].append(row)
    if not by_benchmark:
        raise ValueError(f"no rows with split={settings.split!r} in {[str(f) for f in files]}")
    return dict(by_benchmark)


def predict(
    backend: InferenceBackend,
    model: str,
    data: Sequence[str],
    out_dir: str | Path,
    settings: EvaluationSettings,
) -> dict[str, PredictionStore]:
    """Score every selected image not yet in ``out_dir/predictions``; return the stores by benchmark.

    One pass over the tables: rows are batched per benchmark and each batch goes to the backend as
    soon as it is full, so every finished image is on disk before the next batch starts.
    """
    out_dir = Path(out_dir)
    files = find_parquet_files(data)
    check_or_write_header(out_dir, run_header(model, backend.name, settings))
    selected = _select_rows(files, settings)
    stores = {b: PredictionStore(out_dir / "predictions" / f"{b}.jsonl") for b in selected}
    todo = {
        (row.dataset, row.id)
        for b, rows in selected.items()
        for row in rows
        if row.id not in stores[b] or (settings.retry_failed and backend_failed(stores[b].records[row.id]))
    }
    if not todo:
        return stores
    labels = {(row.dataset, row.id): row.label for rows in selected.values() for row in rows}
    # Only files holding unscored rows are read again, now with their image bytes (train shards never).
    needed = {row.file for rows in selected.values() for row in rows if (row.dataset, row.id) in todo}
    pending: dict[str, list[BenchmarkRow]] = defaultdict(list)
    with tqdm(total=len(todo), desc="evaluating", unit="img") as progress:
        for row in iter_rows([f for f in files if str(f) in needed], settings.split, with_images=True):
            if (row.dataset, row.id) not in todo:
                continue
            batch = pending[row.dataset]
            batch.append(row)
            if len(batch) == settings.batch_size:
                _score_batch(backend, batch, labels, stores[row.dataset], settings, row.dataset)
                progress.update(len(batch))
                pending[row.dataset] = []
        for benchmark, batch in pending.items():
            if batch:
                _score_batch(backend, batch, labels, stores[benchmark], settings, benchmark)
                progress.update(len(batch))
    return stores


def _score_batch(
    backend: InferenceBackend,
    rows: Sequence[BenchmarkRow],
    labels: Mapping[tuple[str, str], float],
    store: PredictionStore,
    settings: EvaluationSettings,
    benchmark: str,
) -> None:
    loaded = [decode_table_image(row.image, settings.max_pixels) for row in rows]
    seeds = [image_seed(settings.sampling.seed, f"{benchmark}/{row.id}") for row in rows]

    def record(i: int, samples: list[Sample]) -> None:
        row = rows[i]
        replace = row.id in store  # only with retry_failed: a failed record is superseded
        if not loaded[i].usable:
            logger.warning("%s/%s: image %s (%s)", benchmark, row.id, loaded[i].status, loaded[i].detail)
        store.append(
            {
                "id": row.id,
                "dataset": benchmark,
                "label": labels[(benchmark, row.id)],
                "image_status": loaded[i].status,
                "image_detail": loaded[i].detail,
                "seed": seeds[i],
                "samples": [sample_record(s) for s in samples],
            },
            replace=replace,
        )

    usable = [i for i, image in enumerate(loaded) if image.usable]
    for i in range(len(rows)):
        if not loaded[i].usable:
            record(i, [])
    if usable:
        # Each image's record is on disk as soon as its reply arrives, not when the batch ends.
        generate_each(
            backend,
            [loaded[i].image for i in usable],
            settings.prompt,
            settings.sampling,
            [seeds[i] for i in usable],
            lambda k, samples: record(usable[k], samples),
        )


def backend_failed(record: dict) -> bool:
    """True when every sample of a prediction record is a ``backend_error`` (the endpoint never answered)."""
    samples = record.get("samples") or []
    return bool(samples) and all(s.get("reason") == BACKEND_ERROR for s in samples)


def read_predictions(out_dir: Path) -> dict[str, list[dict]]:
    """Prediction records of a run folder by benchmark, in the column order of Table 1."""
    folder = out_dir / "predictions"
    files = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(f"{folder}: no predictions to summarize")
    found = {path.stem: list(PredictionStore(path).records.values()) for path in files}
    order = [b for b in BENCHMARK_ORDER if b in found] + sorted(set(found) - set(BENCHMARK_ORDER))
    return {b: found[b] for b in order}


def sample_objects(record: dict) -> list[Sample]:
    """The backend samples of a prediction record (for entropy)."""
    return [Sample(s["text"], s["n_tokens"], s["entropy_sum"], s["entropy_kind"]) for s in record["samples"]]


def benchmark_metrics(records: Sequence[dict], benchmark: str, settings: EvaluationSettings) -> BenchmarkMetrics:
    """Metrics of one benchmark from its prediction records."""
    labels = np.array([r["label"] for r in records], dtype=np.float64)
    scores = [[s["score"] for s in r["samples"]] for r in records]
    return score_benchmark(
        benchmark,
        labels,
        scores,
        settings.policy,
        plcc_mode=settings.plcc_mode,
        n_resamples=settings.n_resamples,
        confidence=settings.confidence,
        seed=settings.bootstrap_seed,
    )


def _entropy(records: Sequence[dict], header: dict) -> EntropyFigure:
    """Entropy of a run's samples, labelled with its sampling temperature and split (not Table 3's)."""
    samples = (s for r in records for s in sample_objects(r))
    return entropy_figure(samples, header["sampling"]["temperature"], f"{header['split']} images")


def run_entropy(out_dir: Path, records: Mapping[str, Sequence[dict]]) -> EntropyFigure:
    """The labelled average token entropy of a run folder over all its benchmarks."""
    path = Path(out_dir) / "run.json"
    if not path.is_file():
        raise FileNotFoundError(f"{out_dir}: not a run folder (no run.json); run `aesr1-eval run` first")
    header = json.loads(path.read_text())
    return _entropy([r for recs in records.values() for r in recs], header)


def _benchmark_summary(
    records: Sequence[dict], metrics: BenchmarkMetrics, settings: EvaluationSettings, header: dict
) -> dict:
    """metrics.json entry of one benchmark: metrics, failure reasons, spread, entropy, critique checks."""
    kept = apply_policy([[s["score"] for s in r["samples"]] for r in records], settings.policy)
    reasons: dict[str, int] = defaultdict(int)
    for r in records:
        for s in r["samples"]:
            reasons[s["reason"]] += 1
    return {
        **metrics.to_json(),
        "unreadable_images": sum(r["image_status"] not in USABLE for r in records),
        "parse_reasons": dict(reasons),
        "format_ok_rate": _rate(s["format_ok"] for r in records for s in r["samples"]),
        "mean_prediction_spread": float(np.mean(kept.spread)) if kept.spread.size else None,
        "average_token_entropy": _entropy(records, header).to_json(),
        "critiques": summarize_critiques((s["text"], s["score"]) for r in records for s in r["samples"]),
    }


def _report_note(settings: EvaluationSettings, entropy: EntropyFigure, critiques: dict) -> str:
    """The lines under table.md's table: how PLCC and failures were treated, entropy, critique checks."""
    note = (
        f"\nPLCC: {'raw Pearson' if settings.plcc_mode == 'raw' else 'after 4-parameter logistic fit'}; "
        f"{settings.policy.describe()}; Scored = images in the metric per benchmark; "
        "Fail = images without a parsed score / images.\n"
        f"\nAverage token entropy: {entropy.token_mean:.3f} nats token-mean, {entropy.seq_mean_token_mean:.3f} "
        f"seq-mean ({entropy.label}, {entropy.n_tokens} tokens); not Table 3's setting (T=1 on the RL "
        "training prompts: `aesr1-eval entropy`).\n"
    )
    if critiques["n_samples"]:
        note += (
            f"Critiques: {critiques['mean_words']:.0f} words on average, {critiques['mean_dimensions']:.1f} of 5 "
            f"AesCoT dimensions mentioned, {100 * critiques['inconsistent_rate']:.1f}% tone/score inconsistent, "
            f"{100 * critiques['empty_critique_rate']:.1f}% without a critique.\n"
        )
    return note


def summarize_run(out_dir: str | Path, settings: EvaluationSettings, name: str | None = None) -> dict:
    """Recompute metrics, tables and plots of a run folder from its predictions; returns metrics.json."""
    out_dir = Path(out_dir)
    if not (out_dir / "run.json").is_file():
        raise FileNotFoundError(f"{out_dir}: not a run folder (no run.json); run `aesr1-eval run` first")
    header = json.loads((out_dir / "run.json").read_text())
    name = name or Path(header["model"]).name or header["model"]
    records = read_predictions(out_dir)
    results = [benchmark_metrics(recs, benchmark, settings) for benchmark, recs in records.items()]
    all_records = [r for recs in records.values() for r in recs]
    entropy = _entropy(all_records, header)
    summary = {
        "model": name,
        "run": header,
        "policy": settings.policy.describe(),
        "plcc_mode": settings.plcc_mode,
        "bootstrap": {
            "n_resamples": settings.n_resamples,
            "seed": settings.bootstrap_seed,
            "confidence": settings.confidence,
        },
        "benchmarks": {r.benchmark: _benchmark_summary(records[r.benchmark], r, settings, header) for r in results},
        "average": {m: average_over_benchmarks(results, m) for m in ("plcc", "srcc", "krcc", "mae")},
        "average_token_entropy": entropy.to_json(),
        "critiques": summarize_critiques((s["text"], s["score"]) for r in all_records for s in r["samples"]),
    }
    write_json_atomic(out_dir / "metrics.json", summary)
    note = _report_note(settings, entropy, summary["critiques"])
    write_text_atomic(out_dir / "table.md", markdown_table({name: results}, TABLE1_ROWS) + note)
    write_csv_atomic(out_dir / "table.csv", csv_rows({name: results}))
    plot_data = {}
    for benchmark, recs in records.items():
        kept = apply_policy([[s["score"] for s in r["samples"]] for r in recs], settings.policy)
        plot_data[benchmark] = (kept.pred, np.array([r["label"] for r in recs])[kept.kept])
    plot_distributions(plot_data, out_dir / "distribution.png", name)
    plot_scatter(
        plot_data, {r.benchmark: (r.headline_plcc, r.values["srcc"]) for r in results}, out_dir / "scatter.png"
    )
    return summary


def _rate(flags) -> float | None:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else None


def evaluate(
    backend: InferenceBackend,
    model: str,
    data: Sequence[str],
    out_dir: str | Path,
    settings: EvaluationSettings,
    name: str | None = None,
) -> dict:
    """``predict`` then ``summarize_run``: the whole evaluation of one checkpoint."""
    predict(backend, model, data, out_dir, settings)
    return summarize_run(out_dir, settings, name)
