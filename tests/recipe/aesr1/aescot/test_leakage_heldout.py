"""The leakage rules on sets written after them (``leakage_heldout_corpus.py``), measured once each.

``HELDOUT_*`` was measured once (recall 0.64, precision 0.97) and its misses then became rules, so it is
in-sample now and must stay fully caught. ``HELDOUT2_*`` was written after that and measured once:
45 leaks, 45 clean, recall 0.67 (30/45) at precision 0.94 (30/32). Those are the rules' out-of-sample
figures and what this test pins as a floor; they are far from 0.95, which is why the leakage judge
runs by default after the rules. Improve the rules on new phrasings, not on these sentences.
"""

from __future__ import annotations

from leakage_heldout_corpus import (
    HELDOUT2_CLEAN,
    HELDOUT2_LEAKS,
    HELDOUT_CLEAN,
    HELDOUT_LEAKS,
)

from recipe.aesr1.aescot.leakage import find_leakage


def _caught_and_flagged(leaks, clean) -> tuple[list, list]:
    caught = [case for case in leaks if find_leakage(case[0], case[1]).leaked]
    flagged = [case for case in clean if find_leakage(case[0], case[1]).leaked]
    return caught, flagged


def test_sets_are_as_documented():
    assert (len(HELDOUT_LEAKS), len(HELDOUT_CLEAN), len(HELDOUT2_LEAKS), len(HELDOUT2_CLEAN)) == (50, 53, 45, 45)
    cases = HELDOUT_LEAKS + HELDOUT_CLEAN + HELDOUT2_LEAKS + HELDOUT2_CLEAN
    assert all(len(case) == 3 and 0 <= case[1] <= 1 and case[2] for case in cases)
    assert len({(text, score) for text, score, _ in cases}) == len(cases)


def test_first_held_out_set_is_in_sample_now_and_fully_separated():
    caught, flagged = _caught_and_flagged(HELDOUT_LEAKS, HELDOUT_CLEAN)
    assert len(caught) == len(HELDOUT_LEAKS), [c for c in HELDOUT_LEAKS if c not in caught]
    assert flagged == []


def test_second_held_out_set_keeps_its_measured_recall_and_precision():
    caught, flagged = _caught_and_flagged(HELDOUT2_LEAKS, HELDOUT2_CLEAN)
    recall, precision = len(caught) / len(HELDOUT2_LEAKS), len(caught) / (len(caught) + len(flagged))
    assert recall >= 30 / 45, [c for c in HELDOUT2_LEAKS if c not in caught]  # measured once: 0.67
    assert precision >= 30 / 32, flagged  # measured once: 0.94
