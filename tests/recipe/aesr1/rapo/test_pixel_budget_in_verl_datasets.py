"""Images of common photo sizes reach verl's real datasets within the pixel budget, and none is dropped.

verl's ``RLHFDataset`` (via ``create_rl_dataset``, as the trainer builds it) and ``MultiTurnSFTDataset``
run with the project's composed configs (``rapo_trainer.yaml``: ``max_prompt_length: 1024``,
``filter_overlong_prompts: true``; ``sft_trainer.yaml``: ``max_length: 4096``, ``truncation: error``),
the real ``qwen_vl_utils`` image code and a Qwen2-VL processor at Qwen2.5-VL-7B's limits
(``offline_qwen2_vl``). The data are data_prep parquets (embedded images) of 1024x768 and 2000x1500 photos:
fitted to ``data_prep.pixel_budget`` they all load; stored as they are (paths, the old default) the
photos are dropped, which the configured dataset (``recipe.aesr1.rapo.dataset``) reports and stops on.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hydra import compose, initialize_config_dir
from offline_qwen2_vl import offline_processor, real_qwen_vl_utils
from PIL import Image

from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions
from data_prep.pixel_budget import DEFAULT_MAX_PIXELS
from data_prep.prompts import SCORING_PROMPT
from data_prep.records import LabelSet, Record

CONFIGS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "configs"))
SIZES = [(1024, 768), (2000, 1500)]  # FLICKR-AES / TAD66K-like, and a 3 MP camera photo
BUDGET_TOKENS = DEFAULT_MAX_PIXELS // 28**2  # 334
CRITIQUE = "<think>Warm light, a centred subject and a clean background.</think><answer>0.62</answer>"


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """Smooth colour gradients plus noise: JPEG-compressible yet not constant."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // w, y * 255 // h, (x + y) * 127 // (w + h)], axis=-1) + rng.integers(0, 16, (h, w, 3))
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8))


def rl_parquet(tmp_path, budget: bool, sizes=tuple(SIZES)) -> list[str]:
    """data_prep's RL parquet of photos of ``sizes``: with its default pixel budget, embedded (``budget``),
    or stored as they are with the budget switched off (``max_pixels=None``, what the old default did)."""
    records = []
    for index, size in enumerate(sizes):
        path = tmp_path / f"{size[0]}x{size[1]}.jpg"
        photo(size, index).save(path, quality=90)
        records.append(Record(f"img{index}", "tad66k", "train", 5.0 + index, 0.5 + index / 10, str(path)))
    out = tmp_path / ("budget" if budget else "raw")
    images = ImageOptions(embed=True) if budget else ImageOptions(embed=False, max_pixels=None)
    write_dataset(LabelSet("tad66k", records), out, WriteOptions(image=images, progress=False))
    return [str(p) for p in sorted((out / "rl").glob("*.parquet"))]


def composed(name: str, *overrides: str):
    with initialize_config_dir(config_dir=CONFIGS, version_base=None):
        return compose(name, overrides=list(overrides))


@pytest.fixture
def processor(monkeypatch):
    real_qwen_vl_utils(monkeypatch)
    return offline_processor([SCORING_PROMPT, CRITIQUE])


def visual_tokens_of(processor, image: Image.Image) -> int:
    from qwen_vl_utils import (
        fetch_image,  # what verl's process_vision_info applies to each image
    )

    grid = processor.image_processor(images=[fetch_image({"image": image})], return_tensors="np")["image_grid_thw"]
    return int(grid.prod()) // 4  # 2 x 2 patches merged per token


def rl_dataset(files, processor, *overrides):
    from verl.trainer.ppo.utils import create_rl_dataset

    config = composed("rapo_trainer", f"data.train_files={files}", "data.val_files=null", *overrides)
    data = config.data
    assert (data.max_prompt_length, data.filter_overlong_prompts) == (1024, True)
    return create_rl_dataset(files, data, processor.tokenizer, processor, is_train=True), data


def test_budgeted_photos_all_pass_rlhf_dataset_within_the_token_budget(tmp_path, processor):
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    files = rl_parquet(tmp_path, budget=True)
    dataset, data = rl_dataset(files, processor)
    assert type(dataset).__name__ == "CountedRLHFDataset"  # verl's RLHFDataset, its filter counted
    assert len(dataset) == len(SIZES) and dataset.filter_count.dropped == 0  # none dropped by the length filter
    for index in range(len(SIZES)):
        item = dataset[index]
        image = item["raw_prompt"][0]["content"][1]["image"]
        assert visual_tokens_of(processor, image) <= BUDGET_TOKENS
        # The prompt length verl's filter measured, recomputed the same way.
        text = processor.apply_chat_template(item["raw_prompt"], add_generation_prompt=True, tokenize=False)
        from qwen_vl_utils import process_vision_info

        images, _ = process_vision_info(item["raw_prompt"])
        length = build_multimodal_processor_inputs(processor, text=[text], images=images)["input_ids"].shape[-1]
        assert length <= data.max_prompt_length


def test_photos_outside_the_budget_are_dropped_and_the_drop_stops_the_run(tmp_path, processor):
    # Stored as they are (the old default), the smaller photo alone is 999 visual tokens (2000x1500: 3,834).
    files = rl_parquet(tmp_path, budget=False, sizes=[SIZES[0]])
    assert visual_tokens_of(processor, Image.open(tmp_path / "1024x768.jpg")) == 999
    with pytest.raises(ValueError, match=r"dropped 1 of 1 prompts \(100.0%\).*max_prompt_length=1024.*pixel budget"):
        rl_dataset(files, processor)
    dataset, _ = rl_dataset(files, processor, "data.max_filtered_share=1.0")  # counted, tolerated
    assert len(dataset) == 0 and dataset.filter_count.metrics("train") == {
        "data/train_filtered_prompts": 1.0, "data/train_filtered_share": 1.0}


def sft_parquet(tmp_path, rl_files) -> str:
    """AesCoT-shaped SFT rows (scoring prompt + critique) over data_prep's embedded images."""
    images = pq.read_table(rl_files).column("images").to_pylist()
    messages = [[{"role": "user", "content": SCORING_PROMPT}, {"role": "assistant", "content": CRITIQUE}]] * len(images)
    path = tmp_path / "sft.parquet"
    pq.write_table(pa.table({"messages": messages, "images": images}), path)
    return str(path)


def test_budgeted_photos_pass_multiturn_sft_dataset_within_max_length(tmp_path, processor):
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    path = sft_parquet(tmp_path, rl_parquet(tmp_path, budget=True))
    data = composed("sft_trainer", f"data.train_files={path}").data
    assert (data.max_length, data.truncation) == (4096, "error")
    dataset = MultiTurnSFTDataset(path, processor.tokenizer, data, processor=processor)
    image_pad = processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    for index in range(len(SIZES)):
        item = dataset[index]  # truncation: error raises here for a sample over max_length
        tokens = int((item["input_ids"] == image_pad).sum())
        assert tokens == int(item["multi_modal_inputs"]["image_grid_thw"].prod()) // 4 <= BUDGET_TOKENS
        assert item["input_ids"].shape[0] <= data.max_length
