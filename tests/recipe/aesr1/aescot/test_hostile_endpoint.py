"""AesCoT against a hostile endpoint and a new user's inputs: no key on disk or screen, no oversized
critique in the SFT set, the pixel budget on every request, a converted folder read as documented."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
from aescot_fakes import TABLE_ROWS, draw_image, write_table

from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.cli import main
from recipe.aesr1.aescot.config import config_to_yaml
from recipe.aesr1.aescot.pipeline import run
from recipe.aesr1.aescot.sampling import expand_inputs

SECRET = "sk-hostile-secret-4242"


def _grep_secret(folder) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]


def test_an_echoed_key_reaches_no_file_and_no_terminal(chat_server, aescot_config, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)
    script = {"generate/ok-b1": ["echo:400"], "alignment/ok-f1": ["echo:400"], "factual/ok-g1": ["echo:400"]}
    with chat_server(script=script) as server:
        config_file = tmp_path / "c.yaml"
        config_file.write_text(config_to_yaml(aescot_config(server.url, "run1")))
        assert main(["--config", str(config_file), "--quiet"]) == 0
        refused = tmp_path / "c401.yaml"
        refused.write_text(config_to_yaml(aescot_config(server.url, "run2")))
        server.script.update({f"generate/{k}": ["echo:401"] * 10 for k in TABLE_ROWS})
        assert main(["--config", str(refused), "--quiet"]) == 3
    assert server.authorizations == {f"Bearer {SECRET}"}  # the key was sent on every request
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err and "[REDACTED]" in captured.err
    records = [json.loads(line) for line in (tmp_path / "run1" / "records.jsonl").read_text().splitlines()]
    errors = {r["id"]: r["errors"] for r in records if r["errors"]}
    assert "[REDACTED]" in errors["ok-b1"]["generate"] and "[REDACTED]" in errors["ok-f1"]["alignment"]
    assert _grep_secret(tmp_path / "run1") == [] and _grep_secret(tmp_path / "run2") == []


def test_a_critique_above_the_token_budget_is_rejected_even_with_finish_reason_stop(
    chat_server, aescot_config, monkeypatch
):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)
    with chat_server(script={"generate/ok-g1": ["huge"]}) as server:
        result = run(aescot_config(server.url))
    record = next(r for r in result.results if r.id == "ok-g1")
    assert record.finish_reason == "stop" and len(record.critique) > 200_000
    assert record.reasons == [rr.TOO_LONG] and record.status == rr.REJECTED
    assert "budget 1024" in record.errors["length"]
    assert "ok-g1" not in {r.id for r in result.kept}


def test_images_are_sent_within_the_pixel_budget(chat_server, tmp_path, aescot_config, monkeypatch):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)
    folder = tmp_path / "big"
    folder.mkdir()
    write_table(folder / "part-0.parquet", [
        {"id": "ok-big", "score": 0.8, "color": "blue", "bytes": draw_image("blue", size=(1200, 900))},
        {"id": "ok-small", "score": 0.2, "color": "red"},
    ])
    with chat_server() as server:
        run(aescot_config(server.url, overrides=(f"sampling.inputs=[{folder}]", "max_pixels=100000")))
    sizes = {r["key"].split("/")[0] + "/" + r["key"].split("/")[2]: r["image_sizes"] for r in server.requests}
    assert sizes["generate/ok-big"] == sizes["factual/ok-big"] == [(364, 252)]  # budget_size(1200, 900, 1e5)
    assert sizes["generate/ok-small"] == [(48, 48)]  # within budget: sent as stored


def _converted_folder(root, prepared_table):
    """What aesr1-prep writes: table/ (evaluation layout), rl/ and sft/ (other layouts), a manifest."""
    for sub in ("table", "rl", "sft"):
        (root / sub).mkdir(parents=True)
    for shard in prepared_table.glob("*.parquet"):
        (root / "table" / shard.name).write_bytes(shard.read_bytes())
    pq.write_table(pa.table({"data_source": ["ava"], "prompt": ["x"]}), root / "rl" / "train-00000-of-00001.parquet")
    pq.write_table(pa.table({"messages": ["x"]}), root / "sft" / "train-00000-of-00001.parquet")
    (root / "manifest.json").write_text("{}")
    return root


def test_a_converted_folder_is_read_through_its_table_layout(prepared_table, tmp_path, capsys):
    root = _converted_folder(tmp_path / "data" / "ava", prepared_table)
    assert expand_inputs([str(root)]) == sorted(str(p) for p in (root / "table").glob("*.parquet"))
    # The README's own command, with --dry-run.
    assert main([f"sampling.inputs=[{root}]", "sampling.preset=aescot-3k", "--dry-run"]) == 0
    assert "bad   target   1000  available       6" in capsys.readouterr().out


def test_a_wrong_input_path_says_what_was_expected(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    pq.write_table(pa.table({"data_source": ["ava"]}), tmp_path / "rl.parquet")
    for bad in (tmp_path / "nowhere", tmp_path / "empty", tmp_path / "rl.parquet"):
        assert main([f"sampling.inputs=[{bad}]", "--dry-run"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
        assert "expected a folder converted by aesr1-prep" in err and str(bad) in err


# Leaks the expert may write (id -> sentence appended to its critique), in forms the old filter missed.
PLANTED_LEAKS = {
    "ok-b1": "It earns a 12.",  # score 0.12 on the hundred-point scale, after an evaluative verb
    "ok-f1": "It is a solid 4.",  # 0.45 rounded on the ten-point scale
    "ok-b2": "On a ten-point scale it sits low.",  # a scale phrase with no number
    "ok-b3": "The value shown to me seems fair.",  # a reference to the given value
    "ok-f2": "Roughly 0,52 in my book.",  # a decimal comma
    "ok-f3": "Somewhere near the 60th percentile.",  # a percentile
    "ok-g2": "Eight tenths of the way to perfect.",  # a verbal fraction
    "ok-g3": "It comes in at 0.\u200b88.",  # an invisible character inside the number
}
# Photographic prose near the score: must not cost the record.
PLANTED_CLEAN = {
    "ok-b4": "A 1/10 of a second exposure blurs the walkers.",
    "ok-f4": "The 0.7 s exposure smooths the water.",
    "ok-g1": "The 7 figures on the left balance the tree.",
    "ok-g4": "The sense of scale is striking.",
}


def test_planted_leaks_never_reach_the_sft_set(chat_server, aescot_config, monkeypatch):
    from recipe.aesr1.aescot.outputs import write_outputs

    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)
    config = aescot_config("unused")
    with chat_server(suffixes={**PLANTED_LEAKS, **PLANTED_CLEAN}) as server:
        for endpoint in (config.expert, config.alignment_judge, config.factual_judge, config.leakage_judge):
            endpoint.base_url = server.url
        result = run(config)
    paths, _ = write_outputs(config, result)
    exported = {row["id"] for row in pq.read_table(paths.sft, columns=["id"]).to_pylist()}
    by_id = {r.id: r for r in result.results}
    for id_ in PLANTED_LEAKS:
        assert by_id[id_].reasons == [rr.LEAKAGE] and id_ not in exported, (id_, by_id[id_].leakage)
    for id_ in PLANTED_CLEAN:
        assert by_id[id_].status == rr.KEPT and id_ in exported, (id_, by_id[id_].leakage)


def test_the_leakage_judge_adds_its_verdict(chat_server, aescot_config, monkeypatch):
    monkeypatch.setenv("AESCOT_TEST_KEY", SECRET)
    judge = ["filters.leakage_judge=true", "leakage_judge.max_retries=2", "leakage_judge.backoff_base_s=0.005",
             "leakage_judge.backoff_max_s=0.02", "leakage_judge.timeout_s=5"]
    subtle = {"ok-g1": "Few pictures of this kind rank near the top."}  # no rule sees a number here
    with chat_server(suffixes=subtle, script={"leakage_judge/ok-g2": ["500"] * 10}) as server:
        result = run(aescot_config(server.url, overrides=tuple(judge)))
    by_id = {r.id: r for r in result.results}
    assert by_id["ok-g1"].reasons == [rr.LEAKAGE] and by_id["ok-g1"].verdicts["leakage"] == rr.PASS
    assert by_id["ok-g1"].verdicts["leakage_judge"] == rr.REJECT and by_id["ok-g1"].leakage[-1]["code"] == "judge"
    assert by_id["ok-g2"].reasons == [rr.LEAKAGE_JUDGE_FAILED]  # the judge's retries ran out
    assert by_id["ok-g3"].status == rr.KEPT and by_id["ok-g3"].verdicts["leakage_judge"] == rr.PASS
    assert by_id["leak-b"].verdicts["leakage_judge"] == rr.SKIPPED  # short-circuited by the rules
