"""The data engine end to end against local chat and image-edit servers, with generated images."""

import io

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
from offline_qwen2_vl import assistant_turn_ids, offline_processor, real_qwen_vl_utils
from omegaconf import OmegaConf
from red_aes_fakes import SOURCES, aesthetics, engine_config_for, grey_png

from recipe.aesr1.rapo.scope import group_ids_from_extra_info
from recipe.aesr1.red_aes.engine import records as er
from recipe.aesr1.red_aes.engine.outputs import write_outputs
from recipe.aesr1.red_aes.engine.run import run


def _config(tmp_path, servers, out="out", **overrides):
    chat, edit = servers
    return engine_config_for(tmp_path, chat.url, edit.url, out, **overrides)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, servers):
    tmp_path = tmp_path_factory.mktemp("engine")
    config = _config(tmp_path, servers)
    engine_run = run(config)
    written = write_outputs(engine_run, config)
    return tmp_path, config, engine_run, written


def test_pretraining_pairs_pass_viescore_and_unanimous_improvement(first_run):
    _, _, engine_run, written = first_run
    by_id = {s.record_id: s for s in engine_run.sources}
    assert written["pt_o1"] == written["pt_o2"] == 3  # a1, a2, badrl5
    assert by_id["ava/noinstr4"].reasons["pt"] == er.INSTRUCTION_FAILED
    assert by_id["ava/disagree3"].reasons["pt"] == er.NO_VALID_PAIR
    pairs = {p.editor: p for p in by_id["ava/a1"].pt_pairs}
    assert pairs["seedream"].reason == er.EDIT_FAILED  # HTTP 500
    assert pairs["longcat"].reason == er.VIESCORE_LOW and pairs["longcat"].viescore == pytest.approx(np.sqrt(2 * 9))
    for name in ("classical", "qwen", "flux"):
        assert pairs[name].valid and pairs[name].viescore == pytest.approx(9.0)
        assert all(d > 0 for d in pairs[name].judge_differences)
        # judges answer delta, delta + 0.05, delta + 0.1: high consensus, weighted average = delta + 0.05
        assert pairs[name].difference10 == pytest.approx(np.mean(pairs[name].judge_differences), abs=1e-9)
    assert by_id["ava/a1"].pt_pairs[by_id["ava/a1"].pt_choice].valid
    assert {p.reason for p in by_id["ava/disagree3"].pt_pairs} == {er.NOT_UNANIMOUS, er.EDIT_FAILED, er.VIESCORE_LOW}


def test_pretraining_parquets_follow_the_sft_layout(first_run):
    tmp_path, _, _, _ = first_run
    o1 = pq.read_table(tmp_path / "out" / "pt_o1.parquet").to_pylist()
    o2 = pq.read_table(tmp_path / "out" / "pt_o2.parquet").to_pylist()
    for row1, row2 in zip(o1, o2, strict=True):
        user1, answer1 = row1["messages"][0]["content"], row1["messages"][1]["content"]
        assert user1.count("<image>") == 2 and len(row1["images"]) == 2
        assert row2["messages"][0]["content"].count("<image>") == 1 and len(row2["images"]) == 1
        assert "Apply exposure with strength +0.50." in row2["messages"][0]["content"]
        assert answer1 == row2["messages"][1]["content"] and answer1.startswith("<think>Judge")
        assert answer1.endswith(f"<answer>{row1['target']:+.2f}</answer>") and row1["target"] > 0
        assert row1["edit_type"] == row2["edit_type"] == "quality"
        assert row1["edit_category"] == "contrast or exposure change"
        assert row1["images"][0]["bytes"] and row1["images"][1]["bytes"] != row1["images"][0]["bytes"]


def test_calibration_rows_carry_the_voted_anchor(first_run):
    tmp_path, _, engine_run, written = first_run
    rows = pq.read_table(tmp_path / "out" / "calibration.parquet").to_pylist()
    assert written["calibration"] == len(rows) == 3
    a1 = next(s for s in engine_run.sources if s.record_id == "ava/a1")
    # experts: s, s + 0.2, s + 0.4 with s = 6.41 (grey 64/255): high consensus, no outlier ->
    # weighted average s + 0.2; the calibration target is (s + 0.2 - 1) / 9 on [0, 1]
    s = round(aesthetics(grey_png(SOURCES["a1"])), 2)
    assert s == pytest.approx(6.41)
    assert a1.anchor.score10 == pytest.approx(s + 0.2) and a1.anchor.method == "weighted_average"
    assert a1.anchor.unit == pytest.approx((s + 0.2 - 1) / 9)
    for row in rows:
        assert row["messages"][1]["content"].endswith(f"<answer>{row['target']:.2f}</answer>")


