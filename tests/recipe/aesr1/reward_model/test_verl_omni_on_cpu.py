"""verl-omni's scorer contract: ``compute_score_aesr1(data_source, solution_image, ground_truth, extra_info, **kwargs)``
on a uint8 (C, H, W) tensor returns ``{"score", "aesr1_raw", ...}``, through the service or an in-process judge."""

import asyncio

import pytest
import torch

from recipe.aesr1.reward_model.service import RewardService
from recipe.aesr1.reward_model.service_cli import BackgroundServer
from recipe.aesr1.reward_model.service_client import RewardServiceError
from recipe.aesr1.reward_model.verl_omni import (
    compute_score_aesr1,
    compute_score_aesr1_sync,
)
from recipe.aesr1.scoring import AestheticReward, RewardSettings


def chw(red: int) -> torch.Tensor:
    """What verl-omni hands a scorer: one generated image, uint8 (3, H, W)."""
    image = torch.empty(3, 24, 32, dtype=torch.uint8)
    image[0], image[1], image[2] = red, 90, 160
    return image


@pytest.fixture
def service_url(fake_backend):
    with BackgroundServer(RewardService(AestheticReward(fake_backend, RewardSettings(batch_size=8)))) as url:
        yield url


def test_async_scorer_through_the_service_returns_the_verl_omni_dict(service_url):
    result = asyncio.run(compute_score_aesr1("aesthetic", chw(100), "a red square", {}, server_url=service_url))
    assert result == {"score": pytest.approx(0.39), "aesr1_raw": pytest.approx(0.39), "aesr1_failed": 0.0}


def test_concurrent_calls_as_verl_omni_makes_them(service_url):
    async def batch():  # the reward loop gathers every sample of a batch at once
        return await asyncio.gather(*[compute_score_aesr1("x", chw(r), "", {}, server_url=service_url) for r in (50, 100, 0)])

    scores = [r["score"] for r in asyncio.run(batch())]
    assert scores == pytest.approx([0.2, 0.39, 0.0])
    assert asyncio.run(batch())[2]["aesr1_failed"] == 1.0  # red 0: the fake judge gives no score


def test_sync_scorer_and_failure_value(service_url):
    result = compute_score_aesr1_sync("x", chw(0), None, None, server_url=service_url, failure_value=0.5)
    assert result == {"score": 0.5, "aesr1_raw": 0.5, "aesr1_failed": 1.0}


def test_unreachable_service_raises_after_retries():
    with pytest.raises(RewardServiceError, match="no answer after 2 attempts"):
        compute_score_aesr1_sync("x", chw(10), "", {}, server_url="http://127.0.0.1:9", max_retries=1, retry_backoff=0.0)
    with pytest.raises(ValueError, match="exactly one of server_url"):
        compute_score_aesr1_sync("x", chw(10), "", {})


def test_in_process_trained_judge(main_job):
    kwargs = {"model": str(main_job / "models" / "sft"), "backend": "hf", "settings": {"max_new_tokens": 96},
              "backend_options": {"device": "cpu", "dtype": "float32"}}
    result = asyncio.run(compute_score_aesr1("aesthetic", chw(120), "a prompt", {}, **kwargs))
    assert set(result) == {"score", "aesr1_raw", "aesr1_failed"} and result["aesr1_failed"] == 0.0
    assert 0.0 <= result["score"] <= 1.0
    assert compute_score_aesr1_sync("aesthetic", chw(120), "a prompt", {}, **kwargs) == result  # greedy: deterministic
