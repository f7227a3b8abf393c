"""The reward service: Flow-GRPO's pickle route, its JSON twin, /health, limits, token, groups, hostile inputs.

Most tests run the real service (uvicorn on a free loopback port) over the fake judge of ``conftest.py``
(score = red / 255); the last ones over the main job's trained SFT judge, against ``aesr1-eval``.
"""

import base64
import io
import json
import pickle
import struct
import zlib

import numpy as np
import pytest
import requests
from PIL import Image

from recipe.aesr1.reward_model.service import RewardService, ServiceSettings
from recipe.aesr1.reward_model.service_cli import (
    BackgroundServer,
    build_parser,
    service_settings_from_args,
)
from recipe.aesr1.scoring import AestheticReward, RewardSettings


def encode(image, fmt="JPEG"):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def png_of(red):
    return encode(Image.new("RGB", (40, 30), (red, 90, 160)), "PNG")  # lossless: the fake judge reads red back


def bomb_png(width=60_000, height=60_000):
    """A 1x1 PNG whose header declares ``width`` x ``height`` (3.6 gigapixels by default): a decompression bomb."""
    data = bytearray(png_of(100))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def truncated_jpeg():
    return encode(Image.effect_noise((64, 64), 50).convert("RGB"))[:300]


def post_pickle(url, payload, **kwargs):
    response = requests.post(url, data=payload if isinstance(payload, bytes) else pickle.dumps(payload), timeout=60, **kwargs)
    return response.status_code, pickle.loads(response.content)


@pytest.fixture
def served(fake_backend):
    """(url, judge) of the service over the fake judge, batches of 4, failure value 0.25, small limits."""
    judge = fake_backend
    reward = AestheticReward(judge, RewardSettings(batch_size=4, concurrency=2, failure_score=0.25, retries=0, timeout_s=1))
    service = RewardService(reward, ServiceSettings(max_body_bytes=2**20, max_images=20, max_image_pixels=10_000_000))
    with BackgroundServer(service) as url:
        yield url, judge


def test_flow_grpo_pickle_round_trip_gives_scores_outputs_and_status(served):
    url, judge = served
    code, reply = post_pickle(url, {"images": [png_of(100), png_of(200)], "prompts": ["a", "b"], "metadata": {}})
    assert code == 200 and "error" not in reply  # verl-omni's client fails a call on any "error" key
    assert reply["scores"] == reply["outputs"] == pytest.approx([0.39, 0.78])
    assert reply["status"] == ["ok", "ok"] and reply["counts"]["ok"] == 2
    assert all("<image>" in prompt for prompt, _ in judge.calls)  # the judge's prompt, never the caller's


def test_each_hostile_image_is_bad_image_and_the_rest_is_scored(served):
    url, _ = served
    images = [png_of(100), bomb_png(), truncated_jpeg(), b"GIF89a but not really", "a str, not bytes", png_of(0), png_of(200)]
    code, reply = post_pickle(url, {"images": images})
    assert code == 200
    assert reply["status"] == ["ok", "bad_image", "bad_image", "bad_image", "bad_image", "no_score", "ok"]
    assert reply["detail"][1].startswith("too_large") and reply["detail"][2].startswith("unreadable")
    # failure_value where there is no score; "raw" tells a real score from the fill
    assert reply["scores"] == pytest.approx([0.39, 0.25, 0.25, 0.25, 0.25, 0.25, 0.78])
    assert reply["raw"][1:6] == [None] * 5


def test_backend_errors_and_timeouts_are_statuses_not_http_errors(served):
    url, judge = served
    judge.fail_next = 1
    code, reply = post_pickle(url, {"images": [png_of(10)]})
    assert code == 200 and reply["status"] == ["backend_error"] and "overloaded" in reply["detail"][0]
    judge.delay_s = 1.5  # above the judge's timeout_s of 1
    code, reply = post_pickle(url, {"images": [png_of(10)]})
    assert code == 200 and reply["status"] == ["timeout"] and reply["scores"] == [0.25]


def test_a_crafted_pickle_gets_400_runs_nothing_and_the_service_stays_healthy(served, tmp_path):
    url, judge = served
    target = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(target), "w"))

    code, reply = post_pickle(url, pickle.dumps({"images": [Exploit()]}))
    assert code == 400 and "global io.open" in reply["error"]
    assert not target.exists() and judge.calls == []
    for garbage in (b"", b"\x00" * 1000, b"\x80\x04not a pickle", pickle.dumps([1, 2]), pickle.dumps({"images": []})):
        code, reply = post_pickle(url, garbage)
        assert 400 <= code < 500 and reply["error"]
    assert requests.get(url + "/health", timeout=10).json()["status"] == "ok"
    assert post_pickle(url, {"images": [png_of(100)]})[1]["scores"] == pytest.approx([0.39])


