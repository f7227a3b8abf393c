"""Several checkpoints in one Table 1, and paired bootstrap tests of each against a baseline.

Runs are compared on the images both scored (after the parse-failure policy), so a checkpoint that
fails on hard images is not compared on an easier subset than its baseline. The table rows use each
run's own scored images (column ``Scored``); beside each test both runs are shown again on the common
images, so the two never seem to disagree. Runs whose labels differ on a common image are refused
(they were not made from the same tables), and below ``MIN_PAIRED_IMAGES`` common images no test is
made (the row says so).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from data_prep.atomic_files import (
    write_csv_atomic,
    write_json_atomic,
    write_text_atomic,
)
from recipe.aesr1.evaluation.benchmark_table import csv_rows, markdown_table
from recipe.aesr1.evaluation.bootstrap import (
    MIN_PAIRED_IMAGES,
    format_p_value,
    paired_bootstrap_test,
)
from recipe.aesr1.evaluation.failure_policy import apply_policy
from recipe.aesr1.evaluation.metrics import as_compared, metric_by_name
from recipe.aesr1.evaluation.paper_reference import TABLE1_ROWS
from recipe.aesr1.evaluation.runner import (
    EvaluationSettings,
    benchmark_metrics,
    read_predictions,
    run_entropy,
)


def _kept_predictions(records: list[dict], settings: EvaluationSettings) -> dict[str, tuple[float, float]]:
    kept = apply_policy([[s["score"] for s in r["samples"]] for r in records], settings.policy)
    ids = [r["id"] for r, k in zip(records, kept.kept, strict=True) if k]
    labels = [r["label"] for r, k in zip(records, kept.kept, strict=True) if k]
    return {i: (p, lab) for i, p, lab in zip(ids, kept.pred, labels, strict=True)}


def check_same_labels(records: Mapping[str, Mapping[str, list[dict]]], runs: Mapping[str, str | Path]) -> None:
    """Raise unless every image that several runs scored has the same label in each (``as_compared``)."""
    first: dict[tuple[str, str], tuple[float, str]] = {}  # (benchmark, id) -> (label, run that had it first)
    for name, by_benchmark in records.items():
        for benchmark, recs in by_benchmark.items():
            for r in recs:
                label, seen_in = first.setdefault((benchmark, r["id"]), (r["label"], name))
                if as_compared(r["label"]) != as_compared(label):
                    raise ValueError(
                        f"{benchmark}/{r['id']}: label {r['label']!r} in run {name!r} ({runs[name]}) but "
                        f"{label!r} in run {seen_in!r} ({runs[seen_in]}); the runs were not made from the "
                        "same benchmark tables, so a paired test would compare different things"
                    )


def compare_runs(
    runs: Mapping[str, str | Path], out_dir: str | Path, settings: EvaluationSettings, with_paper_rows: bool = True
) -> dict:
    """Write ``comparison.md/.csv/.json`` for the named run folders; the first run is the baseline."""
    out_dir = Path(out_dir)
    records = {name: read_predictions(Path(path)) for name, path in runs.items()}
    check_same_labels(records, runs)
    table = {
        name: [benchmark_metrics(recs, b, settings) for b, recs in by_benchmark.items()]
        for name, by_benchmark in records.items()
    }
    names = list(runs)
    baseline = names[0]
    tests = []
    for name in names[1:]:
        for benchmark, recs in records[name].items():
            if benchmark not in records[baseline]:
                continue
            a = _kept_predictions(recs, settings)
            b = _kept_predictions(records[baseline][benchmark], settings)
            common = sorted(set(a) & set(b))
            label = np.array([a[i][1] for i in common])
            for metric in ("plcc", "srcc"):
                result = paired_bootstrap_test(
                    np.array([a[i][0] for i in common]),
                    np.array([b[i][0] for i in common]),
                    label,
                    metric_by_name(metric),
                    settings.n_resamples,
                    settings.confidence,
                    seed=settings.bootstrap_seed,
                )
                tests.append(
                    {
                        "model": name,
                        "baseline": baseline,
                        "benchmark": benchmark,
                        "metric": metric,
                        "n_scored_model": len(a),
                        "n_scored_baseline": len(b),
                        "n_common_images": len(common),
                        "model_on_common": result.metric_a,
                        "baseline_on_common": result.metric_b,
                        "delta": result.delta,
                        "ci_low": result.interval.low,
                        "ci_high": result.interval.high,
                        "p_value": result.p_value,
                        "n_valid_resamples": result.interval.n_valid,
                        "tested": len(common) >= MIN_PAIRED_IMAGES,
                    }
                )
    entropy = {name: run_entropy(Path(runs[name]), by_benchmark) for name, by_benchmark in records.items()}
    text = markdown_table(table, TABLE1_ROWS if with_paper_rows else None, entropy)
    text += (
        f"\nPLCC: {settings.plcc_mode}; {settings.policy.describe()}; "
        "Scored = images in the metric per benchmark.\n"
    )
    if tests:
        text += _tests_table(tests, baseline, settings)
    summary = {
        "runs": {k: str(v) for k, v in runs.items()},
        "bootstrap": {
            "n_resamples": settings.n_resamples,
            "confidence": settings.confidence,
            "seed": settings.bootstrap_seed,
            "min_common_images": MIN_PAIRED_IMAGES,
        },
        "average_token_entropy": {name: figure.to_json() for name, figure in entropy.items()},
        "paired_tests": tests,
    }
    write_text_atomic(out_dir / "comparison.md", text)
    write_csv_atomic(out_dir / "comparison.csv", csv_rows(table))
    write_json_atomic(out_dir / "comparison.json", summary)
    return summary


def _fmt(value: float, sign: str = "") -> str:
    return "-" if math.isnan(value) else f"{value:{sign}.4f}"


def _tests_table(tests: list[dict], baseline: str, settings: EvaluationSettings) -> str:
    """The paired tests, each with both runs' metric on the common images and every n."""
    level = f"{100 * settings.confidence:g}%"
    text = (
        f"\nPaired bootstrap vs {baseline} on the images both scored ({settings.n_resamples} resamples; "
        f"no test below {MIN_PAIRED_IMAGES} common images). n model / n {baseline} are each run's scored "
        "images, as in the table above; the two metric columns are both runs on the common images.\n\n"
        f"| Model | Benchmark | Metric | n model | n {baseline} | n common | Model on common | "
        f"{baseline} on common | Delta | {level} CI | p |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    for t in tests:
        if t["tested"]:
            ci = f"[{_fmt(t['ci_low'], '+')}, {_fmt(t['ci_high'], '+')}]"
            p = format_p_value(t["p_value"], t["n_valid_resamples"])
        else:
            ci, p = f"not tested (n < {MIN_PAIRED_IMAGES})", "-"
        text += (
            f"| {t['model']} | {t['benchmark']} | {t['metric'].upper()} | {t['n_scored_model']} | "
            f"{t['n_scored_baseline']} | {t['n_common_images']} | {_fmt(t['model_on_common'])} | "
            f"{_fmt(t['baseline_on_common'])} | {_fmt(t['delta'], '+')} | {ci} | {p} |\n"
        )
    return text
