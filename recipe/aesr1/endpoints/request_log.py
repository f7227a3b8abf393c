"""Append-only, fsync'ed JSONL log of finished requests: the resumable state of AesCoT and RED-Aes.

One line per finished request, keyed by ``request_key(stage, record_id, payload)``. A line is written
(and fsync'ed) only after the response was received and validated, so a key found in the log is
never requested again; killing the process loses at most the requests in flight. A kill in the
middle of a write leaves a last line without its newline: it is detected on open, reported, cut off
and its request is made again. Any other unreadable line is corruption and raises, naming the line.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

OUTCOME_OK = "ok"
OUTCOME_FAILED = "failed"


def request_key(stage: str, record_id: str, payload: Any) -> str:
    """``stage/record_id/hash``: the hash covers everything sent (model, messages, sampling params).

    ``payload`` must be JSON-serialisable; images in it should already be replaced by their digest so
    that the key is cheap to compute and changes when the image changes.
    """
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"{stage}/{record_id}/{digest[:16]}"


@dataclass(frozen=True)
class LogEntry:
    """One finished request.

    Attributes:
        key: the request key.
        stage: AesCoT's stage (``generate``, ``alignment`` ...) or RED-Aes's endpoint name (or ``edit``).
        record_id: ``dataset/id`` of the record.
        outcome: ``ok`` (``text`` holds the validated reply) or ``failed`` (``error`` says why).
        text: the reply's message content, or None when failed.
        finish_reason: the reply's finish reason (``stop``, ``length``), or None.
        attempts: HTTP requests made for this key in the run that finished it.
        error: last error after the retries ran out, or None.
        model: the model name that answered.
        seconds: time the endpoint spent on it (``ChatResult.seconds``); 0 in logs written before it was kept.
        prompt_tokens, completion_tokens: the reply's reported usage, or None.
    """

    key: str
    stage: str
    record_id: str
    outcome: str
    text: str | None
    finish_reason: str | None
    attempts: int
    error: str | None
    model: str
    seconds: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == OUTCOME_OK


@contextmanager
def exclusive_dir(directory: Path) -> Iterator[None]:
    """One run per output directory: two writers on one request log would duplicate requests."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise RuntimeError(f"another run holds {directory / '.lock'}") from error
        yield  # the OS drops the lock when the process dies, so a killed run never blocks a restart


class RequestLog:
    """The on-disk log, loaded into a dict on open; ``append`` is durable when it returns.

    Single writer: one run per log file (the run holds ``exclusive_dir`` on the log's folder).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.entries: dict[str, LogEntry] = {}
        self.torn_tail_bytes = 0
        self._load()
        self._file = open(self.path, "ab")

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete_end = data.rfind(b"\n") + 1
        self.torn_tail_bytes = len(data) - complete_end
        if self.torn_tail_bytes:
            # A kill during the last write: cut the partial line so the next append starts clean.
            with open(self.path, "r+b") as handle:
                handle.truncate(complete_end)
                handle.flush()
                os.fsync(handle.fileno())
        for line_number, line in enumerate(data[:complete_end].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entry = LogEntry(**json.loads(line))
            except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as error:
                raise ValueError(f"{self.path}:{line_number}: unreadable request-log line ({error})") from error
            self.entries[entry.key] = entry  # a later line for the same key (a retried failure) wins

    def get(self, key: str) -> LogEntry | None:
        return self.entries.get(key)

    def append(self, entry: LogEntry) -> None:
        """Write one line and fsync it; the entry is durable when this returns."""
        line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
        self._file.write(line.encode())
        self._file.flush()
        os.fsync(self._file.fileno())
        self.entries[entry.key] = entry

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "RequestLog":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
