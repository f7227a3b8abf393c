"""Tables, findings against Aes-R1 Table 2, and plots for the reward bench."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_prep.atomic_files import write_json_atomic, write_text_atomic
from recipe.aesr1.reward_bench.simulate import RunResult

# Aes-R1 Table 2, average over the five benchmarks (PLCC, SRCC), RL from the base model.
PAPER_TABLE2 = {
    "binary": (0.4255, 0.4433),
    "error": (0.5655, 0.5600),
    "rank": (0.4542, 0.5908),
    "binary+rank": (0.5964, 0.5825),
    "error+rank": (0.6297, 0.6102),
}
METRICS = ("plcc", "srcc", "pred_mean", "pred_std", "label_mean", "label_std", "mae", "invalid_rate")


def summarise(results: list[RunResult]) -> dict[str, dict[str, tuple[float, float]]]:
    """design -> metric -> (mean, std over seeds), designs in order of first appearance."""
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for design in dict.fromkeys(r.design for r in results):
        runs = [r.metrics for r in results if r.design == design]
        table[design] = {m: (float(np.mean([x[m] for x in runs])), float(np.std([x[m] for x in runs]))) for m in METRICS}
    return table


def calibration_error(row: dict[str, tuple[float, float]]) -> float:
    """|mean(pred) - mean(label)| + |std(pred) - std(label)|: 0 when the distributions' first two moments match."""
    return abs(row["pred_mean"][0] - row["label_mean"][0]) + abs(row["pred_std"][0] - row["label_std"][0])


