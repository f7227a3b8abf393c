"""Statistics of an AesCoT run: counts per level, rejections per reason, critique lengths."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.levels import LEVELS

_QUANTILES = (0.0, 0.05, 0.25, 0.5, 0.75, 0.95, 1.0)


def length_summary(lengths: list[int]) -> dict[str, Any]:
    """Count, mean and quantiles (min, p5, p25, median, p75, p95, max) of a list of lengths; empty -> count 0."""
    if not lengths:
        return {"count": 0}
    values = np.asarray(lengths, dtype=float)
    names = ("min", "p5", "p25", "median", "p75", "p95", "max")
    summary: dict[str, Any] = {"count": len(lengths), "mean": round(float(values.mean()), 1)}
    summary.update({name: round(float(np.quantile(values, q)), 1) for name, q in zip(names, _QUANTILES)})
    return summary


def run_statistics(results: list[rr.RecordResult], target: dict[str, int], available: dict[str, int],
                   rounds: int) -> dict[str, Any]:
    """The statistics report written as ``stats.json``.

    ``rejections_by_reason`` counts every reason of every rejected record (a record may have several);
    ``first_reason`` counts each rejected record once, by its first failing check.
    """
    per_level: dict[str, dict[str, int]] = {}
    for level in LEVELS:
        members = [r for r in results if r.level == level]
        statuses = Counter(r.status for r in members)
        per_level[level] = {
            "target": target.get(level, 0),
            "available": available.get(level, 0),
            "sampled": len(members),
            "kept": statuses[rr.KEPT],
            "rejected": statuses[rr.REJECTED],
            "surplus": statuses[rr.SURPLUS],
            "shortfall": max(0, target.get(level, 0) - statuses[rr.KEPT]),
        }
    rejected = [r for r in results if r.status == rr.REJECTED]
    by_reason = Counter(reason for r in rejected for reason in r.reasons)
    by_reason_level = {
        reason: {level: sum(1 for r in rejected if r.level == level and reason in r.reasons) for level in LEVELS}
        for reason in rr.REASONS
    }
    leakage_rules = Counter(code for r in rejected for code in {f["code"] for f in r.leakage})
    kept = [r for r in results if r.status == rr.KEPT]
    critiques = [r for r in results if r.critique is not None]
    return {
        "rounds": rounds,
        "levels": per_level,
        "totals": {key: sum(v[key] for v in per_level.values()) for key in next(iter(per_level.values()))},
        "rejections_by_reason": {reason: by_reason.get(reason, 0) for reason in rr.REASONS},
        "rejections_by_reason_and_level": by_reason_level,
        "first_reason": dict(Counter(r.reasons[0] for r in rejected)),
        "leakage_rules": dict(leakage_rules),
        "critique_chars": {"kept": length_summary([len(r.critique or "") for r in kept]),
                           "all": length_summary([len(r.critique or "") for r in critiques])},
        "critique_words": {"kept": length_summary([len((r.critique or "").split()) for r in kept]),
                           "all": length_summary([len((r.critique or "").split()) for r in critiques])},
    }


def format_statistics(stats: dict[str, Any]) -> str:
    """A plain-text table of the report for the console."""
    columns = ("target", "available", "sampled", "kept", "rejected", "surplus", "shortfall")
    lines = [f"{'level':<8}" + "".join(f"{c:>11}" for c in columns)]
    for level, row in list(stats["levels"].items()) + [("all", stats["totals"])]:
        lines.append(f"{level:<8}" + "".join(f"{row[c]:>11}" for c in columns))
    lines.append("")
    lines.append(f"{'rejection reason':<24}{'count':>7}   " + "  ".join(f"{level:>5}" for level in LEVELS))
    for reason, count in stats["rejections_by_reason"].items():
        per = stats["rejections_by_reason_and_level"][reason]
        lines.append(f"{reason:<24}{count:>7}   " + "  ".join(f"{per[level]:>5}" for level in LEVELS))
    words = stats["critique_words"]["kept"]
    if words["count"]:
        lines.append("")
        lines.append("kept critique length (words): " + ", ".join(
            f"{name} {words[name]:g}" for name in ("min", "p5", "median", "mean", "p95", "max")))
    return "\n".join(lines)
