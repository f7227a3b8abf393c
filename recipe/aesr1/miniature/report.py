"""The miniature run's report: ``miniature/summary.json``, the Table 1-style table and RAPO's curves.

``summary.json`` holds, per stage, its status and wall time; ``sft.steps`` and ``rapo.steps``; the
per-step ``rapo/*`` metrics verl logged (the RAPO hook's reward terms, parse-failure rate, batch
PLCC/SRCC) and verl's validation metrics; and for each of ``base``, ``sft``, ``rapo`` the parse rate,
PLCC and SRCC on the held-out split. What the tiny model learned is whatever these numbers say.
"""

from __future__ import annotations

import math
from pathlib import Path

from recipe.aesr1.atomic_files import write_json_atomic, write_text_atomic
from recipe.aesr1.miniature.stages import MODELS, read_metrics

CURVES = (
    ("rapo/reward/total/mean", "reward (total)"),
    ("rapo/reward/error/mean", "error term (Eq. 6)"),
    ("rapo/reward/rank/mean", "rank term (Eqs. 3-5)"),
    ("rapo/parse_failure_rate", "parse-failure rate"),
    ("rapo/batch_plcc", "batch PLCC"),
    ("rapo/batch_srcc", "batch SRCC"),
)


def rapo_curves(metrics_file: Path) -> dict[str, list]:
    """``{"step": [...], "<rapo/... or val-...> key": [...]}`` from verl's file logger (NaN kept as None)."""
    rows = [row for row in read_metrics(metrics_file) if any(k.startswith(("rapo/", "val-")) for k in row["data"])]
    keys = sorted({key for row in rows for key in row["data"] if key.startswith(("rapo/", "val-"))})
    curves: dict[str, list] = {"step": [row["step"] for row in rows]}
    for key in keys:
        curves[key] = [_finite_or_none(row["data"].get(key)) for row in rows]
    return curves


def _finite_or_none(value: object) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def table_markdown(evaluation: dict) -> str:
    """Table 1 of Aes-R1 in miniature: one row per model on the held-out split."""
    lines = ["| model | images | parse rate | PLCC (95% CI) | SRCC (95% CI) |", "|---|---|---|---|---|"]
    for name in MODELS:
        row = evaluation.get(name)
        if not row:
            lines.append(f"| {name} | - | - | - | - |")
            continue
        lines.append(
            f"| {name} | {row['n_images']} | {_fmt(row['parse_rate'])} | {_fmt(row['plcc'])} {_interval(row['plcc_ci'])} "
            f"| {_fmt(row['srcc'])} {_interval(row['srcc_ci'])} |"
        )
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _interval(interval: list | None) -> str:
    if not interval or any(v is None or (isinstance(v, float) and math.isnan(v)) for v in interval):
        return ""
    return f"({interval[0]:.2f}, {interval[1]:.2f})"


def plot_curves(curves: dict[str, list], bench_results: Path | None, path: Path) -> Path:
    """RAPO's logged curves beside the reward bench's simulated training curves (when it ran)."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bench = json.loads(bench_results.read_text()) if bench_results and bench_results.is_file() else None
    columns = 4 if bench else 3
    figure, axes = plt.subplots(2, columns, figsize=(4.2 * columns, 7), squeeze=False)
    for ax, (key, title) in zip([a for row in axes for a in row[:3]], CURVES):
        values = curves.get(key)
        if values:
            ax.plot(curves["step"], [float("nan") if v is None else v for v in values], marker="o")
        ax.set_title(title + ("" if values else " (not logged)"))
        ax.set_xlabel("RAPO step")
    if bench:
        _plot_bench(axes[0][3], axes[1][3], bench)
    figure.suptitle("Aes-R1 in miniature: verl's logged rapo/* metrics (tiny Qwen2.5-VL, CPU)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def _plot_bench(ax_plcc, ax_srcc, bench: dict) -> None:
    """The reward bench's held-out PLCC/SRCC per design (first seed of each; results.json "runs")."""
    shown = set()
    for run in bench.get("runs", []):
        curve = run.get("curve") or {}
        if run["design"] in shown or "step" not in curve:
            continue
        shown.add(run["design"])
        ax_plcc.plot(curve["step"], curve["plcc"], label=run["design"])
        ax_srcc.plot(curve["step"], curve["srcc"], label=run["design"])
    ax_plcc.set_title("reward bench: held-out PLCC")
    ax_srcc.set_title("reward bench: held-out SRCC")
    ax_plcc.legend(fontsize=7)


def write_summary(out: Path, stages: dict, sizes: dict) -> dict:
    """Write ``out/miniature/summary.json`` (and table.md, curves.png when RAPO/eval ran); returns it."""
    folder = out / "miniature"
    curves = rapo_curves(out / "rapo" / "metrics.jsonl")
    evaluation = stages.get("eval", {}).get("result") or {}
    summary = {
        "sizes": sizes,
        "stages": {name: {k: v for k, v in info.items() if k != "result"} for name, info in stages.items()},
        "sft": stages.get("sft", {}).get("result") or {"steps": None},
        "rapo": {"steps": (stages.get("rapo", {}).get("result") or {}).get("steps"), "metrics": curves},
        "evaluation": {name: evaluation.get(name) for name in MODELS},
        "aescot": stages.get("aescot", {}).get("result"),
    }
    write_json_atomic(folder / "summary.json", summary)
    if evaluation:
        write_text_atomic(folder / "table.md", table_markdown(evaluation))
    if len(curves["step"]):
        plot_curves(curves, out / "reward_bench" / "results.json", folder / "curves.png")
    return summary
