"""The converted parquet loads in verl's RLHFDataset and MultiTurnSFTDataset (offline tokenizer).

What cannot run on this CPU image: verl's full multimodal path calls ``qwen_vl_utils`` and a
``Qwen2VLProcessor``, both of which import torchvision (absent beside the CPU torch). So the test
stops where verl hands the image to the processor: it checks the PIL images verl builds, then runs
transformers' PIL-backend Qwen2-VL image processor on them.
"""

from pathlib import Path

import pytest
from omegaconf import OmegaConf
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

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
