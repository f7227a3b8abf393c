"""The reward callable against a real HTTP judge (fake answers) and the tiny model: scores, info, failures."""

import asyncio
import time

import numpy as np
import pytest

from recipe.aesr1.scoring import AestheticReward, RewardSettings
from recipe.aesr1.scoring.backends import make_backend
from recipe.aesr1.scoring.modes import SCORE_ONLY_PROMPT


def _reward(url, **settings):
    options = {"base_url": url, "api_key": "k", "image_format": "png"}  # png: the red level survives
    return AestheticReward.from_backend("openai", "judge", RewardSettings(**settings), **options)


def test_scores_info_and_defined_failures(fake_judge, draw):
    url, judge = fake_judge
    images = [draw(232), draw(51), draw(0), draw(1)]  # 0.91, 0.2, unparseable, refused (HTTP 400)
    scores, info = _reward(url, batch_size=2, failure_score=0.0)(images, ["a cat"] * 4, [{}] * 4)
    assert scores.dtype == np.float32 and scores.tolist() == pytest.approx([0.91, 0.2, 0.0, 0.0])
    assert info["status"] == ["ok", "ok", "no_score", "backend_error"]
    assert info["counts"] == {"ok": 2, "no_score": 1, "backend_error": 1, "timeout": 0}
    assert info["failed"] == [False, False, True, True] and info["n_failed"] == 2
    assert info["reasoning"][0] == "Pleasing light, balanced lines."
    assert info["parse_status"] == [["ok"], ["ok"], ["no_answer_tag"], ["backend_error"]]
    assert "content filter" in info["error"][3]
    assert info["settings"]["temperature"] == 0.0 and info["settings"]["n"] == 1
    # the caption is not shown to the judge, and greedy decoding is asked for explicitly
    assert all("a cat" not in prompt and sampling.temperature == 0.0 for prompt, sampling in judge.calls)


def test_n_samples_give_mean_and_spread_and_seeds_follow_the_content(fake_judge, draw):
    url, judge = fake_judge
    reward = _reward(url, n=3, temperature=0.6, seed=7)
    _, first = reward([draw(100), draw(200)])
    _, swapped = reward([draw(200), draw(100)])
    assert first["scores"][0] == [0.39] * 3 and first["spread"][0] == pytest.approx(0.0, abs=1e-12)
    assert first["mean"][0] == pytest.approx(0.39)
    assert first["seeds"] == swapped["seeds"][::-1]  # a picture's seed is its own, wherever it sits
    assert {(sampling.n, sampling.temperature) for _, sampling in judge.calls} == {(3, 0.6)}


def test_score_only_mode_asks_for_the_number_with_a_small_budget(fake_judge, draw):
    url, judge = fake_judge
    scores, info = _reward(url, mode="score_only")([draw(128)])
    prompt, sampling = judge.calls[-1]
    assert sampling.max_new_tokens == 16 and prompt == SCORE_ONLY_PROMPT  # as sent over the API
    assert scores.tolist() == pytest.approx([0.5]) and info["status"] == ["ok"]
    assert info["parse_status"] == [["bad_format"]]  # a score, read, without the <think> of Appendix B


def test_transient_server_errors_are_retried(fake_judge, draw):
    url, judge = fake_judge
    judge.fail_next = 2  # two HTTP 500s, then answers
    scores, info = _reward(url, retries=2, retry_backoff_s=0.01)([draw(232)])
    assert scores.tolist() == pytest.approx([0.91]) and info["counts"]["ok"] == 1 and len(judge.calls) == 3


def test_a_dead_server_gives_failure_scores_and_counts_not_an_exception(draw):
    reward = _reward("http://127.0.0.1:9/v1", retries=1, retry_backoff_s=0.01, failure_score=0.25)
    scores, info = reward([draw(10), draw(20)])
    assert scores.tolist() == [0.25, 0.25] and info["counts"]["backend_error"] == 2
    assert "Connection" in info["error"][0]


def test_a_hanging_server_times_out_within_the_deadline(fake_judge, draw):
    url, judge = fake_judge
    judge.delay_s = 3.0
    start = time.perf_counter()
    scores, info = _reward(url, timeout_s=0.3, retries=1, retry_backoff_s=0.01)([draw(50)])
    assert time.perf_counter() - start < 2.0  # the caller does not wait for the hung request
    assert info["status"] == ["timeout"] and scores.tolist() == [0.0]


def test_concurrency_is_bounded(fake_judge, draw):
    url, judge = fake_judge
    judge.delay_s = 0.05
    reward = _reward(url, batch_size=2, concurrency=3)
    scores, _ = reward([draw(10 + i) for i in range(16)])
    assert len(scores) == 16 and 2 <= judge.max_in_flight <= 3 * 2


def test_async_variant_inside_an_event_loop(fake_judge, draw):
    url, _ = fake_judge
    reward = _reward(url)

    async def step():
        async_scores, _ = await reward.acall([draw(232)])
        sync_scores, _ = reward([draw(232)])  # the sync call also works from inside a running loop
        return async_scores, sync_scores

    async_scores, sync_scores = asyncio.run(step())
    assert async_scores.tolist() == sync_scores.tolist() == pytest.approx([0.91])


def test_tiny_model_is_deterministic_per_picture_even_when_sampling(tiny_model, draw):
    """Temperature 1 and n = 2 on the hf backend: the same picture gets the same samples anywhere."""
    reward = AestheticReward(
        make_backend("hf", tiny_model, device="cpu"),
        RewardSettings(temperature=1.0, n=2, max_new_tokens=6, batch_size=2),
    )
    a, b, c = draw(30, (56, 56)), draw(140, (56, 56)), draw(250, (56, 28))
    first = reward.score([a, b, c])
    again = reward.score([c, a, b])
    assert [s["text"] for s in first[0].samples] == [s["text"] for s in again[1].samples]
    assert [s["text"] for s in first[2].samples] == [s["text"] for s in again[0].samples]
    assert all(len(r.samples) == 2 for r in first) and {r.status for r in first} <= {"ok", "no_score"}


def test_settings_are_validated():
    with pytest.raises(ValueError, match="unknown scoring mode"):
        RewardSettings(mode="fast")
    with pytest.raises(ValueError, match="failure_score"):
        RewardSettings(failure_score=-1.0)
    with pytest.raises(ValueError, match="invalid sampling"):
        RewardSettings(n=0)
