"""(prompt, images) -> the inputs of ``model.generate`` for a Qwen2-VL / Qwen2.5-VL: the one place that builds them.

Used by the evaluation's transformers backend (so also by the reward model's in-process judge and the
CPU stand-in for ``vllm serve``) and by the CPU rollout server of RAPO (``recipe/aesr1/cpu/hf_server.py``).
Two copies of this once disagreed: the rollout's lacked ``mm_token_type_ids``, and with transformers 5.x
Qwen2.5-VL then gives image tokens plain text positions instead of their 3-D M-RoPE positions, so RAPO
sampled from another policy than the one it trained (rollout/actor prob correlation 0.82 instead of
0.9999). The actor's side is verl's (``agent_loop._compute_position_ids`` marks image tokens the same
way); ``tests/recipe/aesr1/cpu/test_hf_server_on_cpu.py`` compares the two.

A request is the chat template's token ids with the image pad token already repeated once per merged
patch (as verl's agent loop sends them, or as ``chat_prompt_ids`` writes them), plus its images.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from recipe.aesr1.scoring.backends.base import split_prompt


def load_image_processor(model_path: str, **overrides: Any) -> Any:
    """``AutoImageProcessor`` when it can load, else Qwen2-VL's PIL image processor (no torchvision)."""
    try:
        from transformers import AutoImageProcessor

        return AutoImageProcessor.from_pretrained(model_path, **overrides)
    except ImportError:  # transformers >= 5 makes the Auto class require torchvision
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            Qwen2VLImageProcessorPil,
        )

        return Qwen2VLImageProcessorPil.from_pretrained(model_path, **overrides)


def chat_template_of(tokenizer: Any, model_path: str) -> str:
    """The tokenizer's template, else the processor's ``chat_template.jinja``/``.json`` of the checkpoint."""
    if tokenizer.chat_template:
        return tokenizer.chat_template
    root = Path(model_path)
    if (root / "chat_template.jinja").is_file():
        return (root / "chat_template.jinja").read_text()
    if (root / "chat_template.json").is_file():
        return json.loads((root / "chat_template.json").read_text())["chat_template"]
    raise ValueError(f"{model_path}: no chat template in the tokenizer, chat_template.jinja or chat_template.json")


class GenerationInputs:
    """Builds left-padded ``generate`` inputs for a batch of (prompt ids, images) requests.

    Args:
        model: the loaded ``...ForConditionalGeneration`` (its config names the image token; its
            ``forward`` tells whether it takes ``mm_token_type_ids``).
        tokenizer: the checkpoint's tokenizer (for the chat template and the pad id).
        image_processor: the checkpoint's image processor (``load_image_processor``).
        pad_id: the id left padding uses.
    """

    def __init__(self, model: Any, tokenizer: Any, image_processor: Any, pad_id: int) -> None:
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.pad_id = int(pad_id)
        self.image_token_id = int(model.config.image_token_id)
        self.image_token = tokenizer.convert_ids_to_tokens(self.image_token_id)
        self.merge_size = int(image_processor.merge_size)
        # transformers >= 5 builds the image tokens' M-RoPE positions only from this field.
        self.pass_mm_token_types = "mm_token_type_ids" in inspect.signature(model.forward).parameters

    def image_token_count(self, image: Image.Image) -> int:
        """How many pad tokens stand for ``image`` in the prompt (merged patches after resizing)."""
        patches = self.image_processor.get_number_of_image_patches(image.height, image.width, {})
        return int(patches) // self.merge_size**2

    def chat_prompt_ids(self, prompt: str, image: Image.Image, chat_template: str) -> list[int]:
        """The user turn ``prompt`` (one ``<image>`` placeholder) templated for generation, pads expanded."""
        before, after = split_prompt(prompt)
        content = [{"type": "text", "text": before}, {"type": "image"}, {"type": "text", "text": after}]
        text = self.tokenizer.apply_chat_template(
            [{"role": "user", "content": content}], chat_template=chat_template, add_generation_prompt=True, tokenize=False
        )
        if text.count(self.image_token) != 1:
            raise ValueError(f"chat template produced {text.count(self.image_token)} {self.image_token!r} tokens, expected 1")
        text = text.replace(self.image_token, self.image_token * self.image_token_count(image))
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def __call__(self, prompts: Sequence[Sequence[int]], images: Sequence[Sequence[Image.Image] | None]) -> dict[str, torch.Tensor]:
        """``input_ids``, ``attention_mask`` (left padded), the vision tensors and ``mm_token_type_ids``.

        Raises:
            ValueError: when a row's image pad tokens do not match its images (a prompt built for other
                image sizes, or an image the prompt does not mention): caught here, not as a shape
                error deep inside the vision tower.
        """
        if len(prompts) != len(images):
            raise ValueError(f"{len(prompts)} prompts but {len(images)} image lists")
        width = max(len(ids) for ids in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, ids in enumerate(prompts):  # left padding, as generation needs
            input_ids[row, width - len(ids) :] = torch.as_tensor(list(ids), dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        inputs: dict[str, torch.Tensor] = {"input_ids": input_ids, "attention_mask": attention_mask}
        flat = [image.convert("RGB") if image.mode != "RGB" else image for row in images for image in (row or [])]
        per_image = []
        if flat:
            vision = self.image_processor(images=flat, return_tensors="pt")
            inputs["pixel_values"] = vision["pixel_values"]
            inputs["image_grid_thw"] = vision["image_grid_thw"]
            per_image = [int(grid.prod()) // self.merge_size**2 for grid in vision["image_grid_thw"]]
        is_image = (input_ids == self.image_token_id) & attention_mask.bool()
        start = 0
        for row, row_images in enumerate(images):
            count = len(row_images or [])
            expected = sum(per_image[start : start + count])
            start += count
            if int(is_image[row].sum()) != expected:
                raise ValueError(
                    f"request {row}: {int(is_image[row].sum())} image pad tokens in the prompt, but its "
                    f"{count} image(s) need {expected}"
                )
        if self.pass_mm_token_types:
            inputs["mm_token_type_ids"] = is_image.long()
        return inputs
