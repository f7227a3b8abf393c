"""``aesr1-score ray`` / ``aesr1-eval ray`` on a local Ray with the tiny model: same answers as the serial CLIs,
resumable by shard, loud on changed options."""

import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from recipe.aesr1.curation import cli as score_cli
from recipe.aesr1.evaluation import eval_cli
from recipe.aesr1.evaluation.runner import EvaluationSettings, predict
from recipe.aesr1.miniature.tiny_vlm import save_tiny_vlm
from recipe.aesr1.scoring.backends import SamplingSettings, image_seed, make_backend
from recipe.aesr1.scoring.inputs import list_items
from recipe.aesr1.scoring.ray_scoring import read_shards

ray = pytest.importorskip("ray")

SAMPLING = ["--temperature", "1.0", "--max-new-tokens", "6", "--seed", "3"]  # sampled: seeds matter


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(save_tiny_vlm(tmp_path_factory.mktemp("tiny")))


def _backend_args(tiny):
    return ["--backend", "hf", "--model", tiny, "--device", "cpu", "--num-actors", "1", "--actor-cpus", "1"]


def _photos(root):
    (root / "photos").mkdir()
    for i, red in enumerate((20, 90, 160, 230)):
        Image.new("RGB", (56, 42), (red, 80, 40)).save(root / "photos" / f"{i}.png")
    (root / "photos" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    (root / "extra").mkdir()
    Image.new("RGB", (30, 60), (5, 200, 5)).save(root / "extra" / "a.png")
    (root / "list.txt").write_text("# one path per line, relative to the listing\nextra/a.png\nextra/gone.png\n")
    return [str(root / "photos"), str(root / "list.txt")]


def test_score_ray_matches_serial_scoring_and_resumes_by_shard(local_ray, tiny, tmp_path):
    inputs = _photos(tmp_path)
    out = tmp_path / "shards"
    argv = ["ray", *inputs, "--out-dir", str(out), "--shard-size", "3", *_backend_args(tiny), *SAMPLING]
    assert score_cli.main(argv) == 0
    shards = sorted(out.glob("shard-*.parquet"))
    rows = read_shards(shards)
    keys = [item["key"] for item in list_items(inputs)]
    assert len(shards) == 3 and [r["key"] for r in rows] == keys  # 7 items, input order
    by_name = {r["key"].rsplit("/", 1)[-1]: r for r in rows}
    assert by_name["broken.jpg"]["status"] == "unreadable" and by_name["gone.png"]["status"] == "missing"
    assert all(r["seed"] == image_seed(3, r["key"]) for r in rows)

    # the serial aesr1-score path gives the same sampled responses for the same files
    scored = [r for r in rows if r["image_status"] == "ok"]
    serial = score_cli.score_files(
        make_backend("hf", tiny, device="cpu"), [Path(r["key"]) for r in scored],
        SamplingSettings(temperature=1.0, max_new_tokens=6, seed=3),
    )
    assert [r["response"] for r in serial] == [r["response"] for r in scored]
    assert all(json.loads(r["samples"])[0]["reason"] for r in scored)

    # resume: only the missing shard is scored again, to the same content
    before = {p.name: p.stat().st_mtime_ns for p in shards}
    shards[1].unlink()
    assert score_cli.main(argv) == 0
    after = {p.name: p.stat().st_mtime_ns for p in sorted(out.glob("shard-*.parquet"))}
    assert after[shards[0].name] == before[shards[0].name] and after[shards[2].name] == before[shards[2].name]
    assert read_shards(sorted(out.glob("shard-*.parquet"))) == rows

    with pytest.raises(ValueError, match=r"different \['settings'\]; resuming would mix them"):
        score_cli.main([*argv[:-1], "4"])  # another seed into the same folder


def test_score_ray_writes_the_same_curation_outputs_as_aesr1_score(local_ray, tiny, tmp_path):
    """--bursts / --html from the shards are those of the serial run on the same files."""
    import csv

    from curation_photos import VARIANTS, photo_like_scene, save_photo

    folder = tmp_path / "shoot"
    folder.mkdir()
    for seed in range(4):
        save_photo(photo_like_scene(seed), folder / f"scene{seed}.jpg")
    save_photo(VARIANTS["darker"](photo_like_scene(2)), folder / "scene2_darker.jpg")
    curation = ["--bursts"]
    serial = ["--backend", "hf", "--model", tiny, "--device", "cpu", *SAMPLING, *curation]
    assert score_cli.main([str(folder), "--out", str(tmp_path / "serial.csv"), "--html", str(tmp_path / "serial.html"), *serial]) == 0
    argv = ["ray", str(folder), "--out-dir", str(tmp_path / "shards"), *_backend_args(tiny), *SAMPLING, *curation]
    assert score_cli.main([*argv, "--html", str(tmp_path / "ray.html")]) == 0
    columns = ("path", "burst", "burst_size", "burst_rank", "burst_best")
    serial_rows = [{c: r[c] for c in columns} for r in csv.DictReader((tmp_path / "serial.csv").open())]
    ray_rows = [{c: r[c] for c in columns} for r in csv.DictReader((tmp_path / "shards" / "bursts.csv").open())]
    assert ray_rows == serial_rows
    assert {Path(r["path"]).name for r in ray_rows if r["burst"]} == {"scene2.jpg", "scene2_darker.jpg"}
    assert (tmp_path / "ray.html").read_text().count("<img") == (tmp_path / "serial.html").read_text().count("<img") == 5


def _png(red):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (red, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_eval_ray_writes_the_same_predictions_as_aesr1_eval_run(local_ray, tiny, tmp_path):
    rows = [("a1", "AVA", "test", 0.2), ("a2", "AVA", "test", 0.5), ("a3", "AVA", "train", 0.9),
            ("t1", "TAD66K", "test", 0.4), ("t2", "TAD66K", "test", 0.7), ("t3", "TAD66K", "test", 0.8)]
    struct = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    table = pa.table({
        "id": [r[0] for r in rows], "dataset": [r[1] for r in rows], "split": [r[2] for r in rows],
        "score": [r[3] for r in rows], "raw_score": [r[3] * 10 for r in rows],
        "image": pa.array([{"bytes": _png(30 * k + 10), "path": None} for k in range(len(rows))], struct),
    })
    pq.write_table(table, tmp_path / "eval.parquet", row_group_size=4)  # two row groups
    run = tmp_path / "run"
    argv = ["ray", "--data", str(tmp_path / "eval.parquet"), "--out", str(run), "--shard-size", "2",
            *_backend_args(tiny), *SAMPLING]
    assert eval_cli.main(argv) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["benchmarks"]) == {"AVA", "TAD66K"} and (run / "table.md").is_file()

    settings = EvaluationSettings(sampling=SamplingSettings(temperature=1.0, max_new_tokens=6, seed=3))
    stores = predict(make_backend("hf", tiny, device="cpu"), tiny, [str(tmp_path / "eval.parquet")],
                     tmp_path / "serial", settings)
    for benchmark, store in stores.items():
        ray_lines = (run / "predictions" / f"{benchmark}.jsonl").read_text().splitlines()
        ray_records = {r["id"]: r for r in map(json.loads, ray_lines)}
        assert set(ray_records) == set(store.records)  # the train row is not evaluated
        for image_id, serial in store.records.items():
            assert ray_records[image_id]["seed"] == serial["seed"]
            assert [s["text"] for s in ray_records[image_id]["samples"]] == [s["text"] for s in serial["samples"]]
