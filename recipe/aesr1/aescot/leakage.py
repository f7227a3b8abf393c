"""Programmatic score-leakage filter (Aes-R1 Sec. 3.2 error type e_leak; Appendix E.2).

The expert was told the score and told to keep it private (Appendix B). A critique leaks when it
writes the score or a rescaling of it, gives any rating on a numeric scale, ranks the picture by
percentile or rating band, ties rating words to numbers, or points at the score it was shown. The
stage runs in three steps:

1. ``leakage_text.normalise``: Unicode digits, invisible characters, decimal commas and number words
   become ASCII digits, so "zero point seven three", "0,73" and "0.\u200b73" all read "0.73".
2. Rules, each with its own code so the audit page shows why a critique was rejected: the score and
   its rescalings (x1, x10, x5, x100, at the precision written), scale and rating vocabulary near a
   number, a fraction of a whole ("three quarters of the way to perfect"), a rating given to the
   picture ("rated it 7 in my head") or bounded ("north of seven"), percentiles and bands ("the low
   seventies"), references to a given, shown or hidden value or to the instructions.
3. Photographic number contexts are exempt: shutter speeds (1/100 s, 0.5 s), apertures (f/2.8), focal
   lengths, ISO, EV, distances, ratios, fractions of the frame, counts and numbers in the scene, ages,
   tonal values ("the true values of the greys").

Rules only catch the phrasings someone thought of; the leakage judge (``requests.leakage_messages``,
``filters.leakage_judge``, on by default) reads every critique the rules let through.
Precision and recall on a corpus of 209 hand-written cases are measured by ``test_leakage_corpus.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from recipe.aesr1.aescot.leakage_text import normalise

# Rule codes.
SCORE_VALUE = "score_value"  # the score or a rescaling: 0.73, .73, 7.3, 3.65, 73%, or a bare 0.x score
RATING_SCALE = "rating_scale"  # a number on a rating scale: 7/10, 7 out of 10, "on a ten-point scale", stars
RATING_NUMBER = "rating_number"  # rating words or evaluative verbs with a number: "rated 8", "a solid 7"
RANKING = "ranking"  # percentiles, deciles, "top 10%", "the high sixes", "upper band of ratings"
HIDDEN_REFERENCE = "hidden_reference"  # "the hidden score", "the value shown", "as instructed", "its score"
JUDGE = "judge"  # the leakage judge said the critique reveals the score

_SCALES = (1.0, 10.0, 5.0, 100.0)  # [0, 1] itself, /10, /5, /100 (percent)
_NUM = r"(?:\d+(?:\.\d+)?|\.\d+)(?!\.?\d)"  # a whole number: "0.5" is never read as "0"
_DENOMINATOR = r"(?:100|10|5)\b"

# Words after a number that make it photographic or part of the scene (units, lens and format terms).
_UNIT_AFTER = (
    r"s|sec|secs|seconds?|ms|minutes?|mins?|hours?|h|mm|cm|m|metres?|meters?|km|ft|feet|foot|inch(?:es)?|"
    r"\"|'|px|pixels?|mp|megapixels?|k|kelvin|°|degrees?|ev|stops?|x|fps|iso|lens|aperture|zoom|crop|ratio|"
    r"aspect|widescreen|format|sensor|euros?|dollars?|€|\$|km/h|mph|kg|g|am|pm|tonnes?|tons?|lbs?|pounds?|storeys?|"
    r"floors?|stor(?:y|ies)|years?|days?|weeks?|months?"
)
_UNIT = re.compile(rf"\s*-?\s*(?:{_UNIT_AFTER})(?![a-z])", re.IGNORECASE)  # used with .match(text, pos)
_PHOTO_BEFORE = re.compile(r"(?:\bf\s*/?\s*|\biso\s*|[+\-±]\s*|\bev\s*|@\s*|\b1/|\d\s*[:x×]\s*)$", re.IGNORECASE)
_FRAME_NOUNS = (
    r"second|frame|width|height|image\s+area|sky|foreground|background|composition|picture\s+area|scene|"
    r"area|canvas|shot"
)
_OF_FRAME = re.compile(rf"\s*of\s+(?:a|an|the|its|this)\s+(?:\w+\s+)?(?:{_FRAME_NOUNS})\b", re.IGNORECASE)

_NUMBER_TOKEN = re.compile(r"(?<![\w.\-:/])(\d*\.\d+|\d+)(?![\w.]*\d)(?!:\d)")
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE)

_ADJECTIVE = (
    r"solid|strong|respectable|decent|fair|good|high|low|weak|mere|clear|easy|comfortable|modest|generous|"
    r"middling|mediocre|perfect|honest|firm|safe|reasonable|healthy|clean|straight|flat|round|shaky"
)
# A rating closes with punctuation, the end, or rating words: "a solid 7.", "an 8 from me", "a 9, easily".
_RATING_CLOSE = (
    r"(?=\s*(?:[.,;!?)]|$|overall\b|points?\b|stars?\b|out\s*of\b|outta\b|of\s+" + _DENOMINATOR +
    r"|/|from\s+me\b|for\s+me\b|on\s+(?:a|the|my|any)\b|at\s+(?:best|most)\b|territory\b|and\s+move\b|maybe\b"
    r"|(?:kind|sort|type)\s+of\b|-?\s*ish\b|in\s+my\s+(?:head|book|mind|eyes|view|estimation)\b|if\b|unless\b))"
)
_VERB = (
    r"give|gives|gave|giving|award|awards|awarded|earn|earns|earned|deserve|deserves|deserved|merit|merits|"
    r"warrant|warrants|get|gets|got|land|lands|call\s+it|(?:put|place)s?\s+it\s+at|clocks?\s+in\s+at|comes?\s+in\s+at|"
    r"say|(?:would|might|could)\s+be|"
    r"tops?\s+out\s+at|"
    r"sits?\s+at|reach(?:es)?|hits?|scores?|scored|rate|rated|rates|grade|graded|mark|marked"
)
_RATING_WORD = r"(?:scores?|scored|ratings?|grades?|graded|marks?|aesthetic\s+value|rated|rating)"
# Other pictures a rank is taken against.
_PICTURES = r"(?:collection|photos|photographs|images|pictures|shots|frames|entries|submissions|portfolios?|sets?|archive)"
# "an 8-and-a-bit", "a 6 and a half": a rating with a vague fraction.
_AND_A_BIT = r"(?:[-\s]+and[-\s]+a[-\s]+(?:bit|half|little|touch))?"
# A number that is no photographic value and no part of a longer token: "7" but not "7 s", "7/10", "7th".
_BARE_NUM = rf"(?:{_NUM})(?![\w/\-]|\.\d)(?!\s*(?:{_UNIT_AFTER})(?![a-z]))(?!\s+(?:more|extra|further|times|million|thousand)\b)"
# A bound instead of a value: "north of 7", "no lower than 6", "comfortably above 8".
_BOUND = (
    r"(?:north|south|upwards|downwards)\s+of|above|below|over|under|beyond|past|at\s+least|at\s+most|"
    r"no\s+(?:more|less|higher|lower|better|worse)\s+than|(?:more|less|higher|lower|better|worse|greater)\s+than|"
    r"(?:shy|short)\s+of|in\s+excess\s+of|(?:close|closer|near|nearer)\s+to|nearly|almost|approaching|clears?"
)
# A whole the critique measures itself against: "three quarters of the way to perfect", "halfway to full marks".
_WHOLE = (
    r"(?:perfect(?:ion)?|flawless(?:ness)?|excellence|full\s+marks|top\s+marks|a\s+masterpiece|"
    r"the\s+(?:maximum|ideal|best\s+possible|top\s+(?:score|mark|rating|grade))|"
    r"a\s+(?:perfect|flawless|ideal|maximum|top)\s+(?:score|mark|rating|grade|image|picture|photo(?:graph)?|shot|frame|10))"
)
# Objects a private rating is given to: "rated it 7", "scored this frame 6".
_RATED_OBJECT = r"(?:it|this|that|(?:the|this|that)\s+(?:photo(?:graph)?|image|picture|shot|frame|scene|one))"

_SCALE_PATTERNS = (
    re.compile(rf"(?:{_NUM})\s*/\s*{_DENOMINATOR}", re.IGNORECASE),  # 7/10 (shutter speeds exempted below)
    re.compile(rf"\bout\s*of\s+(?:(?:a|the)\s+)?(?:(?:possible|maximum|perfect|total)\s+)?{_DENOMINATOR}"
               rf"|\boutta\s+{_DENOMINATOR}", re.IGNORECASE),
    # "five on ten", "sixty-eight on a hundred": a value on a denominator.
    re.compile(rf"(?<![\w.])(?:{_NUM})\s+on\s+(?:a\s+)?{_DENOMINATOR}", re.IGNORECASE),
    # The writer's own scale ("on my personal scale") and any part of a scale ("the halfway mark of the scale").
    re.compile(r"\b(?:my|our)\s+(?:(?:own|personal|private|internal|mental|usual)\s+)?(?:scale|ruler|yardstick)\b"
               r"|\b(?:mark|point|end|half|third|quarter|part|side|portion|reaches|stretch)\s+of\s+the\s+"
               r"(?:(?:rating|aesthetic|quality)\s+)?scale\b", re.IGNORECASE),
    # "in percentage terms", "in grading terms": talk in the units of a score.
    re.compile(r"\bin\s+(?:percentage|percent|numeric(?:al)?|number|grading|rating|scoring|score|grade)\s+terms\b",
               re.IGNORECASE),
    re.compile(rf"\b(?:{_NUM})\s+of\s+{_DENOMINATOR}(?=\s*(?:[.,;!?]|$))", re.IGNORECASE),
    re.compile(r"\b\d+\s*-?\s*point\s+(?:scale|system)\b|\b\d+(?:\s+and\s+a\s+half)?\s*-?\s*stars?\b",
               re.IGNORECASE),
    re.compile(r"\b(?:rating|numeric(?:al)?|scoring|grading|aesthetic|quality|mental)\s+(?:scale|ruler)\b",
               re.IGNORECASE),
    re.compile(r"\bscale\s+(?:of|from)\s+\d+\s+to\s+\d+|\b\d+\s*[-–]\s*\d+\s+scale\b|\bon\s+a\s+scale\s+of\b",
               re.IGNORECASE),
    re.compile(r"\b(?:midpoint|middle|top|bottom|upper\s+end|lower\s+end|high\s+end|low\s+end)\s+of\s+the\s+"
               r"(?:rating\s+)?scale\b", re.IGNORECASE),
    # A fraction of a whole: "3/4 of the way to perfect", "halfway to perfection", "70% of full marks".
    re.compile(rf"(?:\b\d+\s*/\s*\d+|(?<![\w.])(?:{_NUM})\s*(?:%|per\s*cent\b|percent\b)|\bhalf(?:way)?|\b(?:{_NUM}))"
               rf"\s+(?:of\s+the\s+way\s+|the\s+way\s+)?(?:to|toward|towards|of|short\s+of)\s+{_WHOLE}\b",
               re.IGNORECASE),
)
_RATING_NUMBER_PATTERNS = (
    re.compile(rf"\b(?:a|an)\s+(?:(?:{_ADJECTIVE})\s+)?(?:{_NUM}){_AND_A_BIT}{_RATING_CLOSE}", re.IGNORECASE),
    # An evaluative adjective makes an article-less number a rating: "solid 7.", "a 6, maybe a strong 7".
    re.compile(rf"\b(?:solid|strong|respectable|decent|firm|honest|easy|comfortable|generous|mere|middling)\s+"
               rf"(?:{_NUM}){_AND_A_BIT}{_RATING_CLOSE}", re.IGNORECASE),
    # A range of ratings: "somewhere between 7 and 8."
    re.compile(rf"\bbetween\s+(?:a\s+|an\s+)?(?:{_NUM})\s+and\s+(?:a\s+|an\s+)?(?:{_NUM}){_RATING_CLOSE}",
               re.IGNORECASE),
    re.compile(rf"\b(?:{_VERB})\s+(?:(?:it|this|the\s+\w+|me)\s+)?(?:(?:a|an|around|about|roughly|near|"
               rf"at|only|just)\s+)?(?:(?:{_ADJECTIVE})\s+)?(?:{_NUM}){_RATING_CLOSE}", re.IGNORECASE),
    re.compile(rf"\b{_RATING_WORD}\b\s*(?::|\bof\b|\bis\b|\bhere\s+is\b|\baround\b|\babout\b)?\s*"
               rf"(?:(?:a|an|about|around|roughly)\s+)?(?:{_NUM})(?![\w-])", re.IGNORECASE),
    re.compile(rf"(?<![\w.])(?:{_NUM})\s+(?:rating|score|grade|mark)\b", re.IGNORECASE),
    re.compile(r"\bwould\s+(?:score|rate|rank)\s+(?:it\s+)?(?:around|about|at|a|an)?\s*\d", re.IGNORECASE),
    # "scores highly, around 8": a rating verb, an adverb, then the number.
    re.compile(rf"\b(?:scores?|scored|rates?|rated)\s+\w+ly\W+(?:(?:around|about|roughly|at)\s+)?(?:{_NUM})",
               re.IGNORECASE),
    # A rating given to the picture, however the sentence goes on: "I rated it 7 in my head".
    re.compile(rf"\b(?:rate|rated|rates|score|scored|scores|grade|graded|mark|marked|peg|pegged|give|gave|gives|"
               rf"award|awarded)\s+{_RATED_OBJECT}\s+(?:(?:a|an|at|around|about|roughly|only|just|"
               rf"maybe|perhaps|somewhere|near)\s+)*{_BARE_NUM}", re.IGNORECASE),
    # A bound on a rating instead of its value: "a rating north of 7", "scores comfortably above 8".
    re.compile(rf"\b(?:{_RATING_WORD}|rates?|deserves?|deserved|merits?|earns?|earned|worth|warrants?)\b"
               rf"(?:\s+\w+){{0,3}}?\s+(?:{_BOUND})\s+(?:(?:a|an)\s+)?{_BARE_NUM}", re.IGNORECASE),
    re.compile(rf"\b(?:north|south)\s+of\s+(?:(?:a|an)\s+)?{_BARE_NUM}", re.IGNORECASE),
)
_RANKING_PATTERNS = (
    re.compile(r"\b\d+(?:st|nd|rd|th)\s+percentile\b|\bpercentiles?\b|\b(?:decile|quartile|quintile)s?\b",
               re.IGNORECASE),
    re.compile(r"\b(?:top|bottom|upper|lower|best|worst)\s+\d+\s*(?:%|per\s*cent\b|percent\b)", re.IGNORECASE),
    re.compile(r"\b(?:better|worse)\s+than\s+(?:about\s+|roughly\s+|some\s+)?\d+\s*(?:%|per\s*cent\b|percent\b)",
               re.IGNORECASE),
    # A band of the scale: "the high sixes", "the low 70s", "the low-to-mid 80s"; not an age ("her mid-30s").
    re.compile(r"(?<!\bhis\s)(?<!\bher\s)(?<!\btheir\s)(?<!\bits\s)\b(?:low|mid|high|upper|lower)"
               r"(?:[-\s]+(?:to|or)[-\s]+(?:low|mid|high|upper|lower))?[-\s]+(?:ones|twos|threes|fours|fives|sixes|"
               r"sevens|eights|nines|\d0s|0?\.\ds)\b", re.IGNORECASE),
    re.compile(rf"\b{_RATING_WORD}\b[^.;!?]{{0,40}}?\bin\s+the\s+(?:\d0s|sixes|sevens|eights|nines|fives)\b",
               re.IGNORECASE),
    re.compile(r"\b(?:band|tier|bracket|range|region)\s+of\s+(?:the\s+)?(?:ratings?|scores?|grades?|the\s+scale)\b",
               re.IGNORECASE),
    # A rank against other pictures: "the upper third of a typical collection", "better than 4 in 5 photos",
    # "it would beat about 60 of them".
    re.compile(rf"\b(?:upper|lower|top|bottom|best|worst|first|last)\s+(?:half|third|quarter|fifth|tenth|\d+/\d+|\d+)\s+"
               rf"of\s+(?:(?:a|an|the|my|any|all|every)\s+)?(?:\w+\s+)?{_PICTURES}", re.IGNORECASE),
    re.compile(rf"\b(?:better|worse|stronger|weaker)\s+than\s+(?:(?:about|roughly|some|nearly|around|most)\s+)?"
               rf"\d+(?:\s+(?:in|of|out\s+of)\s+(?:every\s+)?\d+)?\s+(?:of\s+(?:the\s+)?)?(?:\w+\s+)?{_PICTURES}",
               re.IGNORECASE),
    re.compile(r"\b(?:beats?|beat|beating|outranks?|outscores?|outperforms?)\s+(?:(?:about|roughly|some|nearly|"
               r"around|perhaps)\s+)?\d+(?!\s*(?:%|percent))", re.IGNORECASE),
)
_VALUE_NOUN = r"(?:aesthetic\s+)?(?:scores?|ratings?|values?|numbers?|figures?|labels?|grades?|marks?)"
_BRIEF = r"(?:instructions|guidelines|guidance|directions|brief|rules|orders)"
# "the true values of the greys", "the actual figures in the scene": tones and people, not a score.
_NOT_A_SCORE_AFTER = re.compile(
    r"\s+(?:of|in|on|across|throughout|within)\s+(?:(?:the|its|this|these|those|her|his|their|a|an)\s+)?"
    r"(?!(?:aesthetic\s+)?(?:scores?|ratings?|grades?|marks?|image|photo(?:graph)?|picture|shot|frame)\b)[a-z]",
    re.IGNORECASE,
)
_TONE_NOUN = re.compile(r"(?:values?|numbers?|figures?)$", re.IGNORECASE)
_HIDDEN_PATTERNS = (
    re.compile(
        r"\b(?:hidden|private|secret|confidential|undisclosed|concealed|withheld|given|provided|assigned|"
        r"supplied|true|actual|target|stated|shown|reference|ground[-\s]truth|mean\s+opinion|original|real)\s+"
        + _VALUE_NOUN + r"\b|\b(?:hidden|true|actual|target)\s+information\b",
        re.IGNORECASE,
    ),
    re.compile(rf"\b{_VALUE_NOUN}\s+(?:(?:that|which)\s+)?(?:was\s+|were\s+|is\s+)?(?:provided|given|shown|"
               r"assigned|supplied|shared|mentioned|stated)\b", re.IGNORECASE),
    re.compile(rf"\b(?:{_VALUE_NOUN}|{_BRIEF})\s+(?:(?:that|which)\s+)?(?:i|we)\s+(?:was|were|am|have\s+been)\s+"
               r"(?:given|shown|told|provided|handed|sent|fed|supplied|assigned)\b", re.IGNORECASE),
    # Knowing how the picture was rated: "how it was rated", "it was graded highly".
    re.compile(r"\b(?:how|what)\s+(?:it|this|the\s+\w+)\s+(?:was|were|had\s+been|is)\s+(?:rated|scored|graded|"
               r"marked|ranked)\b|\b(?:was|were|been)\s+(?:\w+ly\s+)?(?:rated|graded)\b", re.IGNORECASE),
    re.compile(r"\b(?:its|the|this|my|your|that|our)\s+(?:(?:private|personal|internal|inner|mental|own|secret|gut|"
               r"honest|final|overall)\s+)?(?:aesthetic\s+)?(?:scores?|ratings?|labels?)\b(?!\s+of\s+the\s+"
               r"(?:game|match))(?!\s+(?:plates?|stickers?|badges?|boards?|cards?|sheets?|tags?|signs?|tables?)\b)",
               re.IGNORECASE),
    re.compile(r"\b(?:as|per)\s+(?:my\s+|the\s+)?(?:instruct(?:ed|ions?)|requested|directed|required|briefed)\b"
               r"|\b(?:my|the|your)\s+instructions\s+"
               r"(?:say|said|tell|told|ask|asked|require)|\bi\s+(?:was|have\s+been|am)\s+(?:told|asked|instructed)\b"
               r"|\b(?:the|this|my|your)\s+(?:(?:system|user|original|task|scoring)\s+)?prompt\b"
               rf"|\b(?:the|my|your)\s+{_BRIEF}\s+(?:says?|said|tells?|told|asks?|asked|requires?|required|"
               r"states?|stated|wants?|wanted)\b", re.IGNORECASE),
    # Talk about the instructions the writer works under ("following my instructions", "per the guidelines"),
    # not about instructions or rules in the scene or the craft ("the rules of composition").
    re.compile(rf"\b(?:my|our)\s+{_BRIEF}\b|\b(?:follow(?:s|ed|ing)?|obey(?:s|ed|ing)?|heed(?:s|ed|ing)?|"
               rf"respect(?:s|ed|ing)?|according\s+to|in\s+(?:line|keeping|accordance)\s+with|under)\s+"
               rf"(?:the|these|those|your)\s+{_BRIEF}\b(?!\s+(?:on|of|printed|posted|for)\b)", re.IGNORECASE),
    re.compile(rf"\b(?:reveal|disclose|mention|state|share)(?:s|d|ing)?\b(?:\W+\w+){{0,3}}?\W+(?:the\s+)?"
               rf"(?:numeric(?:al)?\s+)?{_VALUE_NOUN}\b", re.IGNORECASE),
)


@dataclass(frozen=True)
class LeakageFinding:
    """One piece of leaked text: the rule ``code`` and the (normalised) ``text`` it matched."""

    code: str
    text: str


@dataclass(frozen=True)
class LeakageVerdict:
    """Outcome of the leakage filter for one critique; ``leaked`` iff there is at least one finding."""

    findings: tuple[LeakageFinding, ...]

    @property
    def leaked(self) -> bool:
        return bool(self.findings)

    @property
    def codes(self) -> list[str]:
        return sorted({finding.code for finding in self.findings})


def _matches_rescaled_score(token: str, score: float | None) -> bool:
    """True when ``token`` equals ``score`` on one of the scales, rounded to the token's decimals.

    ``score`` is first rounded to two decimals, as the expert saw it (Appendix B); None matches nothing.
    """
    if score is None:
        return False
    decimals = len(token.split(".")[1]) if "." in token else 0
    value = float(token)
    shown = round(score, 2)
    return any(abs(round(shown * scale, decimals) - value) < 1e-9 for scale in _SCALES)


def _photographic(text: str, start: int, end: int) -> bool:
    """Is the number at ``text[start:end]`` a unit value, a lens/format term or a fraction of the frame?"""
    before = text[max(0, start - 8) : start]  # the longest prefix _PHOTO_BEFORE needs ("iso ", "f / ")
    return bool(_UNIT.match(text, end) or _PHOTO_BEFORE.search(before) or _OF_FRAME.match(text, end))


def _score_values(text: str, score: float | None) -> list[LeakageFinding]:
    findings = []
    for match in _NUMBER_TOKEN.finditer(text):
        token = match.group(1)
        if _photographic(text, match.start(1), match.end(1)):
            continue
        if "." in token:
            # A decimal equal to a rescaled score, or any bare 0.x-style value: critiques have no other.
            if _matches_rescaled_score(token, score) or float(token) <= 1.0:
                findings.append(LeakageFinding(SCORE_VALUE, token))
    for match in _PERCENT.finditer(text):
        if _matches_rescaled_score(match.group(1), score) and not _OF_FRAME.match(text, match.end()):
            findings.append(LeakageFinding(SCORE_VALUE, match.group(0)))
    return findings


def _pattern_findings(text: str, code: str, patterns: tuple[re.Pattern, ...]) -> list[LeakageFinding]:
    findings = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            if code in (RATING_SCALE, RATING_NUMBER) and _exempt_fraction(text, match):
                continue
            if code == HIDDEN_REFERENCE and _TONE_NOUN.search(match.group(0)) and _NOT_A_SCORE_AFTER.match(
                    text, match.end()):
                continue
            findings.append(LeakageFinding(code, match.group(0)))
    return findings


_FRACTION_TAIL = re.compile(r"\s*/\s*\d+")


def _exempt_fraction(text: str, match: re.Match) -> bool:
    """A shutter speed (1/100 s) or a fraction of the frame (1/10 of the frame) is no rating."""
    end = match.end()
    tail = _FRACTION_TAIL.match(text, end)  # the match stopped before "/10": look past the denominator
    if tail is not None:
        end = tail.end()
    elif "/" not in match.group(0):
        return False
    return bool(_UNIT.match(text, end) or _OF_FRAME.match(text, end))


def find_leakage(critique: str, score: float | None) -> LeakageVerdict:
    """Run every leakage rule on one critique.

    Args:
        critique: the expert's text.
        score: the true normalised score in [0, 1] the expert was shown; None when it is unknown (a
            judge that reads the critique alone): every rule but the rescalings of the score runs.

    Returns:
        A verdict listing every finding (empty when the critique is clean); texts are normalised.
    """
    text = normalise(critique)
    findings = _score_values(text, score)
    for code, patterns in (
        (RATING_SCALE, _SCALE_PATTERNS),
        (RATING_NUMBER, _RATING_NUMBER_PATTERNS),
        (RANKING, _RANKING_PATTERNS),
        (HIDDEN_REFERENCE, _HIDDEN_PATTERNS),
    ):
        findings += _pattern_findings(text, code, patterns)
    return LeakageVerdict(tuple(findings))


# --- marks for the human audit page -------------------------------------------------------------------
_NUMBER_WORD = (
    r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|twenties|thirties|"
    r"forties|fifties|sixties|seventies|eighties|nineties|hundred|point|half|halfway|quarters?|thirds?|"
    r"fifths?|tenths?|hundredths?|ones|twos|threes|fours|fives|sixes|sevens|eights|nines|tens"
)
# A number on the raw critique: Unicode digits with any decimal mark, or a run of number words
# ("seven-point-three", "three quarters"); invisible characters inside a number stay inside the mark.
_RAW_NUMBER = re.compile(
    rf"(?:\d+\s*/\s*\d+|\d[\d\u200b-\u200d\u2060\ufeff\u00a0\u2000-\u200a\u202f]*(?:[.,\u00b7\u066b\u2027][\u200b-\u200d\ufeff]*\d+)?"
    rf"|[.\u066b]\d+|\b(?:{_NUMBER_WORD})(?:[\s-]+(?:{_NUMBER_WORD}))*\b)(?:\s*(?:%|percent\b|per\s*cent\b))?",
    re.IGNORECASE,
)
# Words that make a nearby number worth a look: rating and scale vocabulary, ranks, bounds, wholes.
_SCORE_CONTEXT = re.compile(
    r"\b(?:scores?|scored|scoring|rat(?:e|es|ed|ing|ings)|grades?|graded|marks?|scale|out\s*of|outta|points?|stars?|"
    r"percent(?:ile)?s?|per\s*cent|deciles?|quartiles?|rank(?:s|ed|ing)?|band|tier|bracket|perfect(?:ion)?|"
    r"full\s+marks|values?|numbers?|figures?|north|south|above|below|at\s+least|at\s+most|give|gives|gave|"
    r"deserves?|earns?|merits?|worth|overall|verdict|in\s+my\s+(?:head|book|mind))\b|%",
    re.IGNORECASE,
)
_CONTEXT_WORDS = 5  # either side, within the sentence
_SENTENCE_END = re.compile(r"[.;:!?](?:\s|$)")


@dataclass(frozen=True)
class NumberMark:
    """A number or number word at ``critique[start:end]``; ``near_score`` when it is a percentage or score-like
    words are within five words of it in its sentence (the audit page highlights those, underlines the rest)."""

    start: int
    end: int
    near_score: bool


def number_marks(critique: str) -> list[NumberMark]:
    """Every number and number word of the raw ``critique`` (not normalised: offsets index the text shown).

    >>> [(critique[m.start:m.end], m.near_score) for critique in ["Two boats; I rated it 7."]
    ...  for m in number_marks(critique)]
    [('Two', False), ('7', True)]
    """
    marks = []
    for match in _RAW_NUMBER.finditer(critique):
        before = _SENTENCE_END.split(critique[max(0, match.start() - 200) : match.start()])[-1]
        after = _SENTENCE_END.split(critique[match.end() : match.end() + 200])[0]
        window = " ".join(before.split()[-_CONTEXT_WORDS:] + ["#"] + after.split()[:_CONTEXT_WORDS])
        near = bool(_SCORE_CONTEXT.search(window) or _SCORE_CONTEXT.search(match.group(0)))
        marks.append(NumberMark(match.start(), match.end(), near))
    return marks
