"""Group scoring: ranks within each group, the best image, one pass through the scorer."""

import pytest

from recipe.aesr1.scoring import AestheticReward, RewardSettings
from recipe.aesr1.scoring.groups import (
    group_results,
    rank_within_group,
    ranks_within_groups,
    score_groups,
)
from recipe.aesr1.scoring.scorer import ImageScore


def _slow_ranks(scores):
    """Reference: 1 + the number of scored images strictly better."""
    return [None if s is None else 1 + sum(o is not None and o > s for o in scores) for s in scores]


def test_ranks_are_competition_ranks_and_skip_missing_scores():
    assert rank_within_group([0.4, 0.9, None, 0.4]) == [2, 1, None, 2]
    assert rank_within_group([None, None]) == [None, None]
    assert rank_within_group([]) == []


@pytest.mark.parametrize("seed", range(20))
def test_ranks_match_the_slow_reference(seed):
    import random

    rng = random.Random(seed)
    scores = [rng.choice([None, *(round(rng.random(), 1) for _ in range(3))]) for _ in range(rng.randint(1, 12))]
    assert rank_within_group(scores) == _slow_ranks(scores)


@pytest.mark.parametrize("seed", range(10))
def test_ranks_within_groups_match_ranking_each_group_alone(seed):
    import random

    rng = random.Random(seed)
    n = rng.randint(0, 12)
    scores = [rng.choice([None, 0.1, 0.5, 0.9, rng.random()]) for _ in range(n)]
    ids = [rng.choice(["a", "b", None, 3]) for _ in range(n)]
    expected = [None] * n
    for key in set(ids):
        members = [i for i in range(n) if ids[i] == key]
        for i, rank in zip(members, _slow_ranks([scores[i] for i in members])):
            expected[i] = rank
    assert ranks_within_groups(scores, ids) == expected
    with pytest.raises(ValueError, match="1 scores but 2 group ids"):
        ranks_within_groups([0.1], ["a", "b"])


def _verdict(score):
    return ImageScore(score, 0.0 if score is not None else None, "ok" if score is not None else "no_score", 0)


def test_groups_keep_input_order_and_pick_the_first_tied_best():
    results = [_verdict(s) for s in (0.3, 0.8, 0.8, None, 0.1)]
    a, b = group_results(results, ["a", "b", "b", "a", "a"])
    assert (a.key, a.indices, a.ranks, a.best) == ("a", [0, 3, 4], [1, None, 2], 0)
    assert (b.key, b.indices, b.ranks, b.best) == ("b", [1, 2], [1, 1], 0)
    assert group_results([_verdict(None)], ["x"])[0].best is None
    with pytest.raises(ValueError, match="2 verdicts but 1 group ids"):
        group_results(results[:2], ["a"])


def test_score_groups_ranks_a_burst_through_the_judge(fake_judge, draw):
    url, judge = fake_judge
    reward = AestheticReward.from_backend(
        "openai", "judge", RewardSettings(batch_size=8), base_url=url, api_key="k", image_format="png"
    )
    images = [draw(100), draw(200), draw(0), draw(150), draw(50)]  # 0.39, 0.78, unparseable, 0.59, 0.2
    first, second = score_groups(reward, images, ["burst1", "burst1", "burst1", "burst2", "burst2"])
    assert first.scores == pytest.approx([0.39, 0.78, None]) and first.ranks == [2, 1, None] and first.best == 1
    assert second.ranks == [1, 2] and second.to_json()["status"] == ["ok", "ok"]
    assert len(judge.calls) == 5  # every image once, one pass for all groups
    (whole,) = score_groups(reward, images[:2])
    assert whole.key == 0 and whole.ranks == [2, 1]
