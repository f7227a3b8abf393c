"""Write a run's outputs, each atomically: SFT parquet, per-record verdicts, statistics, audit page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from data_prep.atomic_files import write_text_atomic
from recipe.aesr1.aescot.audit_page import audit_html
from recipe.aesr1.aescot.config import AesCoTConfig, config_to_yaml
from recipe.aesr1.aescot.pipeline import PipelineRun
from recipe.aesr1.aescot.sft_export import write_sft_parquet
from recipe.aesr1.aescot.statistics import run_statistics

SFT_NAME = "aescot_sft.parquet"
RECORDS_NAME = "records.jsonl"
STATS_NAME = "stats.json"
AUDIT_NAME = "audit.html"
CONFIG_NAME = "config.yaml"


@dataclass(frozen=True)
class OutputPaths:
    sft: Path
    records: Path
    stats: Path
    audit: Path
    config: Path


def write_outputs(config: AesCoTConfig, run: PipelineRun) -> tuple[OutputPaths, dict]:
    """Write every output of ``run`` into ``config.output.dir``; returns the paths and the statistics."""
    out = Path(config.output.dir)
    paths = OutputPaths(out / SFT_NAME, out / RECORDS_NAME, out / STATS_NAME, out / AUDIT_NAME, out / CONFIG_NAME)
    write_sft_parquet(paths.sft, run.kept, run.images, config.output.embed_images)
    write_text_atomic(
        paths.records, "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in run.results)
    )
    stats = run_statistics(run.results, run.target, run.available, run.rounds, run.costs)
    stats["torn_log_bytes_cut"] = run.torn_log_bytes
    write_text_atomic(paths.stats, json.dumps(stats, indent=2) + "\n")
    write_text_atomic(
        paths.audit, audit_html(run.results, run.images, config.output.audit_per_group, config.output.audit_seed)
    )
    write_text_atomic(paths.config, config_to_yaml(config))
    return paths, stats
