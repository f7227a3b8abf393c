"""The miniature run's report: ``miniature/summary.json``, the Table 1-style table and RAPO's curves.

``summary.json`` holds, per stage, its status and wall time; ``sft.steps`` and ``rapo.steps``; per RAPO
step, what an RL engineer reads first (``ENGINEER_KEYS``: the rollout/actor agreement, KL, entropy,
gradient norm, clip fraction, truncated responses), the ``rapo/*`` metrics of the RAPO hook (reward
terms, parse-failure rate, batch PLCC/SRCC) and verl's validation metrics; and for each of ``base``,
``sft``, ``rapo`` the parse rate, PLCC and SRCC on the held-out split. What the tiny model learned is
whatever these numbers say.
"""

from __future__ import annotations

import math
from pathlib import Path

from data_prep.atomic_files import write_json_atomic, write_text_atomic
from recipe.aesr1.miniature.stages import (
    AGREEMENT_CORR,
    AGREEMENT_DIFF,
    MODELS,
    read_metrics,
)

ENGINEER_KEYS = (
    AGREEMENT_CORR, AGREEMENT_DIFF, "training/rollout_probs_diff_max", "rollout_corr/log_ppl_abs_diff",
    "actor/kl_loss", "actor/entropy", "actor/grad_norm", "actor/pg_clipfrac", "actor/lr", "response_length/clip_ratio",
)  # fmt: skip
"""verl's own per-step metrics kept in the summary beside ``rapo/*`` and ``val-*``."""


def rapo_curves(metrics_file: Path) -> dict[str, list]:
    """``{"step": [...], key: [...]}`` for ``rapo/*``, ``val-*`` and ``ENGINEER_KEYS`` (NaN kept as None)."""

    def kept(key: str) -> bool:
        return key.startswith(("rapo/", "val-")) or key in ENGINEER_KEYS

    rows = [row for row in read_metrics(metrics_file) if any(kept(k) for k in row["data"])]
    keys = sorted({key for row in rows for key in row["data"] if kept(key)})
    curves: dict[str, list] = {"step": [row["step"] for row in rows]}
    for key in keys:
        curves[key] = [_finite_or_none(row["data"].get(key)) for row in rows]
    return curves


def _finite_or_none(value: object) -> float | None:
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def protocol_text(sizes: dict) -> str:
    """How the held-out predictions were made, in words (the eval runs' ``run.json`` record the same)."""
    images = "every held-out image" if sizes.get("eval_limit", 0) <= 0 else f"the first {sizes['eval_limit']} held-out images"
    if sizes.get("eval_temperature", 0.0) <= 0:
        decoding = "greedy decoding"
    else:
        decoding = f"the mean of {sizes.get('eval_n', 1)} draws at temperature {sizes['eval_temperature']}"
    return f"{images}, {decoding}"


def table_markdown(evaluation: dict, sizes: dict | None = None) -> str:
    """Table 1 of Aes-R1 in miniature: one row per model on the held-out split, then RAPO vs SFT (paired)."""
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
    gains = evaluation.get("rapo_vs_sft") or {}
    if gains:
        tests = "; ".join(
            f"{metric.upper()} {gain['delta']:+.3f} (95% CI {gain['ci_low']:+.3f}, {gain['ci_high']:+.3f}; p = {gain['p_value']:.3f})"
            for metric, gain in gains.items() if metric in ("plcc", "srcc")
        )
        n = next(iter(gains.values()))["n_common_images"]
        lines += ["", f"RAPO vs SFT, paired bootstrap on the same {n} images: {tests}."]
    if sizes:
        lines.append(f"Protocol: {protocol_text(sizes)}.")
    return "\n".join(lines) + "\n"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _interval(interval: list | None) -> str:
    if not interval or any(v is None or (isinstance(v, float) and math.isnan(v)) for v in interval):
        return ""
    return f"({interval[0]:.2f}, {interval[1]:.2f})"


def _series(curves: dict[str, list], key: str) -> tuple[list, list]:
    """The steps at which ``key`` was logged and its values there."""
    pairs = [(step, value) for step, value in zip(curves["step"], curves.get(key) or []) if value is not None]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _smoothed(values: list[float], window: int) -> list[float]:
    """Trailing moving average over up to ``window`` points (a noisy per-step curve, read at a glance)."""
    return [sum(values[max(0, i - window + 1) : i + 1]) / len(values[max(0, i - window + 1) : i + 1]) for i in range(len(values))]


