"""``aesr1-score`` on a folder of real and broken files, through the OpenAI backend and a local server."""

import csv
import json

import pytest
from PIL import Image

from recipe.aesr1.curation import cli as score_cli
from recipe.aesr1.scoring.inputs import collect_inputs


def _folder(tmp_path, helpers):
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "best.png").write_bytes(helpers.png_bytes(helpers.red_for(0.91)))
    Image.new("RGB", (30, 30), (helpers.red_for(0.35), 10, 10)).save(photos / "dark.jpg", quality=100)
    Image.new("L", (30, 30), 200).save(photos / "gray.png")  # grayscale: red level 200 -> 0.78
    Image.new("RGB", (30, 30), (helpers.red_for(0.6), 0, 0)).save(photos / "shot.webp", lossless=True)
    Image.new("CMYK", (30, 30), (0, 0, 0, 0)).save(photos / "cmyk.jpg")  # CMYK white -> red 255 -> 1.0
    Image.new("RGB", (30, 30), (0, 0, 0)).save(photos / "black.png")  # the judge gives no answer
    Image.new("RGB", (30, 30), (1, 0, 0)).save(photos / "refused.png")  # the endpoint answers HTTP 400
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (photos / "notes.txt").write_text("not an image, not picked from a folder")
    (photos / "sub" / "deep.png").write_bytes(helpers.png_bytes(helpers.red_for(0.5)))
    return photos


def _args(url, *extra):
    return [*f"--backend openai --model judge --base-url {url} --api-key k --image-format png".split(), *extra]


def test_scores_a_folder_with_a_clear_outcome_per_file(fake_judge, tmp_path, helpers, capsys):
    url, _ = fake_judge
    photos = _folder(tmp_path, helpers)
    out = tmp_path / "scores.csv"
    assert score_cli.main([str(photos), str(tmp_path / "gone.jpg"), "--out", str(out), *_args(url)]) == 0
    rows = {r["path"].split("/")[-1]: r for r in csv.DictReader(out.open())}
    expected = "best.png dark.jpg gray.png shot.webp cmyk.jpg black.png refused.png broken.jpg gone.jpg".split()
    assert set(rows) == set(expected)
    assert (rows["best.png"]["status"], rows["best.png"]["score"], rows["best.png"]["level"]) == ("ok", "0.91", "good")
    assert rows["dark.jpg"]["level"] == "bad"
    assert rows["gray.png"]["status"] == "converted" and rows["gray.png"]["score"] == "0.78"
    assert rows["shot.webp"]["score"] == "0.6"
    assert rows["cmyk.jpg"]["status"] == "converted" and "CMYK" in rows["cmyk.jpg"]["detail"]
    assert rows["black.png"]["status"] == "no_score" and "no_answer_tag" in rows["black.png"]["detail"]
    assert rows["refused.png"]["status"] == "no_score" and "content filter" in rows["refused.png"]["detail"]
    assert rows["broken.jpg"]["status"] == "unreadable"
    assert rows["gone.jpg"]["status"] == "missing"
    assert rows["best.png"]["reasoning"] == "Balanced composition and pleasing light."
    err = capsys.readouterr().err
    assert "4 of 9 file(s) without a score" in err and "broken.jpg: unreadable" in err


def test_top_k_ranks_best_shots_and_recursive_finds_subfolders(fake_judge, tmp_path, helpers, capsys):
    url, _ = fake_judge
    photos = _folder(tmp_path, helpers)
    out = tmp_path / "best.jsonl"
    score_cli.main([str(photos), "--recursive", "--top-k", "2", "--n", "2", "--out", str(out), *_args(url)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["rank"], r["path"].split("/")[-1], r["score"]) for r in rows] == [
        (1, "cmyk.jpg", 1.0),
        (2, "best.png", 0.91),
    ]
    assert rows[0]["n_samples"] == 2 and rows[0]["spread"] == 0.0
    scored = collect_inputs([str(photos)], recursive=True)
    assert any(p.name == "deep.png" for p in scored) and not any(p.suffix == ".txt" for p in scored)
    assert "#1" in capsys.readouterr().out


def test_glob_inputs(tmp_path, helpers):
    photos = _folder(tmp_path, helpers)
    found = {p.name for p in collect_inputs([str(photos / "*.png")])}
    assert found == {"best.png", "black.png", "gray.png", "refused.png"}


def test_help_and_bad_output_suffix(tmp_path, fake_judge, helpers):
    with pytest.raises(SystemExit) as exit_info:
        score_cli.main(["--help"])
    assert exit_info.value.code == 0
    url, _ = fake_judge
    with pytest.raises(SystemExit, match=".csv or .jsonl"):
        score_cli.main([str(_folder(tmp_path, helpers)), "--out", str(tmp_path / "x.xlsx"), *_args(url)])


def test_interrupted_scoring_resumes(fake_judge, tmp_path, helpers):
    from recipe.aesr1.scoring.backends import SamplingSettings, make_backend

    url, judge = fake_judge
    paths = collect_inputs([str(_folder(tmp_path, helpers))])
    backend = make_backend("openai", "judge", base_url=url, api_key="k", image_format="png")
    out = tmp_path / "scores.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_cli.score_to_file(helpers.DiesAfter(backend, 1), paths, SamplingSettings(), out, batch_size=3)
    assert len(judge.requests) == 2 and not out.exists()  # first batch: best, black, broken (never sent)
    assert len(score_cli.partial_log_path(out).read_text().splitlines()) == 3
    rows = score_cli.score_to_file(backend, paths, SamplingSettings(), out, batch_size=3)
    assert len(judge.requests) == 7  # 8 files, one unreadable: each readable file sent once in all
    assert [r["path"] for r in rows] == [str(p) for p in paths]
    assert len(out.read_text().splitlines()) == 8


def test_rerunning_a_finished_scoring_sends_nothing(fake_judge, tmp_path, helpers):
    from recipe.aesr1.scoring.backends import SamplingSettings, make_backend

    url, judge = fake_judge
    paths = collect_inputs([str(_folder(tmp_path, helpers))])
    backend = make_backend("openai", "judge", base_url=url, api_key="k", image_format="png")
    out = tmp_path / "scores.csv"
    first = score_cli.score_to_file(backend, paths, SamplingSettings(), out, batch_size=3)
    sent = len(judge.requests)
    assert sent == 7 and out.exists()
    again = score_cli.score_to_file(backend, paths, SamplingSettings(), out, batch_size=3)
    assert len(judge.requests) == sent and again == first  # a finished run is a no-op to rerun
    with pytest.raises(SystemExit, match="max-pixels"):  # another budget would mix two image sizes
        score_cli.score_to_file(backend, paths, SamplingSettings(), out, batch_size=3, max_pixels=100_000)
