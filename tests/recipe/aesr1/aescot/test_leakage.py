"""Hand-written cases for the score-leakage filter; the score the expert saw is 0.73 unless stated."""

from __future__ import annotations

import pytest

from recipe.aesr1.aescot.leakage import (
    HIDDEN_REFERENCE,
    RATING_NUMBER,
    RATING_SCALE,
    SCORE_VALUE,
    find_leakage,
)

LEAKS = [
    # (critique, score, a rule code that must fire)
    ("Overall a solid 7 out of 10.", 0.73, RATING_SCALE),  # a rating on a 10-point scale
    ("I'd call it seven out of ten.", 0.73, RATING_SCALE),  # the scale in words
    ("It deserves 7.3/10.", 0.73, RATING_SCALE),  # rescaled score with its denominator
    ("It deserves 7.3/10.", 0.73, SCORE_VALUE),  # ... and the rescaled value itself
    ("Roughly 73/100 in my view.", 0.73, RATING_SCALE),  # percent scale as a fraction
    ("A 3.65/5 picture.", 0.73, SCORE_VALUE),  # five-point rescaling
    ("An aesthetic quality of 0.73 fits.", 0.73, SCORE_VALUE),  # the score verbatim
    ("It lands near .73 overall.", 0.73, SCORE_VALUE),  # without the leading zero
    ("About 0.7 overall.", 0.73, SCORE_VALUE),  # the score rounded to one decimal
    ("It pleases about 73% of viewers.", 0.73, SCORE_VALUE),  # the score as a percentage
    ("Some 73 percent of its appeal is colour.", 0.73, SCORE_VALUE),  # percentage in words
    ("I would rate it an 8.", 0.73, RATING_NUMBER),  # rating verb with a number
    ("It earns a rating of seven.", 0.73, RATING_NUMBER),  # rating noun with a number word
    ("An 8 rating is fair.", 0.73, RATING_NUMBER),  # the number before the rating word
    ("Scored 9 by most viewers.", 0.73, RATING_NUMBER),  # past tense
    ("Judged on a scale of aesthetic merit, it is strong.", 0.73, RATING_SCALE),  # refers to a scale
    ("This matches the hidden score well.", 0.73, HIDDEN_REFERENCE),  # names the hidden score
    ("Consistent with the provided rating, the image is good.", 0.73, HIDDEN_REFERENCE),  # "provided rating"
    ("The rating that was given suits it.", 0.73, HIDDEN_REFERENCE),  # "rating ... given"
    ("As instructed, I will not state a number.", 0.73, HIDDEN_REFERENCE),  # refers to the instructions
    ("Without revealing the score, I find it good.", 0.73, HIDDEN_REFERENCE),  # "revealing the score"
    ("I was told to keep this private.", 0.73, HIDDEN_REFERENCE),  # refers to being told
]

CLEAN = [
    # (critique, score) -- each must pass
    ("Seven subjects stand in a loose row.", 0.73),  # a number word that is no rating
    ("Two people walk along the shore at dusk.", 0.73),  # ordinary count
    ("About 50% of the frame is open sky.", 0.73),  # a percentage that is not the score
    ("Shot at 1/100 s, the motion is frozen.", 0.73),  # a shutter speed, not a 100-point scale
    ("The wide f/2.8 aperture blurs the background.", 0.73),  # an aperture
    ("A first-rate image with three subjects.", 0.73),  # "rate" inside "first-rate"
    ("I would rate it highly for its mood.", 0.73),  # a rating verb without a number
    ("It captures a private moment between friends.", 0.73),  # "private" about the scene
    ("The subject is 3.5 metres from the lens.", 0.73),  # a decimal unrelated to the score
    ("The exposure is 4.5 stops off.", 0.45),  # equals 10 x score, but a photographic unit follows
    ("Overall this is an excellent photograph.", 0.73),  # the judgment Appendix B asks for
    ("The image prompts a quiet reflection.", 0.73),  # "prompts" the verb
    ("", 0.5),  # nothing to leak
]


@pytest.mark.parametrize(("critique", "score", "code"), LEAKS)
def test_leaking_critique_is_caught_by_its_rule(critique, score, code):
    verdict = find_leakage(critique, score)
    assert verdict.leaked
    assert code in verdict.codes, [(f.code, f.text) for f in verdict.findings]


