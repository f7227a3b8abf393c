"""Benchmarks of an aesthetic judge: Aes-R1 Tables 1-4 (metrics, intervals, tables, plots, entropy).

Modules, one concept each: ``metrics`` (PLCC/SRCC/KRCC/MAE, logistic fit), ``bootstrap`` (intervals,
paired test), ``failure_policy`` (what an unparseable answer counts as, and its command-line options),
``benchmark_table`` (Table 1 layout), ``runner`` (checkpoint x benchmark, resumable), ``compare``,
``plots``, ``entropy`` and ``policy_entropy`` (Table 3), and the command lines ``eval_cli`` (aesr1-eval)
and ``ray_eval`` (aesr1-eval ray). The judge at inference is ``recipe.aesr1.scoring``.
"""
