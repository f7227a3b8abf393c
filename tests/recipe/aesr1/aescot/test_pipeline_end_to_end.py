"""The whole pipeline against a real chat-completions server on 127.0.0.1: every filter, retries,
outputs, and a second run that makes no request."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from aescot_fakes import EXPECTED_REASONS, FAILURE_SCRIPT, TABLE_ROWS, draw_image

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.outputs import write_outputs
from recipe.aesr1.aescot.pipeline import run
from recipe.aesr1.aescot.statistics import format_statistics

SECRET = "sk-test-secret-never-on-disk"


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)


def test_each_defect_is_rejected_with_its_reason_and_clean_records_are_kept(chat_server, aescot_config):
    with chat_server(script=FAILURE_SCRIPT) as server:
        result = run(aescot_config(server.url))
    by_id = {r.id: r for r in result.results}
    assert set(by_id) == set(TABLE_ROWS)  # size 30 > 20 rows: all sampled; other split/dataset ignored
    for id_, record in by_id.items():
        assert record.reasons == EXPECTED_REASONS.get(id_, []), id_
        assert record.status == (rr.REJECTED if id_ in EXPECTED_REASONS else rr.KEPT), id_
    # Transient failures were retried to success; a key is answered twice only when its reply was
    # unusable (the garbage judge reply is retried until the retries run out).
    assert by_id["flaky-g"].status == rr.KEPT
    answered_twice = {key.split("/")[0] + "/" + key.split("/")[2]: n for key, n in server.ok_counts().items() if n > 1}
    assert answered_twice == {"alignment/garbage-f": 3}
    assert "InternalServerError" in by_id["fail-f"].errors["generate"]
    assert by_id["wrongcolor-b"].unsupported_claims == ["The frame is dominated by red tones."]  # it is green
    assert by_id["misaligned-f"].predicted_level == "bad"
    assert by_id["leak-b"].verdicts == {"leakage": "reject", "leakage_judge": "skipped", "alignment": "skipped",
                                        "factual": "skipped"}  # the judges run after the rules, on by default
    assert result.shortfall() == {"bad": 6, "fair": 6, "good": 5}  # 4, 4 and 5 clean records, target 10
    assert server.authorizations == {f"Bearer {SECRET}"}


def test_outputs_are_sft_parquet_stats_verdicts_and_audit_page(chat_server, aescot_config):
    config = aescot_config("unused")
    with chat_server(script=FAILURE_SCRIPT) as server:
        config.expert.base_url = config.alignment_judge.base_url = config.factual_judge.base_url = server.url
        config.leakage_judge.base_url = server.url
        result = run(config)
    paths, stats = write_outputs(config, result)

    table = pq.read_table(paths.sft).to_pylist()
    assert [row["id"] for row in table] == [r.id for r in result.kept]
    for row in table:
        score, color = TABLE_ROWS[row["id"]]
        user, assistant = row["messages"]
        assert user == {"role": "user", "content": SCORING_PROMPT}
        assert assistant["role"] == "assistant"
        assert assistant["content"].startswith("<think>The frame is dominated by")
        assert assistant["content"].endswith(f"</think><answer>{score:.2f}</answer>")  # the TRUE score
        assert row["images"] == [{"bytes": draw_image(color)}]  # embedded: the input table has no paths

    records = [json.loads(line) for line in paths.records.read_text().splitlines()]
    assert Counter(r["status"] for r in records) == {"kept": 13, "rejected": 7}
    assert stats["levels"]["fair"] == {"target": 10, "available": 8, "sampled": 8, "kept": 4, "rejected": 4,
                                       "surplus": 0, "shortfall": 6}
    assert stats["rejections_by_reason"]["leakage"] == 1
    assert stats["rejections_by_reason_and_level"]["truncated"] == {"bad": 0, "fair": 0, "good": 1}
    assert stats["critique_words"]["kept"]["count"] == 13
    # The leakage judge runs by default, on every record the rules passed; the fake reports 1 + 3 tokens.
    judged = [r for r in result.results if r.verdicts["leakage_judge"] not in ("skipped", "off")]
    cost = stats["costs"]["leakage_judge"]
    assert cost["records"] == len(judged) == sum(k["key"].startswith("leakage_judge/") for k in server.requests)
    assert cost["requests"] == len(judged) and cost["usage_reported"] == len(judged)
    assert cost["per_record"]["prompt_tokens"] == 1 and cost["per_record"]["completion_tokens"] == 3
    assert 0 < cost["seconds"] < 60 and cost["per_record"]["seconds"] == round(cost["seconds"] / len(judged), 4)
    assert stats["costs"]["generate"]["requests"] > stats["costs"]["generate"]["records"]  # retried requests count
    assert "cost per record asked" in format_statistics(stats) and "leakage_judge" in format_statistics(stats)
    assert json.loads(paths.stats.read_text()) == stats

    page = paths.audit.read_text()
    assert page.count('<img src="data:image/jpeg;base64,') == 10  # 5 kept + 5 rejected, images inline
    assert "http://" not in page and "https://" not in page  # self-contained
    assert "reasons:" in page and "judge says" in page

    for path in Path(config.output.dir).iterdir():  # the key is never written, only the variable name
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "AESCOT_TEST_KEY" in paths.config.read_text()


def test_second_run_makes_no_request_and_gives_the_same_set(chat_server, aescot_config):
    with chat_server(script=FAILURE_SCRIPT) as server:
        config = aescot_config(server.url)
        first = run(config)
        requests_after_first = len(server.requests)
        second = run(config)
        assert len(server.requests) == requests_after_first
    assert second.requests_made == 0
    assert [r.to_json() for r in second.results] == [r.to_json() for r in first.results]


def test_rounds_top_up_short_levels_to_the_exact_target(chat_server, aescot_config):
    with chat_server(script=FAILURE_SCRIPT) as server:
        result = run(aescot_config(server.url, overrides=("sampling.size=9", "sampling.oversample=1.0")))
    kept = Counter(r.level for r in result.kept)
    assert kept == {"bad": 3, "fair": 3, "good": 3}
    assert result.shortfall() == {"bad": 0, "fair": 0, "good": 0}
    # Round 1 drew exactly 3 per level; any level that lost records was topped up in later rounds.
    assert Counter(r.level for r in result.results if r.round == 1) == {"bad": 3, "fair": 3, "good": 3}
    if any(r.status == rr.REJECTED for r in result.results):
        assert result.rounds > 1


def test_disabled_filters_are_marked_off_and_make_no_judge_calls(chat_server, aescot_config):
    overrides = ("filters.alignment=false", "filters.factual=false")
    with chat_server(script=FAILURE_SCRIPT) as server:
        result = run(aescot_config(server.url, overrides=overrides))
    assert all(not r["key"].startswith(("alignment/", "factual/")) for r in server.requests)
    by_id = {r.id: r for r in result.results}
    assert by_id["ok-b1"].verdicts == {"leakage": "pass", "leakage_judge": "pass", "alignment": "off", "factual": "off"}
    assert by_id["misaligned-f"].status == rr.KEPT  # nothing checks alignment now


def test_without_short_circuit_every_judge_runs_and_all_reasons_are_kept(chat_server, aescot_config):
    with chat_server() as server:
        result = run(aescot_config(server.url, overrides=("filters.short_circuit=false",)))
    by_id = {r.id: r for r in result.results}
    assert by_id["leak-b"].verdicts == {"leakage": "reject", "leakage_judge": "pass", "alignment": "pass",
                                        "factual": "pass"}  # the fake judge sees no rank "near the top" in it
    assert by_id["long-g"].verdicts["factual"] == "pass"
