"""Each framework adapter called the way its framework calls it: signature, dtypes, a batch of 64."""

import asyncio

import numpy as np
import pytest
import torch

from recipe.aesr1.reward_model.adapters import (
    MMGRPOScorer,
    RemoteJudge,
    check_health,
    flow_grpo_reward,
)
from recipe.aesr1.reward_model.local_server import JudgeServer
from recipe.aesr1.scoring import AestheticReward, RewardSettings
from recipe.aesr1.scoring.backends import make_backend

BATCH = 64


def _reward(url, **settings):
    return AestheticReward.from_backend(
        "openai", "judge", RewardSettings(batch_size=16, **settings), base_url=url, api_key="k", image_format="png"
    )


def _reds():
    return np.arange(BATCH) * 3 + 40  # red levels 40..229: distinct, parseable scores


def test_flow_grpo_float_nchw_tensor_and_uint8_nhwc_array(fake_judge):
    url, _ = fake_judge
    fn = flow_grpo_reward(_reward(url))
    reds = _reds()
    nhwc = np.zeros((BATCH, 32, 32, 3), np.uint8)
    nhwc[..., 0] = reds[:, None, None]
    nchw = torch.from_numpy(nhwc).permute(0, 3, 1, 2).float() / 255.0  # what the SD3 pipeline decodes to
    prompts, metadata = [f"prompt {i}" for i in range(BATCH)], [{}] * BATCH
    tensor_scores, info = fn(nchw, prompts, metadata, only_strict=True)
    array_scores, _ = fn(nhwc, prompts, metadata)
    expected = np.round(reds / 255, 2)
    assert tensor_scores.shape == (BATCH,) and tensor_scores == pytest.approx(expected)
    assert array_scores.tolist() == tensor_scores.tolist() and info["counts"]["ok"] == BATCH
    total = 0.5 * np.array(tensor_scores)  # multi_score's weighted sum works on the returned array
    assert total.shape == (BATCH,)


def test_mm_grpo_scorer_sync_and_async(fake_judge):
    url, _ = fake_judge
    scorer = MMGRPOScorer(_reward(url))
    images = torch.zeros(BATCH, 3, 16, 16)
    images[:, 0] = torch.tensor(_reds() / 255.0, dtype=torch.float32)[:, None, None]
    scores = scorer(images, [""] * BATCH)
    assert isinstance(scores, list) and len(scores) == BATCH and all(isinstance(s, float) for s in scores)
    assert asyncio.run(scorer.acall(images)) == scores and len(scorer.last_info["reasoning"]) == BATCH


def test_remote_judge_checks_health_and_fills_a_rewards_tensor(fake_judge, tmp_path, draw):
    url, _ = fake_judge
    paths = []
    for i, red in enumerate(_reds()):
        paths.append(tmp_path / f"{i}.png")
        draw(int(red), (24, 24)).save(paths[-1])
    paths[5] = tmp_path / "missing.png"  # a rollout that wrote no file
    judge = RemoteJudge(url, "judge", RewardSettings(batch_size=16), image_format="png")
    rewards = judge.reward(paths, ["a prompt"] * BATCH)
    assert rewards.dtype == torch.float32 and rewards.shape == (BATCH,)
    assert rewards[5].item() == 0.0 and judge.last_info["status"][5] == "missing"
    assert rewards[0].item() == pytest.approx(round(40 / 255, 2))
    assert judge.last_info["counts"]["ok"] == BATCH - 1


def test_remote_judge_refuses_to_start_against_a_dead_server():
    with pytest.raises(ConnectionError, match="not healthy at http://127.0.0.1:9/health"):
        RemoteJudge("http://127.0.0.1:9/v1", "judge", health_timeout_s=1.0)


def test_local_server_over_the_tiny_model_matches_the_in_process_backend(tiny_model, draw):
    """The same greedy critique whether the tiny model runs in-process or behind the OpenAI API."""
    server = JudgeServer(lambda: make_backend("hf", tiny_model, device="cpu"), "tiny", replicas=1).start()
    try:
        check_health(server.base_url)
        settings = RewardSettings(max_new_tokens=8, batch_size=2)
        remote = AestheticReward.from_backend("openai", "tiny", settings, base_url=server.base_url,
                                              api_key="k", image_format="png")
        local = AestheticReward(make_backend("hf", tiny_model, device="cpu"), settings)
        images = [draw(r, (56, 56)) for r in (20, 120, 220)]
        over_http = [s["text"] for r in remote.score(images) for s in r.samples]
        in_process = [s["text"] for r in local.score(images) for s in r.samples]
        assert over_http == in_process and len(over_http) == 3
    finally:
        server.stop()
