"""The rule-based expert: its critiques follow the pictures, keep the score private, and the REAL AesCoT
pipeline (client, filters, request log, SFT export, configs/aescot.yaml) runs unchanged against it."""

from __future__ import annotations

import asyncio
import io
import json
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from recipe.aesr1.aescot.config import load_config
from recipe.aesr1.aescot.leakage import find_leakage
from recipe.aesr1.aescot.outputs import write_outputs
from recipe.aesr1.aescot.pipeline import run
from recipe.aesr1.aescot.requests import (
    factual_messages,
    leakage_messages,
    parse_unsupported_claims,
)
from recipe.aesr1.endpoints.chat_client import ChatEndpoint
from recipe.aesr1.endpoints.config import EndpointConfig
from recipe.aesr1.endpoints.data_urls import data_url
from recipe.aesr1.miniature.critique_grammar import (
    all_critique_texts,
    claims_for,
    write_critique,
)
from recipe.aesr1.miniature.expert_server import answer
from recipe.aesr1.miniature.image_statistics import measure
from recipe.aesr1.miniature.judges import implied_level, unsupported_claims
from reward_fns import parse_answer

REPO = Path(__file__).resolve().parents[4]


def _image(row: dict) -> Image.Image:
    return Image.open(row["image"]["path"])


def _url(row: dict) -> str:
    return data_url(Path(row["image"]["path"]).read_bytes())


def _row_of_level(rows: list[dict], level: str) -> dict:
    bounds = {"bad": (0.0, 0.4), "fair": (0.4, 0.7), "good": (0.7, 1.01)}[level]
    return next(r for r in rows if bounds[0] <= r["score"] < bounds[1])


def test_statistics_follow_the_sample_releases_quality(sample_table):
    _, rows = sample_table
    stats = [measure(_image(r)) for r in rows]
    scores = [r["score"] for r in rows]
    assert np.corrcoef([s.saturation for s in stats], scores)[0, 1] > 0.95
    assert np.corrcoef([s.grain for s in stats], scores)[0, 1] < -0.9
    # sample_release puts the subject of pictures with latent quality > 0.5 on the left third
    assert all(abs(s.subject_x - 1 / 3) < 0.03 for s, score in zip(stats, scores) if score >= 0.7)


def test_critiques_are_short_varied_and_never_leak_the_score(sample_table):
    _, rows = sample_table
    critiques = []
    for i, row in enumerate(rows[:40]):
        stats = measure(_image(row))
        for score in (0.05, 0.37, 0.5, 0.73, 0.99, row["score"]):
            level = "bad" if score < 0.4 else "fair" if score < 0.7 else "good"
            critique = write_critique(stats, level, random.Random(i))
            assert not find_leakage(critique, score).leaked, critique
            assert 35 <= len(critique.split()) <= 70, critique
            critiques.append(critique)
    assert len(set(critiques)) > len(critiques) / 3  # seeded variety, not one fixed sentence
    grammar = " ".join(all_critique_texts())
    assert set(" ".join(critiques).split()) <= set(grammar.split())  # every word is in the vocabulary


def test_claims_follow_measurements_and_level(sample_table):
    _, rows = sample_table
    good, bad = _row_of_level(rows, "good"), _row_of_level(rows, "bad")
    assert claims_for(measure(_image(good)), "good")["saturation"] == "vivid"
    assert claims_for(measure(_image(bad)), "bad")["saturation"] == "muted"
    assert claims_for(measure(_image(bad)), "bad")["grain"] == "heavy"


def test_alignment_judge_reads_the_level_the_wording_implies(sample_table):
    _, rows = sample_table
    for level in ("bad", "fair", "good"):
        row = _row_of_level(rows, level)
        assert implied_level(write_critique(measure(_image(row)), level, random.Random(0))) == level
    # the dimensions of a poor picture contradict a glowing judgment: the critique no longer reads "good"
    contradicting = write_critique(measure(_image(_row_of_level(rows, "bad"))), "bad", random.Random(0))
    contradicting = contradicting.rsplit(". ", 1)[0] + ". Overall, a strong and accomplished picture."
    assert implied_level(contradicting) != "good"
    assert implied_level("A photograph of a field.") == "fair"  # no evaluative phrase


