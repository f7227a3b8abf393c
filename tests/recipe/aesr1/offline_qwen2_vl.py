"""An offline Qwen2-VL processor and the real ``qwen_vl_utils`` for tests of verl's datasets on CPU.

- ``offline_processor``: transformers' ``Qwen2VLProcessor`` with its PIL image processor at the limits of
  Qwen2.5-VL-7B-Instruct's ``preprocessor_config.json`` (3,136 to 12,845,056 pixels, i.e. up to 16,384
  visual tokens), a word-level tokenizer (whitespace and punctuation, close to BPE's count on English)
  and Qwen2-VL's chat layout. The video processor is the CPU backend's ``NoVideoProcessor`` (no videos here).
- ``assistant_turn_ids``: the tokens an SFT loss mask must cover for one assistant turn.
- ``real_qwen_vl_utils``: the installed ``qwen_vl_utils`` as the CPU backend imports it (torchvision does
  not import beside the CPU torch). Its image code (``fetch_image``: PIL + ``smart_resize``) never
  touches torchvision, so the image path verl calls runs for real.
"""

from __future__ import annotations

import sys
import types

from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2VLProcessor
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
    Qwen2VLImageProcessorPil,
)

from recipe.aesr1.cpu.no_torchvision import NoVideoProcessor

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
                  "<|image_pad|>", "<|video_pad|>", "<unk>"]
# Qwen2-VL's chat layout with its default system turn.
CHAT_TEMPLATE = (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
QWEN2_5_VL_7B_PIXELS = {"shortest_edge": 56 * 56, "longest_edge": 16384 * 28 * 28}


def offline_processor(texts: list[str]) -> Qwen2VLProcessor:
    """A Qwen2-VL processor whose vocabulary covers the words of ``texts``."""
    splitter = pre_tokenizers.Whitespace()
    words = {w for text in texts + ["user assistant system You are a helpful assistant."]
             for w, _ in splitter.pre_tokenize_str(text.replace("<image>", " "))}
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + sorted(words))}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = splitter
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<|endoftext|>",
                                        eos_token="<|im_end|>", additional_special_tokens=SPECIAL_TOKENS[1:7])
    tokenizer.chat_template = CHAT_TEMPLATE
    return Qwen2VLProcessor(image_processor=Qwen2VLImageProcessorPil(size=QWEN2_5_VL_7B_PIXELS), tokenizer=tokenizer,
                            video_processor=NoVideoProcessor(), chat_template=CHAT_TEMPLATE)


def real_qwen_vl_utils(monkeypatch) -> types.ModuleType:
    """The installed ``qwen_vl_utils`` with its real image code, imported as the CPU backend imports it
    (over a torchvision placeholder that is removed afterwards; ``recipe/aesr1/cpu/no_torchvision.py``)."""
    from recipe.aesr1.cpu.no_torchvision import import_qwen_vl_utils

    module = import_qwen_vl_utils()
    monkeypatch.setitem(sys.modules, "qwen_vl_utils", module)
    return module


def assistant_turn_ids(processor: Qwen2VLProcessor, content: str) -> list[int]:
    """Token ids of an assistant turn's content and its end-of-turn token: what an SFT loss mask must cover."""
    tokenizer = processor.tokenizer
    return tokenizer.encode(content, add_special_tokens=False) + [tokenizer.convert_tokens_to_ids("<|im_end|>")]
