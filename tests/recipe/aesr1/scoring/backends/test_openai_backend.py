"""The OpenAI-compatible backend against a real local HTTP server, and a full evaluation through it."""

import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.evaluation.failure_policy import ParseFailurePolicy
from recipe.aesr1.evaluation.metrics import plcc, srcc
from recipe.aesr1.evaluation.runner import (
    EvaluationSettings,
    evaluate,
    predict,
    summarize_run,
)
from recipe.aesr1.scoring.backends import SamplingSettings, make_backend

# benchmark -> (id, label, prediction the fake judge will read back; None = unparseable answer)
BENCH = {
    "ava": [
        ("a1", 0.20, 0.25),
        ("a2", 0.40, 0.31),
        ("a3", 0.55, 0.62),
        ("a4", 0.70, 0.66),
        ("a5", 0.90, 0.81),
        ("a6", 0.5, None),
    ],
    "para": [("p1", 0.10, 0.42), ("p2", 0.30, 0.18), ("p3", 0.60, 0.77), ("p4", 0.80, 0.73)],
}


def _make_tables(tmp_path, h):
    rows = []
    for dataset, items in BENCH.items():
        for image_id, label, pred in items:
            red = 0 if pred is None else h.red_for(pred)
            rows.append({"id": image_id, "dataset": dataset, "score": label, "image_bytes": h.png_bytes(red)})
    rows.append(
        {"id": "t1", "dataset": "ava", "split": "train", "score": 0.5, "image_bytes": h.png_bytes(10)}
    )  # not test
    # one image on disk referenced by path, one corrupt cell
    disk = tmp_path / "p5.png"
    disk.write_bytes(h.png_bytes(h.red_for(0.5)))
    rows.append({"id": "p5", "dataset": "para", "score": 0.45, "image_path": str(disk)})
    rows.append({"id": "p6", "dataset": "para", "score": 0.65, "image_bytes": b"not an image"})
    h.write_table(tmp_path / "eval.parquet", rows)
    return tmp_path / "eval.parquet"


def _backend(url):
    return make_backend("openai", "fake-judge", base_url=url, api_key="test", image_format="png", concurrency=4)