def test_request_limits_answer_413_and_400(served):
    url, _ = served
    code, reply = post_pickle(url, {"images": [b"x" * (2**20 + 10)]})
    assert code == 413 and "at most" in reply["error"]

    def chunks():  # no Content-Length: the limit applies while reading
        for _ in range(40):
            yield b"y" * 2**15

    assert requests.post(url, data=chunks(), timeout=30).status_code == 413
    code, reply = post_pickle(url, {"images": [png_of(1)] * 21})
    assert code == 400 and "at most 20" in reply["error"]
    code, reply = post_pickle(url, {"images": [png_of(1)], "prompts": ["a", "b"]})
    assert code == 400 and "prompts" in reply["error"]


def test_json_twin_with_groups_seeds_and_reasoning(served):
    url, judge = served
    images = [base64.b64encode(png_of(r)).decode() for r in (100, 200, 150, 50)] + ["%%%"]
    body = {"images": images, "group_ids": ["p1", "p1", "p2", "p2", "p2"], "seeds": [1, 2, 3, 4, 5], "return_reasoning": True}
    reply = requests.post(url + "/score", json=body, timeout=30).json()
    assert reply["status"] == ["ok", "ok", "ok", "ok", "bad_image"]
    assert reply["ranks"] == [2, 1, 1, 2, None]
    first, second = reply["groups"]
    assert (first["key"], first["ranks"], first["best"], first["spreads"]) == ("p1", [2, 1], 1, [0.0, 0.0])
    assert second["indices"] == [2, 3, 4] and second["status"][-1] == "bad_image"
    assert reply["reasoning"][0] == "Pleasing light, balanced lines."
    bad = requests.post(url + "/score", data=b"{not json", timeout=10)
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    nested = requests.post(url + "/score", data=b"[" * 100_000, timeout=10)
    assert nested.status_code == 400


def test_concurrent_single_image_callers_share_backend_batches(served):
    from concurrent.futures import ThreadPoolExecutor

    url, judge = served
    judge.delay_s = 0.2  # while one batch runs, the others queue up and leave full
    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(lambda r: post_pickle(url, {"images": [png_of(r)]})[1], range(20, 32)))
    assert [reply["scores"][0] for reply in replies] == pytest.approx([round(r / 255, 2) for r in range(20, 32)])
    health = requests.get(url + "/health", timeout=10).json()
    assert health["batched_images"] == 12 and health["batches"] < 12
    assert judge.max_in_flight <= 2 * 4  # concurrency 2 batches of at most 4 images


def test_bearer_token_is_required_and_never_echoed(fake_backend):
    secret = "s3cret-token-value"
    service = RewardService(AestheticReward(fake_backend), ServiceSettings(token=secret))
    assert secret not in repr(service.settings)
    with BackgroundServer(service) as url:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": secret}):
            response = requests.post(url, data=pickle.dumps({"images": [png_of(100)]}), headers=headers, timeout=10)
            assert response.status_code == 401 and secret.encode() not in response.content
        ok = requests.post(url, data=pickle.dumps({"images": [png_of(100)]}), headers={"Authorization": f"Bearer {secret}"}, timeout=10)
        assert ok.status_code == 200 and pickle.loads(ok.content)["scores"] == pytest.approx([0.39])
        assert requests.get(url + "/health", timeout=10).status_code == 200


