"""Predictions written as they are produced (JSONL), so an interrupted evaluation resumes.

One line per image: ``{"id", "dataset", "label", "image_status", "image_detail", "seed", "samples":
[{"text", "score", "format_ok", "reason", "n_tokens", "entropy_sum", "entropy_kind"}]}``. A line is
appended and fsync-ed as soon as its image is scored; a killed run leaves at most one partial last
line, which ``PredictionStore`` drops (and rewrites the file without) when it reopens the file.
A damaged line anywhere else is an error naming the file and line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from data_prep.atomic_files import write_json_atomic, write_text_atomic
from recipe.aesr1.scoring.backends.base import Sample
from reward_fns import parse_answer

BACKEND_ERROR = "backend_error"
"""Parse reason of a sample the backend could not produce (``Sample.error`` is set)."""


def sample_record(sample: Sample) -> dict:
    """A sample with its parsed answer (``reward_fns.parse_answer``, the reward's own parser)."""
    if sample.error is not None:
        return {
            "text": "",
            "score": None,
            "format_ok": False,
            "reason": BACKEND_ERROR,
            "error": sample.error,
            "n_tokens": 0,
            "entropy_sum": None,
            "entropy_kind": None,
        }
    parsed = parse_answer(sample.text)
    return {
        "text": sample.text,
        "score": parsed.score,
        "format_ok": parsed.format_ok,
        "reason": parsed.reason,
        "n_tokens": sample.n_tokens,
        "entropy_sum": sample.entropy_sum,
        "entropy_kind": sample.entropy_kind,
    }


class PredictionStore:
    """Append-only JSONL of one benchmark's predictions, keyed by image id (or another ``key`` field)."""

    def __init__(self, path: str | Path, key: str = "id"):
        self.path = Path(path)
        self.key = key
        self.records: dict[str, dict] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        lines = self.path.read_text(encoding="utf-8").split("\n")
        complete = lines[:-1]  # text after the last newline is a partial write (or "")
        for number, line in enumerate(complete, start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{self.path}:{number}: damaged prediction line ({error})") from None
            self.records[str(record[self.key])] = record
        if lines[-1]:
            write_text_atomic(self.path, "".join(line + "\n" for line in complete))

    def __contains__(self, image_id: str) -> bool:
        return image_id in self.records

    def __len__(self) -> int:
        return len(self.records)

    def append(self, record: dict, replace: bool = False) -> None:
        """Add one image's record durably (flush + fsync) before the next image is scored.

        ``replace=True`` supersedes an earlier record of the image (a retried failure): the new line is
        appended and, as the last one, wins when the file is read again.
        """
        image_id = str(record[self.key])
        if image_id in self.records and not replace:
            raise ValueError(f"{self.path}: image {image_id!r} is already recorded")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self.records[image_id] = record


def check_or_write_header(out_dir: Path, header: dict) -> None:
    """Write ``out_dir/run.json`` the first time; later, refuse a run whose settings differ from it
    (a folder is never filled by two different settings)."""
    path = out_dir / "run.json"
    if path.exists():
        previous = json.loads(path.read_text())
        changed = sorted(k for k in header if previous.get(k) != header[k])
        if changed:
            raise ValueError(
                f"{path}: this folder holds predictions made with different {changed}; "
                "resuming would mix them. Use a new output folder."
            )
        return
    write_json_atomic(path, header)