def test_backend_returns_n_samples_and_forwards_settings(fake_judge, helpers):
    url, judge = fake_judge
    sampling = SamplingSettings(temperature=0.6, top_p=0.9, max_new_tokens=64, n=3, seed=11)
    image = Image.open(io.BytesIO(helpers.png_bytes(helpers.red_for(0.42))))
    (samples,) = _backend(url).generate([image], SCORING_PROMPT, sampling, [123])
    assert [s.text for s in samples] == [
        "<think>Balanced composition and pleasing light.</think><answer>0.42</answer>"
    ] * 3
    body = judge.requests[0]
    assert (body["n"], body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (3, 0.6, 0.9, 64, 123)
    text_parts = [p["text"] for p in body["messages"][0]["content"] if p["type"] == "text"]
    assert "".join(text_parts) == SCORING_PROMPT.replace("<image>", "")  # the training prompt around the image


def test_endpoint_ignoring_n_is_topped_up(fake_judge, helpers):
    url, judge = fake_judge
    judge.ignore_n = True
    image = Image.new("RGB", (20, 20), (100, 0, 0))
    (samples,) = _backend(url).generate([image], SCORING_PROMPT, SamplingSettings(n=3), [5])
    assert len(samples) == 3 and len(judge.requests) == 3
    assert [r["seed"] for r in judge.requests] == [5, 6, 7]


def test_extra_body_reaches_the_server(fake_judge, helpers):
    url, judge = fake_judge
    backend = make_backend(
        "openai", "m", base_url=url, api_key="k", extra_body={"top_k": -1, "repetition_penalty": 1.0}
    )
    backend.generate([Image.new("RGB", (20, 20), (100, 0, 0))], SCORING_PROMPT, SamplingSettings(), [0])
    assert (judge.requests[0]["top_k"], judge.requests[0]["repetition_penalty"]) == (-1, 1.0)


def test_refused_request_is_recorded_not_fatal(fake_judge):
    url, judge = fake_judge
    images = [Image.new("RGB", (20, 20), (1, 0, 0)), Image.new("RGB", (20, 20), (100, 0, 0))]
    refused, fine = _backend(url).generate(images, SCORING_PROMPT, SamplingSettings(n=2), [0, 1])
    assert all("400" in s.error and "image refused by content filter" in s.error for s in refused)
    assert fine[0].error is None and "<answer>0.39</answer>" in fine[0].text
    assert len(judge.requests) == 2  # a 400 is not retried


def test_top_logprobs_give_top_k_entropy(fake_judge, helpers):
    url, _ = fake_judge
    image = Image.new("RGB", (20, 20), (100, 0, 0))
    (samples,) = _backend(url).generate([image], SCORING_PROMPT, SamplingSettings(top_logprobs=4), [0])
    # 3 tokens, each with 4 equally likely alternatives: entropy log 4 per token
    assert samples[0].entropy_kind == "top_k" and samples[0].n_tokens == 3
    assert samples[0].entropy_sum == pytest.approx(3 * math.log(4))


def test_evaluation_end_to_end_gives_exact_metrics(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    table = _make_tables(tmp_path, helpers)
    settings = EvaluationSettings(sampling=SamplingSettings(n=2, max_new_tokens=64), batch_size=3, n_resamples=50)
    summary = evaluate(_backend(url), "fake-judge", [str(table)], tmp_path / "run", settings)

    ava = summary["benchmarks"]["ava"]
    pred = np.array([p for _, _, p in BENCH["ava"][:5]])
    label = np.array([lab for _, lab, _ in BENCH["ava"][:5]])
    assert ava["values"]["plcc"] == pytest.approx(plcc(pred, label), abs=1e-12)
    assert ava["values"]["srcc"] == pytest.approx(srcc(pred, label), abs=1e-12)
    assert (ava["n_images"], ava["n_scored"], ava["failed_images"], ava["failed_samples"]) == (6, 5, 1, 2)
    assert ava["parse_reasons"] == {"ok": 10, "no_answer_tag": 2}

    para = summary["benchmarks"]["para"]
    assert para["unreadable_images"] == 1 and para["n_images"] == 6 and para["n_scored"] == 5
    pred = np.array([0.42, 0.18, 0.77, 0.73, 0.5])
    label = np.array([0.10, 0.30, 0.60, 0.80, 0.45])
    assert para["values"]["plcc"] == pytest.approx(plcc(pred, label), abs=1e-12)
    assert summary["average"]["plcc"] == pytest.approx((ava["values"]["plcc"] + para["values"]["plcc"]) / 2)
    assert len(judge.requests) == 6 + 5  # the corrupt image and the train row are never sent

    out = tmp_path / "run"
    table_md = (out / "table.md").read_text()
    assert "| fake-judge | " in table_md and f"{ava['values']['plcc']:.4f}" in table_md
    assert "2/12 (1 without output) |" in table_md  # failed images / images; the unreadable one had no output
    assert "Aes-R1 (paper)" in table_md
    assert "Average token entropy: nan nats token-mean" in table_md  # no logprobs requested
    assert "(T=0.6, test images, not available" in table_md
    # the fake judge praises every image: its 6 samples scored below 0.4 (of 22) contradict the praise,
    # and its 2 unparseable answers have no critique
    assert "27.3% tone/score inconsistent, 9.1% without a critique" in table_md
    assert json.loads((out / "metrics.json").read_text())["run"]["sampling"]["n"] == 2
    for plot in ("distribution.png", "scatter.png"):
        assert Image.open(out / plot).size[0] > 100
    csv_text = (out / "table.csv").read_text().splitlines()
    assert csv_text[0].startswith("model,benchmark,n_images") and len(csv_text) == 3


def test_interrupted_evaluation_resumes_without_rescoring(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    table = _make_tables(tmp_path, helpers)
    settings = EvaluationSettings(sampling=SamplingSettings(max_new_tokens=64), batch_size=2, n_resamples=20)
    with pytest.raises(KeyboardInterrupt):
        predict(helpers.DiesAfter(_backend(url), calls=2), "fake-judge", [str(table)], tmp_path / "run", settings)
    done = len(judge.requests)
    assert done == 4
    # a kill during a write leaves a partial line: it must be dropped, and that image scored again
    with (tmp_path / "run" / "predictions" / "ava.jsonl").open("a") as handle:
        handle.write('{"id": "a5", "datas')
    predict(_backend(url), "fake-judge", [str(table)], tmp_path / "run", settings)
    sent = [r["messages"][0]["content"] for r in judge.requests[done:]]
    assert len(sent) == 11 - done  # every image once over both runs
    summary = summarize_run(tmp_path / "run", settings)
    assert summary["benchmarks"]["ava"]["n_images"] == 6 and summary["benchmarks"]["para"]["n_images"] == 6


def test_resume_with_other_sampling_settings_is_refused(fake_judge, tmp_path, helpers):
    url, _ = fake_judge
    table = _make_tables(tmp_path, helpers)
    predict(_backend(url), "fake-judge", [str(table)], tmp_path / "run", EvaluationSettings(limit=1))
    with pytest.raises(ValueError, match="sampling"):
        predict(
            _backend(url),
            "fake-judge",
            [str(table)],
            tmp_path / "run",
            EvaluationSettings(sampling=SamplingSettings(n=4), limit=1),
        )


def test_fill_policy_changes_only_the_metric(fake_judge, tmp_path, helpers):
    url, _ = fake_judge
    table = _make_tables(tmp_path, helpers)
    settings = EvaluationSettings(n_resamples=20)
    predict(_backend(url), "fake-judge", [str(table)], tmp_path / "run", settings)
    filled = summarize_run(tmp_path / "run", EvaluationSettings(policy=ParseFailurePolicy("fill", 0.5), n_resamples=20))
    ava = filled["benchmarks"]["ava"]
    pred = np.array([p if p is not None else 0.5 for _, _, p in BENCH["ava"]])
    label = np.array([lab for _, lab, _ in BENCH["ava"]])
    assert ava["n_scored"] == 6 and ava["failed_images"] == 1
    assert ava["values"]["plcc"] == pytest.approx(plcc(pred, label), abs=1e-12)
    assert "0.5" in filled["policy"]  # the policy is written into the report


def test_image_pass_reads_only_files_with_unscored_rows(fake_judge, tmp_path, helpers, monkeypatch):
    import recipe.aesr1.evaluation.runner as runner

    url, _ = fake_judge
    data = tmp_path / "ava" / "table"
    data.mkdir(parents=True)
    image = helpers.png_bytes(helpers.red_for(0.5))
    helpers.write_table(data / "test-0.parquet", [{"id": "t", "dataset": "ava", "score": 0.4, "image_bytes": image}])
    train = [{"id": f"r{i}", "dataset": "ava", "split": "train", "score": 0.4, "image_bytes": image} for i in range(3)]
    helpers.write_table(data / "train-0.parquet", train)
    read_with_images = []
    original = runner.iter_rows

    def spy(files, split="test", with_images=False, batch_size=64):
        if with_images:
            read_with_images.extend(p.name for p in files)
        return original(files, split, with_images, batch_size)

    monkeypatch.setattr(runner, "iter_rows", spy)
    predict(_backend(url), "fake-judge", [str(tmp_path)], tmp_path / "run", EvaluationSettings())
    assert read_with_images == ["test-0.parquet"]
    predict(_backend(url), "fake-judge", [str(tmp_path)], tmp_path / "run", EvaluationSettings())
    assert read_with_images == ["test-0.parquet"]  # nothing left to score: no image pass at all
