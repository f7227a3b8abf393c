"""The answer-parsing contract of reward_fns.parsing, case by case."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reward_fns import parse_answer

CASES = [
    # (text, score, format_ok, reason)
    ("<think>Warm light, clean lines.</think><answer>0.73</answer>", 0.73, True, "ok"),  # the paper's format
    ("<think>a</think>\n<answer> 0.73 </answer>\n", 0.73, True, "ok"),  # whitespace around and inside tags
    ("<THINK>a</THINK><ANSWER>0.5</ANSWER>", 0.5, True, "ok"),  # tags are case-insensitive
    ("<think>a</think><answer>.7</answer>", 0.7, True, "ok"),  # no leading zero
    ("<think>a</think><answer>7e-1</answer>", 0.7, True, "ok"),  # exponent notation is a bare number
    ("<think>a</think><answer>1</answer>", 1.0, True, "ok"),  # the bounds are included
    ("<think>a</think><answer>0</answer>", 0.0, True, "ok"),
    ("<think>a</think><answer>0.733</answer>", 0.733, True, "ok"),  # more than two decimals is still a score
    ("<think>a</think><answer>73%</answer>", 0.73, False, "bad_format"),  # percent is rescaled, not the asked format
    ("<think>a</think><answer>Rating: 0.73.</answer>", 0.73, False, "bad_format"),  # words around one number
    ("<think></think><answer>0.5</answer>", 0.5, False, "bad_format"),  # empty reasoning
    ("<think>  \n </think><answer>0.5</answer>", 0.5, False, "bad_format"),  # blank reasoning
    ("<answer>0.5</answer>", 0.5, False, "bad_format"),  # no reasoning block at all
    ("Sure! <think>a</think><answer>0.5</answer>", 0.5, False, "bad_format"),  # text outside the tags
    ("<think>a</think><answer>0.2</answer><answer>0.9</answer>", 0.9, False, "bad_format"),  # two answers: the last
    ("<think>it is a 0.9</think><answer>0.4</answer>", 0.4, True, "ok"),  # numbers in the reasoning are ignored
    ("<think>I'd say 0.8</think>", None, False, "no_answer_tag"),  # no answer block: no score from the reasoning
    ("<think>a</think><answer>0.8", None, False, "no_answer_tag"),  # truncated, unclosed answer
    ("<think>a</think><answer>excellent</answer>", None, False, "no_number"),
    ("<think>a</think><answer></answer>", None, False, "no_number"),
    ("<think>a</think><answer>7/10</answer>", None, False, "ambiguous_number"),  # two numbers
    ("<think>a</think><answer>0.7 or 0.8</answer>", None, False, "ambiguous_number"),
    ("<think>a</think><answer>7</answer>", None, False, "out_of_range"),  # the 1-10 scale is never clipped
    ("<think>a</think><answer>1.2</answer>", None, False, "out_of_range"),
    ("<think>a</think><answer>-0.1</answer>", None, False, "out_of_range"),
    ("<think>a</think><answer>120%</answer>", None, False, "out_of_range"),
    ("<think>a</think><answer>nan</answer>", None, False, "non_finite"),
    ("<think>a</think><answer>inf</answer>", None, False, "non_finite"),
    ("<think>a</think><answer>1e999</answer>", None, False, "non_finite"),  # overflows to inf
    ("<think>a</think><answer>Qwen2.5 rates 0.6</answer>", 0.6, False, "bad_format"),  # digits inside a word are not numbers
    ("", None, False, "no_answer_tag"),
    (None, None, False, "not_text"),
    (b"<answer>0.5</answer>", None, False, "not_text"),  # bytes are not decoded for the caller
]


@pytest.mark.parametrize("text, score, format_ok, reason", CASES)
def test_contract(text, score, format_ok, reason):
    parsed = parse_answer(text)
    assert parsed.reason == reason
    assert parsed.format_ok is format_ok
    if score is None:
        assert parsed.score is None and not parsed.valid
    else:
        assert parsed.score == pytest.approx(score)


@given(st.text())
def test_never_raises_and_score_is_in_unit_interval(text):
    parsed = parse_answer(text)
    assert parsed.score is None or (math.isfinite(parsed.score) and 0.0 <= parsed.score <= 1.0)
    assert parsed.format_ok is False or parsed.score is not None


@given(st.floats(0.0, 1.0), st.text(alphabet="abc ,.\n", min_size=1).filter(str.strip))
def test_well_formed_output_round_trips(value, reasoning):
    parsed = parse_answer(f"<think>{reasoning}</think><answer>{value:.2f}</answer>")
    assert parsed.format_ok and parsed.reason == "ok"
    assert parsed.score == pytest.approx(round(value, 2))
