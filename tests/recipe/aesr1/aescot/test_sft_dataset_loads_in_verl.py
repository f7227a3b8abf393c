"""The SFT parquet loads in verl's ``MultiTurnSFTDataset`` with a Qwen2-VL processor built offline.

What runs for real: verl's parquet reading, ``<image>`` splitting, the chat template per turn, the
Qwen2-VL image processor (its PIL backend), image-token expansion, M-RoPE position ids and the loss
mask, and verl's ``process_image`` (its handling of a ``bytes`` key, which breaks on a null one).
The processor is ``offline_qwen2_vl``'s (a word-level tokenizer built from the rows, transformers'
PIL image processor) and ``qwen_vl_utils`` is the installed one, imported as the CPU backend does
(torchvision does not import beside the CPU torch of this project, see DESIGN.md).
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import verl.utils.dataset.multiturn_sft_dataset as verl_sft
from aescot_fakes import draw_image
from offline_qwen2_vl import assistant_turn_ids, offline_processor, real_qwen_vl_utils

from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.sft_export import write_sft_parquet


@pytest.fixture(params=["embedded", "paths"])
def sft_file(request, tmp_path):
    kept = []
    for index, (critique, score, color) in enumerate([
        ("The frame is dominated by red tones. Overall a decent photograph.", 0.55, "red"),
        ("Cool blue light; the composition is centred. Overall an excellent photograph.", 0.83, "blue"),
    ]):
        result = rr.RecordResult(f"ava/{index}", "ava", str(index), "train", score, score * 10, "fair", 1,
                                 status=rr.KEPT, critique=critique)
        data = draw_image(color, "JPEG")
        if request.param == "embedded":
            image = {"bytes": data, "path": None}
        else:  # a data_prep table that references its images by absolute path
            image = {"bytes": None, "path": str(tmp_path / f"{index}.jpg")}
            (tmp_path / f"{index}.jpg").write_bytes(data)
        kept.append((result, image))
    path = tmp_path / "aescot_sft.parquet"
    write_sft_parquet(path, [r for r, _ in kept], {r.record_id: image for r, image in kept})
    return path


def test_sft_parquet_loads_in_verl_multiturn_sft_dataset(sft_file, monkeypatch):
    real_qwen_vl_utils(monkeypatch)
    rows = pq.read_table(sft_file).to_pylist()
    processor = offline_processor([m["content"] for row in rows for m in row["messages"]])
    dataset = verl_sft.MultiTurnSFTDataset(
        str(sft_file), processor.tokenizer, {"max_length": 512, "pad_mode": "no_padding", "truncation": "error"},
        processor=processor,
    )
    assert len(dataset) == 2
    for index, row in enumerate(rows):
        item = dataset[index]
        input_ids, loss_mask = item["input_ids"], item["loss_mask"]
        grid = item["multi_modal_inputs"]["image_grid_thw"]
        assert grid.shape == (1, 3)
        # One image, expanded to (t*h*w)/merge^2 image tokens.
        image_pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
        assert int((input_ids == image_pad).sum()) == int(grid.prod()) // 4
        assert item["position_ids"].shape == (4, input_ids.shape[0])  # text + 3-D M-RoPE ids of Qwen2-VL
        # The loss covers exactly the assistant turn: <think>critique</think><answer>score</answer>.
        assert input_ids[loss_mask.bool()].tolist() == assistant_turn_ids(processor, row["messages"][1]["content"])
        assert row["messages"][0]["content"] == SCORING_PROMPT