def format_table(table: dict[str, dict[str, tuple[float, float]]]) -> str:
    """A Markdown table: one row per design, mean +- std over seeds, paper's Table 2 averages beside."""
    head = "| design | PLCC | SRCC | pred mean/std | label mean/std | calib. err | MAE | invalid | paper PLCC/SRCC |"
    lines = [head, "|" + "---|" * 9]
    for design, row in table.items():
        paper = PAPER_TABLE2.get(design)
        lines.append(
            f"| {design} | {row['plcc'][0]:.3f} ± {row['plcc'][1]:.3f} | {row['srcc'][0]:.3f} ± {row['srcc'][1]:.3f} "
            f"| {row['pred_mean'][0]:.3f} / {row['pred_std'][0]:.3f} | {row['label_mean'][0]:.3f} / {row['label_std'][0]:.3f} "
            f"| {calibration_error(row):.3f} | {row['mae'][0]:.3f} | {row['invalid_rate'][0]:.1%} "
            f"| {f'{paper[0]:.3f} / {paper[1]:.3f}' if paper else '-'} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Finding:
    claim: str  # what Aes-R1 Table 2 shows
    holds: bool | None  # None: the designs it needs were not run
    evidence: str


def compare_with_table2(table: dict[str, dict[str, tuple[float, float]]], tol: float = 0.01) -> list[Finding]:
    """Check the paper's Table 2 findings on the simulated outcome; each verdict is computed, not assumed."""

    def get(design: str, metric: str) -> float:
        return table[design][metric][0]

    findings = []
    if {"rank", "error"} <= table.keys():
        gap_rank, gap_error = get("rank", "srcc") - get("rank", "plcc"), get("error", "srcc") - get("error", "plcc")
        findings.append(Finding(
            "rank-only orders well but is miscalibrated (SRCC above its PLCC, moments off)",
            gap_rank > gap_error and calibration_error(table["rank"]) > calibration_error(table["error"]),
            f"SRCC-PLCC gap rank {gap_rank:+.3f} vs error {gap_error:+.3f}; calibration error rank "
            f"{calibration_error(table['rank']):.3f} vs error {calibration_error(table['error']):.3f}",
        ))
        findings.append(Finding(
            "error-only is calibrated (prediction moments close to the labels')",
            calibration_error(table["error"]) < 0.5 * get("error", "label_std"),
            f"calibration error {calibration_error(table['error']):.3f} vs label std {get('error', 'label_std'):.3f}",
        ))
    if {"rank", "error", "error+rank"} <= table.keys():
        best_plcc = max(get("error", "plcc"), get("rank", "plcc"))
        best_srcc = max(get("error", "srcc"), get("rank", "srcc"))
        findings.append(Finding(
            "error+rank (RAPO) is best of both: PLCC and SRCC at least those of either single term",
            get("error+rank", "plcc") >= best_plcc - tol and get("error+rank", "srcc") >= best_srcc - tol,
            f"error+rank {get('error+rank', 'plcc'):.3f}/{get('error+rank', 'srcc'):.3f} vs best single "
            f"{best_plcc:.3f}/{best_srcc:.3f} (tolerance {tol})",
        ))
    if {"binary", "error"} <= table.keys():
        findings.append(Finding(
            "the continuous error reward beats the binary reward",
            get("error", "plcc") > get("binary", "plcc") and get("error", "srcc") > get("binary", "srcc"),
            f"error {get('error', 'plcc'):.3f}/{get('error', 'srcc'):.3f} vs binary {get('binary', 'plcc'):.3f}/{get('binary', 'srcc'):.3f}",
        ))
    return findings


def format_findings(findings: list[Finding]) -> str:
    marks = {True: "agrees", False: "DISAGREES", None: "not run"}
    return "\n".join(f"- [{marks[f.holds]}] {f.claim}: {f.evidence}" for f in findings)


def plot_distributions(results: list[RunResult], path: Path) -> None:
    """Prediction distribution of each design vs the label distribution (like Aes-R1 Fig. 1a), first seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = {}
    for r in results:
        first.setdefault(r.design, r)
    cols = min(4, len(first))
    rows = math.ceil(len(first) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False, sharex=True)
    bins = np.linspace(0, 1, 41)
    for ax, (design, r) in zip(axes.flat, first.items()):
        ax.hist(r.labels, bins=bins, density=True, alpha=0.45, color="gray", label="labels")
        ax.hist(r.predictions, bins=bins, density=True, histtype="step", linewidth=1.8, label="predictions")
        ax.set_title(f"{design}  PLCC {r.metrics['plcc']:.2f} SRCC {r.metrics['srcc']:.2f}", fontsize=9)
        ax.set_xlabel("score")
    for ax in list(axes.flat)[len(first):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    fig.suptitle("Learned predictions vs labels per reward design (seed %d)" % next(iter(first.values())).seed)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_curves(results: list[RunResult], path: Path) -> None:
    """PLCC and SRCC of the evaluated predictions over training steps, mean over seeds per design."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for design in dict.fromkeys(r.design for r in results):
        runs = [r for r in results if r.design == design]
        steps = runs[0].curve["step"]
        for ax, metric in zip(axes, ("plcc", "srcc")):
            with warnings.catch_warnings():  # step 0 of a constant initial policy is NaN for every seed
                warnings.simplefilter("ignore", RuntimeWarning)
                ax.plot(steps, np.nanmean([r.curve[metric] for r in runs], axis=0), label=design)
    for ax, metric in zip(axes, ("PLCC", "SRCC")):
        ax.set_xlabel("step")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(results: list[RunResult], table, findings: list[Finding], settings: dict, out_dir: Path) -> list[Path]:
    """results.json (every run, settings, findings), report.md (table + findings), two PNG plots."""
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {
        "settings": settings,
        "runs": [{"design": r.design, "seed": r.seed, "metrics": r.metrics, "curve": r.curve} for r in results],
        "summary": {d: {m: list(v) for m, v in row.items()} for d, row in table.items()},
        "findings": [{"claim": f.claim, "holds": f.holds, "evidence": f.evidence} for f in findings],
    }
    paths = [out_dir / "results.json", out_dir / "report.md", out_dir / "pred_distribution.png", out_dir / "training_curves.png"]
    write_json_atomic(paths[0], payload)  # NaN (undefined correlations) as null
    write_text_atomic(paths[1], "# Reward bench\n\n" + format_table(table) + "\n\n## Against Aes-R1 Table 2\n\n" + format_findings(findings) + "\n")
    plot_distributions(results, paths[2])
    plot_curves(results, paths[3])
    return paths
