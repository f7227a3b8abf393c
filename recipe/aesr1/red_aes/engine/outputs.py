"""The datasets the engine's decisions give, written atomically under ``output_dir``.

* ``pt_o1.parquet`` / ``pt_o2.parquet``: Stage 1 SFT (Sec. 3.2.1), verl ``MultiTurnSFTDataset`` layout
  (``messages`` + ``images``). PT-O1 shows source and edit and asks for the difference; PT-O2 shows the
  source and the instruction only. Target: ``<think>{judge reasoning}</think><answer>{+0.12}</answer>``,
  the consensus difference on the [0, 1] label scale. Both files are trained jointly (list both).
* ``calibration.parquet``: Stage 2 (Sec. 3.2.2), the shared scoring prompt and
  ``<think>{expert analysis}</think><answer>{anchor}</answer>``.
* ``rl.parquet``: Stage 3, verl ``RLHFDataset`` layout, one row per image; ``extra_info.group_id``
  names its source-edit group (the source's record id); ``reward_model.ground_truth`` is the anchored
  label of ``engine_records.group_ground_truth`` (only differences within a group matter).
* ``results.jsonl`` (every decision per source) and ``report.json`` (counts).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
from datasets import Features, List, Value

from data_prep.atomic_files import (
    write_atomically,
    write_json_atomic,
    write_jsonl_atomic,
)
from data_prep.layouts import ABILITY, image_cell
from data_prep.parquet_io import write_parquet_atomic
from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.aescot.sft_export import sft_schema, sft_target, verl_sft_images
from recipe.aesr1.endpoints.data_urls import image_bytes, image_digest
from recipe.aesr1.red_aes.engine import prompts as prompts
from recipe.aesr1.red_aes.engine import records as er
from recipe.aesr1.red_aes.engine.config import RedEngineConfig
from recipe.aesr1.red_aes.engine.images import within_budget
from recipe.aesr1.red_aes.engine.run import EngineRun
from recipe.aesr1.red_aes.engine.sources import read_source_cells

DATA_SOURCE = "red_aes"
SOURCE_DIR = "sources"  # path mode: budget-sized copies of sources larger than the pixel budget
# The PT-O1/PT-O2/calibration files' columns after messages/images (``aescot.sft_export.sft_schema``).
SFT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("id", pa.string()),
    ("objective", pa.string()),
    ("target", pa.float64()),
    ("edit_category", pa.string()),
    ("edit_type", pa.string()),
)
RL_FEATURES = Features(
    {
        "data_source": Value("string"),
        "ability": Value("string"),
        "prompt": List({"role": Value("string"), "content": Value("string")}),
        "images": List(datasets.Image()),
        "reward_model": {"style": Value("string"), "ground_truth": Value("float64")},
        "extra_info": {
            "id": Value("string"),
            "group_id": Value("string"),
            "index": Value("int64"),
            "role": Value("string"),
            "instruction": Value("string"),
            "editor": Value("string"),
            "edit_category": Value("string"),
            "edit_type": Value("string"),
            "difference": Value("float64"),
            "anchor": Value("float64"),
        },
    }
)


def difference_target(reasoning: str, difference: float) -> str:
    """Assistant turn of PT-O1/PT-O2: reasoning, then the signed difference with two decimals."""
    return f"<think>{reasoning}</think><answer>{difference:+.2f}</answer>"


def _sft_row(
    row_id: str,
    objective: str,
    prompt: str,
    answer: str,
    images: list[dict],
    target: float,
    pair: er.PairResult | None = None,
) -> dict:
    return {
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
        "images": images,
        "id": row_id,
        "objective": objective,
        "target": target,
        "edit_category": "" if pair is None else pair.category,  # "" for calibration rows (no edit)
        "edit_type": "" if pair is None else pair.edit_type,
    }


class _Images:
    """Image cells for the outputs: sources from the input tables, edits from ``output_dir``."""

    def __init__(self, run: EngineRun, out_dir: Path, embed: bool, max_pixels: int):
        self.run, self.out_dir, self.embed, self.max_pixels = run, out_dir, embed, max_pixels
        self.cells: dict[str, dict[str, Any]] = {}

    def load_sources(self, record_ids: list[str]) -> None:
        wanted = [self.run.candidates[r] for r in record_ids if r not in self.cells]
        self.cells.update(read_source_cells(wanted))

    def source(self, record_id: str) -> dict:
        """The source as the engine's models saw it (within the pixel budget); in path mode the
        original file when it fits, else a budget-sized copy under ``output_dir/sources``."""
        cell = self.cells[record_id]
        original = image_bytes(cell, where=record_id)
        data = within_budget(original, self.max_pixels)
        if self.embed or not cell.get("path"):
            return image_cell(data, None)
        if data is original:
            return image_cell(None, cell["path"])
        path = self.out_dir / SOURCE_DIR / f"{image_digest(original).split(':')[1]}{Path(cell['path']).suffix}"
        if not path.is_file():
            write_atomically(path, lambda temp: Path(temp).write_bytes(data))
        return image_cell(None, str(path.resolve()))

    def edit(self, relative: str) -> dict:
        path = self.out_dir / relative
        return image_cell(path.read_bytes(), None) if self.embed else image_cell(None, str(path.resolve()))


def build_rows(run: EngineRun, config: RedEngineConfig) -> dict[str, list[dict]]:
    """Rows of every output dataset (``pt_o1``, ``pt_o2``, ``calibration``, ``rl``) and counts in ``run.report``."""
    out_dir, report = Path(config.output_dir), run.report
    by_id = {s.record_id: s for s in run.sources}
    images = _Images(run, out_dir, config.build.embed_images, config.max_pixels)
    images.load_sources([s.record_id for s in run.sources])
    rows: dict[str, list[dict]] = {"pt_o1": [], "pt_o2": [], "calibration": [], "rl": []}
    for record_id in run.pt_ids:
        source = by_id[record_id]
        for pair in source.pt_pairs:
            if not pair.valid:
                report.pair_reasons[f"pt/{pair.reason}"] += 1
        if source.pt_choice is None:
            report.drops[f"pt/{source.reasons.get('pt', 'unknown')}"] += 1
            continue
        pair = source.pt_pairs[source.pt_choice]
        answer = difference_target(pair.reasoning, pair.difference)
        src = images.source(record_id)
        rows["pt_o1"].append(
            _sft_row(
                record_id,
                "pt_o1",
                prompts.PT_O1_PROMPT,
                answer,
                [src, images.edit(pair.edited_path)],
                pair.difference,
                pair,
            )
        )
        rows["pt_o2"].append(
            _sft_row(
                record_id,
                "pt_o2",
                prompts.PT_O2_PROMPT.format(instruction=pair.instruction),
                answer,
                [src],
                pair.difference,
                pair,
            )
        )
        report.edit_types[f"pt/{pair.edit_type}"] += 1
    for record_id in run.calibration_ids:
        source = by_id[record_id]
        if source.anchor is None:
            report.drops["calibration/" + source.reasons.get("calibration", er.ANCHOR_FAILED)] += 1
            continue
        if not source.anchor.analysis:
            report.drops["calibration/" + er.ANALYSIS_LEAKS] += 1
            continue
        score = round(source.anchor.unit, 2)
        rows["calibration"].append(
            _sft_row(
                record_id,
                "calibration",
                SCORING_PROMPT,
                sft_target(source.anchor.analysis, score),
                [images.source(record_id)],
                score,
            )
        )
    for record_id in run.rl_ids:
        source = by_id[record_id]
        for pair in source.rl_pairs:
            if not pair.valid:
                report.pair_reasons[f"rl/{pair.reason}"] += 1
        variants = [p for p in source.rl_pairs if p.valid]
        if source.anchor is None or not variants:
            report.drops[f"rl/{source.reasons.get('rl', er.NO_VALID_PAIR)}"] += 1
            continue
        labels, shift, scale = er.group_ground_truth(source.anchor.unit, [p.difference for p in variants])
        report.rl_groups_shifted += shift != 0
        report.rl_groups_compressed += scale != 1
        report.rl_group_sizes[len(labels)] += 1
        for pair in variants:
            report.edit_types[f"rl/{pair.edit_type}"] += 1
        members = [(None, images.source(record_id))] + [(p, images.edit(p.edited_path)) for p in variants]
        for k, ((pair, cell), label) in enumerate(zip(members, labels, strict=True)):
            rows["rl"].append(
                {
                    "data_source": DATA_SOURCE,
                    "ability": ABILITY,
                    "prompt": [{"role": "user", "content": SCORING_PROMPT}],
                    "images": [cell],
                    "reward_model": {"style": "rule", "ground_truth": label},
                    "extra_info": {
                        "id": f"{record_id}#{k}",
                        "group_id": record_id,
                        "index": len(rows["rl"]),
                        "role": "source" if pair is None else "variant",
                        "instruction": "" if pair is None else pair.instruction,
                        "editor": "" if pair is None else pair.editor,
                        "edit_category": "" if pair is None else pair.category,
                        "edit_type": "" if pair is None else pair.edit_type,
                        "difference": 0.0 if pair is None else pair.difference,
                        "anchor": source.anchor.unit,
                    },
                }
            )
    report.pt_samples, report.calibration_samples = len(rows["pt_o1"]), len(rows["calibration"])
    report.rl_groups = sum(report.rl_group_sizes.values())
    report.targets = size_targets(config, report, run)
    return rows


def size_targets(config: RedEngineConfig, report: er.EngineReport, run: EngineRun) -> dict[str, dict[str, float]]:
    """Per enabled part: RED-20k's target, what was written, the shortfall and, at this run's yield
    (written per source tried), about how many more sources would close it."""
    parts = {
        "pt_samples": (config.build.pt, report.pt_samples, len(run.pt_ids), config.targets.pt_samples),
        "rl_groups": (config.build.rl, report.rl_groups, len(run.rl_ids), config.targets.rl_groups),
        "calibration_samples": (
            config.build.calibration, report.calibration_samples, len(run.calibration_ids),
            config.targets.calibration_samples,
        ),
    }  # fmt: skip
    targets = {}
    for name, (enabled, written, tried, target) in parts.items():
        if not enabled:
            continue
        shortfall = max(0, target - written)
        more = None if not shortfall else (math.ceil(shortfall * tried / written) if written else None)
        targets[name] = {"target": target, "written": written, "shortfall": shortfall, "more_sources_estimate": more}
    return targets


def write_outputs(run: EngineRun, config: RedEngineConfig) -> dict[str, int]:
    """Write the datasets of the enabled parts, ``results.jsonl`` and ``report.json``; returns rows per file."""
    out_dir = Path(config.output_dir)
    rows = build_rows(run, config)
    written = {}
    parts = {
        "pt_o1": config.build.pt,
        "pt_o2": config.build.pt,
        "calibration": config.build.calibration,
        "rl": config.build.rl,
    }
    for name, enabled in parts.items():
        if not enabled:
            continue
        if name == "rl":
            schema = RL_FEATURES.arrow_schema  # datasets.Image cells: RLHFDataset decodes them itself
        else:  # verl's SFT dataset reads one kind of image cell per file
            cells, image_type = verl_sft_images([row["images"] for row in rows[name]])
            rows[name] = [{**row, "images": row_cells} for row, row_cells in zip(rows[name], cells)]
            schema = sft_schema(image_type, SFT_COLUMNS)
        write_parquet_atomic(rows[name], schema, out_dir / f"{name}.parquet", row_group_size=64)
        written[name] = len(rows[name])
    write_jsonl_atomic(out_dir / "results.jsonl", (s.as_dict() for s in run.sources))
    write_json_atomic(out_dir / "report.json", run.report.as_dict(), sort_keys=True)
    return written
