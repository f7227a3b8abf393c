"""The bad / fair / good levels of Aes-R1 Appendix E.2, one function for every caller."""

from __future__ import annotations

import pytest

from data_prep.levels import score_level


@pytest.mark.parametrize(("score", "level"), [
    (0.0, "bad"), (0.399, "bad"), (0.4, "fair"), (0.699, "fair"), (0.7, "good"), (1.0, "good"),  # E.2 bin edges
    (None, ""),  # the judge gave no score: no level (aesr1-score rows, ImageScore.level)
])
def test_level_bins(score, level):
    assert score_level(score) == level


@pytest.mark.parametrize("score", [1.2, -0.01, float("nan")])  # every score of the project is normalised
def test_level_rejects_scores_outside_the_unit_interval(score):
    with pytest.raises(ValueError, match="must lie in"):
        score_level(score)