def test_rl_groups_hold_the_source_and_judged_variants(first_run):
    tmp_path, _, engine_run, written = first_run
    by_id = {s.record_id: s for s in engine_run.sources}
    assert by_id["ava/badrl5"].reasons["rl"] == er.INSTRUCTION_FAILED  # six instructions, never seven
    rl = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "rl.parquet"), split="train")
    assert len(rl) == written["rl"] > 0
    assert rl.features["images"].feature == datasets.Image()
    groups: dict[str, list[dict]] = {}
    for row in rl:
        groups.setdefault(row["extra_info"]["group_id"], []).append(row)
    assert set(groups) <= {"ava/a1", "ava/a2"} and groups
    for rows in groups.values():
        assert rows[0]["extra_info"]["role"] == "source" and all(r["extra_info"]["role"] == "variant" for r in rows[1:])
        source_gt = rows[0]["reward_model"]["ground_truth"]
        for row in rows[1:]:
            info = row["extra_info"]
            assert info["instruction"].startswith("Apply exposure")  # blur (no change) never passes the judges
            assert (info["edit_category"], info["edit_type"]) == ("contrast or exposure change", "quality")
            assert row["reward_model"]["ground_truth"] - source_gt == pytest.approx(info["difference"])
            sign = np.sign(float(info["instruction"].split()[-1].rstrip(".")))
            assert np.sign(info["difference"]) == sign  # darker source: brighter is better
    assert group_ids_from_extra_info(rl["extra_info"], "group_id") == [r["extra_info"]["group_id"] for r in rl]


def test_report_counts_every_drop(first_run):
    _, _, engine_run, _ = first_run
    report = engine_run.report.as_dict()
    assert report["drops"]["pt/instruction_failed"] == 1 and report["drops"]["pt/no_valid_pair"] == 1
    assert report["drops"]["rl/instruction_failed"] == 2  # noinstr4 and badrl5
    assert report["pair_reasons"]["pt/edit_failed"] == 4  # seedream on the 4 sources with an instruction
    assert report["pt_samples"] == 3 and report["calibration_samples"] == 3
    # every written pair carries its edit type (Table 3); the fake expert writes exposure (quality) edits
    assert report["edit_types"]["pt/quality"] == 3 and set(report["edit_types"]) == {"pt/quality", "rl/quality"}


def test_rerun_repeats_no_request_and_writes_the_same_data(first_run, servers):
    _, config, engine_run, _ = first_run
    chat, edit = servers
    before = sum(chat.requests.values()) + sum(edit.requests.values())
    again = run(config)
    write_outputs(again, config)
    assert again.report.requests_made == 0
    assert sum(chat.requests.values()) + sum(edit.requests.values()) == before
    assert [s.as_dict() for s in again.sources] == [s.as_dict() for s in engine_run.sources]


def test_four_of_five_rule(tmp_path, servers):
    config = _config(
        tmp_path,
        servers,
        out="strict",
        **{"filters.min_successful_editors": 4, "build.rl": False, "build.calibration": False},
    )
    engine_run = run(config)
    written = write_outputs(engine_run, config)
    assert written == {"pt_o1": 0, "pt_o2": 0}
    assert engine_run.report.drops["pt/too_few_successful_edits"] == 4  # 3 of 5 editors pass, 4 needed


def test_config_errors_name_the_key(tmp_path, servers):
    with pytest.raises(ValueError, match="min_successful_editors=6"):
        _config(tmp_path, servers, out="bad", **{"filters.min_successful_editors": 6})
    with pytest.raises(ValueError, match="build.calibration needs sources.anchor=experts"):
        _config(tmp_path, servers, out="bad2", **{"sources.anchor": "table"})


