"""The resumable request log: durable appends, torn last line, corruption, keys."""

from __future__ import annotations

import json

import pytest

from recipe.aesr1.endpoints.request_log import (
    LogEntry,
    RequestLog,
    exclusive_dir,
    request_key,
)


def entry(key: str, outcome: str = "ok", text: str | None = "critique") -> LogEntry:
    return LogEntry(key, key.split("/")[0], "ava/1", outcome, text, "stop", 1, None, "m")


def test_entries_survive_reopening(tmp_path):
    path = tmp_path / "requests.jsonl"
    with RequestLog(path) as log:
        log.append(entry("generate/ava/1/aa"))
        log.append(entry("alignment/ava/1/bb", text="good"))
    with RequestLog(path) as log:
        assert set(log.entries) == {"generate/ava/1/aa", "alignment/ava/1/bb"}
        assert log.get("alignment/ava/1/bb").text == "good"
        assert log.torn_tail_bytes == 0


def test_torn_last_line_is_cut_and_the_next_append_starts_clean(tmp_path):
    path = tmp_path / "requests.jsonl"
    with RequestLog(path) as log:
        log.append(entry("generate/ava/1/aa"))
    whole_line = json.dumps(entry("generate/ava/2/cc").__dict__)
    with open(path, "a") as handle:
        handle.write(whole_line[:25])  # a kill in the middle of a write
    with RequestLog(path) as log:
        assert log.torn_tail_bytes == 25
        assert set(log.entries) == {"generate/ava/1/aa"}  # the torn request will be made again
        log.append(entry("generate/ava/2/cc"))
    with RequestLog(path) as log:
        assert set(log.entries) == {"generate/ava/1/aa", "generate/ava/2/cc"}
        assert log.torn_tail_bytes == 0


def test_complete_json_without_newline_counts_as_torn(tmp_path):
    # The write of the newline is part of the line: without it the line was not durable.
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps(entry("generate/ava/1/aa").__dict__))
    with RequestLog(path) as log:
        assert log.entries == {}


def test_a_corrupt_middle_line_raises_with_its_line_number(tmp_path):
    path = tmp_path / "requests.jsonl"
    good = json.dumps(entry("generate/ava/1/aa").__dict__)
    path.write_text(f"{good}\n{{not json\n{good}\n")
    with pytest.raises(ValueError, match=r"requests.jsonl:2: unreadable"):
        RequestLog(path)


def test_a_later_line_for_the_same_key_wins(tmp_path):
    # retry_failed: a failure, then the success of a later run.
    path = tmp_path / "requests.jsonl"
    with RequestLog(path) as log:
        log.append(entry("generate/ava/1/aa", outcome="failed", text=None))
        log.append(entry("generate/ava/1/aa"))
    with RequestLog(path) as log:
        assert log.get("generate/ava/1/aa").ok


def test_request_key_names_stage_and_record_and_hashes_the_payload():
    key = request_key("generate", "ava/123", {"model": "m", "messages": ["a"]})
    stage, dataset, id_, digest = key.split("/")
    assert (stage, dataset, id_, len(digest)) == ("generate", "ava", "123", 16)
    assert key == request_key("generate", "ava/123", {"messages": ["a"], "model": "m"})  # key order irrelevant
    assert key != request_key("generate", "ava/123", {"model": "m", "messages": ["b"]})
    assert key != request_key("alignment", "ava/123", {"model": "m", "messages": ["a"]})


def test_one_run_per_folder(tmp_path):
    with exclusive_dir(tmp_path / "out"):
        with pytest.raises(RuntimeError, match="another run holds"):
            with exclusive_dir(tmp_path / "out"):
                pass
    with exclusive_dir(tmp_path / "out"):  # released when the run ends
        pass
