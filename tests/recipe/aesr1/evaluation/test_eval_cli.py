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
