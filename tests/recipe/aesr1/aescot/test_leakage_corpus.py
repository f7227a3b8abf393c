"""Precision and recall of the leakage filter on the hand-written corpus (``leakage_corpus.py``)."""

from __future__ import annotations

import pytest
from leakage_corpus import CLEAN, HELD_OUT_CLEAN, HELD_OUT_LEAKS, LEAKS

from recipe.aesr1.aescot.leakage import find_leakage


def _precision_recall(leaks, clean) -> tuple[float, float, list, list]:
    missed = [case for case in leaks if not find_leakage(case[0], case[1]).leaked]
    flagged = [case for case in clean if find_leakage(case[0], case[1]).leaked]
    caught = len(leaks) - len(missed)
    return caught / (caught + len(flagged)), caught / len(leaks), missed, flagged


def test_corpus_is_large_and_every_case_has_a_reason():
    cases = LEAKS + CLEAN + HELD_OUT_LEAKS + HELD_OUT_CLEAN
    assert len(LEAKS) + len(CLEAN) >= 200 and len(LEAKS) >= 100 and len(CLEAN) >= 90
    assert all(len(case) == 3 and 0 <= case[1] <= 1 and case[2] for case in cases)
    assert len({(text, score) for text, score, _ in cases}) == len(cases)  # no duplicate case


@pytest.mark.parametrize("part", ["tuned", "held_out"])
def test_recall_at_least_095_at_precision_at_least_090(part):
    leaks, clean = (LEAKS, CLEAN) if part == "tuned" else (HELD_OUT_LEAKS, HELD_OUT_CLEAN)
    precision, recall, missed, flagged = _precision_recall(leaks, clean)
    assert recall >= 0.95, missed
    assert precision >= 0.9, flagged


@pytest.mark.parametrize(("critique", "score", "why"), LEAKS, ids=[c[2] for c in LEAKS])
def test_each_leak_is_caught(critique, score, why):
    assert find_leakage(critique, score).leaked


@pytest.mark.parametrize(("critique", "score", "why"), CLEAN, ids=[c[2] for c in CLEAN])
def test_each_clean_sentence_passes(critique, score, why):
    verdict = find_leakage(critique, score)
    assert not verdict.leaked, [(f.code, f.text) for f in verdict.findings]


def test_a_200kb_number_dense_reply_is_checked_in_linear_time():
    import time

    text = "The 2 figures, 3 boats and 0.5 s shutter at f/2.8 of the frame. " * 3000  # ~195 KB
    start = time.perf_counter()
    assert not find_leakage(text, 0.5).leaked
    assert time.perf_counter() - start < 30  # a quadratic scan of the text took ~300 s here
