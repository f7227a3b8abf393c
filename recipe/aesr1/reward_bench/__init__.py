"""Reward bench: simulated GRPO under each reward design, to compare designs and hyper-parameters
(sigma, gamma, K, batch size, rank scope) in seconds on a CPU before spending GPU days.

Each image gets a Gaussian "policy" over its score; K samples per image are scored by
``reward_fns`` exactly as the trainer scores parsed answers, advantages come from verl's own GRPO
function, and a policy-gradient step updates the means and spreads. The learned means are then
compared with the labels (PLCC/SRCC, calibration), like Table 2 of Aes-R1.

Run: ``python -m recipe.aesr1.reward_bench`` (hydra; config ``configs/reward_bench.yaml``).
"""
