"""``aesr1-eval`` run / summarize / compare from the command line, against the local fake judge."""

import json

import pytest

from recipe.aesr1.evaluation import eval_cli


def _table(tmp_path, helpers, shift=0.0):
    labels = [0.15, 0.35, 0.5, 0.65, 0.85]
    rows = [
        {
            "id": f"a{i}",
            "dataset": "ava",
            "score": lab,
            "image_bytes": helpers.png_bytes(helpers.red_for(min(1, lab + shift * (i % 2)))),
        }
        for i, lab in enumerate(labels)
    ]
    path = tmp_path / f"ava_{shift}.parquet"
    helpers.write_table(path, rows)
    return path


def _run(url, table, out, *extra):
    backend = f"--backend openai --model judge --base-url {url} --api-key k --image-format png".split()
    options = "--n-resamples 30 --max-new-tokens 32".split()
    return eval_cli.main(["run", *backend, "--data", str(table), "--out", str(out), *options, *extra])


def test_run_summarize_compare(fake_judge, tmp_path, helpers, capsys):
    url, _ = fake_judge
    assert _run(url, _table(tmp_path, helpers), tmp_path / "good") == 0
    assert _run(url, _table(tmp_path, helpers, shift=0.3), tmp_path / "noisy") == 0
    good = json.loads((tmp_path / "good" / "metrics.json").read_text())
    assert good["benchmarks"]["ava"]["values"]["plcc"] == pytest.approx(1.0)  # the judge reads labels back
    assert "| judge |" in capsys.readouterr().out

    summarize = f"summarize --out {tmp_path / 'noisy'} --plcc logistic --name noisy --n-resamples 30"
    assert eval_cli.main(summarize.split()) == 0
    summary = json.loads((tmp_path / "noisy" / "metrics.json").read_text())
    assert summary["plcc_mode"] == "logistic" and "plcc_logistic" in summary["benchmarks"]["ava"]["values"]
    assert "4-parameter logistic" in (tmp_path / "noisy" / "table.md").read_text()

    compare = f"compare --run base={tmp_path / 'noisy'} --run ours={tmp_path / 'good'} --out {tmp_path / 'cmp'}"
    assert eval_cli.main([*compare.split(), "--n-resamples", "30"]) == 0
    comparison = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    plcc_test = next(t for t in comparison["paired_tests"] if t["metric"] == "plcc")
    assert plcc_test["model"] == "ours" and plcc_test["delta"] > 0 and plcc_test["n_common_images"] == 5
    text = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "| base |" in text and "| ours |" in text and "Paired bootstrap vs base" in text


def test_help_and_bad_run_argument():
    with pytest.raises(SystemExit) as exit_info:
        eval_cli.main(["run", "--help"])
    assert exit_info.value.code == 0
    with pytest.raises(SystemExit, match="NAME=FOLDER"):
        eval_cli.main(["compare", "--run", "nofolder", "--out", "x"])


def test_bootstrap_level_and_resamples_are_options_recorded_in_metrics(fake_judge, tmp_path, helpers):
    url, judge = fake_judge
    assert _run(url, _table(tmp_path, helpers), tmp_path / "run", "--confidence", "0.8") == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["bootstrap"] == {"n_resamples": 30, "seed": 0, "confidence": 0.8}
    assert metrics["benchmarks"]["ava"]["confidence"] == 0.8 and metrics["benchmarks"]["ava"]["n_resamples"] == 30
    before = len(judge.requests)
    with pytest.raises(SystemExit, match="confidence"):  # refused before any image is sent
        _run(url, _table(tmp_path, helpers, shift=0.1), tmp_path / "bad", "--confidence", "95")
    assert len(judge.requests) == before


def test_run_labels_its_entropy_as_not_table3(fake_judge, tmp_path, helpers):
    url, _ = fake_judge
    assert _run(url, _table(tmp_path, helpers), tmp_path / "run", "--top-logprobs", "4", "--temperature", "0.6") == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["average_token_entropy"]["label"] == "T=0.6, test images, top_k"
    note = (tmp_path / "run" / "table.md").read_text()
    assert "(T=0.6, test images, top_k" in note and "aesr1-eval entropy" in note and "(Table 3)" not in note


def test_entropy_command_on_a_tiny_vlm(tiny_vlm, tmp_path, helpers, capsys):
    rows = [{"id": f"t{i}", "dataset": "ava", "split": "train", "score": 0.5, "image_bytes": helpers.png_bytes(40 * i)}
            for i in range(4)]
    helpers.write_table(tmp_path / "ava.parquet", rows)
    out = tmp_path / "entropy.json"
    argv = f"entropy --backend hf --model {tiny_vlm} --device cpu --dtype float32 --data {tmp_path / 'ava.parquet'}"
    assert eval_cli.main([*argv.split(), "--n-prompts", "2", "--max-new-tokens", "4", "--out", str(out)]) == 0
    figure = json.loads(out.read_text())["average_token_entropy"]
    assert figure["kind"] == "full_vocab" and figure["temperature"] == 1.0 and figure["n_sequences"] == 2
    assert 0 < figure["token_mean"] and "T=1, 2 RL training prompts" in capsys.readouterr().out
