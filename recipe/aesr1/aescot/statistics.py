"""Statistics of an AesCoT run: counts per level, rejections per reason, critique lengths, cost per stage."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.levels import LEVELS
from recipe.aesr1.endpoints.request_log import LogEntry

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


_COST_FIELDS = ("requests", "seconds", "prompt_tokens", "completion_tokens")


def stage_costs(entries: dict[str, list[LogEntry]]) -> dict[str, dict[str, Any]]:
    """Per stage: how many records asked it, the totals of their requests (HTTP attempts), endpoint seconds
    and tokens, and the mean per record that asked it (``per_record``).

    Tokens sum the replies that reported ``usage`` (``usage_reported`` of them) and are None when none did;
    seconds are 0 for entries of a request log written before they were kept.
    """
    report: dict[str, dict[str, Any]] = {}
    for stage in sorted(entries):
        logged = entries[stage]
        if not logged:
            continue
        prompt = [e.prompt_tokens for e in logged if e.prompt_tokens is not None]
        completion = [e.completion_tokens for e in logged if e.completion_tokens is not None]
        totals: dict[str, Any] = {
            "records": len(logged),
            "requests": sum(e.attempts for e in logged),
            "seconds": round(sum(e.seconds for e in logged), 3),
            "prompt_tokens": sum(prompt) if prompt else None,
            "completion_tokens": sum(completion) if completion else None,
            "usage_reported": len(prompt),
        }
        totals["per_record"] = {
            name: None if totals[name] is None else round(totals[name] / len(logged), 4) for name in _COST_FIELDS
        }
        report[stage] = totals
    return report


def run_statistics(results: list[rr.RecordResult], target: dict[str, int], available: dict[str, int],
                   rounds: int, costs: dict[str, list[LogEntry]] | None = None) -> dict[str, Any]:
    """The statistics report written as ``stats.json``.

    ``rejections_by_reason`` counts every reason of every rejected record (a record may have several);
    ``first_reason`` counts each rejected record once, by its first failing check; ``costs`` is
    :func:`stage_costs` of the run's request-log entries per stage.
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
        "costs": stage_costs(costs or {}),
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
    costs = stats.get("costs") or {}
    if costs:
        lines.append("")
        lines.append(f"{'cost per record asked':<24}{'records':>8}{'requests':>10}{'seconds':>10}"
                     f"{'prompt tok':>12}{'completion tok':>16}")
        for stage, cost in costs.items():
            per = cost["per_record"]
            cells = [f"{per['requests']:>10.2f}", f"{per['seconds']:>10.3f}"] + [
                f"{'n/a' if per[name] is None else format(per[name], '.1f'):>{width}}"
                for name, width in (("prompt_tokens", 12), ("completion_tokens", 16))]
            lines.append(f"{stage:<24}{cost['records']:>8}" + "".join(cells))
    return "\n".join(lines)
