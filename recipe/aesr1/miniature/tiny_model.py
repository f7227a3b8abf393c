"""A tiny random-weight Qwen2.5-VL for the miniature pipeline, built offline, that can learn on a CPU.

    from recipe.aesr1.miniature.tiny_model import save_tiny_qwen2_5_vl
    save_tiny_qwen2_5_vl("outputs/main/miniature/base_model", corpus_texts=sft_assistant_texts)

The folder holds what verl's trainers and the evaluation's hf backend load: the model (from a config,
``miniature.tiny_vlm.build_tiny_model``), the word-level tokenizer of ``tokenizer.py`` (the expert's
vocabulary is always included), Qwen2-VL's PIL image processor with the project's pixel budget
(``data_prep.pixel_budget``) and the chat template: the parts of a Qwen2.5-VL processor. Where
torchvision cannot be imported (CPU torch), ``AutoProcessor`` needs the CPU backend's stand-in for the
video processor (``recipe.aesr1.cpu.no_torchvision``), which every verl process of a CPU run has.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
    Qwen2VLImageProcessorPil,
)

from data_prep.pixel_budget import DEFAULT_MAX_PIXELS, PROCESSOR_MIN_PIXELS
from recipe.aesr1.miniature.critique_grammar import all_critique_texts
from recipe.aesr1.miniature.tiny_vlm import build_tiny_model
from recipe.aesr1.miniature.tokenizer import build_tokenizer


def save_tiny_qwen2_5_vl(
    folder: str | Path,
    corpus_texts: Iterable[str] = (),
    hidden_size: int = 64,
    text_layers: int = 2,
    vision_depth: int = 1,
    num_heads: int = 2,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    seed: int = 0,
) -> Path:
    """Save a random-weight Qwen2.5-VL with a tokenizer covering ``corpus_texts`` and the expert's words.

    Args:
        folder: where to write (created); returned.
        corpus_texts: extra texts the tokenizer must cover without ``[UNK]`` (e.g. the SFT set's turns);
            the scoring prompt, answer tags, every score 0.00..1.00 and every sentence of the miniature
            expert's grammar are always covered.
        hidden_size, text_layers, vision_depth, num_heads: model size (defaults: ~0.36M parameters; with
            45 SFT rows it reaches loss ~0.6 and 12/12 parsable answers in 300 plain AdamW steps, ~1 min on
            two CPU cores).
        max_pixels: the image processor's pixel cap (the project's budget; the sample's 96x72 pictures
            are far below it and become 3x3 visual tokens).
        seed: seed of the random weights.
    """
    folder = Path(folder)
    tokenizer = build_tokenizer([*all_critique_texts(), *corpus_texts])
    model = build_tiny_model("qwen2_5_vl", tokenizer, hidden_size=hidden_size, text_layers=text_layers,
                             vision_depth=vision_depth, num_heads=num_heads, seed=seed)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=PROCESSOR_MIN_PIXELS, max_pixels=max_pixels).save_pretrained(folder)
    return folder
