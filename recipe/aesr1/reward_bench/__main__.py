"""``python -m recipe.aesr1.reward_bench [hydra overrides]``: run every design, print the table and
the comparison with Aes-R1 Table 2, write results.json, report.md and the plots."""

from __future__ import annotations

from pathlib import Path

import hydra
import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from recipe.aesr1.config_dir import CONFIG_DIR
from recipe.aesr1.reward_bench.labels import read_labels, synthetic_labels
from recipe.aesr1.reward_bench.report import (
    compare_with_table2,
    format_findings,
    format_table,
    summarise,
    write_outputs,
)
from recipe.aesr1.reward_bench.simulate import BenchSettings, simulate
from reward_fns import RewardSpec


def build_specs(cfg: DictConfig) -> list[RewardSpec]:
    """Parse every design up front, so a typo fails before any simulation runs."""
    params = OmegaConf.to_container(cfg.reward_params, resolve=True) or {}
    specs = []
    for design in cfg.designs:
        terms = RewardSpec.parse(str(design)).terms
        specs.append(RewardSpec.parse(str(design), params={t: params[t] for t in terms if t in params}))
    return specs


def load_labels(cfg: DictConfig) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) label arrays as the config asks."""
    n = cfg.labels.n_train + cfg.labels.n_test
    if cfg.labels.source == "synthetic":
        labels = synthetic_labels(n, cfg.labels.seed)
    else:
        labels = read_labels(cfg.labels.source, cfg.labels.column)
        if labels.size < n:
            raise ValueError(f"{cfg.labels.source}: {labels.size} labels, but n_train + n_test = {n}")
        labels = np.random.default_rng(cfg.labels.seed).choice(labels, size=n, replace=False)
    return labels[: cfg.labels.n_train], labels[cfg.labels.n_train :]


def settings_from(cfg: DictConfig) -> BenchSettings:
    p = cfg.policy
    return BenchSettings(
        k=cfg.k, batch_images=cfg.batch_images, rank_group_size=cfg.rank_group_size, steps=cfg.steps, lr=cfg.lr,
        parse_failure_rate=cfg.parse_failure_rate, round_decimals=cfg.round_decimals, policy=p.kind,
        init_mean=p.init_mean, init_slope=p.init_slope, init_noise=p.init_noise, init_std=p.init_std,
        feature_dim=p.feature_dim, feature_signal=p.feature_signal, eval_every=cfg.eval_every,
    )


def run(cfg: DictConfig) -> dict:
    """Run the bench; returns the summary table and findings (also written to ``cfg.output_dir``)."""
    specs = build_specs(cfg)
    settings = settings_from(cfg)
    # Every tensor here is tiny: a second intra-op thread only adds wake-up latency (~10x slower runs).
    torch.set_num_threads(1)
    train, test = load_labels(cfg)
    jobs = [(spec, seed) for spec in specs for seed in cfg.seeds]
    results = [simulate(spec, train, test, settings, seed) for spec, seed in tqdm(jobs, desc="reward bench", unit="run")]
    table = summarise(results)
    findings = compare_with_table2(table)
    paths = write_outputs(results, table, findings, OmegaConf.to_container(cfg, resolve=True), Path(cfg.output_dir))
    print(format_table(table))
    print("\nAgainst Aes-R1 Table 2 (simulation, not the paper's benchmarks):")
    print(format_findings(findings))
    print("\nWrote " + ", ".join(str(p) for p in paths))
    return {"table": table, "findings": findings, "paths": paths}


@hydra.main(version_base=None, config_path=CONFIG_DIR, config_name="reward_bench")
def main(cfg: DictConfig) -> None:
    run(cfg)


if __name__ == "__main__":
    main()
