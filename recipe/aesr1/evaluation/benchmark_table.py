"""Per-benchmark metrics and the averaged table in the layout of Aes-R1 Table 1.

``score_benchmark`` turns one benchmark's labels and sampled scores into metrics with bootstrap
intervals and failure counts; ``markdown_table`` / ``csv_rows`` lay several checkpoints out as Table 1
does (benchmarks x PLCC/SRCC, then the mean over benchmarks), with columns of scored images and of
parse failures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from recipe.aesr1.evaluation.bootstrap import (
    DEFAULT_CONFIDENCE,
    DEFAULT_RESAMPLES,
    bootstrap_ci,
)
from recipe.aesr1.evaluation.entropy import EntropyFigure
from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy, apply_policy
from recipe.aesr1.evaluation.metrics import metric_by_name
from recipe.aesr1.evaluation.paper_reference import BENCHMARK_ORDER, DISPLAY_NAMES

PLCC_MODES = ("raw", "logistic")
"""raw: scipy Pearson on the model's scores (the paper's headline). logistic: after a 4-parameter fit."""


@dataclass
class BenchmarkMetrics:
    """Metrics of one checkpoint on one benchmark.

    ``values[name]`` is the point estimate, ``intervals[name]`` its bootstrap ``(low, high)`` at
    ``confidence`` from ``n_resamples`` resamples; ``n_images`` counts images in the benchmark,
    ``n_scored`` those in the metric after the policy, ``empty_images`` those without any sample.
    """

    benchmark: str
    n_images: int
    n_scored: int
    failed_images: int
    failed_samples: int
    total_samples: int
    policy: str
    plcc_mode: str
    empty_images: int = 0
    confidence: float = DEFAULT_CONFIDENCE
    n_resamples: int = DEFAULT_RESAMPLES
    values: dict[str, float] = field(default_factory=dict)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def headline_plcc(self) -> float:
        return self.values["plcc_logistic" if self.plcc_mode == "logistic" else "plcc"]

    def to_json(self) -> dict:
        return asdict(self)


def score_benchmark(
    benchmark: str,
    labels: np.ndarray,
    sample_scores: Sequence[Sequence[float | None]],
    policy: ParseFailurePolicy,
    plcc_mode: str = "raw",
    metric_names: Sequence[str] = ("plcc", "srcc", "krcc", "mae"),
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> BenchmarkMetrics:
    """Apply the parse-failure policy, then every metric with its bootstrap interval.

    Args:
        labels: shape (n,), ground-truth scores in [0, 1].
        sample_scores: n lists, the parsed score (or None) of each sample of each image.
    """
    if plcc_mode not in PLCC_MODES:
        raise ValueError(f"unknown plcc_mode {plcc_mode!r}; valid: {list(PLCC_MODES)}")
    labels = np.asarray(labels, dtype=np.float64)
    if labels.shape != (len(sample_scores),):
        raise ValueError(f"{benchmark}: {labels.size} labels for {len(sample_scores)} images")
    names = list(metric_names)
    if plcc_mode == "logistic" and "plcc_logistic" not in names:
        names.append("plcc_logistic")
    scores = apply_policy(sample_scores, policy)
    kept_labels = labels[scores.kept]
    result = BenchmarkMetrics(
        benchmark=benchmark,
        n_images=int(labels.size),
        n_scored=int(scores.pred.size),
        failed_images=scores.failed_images,
        failed_samples=scores.failed_samples,
        total_samples=scores.total_samples,
        policy=policy.describe(),
        plcc_mode=plcc_mode,
        empty_images=scores.empty_images,
        confidence=confidence,
        n_resamples=n_resamples,
    )
    for name in names:
        interval = bootstrap_ci(scores.pred, kept_labels, metric_by_name(name), n_resamples, confidence, seed)
        result.values[name] = interval.estimate
        result.intervals[name] = (interval.low, interval.high)
    return result


def average_over_benchmarks(results: Sequence[BenchmarkMetrics], name: str) -> float:
    """Mean of one metric over benchmarks, as Table 1's Average column; NaN if any is NaN."""
    values = [r.headline_plcc if name == "plcc" else r.values[name] for r in results]
    return float(np.mean(values)) if values else math.nan