def test_factual_judge_over_http_rejects_a_planted_critique_and_passes_the_experts(sample_table, expert_server):
    _, rows = sample_table
    row = _row_of_level(rows, "bad")
    stats = measure(_image(row))
    honest = write_critique(stats, "bad", random.Random(3))
    wrong_hue = next(h for h in ("red", "blue") if h != stats.hue)
    planted = honest.split(". ")
    planted[3] = f"Vivid {wrong_hue} tones fill the frame"  # the picture is muted and of another hue
    planted = ". ".join(planted)
    config = EndpointConfig(base_url=expert_server.url, model="m", api_key_env=None, max_retries=0, temperature=0.0)

    async def judge(critique: str) -> list[str]:
        async with ChatEndpoint(config, "factual_judge") as endpoint:
            result = await endpoint.complete(factual_messages(critique, _url(row)), parse_unsupported_claims)
        return parse_unsupported_claims(result.text)

    assert asyncio.run(judge(honest)) == []
    assert asyncio.run(judge(planted)) == [f"Vivid {wrong_hue} tones fill the frame."]
    assert unsupported_claims("The subject sits in the centre, a static frame.", stats) == (
        [] if 0.39 <= stats.subject_x < 0.61 else ["The subject sits in the centre, a static frame."])


def test_real_pipeline_runs_against_the_server_and_exports_a_balanced_sft_set(sample_table, expert_server, tmp_path):
    table, rows = sample_table
    config = load_config(str(REPO / "configs" / "aescot.yaml"), [
        f"expert.base_url={expert_server.url}", "expert.api_key_env=null", "expert.model=miniature",
        f"sampling.inputs=[{table}]", "sampling.preset=null", "sampling.size=24",
        f"output.dir={tmp_path / 'aescot'}", "show_progress=false",
    ])
    result = run(config)
    paths, stats = write_outputs(config, result)

    assert {level: s["kept"] for level, s in stats["levels"].items()} == {"bad": 8, "fair": 8, "good": 8}
    assert stats["rejections_by_reason"]["leakage"] == 0 and stats["rejections_by_reason"]["factual_error"] == 0
    assert expert_server.requests["generate"] == len(result.results) and expert_server.requests["bad_request"] == 0
    # The leakage judge is on by default, on the expert's endpoint; its cost per record is in stats.json.
    judged = [r for r in result.results if r.verdicts.get("leakage_judge") not in (None, "skipped")]
    assert expert_server.requests["leakage_judge"] == len(judged) > 0
    cost = stats["costs"]["leakage_judge"]
    assert cost["records"] == len(judged) and cost["requests"] == len(judged)  # no retry was needed
    assert cost["per_record"]["completion_tokens"] == 1.0 and cost["seconds"] > 0  # the server reports usage
    assert json.loads(paths.stats.read_text())["costs"] == stats["costs"]
    sft = pq.read_table(paths.sft).to_pylist()
    assert Counter(r["level"] for r in sft) == {"bad": 8, "fair": 8, "good": 8}
    for row in sft:
        answer = row["messages"][1]["content"]
        parsed = parse_answer(answer)
        assert parsed.format_ok and parsed.score == round(row["score"], 2), answer
    critiques = [r.critique for r in result.kept]
    assert len(set(critiques)) == len(critiques)
    # resumable like any expert: a second run is answered from the request log alone
    before = sum(expert_server.requests.values())
    assert run(config).requests_made == 0 and sum(expert_server.requests.values()) == before


@pytest.mark.parametrize(("critique", "verdict"), [
    ("Warm light rakes across the field; overall a good photograph.", "no"),
    ("Warm light rakes across the field; I rated it 7 in my head.", "yes"),  # a private rating
    ("Warm light, about three quarters of the way to perfect.", "yes"),  # a fraction of a whole
])
def test_the_leakage_judge_reads_the_critique_without_the_score(critique, verdict):
    assert answer(leakage_messages(critique)) == ("leakage_judge", verdict)


def test_unknown_request_is_a_400_with_the_reason(expert_server):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "Tell me a joke."}]}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(expert_server.url + "/chat/completions", body, headers)
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400 and "aescot/prompts.py" in error.value.read().decode()
    assert expert_server.requests["bad_request"] == 1


def test_command_line_server_answers_on_its_port():
    process = subprocess.Popen([sys.executable, "-m", "recipe.aesr1.miniature.expert_server", "--port", "0"],
                               cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split()[-1]
        with urllib.request.urlopen(url + "/models", timeout=10) as reply:
            assert json.load(reply)["data"][0]["id"] == "aesr1-miniature-expert"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_image_too_small_is_refused():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    with pytest.raises(ValueError, match="too small"):
        measure(Image.open(buffer))
