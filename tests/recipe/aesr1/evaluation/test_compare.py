"""``compare_runs`` on run folders written here: label checks, common images, minimum n, p floor."""

import json

import numpy as np
import pytest

from recipe.aesr1.evaluation.bootstrap import MIN_PAIRED_IMAGES
from recipe.aesr1.evaluation.compare import compare_runs
from recipe.aesr1.evaluation.metrics import plcc
from recipe.aesr1.evaluation.runner import EvaluationSettings
from recipe.aesr1.scoring.backends.base import Sample
from recipe.aesr1.scoring.records import PredictionStore, sample_record

SETTINGS = EvaluationSettings(n_resamples=99)


def write_run(folder, labels, preds, ids=None, temperature=0.6):
    """A run folder as ``aesr1-eval run`` leaves it; a pred of None is an unparseable answer."""
    folder.mkdir(parents=True)
    header = {"model": folder.name, "backend": "hf", "prompt_sha256": "x", "split": "test",
              "sampling": {"temperature": temperature}}
    (folder / "run.json").write_text(json.dumps(header))
    store = PredictionStore(folder / "predictions" / "ava.jsonl")
    for i, (label, pred) in enumerate(zip(labels, preds, strict=True)):
        answer = "no number" if pred is None else f"<think>fine light</think><answer>{pred}</answer>"
        sample = Sample(answer, 4, 4.0, "full_vocab")
        store.append({"id": (ids or [f"a{j}" for j in range(len(labels))])[i], "dataset": "ava", "label": label,
                      "image_status": "ok", "image_detail": "", "seed": i, "samples": [sample_record(sample)]})
    return folder


def _labels(n, seed=0):
    return [round(float(v), 4) for v in np.random.default_rng(seed).uniform(0, 1, n)]


def test_runs_with_different_labels_are_refused(tmp_path):
    labels = _labels(40)
    base = write_run(tmp_path / "base", labels, [round(v, 2) for v in labels])
    permuted = list(np.random.default_rng(1).permutation(labels))  # same images, shuffled labels
    other = write_run(tmp_path / "other", permuted, [round(v, 2) for v in labels])
    with pytest.raises(ValueError, match=r"ava/a\d+: label .* in run 'other'"):
        compare_runs({"base": base, "other": other}, tmp_path / "cmp", SETTINGS)


def test_rows_on_common_images_beside_the_test(tmp_path):
    labels = _labels(300)
    good = [round(v, 2) for v in labels]
    rng = np.random.default_rng(3)
    noisy = [round(float(np.clip(v + rng.normal(0, 0.25), 0, 1)), 2) for v in labels]
    # the model fails on the 60 hardest-to-get-right images: its own rows use 240, the test 240 common
    fails = set(np.argsort(np.abs(np.array(noisy) - np.array(labels)))[-60:])
    model = [None if i in fails else p for i, p in enumerate(noisy)]
    base = write_run(tmp_path / "base", labels, good)
    ours = write_run(tmp_path / "ours", labels, model)
    summary = compare_runs({"base": base, "ours": ours}, tmp_path / "cmp", SETTINGS, with_paper_rows=False)
    test = next(t for t in summary["paired_tests"] if t["metric"] == "plcc")
    assert (test["n_scored_model"], test["n_scored_baseline"], test["n_common_images"]) == (240, 300, 240)
    keep = [i for i in range(300) if i not in fails]
    common_labels = np.array(labels)[keep]
    assert test["model_on_common"] == pytest.approx(plcc(np.array(model, dtype=float)[keep], common_labels))
    assert test["baseline_on_common"] == pytest.approx(plcc(np.array(good)[keep], common_labels))
    assert test["delta"] == pytest.approx(test["model_on_common"] - test["baseline_on_common"])
    text = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "| Scored | Fail |" in text and "| 240 | 60/300 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| ours | ava | PLCC"))
    assert f"| 240 | 300 | 240 | {test['model_on_common']:.4f} | {test['baseline_on_common']:.4f} |" in row
    # base is far better on every resample: p at its floor 2/(B+1), never 0
    assert test["p_value"] == pytest.approx(2 / 100) and row.endswith("| <= 0.02 |")
    assert summary["bootstrap"] == {"n_resamples": 99, "confidence": 0.95, "seed": 0,
                                    "min_common_images": MIN_PAIRED_IMAGES}


def test_too_few_common_images_are_marked_not_tested(tmp_path):
    labels = _labels(40)
    base = write_run(tmp_path / "base", labels, [round(v, 2) for v in labels])
    # only 3 images in common (the others were never scored by this run)
    ours = write_run(tmp_path / "ours", labels[:3], [0.5, 0.1, 0.9], ids=["a0", "a1", "a2"])
    summary = compare_runs({"base": base, "ours": ours}, tmp_path / "cmp", SETTINGS, with_paper_rows=False)
    assert all(not t["tested"] and np.isnan(t["p_value"]) for t in summary["paired_tests"])
    assert f"not tested (n < {MIN_PAIRED_IMAGES})" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_entropy_is_labelled_with_temperature_and_prompts(tmp_path):
    labels = _labels(30)
    base = write_run(tmp_path / "base", labels, [round(v, 2) for v in labels], temperature=0.6)
    hot = write_run(tmp_path / "hot", labels, [round(v, 2) for v in labels], temperature=1.0)
    summary = compare_runs({"base": base, "hot": hot}, tmp_path / "cmp", SETTINGS, with_paper_rows=False)
    assert summary["average_token_entropy"]["hot"]["label"] == "T=1, test images, full_vocab"
    text = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "| base | 1.000 (T=0.6, test images, full_vocab) |" in text


def test_two_non_baseline_runs_must_agree_too(tmp_path):
    labels = _labels(40)
    ids = [f"a{i}" for i in range(20)]
    base = write_run(tmp_path / "base", labels[:20], [round(v, 2) for v in labels[:20]], ids=ids)
    ids = [f"a{i}" for i in range(20, 40)]  # images the baseline never scored
    one = write_run(tmp_path / "one", labels[20:], [round(v, 2) for v in labels[20:]], ids=ids)
    two = write_run(tmp_path / "two", labels[20:][::-1], [round(v, 2) for v in labels[20:]], ids=ids)
    with pytest.raises(ValueError, match="in run 'two'.* in run 'one'"):
        compare_runs({"base": base, "one": one, "two": two}, tmp_path / "cmp", SETTINGS)
