"""Hugging Face transformers ``generate`` backend for Qwen2-VL / Qwen2.5-VL checkpoints (CPU-capable).

The slow path, for CPUs, debugging and the tests; vLLM is the throughput path for real checkpoints.
It is the only backend that sees the full logits, so it gives the exact average token entropy.

Inputs are built by ``generation_inputs.GenerationInputs``, the one builder the CPU rollout server of
RAPO uses too (tokenizer, chat template and image processor, without ``AutoProcessor``: Qwen's
processor insists on a video processor, which needs torchvision, and torchvision does not import
beside the CPU torch of this project).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image

from recipe.aesr1.scoring.backends.base import Sample, SamplingSettings
from recipe.aesr1.scoring.backends.generation_inputs import (
    GenerationInputs,
    chat_template_of,
    load_image_processor,
)
from recipe.aesr1.scoring.token_entropy import token_entropy_from_logits


class TransformersBackend:
    """Samples responses with ``model.generate``, one image at a time.

    Args:
        model_path: a local checkpoint directory (model, tokenizer, preprocessor config).
        device: torch device string; ``"auto"`` picks CUDA when available.
        dtype: ``"auto"`` keeps the checkpoint's dtype; or ``"float32"``, ``"bfloat16"``...
        max_pixels: optional cap on image pixels for the image processor (memory/speed on CPU).
    """

    name = "hf"

    def __init__(self, model_path: str, device: str = "auto", dtype: str = "auto", max_pixels: int | None = None):
        from transformers import AutoModelForImageTextToText, AutoTokenizer

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        overrides = {"max_pixels": max_pixels} if max_pixels else {}
        self.image_processor = load_image_processor(model_path, **overrides)
        torch_dtype = dtype if dtype == "auto" else getattr(torch, dtype)
        self.model = AutoModelForImageTextToText.from_pretrained(model_path, dtype=torch_dtype).to(self.device).eval()
        self.chat_template = chat_template_of(self.tokenizer, model_path)
        self.eos_ids = self._eos_ids()
        pad = self.tokenizer.pad_token_id
        self.inputs = GenerationInputs(self.model, self.tokenizer, self.image_processor, pad if pad is not None else self.eos_ids[0])

    def _eos_ids(self) -> list[int]:
        ids = self.model.generation_config.eos_token_id
        ids = [ids] if isinstance(ids, int) else list(ids or [])
        vocab = len(self.tokenizer)
        ids = [i for i in ids if i < vocab]  # a config copied from a larger model may name absent ids
        if self.tokenizer.eos_token_id is not None and self.tokenizer.eos_token_id not in ids:
            ids.append(self.tokenizer.eos_token_id)
        if not ids:
            raise ValueError("the checkpoint names no end-of-sequence token in its tokenizer or generation config")
        return ids

    def _inputs(self, image: Image.Image, prompt: str) -> dict[str, torch.Tensor]:
        image = image.convert("RGB")
        inputs = self.inputs([self.inputs.chat_prompt_ids(prompt, image, self.chat_template)], [[image]])
        return {k: v.to(self.device) for k, v in inputs.items()}

    @torch.no_grad()
    def generate(
        self, images: Sequence[Image.Image], prompt: str, sampling: SamplingSettings, seeds: Sequence[int]
    ) -> list[list[Sample]]:
        results = []
        for image, seed in zip(images, seeds, strict=True):
            torch.manual_seed(seed)  # generate() takes no generator; per-image seeding keeps resume exact
            inputs = self._inputs(image, prompt)
            do_sample = sampling.temperature > 0
            out = self.model.generate(
                **inputs,
                max_new_tokens=sampling.max_new_tokens,
                do_sample=do_sample,
                temperature=sampling.temperature if do_sample else None,
                top_p=sampling.top_p if do_sample else None,
                # Explicit, so a checkpoint's generation_config.json (Qwen2.5-VL-Instruct ships top_k=1,
                # repetition_penalty=1.05) cannot silently change the recorded sampling settings.
                top_k=0,
                repetition_penalty=1.0,
                num_return_sequences=sampling.n,
                eos_token_id=self.eos_ids,
                pad_token_id=self.inputs.pad_id,
                output_logits=True,
                return_dict_in_generate=True,
            )
            generated = out.sequences[:, inputs["input_ids"].shape[1] :]
            # out.logits: one raw (n, V) tensor per step, before top-p masking; step by step to avoid
            # a second (n, steps, V) copy. The tuple itself costs steps * n * V floats while it lives.
            entropy = torch.stack([token_entropy_from_logits(step, sampling.temperature) for step in out.logits], dim=1)
            results.append([self._sample(generated[i], entropy[i]) for i in range(generated.shape[0])])
        return results

    def _sample(self, tokens: torch.Tensor, entropy: torch.Tensor) -> Sample:
        """Cut at the first end-of-sequence token (kept, as verl's response mask keeps it)."""
        is_eos = torch.isin(tokens, torch.tensor(self.eos_ids, device=tokens.device))
        length = int(is_eos.nonzero()[0, 0]) + 1 if is_eos.any() else tokens.shape[0]
        text = self.tokenizer.decode(tokens[:length], skip_special_tokens=True)
        return Sample(text, length, float(entropy[:length].sum()), "full_vocab")