def _plot(ax, curves: dict[str, list], key: str, label: str, smooth: int = 0, **style) -> bool:
    steps, values = _series(curves, key)
    if not steps:
        return False
    if smooth > 1 and len(values) > smooth:
        ax.plot(steps, values, alpha=0.25, color=style.get("color"))
        values = _smoothed(values, smooth)
        label += f" (mean of {smooth})"
    ax.plot(steps, values, label=label, **style)
    return True


def _validation_key(curves: dict[str, list], metric: str) -> str:
    """verl's key of the RAPO validation ``metric`` (``val-aux/<data source>/rapo/<metric>``)."""
    return next((key for key in curves if key.startswith("val-") and key.endswith(f"/rapo/{metric}")), f"val-aux/rapo/{metric}")


def plot_curves(curves: dict[str, list], bench_results: Path | None, path: Path) -> Path:
    """RAPO's logged curves (reward, held-out validation, agreement, KL/entropy) beside the reward bench."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bench = json.loads(bench_results.read_text()) if bench_results and bench_results.is_file() else None
    columns = 4 if bench else 3
    figure, axes = plt.subplots(2, columns, figsize=(4.4 * columns, 7.5), squeeze=False)
    smooth = max(1, len(curves["step"]) // 10)
    panels = [
        ("training reward (Eq. 7)", [("rapo/reward/total/mean", "total", "C0"), ("rapo/reward/error/mean", "error", "C1"),
                                     ("rapo/reward/rank/mean", "rank", "C2")], smooth),
        ("held-out validation (in training)", [(_validation_key(curves, "plcc"), "PLCC", "C0"),
                                               (_validation_key(curves, "srcc"), "SRCC", "C3")], 0),
        ("training batch", [("rapo/batch_plcc", "PLCC", "C0"), ("rapo/batch_srcc", "SRCC", "C3")], smooth),
        ("rollout = policy? (>= 0.999)", [(AGREEMENT_CORR, "prob corr.", "C0")], 0),
        ("policy drift", [("actor/entropy", "entropy", "C4"), ("actor/kl_loss", "KL loss", "C5")], 0),
        ("failures", [("rapo/parse_failure_rate", "parse failures", "C3"), ("response_length/clip_ratio", "truncated", "C7")], 0),
    ]  # fmt: skip
    for ax, (title, series, window) in zip([a for row in axes for a in row[:3]], panels):
        shown = [_plot(ax, curves, key, label, window, color=color, marker="." if not window else None)
                 for key, label, color in series]
        ax.set_title(title + ("" if any(shown) else " (not logged)"))
        ax.set_xlabel("RAPO step")
        if any(shown):
            ax.legend(fontsize=7)
    agreement, twin = axes[1][0], axes[1][0].twinx()  # the two agreement metrics live on different scales
    if _plot(twin, curves, AGREEMENT_DIFF, "mean |p diff| (right axis, <= 0.01)", color="C1", marker="."):
        twin.axhline(0.01, color="C1", linestyle=":")
        twin.set_ylim(0, max([0.02, *(_series(curves, AGREEMENT_DIFF)[1])]) * 1.1)
        twin.legend(fontsize=7, loc="center right")
    if _series(curves, AGREEMENT_CORR)[0]:
        agreement.axhline(0.999, color="C0", linestyle=":")
        agreement.set_ylim(min([0.99, *(_series(curves, AGREEMENT_CORR)[1])]) - 0.001, 1.0005)
    if bench:
        _plot_bench(axes[0][3], axes[1][3], bench)
    figure.suptitle("Aes-R1 in miniature: what verl logged during RAPO (tiny Qwen2.5-VL, CPU)")
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
    rapo = stages.get("rapo", {}).get("result") or {}
    summary = {
        "sizes": sizes,
        "stages": {name: {k: v for k, v in info.items() if k != "result"} for name, info in stages.items()},
        "sft": stages.get("sft", {}).get("result") or {"steps": None},
        "rapo": {"steps": rapo.get("steps"), "agreement": rapo.get("agreement"), "metrics": curves},
        "evaluation": {name: evaluation.get(name) for name in MODELS},
        "rapo_vs_sft": evaluation.get("rapo_vs_sft"),
        "protocol": protocol_text(sizes),
        "aescot": stages.get("aescot", {}).get("result"),
    }
    write_json_atomic(folder / "summary.json", summary)
    if evaluation:
        write_text_atomic(folder / "table.md", table_markdown(evaluation, sizes))
    if len(curves["step"]):
        plot_curves(curves, out / "reward_bench" / "results.json", folder / "curves.png")
    return summary
