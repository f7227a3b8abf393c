"""A tiny random-weight Qwen2-VL / Qwen2.5-VL checkpoint, built offline, for smoke runs and tests.

Its answers are garbage (random weights): it exercises the whole evaluation path on a CPU in
seconds, with no download — the transformers backend, parsing of whatever it writes, failure
counting, entropy, reports. Never a baseline.

    python -c "from recipe.aesr1.evaluation.tiny_vlm import save_tiny_vlm; save_tiny_vlm('tiny')"
    aesr1-eval run --backend hf --model tiny --data data/ava/table --limit 8 --max-new-tokens 16 --out runs/tiny
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
)
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

KINDS = ("qwen2_vl", "qwen2_5_vl")


def save_tiny_vlm(folder: str | Path, kind: str = "qwen2_vl") -> Path:
    """Save a random-weight ``qwen2_vl`` or ``qwen2_5_vl`` (~80-90K parameters) with its tokenizer.

    Everything is built offline: a 19-word word-level tokenizer with Qwen's special tokens and a
    minimal chat template, the PIL image processor (tiny pixel budget), and the model from a config
    (hidden size 32, one text layer, one or two vision blocks). Returns ``folder``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {list(KINDS)}")
    folder = Path(folder)
    special = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    words = [
        "<think>",
        "</think>",
        "<answer>",
        "</answer>",
        "0.42",
        "0.7",
        "light",
        "colour",
        "user",
        "assistant",
        "\n",
    ]
    vocab = {token: i for i, token in enumerate(special + words + ["[UNK]"])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
        "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="[UNK]",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=special,
        chat_template=template,
    )
    ids = tokenizer.convert_tokens_to_ids
    text_config = dict(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]},
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    tokens = dict(
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    patches = dict(patch_size=14, spatial_merge_size=2, temporal_patch_size=2)
    torch.manual_seed(0)
    if kind == "qwen2_vl":
        vision = dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, **patches)
        model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(text_config=text_config, vision_config=vision, **tokens))
    else:  # qwen2_5_vl: windowed attention in block 0, full attention in block 1
        vision = dict(
            depth=2,
            hidden_size=32,
            intermediate_size=64,
            num_heads=2,
            out_hidden_size=32,
            fullatt_block_indexes=[1],
            window_size=56,
            **patches,
        )
        model = Qwen2_5_VLForConditionalGeneration(
            Qwen2_5_VLConfig(text_config=text_config, vision_config=vision, **tokens)
        )
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = None
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16).save_pretrained(folder)
    return folder