@pytest.mark.parametrize(("critique", "score"), CLEAN)
def test_clean_critique_passes(critique, score):
    verdict = find_leakage(critique, score)
    assert not verdict.leaked, [(f.code, f.text) for f in verdict.findings]


def test_score_value_depends_on_the_score():
    # 7.3 is the rescaled score of one image and an innocent number in the critique of another.
    assert SCORE_VALUE in find_leakage("an impression of 7.3", 0.73).codes
    assert not find_leakage("an impression of 7.3", 0.21).leaked
    # A bare value in [0, 1] reads as a score whatever the true one (a wrong score in the critique
    # would contradict the SFT answer); with a unit it is photographic.
    assert SCORE_VALUE in find_leakage("an impression of 0.73", 0.21).codes
    assert not find_leakage("an exposure of 0.73 s", 0.73).leaked


def test_finding_reports_the_matched_text():
    findings = find_leakage("Overall a solid 7 out of 10.", 0.73).findings
    assert any("out of 10" in finding.text for finding in findings)


# Issue 26: the categories a planted corpus written independently of ours found missing. Each line is a
# category, with two phrasings per category that the rules were not written for sentence by sentence.
UNSEEN_CATEGORIES = [
    ("It is about three quarters of the way to perfect.", 0.73, "verbal fraction of a whole"),
    ("Two thirds of the way to a flawless picture.", 0.66, "verbal fraction of a whole (thirds)"),
    ("Halfway to perfection, no further.", 0.5, "half of a whole"),
    ("I would put it at a score in the low seventies.", 0.73, "a decade of the scale"),
    ("A rating somewhere in the mid-eighties feels right.", 0.85, "a decade of the scale with mid"),
    ("Its marks would land in the high 60s.", 0.68, "a decade of the scale in digits"),
    ("I rated it 7 in my head.", 0.73, "a private rating"),
    ("Privately I scored this frame 6 before writing.", 0.6, "a private score"),
    ("My personal rating is generous.", 0.8, "a private rating without a number"),
    ("Overall a rating north of seven.", 0.73, "a bound instead of a value"),
    ("It scores comfortably above 8.", 0.85, "a bound after a rating verb"),
    ("A grade no lower than six is deserved.", 0.65, "a lower bound on a grade"),
    ("A seven-point-three kind of picture.", 0.73, "a spelled decimal with hyphens"),
    ("It reads as a six-point-five sort of image.", 0.21, "a spelled decimal with hyphens, another score"),
    ("Following my instructions, I keep the verdict verbal.", 0.73, "talk about the instructions"),
    ("In line with the guidelines I was given, no number appears.", 0.5, "talk about the guidelines"),
    ("As requested, the figure stays out of this critique.", 0.5, "as requested"),
]
# Clean sentences near those rules: the words the new rules read, used for the scene or the craft.
CLEAN_NEAR_NEW_RULES = [
    ("The print keeps the true values of the greys.", 0.73, "tonal values, not a score"),
    ("The actual values in the shadows are rich and open.", 0.6, "tonal values in the shadows"),
    ("A woman in her mid-thirties reads by the window.", 0.35, "an age, not a decade of the scale"),
    ("The car dates from the late seventies.", 0.7, "an era"),
    ("Three quarters of the frame is water.", 0.75, "a fraction of the frame"),
    ("The climber is halfway up the wall.", 0.5, "halfway in the scene"),
    ("Following the rule of thirds, the horizon sits low.", 0.3, "the rule of thirds"),
    ("A sign with assembly instructions hangs by the door.", 0.4, "instructions in the scene"),
    ("The temperature reads above 30 degrees on the sign.", 0.3, "a bound with a unit"),
]


@pytest.mark.parametrize(("critique", "score", "why"), UNSEEN_CATEGORIES, ids=[c[2] for c in UNSEEN_CATEGORIES])
def test_unseen_leak_categories_are_caught(critique, score, why):
    assert find_leakage(critique, score).leaked


@pytest.mark.parametrize(("critique", "score", "why"), CLEAN_NEAR_NEW_RULES, ids=[c[2] for c in CLEAN_NEAR_NEW_RULES])
def test_clean_sentences_near_the_new_rules_pass(critique, score, why):
    verdict = find_leakage(critique, score)
    assert not verdict.leaked, [(f.code, f.text) for f in verdict.findings]
