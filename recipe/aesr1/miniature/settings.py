"""The miniature run's sizes: every count, length and rate of the main job, in one place.

Defaults fit the whole job (data -> AesCoT -> SFT -> RAPO -> evaluation -> report) in about 17 minutes
on two CPU cores. The method's own values (K = 4, error+rank, sigma, clipping, KL, loss aggregation)
come from configs/rapo_trainer.yaml unchanged; what is scaled down is the data, the model, the number
of steps and, because a random 0.4M-parameter model is not a pretrained 7B one, the learning rates
(the paper's 1e-5 / 1e-6 would not move it in a few hundred steps). Why these sizes (1,200 pictures,
terse critiques, 60 RAPO steps of 32 images) is in recipe/aesr1/miniature/README.md: with the earlier
240 RL pictures RAPO memorised its training images and the held-out ranking did not move.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class MiniatureSizes:
    # data: a synthetic AVA-format release (data_prep.sample_release); 25% is the held-out test split
    n_images: int = 1200
    seed: int = 0
    # AesCoT: kept critiques, balanced over bad/fair/good (the sample has few good pictures)
    aescot_size: int = 60
    # how the rule-based expert words its critiques: varied, fixed or terse (critique_grammar.WORDINGS)
    expert_wording: str = "terse"
    # tiny Qwen2.5-VL (recipe/aesr1/miniature/tiny_model.py)
    hidden_size: int = 64
    text_layers: int = 2
    # SFT (verl's sft_trainer)
    sft_steps: int = 240
    sft_batch_size: int = 16
    sft_lr: float = 2e-3
    # RAPO (recipe.aesr1.rapo.main): images per step; K comes from the config (4)
    rapo_steps: int = 60
    rapo_batch_size: int = 32
    rapo_lr: float = 3e-4
    rapo_val_images: int = 100
    # the RL seed: verl's data order (data.seed) and the rollout's draws (rollout.seed, recipe/aesr1/cpu/seeded_sampling.py)
    rapo_seed: int = 0
    max_response_length: int = 64
    # evaluation (aesr1-eval, hf backend) of base, SFT and RAPO on the held-out split: the first eval_limit
    # images (0: all), eval_n draws each at eval_temperature (0: greedy), scored by their mean
    eval_limit: int = 0
    eval_n: int = 1
    eval_temperature: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [field.name for field in fields(cls)]

    @classmethod
    def add_flags(cls, parser: argparse.ArgumentParser, exclude: tuple[str, ...] = ()) -> None:
        """One ``--flag`` per size (``rapo_seed`` -> ``--rapo-seed``), defaults as above, in one argument group."""
        group = parser.add_argument_group("sizes (recipe/aesr1/miniature/settings.py)")
        for field in fields(cls):
            if field.name not in exclude:
                group.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "MiniatureSizes":
        """The sizes parsed from ``add_flags``' flags (a size left out of them keeps its default)."""
        return cls(**{name: getattr(args, name) for name in cls.field_names() if hasattr(args, name)})
