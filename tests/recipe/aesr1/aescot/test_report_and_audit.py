"""Statistics report (hand-counted) and the self-contained audit page."""

from __future__ import annotations

import json

import pytest
from aescot_fakes import draw_image

from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.audit_page import audit_html, audit_sample
from recipe.aesr1.aescot.statistics import (
    format_statistics,
    length_summary,
    run_statistics,
)


def record(id_: str, level: str, status: str, reasons=(), critique="one two three") -> rr.RecordResult:
    score = {"bad": 0.2, "fair": 0.5, "good": 0.8}[level]
    return rr.RecordResult(f"ava/{id_}", "ava", id_, "train", score, score * 10, level, 1, status=status,
                           reasons=list(reasons), critique=critique,
                           verdicts={"leakage": "pass", "alignment": "pass", "factual": "pass"})


RESULTS = [
    record("b1", "bad", rr.KEPT, critique="a b"),
    record("b2", "bad", rr.REJECTED, [rr.LEAKAGE, rr.TRUNCATED]),
    record("f1", "fair", rr.KEPT, critique="a b c d"),
    record("f2", "fair", rr.SURPLUS),
    record("f3", "fair", rr.REJECTED, [rr.GENERATION_FAILED], critique=None),
    record("g1", "good", rr.REJECTED, [rr.MISALIGNED]),
]


def test_statistics_counts_by_hand():
    stats = run_statistics(RESULTS, {"bad": 2, "fair": 1, "good": 1}, {"bad": 5, "fair": 9, "good": 1}, rounds=2)
    assert stats["levels"]["bad"] == {"target": 2, "available": 5, "sampled": 2, "kept": 1, "rejected": 1,
                                      "surplus": 0, "shortfall": 1}
    assert stats["levels"]["fair"]["surplus"] == 1 and stats["levels"]["fair"]["shortfall"] == 0
    assert stats["totals"]["kept"] == 2 and stats["totals"]["sampled"] == 6
    assert stats["rejections_by_reason"][rr.LEAKAGE] == 1
    assert stats["rejections_by_reason"][rr.TRUNCATED] == 1  # a record with two reasons counts in both
    assert stats["first_reason"] == {rr.LEAKAGE: 1, rr.GENERATION_FAILED: 1, rr.MISALIGNED: 1}
    assert stats["rejections_by_reason_and_level"][rr.MISALIGNED] == {"bad": 0, "fair": 0, "good": 1}
    assert stats["critique_words"]["kept"] == length_summary([2, 4])
    assert stats["critique_words"]["all"]["count"] == 5  # the failed generation has no critique
    json.dumps(stats)  # serialisable as written to stats.json
    table = format_statistics(stats)
    assert "leakage" in table and "shortfall" in table


def test_length_summary_quantiles():
    summary = length_summary([1, 2, 3, 4, 5])
    assert (summary["min"], summary["p25"], summary["median"], summary["p75"], summary["max"]) == (1, 2, 3, 4, 5)
    assert summary["mean"] == 3.0 and summary["count"] == 5
    assert length_summary([]) == {"count": 0}


def test_audit_sample_is_seeded_and_bounded():
    many = [record(f"k{i}", "fair", rr.KEPT) for i in range(30)] + [record(f"r{i}", "bad", rr.REJECTED, [rr.LEAKAGE])
                                                                     for i in range(4)]
    first, again, other = audit_sample(many, 5, seed=1), audit_sample(many, 5, seed=1), audit_sample(many, 5, seed=2)
    assert len(first[rr.KEPT]) == 5 and len(first[rr.REJECTED]) == 4  # fewer rejected than asked: all of them
    assert [r.id for r in first[rr.KEPT]] == [r.id for r in again[rr.KEPT]]
    assert [r.id for r in first[rr.KEPT]] != [r.id for r in other[rr.KEPT]]


def test_audit_page_embeds_images_and_escapes_text():
    results = [record("b1", "bad", rr.KEPT, critique="Soft <script>alert(1)</script> light"),
               record("g1", "good", rr.REJECTED, [rr.MISALIGNED])]
    results[1].predicted_level = "bad"
    results[1].verdicts["alignment"] = rr.REJECT
    images = {"ava/b1": {"bytes": draw_image("red"), "path": None}, "ava/g1": {"bytes": None, "path": "/missing.png"}}
    page = audit_html(results, images, per_group=5, seed=0)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('src="data:image/jpeg;base64,') == 1
    assert "image unreadable" in page  # the missing file is reported on its card, not a crash
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "judge says bad, true level good" in page
    assert "true score 0.80" in page


@pytest.mark.parametrize("status", [rr.KEPT, rr.REJECTED])
def test_records_serialise_to_json(status):
    assert json.loads(json.dumps(record("x", "fair", status).to_json()))["status"] == status


def test_audit_page_marks_numbers_near_score_words():
    critique = "Two boats at 1/250 s; I rated it 7 in my head, three quarters of the way to perfect. <b>"
    page = audit_html([record("g1", "good", rr.KEPT, critique=critique)], {}, per_group=5, seed=0)
    assert '<mark class="near">7</mark>' in page  # a private rating
    assert '<mark class="near">three quarters</mark>' in page  # a fraction of a whole
    assert '<span class="num">Two</span>' in page and '<span class="num">1/250</span>' in page  # scene, shutter
    assert 'perfect</mark>. &lt;b&gt;' not in page and "perfect. &lt;b&gt;" in page  # still escaped


def test_statistics_report_the_cost_per_record_of_each_stage():
    from recipe.aesr1.endpoints.request_log import LogEntry

    def entry(attempts, seconds, prompt, completion):
        return LogEntry("k", "leakage_judge", "ava/x", "ok", "no", "stop", attempts, None, "m", seconds, prompt,
                        completion)

    costs = {"leakage_judge": [entry(1, 0.5, 100, 1), entry(3, 1.5, 120, 1), entry(1, 1.0, None, None)]}
    stats = run_statistics(RESULTS, {"bad": 1, "fair": 1, "good": 1}, {"bad": 2, "fair": 3, "good": 1}, 1, costs)
    cost = stats["costs"]["leakage_judge"]
    assert cost == {"records": 3, "requests": 5, "seconds": 3.0, "prompt_tokens": 220, "completion_tokens": 2,
                    "usage_reported": 2, "per_record": {"requests": round(5 / 3, 4), "seconds": 1.0,
                                                        "prompt_tokens": round(220 / 3, 4),
                                                        "completion_tokens": round(2 / 3, 4)}}
    table = format_statistics(stats)
    assert "cost per record asked" in table and "leakage_judge" in table
    assert "costs" in run_statistics(RESULTS, {}, {}, 1) and run_statistics(RESULTS, {}, {}, 1)["costs"] == {}