def test_pt_o1_loads_in_verl_multiturn_sft_dataset_with_two_images(first_run, monkeypatch):
    import verl.utils.dataset.multiturn_sft_dataset as verl_sft

    real_qwen_vl_utils(monkeypatch)  # verl's own process_image runs, with the installed qwen_vl_utils
    tmp_path = first_run[0]
    for name, n_images in (("pt_o1", 2), ("pt_o2", 1), ("calibration", 1)):
        path = tmp_path / "out" / f"{name}.parquet"
        rows = pq.read_table(path).to_pylist()
        processor = offline_processor([m["content"] for row in rows for m in row["messages"]])
        dataset = verl_sft.MultiTurnSFTDataset(
            str(path),
            processor.tokenizer,
            {"max_length": 1024, "pad_mode": "no_padding", "truncation": "error"},
            processor=processor,
        )
        item = dataset[0]
        grid = item["multi_modal_inputs"]["image_grid_thw"]
        assert grid.shape == (n_images, 3)
        image_pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        assert int((item["input_ids"] == image_pad).sum()) == int(grid.prod(dim=1).sum()) // 4
        trained = item["input_ids"][item["loss_mask"].bool()].tolist()
        assert trained == assistant_turn_ids(processor, rows[0]["messages"][1]["content"])  # the loss covers the answer only


def test_rl_parquet_loads_in_verl_rlhf_dataset_and_batches_by_group(first_run):
    # verl's multimodal processor path needs torchvision (absent beside the CPU torch, DESIGN.md):
    # like data_prep's test, hand RLHFDataset transformers' PIL-backend image processor.
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from data_prep.prompts import SCORING_PROMPT
    from recipe.aesr1.rapo.whole_groups import whole_group_train_dataloader

    tmp_path = first_run[0]
    words = [
        "<pad>",
        "<unk>",
        "<|im_start|>",
        "<|im_end|>",
        "<|image_pad|>",
        "user",
        "assistant",
        *SCORING_PROMPT.split(),
    ]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(dict.fromkeys(words))}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>", eos_token="<|im_end|>"
    )
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }} {% if m['content'] is string %}{{ m['content'] }}"
        "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|image_pad|>{% else %}{{ c['text'] }}"
        "{% endif %}{% endfor %}{% endif %}<|im_end|>{% endfor %}"
    )
    config = OmegaConf.create(
        {"filter_overlong_prompts": False, "cache_dir": str(tmp_path / "cache"), "max_prompt_length": 1024}
    )
    dataset = RLHFDataset(
        [str(tmp_path / "out" / "rl.parquet")], tokenizer, config, processor=Qwen2VLImageProcessorPil()
    )
    rows = pq.read_table(tmp_path / "out" / "rl.parquet").to_pylist()
    assert len(dataset) == len(rows)
    item = dataset[1]
    assert item["extra_info"]["group_id"] == rows[1]["extra_info"]["group_id"]
    assert item["reward_model"]["ground_truth"] == pytest.approx(rows[1]["reward_model"]["ground_truth"])
    sizes = {}
    for row in rows:
        sizes[row["extra_info"]["group_id"]] = sizes.get(row["extra_info"]["group_id"], 0) + 1
    batch_size = sum(sizes.values())  # the two groups together: one batch per epoch, nothing dropped
    loader = whole_group_train_dataloader(
        dataset, {"train_batch_size": batch_size, "shuffle": True, "seed": 0}, "group_id"
    )
    (batch,) = list(loader)
    groups = [info["group_id"] for info in batch["extra_info"]]
    assert {g: groups.count(g) for g in set(groups)} == sizes


def test_unreadable_source_image_is_counted_not_fatal(tmp_path, servers):
    from red_aes_fakes import write_sources

    write_sources(tmp_path / "sources.parquet", {"a1": 0.25, "broken9": 0.3}, corrupt=("broken9",))
    config = _config(tmp_path, servers, out="corrupt", **{"build.rl": False, "build.calibration_size": 2})
    engine_run = run(config)
    written = write_outputs(engine_run, config)
    broken = next(s for s in engine_run.sources if s.record_id == "ava/broken9")
    assert broken.reasons["pt"] == er.IMAGE_UNREADABLE and "not" in broken.error
    assert written["pt_o1"] == 1 and written["calibration"] == 1
    assert engine_run.report.drops["pt/image_unreadable"] == 1
    assert engine_run.report.drops["calibration/image_unreadable"] == 1


