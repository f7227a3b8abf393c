"""The SFT parquet loads in verl's ``MultiTurnSFTDataset`` with a Qwen2-VL processor built offline.

What runs for real: verl's parquet reading, ``<image>`` splitting, the chat template per turn, the
Qwen2-VL image processor (its PIL backend), image-token expansion, M-RoPE position ids and the loss
mask, and verl's ``process_image`` (its handling of a ``bytes`` key, which breaks on a null one).
Two stand-ins, because torchvision does not import beside the CPU torch of this project (see
DESIGN.md): ``qwen_vl_utils`` (imported by ``process_image``; it imports torchvision) is replaced by a
module whose ``fetch_image`` opens ``ele["image"]`` (a PIL image or a local path) as the real one does,
without its resizing; and the processor's unused video processor is an uninitialised placeholder
(its class is torchvision's dummy here). The tokenizer is a word-level one built from the
rows, so decoding the loss-masked tokens gives back the assistant turn exactly.
"""

from __future__ import annotations

import sys
import types

import pyarrow.parquet as pq
import pytest
import transformers
from aescot_fakes import draw_image
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2VLProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

import verl.utils.dataset.multiturn_sft_dataset as verl_sft
from data_prep.prompts import SCORING_PROMPT
from recipe.aesr1.aescot import record_result as rr
from recipe.aesr1.aescot.sft_export import write_sft_parquet

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>", "<unk>"]
# Qwen2-VL's chat layout without its default system turn.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def offline_processor(texts: list[str]) -> Qwen2VLProcessor:
    words = sorted({word for text in texts for word in text.replace("<image>", " ").split()} | {"user", "assistant"})
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + words)}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<|endoftext|>",
                                        additional_special_tokens=SPECIAL_TOKENS[1:7])
    tokenizer.chat_template = CHAT_TEMPLATE
    image_processor = Qwen2VLImageProcessorPil(min_pixels=28 * 28, max_pixels=56 * 56)
    video_placeholder = object.__new__(transformers.BaseVideoProcessor)  # never called: no videos here
    return Qwen2VLProcessor(image_processor=image_processor, tokenizer=tokenizer, video_processor=video_placeholder,
                            chat_template=CHAT_TEMPLATE)


def fake_qwen_vl_utils() -> types.ModuleType:
    def fetch_image(ele: dict, image_patch_size: int = 14) -> Image.Image:
        image = ele["image"]
        return (image if isinstance(image, Image.Image) else Image.open(image)).convert("RGB")

    module = types.ModuleType("qwen_vl_utils")
    module.fetch_image = fetch_image
    return module


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
    monkeypatch.setitem(sys.modules, "qwen_vl_utils", fake_qwen_vl_utils())
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
        trained = processor.tokenizer.decode(input_ids[loss_mask.bool()])
        assert trained == row["messages"][1]["content"] + " <|im_end|>"
        assert row["messages"][0]["content"] == SCORING_PROMPT
