"""Inference backends by name: ``hf`` (transformers), ``openai`` (any compatible endpoint), ``vllm``."""

from __future__ import annotations

from recipe.aesr1.scoring.backends.base import (
    InferenceBackend,
    Sample,
    SamplingSettings,
    generate_each,
    image_seed,
)

BACKENDS = ("hf", "openai", "vllm")


def make_backend(kind: str, model: str, **options) -> InferenceBackend:
    """Build a backend; ``model`` is a checkpoint path (hf, vllm) or a served model name (openai).

    Imports happen here so that a CPU machine never imports vLLM and the OpenAI client is optional.
    """
    if kind == "hf":
        from recipe.aesr1.scoring.backends.transformers_backend import (
            TransformersBackend,
        )

        return TransformersBackend(model, **options)
    if kind == "openai":
        from recipe.aesr1.scoring.backends.openai_backend import OpenAIBackend

        return OpenAIBackend(model, **options)
    if kind == "vllm":
        from recipe.aesr1.scoring.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model, **options)
    raise ValueError(f"unknown backend {kind!r}; valid: {list(BACKENDS)}")


__all__ = ["BACKENDS", "InferenceBackend", "Sample", "SamplingSettings", "generate_each", "image_seed", "make_backend"]
