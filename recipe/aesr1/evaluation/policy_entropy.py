"""Aes-R1 Table 3's "average token entropy of the starting policy", measured as the paper means it.

Table 3 reports the entropy of a checkpoint *as RL would start from it*. This recipe's RAPO rollouts
sample at temperature 1.0 (``configs/rapo_trainer.yaml``, the released scripts) with up to 1024
response tokens (Appendix C) on the RL training prompts, which ``data_prep`` builds from the train
split of each benchmark with ``data_prep.prompts.SCORING_PROMPT``. So this module:

* draws a seeded random sample of ``n_prompts`` train-split images of the evaluation tables (the same
  images and prompt as the RL parquet),
* samples responses at temperature 1.0, top-p 1 (the policy's own distribution),
* averages the full-vocabulary entropy of softmax(logits / 1.0) over the response tokens, and reports
  both the token-mean and verl's seq-mean-token-mean (``entropy.py``).

Only the transformers backend (``hf``) sees the full vocabulary; a backend that gives ``top_k`` lower
bounds is refused, because Table 3's number is not a lower bound.
Where we differ: the paper does not say which prompts or temperature it used; these are the settings
of its RL stage, the most plausible reading. ``aesr1-eval run`` entropies (test images at the
evaluation temperature) are a different quantity and are labelled so.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from data_prep.atomic_files import write_json_atomic
from data_prep.decode import decode_table_image
from data_prep.prompts import SCORING_PROMPT
from data_prep.tables import find_parquet_files, iter_rows
from recipe.aesr1.evaluation.entropy import EntropyFigure, entropy_figure
from recipe.aesr1.scoring.backends.base import (
    InferenceBackend,
    Sample,
    SamplingSettings,
    image_seed,
)

ROLLOUT_TEMPERATURE = 1.0
"""``actor_rollout_ref.rollout.temperature`` of configs/rapo_trainer.yaml (the released scripts)."""

ROLLOUT_MAX_NEW_TOKENS = 1024
"""Appendix C's maximum response length (``data.max_response_length``)."""

DEFAULT_N_PROMPTS = 256


def sample_training_prompts(
    files: Sequence[Path], n_prompts: int, seed: int, split: str = "train"
) -> list[tuple[str, str]]:
    """A seeded sample of ``(dataset, id)`` of ``split`` rows, without replacement, in a stable order.

    All rows when there are fewer than ``n_prompts``; raises when there is none.
    """
    keys = sorted({(row.dataset, row.id) for row in iter_rows(files, split)})
    if not keys:
        raise ValueError(f"no rows with split={split!r} in {[str(f) for f in files]}")
    if n_prompts < 1:
        raise ValueError(f"n_prompts must be >= 1, got {n_prompts}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(keys), size=min(n_prompts, len(keys)), replace=False)
    return [keys[i] for i in sorted(chosen)]


def measure_policy_entropy(
    backend: InferenceBackend,
    data: Sequence[str],
    out_path: str | Path,
    n_prompts: int = DEFAULT_N_PROMPTS,
    seed: int = 0,
    samples_per_prompt: int = 1,
    max_new_tokens: int = ROLLOUT_MAX_NEW_TOKENS,
    batch_size: int = 8,
    split: str = "train",
) -> EntropyFigure:
    """Table 3's entropy of ``backend``'s model; writes ``out_path`` (JSON) and returns the figure.

    Unreadable images are skipped and counted in the JSON (``skipped_images``).
    """
    files = find_parquet_files(data)
    chosen = sample_training_prompts(files, n_prompts, seed, split)
    wanted = set(chosen)
    sampling = SamplingSettings(
        temperature=ROLLOUT_TEMPERATURE, top_p=1.0, max_new_tokens=max_new_tokens, n=samples_per_prompt, seed=seed
    )
    samples: list[Sample] = []
    skipped: list[str] = []
    batch: list[tuple[str, object]] = []

    def flush() -> None:
        if not batch:
            return
        seeds = [image_seed(seed, key) for key, _ in batch]
        for per_image in backend.generate([image for _, image in batch], SCORING_PROMPT, sampling, seeds):
            for sample in per_image:
                if sample.entropy_kind != "full_vocab":
                    raise ValueError(
                        f"backend {backend.name!r} gives {sample.entropy_kind!r} entropy; Table 3's quantity "
                        "needs the full-vocabulary distribution: use --backend hf"
                    )
                samples.append(sample)
        batch.clear()

    with tqdm(total=len(chosen), desc="policy entropy", unit="prompt") as progress:
        for row in iter_rows(files, split, with_images=True):
            if (row.dataset, row.id) not in wanted:
                continue
            wanted.discard((row.dataset, row.id))  # a duplicated id is measured once
            loaded = decode_table_image(row.image)
            if not loaded.usable:
                skipped.append(f"{row.dataset}/{row.id}: {loaded.status}")
            else:
                batch.append((f"{row.dataset}/{row.id}", loaded.image))
                if len(batch) == batch_size:
                    flush()
            progress.update(1)
        flush()
    datasets = sorted({dataset for dataset, _ in chosen})
    prompt_set = f"{len(chosen) - len(skipped)} RL training prompts ({split} split of {', '.join(datasets)})"
    figure = entropy_figure(samples, ROLLOUT_TEMPERATURE, prompt_set)
    write_json_atomic(
        Path(out_path),
        {
            "average_token_entropy": figure.to_json(),
            "model_backend": backend.name,
            "sampling": sampling.to_json(),
            "prompt": "data_prep.prompts.SCORING_PROMPT",
            "n_prompts_requested": n_prompts,
            "prompts": [f"{d}/{i}" for d, i in chosen],
            "skipped_images": skipped,
        },
    )
    return figure