def test_calibration_cot_never_states_a_score(tmp_path, servers):
    from red_aes_fakes import write_sources

    write_sources(tmp_path / "sources.parquet", {"leaky1": 0.25, "halfleak2": 0.3})
    config = _config(
        tmp_path, servers, out="leak", **{"build.pt": False, "build.rl": False, "build.calibration_size": 2}
    )
    engine_run = run(config)
    written = write_outputs(engine_run, config)
    assert written == {"calibration": 1} and engine_run.report.drops["calibration/analysis_leaks_score"] == 1
    half = next(s for s in engine_run.sources if s.record_id == "ava/halfleak2")
    # expert 1 is closest to the consensus (s + 0.2) but leaks; experts 0 and 2 are the next closest
    assert half.anchor.analysis.startswith(("Expert 0:", "Expert 2:")) and "out of 10" not in half.anchor.analysis


def test_sources_and_edits_are_held_to_the_pixel_budget(tmp_path, servers):
    # 64 x 48 sources and a budget of one 28 x 28 token: every model sees, and every file stores, 28 x 28
    from PIL import Image
    from red_aes_fakes import write_sources

    from data_prep.pixel_budget import budget_size

    chat, _ = servers
    write_sources(tmp_path / "sources.parquet", {"a1": 0.25, "a2": 0.3}, size=(64, 48))
    config = _config(tmp_path, servers, out="budget", max_pixels=28 * 28, **{"build.calibration_size": 2})
    chat.image_sizes.clear()
    engine_run = run(config)
    written = write_outputs(engine_run, config)
    assert written["pt_o1"] == 2 and written["rl"] > 0
    assert chat.image_sizes == {budget_size(64, 48, 28 * 28)} == {(28, 28)}
    edits = list((tmp_path / "budget" / "edits").iterdir())
    assert edits and all(Image.open(p).size == (28, 28) for p in edits)
    for name in ("pt_o1", "rl", "calibration"):
        for row in pq.read_table(tmp_path / "budget" / f"{name}.parquet").to_pylist():
            for cell in row["images"]:
                assert Image.open(io.BytesIO(cell["bytes"])).size == (28, 28)
    assert engine_run.report.as_dict()["max_pixels"] == 784


def test_photo_folder_sources_with_an_evaluation_image_dropped(tmp_path, servers):
    # what the paper does: unlabelled photos; one of them is also in an evaluation table and is dropped
    import pyarrow as pa
    from red_aes_fakes import grey_png

    (tmp_path / "photos").mkdir()
    for name, level in {"p1.png": 0.25, "p2.png": 0.3, "p3.png": 0.28}.items():
        (tmp_path / "photos" / name).write_bytes(grey_png(level))
    evaluation = tmp_path / "para_test.parquet"
    pq.write_table(
        pa.table({"id": ["x9"], "dataset": ["para"], "image": [{"bytes": grey_png(0.28), "path": None}]}), evaluation
    )
    overrides = {
        "sources.inputs": f"[{tmp_path / 'photos'}]",
        "sources.datasets": "[]",
        "sources.evaluation": f"[{evaluation}]",
        "build.calibration_size": 3,
    }
    config = _config(tmp_path, servers, out="photos", **overrides)
    engine_run = run(config)
    written = write_outputs(engine_run, config)
    by_id = {s.record_id: s for s in engine_run.sources}
    assert by_id["photos/p3.png"].reasons["pt"] == er.OVERLAPS_EVALUATION  # same bytes as the PARA image
    report = engine_run.report.as_dict()
    assert report["evaluation_overlap"] == {"hash": 1} and report["drops"]["pt/overlaps_evaluation"] == 1
    assert written["pt_o1"] == 2 and report["source_pool"]["per_dataset"] == {"photos": 3}
    assert report["source_pool"]["benchmark_sources"] == {}
    pt = report["targets"]["pt_samples"]
    # RED-20k's size target: 2 of 20,000 written from 3 sources tried -> 29,997 more at this yield
    assert pt == {"target": 20000, "written": 2, "shortfall": 19998, "more_sources_estimate": 29997}
