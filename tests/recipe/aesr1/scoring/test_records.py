"""The predictions file: durable appends, a partial last line dropped, damage elsewhere reported."""

import json

import pytest

from recipe.aesr1.scoring.backends.base import Sample
from recipe.aesr1.scoring.records import PredictionStore, sample_record


def test_append_and_reopen(tmp_path):
    store = PredictionStore(tmp_path / "p.jsonl")
    store.append({"id": "a", "samples": []})
    store.append({"id": 7, "samples": []})  # ids are keyed as strings
    again = PredictionStore(tmp_path / "p.jsonl")
    assert len(again) == 2 and "a" in again and "7" in again


def test_partial_last_line_is_dropped_and_file_repaired(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a"}) + "\n" + '{"id": "b", "sam')
    store = PredictionStore(path)
    assert "a" in store and "b" not in store
    assert path.read_text() == json.dumps({"id": "a"}) + "\n"
    store.append({"id": "b"})
    assert len(PredictionStore(path)) == 2


def test_damaged_middle_line_names_file_and_line(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a"}\n{oops\n{"id": "c"}\n')
    with pytest.raises(ValueError, match=r"p.jsonl:2"):
        PredictionStore(path)


def test_duplicate_id_is_refused(tmp_path):
    store = PredictionStore(tmp_path / "p.jsonl")
    store.append({"id": "a"})
    with pytest.raises(ValueError, match="already recorded"):
        store.append({"id": "a"})


def test_sample_record_uses_the_reward_parser():
    record = sample_record(Sample("<think>Warm light.</think><answer>0.73</answer>", 9, 4.5, "full_vocab"))
    assert (record["score"], record["format_ok"], record["reason"]) == (0.73, True, "ok")
    assert sample_record(Sample("no tags at all"))["score"] is None
    refused = sample_record(Sample("", error="HTTP 400: refused"))
    assert (refused["score"], refused["reason"], refused["error"]) == (None, "backend_error", "HTTP 400: refused")
