"""vLLM offline batch inference: the default for real checkpoints on a GPU.

Kept thin on purpose: vLLM cannot be installed or run on the CPU machines this project is tested
on, so this file is not exercised by the test suite (only its import-free construction errors are).
It builds the same text/image/text chat message as the other backends and lets ``LLM.chat`` apply
the checkpoint's chat template. Per-request seeds make sampling reproducible and resumable.
Entropy: vLLM returns at most ``max_logprobs`` (default 20) top log-probabilities per token, so the
entropy is the truncated ``top_k`` lower bound (see ``entropy.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from recipe.aesr1.scoring.backends.base import Sample, SamplingSettings, split_prompt
from recipe.aesr1.scoring.backends.openai_backend import image_data_url
from recipe.aesr1.scoring.token_entropy import token_entropy_from_top_logprobs


class VLLMBackend:
    """``vllm.LLM`` over a local checkpoint; extra keyword arguments go to ``LLM(...)``."""

    name = "vllm"

    def __init__(self, model_path: str, **llm_kwargs):
        try:
            import vllm
        except ImportError as error:
            raise ImportError(
                "the vllm backend needs vLLM on a GPU machine: pip install 'aesr1-verl[gpu]'; on CPU use --backend hf"
            ) from error
        self._vllm = vllm
        llm_kwargs.setdefault("limit_mm_per_prompt", {"image": 1})
        self.llm = vllm.LLM(model=model_path, **llm_kwargs)

    def generate(
        self, images: Sequence[Image.Image], prompt: str, sampling: SamplingSettings, seeds: Sequence[int]
    ) -> list[list[Sample]]:
        before, after = split_prompt(prompt)
        conversations, params = [], []
        for image, seed in zip(images, seeds, strict=True):
            content = [
                {"type": "text", "text": before},
                {"type": "image_url", "image_url": {"url": image_data_url(image, "png")}},
                {"type": "text", "text": after},
            ]
            conversations.append([{"role": "user", "content": content}])
            params.append(
                self._vllm.SamplingParams(
                    n=sampling.n,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    max_tokens=sampling.max_new_tokens,
                    seed=seed,
                    top_k=-1,  # disabled, whatever the checkpoint's generation_config says
                    repetition_penalty=1.0,
                    logprobs=sampling.top_logprobs or None,
                )
            )
        outputs = self.llm.chat(conversations, sampling_params=params, use_tqdm=True)
        return [[_sample(completion) for completion in output.outputs] for output in outputs]


def _sample(completion) -> Sample:
    n_tokens = len(completion.token_ids)
    if not completion.logprobs:
        return Sample(completion.text, n_tokens)
    width = max(len(step) for step in completion.logprobs)
    table = np.full((len(completion.logprobs), width), -np.inf)
    for row, step in enumerate(completion.logprobs):
        # vLLM adds the sampled token to the top-k when it is not among them: keep the k+1 at most
        for col, logprob in enumerate(sorted((lp.logprob for lp in step.values()), reverse=True)):
            table[row, col] = logprob
    return Sample(completion.text, n_tokens, float(token_entropy_from_top_logprobs(table).sum()), "top_k")
