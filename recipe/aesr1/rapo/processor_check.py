"""Start-up check that verl's image path works with the model's processor, before any data is read.

verl's ``RLHFDataset`` measures each prompt inside ``try/except Exception`` and treats any failure as
"too long" (``rl_dataset.py`` ``doc2len``), so a broken ``qwen_vl_utils`` / torchvision install or a
processor that cannot take images filters the whole training set to 0 rows with one traceback per row.
This runs the same calls once on a small image and lets the real error through.

    python -m recipe.aesr1.rapo.processor_check MODEL_PATH    # what the SFT launch script runs first
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from PIL import Image

PROBE_SIDE = 56  # the Qwen2-VL processor's smallest image: 2 x 2 patches of 28 pixels


def explain_missing_processor(model_path: str) -> None:
    """Raise why ``model_path`` gave no processor. verl's ``hf_processor`` turns any loading error into
    None plus a warning, after which every image prompt is dropped; load it again to show the error.

    Raises:
        RuntimeError: chained to transformers' error when the processor does not load.
        ValueError: when it loads as a plain tokenizer (a text-only model cannot score images).
    """
    from transformers import AutoProcessor

    try:  # local files only: verl has already fetched the model; a check must never download
        processor = AutoProcessor.from_pretrained(model_path, local_files_only=True)
    except Exception as err:
        raise RuntimeError(f"the processor of {model_path!r} does not load: {type(err).__name__}: {err}") from err
    raise ValueError(
        f"{model_path!r} loads no multimodal processor (got {type(processor).__name__}): Aes-R1 needs a "
        "vision-language model (e.g. Qwen/Qwen2.5-VL-7B-Instruct) whose folder holds preprocessor_config.json"
    )


def check_processor(
    processor: Any, model_path: str, image_patch_size: int = 14, mm_processor_kwargs: dict | None = None
) -> int:
    """Process one 56 x 56 image as verl's datasets do; return the prompt's token count.

    The steps are verl 0.9.1's: ``processor.apply_chat_template``, ``qwen_vl_utils.process_vision_info``
    (through ``RLHFDataset._process_multi_modal_info``) and ``build_multimodal_processor_inputs``.

    Raises:
        RuntimeError: naming the step that failed, chained to the original exception; or, when
            ``processor`` is None, why ``model_path`` gives none (``explain_missing_processor``).
        ValueError: when the model has no multimodal processor.
    """
    if processor is None:
        explain_missing_processor(model_path)
    from verl.utils.dataset.rl_dataset import RLHFDataset
    from verl.utils.tokenizer import build_multimodal_processor_inputs

    image = Image.new("RGB", (PROBE_SIDE, PROBE_SIDE), (127, 96, 64))
    messages = [{"role": "user", "content": [{"type": "image", "image": image}, {"type": "text", "text": "rate"}]}]
    step = "processor.apply_chat_template"
    try:
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        step = "qwen_vl_utils.process_vision_info (imports torchvision)"
        images, videos, _ = RLHFDataset._process_multi_modal_info(messages, image_patch_size, {})
        step = "the processor on one image"
        inputs = build_multimodal_processor_inputs(
            processor, text=[text], images=images, videos=videos, mm_processor_kwargs=mm_processor_kwargs
        )
    except Exception as err:
        raise RuntimeError(
            f"verl's image path fails at {step}: {type(err).__name__}: {err}. Every image prompt would fail "
            "the same way, and verl's RLHFDataset would silently drop them all as too long; fix the install "
            "(torchvision matching torch, qwen_vl_utils) or the model's processor first"
        ) from err
    return int(inputs["input_ids"].shape[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipe.aesr1.rapo.processor_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="model folder or hub id (its processor is loaded with transformers)")
    args = parser.parse_args(argv)
    from verl.utils import hf_processor

    tokens = check_processor(hf_processor(args.model), args.model)
    print(f"processor check passed: a {PROBE_SIDE}x{PROBE_SIDE} image prompt is {tokens} tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
