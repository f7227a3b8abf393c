"""The converted parquet loads in verl's RLHFDataset and MultiTurnSFTDataset (offline tokenizer).

What cannot run on this CPU image: verl's full multimodal path calls ``qwen_vl_utils`` and a
``Qwen2VLProcessor``, both of which import torchvision (absent beside the CPU torch). So the test
stops where verl hands the image to the processor: it checks the PIL images verl builds, then runs
transformers' PIL-backend Qwen2-VL image processor on them.
"""

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
    Qwen2VLImageProcessorPil,
)

from data_prep.convert import WriteOptions, write_dataset
from data_prep.images import ImageOptions
from data_prep.prompts import SCORING_PROMPT
from data_prep.records import LabelSet, Record

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }} {% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|image_pad|>{% else %}{{ c['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant {% endif %}"
)


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    words = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "<|image_pad|>", "system", "user", "assistant", *SCORING_PROMPT.split()]
    backend = Tokenizer(models.WordLevel({w: i for i, w in enumerate(dict.fromkeys(words))}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", unk_token="<unk>", eos_token="<|im_end|>")
    tok.chat_template = CHAT_TEMPLATE
    return tok


@pytest.fixture(params=[False, True], ids=["paths", "embedded"])
def rl_files(request, tmp_path: Path, draw) -> list[str]:
    records = [
        Record("a", "tad66k", "train", 5.5, 0.5, str(draw.image(tmp_path / "a.jpg", seed=1, size=(64, 48)))),
        Record("b", "tad66k", "train", 1.0, 0.0, str(draw.image(tmp_path / "b.jpg", seed=2, mode="CMYK", size=(56, 56)))),
    ]
    write_dataset(LabelSet("tad66k", records), tmp_path / "out", WriteOptions(image=ImageOptions(embed=request.param), progress=False))
    return [str(p) for p in sorted((tmp_path / "out" / "rl").glob("*.parquet"))]


def test_rlhf_dataset_reads_prompts_images_and_ground_truth(rl_files, tokenizer, tmp_path: Path):
    from verl.utils.dataset.rl_dataset import RLHFDataset

    config = OmegaConf.create({"filter_overlong_prompts": False, "cache_dir": str(tmp_path / "cache"), "max_prompt_length": 1024})
    image_processor = Qwen2VLImageProcessorPil()
    dataset = RLHFDataset(rl_files, tokenizer, config, processor=image_processor)
    assert len(dataset) == 2
    item = dataset[1]
    assert item["data_source"] == "tad66k" and item["reward_model"]["ground_truth"] == 0.0
    assert item["extra_info"]["id"] == "b" and item["index"] == 1
    content = item["raw_prompt"][0]["content"]
    kinds = [part["type"] for part in content]
    assert kinds == ["text", "image", "text"]
    assert content[0]["text"] + "<image>" + content[2]["text"] == SCORING_PROMPT
    image = content[1]["image"]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (56, 56)
    pixels = image_processor(images=[image], return_tensors="np")
    assert pixels["image_grid_thw"].tolist() == [[1, 4, 4]]  # 56 / 14 patches a side


def test_sft_dataset_reads_the_prompt_messages(rl_files, tokenizer):
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    dataset = MultiTurnSFTDataset(rl_files, tokenizer, OmegaConf.create({"messages_key": "prompt", "max_length": 512}))
    assert len(dataset) == 2
    assert dataset.messages[0] == [{"role": "user", "content": SCORING_PROMPT}]
    images = dataset.dataframe["images"].iloc[0]
    assert len(images) == 1 and (images[0]["bytes"] is not None or Path(images[0]["path"]).is_file())


@pytest.mark.parametrize("embed", [False, True], ids=["default", "embed"])
def test_default_prep_output_of_large_photos_is_within_the_pixel_budget(tmp_path: Path, draw, rows_of, open_cell, embed: bool):
    """Issue 12 item 1: 1024x768 and 2000x1500 photos, converted with the CLI's defaults, reach the model
    within the budget (262,144 pixels: at most 334 visual tokens), as datasets (verl's reader) decodes them."""
    import datasets

    from data_prep.cli import main
    from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, visual_tokens

    merge = tmp_path / "merge"
    merge.mkdir()
    sizes = {"wide.jpg": (1024, 768), "large.jpg": (2000, 1500), "small.jpg": (512, 384)}
    for i, (name, size) in enumerate(sizes.items()):
        draw.image(tmp_path / "images" / name, seed=i, size=size)
    (merge / "train.csv").write_text("image,score\n" + "".join(f"{name},5\n" for name in sizes))
    (merge / "test.csv").write_text("image,score\n")
    out = tmp_path / "out"
    args = ["tad66k", "--labels", str(merge), "--images", str(tmp_path / "images"), "--out", str(out), "--workers", "1", "--no-progress"]
    assert main(args + (["--embed"] if embed else [])) == 0
    budget_tokens = DEFAULT_MAX_PIXELS // 28**2
    processor = Qwen2VLImageProcessorPil()
    rows = datasets.load_dataset("parquet", data_files=[str(p) for p in (out / "rl").glob("*.parquet")], split="train")
    seen = {}
    for row in rows:
        image = row["images"][0].convert("RGB")
        grid = processor(images=[image], return_tensors="np")["image_grid_thw"][0]
        tokens = int(grid[1] * grid[2]) // 4  # 2 x 2 patches merge into one visual token
        assert tokens == visual_tokens(*image.size) <= budget_tokens
        seen[row["extra_info"]["id"]] = image.size
    # 999 and 1230 visual tokens unprepared (verl dropped such prompts as overlong); 315 and 315 now.
    assert seen == {"wide.jpg": (588, 420), "large.jpg": (588, 420), "small.jpg": (512, 384)}
    table = {row["id"]: row for row in rows_of(out, "table")}  # its images read where they are stored
    assert all((table[id]["width"], table[id]["height"]) == size for id, size in seen.items())  # the table says what the model sees
    assert open_cell(table["small.jpg"]["image"]).size == (512, 384)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["images"]["max_pixels"] == DEFAULT_MAX_PIXELS and manifest["images"]["stored"]["visual_tokens"]["max"] <= budget_tokens
    assert manifest["images"]["changes"] == {"none": 1, "resized": 2}
    if not embed:  # the small photo is referenced where it is; the two large ones were written once, budget-sized
        assert len(list((out / "images").rglob("*.jpg"))) == 2
