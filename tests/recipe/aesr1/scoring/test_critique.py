"""Critique checks: length, dimensions, tone/score consistency."""

import pytest

from recipe.aesr1.scoring.critique import (
    check_critique,
    critique_text,
    summarize_critiques,
)


@pytest.mark.parametrize(
    "response,score,inconsistent",
    [
        (
            "<think>Stunning light, harmonious colors, beautiful mood.</think><answer>0.2</answer>",
            0.2,
            True,
        ),  # praise, bad score
        (
            "<think>Stunning light, harmonious colors, beautiful mood.</think><answer>0.8</answer>",
            0.8,
            False,
        ),  # praise, good score
        ("<think>Dull, cluttered and blurry.</think><answer>0.9</answer>", 0.9, True),  # criticism, good score
        ("<think>Dull, cluttered and blurry.</think><answer>0.55</answer>", 0.55, False),  # fair scores never flag
        ("<think>A photo of a dog.</think><answer>0.1</answer>", 0.1, False),  # no opinion words
        ("<answer>0.1</answer>", 0.1, False),  # no critique at all
    ],
)
def test_consistency_flags(response, score, inconsistent):
    assert check_critique(response, score).inconsistent is inconsistent


def test_dimensions_and_length():
    check = check_critique(
        "<think>The lighting is soft; the composition follows thirds; exposure is even.</think>", 0.6
    )
    assert check.dimensions == ("light_and_shadow", "composition", "exposure")
    assert check.n_words == 11


def test_summary_rates():
    summary = summarize_critiques([("<think>Beautiful color.</think>", 0.1), ("<answer>1</answer>", 1.0)])
    assert summary["n_samples"] == 2 and summary["empty_critique_rate"] == 0.5
    assert summary["inconsistent_rate"] == 0.5 and summary["dimension_rate"]["color"] == 0.5
    assert summarize_critiques([]) == {"n_samples": 0}


def test_last_think_block_is_used():
    assert critique_text("<think>a</think> <think>b</think>") == "b"


def test_a_critique_split_by_dimension_keeps_every_clause_once():
    from recipe.aesr1.scoring.critique import DIMENSION_KEYWORDS, critique_by_dimension

    text = "Soft light, a calm mood, subject on the left third; muted teal. Shot at f/2.8, 1.5 stops under exposure: a fair picture."
    parts = critique_by_dimension(text)
    assert list(parts) == [*DIMENSION_KEYWORDS, "overall"]
    assert parts["light_and_shadow"] == ["Soft light"] and parts["mood_and_narrative"] == ["a calm mood"]
    assert parts["composition"] == ["subject on the left third"] and parts["color"] == ["muted teal"]
    assert parts["exposure"] == ["1.5 stops under exposure"] and parts["overall"] == ["Shot at f/2.8", "a fair picture"]
    assert sum(len(v) for v in critique_by_dimension("").values()) == 0
