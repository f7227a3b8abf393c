"""A tiny random-weight Qwen2-VL / Qwen2.5-VL checkpoint, built offline, for smoke runs and tests.

Its answers are garbage (random weights): it exercises the whole evaluation path on a CPU in
seconds, with no download — the transformers backend, parsing of whatever it writes, failure
counting, entropy, reports. Never a baseline.

    python -c "from recipe.aesr1.miniature.tiny_vlm import save_tiny_vlm; save_tiny_vlm('tiny')"
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
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
    Qwen2VLImageProcessorPil,
)

KINDS = ("qwen2_vl", "qwen2_5_vl")
# Qwen's special tokens the processors and chat templates use (the vision ones by name).
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]


def mrope_section(head_dim: int) -> list[int]:
    """M-RoPE's (temporal, height, width) split of ``head_dim / 2`` rotary pairs, in Qwen's 1 : 1.5 : 1.5."""
    half = head_dim // 2
    temporal = half // 4
    height = (half - temporal) // 2
    return [temporal, height, half - temporal - height]


def build_tiny_model(
    kind: str,
    tokenizer: PreTrainedTokenizerFast,
    hidden_size: int = 32,
    text_layers: int = 1,
    vision_depth: int | None = None,
    num_heads: int = 2,
    seed: int = 0,
):
    """A random-weight ``qwen2_vl`` / ``qwen2_5_vl`` model from a config, sized by the arguments.

    The vocabulary and the special token ids come from ``tokenizer`` (which must hold
    ``QWEN_SPECIAL_TOKENS``). ``vision_depth`` defaults to 1 (Qwen2-VL) or 2 (Qwen2.5-VL: windowed
    attention in the first blocks, full attention in the last, as in the real model). MLPs are twice
    the hidden size; one key-value head. The weights are drawn with ``torch.manual_seed(seed)``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {list(KINDS)}")
    if hidden_size % num_heads or (hidden_size // num_heads) % 4:
        raise ValueError(f"hidden_size {hidden_size} must split into {num_heads} heads of a multiple of 4")
    depth = vision_depth if vision_depth is not None else (1 if kind == "qwen2_vl" else 2)
    ids = tokenizer.convert_tokens_to_ids
    text_config = dict(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=text_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        rope_scaling={"type": "mrope", "mrope_section": mrope_section(hidden_size // num_heads)},
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
    torch.manual_seed(seed)
    if kind == "qwen2_vl":
        vision = dict(depth=depth, embed_dim=hidden_size, hidden_size=hidden_size, num_heads=num_heads, mlp_ratio=2,
                      **patches)
        model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(text_config=text_config, vision_config=vision, **tokens))
    else:
        vision = dict(
            depth=depth,
            hidden_size=hidden_size,
            intermediate_size=2 * hidden_size,
            num_heads=num_heads,
            out_hidden_size=hidden_size,
            fullatt_block_indexes=[depth - 1],
            window_size=56,
            **patches,
        )
        model = Qwen2_5_VLForConditionalGeneration(
            Qwen2_5_VLConfig(text_config=text_config, vision_config=vision, **tokens)
        )
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.bos_token_id = None
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_tiny_vlm(folder: str | Path, kind: str = "qwen2_vl") -> Path:
    """Save a random-weight ``qwen2_vl`` or ``qwen2_5_vl`` (~80-90K parameters) with its tokenizer.

    Everything is built offline: a 19-word word-level tokenizer with Qwen's special tokens and a
    minimal chat template, the PIL image processor (tiny pixel budget), and the model from a config
    (hidden size 32, one text layer, one or two vision blocks). Returns ``folder``.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; valid: {list(KINDS)}")
    folder = Path(folder)
    special = QWEN_SPECIAL_TOKENS
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
    model = build_tiny_model(kind, tokenizer)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16).save_pretrained(folder)
    return folder