def _ordered(benchmarks: set[str]) -> list[str]:
    known = [b for b in BENCHMARK_ORDER if b in benchmarks]
    return known + sorted(benchmarks - set(BENCHMARK_ORDER))


def _fmt(value: float) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.4f}"


def _entropy_cell(figure: EntropyFigure | None) -> str:
    if figure is None or math.isnan(figure.token_mean):
        return "nan"
    return f"{figure.token_mean:.3f} ({figure.label})"


def _failure_cell(results: Sequence[BenchmarkMetrics]) -> str:
    cell = f"{sum(r.failed_images for r in results)}/{sum(r.n_images for r in results)}"
    empty = sum(r.empty_images for r in results)
    return cell + (f" ({empty} without output)" if empty else "")


def markdown_table(
    runs: Mapping[str, Sequence[BenchmarkMetrics]],
    reference_rows: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    entropy: Mapping[str, EntropyFigure] | None = None,
) -> str:
    """Table 1 layout: one row per checkpoint (and per paper reference row), PLCC/SRCC per benchmark.

    The Average column is computed over the benchmarks of the table; a checkpoint missing one of them
    shows ``-`` there and ``-`` as its average. ``Scored`` gives the images in the metrics per
    benchmark (after the policy), ``Fail`` failed images / images over all benchmarks, and how many
    of the failed had no output at all (unreadable images). With ``entropy`` (by checkpoint), an
    ``Avg. entropy`` column follows the model name, each value labelled with its temperature and
    prompt set (Table 3's own setting is ``aesr1-eval entropy``).
    """
    benchmarks = _ordered({r.benchmark for results in runs.values() for r in results})
    with_entropy = entropy is not None
    head = ["Model"] + (["Avg. entropy"] if with_entropy else [])
    head += [f"{DISPLAY_NAMES.get(b, b)} {m}" for b in benchmarks for m in ("PLCC", "SRCC")]
    head += ["Average PLCC", "Average SRCC", "Scored", "Fail"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, results in runs.items():
        by_name = {r.benchmark: r for r in results}
        cells = [name] + ([_entropy_cell(entropy.get(name))] if with_entropy else [])
        for b in benchmarks:
            r = by_name.get(b)
            cells += [_fmt(r.headline_plcc), _fmt(r.values["srcc"])] if r else ["-", "-"]
        complete = len(by_name) == len(benchmarks)
        cells += [_fmt(average_over_benchmarks(results, m)) if complete else "-" for m in ("plcc", "srcc")]
        cells.append(" / ".join(str(by_name[b].n_scored) if b in by_name else "-" for b in benchmarks))
        cells.append(_failure_cell(results))
        lines.append("| " + " | ".join(cells) + " |")
    for name, row in (reference_rows or {}).items():
        cells = [name] + (["-"] if with_entropy else [])
        for b in benchmarks:
            cells += [_fmt(row[b][0]), _fmt(row[b][1])] if b in row else ["-", "-"]
        if all(b in row for b in benchmarks):
            cells += [_fmt(float(np.mean([row[b][i] for b in benchmarks]))) for i in (0, 1)]
        else:
            cells += ["-", "-"]
        lines.append("| " + " | ".join(cells + ["-", "-"]) + " |")
    return "\n".join(lines) + "\n"


def csv_rows(runs: Mapping[str, Sequence[BenchmarkMetrics]]) -> list[dict]:
    """Long format: one row per (checkpoint, benchmark) with every metric, interval and count."""
    rows = []
    for name, results in runs.items():
        for r in results:
            row = {
                "model": name,
                "benchmark": r.benchmark,
                "n_images": r.n_images,
                "n_scored": r.n_scored,
                "failed_images": r.failed_images,
                "empty_images": r.empty_images,
                "failed_samples": r.failed_samples,
                "total_samples": r.total_samples,
                "plcc_mode": r.plcc_mode,
                "confidence": r.confidence,
                "n_resamples": r.n_resamples,
            }
            for metric, value in r.values.items():
                row[metric] = value
                row[f"{metric}_ci_low"], row[f"{metric}_ci_high"] = r.intervals[metric]
            rows.append(row)
    return rows
