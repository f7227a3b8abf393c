"""Evaluation and scoring against an endpoint that misbehaves: every reply is retried or recorded, none lost.

The fake judge plays the AesCoT fake server's faults per image (keyed by the image's red level).
"""

from __future__ import annotations

import json

import pytest

from recipe.aesr1.curation import cli as score_cli
from recipe.aesr1.endpoints.chat_client import FatalEndpointError
from recipe.aesr1.evaluation.runner import EvaluationSettings, predict
from recipe.aesr1.scoring.backends import SamplingSettings, make_backend
from recipe.aesr1.scoring.inputs import collect_inputs

SECRET = "sk-eval-secret-0123456789"


def _backend(url, **options):
    values = dict(base_url=url, api_key=SECRET, image_format="png", concurrency=4, max_retries=3,
                  backoff_base_s=0.005, backoff_max_s=0.02, timeout_s=5.0)
    values.update(options)
    return make_backend("openai", "fake-judge", **values)


def _table(tmp_path, helpers, predictions):
    rows = [{"id": f"i{k}", "dataset": "ava", "score": 0.5, "image_bytes": helpers.png_bytes(helpers.red_for(p))}
            for k, p in enumerate(predictions)]
    helpers.write_table(tmp_path / "eval.parquet", rows)
    return [str(tmp_path / "eval.parquet")]


def _records(out):
    return {r["id"]: r for r in map(json.loads, (out / "predictions" / "ava.jsonl").read_text().splitlines())}


def test_malformed_replies_are_retried_and_empty_ones_end_as_backend_error(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    preds = [0.2, 0.4, 0.6, 0.8]
    reds = [helpers.red_for(p) for p in preds]
    judge.script = {reds[0]: ["malformed", "nonutf8", "nochoices"], reds[1]: ["empty"],
                    reds[2]: ["empty"] * 10, reds[3]: ["502", "drop"]}
    out = tmp_path / "run"
    predict(_backend(url), "m", _table(tmp_path, helpers, preds), out, EvaluationSettings(batch_size=4))
    records = _records(out)
    assert [records[f"i{k}"]["samples"][0]["score"] for k in (0, 1, 3)] == [0.2, 0.4, 0.8]
    failed = records["i2"]["samples"][0]
    assert failed["reason"] == "backend_error" and "no message content" in failed["error"]  # not an answer ""
    assert judge.attempts[reds[2]] == 4  # first attempt + max_retries, then recorded


def test_replies_are_recorded_as_they_arrive_and_never_resent(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    preds = [0.2, 0.4, 0.6, 0.8]
    judge.script = {helpers.red_for(0.8): ["delay:0.5:401"]}  # answered last, and stops the run
    out, data = tmp_path / "run", _table(tmp_path, helpers, preds)
    with pytest.raises(FatalEndpointError):
        predict(_backend(url), "m", data, out, EvaluationSettings(batch_size=4))
    assert sorted(_records(out)) == ["i0", "i1", "i2"]  # the batch's answered replies are on disk
    sent = len(judge.requests)
    predict(_backend(url), "m", data, out, EvaluationSettings(batch_size=4))
    assert len(judge.requests) == sent + 1 and sorted(_records(out)) == ["i0", "i1", "i2", "i3"]


def test_timeout_is_a_deadline_per_attempt(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    red = helpers.red_for(0.3)
    judge.script = {red: ["trickle:1.5"]}
    out = tmp_path / "run"
    predict(_backend(url, timeout_s=0.5), "m", _table(tmp_path, helpers, [0.3]), out, EvaluationSettings())
    assert _records(out)["i0"]["samples"][0]["score"] == 0.3 and judge.attempts[red] == 2


def test_the_timeout_and_retries_are_command_line_options(fake_judge, tmp_path, helpers):
    import argparse

    from recipe.aesr1.scoring.cli_options import add_backend_args, backend_from_args

    parser = argparse.ArgumentParser()
    add_backend_args(parser)
    args = parser.parse_args(["--model", "m", "--backend", "openai", "--timeout", "7.5", "--max-retries", "2"])
    backend = backend_from_args(args)
    assert (backend.endpoint.timeout_s, backend.endpoint.max_retries) == (7.5, 2)


def _files_text(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_an_echoed_key_never_reaches_disk_or_the_terminal(fake_judge, tmp_path, helpers, capsys, monkeypatch):
    url, judge = fake_judge
    preds = [0.2, 0.4]
    judge.script = {helpers.red_for(0.2): ["echo:400"]}
    out = tmp_path / "run"
    predict(_backend(url), "m", _table(tmp_path, helpers, preds), out, EvaluationSettings())
    assert "bad request with header" in _records(out)["i0"]["samples"][0]["error"]
    # aesr1-score with a 401 that echoes the key: a clean error, no traceback, nothing on disk.
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.png").write_bytes(helpers.png_bytes(helpers.red_for(0.6)))
    judge.script[helpers.red_for(0.6)] = ["echo:401"]
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    code = score_cli.main([str(photos), "--model", "m", "--backend", "openai", "--base-url", url,
                           "--out", str(tmp_path / "scores.csv")])
    captured = capsys.readouterr()
    assert code == 3 and "401" in captured.err and "[REDACTED]" in captured.err
    assert f"Bearer {SECRET}" in judge.authorizations  # the key was sent...
    for path, data in {**_files_text(out), **_files_text(tmp_path / "photos")}.items():
        assert SECRET.encode() not in data, path  # ...and never written
    assert SECRET not in captured.out + captured.err
    for path in tmp_path.glob("scores.csv*"):
        assert SECRET.encode() not in path.read_bytes()


def test_retry_failed_sends_again_only_the_images_whose_requests_all_failed(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    preds = [0.2, 0.4, 0.6]
    judge.script = {helpers.red_for(0.4): ["503"] * 4}  # retries (3) run out: backend_error, run goes on
    out, data = tmp_path / "run", _table(tmp_path, helpers, preds)
    predict(_backend(url), "m", data, out, EvaluationSettings())
    assert _records(out)["i1"]["samples"][0]["reason"] == "backend_error"
    sent = len(judge.requests)
    predict(_backend(url), "m", data, out, EvaluationSettings())  # a plain rerun keeps the outcome
    assert len(judge.requests) == sent
    predict(_backend(url), "m", data, out, EvaluationSettings(retry_failed=True))
    assert len(judge.requests) == sent + 1 and _records(out)["i1"]["samples"][0]["score"] == 0.4
    # aesr1-score: the same for a file whose requests all failed.
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, p in (("a", 0.3), ("b", 0.5)):
        (photos / f"{name}.png").write_bytes(helpers.png_bytes(helpers.red_for(p)))
    judge.script[helpers.red_for(0.5)] = ["503"] * 4
    paths, csv = collect_inputs([str(photos)]), tmp_path / "scores.csv"
    rows = score_cli.score_to_file(_backend(url), paths, SamplingSettings(), csv)
    assert [r["status"] for r in rows] == ["ok", "no_score"] and rows[1]["n_backend_errors"] == 1
    sent = len(judge.requests)
    rows = score_cli.score_to_file(_backend(url), paths, SamplingSettings(), csv, retry_failed=True)
    assert len(judge.requests) == sent + 1 and [r["score"] for r in rows] == [0.3, 0.5]
