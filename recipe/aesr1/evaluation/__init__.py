"""Evaluation of an aesthetic judge: benchmark metrics (Aes-R1 Tables 1-4), plots, entropy, scoring.

Modules, one concept each: ``metrics`` (PLCC/SRCC/KRCC/MAE, logistic fit), ``bootstrap``
(intervals, paired test), ``failure_policy`` (what an unparseable answer counts as),
``benchmark_table`` (Table 1 layout), ``backends`` (transformers / OpenAI-compatible / vLLM),
``predictions`` (resumable JSONL), ``runner`` (checkpoint x benchmark), ``plots``, ``entropy``,
``policy_entropy`` (Table 3's entropy of a starting policy), ``reasoning_checks``, and the command
lines ``eval_cli`` (aesr1-eval) and ``score_cli`` (aesr1-score).
"""