def test_cli_binds_loopback_by_default_and_reads_the_token_from_the_environment(monkeypatch):
    args = build_parser().parse_args(["--model", "m", "--backend", "hf"])
    assert (args.host, args.temperature, args.max_new_tokens, args.timeout) == ("127.0.0.1", 0.0, None, 50.0)
    assert service_settings_from_args(args).token is None
    args = build_parser().parse_args(["--model", "m", "--token-env", "JUDGE_TOKEN"])
    monkeypatch.delenv("JUDGE_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="JUDGE_TOKEN"):
        service_settings_from_args(args)
    monkeypatch.setenv("JUDGE_TOKEN", "abc")
    assert service_settings_from_args(args).token == "abc"


# --- the main job's trained judge -------------------------------------------------------------

N_IMAGES = 16
# Sampling, as aesr1-eval is run below: the toy judge answers 0.72 for every held-out image under greedy
# decoding (PLCC undefined), while 4 draws at temperature 1 give per-image means that differ.
PROTOCOL = {"temperature": 1.0, "n": 4, "max_new_tokens": 96}


@pytest.fixture(scope="module")
def trained(main_job, tmp_path_factory):
    """(url, rows, eval_run) over the SFT judge; ``eval_run`` is ``aesr1-eval run`` on the same 16 images."""
    from data_prep.tables import find_parquet_files, iter_rows
    from recipe.aesr1.evaluation.eval_cli import main as aesr1_eval

    model, table = main_job / "models" / "sft", main_job / "data" / "ava" / "table"
    rows = list(iter_rows(find_parquet_files([str(table)]), "test", with_images=True))[:N_IMAGES]
    assert len(rows) == N_IMAGES
    eval_run = tmp_path_factory.mktemp("eval_sft")
    assert aesr1_eval([
        "run", "--backend", "hf", "--device", "cpu", "--dtype", "float32", "--model", str(model), "--data", str(table),
        "--limit", str(N_IMAGES), "--temperature", str(PROTOCOL["temperature"]), "--n", str(PROTOCOL["n"]),
        "--max-new-tokens", str(PROTOCOL["max_new_tokens"]), "--n-resamples", "100", "--out", str(eval_run),
    ]) == 0  # fmt: skip
    reward = AestheticReward.from_backend("hf", str(model), RewardSettings(**PROTOCOL, batch_size=8), device="cpu", dtype="float32")
    with BackgroundServer(RewardService(reward)) as url:
        yield url, rows, eval_run


def _flow_grpo_post(url, rows, images=None):
    """As Flow-GRPO's deqa_score_remote: pickled JPEG bytes to the root URL, ``outputs`` read back.

    ``seeds`` (ours) gives each image aesr1-eval's seed for it, so the sampled answers are the same draws.
    """
    from recipe.aesr1.scoring.backends import image_seed

    images = images or [open(row.image["path"], "rb").read() if not row.image["bytes"] else row.image["bytes"] for row in rows]
    payload = {"images": images, "prompts": [""] * len(rows), "metadata": {},
               "seeds": [image_seed(0, f"ava/{row.id}") for row in rows]}
    code, reply = post_pickle(url, payload)
    assert code == 200
    return reply


def test_trained_judge_scores_16_held_out_images_as_aesr1_eval_does(trained):
    from recipe.aesr1.evaluation.metrics import plcc

    url, rows, eval_run = trained
    reply = _flow_grpo_post(url, rows)
    assert len(reply["outputs"]) == N_IMAGES and reply["status"] == ["ok"] * N_IMAGES
    records = {json.loads(line)["id"]: json.loads(line) for line in (eval_run / "predictions" / "ava.jsonl").read_text().splitlines()}
    expected = [np.mean([s["score"] for s in records[row.id]["samples"] if s["score"] is not None]) for row in rows]
    assert reply["outputs"] == pytest.approx(expected, abs=1e-9)  # image by image, the same answers
    labels = np.array([row.label for row in rows])
    reported = json.loads((eval_run / "metrics.json").read_text())["benchmarks"]["ava"]["values"]["plcc"]
    assert reported is not None and plcc(np.array(reply["outputs"]), labels) == pytest.approx(reported, abs=1e-9)
    assert _flow_grpo_post(url, rows)["outputs"] == reply["outputs"]  # the same request twice, the same scores


def test_trained_judge_one_non_image_among_16_is_bad_image_and_15_are_scored(trained, tmp_path):
    url, rows, _ = trained
    images = [open(row.image["path"], "rb").read() if not row.image["bytes"] else row.image["bytes"] for row in rows]
    whole = _flow_grpo_post(url, rows, images)
    images[5] = b"<html>502 Bad Gateway</html>"
    reply = _flow_grpo_post(url, rows, images)
    assert reply["status"] == ["ok"] * 5 + ["bad_image"] + ["ok"] * 10
    assert reply["outputs"][:5] + reply["outputs"][6:] == whole["outputs"][:5] + whole["outputs"][6:]
    target = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (open, (str(target), "w"))

    assert post_pickle(url, pickle.dumps({"images": [Exploit()]}))[0] == 400 and not target.exists()
    assert post_pickle(url, b"\x89PNG garbage")[0] == 400
    assert requests.get(url + "/health", timeout=10).json()["status"] == "ok"
